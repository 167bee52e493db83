"""The onnxruntime backend (the default): runs an ``.onnx`` file in an ``InferenceSession``.

Session options are set for benchmarking: every graph optimisation, sequential execution of
the graph (parallelism comes from the intra-op thread pool and from the SUT's workers calling
``predict`` concurrently, which onnxruntime sessions allow), and only errors logged.
onnxruntime is imported when a backend is created, never when this module is imported.
"""

from __future__ import annotations

import os
from typing import Mapping, Sequence

import numpy as np

from .base import Backend, ModelSignature, TensorSpec, check_signature, require_model_file
from .errors import BackendConfigError, BackendUnavailableError, ModelFileError, PredictError

__all__ = ["OnnxRuntimeBackend", "ort_type_to_dtype"]

_INSTALL_HINT = "pip install 'edgeperf[vision]'"

# onnxruntime's NodeArg.type strings → numpy dtype names.
_ORT_TYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(bfloat16)": "bfloat16",
    "tensor(int8)": "int8",
    "tensor(int16)": "int16",
    "tensor(int32)": "int32",
    "tensor(int64)": "int64",
    "tensor(uint8)": "uint8",
    "tensor(uint16)": "uint16",
    "tensor(uint32)": "uint32",
    "tensor(uint64)": "uint64",
    "tensor(bool)": "bool",
    "tensor(string)": "object",
}


def ort_type_to_dtype(ort_type: str) -> str:
    """The numpy dtype name of an onnxruntime type string (``"tensor(float)"`` → ``"float32"``);
    a type with no numpy equivalent (a sequence, a map) is returned unchanged."""
    return _ORT_TYPES.get(ort_type, ort_type)


def _import_onnxruntime():
    try:
        import onnxruntime
    except ImportError as e:
        raise BackendUnavailableError(
            f"the 'onnxruntime' backend needs the onnxruntime package, which is not installed ({e}); "
            f"install it with: {_INSTALL_HINT}"
        ) from e
    return onnxruntime


def _check_threads(option: str, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise BackendConfigError(
            f"onnxruntime backend: {option} must be an int >= 0 (0 = onnxruntime's default), got {value!r}"
        )
    return int(value)


def _default_providers(available: Sequence[str]) -> list[str]:
    # A GPU build without an explicit provider list is an error in onnxruntime >= 1.9; use the
    # GPU when there is one, the CPU always as the fallback for unsupported nodes.
    preferred = [p for p in ("CUDAExecutionProvider", "ROCMExecutionProvider") if p in available]
    return preferred[:1] + ["CPUExecutionProvider"]


class OnnxRuntimeBackend(Backend):
    """Runs an ONNX model with onnxruntime.

    ``threads``: intra-op threads (``None`` or 0: onnxruntime's default, one per core);
    ``inter_op_threads``: inter-op threads (only used by parallel execution, kept for
    completeness); ``providers``: execution providers in priority order, each a name or a
    ``(name, options)`` pair as onnxruntime takes them (default: CUDA when this onnxruntime
    build has it, then CPU). Names are checked against ``onnxruntime.get_available_providers()``
    here and, when given explicitly, against the session after loading, because onnxruntime
    silently falls back to the CPU when a requested provider fails to start (a GPU build on a
    machine without a GPU); with the default list that fallback is accepted.
    """

    name = "onnxruntime"

    def __init__(
        self,
        threads: int | None = None,
        providers: Sequence[str | tuple[str, dict]] | None = None,
        inter_op_threads: int | None = None,
    ):
        self._ort = _import_onnxruntime()
        self.threads = _check_threads("threads", threads)
        self.inter_op_threads = _check_threads("inter_op_threads", inter_op_threads)
        available = list(self._ort.get_available_providers())
        self._explicit_providers = providers is not None
        if providers is None:
            providers = _default_providers(available)
        if isinstance(providers, str):
            providers = [providers]
        names = []
        for p in providers:
            pname = p[0] if isinstance(p, (tuple, list)) else p
            if not isinstance(pname, str):
                raise BackendConfigError(
                    f"onnxruntime backend: a provider must be a name or a (name, options) pair, got {p!r}"
                )
            names.append(pname)
        unknown = [n for n in names if n not in available]
        if unknown:
            raise BackendConfigError(
                f"onnxruntime backend: execution provider(s) {', '.join(repr(u) for u in unknown)} not available "
                f"in this onnxruntime build (available: {', '.join(available)}); a GPU provider needs the "
                "matching onnxruntime build, e.g. onnxruntime-gpu for CUDAExecutionProvider"
            )
        self.providers = [tuple(p) if isinstance(p, list) else p for p in providers]
        self._provider_names = names
        self._session = None
        self._default_outputs: list[str] = []

    @property
    def session(self):
        """The underlying ``onnxruntime.InferenceSession`` (``None`` before ``load``)."""
        return self._session

    def _session_options(self):
        so = self._ort.SessionOptions()
        so.graph_optimization_level = self._ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.execution_mode = self._ort.ExecutionMode.ORT_SEQUENTIAL
        so.log_severity_level = 4  # fatal only: a failing node is reported in the PredictError raised, once
        if self.threads is not None:
            so.intra_op_num_threads = self.threads
        if self.inter_op_threads is not None:
            so.inter_op_num_threads = self.inter_op_threads
        return so

    def load(self, model_path: str | os.PathLike, signature: ModelSignature) -> None:
        path = require_model_file(model_path)
        try:
            session = self._ort.InferenceSession(
                str(path), sess_options=self._session_options(), providers=self.providers
            )
        except Exception as e:  # onnxruntime raises its own exception types (InvalidProtobuf, Fail, ...)
            raise ModelFileError(path, f"onnxruntime cannot load it: {e}") from e
        active = session.get_providers()
        missing = [n for n in self._provider_names if n not in active]
        if missing and self._explicit_providers:
            raise BackendConfigError(
                f"onnxruntime backend: execution provider(s) {', '.join(missing)} failed to start for model "
                f"'{path}' (session runs on: {', '.join(active)})"
            )
        found = ModelSignature(
            inputs=tuple(TensorSpec(a.name, ort_type_to_dtype(a.type), tuple(a.shape)) for a in session.get_inputs()),
            outputs=tuple(TensorSpec(a.name, ort_type_to_dtype(a.type), tuple(a.shape)) for a in session.get_outputs()),
        )
        check_signature(path, signature, found)
        self.model = str(path)
        self.model_signature = found
        self._default_outputs = list(signature.output_names)
        self._session = session
        self.signature = signature

    def predict(self, feeds: Mapping[str, np.ndarray], outputs: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        session = self._session
        names = self._output_names(outputs)
        self._check_feeds(feeds)
        try:
            results = session.run(names, dict(feeds))
        except Exception as e:
            raise PredictError(f"model '{self.model}': onnxruntime failed: {e}") from e
        return dict(zip(names, results))

    def close(self) -> None:
        self._session = None
        super().close()
