"""BERT Offline throughput: edgeperf's bert-99 Offline run against raw onnxruntime.

Usage (from the repository root, with edgeperf importable: ``pip install -e '.[vision]'`` plus
``pip install onnx tokenizers``, or ``PYTHONPATH=src``)::

    python -m bench.bert_offline                            # BERT-shaped, 2 layers, 128 samples, 3 rounds
    python -m bench.bert_offline --model standin            # the tiny bert_standin (edgeperf overhead only)
    python -m bench.bert_offline --layers 24 --hidden 1024 --heads 16 --samples 16   # BERT-Large compute
    python -m bench.bert_offline --json results.json

What runs:

* **model** — ``shaped`` (default): a BERT encoder built by this script with random weights —
  word/position/type embeddings, ``--layers`` transformer layers (``--hidden``, ``--heads``,
  4×hidden feed-forward with exact GELU, post-LayerNorm, additive -10000 attention mask) and the
  SQuAD head (hidden → 2 → start/end logits) — with bert-99's official I/O (``input_ids``,
  ``input_mask``, ``segment_ids`` int64 [N,384] → ``output_start_logits``,
  ``output_end_logits`` float32 [N,384]), saved in ``--work-dir`` and reused. ``standin``:
  ``edgeperf.testing.onnx_standins.bert_standin`` (a few element-wise ops), which shows edgeperf's
  own per-batch cost.
* **data** — ``--samples`` SQuAD-like features: seeded random token ids, a question of 8-30
  pieces and a context filling 120-384 positions, segment ids and mask as the reference builds
  them, zero padding.
* **edgeperf** — what ``edgeperf run bert-99 --scenario Offline`` runs, minus files on disk:
  ``SquadQSL`` over the features (every sample loaded), the onnxruntime backend (``threads``), the
  benchmark's runner (``get_batch`` → ``predict`` → ``bert_postprocess``: interleaved float32
  [384,2] per sample), ``WorkerPoolSUT`` answering through ``complete_arrays``, and ``start_test``
  in Offline PerformanceOnly with one query of ``--samples`` samples. Figure: LoadGen's "Samples
  per second".
* **raw** — the same model in its own ``InferenceSession`` with the same options and threads, a
  plain loop of ``session.run`` over consecutive batches of the same three arrays.

Both are warmed up (two batches); each round runs raw then edgeperf; medians are compared.
Target (issue 5): edgeperf ≥ 0.95× raw. See bench/README.md for the last results.
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
SEQ = 384
VOCAB = 30522


class ArrayFeatures:
    """What SquadQSL reads from a dataset: ``features.input_ids``/``input_mask``/``segment_ids``."""

    name = "bench-squad"

    def __init__(self, input_ids, input_mask, segment_ids):
        self.features = self
        self.input_ids, self.input_mask, self.segment_ids = input_ids, input_mask, segment_ids

    def __len__(self) -> int:
        return len(self.input_ids)


def squad_like_features(n: int, seed: int = 0) -> ArrayFeatures:
    """``n`` features laid out as the reference builds them: [CLS] q [SEP] context [SEP], zero padding."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((n, SEQ), np.int64)
    mask = np.zeros((n, SEQ), np.int64)
    seg = np.zeros((n, SEQ), np.int64)
    for i in range(n):
        q = int(rng.integers(8, 31))
        total = int(rng.integers(max(120, q + 10), SEQ + 1))
        ids[i, :total] = rng.integers(1000, VOCAB, total)
        ids[i, 0], ids[i, q + 1], ids[i, total - 1] = 101, 102, 102
        mask[i, :total] = 1
        seg[i, q + 2 : total] = 1
    return ArrayFeatures(ids, mask, seg)


def build_shaped(path: Path, layers: int, hidden: int, heads: int, seed: int = 0) -> Path:
    """A random-weight BERT encoder + SQuAD head with bert-99's official I/O."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    if hidden % heads:
        raise SystemExit(f"--hidden {hidden} is not a multiple of --heads {heads}")
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    count = [0]

    def name(prefix):
        count[0] += 1
        return f"{prefix}_{count[0]}"

    def const(array, prefix="w"):
        n = name(prefix)
        inits.append(numpy_helper.from_array(np.asarray(array), n))
        return n

    def weight(*shape):
        return const((rng.standard_normal(shape) * 0.02).astype(np.float32))

    def op(kind, inputs, output=None, **attrs):
        output = output or name(kind.lower())
        nodes.append(helper.make_node(kind, list(inputs), [output], **attrs))
        return output

    def layer_norm(x):
        return op(
            "LayerNormalization",
            [x, const(np.ones(hidden, np.float32)), const(np.zeros(hidden, np.float32))],
            axis=-1,
            epsilon=1e-12,
        )

    def dense(x, n_in, n_out):
        return op("Add", [op("MatMul", [x, weight(n_in, n_out)]), const(np.zeros(n_out, np.float32))])

    head = hidden // heads
    x = op(
        "Add", [op("Gather", [weight(VOCAB, hidden), "input_ids"]), op("Gather", [weight(2, hidden), "segment_ids"])]
    )
    x = layer_norm(op("Add", [x, const((rng.standard_normal((SEQ, hidden)) * 0.02).astype(np.float32))]))
    # additive attention mask [N, 1, 1, S]: 0 for tokens, -10000 for padding
    m = op("Cast", ["input_mask"], to=TensorProto.FLOAT)
    m = op("Mul", [op("Sub", [m, const(np.float32(1))]), const(np.float32(10000))])
    m = op("Unsqueeze", [m, const(np.array([1, 2], np.int64))])
    split_heads = const(np.array([0, SEQ, heads, head], np.int64))
    merge_heads = const(np.array([0, SEQ, hidden], np.int64))
    scale = const(np.float32(1.0 / np.sqrt(head)))
    for _ in range(layers):

        def heads_of(t):
            return op("Transpose", [op("Reshape", [t, split_heads])], perm=[0, 2, 1, 3])

        q, k, v = (heads_of(dense(x, hidden, hidden)) for _ in range(3))
        scores = op("Add", [op("Mul", [op("MatMul", [q, op("Transpose", [k], perm=[0, 1, 3, 2])]), scale]), m])
        context = op("MatMul", [op("Softmax", [scores], axis=-1), v])
        context = op("Reshape", [op("Transpose", [context], perm=[0, 2, 1, 3]), merge_heads])
        x = layer_norm(op("Add", [x, dense(context, hidden, hidden)]))
        inner = dense(x, hidden, 4 * hidden)
        gelu = op(
            "Mul",
            [
                op("Mul", [inner, const(np.float32(0.5))]),
                op("Add", [op("Erf", [op("Mul", [inner, const(np.float32(1 / np.sqrt(2)))])]), const(np.float32(1))]),
            ],
        )
        x = layer_norm(op("Add", [x, dense(gelu, 4 * hidden, hidden)]))
    logits = dense(x, hidden, 2)  # [N, S, 2]
    nodes.append(helper.make_node("Split", [logits, const(np.array([1, 1], np.int64))], ["start3", "end3"], axis=-1))
    op("Squeeze", ["start3", const(np.array([-1], np.int64))], "output_start_logits")
    op("Squeeze", ["end3", const(np.array([-1], np.int64))], "output_end_logits")
    graph = helper.make_graph(
        nodes,
        "bert_shaped",
        [
            helper.make_tensor_value_info(n, TensorProto.INT64, ["N", SEQ])
            for n in ("input_ids", "input_mask", "segment_ids")
        ],
        [
            helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", SEQ])
            for n in ("output_start_logits", "output_end_logits")
        ],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, str(path))
    return path


def build_model(work: Path, kind: str, layers: int, hidden: int, heads: int) -> Path:
    if kind == "standin":
        from edgeperf.testing.onnx_standins import bert_standin

        path = work / "bert_standin.onnx"
        return path if path.exists() else bert_standin(path)
    path = work / f"bert_shaped_l{layers}_h{hidden}_a{heads}.onnx"
    if not path.exists():
        t = time.perf_counter()
        build_shaped(path, layers, hidden, heads)
        print(f"built {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s", flush=True)
    return path


def make_edgeperf(model: Path, data: ArrayFeatures, threads: int, batch_size: int, workers: int):
    """Everything ``edgeperf run bert-99`` builds for an Offline run; returns (run_once, close)."""
    from edgeperf.backends import get_backend
    from edgeperf.benchmarks import get_benchmark
    from edgeperf.datasets.squad import SquadQSL
    from edgeperf.loadgen.enums import TestMode, TestScenario
    from edgeperf.loadgen.settings import TestSettings
    from edgeperf.sut.pool import WorkerPoolSUT

    bench = get_benchmark("bert-99")
    n = len(data)
    qsl = SquadQSL(data, n, name="bert-99-QSL")
    backend = get_backend("onnxruntime", threads=threads)
    backend.load(str(model), bench.signature)
    runner = bench.make_runner(bench, backend, qsl)
    sut = WorkerPoolSUT(runner, workers=workers, batch_size=batch_size, name="edgeperf-bert-99-onnxruntime")
    settings = TestSettings(
        scenario=TestScenario.Offline,
        mode=TestMode.PerformanceOnly,
        min_duration_ms=0,
        min_query_count=n,
        offline_expected_qps=1.0,
        performance_sample_count_override=n,
    )
    logs = tempfile.TemporaryDirectory(prefix="edgeperf-bench-bert-")
    warm = np.arange(min(batch_size, n))
    qsl.load_samples_to_ram(warm)
    try:
        for _ in range(2):
            runner(warm)
    finally:
        qsl.unload_samples_from_ram(warm)

    from bench._offline import edgeperf_offline

    run_once, close = edgeperf_offline(sut, qsl, settings, backend, logs)

    return run_once, close


def make_raw(model: Path, data: ArrayFeatures, threads: int, batch_size: int):
    """A plain onnxruntime loop over the same three arrays; returns run_once."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.intra_op_num_threads = threads
    so.log_severity_level = 3
    session = ort.InferenceSession(str(model), sess_options=so, providers=["CPUExecutionProvider"])
    outputs = ["output_start_logits", "output_end_logits"]
    n = len(data)

    def feeds(lo, hi):
        return {
            "input_ids": data.input_ids[lo:hi],
            "input_mask": data.input_mask[lo:hi],
            "segment_ids": data.segment_ids[lo:hi],
        }

    for _ in range(2):
        session.run(outputs, feeds(0, batch_size))

    def run_once() -> dict:
        t = time.perf_counter()
        for lo in range(0, n, batch_size):
            session.run(outputs, feeds(lo, lo + batch_size))
        elapsed = time.perf_counter() - t
        return {"samples": n, "samples_per_second": n / elapsed, "seconds": elapsed}

    return run_once


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=("shaped", "standin"), default="shaped")
    ap.add_argument("--samples", type=int, default=128, help="samples per measurement (default 128)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads (default 2)")
    ap.add_argument("--workers", type=int, default=1, help="WorkerPoolSUT workers (default 1)")
    ap.add_argument("--rounds", type=int, default=3, help="raw + edgeperf measurements each; medians compared")
    ap.add_argument("--layers", type=int, default=2, help="shaped model: transformer layers (BERT-Large: 24)")
    ap.add_argument("--hidden", type=int, default=768, help="shaped model: hidden size (BERT-Large: 1024)")
    ap.add_argument("--heads", type=int, default=12, help="shaped model: attention heads (BERT-Large: 16)")
    ap.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "edgeperf-bench-bert")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)

    import onnxruntime as ort

    args.work_dir.mkdir(parents=True, exist_ok=True)
    model = build_model(args.work_dir, args.model, args.layers, args.hidden, args.heads)
    data = squad_like_features(args.samples)
    what = (
        "bert_standin"
        if args.model == "standin"
        else f"BERT-shaped ({args.layers} layers, hidden {args.hidden}, {args.heads} heads)"
    )
    print(
        f"{what}, {args.samples} SQuAD-like features; {args.threads} threads, batch {args.batch_size}, "
        f"{args.workers} worker(s), {args.rounds} round(s); onnxruntime {ort.__version__}, numpy {np.__version__}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs",
        flush=True,
    )
    raw = make_raw(model, data, args.threads, args.batch_size)
    edgeperf, close = make_edgeperf(model, data, args.threads, args.batch_size, args.workers)
    from bench._offline import compare_rounds

    rounds, raw_sps, ep_sps, ratio, verdict, _ = compare_rounds(
        raw, edgeperf, close, args.rounds, TARGET_RATIO, number="10.2f"
    )
    print()
    print(f"raw onnxruntime   {raw_sps:10.2f} samples/s  (median of {len(rounds)})")
    print(f"edgeperf Offline  {ep_sps:10.2f} samples/s  (median of {len(rounds)}; LoadGen's 'Samples per second')")
    print(f"edgeperf / raw    {ratio:10.3f}    target >= {TARGET_RATIO}: {verdict}")
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "model": what,
                    "samples": args.samples,
                    "batch_size": args.batch_size,
                    "threads": args.threads,
                    "workers": args.workers,
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
