"""Offline throughput of the distributed SUTs against the in-process backend, side by side.

Usage (from the repository root, with ``pip install -e '.[vision,remote,serve,ray]'`` and onnx)::

    python -m bench.distributed_offline                    # width-16 ResNet50-shaped model, 256 samples
    python -m bench.distributed_offline --samples 128 --rounds 1 --json out.json

What runs, each an ``edgeperf`` Offline PerformanceOnly test of one query of ``--samples`` samples
(ResNet50's signature, random inputs in the range of the reference preprocessing), LoadGen's own
samples/s taken:

* **in-process** — what ``edgeperf run --backend onnxruntime`` runs: ``DatasetQSL``, the
  onnxruntime backend (``--threads``), ``WorkerPoolSUT`` (``--batch-size``).
* **ray N** — ``RaySUT`` with N replicas (N = 1, 2, 4) on a one-node Ray started for the bench
  (``address="local"``), each replica an actor with its own onnxruntime session of 1 thread; the
  samples go through the object store once per loaded set.
* **remote http / grpc** — ``edgeperf serve-model`` (MLServer + edgeperf's onnxruntime runtime) in
  its own process on loopback, and the remote backend with ``--concurrency`` requests in flight.

Each round measures every configuration once (in-process first); medians over ``--rounds`` are
reported with their ratio to in-process. bench/README.md has the last figures and what the
overheads are.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

# Ray on this machine only: its processes bind 127.0.0.1 (Ray's switch for single-machine clusters).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

from bench.vision_offline import ArrayDataset, build_model, random_inputs


def _settings(n: int):
    from edgeperf.loadgen.enums import TestMode, TestScenario
    from edgeperf.loadgen.settings import TestSettings

    return TestSettings(
        scenario=TestScenario.Offline,
        mode=TestMode.PerformanceOnly,
        min_duration_ms=0,
        min_query_count=n,
        offline_expected_qps=1.0,
        performance_sample_count_override=n,
    )


def _timed(sut, qsl, n: int) -> float:
    from edgeperf.loadgen.engine import start_test
    from edgeperf.loadgen.settings import LogOutputSettings, LogSettings

    with tempfile.TemporaryDirectory(prefix="edgeperf-bench-dist-") as logs:
        result = start_test(
            sut, qsl, _settings(n), LogSettings(log_output=LogOutputSettings(outdir=logs), enable_trace=False)
        )
    if result.errors or result.performance is None:
        raise SystemExit(f"run failed: {result.errors}")
    return float(result.performance.samples_per_second)


def _qsl(data: np.ndarray):
    from edgeperf.datasets.base import DatasetQSL

    return DatasetQSL(ArrayDataset(data, "bench-imagenet"), performance_sample_count=len(data), name="resnet50-QSL")


def in_process(model: Path, data: np.ndarray, threads: int, batch: int) -> float:
    from edgeperf.backends import get_backend
    from edgeperf.benchmarks import get_benchmark
    from edgeperf.benchmarks.runner import make_runner
    from edgeperf.sut.pool import WorkerPoolSUT

    bench = get_benchmark("resnet50")
    qsl = _qsl(data)
    backend = get_backend("onnxruntime", threads=threads)
    backend.load(str(model), bench.signature)
    sut = WorkerPoolSUT(make_runner(bench, backend, qsl), workers=1, batch_size=batch)
    try:
        return _timed(sut, qsl, len(data))
    finally:
        sut.close()
        backend.close()


def ray_replicas(model: Path, data: np.ndarray, replicas: int, batch: int) -> float:
    from edgeperf.sut.ray_sut import RayOptions, RaySampleQSL, RaySUT

    cpus = max(0.1, (os.cpu_count() or 1) / replicas)
    from edgeperf.benchmarks import get_benchmark

    sut = RaySUT(
        get_benchmark("resnet50"),
        model,
        RayOptions(address="local", replicas=replicas, cpus_per_replica=cpus, threads=1, node_ip_address="127.0.0.1"),
        batch_size=batch,
    )
    try:
        return _timed(sut, RaySampleQSL(_qsl(data), sut), len(data))
    finally:
        sut.close()


class _Server:
    def __init__(self, model: Path):
        from edgeperf.serving.server import free_port

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
                "resnet",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        line = self.proc.stdout.readline()
        http = line.split("http://127.0.0.1:")[1].split(" ")[0]
        grpc = line.split(", 127.0.0.1:")[1].split(" ")[0]
        self.ports = {"http": int(http), "grpc": int(grpc)}

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=20)


def remote(port: int, protocol: str, data: np.ndarray, batch: int, concurrency: int) -> float:
    from edgeperf.backends import get_backend
    from edgeperf.benchmarks import get_benchmark
    from edgeperf.benchmarks.runner import make_runner
    from edgeperf.sut.pool import WorkerPoolSUT

    bench = get_benchmark("resnet50")
    qsl = _qsl(data)
    backend = get_backend("remote", url=f"127.0.0.1:{port}", protocol=protocol, timeout=120.0)
    backend.load("resnet", bench.signature)
    sut = WorkerPoolSUT(make_runner(bench, backend, qsl), workers=concurrency, batch_size=batch)
    try:
        return _timed(sut, qsl, len(data))
    finally:
        sut.close()
        backend.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2, help="in-process onnxruntime threads (default 2)")
    ap.add_argument("--concurrency", type=int, default=2, help="remote requests in flight (default 2)")
    ap.add_argument("--width", type=int, default=16, help="resnet50_shaped width (64 = ResNet50; default 16)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--replicas", default="1,2,4")
    ap.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "edgeperf-bench-distributed")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    model = build_model(args.work_dir, args.width)
    data = random_inputs(args.samples)
    replica_counts = [int(r) for r in args.replicas.split(",")]
    server = _Server(model)
    figures: dict[str, list[float]] = {}
    try:
        for r in range(args.rounds):
            runs = {"in-process": lambda: in_process(model, data, args.threads, args.batch_size)}
            for n in replica_counts:
                runs[f"ray {n}"] = lambda n=n: ray_replicas(model, data, n, args.batch_size)
            for protocol in ("grpc", "http"):
                runs[f"remote {protocol}"] = lambda p=protocol: remote(
                    server.ports[p], p, data, args.batch_size, args.concurrency
                )
            for name, fn in runs.items():
                value = fn()
                figures.setdefault(name, []).append(value)
                print(f"round {r + 1}: {name:12s} {value:10.1f} samples/s", flush=True)
    finally:
        server.stop()
    base = statistics.median(figures["in-process"])
    print(f"\n{'configuration':14s} {'samples/s':>10s} {'vs in-process':>14s}")
    table = {}
    for name, values in figures.items():
        med = statistics.median(values)
        table[name] = {"samples_per_second": med, "ratio": med / base, "all": values}
        print(f"{name:14s} {med:10.1f} {med / base:13.2f}x")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": platform.platform(),
                    "cpus": os.cpu_count(),
                    "args": vars(args) | {"work_dir": str(args.work_dir), "json": str(args.json)},
                    "figures": table,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
