"""The remote backend: a model served over the KServe v2 inference protocol (HTTP or gRPC).

Triton, KServe, MLServer and OpenVINO Model Server all speak this protocol. The backend talks to
them through tritonclient's maintained HTTP and gRPC clients:

* ``load(model_name, signature)`` waits for the server and the model to be ready, reads the
  model's metadata (``GET v2/models/<name>`` or ``ModelMetadata``) and checks it against the
  benchmark's signature, reporting every mismatch as the local backends do;
* ``predict(feeds, outputs)`` sends one request per call. Each calling thread gets its own client
  (tritonclient's clients are not meant to be shared between threads), so a pool of SUT workers
  gives asynchronous, bounded concurrency: at most one request in flight per worker;
* a request that times out or that the server answers with an error raises
  :class:`~edgeperf.backends.errors.PredictError` naming the model, the URL and the cause.

tritonclient is imported when the backend is created, never when this module is imported.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any, Mapping, Sequence
from urllib.parse import urlsplit

import numpy as np

from .base import Backend, ModelSignature, TensorSpec, check_signature
from .errors import BackendConfigError, BackendUnavailableError, ModelFileError, PredictError

__all__ = ["RemoteBackend", "RemoteModelError", "PROTOCOLS", "kserve_to_dtype", "dtype_to_kserve"]

PROTOCOLS = ("http", "grpc")
_INSTALL_HINT = "pip install 'edgeperf[remote]'"

# KServe v2 tensor data types (the protocol's "datatype" field) and numpy dtype names.
_KSERVE_TO_NUMPY = {
    "BOOL": "bool",
    "UINT8": "uint8",
    "UINT16": "uint16",
    "UINT32": "uint32",
    "UINT64": "uint64",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "FP16": "float16",
    "FP32": "float32",
    "FP64": "float64",
    "BYTES": "object",
}
_NUMPY_TO_KSERVE = {v: k for k, v in _KSERVE_TO_NUMPY.items()}


def kserve_to_dtype(datatype: str) -> str:
    """The numpy dtype name of a KServe v2 data type (``"FP32"`` → ``"float32"``); unknown types
    (``"BF16"``) are returned unchanged so that a signature check reports them as a mismatch."""
    return _KSERVE_TO_NUMPY.get(datatype, datatype)


def dtype_to_kserve(dtype: str) -> str:
    """The KServe v2 data type of a numpy dtype name (``"float32"`` → ``"FP32"``)."""
    try:
        return _NUMPY_TO_KSERVE[np.dtype(dtype).name]
    except (KeyError, TypeError):
        raise BackendConfigError(f"remote backend: numpy dtype {dtype!r} has no KServe v2 data type") from None


class RemoteModelError(ModelFileError):
    """The server cannot be reached, or does not serve the model (under that name or version)."""

    def __init__(self, model: str, url: str, reason: str):
        self.url = url
        super().__init__(model, reason)
        self.args = (f"remote model '{model}' at {url}: {reason}",)

    def __str__(self) -> str:
        return self.args[0]


def _import_client(protocol: str):
    try:
        if protocol == "grpc":
            import tritonclient.grpc as client
        else:
            import tritonclient.http as client
        from tritonclient.utils import InferenceServerException
    except ImportError as e:
        raise BackendUnavailableError(
            f"the 'remote' backend needs tritonclient, which is not installed ({e}); install it with: {_INSTALL_HINT}"
        ) from e
    return client, InferenceServerException


def _server_address(url: str, protocol: str) -> str:
    """tritonclient wants ``host:port`` without a scheme; accept ``http://host:port`` too."""
    if not isinstance(url, str) or not url.strip():
        raise BackendConfigError("remote backend: --url is required (for example 127.0.0.1:8000)")
    text = url.strip()
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "grpc"):
            raise BackendConfigError(f"remote backend: URL scheme must be http:// or grpc:// (or none), got {url!r}")
        if parts.path not in ("", "/"):
            raise BackendConfigError(f"remote backend: URL must be host:port without a path, got {url!r}")
        text = parts.netloc
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BackendConfigError(f"remote backend: URL must be host:port with a port in 1-65535, got {url!r}")
    return text


class RemoteBackend(Backend):
    """Runs a model on a KServe v2 inference server.

    ``url``: the server's ``host:port`` (an ``http://`` or ``grpc://`` prefix is accepted);
    ``protocol``: ``"http"`` (JSON, the protocol's REST form) or ``"grpc"`` (binary tensors);
    ``timeout``: seconds one request may take before it fails; ``ready_timeout``: seconds ``load``
    waits for the server and the model to be ready; ``model_version``: a version to pin ("" =
    the server's choice). ``threads`` and ``providers`` belong to local backends and are refused
    when set, so a command line that mixes them up says so.
    """

    name = "remote"

    def __init__(
        self,
        url: str = "",
        *,
        protocol: str = "http",
        timeout: float = 30.0,
        ready_timeout: float = 30.0,
        model_version: str = "",
        threads: int | None = None,
        providers: Any = None,
    ):
        if protocol not in PROTOCOLS:
            raise BackendConfigError(
                f"remote backend: protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}"
            )
        for option, value in (("timeout", timeout), ("ready_timeout", ready_timeout)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < value < float("inf")):
                raise BackendConfigError(
                    f"remote backend: {option} must be a positive number of seconds, got {value!r}"
                )
        if threads is not None or providers:
            raise BackendConfigError(
                "remote backend: --threads and --providers configure a local model; the server decides how it runs the model"
            )
        self.protocol = protocol
        self.address = _server_address(url, protocol)
        self.timeout = float(timeout)
        self.ready_timeout = float(ready_timeout)
        self.model_version = str(model_version)
        self._client_module, self._server_error = _import_client(protocol)
        self._local = threading.local()
        self._clients: list[Any] = []
        self._clients_lock = threading.Lock()
        self._warming = False

    # -- connections --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"{self.protocol}://{self.address}"

    def _new_client(self, timeout: float):
        if self.protocol == "grpc":
            client = self._client_module.InferenceServerClient(self.address)
        else:  # the HTTP client's timeouts are fixed when it is made
            client = self._client_module.InferenceServerClient(
                self.address, connection_timeout=timeout, network_timeout=timeout
            )
        with self._clients_lock:
            self._clients.append(client)
        return client

    @contextlib.contextmanager
    def warming_up(self):
        """Requests made inside this block get ``ready_timeout`` instead of ``timeout``: a server's
        first requests may wait for its own warm-up (lazy model initialisation, autotuning)."""
        self._warming = True
        try:
            yield self
        finally:
            self._warming = False

    def _client(self):
        """This thread's client for inference requests (``timeout`` applies)."""
        if self._warming:
            return self._control_client()
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._new_client(self.timeout)
        return client

    def _control_client(self):
        """A client for readiness and metadata, whose calls get ``ready_timeout``."""
        client = getattr(self, "_control", None)
        if client is None:
            client = self._control = self._new_client(self.ready_timeout)
        return client

    def _wait_ready(self, model: str) -> None:
        deadline = time.monotonic() + self.ready_timeout
        last: str = "no answer"
        while True:
            try:
                client = self._control_client()
                if not client.is_server_live():
                    last = "the server is not live"
                elif not client.is_model_ready(model, self.model_version):
                    last = f"model {model!r} is not ready"
                    client.get_model_metadata(model, self.model_version)  # raises "not found" for a model it lacks
                else:
                    return
            except self._server_error as exc:
                last = _describe(exc)
                if "not found" in last.lower():  # a live server that does not know the model: final
                    raise RemoteModelError(model, self.url, f"the server does not serve it ({last})") from None
            except Exception as exc:  # connection refused, DNS, TLS: all mean "not reachable yet"
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() >= deadline:
                raise RemoteModelError(model, self.url, f"not ready after {self.ready_timeout:g} s: {last}")
            time.sleep(0.2)

    # -- the Backend interface ----------------------------------------------------------------------

    def load(self, model_path, signature: ModelSignature) -> None:
        """Wait for the server, read the model's metadata and check it against ``signature``.

        ``model_path`` is the model's name on the server."""
        model = str(model_path)
        if not model:
            raise BackendConfigError("remote backend: the model name on the server is required (--model-name)")
        self.model = model
        self._wait_ready(model)
        try:
            meta = self._control_client().get_model_metadata(model, self.model_version)
        except self._server_error as exc:
            raise RemoteModelError(model, self.url, f"the metadata request failed: {_describe(exc)}") from None
        found = _signature_from_metadata(meta)
        check_signature(f"{model} at {self.url}", signature, found)
        self.signature = signature
        self.model_signature = found

    def predict(self, feeds: Mapping[str, np.ndarray], outputs: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """One inference request; its outputs as numpy arrays, by name."""
        names = self._output_names(outputs)
        self._check_feeds(feeds)
        sig = self._loaded_signature()
        mod = self._client_module
        inputs = []
        for spec in sig.inputs:
            array = np.ascontiguousarray(feeds[spec.name])
            tensor = mod.InferInput(spec.name, list(array.shape), dtype_to_kserve(array.dtype.name))
            if self.protocol == "grpc":
                tensor.set_data_from_numpy(array)
            else:
                tensor.set_data_from_numpy(array, binary_data=False)  # MLServer's REST side is JSON only
            inputs.append(tensor)
        if self.protocol == "grpc":
            requested = [mod.InferRequestedOutput(n) for n in names]
        else:
            requested = [mod.InferRequestedOutput(n, binary_data=False) for n in names]
        try:
            if self.protocol == "grpc":
                timeout = self.ready_timeout if self._warming else self.timeout
                result = self._client().infer(
                    self.model, inputs, model_version=self.model_version, outputs=requested, client_timeout=timeout
                )
            else:
                result = self._client().infer(self.model, inputs, model_version=self.model_version, outputs=requested)
        except self._server_error as exc:
            raise PredictError(f"model '{self.model}' at {self.url}: {_describe(exc)}") from None
        except Exception as exc:  # the connection dropped, the socket timed out
            raise PredictError(f"model '{self.model}' at {self.url}: {_describe(exc)}") from None
        out: dict[str, np.ndarray] = {}
        for n in names:
            value = result.as_numpy(n)
            if value is None:
                raise PredictError(f"model '{self.model}' at {self.url}: the response has no output '{n}'")
            out[n] = value
        return out

    def close(self) -> None:
        with self._clients_lock:
            clients, self._clients = self._clients, []
        for client in clients:
            try:
                client.close()
            except Exception:  # closing a dead connection must not hide the run's own outcome
                pass
        self._local = threading.local()
        self._control = None
        super().close()


def _describe(exc: BaseException) -> str:
    """A one-line cause: tritonclient's message, with timeouts named as such."""
    text = getattr(exc, "message", None)
    text = text() if callable(text) else text
    text = str(text or exc).strip().replace("\n", " ")
    lowered = f"{type(exc).__name__} {text}".lower()
    if "deadline" in lowered or "timed out" in lowered or "timeout" in lowered:
        return f"request timed out ({text})"
    return text or type(exc).__name__


def _signature_from_metadata(meta: Any) -> ModelSignature:
    """A :class:`ModelSignature` from KServe v2 model metadata (the HTTP client's dict or the gRPC
    client's protobuf message); a ``-1`` dimension is dynamic."""

    def tensors(items) -> tuple[TensorSpec, ...]:
        specs = []
        for t in items:
            if isinstance(t, Mapping):
                name, datatype, shape = t["name"], t["datatype"], t.get("shape", [])
            else:
                name, datatype, shape = t.name, t.datatype, list(t.shape)
            dims = tuple(None if int(d) < 0 else int(d) for d in shape)
            specs.append(TensorSpec(name, kserve_to_dtype(datatype), dims))
        return tuple(specs)

    if isinstance(meta, Mapping):
        return ModelSignature(tensors(meta.get("inputs", [])), tensors(meta.get("outputs", [])))
    return ModelSignature(tensors(meta.inputs), tensors(meta.outputs))
