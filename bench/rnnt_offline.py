"""RNN-T Offline throughput: edgeperf's ``rnnt`` Offline run against the same work in a plain loop.

Usage (from the repository root, with edgeperf importable: ``pip install -e '.[speech]'`` or
``PYTHONPATH=src``)::

    python -m bench.rnnt_offline                              # reference sizes, 24 utterances, 3 rounds
    python -m bench.rnnt_offline --samples 8 --rounds 1       # quicker
    python -m bench.rnnt_offline --small                      # the tests' narrow stand-in (overhead-bound)
    python -m bench.rnnt_offline --json results.json

What runs:

* **model** — the reference RNN-T architecture (:func:`edgeperf.models.rnnt.build_rnnt`, 45.3 M
  parameters, or ``--small``: the tests' narrow stand-in) with random weights, saved in the
  official checkpoint format under ``--work-dir`` (reused when there) and loaded back exactly as
  ``edgeperf run`` loads ``--model``. Random weights emit a symbol at almost every step or almost never, so the
  blank's output bias is calibrated (bisection on the data's encoder outputs) until greedy
  decoding emits about ``--symbols-per-frame`` symbols per encoder frame (0.9 ≈ dev-clean:
  ~15.7 characters per second of audio against 16.7 encoder frames per second).
* **data** — ``--samples`` synthetic 16 kHz utterances (tones in noise, int16 levels), seeded,
  lengths uniform in 1.5–11 s (mean 6.25 s, as dev-clean's 4.36 h / 2 513).
* **edgeperf** — what ``edgeperf run rnnt --scenario Offline`` builds, minus files on disk:
  ``AudioQSL`` over the waveforms (all loaded), the torch backend (``--threads``) with the
  checkpoint loaded by the benchmark's ``load_model``, the benchmark's runner (features →
  ``predict`` → int64 bytes), ``WorkerPoolSUT`` (``--workers``, one utterance per call), and
  ``start_test`` in Offline PerformanceOnly with one query of ``--samples`` samples. The figure is
  LoadGen's "Samples per second".
* **raw** — the reference SUT's per-query work in a plain loop over the same waveforms, same
  threads: ``FilterbankFeatures`` → the greedy decoder module under ``torch.inference_mode`` →
  the int64 bytes. (A third figure, model only on precomputed features, is printed for scale.)

Each round runs raw then edgeperf; medians over ``--rounds`` are compared. Target (issue 5):
edgeperf ≥ 0.95× raw. See bench/README.md for the last results.
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
SAMPLE_RATE = 16000


class WaveformDataset:
    """What ``AudioQSL`` needs, over waveforms in memory."""

    name = "bench-librispeech"

    def __init__(self, waves: list[np.ndarray]):
        self.waves = waves

    def __len__(self) -> int:
        return len(self.waves)

    def waveform(self, index: int) -> np.ndarray:
        return self.waves[index]


def synthetic_utterances(n: int, seed: int = 0) -> list[np.ndarray]:
    """``n`` float32 waveforms at 16 kHz: tones with a syllable-rate envelope, in noise, int16 levels."""
    rng = np.random.default_rng(seed)
    waves = []
    for _ in range(n):
        length = int(rng.uniform(1.5, 11.0) * SAMPLE_RATE)
        t = np.arange(length) / SAMPLE_RATE
        pitch = rng.uniform(90, 250)
        envelope = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(2, 5) * t + rng.uniform(0, 6.3))
        x = envelope * sum(np.sin(2 * np.pi * pitch * h * t) / h for h in range(1, 6)) * 0.15
        x += 0.02 * rng.standard_normal(length)
        waves.append((np.clip(np.round(x * 32767), -32768, 32767) / 32768).astype(np.float32))
    return waves


def calibrated_model(small: bool, waves: list[np.ndarray], target: float, work: Path) -> tuple[Path, float, float]:
    """A random RNN-T whose greedy decoding emits ~``target`` symbols per encoder frame; its checkpoint path,
    the blank bias chosen and the rate reached."""
    import torch

    from edgeperf.datasets.librispeech import FilterbankFeatures
    from edgeperf.models.rnnt import RNNTConfig, build_rnnt, greedy_decoder, official_checkpoint

    probe = waves[: min(4, len(waves))]
    path = work / f"rnnt_random_{'small' if small else 'full'}_{target:g}_{len(probe)}.pt"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():  # the waveforms are seeded: the same probe, the same calibration
        known = json.loads(meta.read_text())
        return path, known["blank_bias"], known["symbols_per_frame"]
    config = RNNTConfig(encoder_hidden=32, pred_hidden=16, joint_hidden=24) if small else RNNTConfig()
    model = build_rnnt(config, seed=0)
    if small:
        with torch.no_grad():
            for name, param in model.named_parameters():
                if "weight" in name:
                    param.mul_(5.0)
    decoder = greedy_decoder(model)
    featurizer = FilterbankFeatures()
    with torch.inference_mode():
        encoded = [model.encoder(torch.from_numpy(featurizer(w))[None].permute(2, 0, 1))[0] for w in probe]
    frames = sum(e.shape[0] for e in encoded)
    base = model.joint.net[3].bias[28].item()

    def rate(bias: float) -> float:
        with torch.no_grad():
            model.joint.net[3].bias[28] = base + bias
        with torch.inference_mode():
            return sum(len(decoder.greedy(e)) for e in encoded) / frames

    lo, hi = -10.0, 10.0  # rate(lo) high, rate(hi) low
    best = (abs(rate(0.0) - target), 0.0)
    for _ in range(20):  # random weights switch sharply: the target may only be approached
        mid = (lo + hi) / 2
        r = rate(mid)
        best = min(best, (abs(r - target), mid))
        if abs(r - target) < 0.05:
            break
        lo, hi = (mid, hi) if r > target else (lo, mid)
    bias = best[1]
    reached = rate(bias)
    torch.save(official_checkpoint(model), path)
    meta.write_text(json.dumps({"blank_bias": bias, "symbols_per_frame": reached}))
    return path, bias, reached


def make_edgeperf(checkpoint: Path, waves: list[np.ndarray], threads: int, workers: int):
    """Everything ``edgeperf run rnnt`` builds for an Offline run; returns (run_once, close)."""
    from edgeperf.backends import get_backend
    from edgeperf.benchmarks import get_benchmark
    from edgeperf.datasets.librispeech import AudioQSL
    from edgeperf.loadgen.enums import TestMode, TestScenario
    from edgeperf.loadgen.settings import TestSettings
    from edgeperf.sut.pool import WorkerPoolSUT

    bench = get_benchmark("rnnt")
    n = len(waves)
    qsl = AudioQSL(WaveformDataset(waves), n, name="rnnt-QSL")
    backend = get_backend("torch", threads=threads)
    bench.load_model(bench, backend, str(checkpoint))
    runner = bench.make_runner(bench, backend, qsl)
    sut = WorkerPoolSUT(runner, workers=workers, batch_size=1, name="edgeperf-rnnt-torch")
    settings = TestSettings(
        scenario=TestScenario.Offline,
        mode=TestMode.PerformanceOnly,
        min_duration_ms=0,
        min_query_count=n,
        offline_expected_qps=1.0,
        performance_sample_count_override=n,
    )
    logs = tempfile.TemporaryDirectory(prefix="edgeperf-bench-rnnt-")
    qsl.load_samples_to_ram([0])
    runner(np.array([0]))  # warm-up (first forward passes, torch's lazy initialisation)
    qsl.unload_samples_from_ram([0])

    from bench._offline import edgeperf_offline

    run_once, close = edgeperf_offline(sut, qsl, settings, backend, logs)

    return run_once, close


def make_raw(checkpoint: Path, waves: list[np.ndarray], threads: int):
    """The reference SUT's work per query, in a plain loop; returns (run_once, model_only)."""
    import array

    import torch

    from edgeperf.benchmarks.speech import load_rnnt_module
    from edgeperf.datasets.librispeech import FilterbankFeatures

    torch.set_num_threads(threads)
    decoder = load_rnnt_module(checkpoint).eval()
    featurizer = FilterbankFeatures()
    features = [torch.from_numpy(featurizer(w))[None] for w in waves]
    with torch.inference_mode():
        decoder(features[0])

    def run_once() -> dict:
        t = time.perf_counter()
        with torch.inference_mode():
            for w in waves:
                tokens = decoder(torch.from_numpy(featurizer(w))[None])
                array.array("q", tokens[0].tolist()).tobytes()
        elapsed = time.perf_counter() - t
        return {"samples": len(waves), "samples_per_second": len(waves) / elapsed, "seconds": elapsed}

    def model_only() -> dict:
        t = time.perf_counter()
        with torch.inference_mode():
            for x in features:
                decoder(x)
        elapsed = time.perf_counter() - t
        return {"samples": len(waves), "samples_per_second": len(waves) / elapsed, "seconds": elapsed}

    return run_once, model_only


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=24, help="utterances per measurement (default 24)")
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    ap.add_argument("--workers", type=int, default=1, help="WorkerPoolSUT workers (default 1)")
    ap.add_argument("--rounds", type=int, default=3, help="raw + edgeperf measurements each; medians compared")
    ap.add_argument("--small", action="store_true", help="the tests' narrow stand-in instead of the reference sizes")
    ap.add_argument("--symbols-per-frame", type=float, default=0.9, help="greedy emission rate to calibrate to")
    ap.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "edgeperf-bench-rnnt")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)

    import torch

    args.work_dir.mkdir(parents=True, exist_ok=True)
    waves = synthetic_utterances(args.samples)
    seconds = sum(len(w) for w in waves) / SAMPLE_RATE
    t = time.perf_counter()
    checkpoint, bias, reached = calibrated_model(args.small, waves, args.symbols_per_frame, args.work_dir)
    print(
        f"RNN-T {'small stand-in' if args.small else 'reference sizes (45.3 M parameters)'}, random weights, blank bias "
        f"{bias:+.4f} -> {reached:.2f} symbols per encoder frame (calibrated in {time.perf_counter() - t:.1f} s); "
        f"{args.samples} synthetic utterances, {seconds:.1f} s of audio; {args.threads} threads, "
        f"{args.workers} worker(s), {args.rounds} round(s); torch {torch.__version__}, numpy {np.__version__}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs",
        flush=True,
    )

    raw, model_only = make_raw(checkpoint, waves, args.threads)
    edgeperf, close = make_edgeperf(checkpoint, waves, args.threads, args.workers)
    from bench._offline import compare_rounds

    rounds, raw_sps, ep_sps, ratio, verdict, bare = compare_rounds(
        raw, edgeperf, close, args.rounds, TARGET_RATIO, number="8.3f", before_close=model_only
    )
    print()
    print(f"raw loop (features + model)  {raw_sps:9.3f} samples/s  (median of {len(rounds)})")
    print(
        f"edgeperf Offline             {ep_sps:9.3f} samples/s  (median of {len(rounds)}; LoadGen's 'Samples per second')"
    )
    print(f"edgeperf / raw               {ratio:9.3f}    target >= {TARGET_RATIO}: {verdict}")
    print(f"model only (features given)  {bare['samples_per_second']:9.3f} samples/s  (one pass, for scale)")
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "samples": args.samples,
                    "audio_seconds": seconds,
                    "threads": args.threads,
                    "workers": args.workers,
                    "small": args.small,
                    "blank_bias": bias,
                    "symbols_per_frame": reached,
                    "rounds": rounds,
                    "raw_samples_per_second": raw_sps,
                    "edgeperf_samples_per_second": ep_sps,
                    "ratio": ratio,
                    "model_only_samples_per_second": bare["samples_per_second"],
                    "target": TARGET_RATIO,
                    "verdict": verdict,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
