"""End to end on loopback: the analyzer simulator under ``edgeperf power server``, driven by
``edgeperf run --power`` and ``edgeperf submission run --power`` with a ResNet50 stand-in.

The result must be laid out as real v1.1 power results are (the Krai fixture's file lists), its
metric must be what :func:`compute_power_metric` gives for the simulator's constant 50 W, ``edgeperf
check`` must accept the tree and ``--strict`` must reject it as simulator-made (power.md §10, §13.4).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("cv2")
pytest.importorskip("typer")

from edgeperf.submission import CheckOptions, check_tree  # noqa: E402
from edgeperf.submission.build import machine_system_json  # noqa: E402
from fixture_paths import FIXTURES  # noqa: E402
from power_helpers import free_port, write_server_config  # noqa: E402
from vision_fixtures import IMAGENET_LABELS, make_imagenet  # noqa: E402

pytestmark = pytest.mark.slow

# Server queries arrive on LoadGen's schedule for 2.5 s whatever the machine's speed, so the
# simulator's 1 Hz samples fall inside the power window. A 1 s latency bound keeps the run VALID
# on a loaded machine (the checker only logs the 15 ms v1.1 bound, and --strict drops it anyway).
POWER_CONF = """\
*.Server.min_duration = 2500
*.Server.target_qps = 100
*.Server.min_query_count = 16
*.Server.target_latency = 1000
"""
KRAI_PERF = FIXTURES / "closed/Krai/results/xavier-power.0-fan.cool-tflite-v2.5.0-ruy/resnet50/singlestream/performance"


def _listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from edgeperf.testing.onnx_standins import resnet50_standin

    root = tmp_path_factory.mktemp("power-e2e")
    bias = np.zeros(1001, np.float32)
    bias[66] = 1e6
    model = resnet50_standin(root / "label65.onnx", bias=bias)
    data = make_imagenet(root, labels=[65] * len(IMAGENET_LABELS))
    conf = root / "user.conf"
    conf.write_text(POWER_CONF)
    system = machine_system_json("open", "Acme")
    system.update(status="available", system_name="Test box", host_storage_capacity="1 TB", host_storage_type="SSD")
    sysfile = root / "box.json"
    sysfile.write_text(json.dumps(system))
    return {"root": root, "model": model, "data": data, "conf": conf, "system": sysfile}


@pytest.fixture
def server(tmp_path):
    """``edgeperf power server`` as a subprocess on an ephemeral port; stopped in teardown."""
    port = free_port()
    cfg = write_server_config(tmp_path / "server.conf", ptd_port=free_port())
    cfg.write_text(cfg.read_text().replace("listen = 127.0.0.1 0", f"listen = 127.0.0.1 {port}"))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edgeperf.cli.main",
            "power",
            "server",
            "--config",
            str(cfg),
            "--skip-time-sync",
            "--settle-seconds",
            "0.3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        while line and "listening on" not in line:
            line = proc.stdout.readline()
        assert "listening on" in line, "the power server did not start"
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _cli(*args):
    from typer.testing import CliRunner

    from edgeperf.cli.main import build_app

    return CliRunner().invoke(build_app(), [str(a) for a in args], env={"COLUMNS": "200"})


def test_run_with_power_lays_out_v11_power_results(env, server, tmp_path):
    out = tmp_path / "out"
    r = _cli(
        "run",
        "resnet50",
        "--scenario",
        "Server",
        "--model",
        env["model"],
        "--dataset",
        env["data"],
        "--user-conf",
        env["conf"],
        "--output",
        out,
        "--power",
        server,
        "--power-skip-time-sync",
    )
    assert r.exit_code == 0, r.output
    assert "System power: 50 Watts" in r.output and "SIMULATOR" in r.output
    # The same files as a real v1.1 power result (Krai, resnet50 SingleStream).
    assert [p for p in _listing(out) if p != "report.html"] == _listing(KRAI_PERF)
    from edgeperf.workflow.power_run import performance_dir_metric

    metric, samples, server_json = performance_dir_metric(out, "Server")
    assert (metric.value, metric.unit) == (50.0, "Watts")  # the simulator's constant:50 source
    assert metric.sample_count >= 2
    assert server_json["ptd_messages"][1]["reply"].startswith("EdgeperfSimulator,")
    assert [m["cmd"].split(",")[0] for m in server_json["ptd_messages"]] == [
        "Hello",
        "Identify",
        "RR",
        "SR",
        "SR",
        "Go",
        "Stop",
        "SR",
        "SR",
        "Go",
        "Stop",
        "Stop",
        "SR",
        "SR",
    ]
    html = (out / "report.html").read_text()
    assert "System power" in html and "Power over time" in html and "Throughput over time" in html
    assert "SIMULATOR" in html


def test_submission_run_with_power_checks_and_strict_rejects(env, server, tmp_path):
    tree = tmp_path / "tree"
    r = _cli(
        "submission",
        "run",
        "resnet50",
        "--scenarios",
        "Server",
        "--model",
        env["model"],
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
        tree,
        "--power",
        server,
        "--power-skip-time-sync",
    )
    assert r.exit_code == 0, r.output
    perf = tree / "open/Acme/results/box/resnet50/Server/performance"
    assert _listing(perf) == _listing(KRAI_PERF)
    report = check_tree(tree)
    assert [x.scenario for x in report.results] == ["Server"]
    assert report.results[0].has_power and report.results[0].power.value == 50.0
    assert report.verdict().exit_code == 0
    checks = {f.check for f in report.findings}
    assert "power.simulator" in checks  # reported, but v1.1 does not count it
    strict = check_tree(tree, CheckOptions(strict=True))
    assert strict.verdict().exit_code == 1
    dropped = {f.check for f in strict.findings if f.severity.invalidates}
    assert {"power.simulator", "power.debug", "power.time_sync_skipped"} <= dropped
    r = _cli("check", tree, "--strict")
    assert r.exit_code == 1 and "simulator" in r.output
    r = _cli("check", tree)
    assert r.exit_code == 0, r.output
