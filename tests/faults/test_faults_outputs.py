"""Faults fed to the commands that read logs and write reports: ``accuracy``, ``check``,
``report``, ``benchmarks``, ``compliance verify`` and ``submission system-json`` (issue 12).

Outputs: special files (devices, FIFOs), symlinks, ``-`` for standard output, a full disk
(RLIMIT_FSIZE), unwritable folders, a folder where a file is wanted and the other way round.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest
from fault_helpers import (
    assets_fixture,  # noqa: F401 (a fixture)
    cli_fixture,  # noqa: F401 (a fixture)
    edgeperf,
    error_line,
    leftovers,
    run_args,
    snapshot,
    unwritable_fixture,  # noqa: F401 (a fixture)
)
from fixture_paths import FIXTURES

HEX_LOG = '[\n{ "seq_id" : 0, "qsl_idx" : 0, "data" : "%s" }\n]\n'


@pytest.fixture(scope="session")
def runs(assets, tmp_path_factory):
    """One accuracy run, one performance run and a TEST01 folder of the stand-in, made once."""
    from typer.testing import CliRunner

    from edgeperf.cli.main import build_app

    root = tmp_path_factory.mktemp("fault-runs")
    app, runner = build_app(), CliRunner()
    for args in (
        run_args(assets, root / "res" / "accuracy", "--mode", "accuracy"),
        run_args(assets, root / "res" / "performance" / "run_1"),
        ["compliance", "run", "TEST01", *run_args(assets, root / "TEST01")[1:]],
    ):
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, result.output
    return root


@pytest.fixture(scope="session")
def tree(tmp_path_factory):
    """A writable copy of one real v1.1 submitter (closed/Alibaba)."""
    root = tmp_path_factory.mktemp("fault-tree")
    shutil.copytree(FIXTURES / "closed" / "Alibaba", root / "closed" / "Alibaba")
    for dirpath, _, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)
    return root


@pytest.fixture(scope="session")
def summary_csv(tree, tmp_path_factory):
    path = tmp_path_factory.mktemp("fault-summary") / "summary.csv"
    result = edgeperf("check", tree, "--csv", path, "-q")
    assert path.is_file(), result.stderr
    return path


# -- accuracy: bad logs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, expected",
    [
        (None, "no such file"),
        (b"", "expected '[' starting an accuracy log, found the end of the file"),
        (b'[\n{ "seq_id" : 0, "qsl_idx" : 0, "data" : "0100', "the file ends inside"),
        (bytes(range(256)) * 4, "not UTF-8 text"),
        ((HEX_LOG % "ZZ").encode(), "hexadecimal"),
        ((HEX_LOG % "ABC").encode(), "even number of hex digits"),
        (b'{"not": "a list"}', "JSON array"),
    ],
    ids=["missing", "empty", "truncated", "binary", "non-hex", "odd-hex", "not-a-list"],
)
def test_accuracy_bad_log(cli, assets, tmp_path, content, expected):
    log = tmp_path / "mlperf_log_accuracy.json"
    if content is not None:
        log.write_bytes(content)
    result = cli("accuracy", "resnet50", "--log", log, "--dataset", assets["imagenet"])
    line = error_line(result, str(log))
    assert expected in line


def test_accuracy_log_is_a_folder(cli, assets, tmp_path):
    error_line(
        cli("accuracy", "resnet50", "--log", tmp_path, "--dataset", assets["imagenet"]),
        str(tmp_path),
        "is a folder; expected a file",
    )


def test_accuracy_output_to_stdout_dash(cli, assets, runs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli(
        "accuracy",
        "resnet50",
        "--log",
        runs / "res/accuracy/mlperf_log_accuracy.json",
        "--dataset",
        assets["imagenet"],
        "--output",
        "-",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == (runs / "res/accuracy/accuracy.txt").read_text()
    assert not (tmp_path / "-").exists()


def _accuracy(cli, assets, runs, output):
    return cli(
        "accuracy",
        "resnet50",
        "--log",
        runs / "res/accuracy/mlperf_log_accuracy.json",
        "--dataset",
        assets["imagenet"],
        "--output",
        output,
    )


def test_accuracy_output_special_files_are_written_into_not_replaced(cli, assets, runs):
    assert _accuracy(cli, assets, runs, "/dev/null").exit_code == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    error_line(_accuracy(cli, assets, runs, "/dev/full"), "/dev/full", "disk is full")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_accuracy_output_fifo_is_written_into(cli, assets, runs, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    result = _accuracy(cli, assets, runs, fifo)
    out, _ = reader.communicate(timeout=30)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert out.decode() == (runs / "res/accuracy/accuracy.txt").read_text()


def test_accuracy_output_through_a_symlink(cli, assets, runs, tmp_path):
    real = tmp_path / "elsewhere" / "accuracy.txt"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "accuracy.txt"
    link.symlink_to(real)
    assert _accuracy(cli, assets, runs, link).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == (runs / "res/accuracy/accuracy.txt").read_text()


@pytest.mark.parametrize("where, expected", [("folder", "it is a folder"), ("under-file", "is a file, not a folder")])
def test_accuracy_output_folder_or_under_a_file(cli, assets, runs, tmp_path, where, expected):
    afile = tmp_path / "afile"
    afile.write_text("keep\n")
    target = tmp_path if where == "folder" else afile / "accuracy.txt"
    error_line(_accuracy(cli, assets, runs, target), str(target), expected)
    assert afile.read_text() == "keep\n" and leftovers(tmp_path) == []


def test_accuracy_output_in_unwritable_folder(cli, assets, runs, unwritable):
    error_line(_accuracy(cli, assets, runs, unwritable / "accuracy.txt"), str(unwritable / "accuracy.txt"))


def test_accuracy_output_full_disk_keeps_the_old_file(assets, runs, tmp_path):
    target = tmp_path / "accuracy.txt"
    target.write_text("the earlier result, " * 10 + "\n")
    before = target.read_bytes()
    result = edgeperf(
        "accuracy",
        "resnet50",
        "--log",
        runs / "res/accuracy/mlperf_log_accuracy.json",
        "--dataset",
        assets["imagenet"],
        "--output",
        target,
        fsize=10,
    )
    error_line(result, str(target), "ulimit")
    assert target.read_bytes() == before and leftovers(tmp_path) == []


# -- check ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["missing", "a-file"])
def test_check_tree_missing_or_a_file(cli, tmp_path, what):
    target = tmp_path / "tree"
    if what == "a-file":
        target.write_text("x")
    error_line(cli("check", target), str(target))


def test_check_json_and_csv_dash_go_to_stdout(cli, tree, tmp_path, monkeypatch):
    import json

    monkeypatch.chdir(tmp_path)
    result = cli("check", tree, "--json", "-", "-q")
    assert json.loads(result.stdout)["format"] == "edgeperf-check"
    assert not (tmp_path / "-").exists()
    result = cli("check", tree, "--csv", "-", "-q")
    assert result.stdout.splitlines()[0].startswith("Organization,")
    assert not (tmp_path / "-").exists()


def test_check_csv_to_devices_and_symlinks(cli, tree, tmp_path):
    assert cli("check", tree, "--csv", "/dev/null", "-q").exit_code in (0, 1)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    error_line(cli("check", tree, "--csv", "/dev/full", "-q"), "/dev/full")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    cli("check", tree, "--csv", link, "-q")
    assert link.is_symlink() and real.read_text().startswith("Organization,")


def test_check_csv_on_a_folder_or_unwritable(cli, tree, tmp_path, unwritable):
    error_line(cli("check", tree, "--csv", tmp_path, "-q"), str(tmp_path), "folder")
    error_line(cli("check", tree, "--json", unwritable / "x.json", "-q"), str(unwritable / "x.json"))


def test_check_full_disk_keeps_the_old_csv(tree, tmp_path):
    target = tmp_path / "summary.csv"
    target.write_text("old summary\n")
    error_line(edgeperf("check", tree, "--csv", target, "-q", fsize=2000), str(target))
    assert target.read_text() == "old summary\n" and leftovers(tmp_path) == []


def test_check_non_utf8_folder_name(tmp_path, tree):
    """A submitter folder named with a non-UTF-8 byte: the checker still reports it by name and
    writes summary.csv (no UnicodeEncodeError)."""
    odd = tmp_path / "tree"
    shutil.copytree(tree, odd)
    os.rename(odd / "closed" / "Alibaba", os.path.join(os.fsencode(odd / "closed"), b"Ali\xffbaba"))
    csv = tmp_path / "summary.csv"
    result = edgeperf("check", odd, "--csv", csv)
    assert "Traceback" not in result.stderr and "UnicodeEncodeError" not in result.stderr
    assert result.returncode in (0, 1), result.stderr
    assert "closed/Ali\ufffdbaba" in result.stdout  # the byte went out as it is (decoded here with 'replace')
    assert csv.read_text().startswith("Organization,")


def test_check_lone_surrogate_in_a_system_json(tmp_path, tree):
    import json

    odd = tmp_path / "tree"
    shutil.copytree(tree, odd)
    sys_json = odd / "closed/Alibaba/systems/T4x1_TRT.json"
    data = json.loads(sys_json.read_text())
    data["system_name"] = "T4 \ud800 box"
    sys_json.write_text(json.dumps(data))  # ASCII with a \ud800 escape, as json writes it
    csv = tmp_path / "summary.csv"
    result = edgeperf("check", odd, "--csv", csv, "--json", tmp_path / "r.json")
    assert "Traceback" not in result.stderr and "UnicodeEncodeError" not in result.stderr
    assert result.returncode in (0, 1), result.stderr
    assert b"T4 \\ud800 box" in csv.read_bytes() and (tmp_path / "r.json").is_file()


def test_check_stdout_on_a_full_device(tree):
    with open("/dev/full", "w") as full:
        result = edgeperf("check", tree, stdout=full)
    error_line(result, "standard output", "disk is full")
    assert result.returncode != 0


# -- report and benchmarks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, expected",
    [
        (None, "summary.csv"),
        (b"", "empty"),
        (bytes(range(256)), "UTF-8"),
    ],
    ids=["missing", "empty", "binary"],
)
def test_report_bad_summary(cli, tmp_path, content, expected):
    path = tmp_path / "summary.csv"
    if content is not None:
        path.write_bytes(content)
    error_line(cli("report", path, "--output", tmp_path / "rep"), str(path), expected)
    assert not (tmp_path / "rep").exists()


def test_report_summary_is_a_folder(cli, tmp_path):
    error_line(cli("report", tmp_path, "--output", tmp_path / "rep"), str(tmp_path))


def test_report_output_is_a_file_or_unwritable(cli, summary_csv, tmp_path, unwritable):
    afile = tmp_path / "afile"
    afile.write_text("keep\n")
    error_line(cli("report", summary_csv, "--output", afile, "--format", "csv,md"), str(afile))
    assert afile.read_text() == "keep\n"
    line = error_line(cli("report", summary_csv, "--output", unwritable, "--format", "csv,md"), str(unwritable))
    assert ".tmp" not in line  # names the user's folder, never a temporary file
    assert leftovers(tmp_path) == []


def test_report_markup_folder_name(cli, summary_csv, tmp_path):
    out = tmp_path / "r[/]x"
    result = cli("report", summary_csv, "--output", out, "--format", "md")
    assert result.exit_code == 0, result.output
    assert f"wrote {out / 'results.md'}" in result.output


def test_benchmarks_stdout_on_a_full_device():
    with open("/dev/full", "w") as full:
        result = edgeperf("benchmarks", stdout=full)
    error_line(result, "standard output", "disk is full")


# -- compliance verify ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, expected",
    [
        (bytes(range(256)) * 20, "not UTF-8"),
        (b"garbage ][ x", "expected '[' starting an accuracy log"),
        (b"", None),
    ],
    ids=["binary", "garbage", "empty"],
)
def test_verify_garbage_test01_accuracy_log(cli, runs, tmp_path, content, expected):
    test01 = tmp_path / "TEST01"
    shutil.copytree(runs / "TEST01", test01)
    log = test01 / "accuracy" / "mlperf_log_accuracy.json"
    log.write_bytes(content)
    before = snapshot(runs / "res")
    result = cli("compliance", "verify", "TEST01", "--results", runs / "res", "--compliance", test01)
    assert result.exit_code != 0 and "Traceback" not in result.output
    if expected is not None:
        error_line(result, str(log), expected)
    assert snapshot(runs / "res") == before


@pytest.mark.parametrize("which", ["results", "compliance"])
def test_verify_missing_folders(cli, runs, tmp_path, which):
    args = {"results": runs / "res", "compliance": runs / "TEST01"}
    args[which] = tmp_path / "nowhere"
    error_line(
        cli("compliance", "verify", "TEST01", "--results", args["results"], "--compliance", args["compliance"]),
        "nowhere",
        "expected",
    )


def test_verify_output_is_a_file_or_unwritable(cli, runs, tmp_path, unwritable):
    afile = tmp_path / "afile"
    afile.write_text("keep\n")
    base = ["compliance", "verify", "TEST01", "--results", runs / "res", "--compliance", runs / "TEST01"]
    error_line(cli(*base, "--output", afile), str(afile), "it is a file")
    assert afile.read_text() == "keep\n"
    error_line(cli(*base, "--output", unwritable), str(unwritable))


# -- submission system-json -----------------------------------------------------------------------


def test_system_json_dash_and_default_are_stdout(cli, tmp_path, monkeypatch):
    import json

    monkeypatch.chdir(tmp_path)
    result = cli("submission", "system-json", "--output", "-")
    assert result.exit_code == 0 and "system_name" in json.loads(result.stdout)
    assert not (tmp_path / "-").exists()


def test_system_json_output_faults(cli, tmp_path, unwritable):
    error_line(cli("submission", "system-json", "--output", tmp_path, "--force"), str(tmp_path), "folder")
    afile = tmp_path / "afile"
    afile.write_text("keep\n")
    error_line(cli("submission", "system-json", "--output", afile / "sys.json"), str(afile), "not a folder")
    assert afile.read_text() == "keep\n"
    error_line(cli("submission", "system-json", "--output", unwritable / "sys.json"), str(unwritable / "sys.json"))
    error_line(cli("submission", "system-json", "--output", "/dev/full", "--force"), "/dev/full", "disk is full")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_system_json_full_disk_leaves_no_truncated_file(tmp_path):
    target = tmp_path / "sys.json"
    target.write_text('{"old": true}\n')
    error_line(edgeperf("submission", "system-json", "--output", target, "--force", fsize=200), str(target), "ulimit")
    assert target.read_text() == '{"old": true}\n' and leftovers(tmp_path) == []


def test_system_json_stdout_on_a_full_device():
    with open("/dev/full", "w") as full:
        result = edgeperf("submission", "system-json", stdout=full)
    error_line(result, "standard output")


def test_report_full_disk_writes_nothing(summary_csv, tmp_path):
    out = tmp_path / "rep"
    error_line(edgeperf("report", summary_csv, "--output", out, "--format", "csv,md,html", fsize=1000), str(out))
    assert not out.exists() and leftovers(tmp_path) == []


def test_verify_full_disk_keeps_the_test_folder_whole(runs, tmp_path):
    test01 = tmp_path / "TEST01"
    shutil.copytree(runs / "TEST01", test01)
    before = snapshot(test01)
    result = edgeperf("compliance", "verify", "TEST01", "--results", runs / "res", "--compliance", test01, fsize=100)
    error_line(result, str(test01), "ulimit")
    assert snapshot(test01) == before and leftovers(tmp_path) == []


@pytest.mark.parametrize("command", ["run", "compliance-run", "report", "verify", "build"])
def test_dash_is_refused_where_a_folder_is_written(cli, assets, runs, summary_csv, tmp_path, monkeypatch, command):
    """'-' means standard output; a command that writes a folder of files must not create a
    folder named '-'."""
    monkeypatch.chdir(tmp_path)
    args = {
        "run": run_args(assets, "-"),
        "compliance-run": ["compliance", "run", "TEST01", *run_args(assets, "-")[1:]],
        "report": ["report", summary_csv, "--output", "-"],
        "verify": [
            "compliance",
            "verify",
            "TEST01",
            "--results",
            runs / "res",
            "--compliance",
            runs / "TEST01",
            "--output",
            "-",
        ],
        "build": [
            "submission",
            "build",
            "--runs",
            runs / "res",
            "--system",
            FIXTURES / "closed/Alibaba/systems/T4x1_TRT.json",
            "--submitter",
            "Alibaba",
            "--division",
            "closed",
            "--output",
            "-",
        ],
    }[command]
    error_line(cli(*args), "standard output", "expected a folder name")
    assert not (tmp_path / "-").exists()
