"""3D-UNet Offline throughput: edgeperf's 3d-unet-99 Offline run against raw onnxruntime, and peak
memory while the 64 MB responses go into the accuracy log.

Usage (from the repository root, with edgeperf importable: ``pip install -e '.[vision]'`` plus
``pip install onnx``, or ``PYTHONPATH=src``)::

    python -m bench.unet3d_offline                      # shaped model, 6 cases, 3 rounds (~2-3 min on 2 cores)
    python -m bench.unet3d_offline --model standin      # the 1x1x1 stand-in: edgeperf's own per-case cost
    python -m bench.unet3d_offline --samples 4 --rounds 1 --json results.json

What runs:

* **model** — ``shaped`` (default): a small 3D convolutional network built by this script at the
  official size, ``input`` float32 [1,4,224,224,160] → 3×3×3 conv (4→``--width``) → ReLU →
  3×3×3 conv (→4) named ``output``, plus an average-pooled deep-supervision output declared
  first (as the real graph has; never read). About 28 GFLOP per case at width 8 — far less than
  the real 3D-UNet, so edgeperf's overhead weighs more here than it would with it. ``standin``:
  ``edgeperf.testing.onnx_standins.unet3d_standin`` (a 1×1×1 channel mix: almost no compute, so
  the comparison is dominated by memory traffic and shows edgeperf's own per-case cost).
* **data** — ``--samples`` cases, float32 [4,224,224,160]: seeded normal values inside a centred
  ellipsoid and zeros around it (what the reference's z-scored, padded volumes look like).
* **edgeperf** — what ``edgeperf run 3d-unet-99 --scenario Offline`` runs, minus files on disk:
  ``DatasetQSL`` over the cases (every case loaded), the onnxruntime backend, the benchmark's own
  ``load_model`` and runner (one case per call, fed from the QSL's memory → ``predict(["output"])``
  → float16 response), ``WorkerPoolSUT`` answering through ``complete_arrays``, and ``start_test``
  in Offline PerformanceOnly with one query of ``--samples`` cases. Figure: LoadGen's "Samples per
  second".
* **raw** — the backend's own ``InferenceSession`` (the one edgeperf runs, so options, threads
  and memory arena are the same and no second session's threads compete for the cores): a loop of
  ``session.run(["output"], {"input": case[None]})`` over the same cases. A second raw figure,
  **raw+fp16**, also casts each output to float16 (the response the reference SUT builds), i.e.
  the least any harness must do per case.
* **accuracy-log memory** — the same cases through ``start_test`` in SingleStream AccuracyOnly
  (every case logged: 64 MB → 128 MB of hex each) with ``tracemalloc`` on: the peak of Python
  allocations above the level before the run (the model's own buffers live in onnxruntime's
  allocator and are not counted), next to the log size; and the process's peak RSS.

Both are warmed up (one case) before timing; each round runs raw, raw+fp16 then edgeperf; medians
are compared. Target (issue 5): edgeperf ≥ 0.95× raw. See bench/README.md for the last results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

TARGET_RATIO = 0.95
SHAPE = (4, 224, 224, 160)


class ArrayDataset:
    """The dataset protocol over cases already in memory."""

    name = "bench-brats"

    def __init__(self, data: np.ndarray):
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def preprocessed(self, index: int) -> np.ndarray:
        return self.data[index]


def brats_like_cases(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z, y, x = np.meshgrid(*(np.linspace(-1, 1, s, dtype=np.float32) for s in SHAPE[1:]), indexing="ij")
    brain = (z / 0.7) ** 2 + (y / 0.8) ** 2 + (x / 0.85) ** 2 <= 1
    data = np.zeros((n, *SHAPE), np.float32)
    for i in range(n):
        for c in range(SHAPE[0]):
            data[i, c][brain] = rng.standard_normal(int(brain.sum()), dtype=np.float32)
    return data


def build_shaped(path: Path, width: int, seed: int = 0) -> Path:
    """input [1,4,D,H,W] → conv3³(4→width) → ReLU → conv3³(width→4) = output; a pooled extra output first."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((width, 4, 3, 3, 3)) * 0.2).astype(np.float32)
    w2 = (rng.standard_normal((4, width, 3, 3, 3)) * 0.2).astype(np.float32)
    inits = [
        numpy_helper.from_array(w1, "w1"),
        numpy_helper.from_array(np.zeros(width, np.float32), "b1"),
        numpy_helper.from_array(w2, "w2"),
        numpy_helper.from_array(np.zeros(4, np.float32), "b2"),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["h"], kernel_shape=[3, 3, 3], pads=[1] * 6),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Conv", ["r", "w2", "b2"], ["output"], kernel_shape=[3, 3, 3], pads=[1] * 6),
        helper.make_node("AveragePool", ["output"], ["deep_supervision_1"], kernel_shape=[2, 2, 2], strides=[2, 2, 2]),
    ]
    dims = [1, *SHAPE]
    graph = helper.make_graph(
        nodes,
        "unet3d_shaped",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, dims)],
        [
            helper.make_tensor_value_info(
                "deep_supervision_1", TensorProto.FLOAT, [1, 4, *(d // 2 for d in SHAPE[1:])]
            ),
            helper.make_tensor_value_info("output", TensorProto.FLOAT, dims),
        ],
        initializer=inits,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))
    return path


def build_model(work: Path, kind: str, width: int) -> Path:
    if kind == "standin":
        from edgeperf.testing.onnx_standins import unet3d_standin

        path = work / "unet3d_standin.onnx"
        return path if path.exists() else unet3d_standin(path)
    path = work / f"unet3d_shaped_w{width}.onnx"
    return path if path.exists() else build_shaped(path, width)


def make_raw(session, data: np.ndarray):
    """A plain loop of ``session.run`` over the cases (the session edgeperf's backend uses)."""
    session.run(["output"], {"input": data[0][None]})

    def run_once(fp16: bool) -> dict:
        t = time.perf_counter()
        for case in data:
            out = session.run(["output"], {"input": case[None]})[0]
            if fp16:
                out[0].astype(np.float16)
        elapsed = time.perf_counter() - t
        return {"samples": len(data), "samples_per_second": len(data) / elapsed, "seconds": elapsed}

    return run_once


def _edgeperf_parts(model: Path, data: np.ndarray, threads: int):
    from edgeperf.backends import get_backend
    from edgeperf.benchmarks import get_benchmark
    from edgeperf.datasets.base import DatasetQSL

    bench = get_benchmark("3d-unet-99")
    qsl = DatasetQSL(ArrayDataset(data), performance_sample_count=len(data), name="3d-unet-99-QSL")
    backend = get_backend("onnxruntime", threads=threads)
    bench.load_model(bench, backend, str(model))
    runner = bench.make_runner(bench, backend, qsl)
    return bench, qsl, backend, runner


def _settings(scenario, mode, n: int):
    from edgeperf.loadgen.settings import TestSettings

    return TestSettings(
        scenario=scenario,
        mode=mode,
        min_duration_ms=0,
        min_query_count=n,
        offline_expected_qps=1.0,
        single_stream_expected_latency_ns=1_000_000,
        performance_sample_count_override=n,
    )


def make_edgeperf(model: Path, data: np.ndarray, threads: int):
    """Everything ``edgeperf run`` builds for an Offline run; returns (run_once, close, onnxruntime session)."""
    from edgeperf.loadgen.enums import TestMode, TestScenario
    from edgeperf.sut.pool import WorkerPoolSUT

    _, qsl, backend, runner = _edgeperf_parts(model, data, threads)
    sut = WorkerPoolSUT(runner, workers=1, batch_size=1, name="edgeperf-3d-unet-99-onnxruntime")
    settings = _settings(TestScenario.Offline, TestMode.PerformanceOnly, len(data))
    logs = tempfile.TemporaryDirectory(prefix="edgeperf-bench-unet3d-")
    qsl.load_samples_to_ram([0])
    runner(np.array([0]))
    qsl.unload_samples_from_ram([0])

    from bench._offline import edgeperf_offline

    run_once, close = edgeperf_offline(sut, qsl, settings, backend, logs)

    return run_once, close, backend.session


def per_case_costs(session, data: np.ndarray, repeats: int = 5) -> dict:
    """Median seconds of one model call and of edgeperf's own work on its output (float16 response),
    each timed alone: less sensitive to other load on the machine than the throughput rounds."""
    from edgeperf.benchmarks.medical import unet3d_response

    model, response = [], []
    for k in range(repeats):
        case = data[k % len(data)][None]
        t = time.perf_counter()
        out = session.run(["output"], {"input": case})[0]
        model.append(time.perf_counter() - t)
        t = time.perf_counter()
        unet3d_response(out[0])
        response.append(time.perf_counter() - t)
    m, r = statistics.median(model), statistics.median(response)
    return {"model_s": m, "response_s": r, "expected_ratio": m / (m + r)}


def accuracy_log_memory(model: Path, data: np.ndarray, threads: int) -> dict:
    """SingleStream AccuracyOnly over the cases with tracemalloc on: peak Python allocation."""
    from edgeperf.loadgen.engine import start_test
    from edgeperf.loadgen.enums import TestMode, TestScenario
    from edgeperf.loadgen.settings import LogOutputSettings, LogSettings
    from edgeperf.sut.pool import DirectSUT

    _, qsl, backend, runner = _edgeperf_parts(model, data, threads)
    sut = DirectSUT(runner, name="edgeperf-3d-unet-99-onnxruntime", max_batch=1)
    with tempfile.TemporaryDirectory(prefix="edgeperf-bench-unet3d-acc-") as logs:
        settings = _settings(TestScenario.SingleStream, TestMode.AccuracyOnly, len(data))
        qsl.load_samples_to_ram(range(len(data)))  # loaded up front: the QSL's memory is not what is measured
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        t = time.perf_counter()
        result = start_test(
            sut, qsl, settings, LogSettings(log_output=LogOutputSettings(outdir=logs), enable_trace=False)
        )
        wall = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        size = os.path.getsize(Path(logs) / "mlperf_log_accuracy.json")
    backend.close()
    return {
        "records": result.accuracy_records,
        "log_bytes": size,
        "response_bytes": int(np.prod(SHAPE)) * 2,
        "traced_peak_bytes": peak,
        "seconds": wall,
        "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=("shaped", "standin"), default="shaped")
    ap.add_argument("--width", type=int, default=8, help="hidden channels of the shaped model (default 8)")
    ap.add_argument("--samples", type=int, default=6, help="cases per measurement (default 6; 128 MB each in memory)")
    ap.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads (default 2)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "edgeperf-bench-unet3d")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)

    import onnxruntime as ort

    args.work_dir.mkdir(parents=True, exist_ok=True)
    model = build_model(args.work_dir, args.model, args.width)
    data = brats_like_cases(args.samples)
    print(
        f"3D-UNet {args.model} model{f' (width {args.width})' if args.model == 'shaped' else ''}, {args.samples} cases "
        f"float32 {list(SHAPE)}; {args.threads} threads, {args.rounds} round(s); onnxruntime {ort.__version__}, "
        f"numpy {np.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs",
        flush=True,
    )

    edgeperf, close, session = make_edgeperf(model, data, args.threads)
    raw = make_raw(session, data)
    rounds = []
    try:
        for r in range(args.rounds):
            a, a16, b = raw(False), raw(True), edgeperf()
            rounds.append({"raw": a, "raw_fp16": a16, "edgeperf": b})
            print(
                f"round {r + 1}: raw {a['samples_per_second']:7.3f}  raw+fp16 {a16['samples_per_second']:7.3f}  "
                f"edgeperf {b['samples_per_second']:7.3f} samples/s   ratio {b['samples_per_second'] / a['samples_per_second']:.3f}",
                flush=True,
            )
        costs = per_case_costs(session, data)
    finally:
        close()
    memory = accuracy_log_memory(model, data, args.threads)

    med = {k: statistics.median(r[k]["samples_per_second"] for r in rounds) for k in ("raw", "raw_fp16", "edgeperf")}
    ratio, ratio16 = med["edgeperf"] / med["raw"], med["edgeperf"] / med["raw_fp16"]
    verdict = "MET" if ratio >= TARGET_RATIO else "MISSED"
    mib = 1 << 20
    print()
    print(f"raw onnxruntime   {med['raw']:9.3f} samples/s  (median of {len(rounds)})")
    print(f"raw + fp16 cast   {med['raw_fp16']:9.3f} samples/s")
    print(f"edgeperf Offline  {med['edgeperf']:9.3f} samples/s  (LoadGen's 'Samples per second')")
    print(
        f"edgeperf / raw    {ratio:9.3f}    target >= {TARGET_RATIO}: {verdict}   (edgeperf / raw+fp16 {ratio16:.3f})"
    )
    print(
        f"per case          model {costs['model_s'] * 1e3:.0f} ms, edgeperf's float16 response {costs['response_s'] * 1e3:.0f} ms "
        f"(medians of single calls) -> expected edgeperf / raw {costs['expected_ratio']:.3f}"
    )
    print(
        f"accuracy log      {memory['records']} records, {memory['log_bytes'] / mib:.0f} MiB; peak Python allocation while "
        f"writing {memory['traced_peak_bytes'] / mib:.0f} MiB ({memory['traced_peak_bytes'] / memory['response_bytes']:.2f}x "
        f"one response); process peak RSS {memory['max_rss_bytes'] / mib:.0f} MiB"
    )
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "model": args.model,
                    "width": args.width,
                    "samples": args.samples,
                    "threads": args.threads,
                    "rounds": rounds,
                    "medians": med,
                    "ratio": ratio,
                    "ratio_fp16": ratio16,
                    "target": TARGET_RATIO,
                    "verdict": verdict,
                    "accuracy_log": memory,
                    "per_case": costs,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
