"""Vision Offline throughput: edgeperf's ResNet50 Offline run against raw onnxruntime.

Usage (from the repository root, with edgeperf importable: ``pip install -e '.[vision]'`` and
``pip install onnx``, or ``PYTHONPATH=src``)::

    python -m bench.vision_offline                          # 2 threads, batch 8, 512 samples, 3 rounds
    python -m bench.vision_offline --samples 256 --rounds 1 # quicker
    python -m bench.vision_offline --imagenet DIR           # real images through the reference preprocessing
    python -m bench.vision_offline --json results.json

What runs:

* **model** — ``edgeperf.testing.onnx_standins.resnet50_shaped``: ResNet50-v1.5's layers with
  random weights (≈4 GFLOP and 25.6 M parameters per image), ResNet50's official I/O, built by
  script into ``--work-dir`` (reused when already there).
* **data** — ``--samples`` preprocessed inputs, float32 ``[3,224,224]``: seeded random values in
  the range of ``pre_process_vgg``'s output, or (``--imagenet DIR``) the first images of an
  ImageNet folder through the real preprocessing, cached as ``.npy`` under ``--work-dir``.
* **edgeperf** — exactly what ``edgeperf run resnet50 --scenario Offline`` runs, minus files on
  disk: ``DatasetQSL`` over the data, the onnxruntime backend (``threads``), the benchmark's own
  runner (``QSL.get_batch`` → ``predict`` → ``resnet50_postprocess``), ``WorkerPoolSUT``
  (``--workers``, ``--batch-size``) answering through ``complete_arrays``, and ``start_test`` in
  Offline PerformanceOnly with one query of ``--samples`` samples (``min_query_count`` =
  samples, ``min_duration`` 0, every sample loaded). The figure is LoadGen's own "Samples per
  second" (samples / time from issuing the query to the last completion).
* **raw** — the same model in its own ``InferenceSession`` with the same session options and
  threads, and a plain loop of ``session.run(["ArgMax:0"], …)`` over consecutive slices of
  ``--batch-size`` samples of the same data, timed with ``perf_counter`` over the same number
  of samples.

Both are warmed up (two batches) before timing; each round runs raw then edgeperf, and the
medians over ``--rounds`` are compared. Target (issue 4): edgeperf ≥ 0.95× raw. See
bench/README.md for the last results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET_RATIO = 0.95


class ArrayDataset:
    """The dataset protocol over arrays already in memory (``preprocessed(i)`` is a view)."""

    def __init__(self, data: np.ndarray, name: str):
        self.data = data
        self.name = name

    def __len__(self) -> int:
        return len(self.data)

    def preprocessed(self, index: int) -> np.ndarray:
        return self.data[index]


def random_inputs(n: int, seed: int = 0) -> np.ndarray:
    """``n`` float32 [3,224,224] samples in the range of mean-subtracted RGB (about −124..152)."""
    rng = np.random.default_rng(seed)
    data = rng.random((n, 3, 224, 224), dtype=np.float32) * np.float32(255.0)
    data -= np.array([123.68, 116.78, 103.94], np.float32).reshape(1, 3, 1, 1)
    return data


def imagenet_inputs(root: Path, n: int, cache: Path) -> np.ndarray:
    """The first ``n`` images of an ImageNet folder through ``pre_process_vgg`` (cached)."""
    from edgeperf.datasets.imagenet import ImagenetDataset

    ds = ImagenetDataset(root, layout="NCHW", cache_dir=cache)
    if len(ds) == 0:
        raise SystemExit(f"no images in {root}")
    return np.stack([ds.preprocessed(i % len(ds)) for i in range(n)])


def build_model(work: Path, width: int) -> Path:
    from edgeperf.testing.onnx_standins import resnet50_shaped

    path = work / f"resnet50_shaped_w{width}.onnx"
    if not path.exists():
        t = time.perf_counter()
        resnet50_shaped(path, seed=0, width=width)
        print(f"built {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s", flush=True)
    return path


def make_edgeperf(model: Path, data: np.ndarray, threads: int, batch_size: int, workers: int):
    """Everything ``edgeperf run`` builds for an Offline run; returns (run_once, close)."""
    from edgeperf.backends import get_backend
    from edgeperf.benchmarks import get_benchmark
    from edgeperf.benchmarks.runner import make_runner
    from edgeperf.datasets.base import DatasetQSL
    from edgeperf.loadgen.enums import TestMode, TestScenario
    from edgeperf.loadgen.settings import TestSettings
    from edgeperf.sut.pool import WorkerPoolSUT

    bench = get_benchmark("resnet50")
    n = len(data)
    qsl = DatasetQSL(ArrayDataset(data, "bench-imagenet"), performance_sample_count=n, name="resnet50-QSL")
    backend = get_backend("onnxruntime", threads=threads)
    backend.load(str(model), bench.signature)
    runner = make_runner(bench, backend, qsl)
    sut = WorkerPoolSUT(runner, workers=workers, batch_size=batch_size, name="edgeperf-resnet50-onnxruntime")
    settings = TestSettings(
        scenario=TestScenario.Offline,
        mode=TestMode.PerformanceOnly,
        min_duration_ms=0,
        min_query_count=n,
        offline_expected_qps=1.0,
        performance_sample_count_override=n,
    )
    logs = tempfile.TemporaryDirectory(prefix="edgeperf-bench-vision-")

    def warm_up() -> None:
        qsl.load_samples_to_ram(range(min(batch_size, n)))
        try:
            for _ in range(2):
                runner(np.arange(min(batch_size, n)))
        finally:
            qsl.unload_samples_from_ram(range(min(batch_size, n)))

    from bench._offline import edgeperf_offline

    run_once, close = edgeperf_offline(sut, qsl, settings, backend, logs)

    warm_up()
    return run_once, close


def make_raw(model: Path, data: np.ndarray, threads: int, batch_size: int):
    """A plain onnxruntime loop over the same data; returns run_once."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.intra_op_num_threads = threads
    so.log_severity_level = 3
    session = ort.InferenceSession(str(model), sess_options=so, providers=["CPUExecutionProvider"])
    n = len(data)

    for _ in range(2):
        session.run(["ArgMax:0"], {"input_tensor:0": data[:batch_size]})

    def run_once() -> dict:
        t = time.perf_counter()
        for lo in range(0, n, batch_size):
            session.run(["ArgMax:0"], {"input_tensor:0": data[lo : lo + batch_size]})
        elapsed = time.perf_counter() - t
        return {"samples": n, "samples_per_second": n / elapsed, "seconds": elapsed}

    return run_once


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=512, help="samples per measurement (default 512)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads (default 2)")
    ap.add_argument("--workers", type=int, default=1, help="WorkerPoolSUT workers (default 1)")
    ap.add_argument("--rounds", type=int, default=3, help="raw + edgeperf measurements each; medians compared")
    ap.add_argument("--width", type=int, default=64, help="resnet50_shaped width (64 = ResNet50)")
    ap.add_argument("--imagenet", type=Path, help="use the images of this ImageNet folder instead of random data")
    ap.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "edgeperf-bench-vision")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)

    import onnxruntime as ort

    args.work_dir.mkdir(parents=True, exist_ok=True)
    model = build_model(args.work_dir, args.width)
    if args.imagenet is not None:
        data = imagenet_inputs(args.imagenet, args.samples, args.work_dir / "preprocessed")
        source = f"ImageNet images of {args.imagenet} (pre_process_vgg)"
    else:
        data = random_inputs(args.samples)
        source = "random float32 in the range of pre_process_vgg's output"
    print(
        f"ResNet50-shaped (width {args.width}), {args.samples} samples of {source}; "
        f"{args.threads} threads, batch {args.batch_size}, {args.workers} worker(s), {args.rounds} round(s); "
        f"onnxruntime {ort.__version__}, numpy {np.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs",
        flush=True,
    )

    raw = make_raw(model, data, args.threads, args.batch_size)
    edgeperf, close = make_edgeperf(model, data, args.threads, args.batch_size, args.workers)
    from bench._offline import compare_rounds

    rounds, raw_sps, ep_sps, ratio, verdict, _ = compare_rounds(raw, edgeperf, close, args.rounds, TARGET_RATIO)

    print()
    print(f"raw onnxruntime   {raw_sps:10.2f} samples/s  (median of {len(rounds)})")
    print(f"edgeperf Offline  {ep_sps:10.2f} samples/s  (median of {len(rounds)}; LoadGen's 'Samples per second')")
    print(f"edgeperf / raw    {ratio:10.3f}    target >= {TARGET_RATIO}: {verdict}")
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "samples": args.samples,
                    "batch_size": args.batch_size,
                    "threads": args.threads,
                    "workers": args.workers,
                    "width": args.width,
                    "data": source,
                    "rounds": rounds,
                    "raw_samples_per_second": raw_sps,
                    "edgeperf_samples_per_second": ep_sps,
                    "ratio": ratio,
                    "target": TARGET_RATIO,
                    "verdict": verdict,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
