"""``edgeperf run --backend remote`` against ``edgeperf serve-model`` (MLServer) running as a real
process on loopback, over HTTP and over gRPC, in SingleStream, Server and Offline; then the faults:
the server killed midway and requests that time out.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("cv2")
pytest.importorskip("typer")
pytest.importorskip("tritonclient.http")
pytest.importorskip("tritonclient.grpc")
# MLServer runs only in the server's process: importing it here would clash with tritonclient's
# gRPC stubs, which register the same protobuf names.
if importlib.util.find_spec("mlserver") is None:
    pytest.skip("MLServer is not installed (pip install 'edgeperf[serve]')", allow_module_level=True)

from typer.testing import CliRunner  # noqa: E402

from distributed_fixtures import SCENARIOS, detail_records, invalidating, performance_findings, write_short_conf  # noqa: E402
from edgeperf.cli.main import build_app  # noqa: E402
from edgeperf.serving.server import free_port  # noqa: E402
from vision_fixtures import make_imagenet  # noqa: E402

pytestmark = pytest.mark.slow

SRC = Path(__file__).resolve().parents[2] / "src"
ANNOUNCE = re.compile(r"http://127\.0\.0\.1:(\d+) \(HTTP\), 127\.0\.0\.1:(\d+) \(gRPC\)")


class ModelServer:
    """``edgeperf serve-model`` in its own process; ``ports`` maps protocol to port."""

    def __init__(self, model: Path, name: str):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "edgeperf.cli.main",
                "serve-model",
                str(model),
                "--port",
                str(free_port()),
                "--name",
                name,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,
        )
        self.output: list[str] = []
        self.ports: dict[str, int] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            m = ANNOUNCE.search(line)
            if m:
                self.ports = {"http": int(m.group(1)), "grpc": int(m.group(2))}
                break
        if not self.ports:
            self.stop()
            raise RuntimeError("serve-model did not start:\n" + "".join(self.output))
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from edgeperf.testing.onnx_standins import resnet50_standin

    root = tmp_path_factory.mktemp("remote")
    model = resnet50_standin(root / "resnet-standin.onnx")
    server = ModelServer(model, "resnet")
    try:
        yield {
            "root": root,
            "model": model,
            "data": make_imagenet(root),
            "conf": write_short_conf(root),
            "server": server,
        }
    finally:
        server.stop()


def _run(out: Path, env, protocol: str, scenario: str, *extra, port: int | None = None):
    port = env["server"].ports[protocol] if port is None else port
    return CliRunner().invoke(
        build_app(),
        [
            "run",
            "resnet50",
            "--scenario",
            scenario,
            "--dataset",
            str(env["data"]),
            "--user-conf",
            str(env["conf"]),
            "--output",
            str(out),
            "--backend",
            "remote",
            "--url",
            f"127.0.0.1:{port}",
            "--model-name",
            "resnet",
            "--protocol",
            protocol,
            *extra,
        ],
        env={"COLUMNS": "200"},
    )


@pytest.mark.parametrize("protocol", ["http", "grpc"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_remote_run_is_valid_and_passes_the_performance_checks(env, tmp_path, protocol, scenario):
    out = tmp_path / "logs"
    result = _run(out, env, protocol, scenario, "--concurrency", "2")
    assert result.exit_code == 0, result.output
    records = detail_records(out)
    assert [r["value"] for r in records if r["metadata"]["is_error"]] == []
    assert next(r["value"] for r in records if r["key"] == "result_validity") == "VALID"
    outcome, findings = performance_findings(out, scenario)
    # Nothing drops the result (a short run only gets v1.1's SOFT notes: duration, query count).
    assert invalidating(findings) == []
    assert {f.check for f in findings} <= {
        "performance.min_duration",
        "performance.min_query_count",
        "performance.latency",
        "performance.samples_per_query",
    }
    assert outcome.log_scenario == scenario
    assert outcome.result is not None and outcome.result > 0
    # The SUT named in the logs is the remote one, so a reader can tell where the model ran.
    assert next(r["value"] for r in records if r["key"] == "test_datetime")


def test_requests_that_time_out_are_logged_then_end_the_run(env, tmp_path):
    out = tmp_path / "logs"
    result = _run(out, env, "grpc", "SingleStream", "--timeout", "0.001", "--max-errors", "2")
    assert result.exit_code == 1, result.output
    assert "the run ended early" in result.output
    assert "3 failed request(s), more than --max-errors 2" in result.output
    assert "timed out" in result.output
    errors = [r["value"] for r in detail_records(out) if r["metadata"]["is_error"]]
    # Each failed request is in the detail log with its samples, then the reason the run ended.
    timeouts = [e for e in errors if "failed on 1 sample(s) (QSL indices" in e and "request timed out" in e]
    assert len(timeouts) == 3, errors
    assert sum("3 failed request(s), more than --max-errors 2" in e for e in errors) == 1, errors
    assert (out / "mlperf_log_summary.txt").is_file()


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_server_killed_midway_ends_the_run_with_the_logs_intact(env, tmp_path, protocol):
    server = ModelServer(env["model"], "resnet")
    try:
        out = tmp_path / "logs"
        conf = tmp_path / "long.conf"
        conf.write_text("*.*.min_duration = 60000\n*.*.min_query_count = 100000\n*.Offline.target_qps = 50\n")
        killer = threading.Timer(3.0, server.kill)
        killer.start()
        result = CliRunner().invoke(
            build_app(),
            [
                "run",
                "resnet50",
                "--scenario",
                "Server",
                "--dataset",
                str(env["data"]),
                "--user-conf",
                str(conf),
                "--output",
                str(out),
                "--backend",
                "remote",
                "--url",
                f"127.0.0.1:{server.ports[protocol]}",
                "--model-name",
                "resnet",
                "--protocol",
                protocol,
                "--timeout",
                "5",
            ],
            env={"COLUMNS": "200"},
        )
        killer.join()
    finally:
        server.stop()
    assert result.exit_code == 1, result.output
    assert "the run ended early" in result.output
    assert "more than --max-errors 0" in result.output
    records = detail_records(out)  # every line still parses as the official parser reads it
    errors = [r["value"] for r in records if r["metadata"]["is_error"]]
    assert any("model 'resnet' at" in e for e in errors), errors
    summary = (out / "mlperf_log_summary.txt").read_text()
    # An aborted test has no result, only the error count, as LoadGen writes it (spec loadgen.md §12.1).
    n = len(errors)
    assert f"{n} ERROR{'S' if n > 1 else ''} encountered. See detailed log." in summary
    assert "Result is : VALID" not in summary


def test_unknown_model_name_is_one_clear_error(env, tmp_path):
    result = CliRunner().invoke(
        build_app(),
        [
            "run",
            "resnet50",
            "--scenario",
            "Offline",
            "--dataset",
            str(env["data"]),
            "--output",
            str(tmp_path / "o"),
            "--backend",
            "remote",
            "--url",
            f"127.0.0.1:{env['server'].ports['http']}",
            "--model-name",
            "nope",
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 2, result.output
    assert "remote model 'nope' at http://127.0.0.1:" in result.output
    assert "Traceback" not in result.output
