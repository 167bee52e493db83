"""BERT-Large on SQuAD v1.1: ``bert-99`` and ``bert-99.9`` (spec benchmarks.md §1, §8, §10).

A sample is one SQuAD feature: three int64 ``[384]`` inputs (``input_ids``, ``input_mask``,
``segment_ids``). The model answers ``output_start_logits`` and ``output_end_logits``, float32
``[N, 384]``; the response of one sample is both stacked on a last axis, float32 ``[384, 2]`` in C
order — start₀, end₀, start₁, end₁, … (3 072 bytes), as the reference SUT sends it (§8.d).

``--dataset`` is a folder holding ``dev-v1.1.json`` and ``vocab.txt`` (or the reference's
``build/data`` folder, with the vocabulary in ``bert_tf_v1_1_large_fp32_384_v2/``). Tokenisation
needs the ``tokenizers`` package (the ``language`` extra).

bert-99.9 has the same model, data and Server bound; only the quality target differs (99.9 % of
the FP32 F1). v1.1 Edge does not list it, so it has no required Edge scenarios.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable

import numpy as np

from ..backends.base import ModelSignature, TensorSpec
from .registry import BenchmarkDefinition, register, round_edge_scenarios, round_quality

SEQ_LEN = 384
BERT_INPUTS = ("input_ids", "input_mask", "segment_ids")
BERT_OUTPUTS = ("output_start_logits", "output_end_logits")
#: FP32 reference F1 of BERT-Large on the SQuAD v1.1 dev set (percent).

BERT_SIGNATURE = ModelSignature(
    inputs=tuple(TensorSpec(name, "int64", (None, SEQ_LEN)) for name in BERT_INPUTS),
    outputs=tuple(TensorSpec(name, "float32", (None, SEQ_LEN)) for name in BERT_OUTPUTS),
)


def bert_postprocess(outputs: dict[str, np.ndarray], indices: np.ndarray) -> list[bytes]:
    """Start and end logits interleaved per position: float32 ``[384, 2]`` per sample (§8.d)."""
    start = np.asarray(outputs["output_start_logits"])
    end = np.asarray(outputs["output_end_logits"])
    stacked = np.empty(start.shape + (2,), dtype="<f4")
    stacked[..., 0] = start
    stacked[..., 1] = end
    return [stacked[i].tobytes() for i in range(len(indices))]


def make_bert_runner(bench: BenchmarkDefinition, backend, qsl) -> Callable[[np.ndarray], list[bytes]]:
    """QSL indices → the three input batches → model → interleaved logits, one response per sample."""
    outputs = list(bench.requested_outputs)
    postprocess = bench.postprocess

    def run(indices: np.ndarray) -> list[bytes]:
        return postprocess(backend.predict(qsl.get_batch(indices), outputs), indices)

    return run


# -- datasets: one full SquadDataset kept per files, so a run and its scoring tokenise once --------

_CACHE_LOCK = threading.Lock()
_CACHE: dict[tuple, object] = {}


def _stamp(path: Path) -> tuple:
    st = os.stat(path)
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def _full_dataset(root):
    """The complete SquadDataset of ``root``, reused while its files are unchanged."""
    from ..datasets.squad import SquadDataset, locate_squad_files

    json_path, vocab_path = locate_squad_files(root)
    try:
        key = (_stamp(json_path), _stamp(vocab_path))
    except OSError:
        key = None  # let SquadDataset report the missing file
    with _CACHE_LOCK:
        cached = _CACHE.get(key) if key is not None else None
    if cached is not None:
        return cached
    dataset = SquadDataset(root)
    if key is not None:
        with _CACHE_LOCK:
            _CACHE.clear()  # one data set at a time: the full dev set holds ~150 MB of arrays
            _CACHE[key] = dataset
    return dataset


def _open_squad(root, *, layout=None, cache_dir=None, count=None):
    """``open_dataset``: the whole dev set, or its first ``count`` features (``--max-samples``)."""
    del layout, cache_dir  # features are built in memory in seconds; nothing to cache on disk
    if count is None:
        return _full_dataset(root)
    from ..datasets.squad import SquadDataset

    return SquadDataset(root, count=count)


def _open_squad_qsl(bench: BenchmarkDefinition, dataset, perf_count: int):
    from ..datasets.squad import SquadQSL

    return SquadQSL(dataset, perf_count, name=f"{bench.name}-QSL")


def _evaluate_squad(log_path, dataset_root, *, count=None, **kw):
    """Score a log over every question; with ``count`` (the run's ``--max-samples``), only over the
    questions whose features are among the first ``count`` (the rest were never run)."""
    from ..accuracy.squad import evaluate_squad

    dataset = _full_dataset(dataset_root)
    if count is not None and "max_examples" not in kw:
        last = min(int(count), len(dataset)) - 1
        kw["max_examples"] = int(dataset.features.example_index[last]) + 1 if last >= 0 else 0
    return evaluate_squad(log_path, dataset, **kw)


def _bert(name: str, notes: str) -> BenchmarkDefinition:
    return BenchmarkDefinition(
        name=name,
        config_model="bert",
        checker_model=name,
        task="question answering (SQuAD v1.1 dev, max_seq_len 384)",
        dataset_kind="squad-v1.1",
        signature=BERT_SIGNATURE,
        requested_outputs=BERT_OUTPUTS,
        layout="NS",  # batch × sequence; not an image layout (the dataset ignores it)
        max_batch=8,
        qsl_total=10833,
        qsl_performance_count=10833,
        quality=round_quality(name, "squad_f1"),
        server_latency_ms=130,
        required_scenarios=round_edge_scenarios(name),
        open_dataset=_open_squad,
        postprocess=bert_postprocess,
        evaluate=_evaluate_squad,
        notes=notes,
        open_qsl=_open_squad_qsl,
        make_runner=make_bert_runner,
    )


BERT_99 = register(_bert("bert-99", ""))
BERT_99_9 = register(_bert("bert-99.9", "not an Edge benchmark in v1.1: no required Edge scenarios"))
