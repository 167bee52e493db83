"""``edgeperf submission build`` end to end: real ``edgeperf run`` / ``compliance run`` outputs of a
ResNet50 stand-in on a tiny ImageNet, laid out as a tree the v1.1 checker accepts.

Every image of the tiny dataset has label 65 and the stand-in answers 65, so accuracy is 100%.
The runs are short on purpose (user.conf: min_duration 0, 16 queries): the checker must report
exactly the errors that causes, and nothing else. The compliance *performance* verdicts compare
timings of 16-query runs, so they may pass or fail; only those verdicts are allowed to vary.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("cv2")
pytest.importorskip("typer")

from edgeperf.submission import Severity, check_tree  # noqa: E402
from edgeperf.submission.build import (
    BuildError,
    SystemJsonError,
    build_submission,  # noqa: E402
    machine_system_json,
    model_folder,
)
from edgeperf.submission.rules import V1_1  # noqa: E402
from vision_fixtures import IMAGENET_LABELS, make_imagenet  # noqa: E402

FAST_CONF = """\
*.*.min_duration = 0
*.*.min_query_count = 16
*.SingleStream.target_latency = 1
*.Offline.target_qps = 200
"""
SCENARIOS = ("SingleStream", "Offline")
TESTS = ("TEST01", "TEST04-A", "TEST04-B", "TEST05")
# (check, scenario) the short runs cause, and nothing else outside the compliance verdicts
EXPECTED = {
    ("performance.min_query_count", "SingleStream"),
    ("performance.min_duration", "SingleStream"),
    ("performance.samples_per_query", "Offline"),
    ("performance.min_duration", "Offline"),
}


def _cli():
    from typer.testing import CliRunner

    from edgeperf.cli import submission_cmd
    from edgeperf.cli.main import build_app

    app = build_app()
    if not any(getattr(g, "name", None) == "submission" for g in app.registered_groups):
        app.add_typer(submission_cmd.app, name="submission")
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})

    return invoke


@pytest.fixture(scope="module")
def cli():
    return _cli()


@pytest.fixture(scope="module")
def env(tmp_path_factory, cli):
    from edgeperf.testing.onnx_standins import resnet50_standin

    root = tmp_path_factory.mktemp("submission-build")
    bias = np.zeros(1001, np.float32)
    bias[66] = 1e6  # ArgMax = label 65 + 1
    model = resnet50_standin(root / "label65.onnx", bias=bias)
    data = make_imagenet(root, labels=[65] * len(IMAGENET_LABELS))
    runs = root / "runs"
    runs.mkdir()
    conf = runs / "user.conf"
    conf.write_text(FAST_CONF)
    for scenario in SCENARIOS:
        base = runs / "resnet50" / scenario
        for mode in ("performance", "accuracy"):
            r = cli(
                "run",
                "resnet50",
                "--scenario",
                scenario,
                "--mode",
                mode,
                "--model",
                model,
                "--dataset",
                data,
                "--user-conf",
                conf,
                "--output",
                base / mode,
            )
            assert r.exit_code == 0, r.output
        for test in TESTS:
            r = cli(
                "compliance",
                "run",
                test,
                "resnet50",
                "--scenario",
                scenario,
                "--model",
                model,
                "--dataset",
                data,
                "--user-conf",
                conf,
                "--output",
                base / test,
            )
            assert r.exit_code == 0, r.output
    system = machine_system_json("closed", "Acme")
    system.update(status="available", system_name="Test box", host_storage_capacity="1 TB", host_storage_type="SSD")
    sys_json = root / "box-cpu.json"
    sys_json.write_text(json.dumps(system))
    return {"root": root, "runs": runs, "system": sys_json, "data": system}


@pytest.fixture(scope="module")
def built(env):
    out = env["root"] / "tree"
    result = build_submission(env["runs"], env["system"], "Acme", "closed", out)
    return out, result


def test_tree_layout(built, env):
    out, result = built
    sub = out / "closed" / "Acme"
    assert result.root == sub and result.system == "box-cpu"
    assert sorted(p.name for p in out.iterdir()) == ["closed"]
    assert sorted(p.name for p in sub.iterdir()) == ["code", "compliance", "measurements", "results", "systems"]
    assert json.loads((sub / "systems/box-cpu.json").read_text()) == env["data"]
    assert (sub / "code/resnet50/README.md").is_file()
    from edgeperf.loadgen.settings import default_mlperf_conf_path

    for scenario in SCENARIOS:
        res = sub / "results/box-cpu/resnet50" / scenario
        assert sorted(p.name for p in (res / "performance/run_1").iterdir()) == [
            "mlperf_log_accuracy.json",
            "mlperf_log_detail.txt",
            "mlperf_log_summary.txt",
        ]
        assert sorted(p.name for p in (res / "accuracy").iterdir()) == sorted(V1_1.accuracy_files)
        meas = sub / "measurements/box-cpu/resnet50" / scenario
        assert sorted(p.name for p in meas.iterdir()) == sorted(
            ["README.md", "user.conf", "mlperf.conf", f"box-cpu_edgeperf_{scenario}.json"]
        )
        assert (meas / "mlperf.conf").read_bytes() == Path(default_mlperf_conf_path()).read_bytes()
        assert (meas / "user.conf").read_text() == FAST_CONF
        assert sorted(json.loads((meas / f"box-cpu_edgeperf_{scenario}.json").read_text())) == sorted(
            V1_1.measurement_json_keys
        )
        comp = sub / "compliance/box-cpu/resnet50" / scenario
        assert sorted(p.name for p in comp.iterdir()) == list(TESTS)
        assert (comp / "TEST01/verify_accuracy.txt").read_text().count("TEST PASS") == 1
        for test in ("TEST01", "TEST04-A", "TEST05"):
            assert (comp / test / "verify_performance.txt").is_file()
        assert not list(out.rglob("mlperf_log_trace.json"))


def test_accuracy_logs_hashed_and_truncated(built, env):
    out, result = built
    sub = out / "closed" / "Acme"
    assert len(result.truncation.truncated) == 4
    for scenario in SCENARIOS:
        original = (env["runs"] / "resnet50" / scenario / "accuracy/mlperf_log_accuracy.json").read_bytes()
        txt = (sub / "results/box-cpu/resnet50" / scenario / "accuracy/accuracy.txt").read_text().splitlines()
        assert txt[0].startswith("accuracy=100.000%")
        assert txt[-1] == f"hash={hashlib.sha256(original).hexdigest()}"
        t01 = sub / "compliance/box-cpu/resnet50" / scenario / "TEST01/accuracy"
        original01 = (env["runs"] / "resnet50" / scenario / "TEST01/accuracy/mlperf_log_accuracy.json").read_bytes()
        assert (t01 / "accuracy.txt").read_text() == f"hash={hashlib.sha256(original01).hexdigest()}\n"
        assert (t01 / "mlperf_log_accuracy.json").stat().st_size <= V1_1.max_accuracy_log_bytes


def test_checker_reports_every_result_and_only_the_short_run_errors(built):
    out, _ = built
    report = check_tree(out)
    assert report.no_results == []
    assert sorted(r.scenario for r in report.results) == sorted(SCENARIOS)
    assert all(r.mlperf_model == "resnet" and r.accuracy == "100.000" for r in report.results)
    assert report.verdict().exit_code == 0
    seen = set()
    for f in report.findings:
        if f.severity is Severity.INFO:
            continue
        assert not f.severity.invalidates, f
        if f.check.startswith("compliance.verdict"):
            assert f.file.endswith("/verify_performance.txt"), f  # timing of 16-query runs only
            continue
        seen.add((f.check, f.file.split("/")[5]))
    assert seen == EXPECTED


def test_refuses_to_overwrite_and_force_replaces(built, env):
    out, _ = built
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    marker = out / "closed/Acme/systems/box-cpu.json"
    stamp = marker.stat().st_mtime_ns
    with pytest.raises(FileExistsError, match="--force"):
        build_submission(env["runs"], env["system"], "Acme", "closed", out)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before and marker.stat().st_mtime_ns == stamp
    other = env["root"] / "tree-force"
    other.mkdir()
    (other / "stale.txt").write_text("old")
    build_submission(env["runs"], env["system"], "Acme", "closed", other, force=True)
    assert not (other / "stale.txt").exists() and (other / "closed/Acme/systems/box-cpu.json").is_file()
    assert not [p for p in env["root"].iterdir() if p.name.startswith(".")]  # no staging left over


def test_bad_system_json_writes_nothing(env):
    bad = dict(env["data"])
    del bad["cooling"]
    bad["status"] = "TODO: available, preview or rdi"
    bad["system_type"] = "phone"
    path = env["root"] / "bad-box.json"
    path.write_text(json.dumps(bad))
    out = env["root"] / "never"
    with pytest.raises(SystemJsonError) as info:
        build_submission(env["runs"], path, "Acme", "closed", out)
    assert info.value.problems == [
        "missing required field(s): cooling",
        "status: still a placeholder ('TODO: available, preview or rdi')",
        "system_type: 'phone' is not one of datacenter, edge, datacenter,edge, edge,datacenter",
    ]
    with pytest.raises(SystemJsonError, match="submitter: 'Acme' differs"):
        build_submission(env["runs"], env["system"], "Other", "closed", out)
    assert not out.exists()


def test_run_problems_are_listed_at_once(env, tmp_path):
    runs = tmp_path / "runs"
    (runs / "resnet-9000" / "Offline").mkdir(parents=True)
    (runs / "resnet50" / "Sideways").mkdir(parents=True)
    (runs / "resnet50" / "Offline" / "accuracy").mkdir(parents=True)
    with pytest.raises(BuildError) as info:
        build_submission(runs, env["system"], "Acme", "closed", tmp_path / "out")
    problems = info.value.problems
    assert [p.split(":")[0] for p in problems] == [
        "resnet-9000",
        "resnet50/Offline/performance",
        "resnet50/Offline/accuracy",
        "resnet50/Sideways",
    ]
    assert not (tmp_path / "out").exists() and sorted(os.listdir(tmp_path)) == ["runs"]


def test_open_division_has_no_compliance(env):
    system = dict(env["data"], division="open")
    path = env["root"] / "open-box.json"
    path.write_text(json.dumps(system))
    out = env["root"] / "open-tree"
    build_submission(env["runs"], path, "Acme", "open", out)
    assert not (out / "open/Acme/compliance").exists()
    report = check_tree(out)
    assert report.no_results == [] and len(report.results) == 2


def test_model_folders_are_the_v1_1_names():
    from edgeperf.benchmarks.registry import all_benchmarks

    for bench in all_benchmarks():
        folder = model_folder(bench.name)
        if bench.division == "open":
            # An Open-only model keeps its name; the checker learns its class from the extra map.
            assert folder == bench.name
            assert (
                V1_1.with_model_mapping({bench.name: bench.checker_model}).mlperf_model(folder) == bench.checker_model
            )
            continue
        assert V1_1.mlperf_model(folder) == bench.checker_model
    assert model_folder("resnet50") == "resnet50" and model_folder("ssd-mobilenet") == "ssd-mobilenet"
    assert model_folder("bert-99") == "bert-99" and model_folder("3d-unet-99.9") == "3d-unet-99.9"


def test_cli_build(env, cli):
    out = env["root"] / "cli-tree"
    args = (
        "submission",
        "build",
        "--runs",
        env["runs"],
        "--system",
        env["system"],
        "--submitter",
        "Acme",
        "--division",
        "closed",
        "--output",
        out,
    )
    r = cli(*args)
    assert r.exit_code == 0, r.output
    assert "truncated 4 accuracy log(s)" in r.output and "2 results, 0 NoResults" in r.output
    r = cli(*args)
    assert r.exit_code == 2 and "pass --force" in r.output
    r = cli(*args, "--force", "--no-check")
    assert r.exit_code == 0 and "NoResults" not in r.output
    bad = env["root"] / "cli-bad.json"
    bad.write_text(json.dumps({"division": "closed"}))
    r = cli(
        "submission",
        "build",
        "--runs",
        env["runs"],
        "--system",
        bad,
        "--submitter",
        "Acme",
        "--division",
        "closed",
        "--output",
        env["root"] / "cli-never",
    )
    assert r.exit_code == 2 and "missing required field(s): submitter, status" in r.output
