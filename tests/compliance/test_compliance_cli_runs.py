"""``edgeperf compliance run`` and ``verify`` end to end: ResNet50 stand-ins on a tiny ImageNet.

The real chain runs (dataset → preprocessing → onnxruntime → SUT → LoadGen with the official
audit settings → the test's folder → the official verification). Stand-ins answer one class for
every image: label 65 (image 0's label, so 1 of 5 right), label 970 (image 1's: also 1 of 5, with
other bytes), or label 1 (none right).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("cv2")
pytest.importorskip("typer")

from compliance_helpers import compliance_cli  # noqa: E402
from edgeperf.loadgen.logs.readers import read_detail_log  # noqa: E402
from vision_fixtures import make_imagenet  # noqa: E402

FAST_CONF = """\
*.*.min_duration = 0
*.*.min_query_count = 16
*.SingleStream.target_latency = 1
*.Offline.target_qps = 200
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from edgeperf.testing.onnx_standins import resnet50_standin

    root = tmp_path_factory.mktemp("compliance-e2e")
    models = {}
    for label in (1, 65, 970):
        bias = np.zeros(1001, np.float32)
        bias[label + 1] = 1e6  # ArgMax index = label + 1 (index 0 is the background class)
        models[label] = resnet50_standin(root / f"label{label}.onnx", bias=bias)
    conf = root / "user.conf"
    conf.write_text(FAST_CONF)
    return {"root": root, "imagenet": make_imagenet(root), "models": models, "conf": conf}


@pytest.fixture(scope="module")
def cli():
    return compliance_cli()


def _results(cli, env, scenario, label, where: Path) -> Path:
    """A scenario's results folder: accuracy and performance runs of the label stand-in."""
    results = where / "results/sys/resnet50" / scenario
    for mode, sub in (("accuracy", "accuracy"), ("performance", "performance/run_1")):
        r = cli(
            "run",
            "resnet50",
            "--scenario",
            scenario,
            "--mode",
            mode,
            "--model",
            env["models"][label],
            "--dataset",
            env["imagenet"],
            "--user-conf",
            env["conf"],
            "--output",
            results / sub,
        )
        assert r.exit_code == 0, r.output
    return results


def _compliance(cli, env, test, scenario, label, where: Path, *extra) -> tuple[Path, object]:
    out = where / "compliance/sys/resnet50" / scenario / test
    r = cli(
        "compliance",
        "run",
        test,
        "resnet50",
        "--scenario",
        scenario,
        "--model",
        env["models"][label],
        "--dataset",
        env["imagenet"],
        "--user-conf",
        env["conf"],
        "--output",
        out,
        *extra,
    )
    assert r.exit_code == 0, r.output
    return out, r


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_test01_run_writes_the_test_folder_and_a_deterministic_sut_passes(cli, env, tmp_path):
    results = _results(cli, env, "Offline", 65, tmp_path)
    test01, r = _compliance(cli, env, "TEST01", "Offline", 65, tmp_path)
    assert "TEST01 folder:" in r.output and "compliance verify TEST01" in r.output
    assert _files(test01) == [
        "accuracy/mlperf_log_accuracy.json",
        "performance/run_1/mlperf_log_detail.txt",
        "performance/run_1/mlperf_log_summary.txt",
    ]
    assert not list(test01.parent.glob(".*edgeperf-run*"))  # the staging folder is gone
    detail = read_detail_log(test01 / "performance/run_1/mlperf_log_detail.txt")
    assert detail["effective_test_mode"] == "PerformanceOnly"
    assert (detail["effective_accuracy_log_rng_seed"], detail["effective_accuracy_log_sampling_target"]) == (
        720381539243781796,
        4096,
    )
    records = json.loads((test01 / "accuracy/mlperf_log_accuracy.json").read_text())
    assert records and {rec["data"] for rec in records} == {"00008242"}  # 65.0 as float32

    v = cli("compliance", "verify", "TEST01", "--results", results, "--compliance", test01, "--benchmark", "resnet50")
    text = (test01 / "verify_accuracy.txt").read_text()
    assert text.endswith("num_perf_log_data_mismatch = 0\nnum_missing_qsl_idxs = 0\nTEST PASS\n\n")
    assert f"num_perf_log_entries = {len(records)}\n" in text
    assert "TEST01 accuracy PASS" in v.output
    perf = (test01 / "verify_performance.txt").read_text().splitlines()
    assert perf[0] == "Verifying performance."
    assert all(
        re.fullmatch(r"(reference|test) score = [0-9.e+]+|TEST PASS|TEST FAIL: Test score invalid", x) for x in perf[1:]
    )
    assert v.exit_code == (0 if "TEST PASS" in perf else 1)


def test_a_different_answer_in_performance_mode_fails_with_a_report(cli, env, tmp_path):
    results = _results(cli, env, "Offline", 65, tmp_path)
    test01, _ = _compliance(cli, env, "TEST01", "Offline", 1, tmp_path)
    v = cli("compliance", "verify", "TEST01", "--results", results, "--compliance", test01, "--benchmark", "resnet50")
    assert v.exit_code == 1
    text = (test01 / "verify_accuracy.txt").read_text()
    assert "num_perf_log_data_mismatch = 5\n" in text and text.endswith("TEST FAIL\n\n")
    assert "TEST01 accuracy FAIL" in v.output
    assert "max |diff| (float32)" in v.output and "[0] 1 vs 65" in v.output
    assert re.search(r"\s0\s+4/4\s+2\s+2\s+64\s+\[0\] 1 vs 65", v.output), v.output
    assert "Give the benchmark and its dataset" in v.output
    assert "TEST01 verification: FAIL" in v.output

    # with the dataset, both sets of answers are scored: 0 % against 20 % is far below 99 %
    v = cli(
        "compliance",
        "verify",
        "TEST01",
        "--results",
        results,
        "--compliance",
        test01,
        "--benchmark",
        "resnet50",
        "--dataset",
        env["imagenet"],
    )
    assert v.exit_code == 1
    assert (test01 / "accuracy/baseline_accuracy.txt").read_text() == "accuracy=20.000%, good=1, total=5\n"
    assert (test01 / "accuracy/compliance_accuracy.txt").read_text() == "accuracy=0.000%, good=0, total=5\n"
    assert (
        (test01 / "verify_accuracy.txt")
        .read_text()
        .endswith(
            "TEST FAIL\n\nVerifying accuracy via baseline comparison...\nbaseline accuracy: 20.0 (100.00%)\n"
            "compliance accuracy: 0.0 (0.00%)\nthreshold accuracy: 99.0%\nTEST FAIL\n"
        )
    )


def test_different_but_equally_accurate_answers_pass_the_baseline_comparison(cli, env, tmp_path):
    results = _results(cli, env, "Offline", 65, tmp_path)
    test01, _ = _compliance(cli, env, "TEST01", "Offline", 970, tmp_path)
    v = cli(
        "compliance",
        "verify",
        "TEST01",
        "--results",
        results,
        "--compliance",
        test01,
        "--benchmark",
        "resnet50",
        "--dataset",
        env["imagenet"],
    )
    text = (test01 / "verify_accuracy.txt").read_text()
    assert "num_perf_log_data_mismatch = 5\nnum_missing_qsl_idxs = 0\nTEST FAIL\n\n" in text
    assert text.endswith("compliance accuracy: 20.0 (100.00%)\nthreshold accuracy: 99.0%\nTEST PASS\n")
    assert "Baseline comparison: accuracy 20.0" in v.output and "PASS." in v.output


def test_test04_and_test05_runs_and_verify_files(cli, env, tmp_path):
    results = _results(cli, env, "SingleStream", 65, tmp_path)
    folders = {t: _compliance(cli, env, t, "SingleStream", 65, tmp_path)[0] for t in ("TEST04-A", "TEST04-B", "TEST05")}
    for folder in folders.values():
        assert _files(folder) == ["performance/run_1/mlperf_log_detail.txt", "performance/run_1/mlperf_log_summary.txt"]
    a = read_detail_log(folders["TEST04-A"] / "performance/run_1/mlperf_log_detail.txt")
    b = read_detail_log(folders["TEST04-B"] / "performance/run_1/mlperf_log_detail.txt")
    t5 = read_detail_log(folders["TEST05"] / "performance/run_1/mlperf_log_detail.txt")
    assert (a["effective_performance_issue_unique"], a["effective_performance_issue_same"]) == (True, False)
    assert (b["effective_performance_issue_same"], b["effective_performance_issue_same_index"]) == (True, 3)
    assert (t5["effective_qsl_rng_seed"], t5["effective_sample_index_rng_seed"], t5["effective_schedule_rng_seed"]) == (
        313588358309856706,
        471397156132239067,
        413914573387865862,
    )

    v = cli("compliance", "verify", "TEST04-B", "--results", results, "--compliance", folders["TEST04-B"])
    assert v.exit_code in (0, 1), v.output
    lines = (folders["TEST04-A"] / "verify_performance.txt").read_text().splitlines()
    assert not (folders["TEST04-B"] / "verify_performance.txt").exists()
    assert lines[0] == "Verifying performance." and re.fullmatch(r"TEST04-A score = \d+", lines[1])
    assert re.fullmatch(r"TEST04-B score = \d+", lines[2])
    assert lines[3:] in (
        ["TEST PASS"],
        ["TEST FAIL: Test score invalid"],
        ["TEST PASS", "Note: TEST04-B is significantly slower than TEST04-A"],
    )
    assert ("verification: PASS" in v.output) is ("TEST PASS" in lines)

    v = cli("compliance", "verify", "TEST05", "--results", results, "--compliance", folders["TEST05"])
    lines = (folders["TEST05"] / "verify_performance.txt").read_text().splitlines()
    assert lines[0] == "Verifying performance."
    if len(lines) > 1:  # both runs VALID: scores and a verdict
        assert re.fullmatch(r"reference score = \d+", lines[1]) and re.fullmatch(r"test score = \d+", lines[2])
        assert lines[3] in ("TEST PASS", "TEST FAIL: Test score invalid")
    else:  # a run was INVALID: the official script stops after its first line
        assert "results are invalid" in v.output


def test_a_rerun_replaces_stale_verification_files(cli, env, tmp_path):
    test01, _ = _compliance(cli, env, "TEST01", "Offline", 65, tmp_path)
    for rel in (
        "verify_accuracy.txt",
        "verify_performance.txt",
        "accuracy/accuracy.txt",
        "accuracy/baseline_accuracy.txt",
    ):
        (test01 / rel).write_text("old\n")
    (test01 / "notes.md").write_text("mine\n")
    _compliance(cli, env, "TEST01", "Offline", 65, tmp_path)
    assert _files(test01) == [
        "accuracy/mlperf_log_accuracy.json",
        "notes.md",
        "performance/run_1/mlperf_log_detail.txt",
        "performance/run_1/mlperf_log_summary.txt",
    ]


def test_user_errors(cli, env, tmp_path):
    out = tmp_path / "TEST01"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    r = cli(
        "compliance",
        "run",
        "TEST02",
        "resnet50",
        "--scenario",
        "Offline",
        "--model",
        env["models"][65],
        "--dataset",
        env["imagenet"],
        "--output",
        out,
    )
    assert r.exit_code == 2 and "unknown compliance test 'TEST02'" in r.output
    r = cli(
        "compliance",
        "run",
        "TEST01",
        "resnet50",
        "--scenario",
        "Offline",
        "--model",
        tmp_path / "missing.onnx",
        "--dataset",
        env["imagenet"],
        "--user-conf",
        env["conf"],
        "--output",
        out,
    )
    assert r.exit_code != 0 and "Traceback" not in r.output
    assert _files(out) == ["keep.txt"] and not list(tmp_path.glob(".*edgeperf-run*"))
    r = cli(
        "compliance",
        "run",
        "TEST01",
        "nosuch",
        "--scenario",
        "Offline",
        "--model",
        env["models"][65],
        "--dataset",
        env["imagenet"],
        "--output",
        out,
    )
    assert r.exit_code == 2 and "unknown benchmark 'nosuch'" in r.output
    r = cli("compliance", "verify", "TEST01", "--results", tmp_path / "nope", "--compliance", out)
    assert r.exit_code == 2 and "no such folder" in r.output
    r = cli("compliance", "verify", "TEST01", "--results", tmp_path, "--compliance", out, "--dataset", env["imagenet"])
    assert r.exit_code == 2 and "--dataset needs --benchmark" in r.output
