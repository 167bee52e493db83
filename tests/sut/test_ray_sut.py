"""``edgeperf run --backend ray`` on a local two-node Ray cluster (two raylets on loopback, started
by the test): SingleStream, Server and Offline with the ResNet50 stand-in, then a replica killed
midway.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

# Ray's switch for single-machine clusters: every raylet, the GCS and the driver bind 127.0.0.1, so
# the test's traffic never leaves loopback (set before Ray is imported; the raylets inherit it).
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"

pytest.importorskip("onnxruntime")
pytest.importorskip("cv2")
pytest.importorskip("typer")
ray = pytest.importorskip("ray")

from typer.testing import CliRunner  # noqa: E402

from distributed_fixtures import SCENARIOS, detail_records, invalidating, performance_findings, write_short_conf  # noqa: E402
from edgeperf.cli.main import build_app  # noqa: E402
from vision_fixtures import make_imagenet  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from ray.cluster_utils import Cluster

    from edgeperf.testing.onnx_standins import resnet50_standin

    root = tmp_path_factory.mktemp("ray")
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    c.add_node(num_cpus=1)
    assert c.address.startswith("127.0.0.1:")
    conf = write_short_conf(root)
    # Replicas in-process on loopback answer far faster than over HTTP: an Offline query sized for
    # the remote tests would end before min_duration (INVALID), so ask for more samples.
    conf.write_text(conf.read_text() + "*.Offline.target_qps = 100000\n")
    try:
        yield {
            "address": c.address,
            "model": resnet50_standin(root / "resnet-standin.onnx"),
            "data": make_imagenet(root),
            "conf": conf,
            "cluster": c,
        }
    finally:
        if ray.is_initialized():
            ray.shutdown()
        c.shutdown()


def _run(cluster, out: Path, scenario: str, conf: Path | None = None, replicas: int = 2):
    return CliRunner().invoke(
        build_app(),
        [
            "run",
            "resnet50",
            "--scenario",
            scenario,
            "--model",
            str(cluster["model"]),
            "--dataset",
            str(cluster["data"]),
            "--user-conf",
            str(conf or cluster["conf"]),
            "--output",
            str(out),
            "--backend",
            "ray",
            "--ray-address",
            cluster["address"],
            "--replicas",
            str(replicas),
            "--ray-node-ip",
            "127.0.0.1",
        ],
        env={"COLUMNS": "200"},
    )


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_ray_run_on_two_nodes_is_valid_and_passes_the_performance_checks(cluster, tmp_path, scenario):
    out = tmp_path / "logs"
    result = _run(cluster, out, scenario)
    assert result.exit_code == 0, result.output
    records = detail_records(out)
    assert [r["value"] for r in records if r["metadata"]["is_error"]] == []
    assert next(r["value"] for r in records if r["key"] == "result_validity") == "VALID"
    outcome, findings = performance_findings(out, scenario)
    assert invalidating(findings) == []
    assert outcome.log_scenario == scenario and outcome.result > 0
    assert not ray.is_initialized()  # the SUT disconnects from the cluster it joined


def _replica_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if cmdline.startswith(b"ray::_Replica"):
                pids.append(int(entry))
    return pids


def test_a_replica_dying_midway_ends_the_run_with_the_logs_intact(cluster, tmp_path):
    out = tmp_path / "logs"
    conf = tmp_path / "long.conf"
    conf.write_text(
        "*.*.min_duration = 60000\n*.*.min_query_count = 100000\n*.Server.target_qps = 20\n"
        "*.Server.target_latency = 10000\n"
    )
    killed: list[int] = []

    def kill_one_replica() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            pids = _replica_pids()
            if len(pids) == 2:  # both replicas have loaded the model
                time.sleep(4.0)  # let the test run for a while first
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            time.sleep(0.2)

    killer = threading.Thread(target=kill_one_replica)
    killer.start()
    result = _run(cluster, out, "Server", conf)
    killer.join()
    assert killed, "no replica process was found to kill"
    assert result.exit_code == 1, result.output
    assert "the run ended early" in result.output
    assert "Ray replica" in result.output and "died" in result.output
    records = detail_records(out)  # every line still parses
    errors = [r["value"] for r in records if r["metadata"]["is_error"]]
    assert any("Ray replica" in e and "died" in e for e in errors), errors
    n = len(errors)
    assert (
        f"{n} ERROR{'S' if n > 1 else ''} encountered. See detailed log."
        in (out / "mlperf_log_summary.txt").read_text()
    )
