"""Model runners: onnxruntime (the default), torch, and any registered backend.

    from edgeperf.backends import get_backend, ModelSignature, TensorSpec

    sig = ModelSignature(
        inputs=(TensorSpec("input_tensor:0", "float32", ("N", 3, 224, 224)),),
        outputs=(TensorSpec("ArgMax:0", "int64", ("N",)),),
    )
    with get_backend("onnxruntime", threads=4) as backend:
        backend.load("resnet50_v1.onnx", sig)
        labels = backend.predict({"input_tensor:0": batch})["ArgMax:0"]

Importing this package imports neither onnxruntime nor torch.
"""

from .base import Backend, Dim, ModelSignature, TensorSpec, check_signature, compare_signatures, require_model_file
from .errors import (
    BackendConfigError,
    BackendError,
    BackendUnavailableError,
    Mismatch,
    ModelFileError,
    ModelMismatchError,
    PredictError,
)
from .registry import DEFAULT_BACKEND, available_backends, get_backend, register_backend

__all__ = [
    "Backend",
    "Dim",
    "TensorSpec",
    "ModelSignature",
    "compare_signatures",
    "check_signature",
    "require_model_file",
    "BackendError",
    "BackendUnavailableError",
    "BackendConfigError",
    "ModelFileError",
    "Mismatch",
    "ModelMismatchError",
    "PredictError",
    "DEFAULT_BACKEND",
    "available_backends",
    "get_backend",
    "register_backend",
]
