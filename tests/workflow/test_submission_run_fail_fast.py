"""Issue 15 items 2, 3 and 4 on ``edgeperf submission run``: fail fast on a missed accuracy target
(unless --keep-going), --resume after a finished plan rebuilds the tree, --resume notices changed
--threads/--batch-size/user.conf, an estimate of the time left, and --json.

Open division, SingleStream only: two short runs (accuracy, performance) per plan.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("cv2")
pytest.importorskip("typer")

from test_oneshot_plan import FAST_CONF, _cli  # noqa: E402

from edgeperf.submission import check_tree  # noqa: E402
from edgeperf.submission.build import machine_system_json  # noqa: E402
from vision_fixtures import IMAGENET_LABELS, make_imagenet  # noqa: E402


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from edgeperf.testing.onnx_standins import resnet50_standin

    root = tmp_path_factory.mktemp("fail-fast")
    good_bias = np.zeros(1001, np.float32)
    good_bias[66] = 1e6  # ArgMax 66 = ImageNet label 65: every answer right
    bad_bias = np.zeros(1001, np.float32)
    bad_bias[3] = 1e6  # label 2: every answer wrong, top-1 0% < 99% of 76.46%
    data = make_imagenet(root, labels=[65] * len(IMAGENET_LABELS))
    conf = root / "user.conf"
    conf.write_text(FAST_CONF)
    d = machine_system_json("open", "Acme")
    d.update(status="available", system_name="Test box", host_storage_capacity="1 TB", host_storage_type="SSD")
    system = root / "box.json"
    system.write_text(json.dumps(d))
    return {
        "root": root,
        "good": resnet50_standin(root / "good.onnx", bias=good_bias),
        "bad": resnet50_standin(root / "bad.onnx", bias=bad_bias),
        "data": data,
        "conf": conf,
        "system": system,
    }


def _run(env, out, model, *extra):
    return _cli()(
        "submission",
        "run",
        "resnet50",
        "--scenarios",
        "SingleStream",
        "--model",
        env[model],
        "--dataset",
        env["data"],
        "--system",
        env["system"],
        "--submitter",
        "Acme",
        "--division",
        "open",
        "--user-conf",
        env["conf"],
        "--output",
        out,
        *extra,
    )


def test_missed_accuracy_target_stops_the_plan_unless_keep_going(env, tmp_path):
    out = tmp_path / "tree"
    r = _run(env, out, "bad", "--json", tmp_path / "stop.json")
    assert r.exit_code == 1, r.output
    assert "accuracy target missed: top1 0% < 75.6954%" in r.output
    assert "--keep-going" in r.output
    assert "[2/2]" not in r.output  # the performance run never started
    assert not out.exists()
    doc = json.loads((tmp_path / "stop.json").read_text())
    assert doc["format"] == "edgeperf-submission-run" and doc["stopped"] and doc["verdict"] is None
    # a resume stops at the same place, without redoing the accuracy run
    r = _run(env, out, "bad", "--resume")
    assert r.exit_code == 1 and "already done" in r.output and "accuracy target missed" in r.output
    # --keep-going runs the whole plan and builds the tree
    r = _run(env, out, "bad", "--resume", "--keep-going")
    assert r.exit_code in (0, 1), r.output
    assert "[2/2] resnet50 SingleStream performance" in r.output
    assert (out / "open" / "Acme").is_dir()


def test_resume_after_a_finished_plan_rebuilds_the_tree_and_json(env, tmp_path):
    out = tmp_path / "tree"
    r = _run(env, out, "good", "--threads", "1")
    assert r.exit_code == 0, r.output
    assert "(plan: at least" in r.output  # an estimate of the time left, before the first step
    runs = tmp_path / "tree.runs"
    stamps = {p: p.stat().st_mtime_ns for p in runs.rglob("*") if p.is_file()}
    victim = next(out.rglob("mlperf_log_summary.txt"))
    victim.unlink()  # damage the tree: a rebuild must restore it
    r = _run(env, out, "good", "--threads", "1", "--resume", "--json", tmp_path / "run.json")
    assert r.exit_code == 0, r.output
    assert r.output.count("already done") == 2
    assert victim.is_file()
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # the runs were not touched
    doc = json.loads((tmp_path / "run.json").read_text())
    assert (doc["format"], doc["format_version"]) == ("edgeperf-submission-run", 1)
    assert [s["status"] for s in doc["steps"]] == ["skipped", "skipped"]
    assert doc["verdict"]["status"] == check_tree(out).verdict().status
    assert [(x["benchmark"], x["scenario"]) for x in doc["results"]] == [("resnet50", "SingleStream")]


@pytest.mark.parametrize(
    "change, named",
    [
        (("--threads", "2"), "threads (1 then, 2 now)"),
        (("--batch-size", "4"), "batch-size (None then, 4 now)"),
        ("conf", "user.conf"),
        (("--providers", "cpu"), "providers (None then, ['CPUExecutionProvider'] now)"),
    ],
)
def test_resume_notices_changed_settings(env, tmp_path, change, named):
    out = tmp_path / "tree"
    r = _run(env, out, "good", "--threads", "1")
    assert r.exit_code == 0, r.output
    extra = ["--threads", "1"]
    if change == "conf":
        env["conf"].write_text(FAST_CONF + "*.SingleStream.target_latency = 2\n")
        try:
            r = _run(env, out, "good", *extra, "--resume")
        finally:
            env["conf"].write_text(FAST_CONF)
    else:
        r = _run(env, out, "good", *(extra if change[0] != "--threads" else []), *change, "--resume")
    assert r.exit_code == 2, r.output
    assert "cannot resume, the plan changed" in r.output and named in r.output


def test_quick_mode_plan_is_labelled_not_compliant(env, tmp_path):
    out = tmp_path / "tree"
    r = _run(env, out, "good", "--duration", "0.2", "--json", tmp_path / "q.json")
    assert r.exit_code in (0, 1), r.output
    assert "NOT COMPLIANT" in r.output
    assert "(plan: at least" in r.output
    assert json.loads((tmp_path / "q.json").read_text())["compliant"] is False
    summary = next((tmp_path / "tree.runs").rglob("performance/mlperf_log_summary.txt")).read_text()
    assert "min_duration (ms): 200" in summary and "max_duration (ms): 200" in summary
