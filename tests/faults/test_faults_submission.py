"""Faults fed to ``edgeperf submission build|truncate|run`` (issue 12): outputs that overlap the
inputs, binary and symlinked accuracy logs, a full disk during truncation, a mistyped option that
must not leave a plan behind, huge --threads/--workers."""

from __future__ import annotations

import hashlib
import json
import os
import re

import pytest
from fault_helpers import assets_fixture, cli_fixture, edgeperf, error_line, leftovers, snapshot  # noqa: F401 (fixtures)
from fixture_paths import FIXTURES

SYSTEM = FIXTURES / "closed/Alibaba/systems/T4x1_TRT.json"
HASH_LINE = re.compile(r"^hash=[0-9a-f]{64}$")


def _log(n: int) -> str:
    entries = [{"seq_id": i, "qsl_idx": i, "data": f"{i:016X}"} for i in range(n)]
    return "[\n" + ",\n".join(json.dumps(e) for e in entries) + "\n]\n"


def _tree(root, log: bytes | str | None = None):
    """A tree with one results accuracy folder; returns (root, accuracy folder)."""
    acc = root / "closed/Acme/results/box/resnet50/Offline/accuracy"
    acc.mkdir(parents=True)
    data = _log(600) if log is None else log
    (acc / "mlperf_log_accuracy.json").write_bytes(data.encode() if isinstance(data, str) else data)
    (acc / "accuracy.txt").write_text("accuracy=76.500%, good=765, total=1000\n")
    return root, acc


def _hash_lines(acc) -> list[str]:
    return [line for line in (acc / "accuracy.txt").read_text().splitlines() if line.startswith("hash=")]


# -- submission truncate --------------------------------------------------------------------------


def test_truncate_binary_log_names_the_file_and_changes_nothing(cli, tmp_path):
    root, acc = _tree(tmp_path / "tree", bytes(range(256)) * 60)
    before = snapshot(root)
    result = cli("submission", "truncate", root)
    error_line(result, str(acc / "mlperf_log_accuracy.json"), "not UTF-8", "nothing was changed")
    assert snapshot(root) == before


def test_truncate_full_disk_leaves_no_temporary_file_and_a_retry_adds_one_hash(tmp_path):
    root, acc = _tree(tmp_path / "tree")
    log = (acc / "mlperf_log_accuracy.json").read_bytes()
    before = snapshot(root)
    result = edgeperf("submission", "truncate", root, fsize=1024)
    error_line(result, "ulimit", "nothing was changed")
    assert snapshot(root) == before and leftovers(root) == []
    retry = edgeperf("submission", "truncate", root)
    assert retry.returncode == 0, retry.stderr
    assert _hash_lines(acc) == [f"hash={hashlib.sha256(log).hexdigest()}"]
    again = edgeperf("submission", "truncate", root)
    assert again.returncode == 0 and "1 already done" in again.stdout
    assert len(_hash_lines(acc)) == 1


def test_truncate_retry_after_a_failure_between_the_two_renames(tmp_path):
    """accuracy.txt got its hash line but the log was not replaced yet: the retry truncates the
    log and does not add a second hash line."""
    from edgeperf.submission.build import truncate_accuracy_dir

    _, acc = _tree(tmp_path / "tree")
    digest = hashlib.sha256((acc / "mlperf_log_accuracy.json").read_bytes()).hexdigest()
    with open(acc / "accuracy.txt", "a") as f:
        f.write(f"hash={digest}\n")
    assert truncate_accuracy_dir(acc) == "truncated"
    assert _hash_lines(acc) == [f"hash={digest}"]
    assert (acc / "mlperf_log_accuracy.json").stat().st_size == 8199


@pytest.mark.parametrize("which", ["accuracy.txt", "mlperf_log_accuracy.json"])
def test_truncate_refuses_a_symlink_pointing_out_of_the_tree(cli, tmp_path, which):
    root, acc = _tree(tmp_path / "tree")
    outside = tmp_path / "outside" / which
    outside.parent.mkdir()
    os.replace(acc / which, outside)
    (acc / which).symlink_to(outside)
    before = snapshot(root, outside)
    error_line(cli("submission", "truncate", root), str(acc / which), "symbolic link", "regular file")
    assert snapshot(root, outside) == before


def test_truncate_twice_is_idempotent(cli, tmp_path):
    root, acc = _tree(tmp_path / "tree")
    assert cli("submission", "truncate", root).exit_code == 0
    after_once = snapshot(root)
    result = cli("submission", "truncate", root)
    assert result.exit_code == 0 and "1 already done" in result.output
    assert snapshot(root) == after_once and len(_hash_lines(acc)) == 1


def test_truncate_tree_missing_or_a_file(cli, tmp_path):
    error_line(cli("submission", "truncate", tmp_path / "nope"), "nope")
    (tmp_path / "afile").write_text("x")
    error_line(cli("submission", "truncate", tmp_path / "afile"), "afile")


# -- submission build -----------------------------------------------------------------------------


def _runs(tmp_path):
    runs = tmp_path / "runs"
    acc = runs / "resnet50/Offline/accuracy"
    acc.mkdir(parents=True)
    (acc / "mlperf_log_accuracy.json").write_text(_log(10))
    (acc / "accuracy.txt").write_text("accuracy=76.500%, good=765, total=1000\n")
    return runs


def _build(cli, runs, output, *extra, system=SYSTEM):
    return cli(
        "submission",
        "build",
        "--runs",
        runs,
        "--system",
        system,
        "--submitter",
        "Alibaba",
        "--division",
        "closed",
        "--output",
        output,
        "--no-check",
        *extra,
    )


@pytest.mark.parametrize("where", ["same", "parent", "inside"])
def test_build_refuses_an_output_overlapping_the_runs(cli, tmp_path, where):
    runs = _runs(tmp_path)
    output = {"same": runs, "parent": tmp_path, "inside": runs / "tree"}[where]
    before = snapshot(runs)
    error_line(_build(cli, runs, output, "--force"), str(output), "--runs", "apart from every input")
    assert snapshot(runs) == before


def test_build_refuses_an_output_holding_the_system_json(cli, tmp_path):
    runs = _runs(tmp_path)
    out = tmp_path / "tree"
    (out / "sys").mkdir(parents=True)
    system = out / "sys" / "T4x1_TRT.json"
    system.write_bytes(SYSTEM.read_bytes())
    error_line(_build(cli, runs, out, "--force", system=system), str(out), "--system")
    assert system.read_bytes() == SYSTEM.read_bytes()


@pytest.mark.parametrize(
    "what, expected", [("folder", "is a folder"), ("binary", "not valid JSON"), ("missing", "file not found")]
)
def test_build_bad_system_json(cli, tmp_path, what, expected):
    runs = _runs(tmp_path)
    system = tmp_path / "sys.json"
    if what == "folder":
        system.mkdir()
    elif what == "binary":
        system.write_bytes(bytes(range(256)))
    error_line(_build(cli, runs, tmp_path / "tree", system=system), str(system), expected)
    assert not (tmp_path / "tree").exists()


# -- submission run -------------------------------------------------------------------------------


def _oneshot(assets, tmp_path, *extra, model=None, system=None):
    if system is None:  # the real Alibaba system JSON, moved to the open division
        system = tmp_path / "T4x1_TRT.json"
        system.write_text(json.dumps(dict(json.loads(SYSTEM.read_text()), division="open")))
    return [
        "submission",
        "run",
        "resnet50",
        "--scenarios",
        "Offline",
        "--model",
        model or assets["model"],
        "--dataset",
        assets["imagenet"],
        "--system",
        system,
        "--submitter",
        "Alibaba",
        "--division",
        "open",
        "--output",
        tmp_path / "tree",
        "--user-conf",
        assets["conf"],
        "--max-samples",
        "4",
        *extra,
    ]


def test_run_mistyped_model_leaves_no_plan(cli, assets, tmp_path):
    error_line(cli(*_oneshot(assets, tmp_path, model=tmp_path / "resnet50_typo.onnx")), "resnet50_typo.onnx")
    assert not (tmp_path / "tree.runs").exists() and not (tmp_path / "tree").exists()


@pytest.mark.parametrize("option", ["--threads", "--workers"])
def test_run_huge_threads_refused_before_any_plan(cli, assets, tmp_path, option):
    error_line(cli(*_oneshot(assets, tmp_path, option, "100000")), option, "1 to 1024")
    assert not (tmp_path / "tree.runs").exists()


def test_run_system_json_is_a_folder(cli, assets, tmp_path):
    error_line(cli(*_oneshot(assets, tmp_path, system=tmp_path)), str(tmp_path), "is a folder")
    assert not (tmp_path / "tree.runs").exists()


def test_run_runs_inside_the_output_refused(cli, assets, tmp_path):
    error_line(cli(*_oneshot(assets, tmp_path, "--runs", tmp_path / "tree" / "runs")), "--output", "--runs")
    assert not (tmp_path / "tree").exists()


def test_run_a_plan_whose_first_step_failed_does_not_block_the_corrected_command(cli, assets, tmp_path):
    """The first step fails (a model that cannot run): the plan has no finished step, so the
    corrected command, plain or with --resume, is not refused with "plan changed"."""
    first = cli(*_oneshot(assets, tmp_path, model=assets["failing"]))
    error_line(first, "failing.onnx", "first inference")
    result = cli(*_oneshot(assets, tmp_path, "--resume", "--keep-going"))  # the stand-in misses the target
    assert result.exit_code in (0, 1), result.output  # 1: the tiny run's results are not all VALID
    assert "plan changed" not in result.output and "exists" not in result.stderr
    assert (tmp_path / "tree" / "open" / "Alibaba").is_dir()


def test_run_ctrl_c_then_resume_redoes_only_the_unfinished_steps(assets, tmp_path):
    """Ctrl-C at the start of the second step; --resume keeps the finished step and redoes the
    interrupted one from scratch; the tree is then built."""
    from edgeperf.workflow import OneShotOptions, run_submission

    args = _oneshot(assets, tmp_path)
    system = args[args.index("--system") + 1]
    opts = OneShotOptions(
        benchmarks=["resnet50"],
        scenarios=["Offline"],
        model=assets["model"],
        dataset=assets["imagenet"],
        system=system,
        submitter="Alibaba",
        division="open",
        output=tmp_path / "tree",
        user_conf=assets["conf"],
        max_samples=4,
        keep_going=True,
    )  # the stand-in model misses the accuracy target

    def interrupt_performance(step):
        if step.step == "performance":
            (step.folder(opts.runs_dir) / "half-written").mkdir(parents=True)  # what a killed step leaves
            raise KeyboardInterrupt
        return []

    with pytest.raises(KeyboardInterrupt):
        run_submission(opts, listeners_for=interrupt_performance)
    runs = opts.runs_dir
    assert (runs / "resnet50/Offline/.accuracy.done").is_file()
    assert not (runs / "resnet50/Offline/.performance.done").exists()
    accuracy_before = snapshot(runs / "resnet50/Offline/accuracy")
    opts.resume = True
    seen = []
    result, ran = run_submission(opts, on_step=lambda i, n, step, status: seen.append((step.step, status)))
    assert ("accuracy", "skip") in seen and [s.step for s in ran] == ["performance"]
    assert snapshot(runs / "resnet50/Offline/accuracy") == accuracy_before
    assert not (runs / "resnet50/Offline/performance/half-written").exists()
    assert (result.root / "results").is_dir()


def test_build_full_disk_leaves_no_tree_and_no_staging(cli, assets, tmp_path):
    """Real runs of the stand-in, built under an 8 KiB file size limit: the copy of the detail log
    fails, and neither the tree nor its staging folder is left."""
    from fault_helpers import run_args

    runs = tmp_path / "runs"
    for mode in ("accuracy", "performance"):
        result = cli(*run_args(assets, runs / "resnet50/Offline" / mode, "--mode", mode))
        assert result.exit_code == 0, result.output
    system = tmp_path / "T4x1_TRT.json"
    system.write_text(json.dumps(dict(json.loads(SYSTEM.read_text()), division="open")))
    before = snapshot(runs)
    result = edgeperf(
        "submission",
        "build",
        "--runs",
        runs,
        "--system",
        system,
        "--submitter",
        "Alibaba",
        "--division",
        "open",
        "--output",
        tmp_path / "tree",
        "--no-check",
        fsize=8192,
    )
    error_line(result, f"cannot write {tmp_path / 'tree'}", "ulimit", "nothing was written")
    assert not (tmp_path / "tree").exists() and leftovers(tmp_path) == []
    assert snapshot(runs) == before
