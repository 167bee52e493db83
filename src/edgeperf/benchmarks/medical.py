"""3D-UNet on BraTS 2019: ``3d-unet-99`` and ``3d-unet-99.9`` (spec benchmarks.md §6, §10).

One sample is one whole preprocessed case, float32 ``[4, 224, 224, 160]`` (channels T1, T1ce, T2,
FLAIR; spatial axes z, y, x), fed as ``input`` ``[1, 4, 224, 224, 160]``. Of the model's outputs
(the official ONNX graph has five deep-supervision heads) only the one named ``output`` is read:
logits ``[1, 4, 224, 224, 160]``, whose batch axis is dropped and which are cast to **float16**,
C order: 64 225 280 bytes per response. No sliding window, no mirroring.

The padded patch the data set is checked against follows the model: a model whose ``input`` fixes
its spatial size (the official one: 224 × 224 × 160) sets it, so stand-in models may use a smaller
patch for tests (the data set must then have been preprocessed to that patch too). A model with
dynamic spatial axes gets the reference's 224 × 224 × 160.

Samples are fed from the QSL's memory without a copy (one case per model call; the official
model has a static batch of 1), and the float16 response is handed to LoadGen as a memoryview,
which LoadGen copies only for a sample it logs.
"""

from __future__ import annotations

import functools

import numpy as np

from ..backends.base import ModelSignature, TensorSpec
from ..backends.errors import Mismatch, ModelMismatchError
from .registry import BenchmarkDefinition, register, round_edge_scenarios, round_quality

#: The padded patch (z, y, x) of the MLPerf model.
PATCH = (224, 224, 160)
INPUT_NAME = "input"
OUTPUT_NAME = "output"

UNET3D_SIGNATURE = ModelSignature(
    inputs=(TensorSpec(INPUT_NAME, "float32", (1, 4, *PATCH)),),
    outputs=(TensorSpec(OUTPUT_NAME, "float32", (1, 4, *PATCH)),),
)
#: What a model is checked against when loaded: names, dtypes, ranks and the 4 channels; the
#: spatial size is then matched with the data set (see the module docstring).
_LOAD_SIGNATURE = ModelSignature(
    inputs=(TensorSpec(INPUT_NAME, "float32", (1, 4, "D", "H", "W")),),
    outputs=(TensorSpec(OUTPUT_NAME, "float32", (1, 4, "D", "H", "W")),),
)


def unet3d_response(logits: np.ndarray) -> memoryview:
    """The reference response of one case: its ``[4, z, y, x]`` logits as float16 bytes, C order."""
    half = np.ascontiguousarray(logits, dtype=np.float16)
    return memoryview(half).cast("B")


def unet3d_postprocess(outputs: dict[str, np.ndarray], indices: np.ndarray) -> list[memoryview]:
    """One float16 response per sample of the batch, from the ``output`` tensor only (§6.d)."""
    logits = outputs[OUTPUT_NAME]
    return [unet3d_response(logits[b]) for b in range(len(indices))]


def _model_patch(backend) -> tuple[int, int, int] | None:
    """The spatial size the model's ``input`` fixes, or None when it is dynamic."""
    found = getattr(backend, "model_signature", None)
    if found is None:
        return None
    try:
        dims = found.input(INPUT_NAME).shape[2:]
    except KeyError:
        return None
    return tuple(dims) if len(dims) == 3 and all(isinstance(d, int) for d in dims) else None


def load_unet3d(bench: BenchmarkDefinition, backend, model_path: str) -> None:
    """Load the model checking names, dtypes, ranks and channels, and that ``output`` has the
    spatial size of ``input`` where the model fixes both."""
    backend.load(model_path, _LOAD_SIGNATURE)
    found = getattr(backend, "model_signature", None)
    if found is None:
        return
    try:
        inp, out = found.input(INPUT_NAME).shape, found.output(OUTPUT_NAME).shape
    except KeyError:
        return
    mismatches = [
        Mismatch("output", OUTPUT_NAME, f"dim {axis}", f"{a} (as input '{INPUT_NAME}')", str(b))
        for axis, (a, b) in enumerate(zip(inp, out))
        if axis >= 2 and isinstance(a, int) and isinstance(b, int) and a != b
    ]
    if mismatches:
        raise ModelMismatchError(model_path, mismatches)


def make_unet3d_runner(bench: BenchmarkDefinition, backend, qsl):
    """One model call per case, fed straight from the QSL's memory; float16 responses."""
    dataset = getattr(qsl, "dataset", None)
    patch = _model_patch(backend)
    if patch is not None and hasattr(dataset, "patch_size"):
        dataset.patch_size = patch
        dataset.patch_source = f"the input size of model '{getattr(backend, 'model', None) or '?'}'"
    outputs = [OUTPUT_NAME]

    def run(indices: np.ndarray) -> list:
        responses = []
        for index in np.asarray(indices).tolist():
            volume = qsl.get(int(index))[None]  # a view of the loaded sample: no copy
            result = backend.predict({INPUT_NAME: volume}, outputs)[OUTPUT_NAME]
            # LoadGen reads a response only when it logs the sample; deferring the float16 cast of
            # 32 M logits keeps it out of performance runs, where nothing is logged (§2.9).
            responses.append(functools.partial(unet3d_response, result[0]))
        return responses

    return run


def _open_brats(root, *, layout=None, cache_dir=None, count=None):
    """The preprocessed cases (``layout`` and ``cache_dir`` do not apply: the pickles are the cache)."""
    from ..datasets.brats import BratsDataset

    return BratsDataset(root, count=count)


def _evaluate_brats(log_path, dataset_root, count=None, **kw):
    from ..accuracy.brats import evaluate_brats

    return evaluate_brats(log_path, dataset_root, count=count, **kw)


def _unet3d(name: str) -> BenchmarkDefinition:
    return BenchmarkDefinition(
        name=name,
        config_model="3d-unet",
        checker_model=name,
        task="medical image segmentation (BraTS 2019, fold 1)",
        dataset_kind="brats",
        signature=UNET3D_SIGNATURE,
        requested_outputs=(OUTPUT_NAME,),
        layout="NCDHW",
        max_batch=1,
        qsl_total=67,
        qsl_performance_count=16,
        # The reference mean DICE (0.853) of the FP32 model: whole 0.9141, core 0.8679, enhancing 0.7770.
        quality=round_quality(name, "dice", unit=""),
        server_latency_ms=10,  # mlperf.conf v1.1 has no 3d-unet Server entry: the *.Server default
        required_scenarios=round_edge_scenarios(name),
        open_dataset=_open_brats,
        postprocess=unet3d_postprocess,
        evaluate=_evaluate_brats,
        make_runner=make_unet3d_runner,
        load_model=load_unet3d,
        notes="response: float16 logits [4,224,224,160] (64 MB); only the 'output' tensor is read",
    )


UNET3D_99 = register(_unet3d("3d-unet-99"))
UNET3D_99_9 = register(_unet3d("3d-unet-99.9"))

__all__ = [
    "UNET3D_99",
    "UNET3D_99_9",
    "UNET3D_SIGNATURE",
    "PATCH",
    "unet3d_response",
    "unet3d_postprocess",
    "load_unet3d",
    "make_unet3d_runner",
]
