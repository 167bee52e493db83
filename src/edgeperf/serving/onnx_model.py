"""An MLServer runtime that runs an ONNX file with onnxruntime.

MLServer loads it by its import path (``edgeperf.serving.onnx_model.OnnxModel``) with the model
file as the model settings' ``parameters.uri``. On load it describes the model's inputs and
outputs from the ONNX graph, so the server's metadata endpoint tells a client the real signature
(a dynamic dimension is ``-1``, as the protocol wants). Responses keep each output's own shape:
MLServer's default NumPy codec would add a dimension to a rank-1 output, which would no longer
match the model's metadata.
"""

from __future__ import annotations

import asyncio

import numpy as np
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.errors import MLServerError
from mlserver.types import InferenceRequest, InferenceResponse, MetadataTensor, ResponseOutput

from ..backends.onnxruntime_backend import ort_type_to_dtype
from ..backends.remote import dtype_to_kserve


class OnnxModel(MLModel):
    """One ONNX model in one onnxruntime session; requests run one at a time in a worker thread
    (onnxruntime uses every core for one batch, and the event loop stays free for I/O)."""

    async def load(self) -> bool:
        import onnxruntime

        uri = self.settings.parameters.uri if self.settings.parameters else None
        if not uri:
            raise MLServerError(f"model {self.name!r}: no ONNX file given (parameters.uri)")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(uri, options, providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._outputs = [o.name for o in self._session.get_outputs()]
        self.settings.inputs = [_metadata(t) for t in self._session.get_inputs()]
        self.settings.outputs = [_metadata(t) for t in self._session.get_outputs()]
        self._lock = asyncio.Lock()
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        feeds = {}
        for request_input in payload.inputs:
            if request_input.name not in self._inputs:
                raise MLServerError(
                    f"model {self.name!r} has no input {request_input.name!r}; its inputs: {self._inputs}"
                )
            feeds[request_input.name] = NumpyCodec.decode_input(request_input)
        missing = [n for n in self._inputs if n not in feeds]
        if missing:
            raise MLServerError(f"model {self.name!r}: missing input(s) {missing}")
        wanted = [o.name for o in payload.outputs] if payload.outputs else list(self._outputs)
        unknown = [n for n in wanted if n not in self._outputs]
        if unknown:
            raise MLServerError(f"model {self.name!r} has no output(s) {unknown}; its outputs: {self._outputs}")
        async with self._lock:
            results = await asyncio.to_thread(self._session.run, wanted, feeds)
        return InferenceResponse(
            model_name=self.name,
            model_version=self.version,
            id=payload.id,
            outputs=[_output(name, np.asarray(value)) for name, value in zip(wanted, results)],
        )


def _metadata(node) -> MetadataTensor:
    dims = [d if isinstance(d, int) and d >= 0 else -1 for d in node.shape]
    return MetadataTensor(name=node.name, datatype=dtype_to_kserve(ort_type_to_dtype(node.type)), shape=dims)


def _output(name: str, value: np.ndarray) -> ResponseOutput:
    return ResponseOutput(
        name=name, shape=list(value.shape), datatype=dtype_to_kserve(value.dtype.name), data=value.ravel().tolist()
    )
