"""``edgeperf._atomic``: how every output is written (issue 12, data loss).

Special files are written into, symlinks through, ``-`` is standard output, and a regular file is
replaced whole or not at all; a failure names the user's path.
"""

from __future__ import annotations

import errno
import os
import stat
import threading

import pytest

from edgeperf._atomic import (
    OutputError,
    atomic_write,
    check_output_dir,
    encode_text,
    prepare_output_dir,
    refuse_overlap,
)
from edgeperf.errors import EdgeperfError


def test_a_device_stays_a_device():
    atomic_write("/dev/null", "data")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    with pytest.raises(OutputError) as info:
        atomic_write("/dev/full", "data")
    assert info.value.errno == errno.ENOSPC and info.value.filename == "/dev/full"
    assert str(info.value).startswith("cannot write /dev/full: ")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_fifo_is_written_into(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    atomic_write(fifo, b"through the pipe")
    reader.join(10)
    assert got == [b"through the pipe"] and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    atomic_write(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "target-to-be.txt")
    atomic_write(dangling, "created")
    assert dangling.is_symlink() and (tmp_path / "target-to-be.txt").read_text() == "created"


def test_dash_is_standard_output(tmp_path, monkeypatch, capfdbinary):
    monkeypatch.chdir(tmp_path)
    atomic_write("-", "to stdout\n")
    assert capfdbinary.readouterr().out == b"to stdout\n"
    assert not (tmp_path / "-").exists()


def test_folder_and_file_mix_ups(tmp_path):
    with pytest.raises(OutputError, match="it is a folder; expected a file name"):
        atomic_write(tmp_path, "x")
    afile = tmp_path / "afile"
    afile.write_text("keep")
    with pytest.raises(OutputError, match=f"{afile} is a file, not a folder"):
        atomic_write(afile / "deeper" / "out.txt", "x")
    assert afile.read_text() == "keep"


def test_output_error_is_an_edgeperf_error_and_an_oserror():
    err = OutputError("p", "reason", errno.ENOSPC)
    assert isinstance(err, EdgeperfError) and isinstance(err, OSError) and err.filename == "p"


def test_text_with_surrogates_never_fails():
    assert encode_text("a\udcffb") == b"a\xffb"  # a non-UTF-8 file name's byte goes back as it was
    assert encode_text("x\ud800y") == b"x\\ud800y"  # a lone surrogate from JSON is escaped


def test_prepare_output_dir_clears_only_the_runs_own_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "accuracy.txt").write_text("old")
    (out / "notes.md").write_text("mine")
    prepare_output_dir(out, ["accuracy.txt", "report.html"])
    assert sorted(p.name for p in out.iterdir()) == ["notes.md"]


def test_check_output_dir_creates_nothing(tmp_path):
    check_output_dir(tmp_path / "a" / "b")
    assert not (tmp_path / "a").exists()
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="it is a file"):
        check_output_dir(tmp_path / "f")


@pytest.mark.parametrize("output, how", [("runs", "is"), (".", "contains"), ("runs/tree", "lies inside")])
def test_refuse_overlap(tmp_path, output, how):
    (tmp_path / "runs").mkdir()
    with pytest.raises(OutputError, match=f"--output {how} the input --runs"):
        refuse_overlap({"--output": tmp_path / output}, {"--runs": tmp_path / "runs"})
    refuse_overlap({"--output": tmp_path / "tree"}, {"--runs": tmp_path / "runs"})  # apart: fine
