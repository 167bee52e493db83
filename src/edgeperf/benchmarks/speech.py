"""RNN-T on LibriSpeech dev-clean (spec benchmarks.md §7, §10).

The chain per sample, as the reference ``pytorch_SUT.py`` runs it inside the timed region:
waveform from the QSL → :class:`~edgeperf.datasets.librispeech.FilterbankFeatures` (float32
``[1, 240, T]``) → the model → greedy decoding → the label indices as int64 bytes (8 bytes per
symbol, an empty transcript is an empty response). One utterance per model call, as the reference
(batch size 1); ``--batch-size`` only groups utterances per runner call.

The model input/output, whichever backend runs it: ``features`` float32 ``[1, 240, T]`` in,
``tokens`` int64 ``[1, N]`` out. With the torch backend (the default) ``--model`` is the official
PyTorch checkpoint (``DistributedDataParallel_1576581068.9962234-epoch-100.pt``, or any
checkpoint with the reference's state-dict names; the sizes are read from it), which edgeperf
builds into the reference architecture and wraps in the reference greedy decoder
(:mod:`edgeperf.models.rnnt`); a TorchScript / pickled module mapping features to tokens is
used as it is. Other backends (remote, test oracles) load ``--model`` themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from ..backends.base import ModelSignature, TensorSpec
from .registry import BenchmarkDefinition, register, round_edge_scenarios, round_quality

#: Features per frame the model takes: 80 mel bands × 3 spliced frames.
FEATURES = 240
#: Output classes of the reference model: 28 labels and the blank (index 28).
NUM_CLASSES = 29

RNNT_SIGNATURE = ModelSignature(
    inputs=(TensorSpec("features", "float32", (None, FEATURES, None)),),
    outputs=(TensorSpec("tokens", "int64", (None, None)),),
)


def _open_librispeech(root, *, layout=None, cache_dir=None, count=None):
    from ..datasets.librispeech import LibrispeechDataset

    del layout, cache_dir  # one layout; waveforms are read whole, nothing worth caching
    return LibrispeechDataset(root, count=count)


def _open_qsl(bench: BenchmarkDefinition, dataset, perf_count: int):
    from ..datasets.librispeech import AudioQSL

    return AudioQSL(dataset, perf_count, name=f"{bench.name}-QSL")


def tokens_to_bytes(tokens: np.ndarray) -> bytes:
    """One utterance's label indices as the reference's response: int64, native (little-endian) order."""
    return np.ascontiguousarray(np.asarray(tokens).reshape(-1), dtype="<i8").tobytes()


def rnnt_postprocess(outputs: Mapping[str, np.ndarray], indices: np.ndarray) -> list[bytes]:
    """``tokens`` int64 ``[1, N]`` of one utterance → its response bytes."""
    tokens = np.asarray(outputs["tokens"])
    return [tokens_to_bytes(tokens[b]) for b in range(len(indices))]


def _make_runner(bench: BenchmarkDefinition, backend, qsl):
    from ..datasets.librispeech import FilterbankFeatures

    featurizer = FilterbankFeatures()
    name = bench.input_name()
    outputs = list(bench.requested_outputs)

    def run(indices: np.ndarray) -> list[bytes]:
        responses = []
        for index in np.asarray(indices).reshape(-1).tolist():
            features = featurizer(qsl.get(index))[np.newaxis]
            responses += bench.postprocess(backend.predict({name: features}, outputs), [index])
        return responses

    return run


def _load_model(bench: BenchmarkDefinition, backend, model_path: str) -> None:
    from ..backends.torch_backend import TorchBackend

    if not isinstance(backend, TorchBackend):
        backend.load(model_path, bench.signature)
        return
    module = load_rnnt_module(model_path)
    backend.load_module(module, bench.signature, name=str(model_path))


def load_rnnt_module(model_path):
    """``--model`` as a torch module mapping features ``[1, 240, T]`` to tokens ``[1, N]``.

    A checkpoint (the official one, or any with its state-dict names) becomes the reference RNN-T
    inside the reference greedy decoder; its sizes must give 240 input features and 29 classes.
    A file holding a module is used as it is (an RNN-T module is wrapped in the greedy decoder).
    Errors name the file: :class:`~edgeperf.backends.ModelFileError` for an unreadable file or an
    unfit checkpoint, :class:`~edgeperf.backends.ModelMismatchError` for wrong sizes.
    """
    from ..backends.errors import Mismatch, ModelFileError, ModelMismatchError
    from ..models import rnnt

    path = Path(model_path)
    try:
        loaded = rnnt.read_checkpoint(path)
        if not isinstance(loaded, Mapping):
            if all(hasattr(loaded, part) for part in ("encoder", "prediction", "joint")) and hasattr(loaded, "config"):
                return rnnt.greedy_decoder(loaded)
            return loaded
        config = rnnt.RNNTConfig.from_state_dict(loaded, path)
    except rnnt.RNNTCheckpointError as e:
        raise ModelFileError(path, e.reason) from None
    mismatches = []
    if config.in_features != FEATURES:
        mismatches.append(
            Mismatch(
                "model",
                "encoder.pre_rnn.lstm.weight_ih_l0",
                "input features",
                f"{FEATURES} (80 mel bands x 3 spliced frames)",
                str(config.in_features),
            )
        )
    if config.num_classes != NUM_CLASSES:
        mismatches.append(
            Mismatch(
                "model",
                "joint.net.3.weight",
                "output classes",
                f"{NUM_CLASSES} (28 labels and the blank)",
                str(config.num_classes),
            )
        )
    if mismatches:
        raise ModelMismatchError(path, mismatches)
    model = rnnt.build_rnnt(config)
    try:
        rnnt.load_state(model, loaded, path)
    except rnnt.RNNTCheckpointError as e:
        raise ModelFileError(path, e.reason) from None
    return rnnt.greedy_decoder(model.eval())


def _evaluate(log_path, dataset_root, **kw):
    from ..accuracy.wer import evaluate_wer

    return evaluate_wer(log_path, Path(dataset_root), **kw)


RNNT = register(
    BenchmarkDefinition(
        name="rnnt",
        config_model="rnnt",
        checker_model="rnnt",
        task="speech recognition (LibriSpeech dev-clean, utterances <= 15 s)",
        dataset_kind="librispeech",
        signature=RNNT_SIGNATURE,
        requested_outputs=("tokens",),
        layout="NCT",  # features [batch, 240, frames]
        max_batch=1,
        qsl_total=2513,
        qsl_performance_count=2513,
        quality=round_quality("rnnt", "wer"),
        server_latency_ms=1000,
        required_scenarios=round_edge_scenarios("rnnt"),
        open_dataset=_open_librispeech,
        postprocess=rnnt_postprocess,
        evaluate=_evaluate,
        notes="quality is accuracy = 100 - WER (%); response: int64 label indices (0 space, 1-26 a-z, 27 apostrophe)",
        open_qsl=_open_qsl,
        make_runner=_make_runner,
        load_model=_load_model,
        default_backend="torch",
    )
)
