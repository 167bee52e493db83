"""``edgeperf submission run``: the whole plan (accuracy, performance, compliance per scenario), the
build and the check in one command, and ``--resume`` after the process is killed midway through a run.

ResNet50 stand-in answering label 65 on a tiny ImageNet whose labels are all 65 (accuracy 100%),
with short runs set through user.conf.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("cv2")
pytest.importorskip("typer")

from edgeperf.submission import Severity, check_tree  # noqa: E402
from edgeperf.submission.build import machine_system_json  # noqa: E402
from edgeperf.workflow import OneShotOptions, plan_steps, run_submission  # noqa: E402
from vision_fixtures import IMAGENET_LABELS, make_imagenet  # noqa: E402

FAST_CONF = """\
*.*.min_duration = 0
*.*.min_query_count = 16
*.SingleStream.target_latency = 1
*.Offline.target_qps = 200
"""
SHORT_RUN_ERRORS = {
    ("performance.min_query_count", "SingleStream"),
    ("performance.min_duration", "SingleStream"),
    ("performance.samples_per_query", "Offline"),
    ("performance.min_duration", "Offline"),
}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from edgeperf.testing.onnx_standins import resnet50_standin

    root = tmp_path_factory.mktemp("submission-oneshot")
    bias = np.zeros(1001, np.float32)
    bias[66] = 1e6
    model = resnet50_standin(root / "label65.onnx", bias=bias)
    data = make_imagenet(root, labels=[65] * len(IMAGENET_LABELS))
    conf = root / "user.conf"
    conf.write_text(FAST_CONF)
    systems = {}
    for division in ("closed", "open"):
        d = machine_system_json(division, "Acme")
        d.update(status="available", system_name="Test box", host_storage_capacity="1 TB", host_storage_type="SSD")
        systems[division] = root / division / "box.json"
        systems[division].parent.mkdir()
        systems[division].write_text(json.dumps(d))
    return {"root": root, "model": model, "data": data, "conf": conf, "systems": systems}


def _cli():
    from typer.testing import CliRunner

    from edgeperf.cli import submission_cmd
    from edgeperf.cli.main import build_app

    app = build_app()
    if not any(getattr(g, "name", None) == "submission" for g in app.registered_groups):
        app.add_typer(submission_cmd.app, name="submission")
    return lambda *a: CliRunner().invoke(app, [str(x) for x in a], env={"COLUMNS": "200"})


def _errors(report) -> set:
    seen = set()
    for f in report.findings:
        if f.severity is Severity.INFO:
            continue
        assert not f.severity.invalidates, f
        if f.check.startswith("compliance.verdict"):  # timings of 16-query runs
            assert f.file.endswith("/verify_performance.txt"), f
            continue
        seen.add((f.check, f.file.split("/")[5]))
    return seen


def test_plan():
    steps = plan_steps(["resnet50"], ["SingleStream", "Offline"], "closed")
    assert [s.label for s in steps[:6]] == [
        "resnet50 SingleStream accuracy",
        "resnet50 SingleStream performance",
        "resnet50 SingleStream TEST01",
        "resnet50 SingleStream TEST04-A",
        "resnet50 SingleStream TEST04-B",
        "resnet50 SingleStream TEST05",
    ]
    assert len(steps) == 12
    assert [s.step for s in plan_steps(["bert-99"], ["Offline"], "closed")] == [
        "accuracy",
        "performance",
        "TEST01",
        "TEST05",
    ]
    assert len(plan_steps(["resnet50"], ["SingleStream", "Offline"], "open")) == 4


@pytest.mark.parametrize("division", ["closed", "open"])
def test_cli_run_builds_and_checks(env, division):
    out = env["root"] / f"{division}-tree"
    args = (
        "submission",
        "run",
        "resnet50",
        "--scenarios",
        "SingleStream,Offline",
        "--model",
        env["model"],
        "--dataset",
        env["data"],
        "--system",
        env["systems"][division],
        "--submitter",
        "Acme",
        "--division",
        division,
        "--user-conf",
        env["conf"],
        "--output",
        out,
    )
    r = _cli()(*args)
    assert r.exit_code == 0, r.output
    n = 12 if division == "closed" else 4
    assert f"[{n}/{n}] resnet50 Offline" in r.output
    assert "2 results, 0 NoResults" in r.output
    report = check_tree(out)
    assert sorted(x.scenario for x in report.results) == ["Offline", "SingleStream"]
    assert {x.compliance for x in report.results} <= {0, 1}
    assert _errors(report) == SHORT_RUN_ERRORS
    assert (out.with_name(out.name + ".runs") / "user.conf").read_text() == FAST_CONF
    r = _cli()(*args)  # the same command again: the tree exists
    assert r.exit_code == 2 and "--force" in r.output


def test_resume_after_kill_midway(env, tmp_path):
    out = tmp_path / "tree"
    script = tmp_path / "killed.py"
    script.write_text(
        textwrap.dedent(f"""
        import os, signal, sys
        sys.path[:0] = {[str(p) for p in sys.path if p]!r}
        from pathlib import Path
        from edgeperf.loadgen import events as ev
        from edgeperf.workflow import OneShotOptions, run_submission
        opts = OneShotOptions(["resnet50"], ["SingleStream", "Offline"], Path({str(env["model"])!r}),
                              Path({str(env["data"])!r}), Path({str(env["systems"]["closed"])!r}), "Acme", "closed",
                              Path({str(out)!r}), user_conf=Path({str(env["conf"])!r}))
        def listeners_for(step):
            if step.step != "TEST04-A" or step.scenario != "SingleStream":
                return []
            def kill(event):
                if isinstance(event, ev.SeriesStart):
                    os.kill(os.getpid(), signal.SIGKILL)   # midway through the 4th run
            return [kill]
        run_submission(opts, listeners_for=listeners_for)
    """)
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr
    runs = tmp_path / "tree.runs"
    base = runs / "resnet50" / "SingleStream"
    done = sorted(p.name for p in base.glob(".*.done"))
    assert done == [".TEST01.done", ".accuracy.done", ".performance.done"]
    stamps = {p: p.stat().st_mtime_ns for p in base.glob(".*.done")}
    assert not out.exists()

    opts = OneShotOptions(
        ["resnet50"],
        ["SingleStream", "Offline"],
        env["model"],
        env["data"],
        env["systems"]["closed"],
        "Acme",
        "closed",
        out,
        user_conf=env["conf"],
    )
    with pytest.raises(FileExistsError, match="--resume"):
        run_submission(opts)
    opts.resume = True
    events = []
    result, ran = run_submission(opts, on_step=lambda i, n, s, status: events.append((i, status)))
    assert [s.label for s in ran][:1] == ["resnet50 SingleStream TEST04-A"] and len(ran) == 9
    assert events[:3] == [(1, "skip"), (2, "skip"), (3, "skip")]
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # finished runs not redone
    report = check_tree(out)
    assert len(report.results) == 2 and report.no_results == []
    assert _errors(report) == SHORT_RUN_ERRORS
    assert not [p for p in out.rglob(".*")]  # the killed run's leftovers stay in the runs folder
    # a resume with another plan is refused
    other = tmp_path / "tree2"
    opts2 = OneShotOptions(
        ["resnet50"],
        ["Offline"],
        env["model"],
        env["data"],
        env["systems"]["closed"],
        "Acme",
        "closed",
        other,
        runs=runs,
        user_conf=env["conf"],
        resume=True,
    )
    with pytest.raises(ValueError, match="the plan changed: scenarios"):
        run_submission(opts2)
