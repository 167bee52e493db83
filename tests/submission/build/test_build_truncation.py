"""Accuracy-log truncation against the official truncate_accuracy_log.py format (spec submission.md §7.1)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from edgeperf.submission.build import accuracy_log_hash, truncate_accuracy_dir, truncate_tree
from edgeperf.submission.build.truncation import MARKER
from fixture_paths import FIXTURES

HASH_LINE = re.compile(r"^hash=[0-9a-f]{64}$")


def _log(n: int) -> str:
    """An accuracy log of n entries, like LoadGen writes it (well over 8 KiB for n >= 100)."""
    entries = [{"seq_id": i, "qsl_idx": i, "data": f"{i:016X}"} for i in range(n)]
    return "[\n" + ",\n".join(json.dumps(e) for e in entries) + "\n]\n"


def _acc_dir(tmp_path: Path, log: str, txt: str | None = "accuracy=76.500%, good=765, total=1000\n") -> Path:
    acc = tmp_path / "accuracy"
    acc.mkdir(parents=True)
    (acc / "mlperf_log_accuracy.json").write_text(log)
    if txt is not None:
        (acc / "accuracy.txt").write_text(txt)
    return acc


def test_hash_line_head_marker_tail_and_8199_bytes(tmp_path):
    log = _log(500)
    acc = _acc_dir(tmp_path, log)
    digest = hashlib.sha256(log.encode()).hexdigest()
    assert truncate_accuracy_dir(acc) == "truncated"
    lines = (acc / "accuracy.txt").read_text().splitlines()
    assert lines == ["accuracy=76.500%, good=765, total=1000", f"hash={digest}"]
    assert (acc / "accuracy.txt").read_text().endswith("\n")
    out = (acc / "mlperf_log_accuracy.json").read_text()
    assert out == log[:4096] + "\n\n...\n\n" + log[-4096:]
    assert MARKER == "\n\n...\n\n"
    assert (acc / "mlperf_log_accuracy.json").stat().st_size == 8199


def test_hash_line_has_the_format_of_the_real_v1_1_files(tmp_path):
    real = sorted(FIXTURES.glob("*/*/results/*/*/*/accuracy/accuracy.txt"))
    assert real
    for path in real:
        hashes = [line for line in path.read_text().splitlines() if line.startswith("hash=")]
        assert len(hashes) == 1 and HASH_LINE.match(hashes[0]), path
        assert path.read_text().endswith(hashes[0] + "\n"), path  # appended last, newline-terminated
        assert (path.parent / "mlperf_log_accuracy.json").stat().st_size == 8199
    acc = _acc_dir(tmp_path, _log(300))
    truncate_accuracy_dir(acc)
    ours = (acc / "accuracy.txt").read_text()
    assert HASH_LINE.match(ours.splitlines()[-1]) and ours.endswith("\n")


def test_twice_changes_nothing(tmp_path):
    acc = _acc_dir(tmp_path, _log(400))
    truncate_accuracy_dir(acc)
    before = {p.name: p.read_bytes() for p in acc.iterdir()}
    assert truncate_accuracy_dir(acc) == "already"
    assert {p.name: p.read_bytes() for p in acc.iterdir()} == before


def test_small_log_gets_a_hash_but_stays_whole(tmp_path):
    log = _log(3)
    acc = _acc_dir(tmp_path, log, "accuracy=100.000%, good=3, total=3")  # no final newline
    truncate_accuracy_dir(acc)
    assert (acc / "mlperf_log_accuracy.json").read_text() == log
    assert (acc / "accuracy.txt").read_text() == (
        f"accuracy=100.000%, good=3, total=3\nhash={hashlib.sha256(log.encode()).hexdigest()}\n"
    )
    assert truncate_accuracy_dir(acc) == "already"


def test_tree_walk_results_and_test01_only(tmp_path):
    root = tmp_path / "tree"
    sub = root / "closed" / "Acme"
    res = _acc_dir(sub / "results/box/resnet50/Offline", _log(500))
    t01 = _acc_dir(sub / "compliance/box/resnet50/Offline/TEST01", _log(500), txt=None)
    original = (t01 / "mlperf_log_accuracy.json").read_bytes()
    t05 = _acc_dir(sub / "compliance/box/resnet50/Offline/TEST05", _log(500), txt=None)
    missing_txt = sub / "results/box/resnet50/SingleStream/accuracy"
    missing_txt.mkdir(parents=True)
    (missing_txt / "mlperf_log_accuracy.json").write_text(_log(10))
    report = truncate_tree(root)
    assert report.truncated == [
        "closed/Acme/results/box/resnet50/Offline/accuracy",
        "closed/Acme/compliance/box/resnet50/Offline/TEST01/accuracy",
    ]
    assert (
        len(report.problems) == 1
        and report.problems[0].startswith("closed/Acme/results/box/resnet50/SingleStream/accuracy: ")
        and "accuracy.txt missing" in report.problems[0]
    )
    assert (t01 / "accuracy.txt").read_text() == f"hash={hashlib.sha256(original).hexdigest()}\n"
    assert not (t05 / "accuracy.txt").exists()  # only TEST01 is touched
    assert (res / "mlperf_log_accuracy.json").stat().st_size == 8199
    again = truncate_tree(root)
    assert again.truncated == [] and len(again.already_done) == 2


def test_accuracy_log_hash_matches_hashlib(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(bytes(range(256)) * 100)
    assert accuracy_log_hash(p) == hashlib.sha256(p.read_bytes()).hexdigest()


def test_cli_truncate(tmp_path):
    from typer.testing import CliRunner

    from edgeperf.cli.submission_cmd import app

    root = tmp_path / "tree"
    _acc_dir(root / "open/Acme/results/box/resnet50/Offline", _log(500))
    r = CliRunner().invoke(app, ["truncate", str(root)])
    assert r.exit_code == 0, r.output
    assert (
        "truncated closed" not in r.output and "truncated open/Acme/results/box/resnet50/Offline/accuracy" in r.output
    )
    r = CliRunner().invoke(app, ["truncate", str(root)])
    assert r.exit_code == 0 and "0 truncated, 1 already done" in r.output
    r = CliRunner().invoke(app, ["truncate", str(tmp_path / "nope")])
    assert r.exit_code == 2
