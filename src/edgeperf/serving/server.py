"""Start MLServer with one ONNX model (what ``edgeperf serve-model`` runs).

MLServer always opens both protocol endpoints; ``port`` is the one for ``protocol`` and the other
gets a free port of its own (both are printed). The server runs in this process (no worker pool,
no metrics endpoint) and stops on SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import EdgeperfError

__all__ = ["ServeOptions", "ServeError", "serve_model", "free_port"]

_INSTALL_HINT = "pip install 'edgeperf[serve]'"


class ServeError(EdgeperfError, ValueError):
    """The model cannot be served as asked (no such file, a taken port, MLServer missing)."""


@dataclass(frozen=True)
class ServeOptions:
    """What to serve and where."""

    model: Path
    port: int
    protocol: str = "http"
    name: str | None = None
    host: str = "127.0.0.1"

    @property
    def model_name(self) -> str:
        """The name clients use: ``name``, or the model file's stem."""
        return self.name or self.model.stem


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _check(opts: ServeOptions) -> None:
    if opts.protocol not in ("http", "grpc"):
        raise ServeError(f"--protocol must be http or grpc, got {opts.protocol!r}")
    if not opts.model.is_file():
        what = "is a folder, not an ONNX file" if opts.model.is_dir() else "does not exist"
        raise ServeError(f"model file '{opts.model}' {what}")
    if not 0 < opts.port < 65536:
        raise ServeError(f"--port must be in 1-65535, got {opts.port}")
    if not opts.model_name or "/" in opts.model_name:
        raise ServeError(f"the model name must be non-empty and contain no '/', got {opts.model_name!r}")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((opts.host, opts.port))
        except OSError as exc:
            raise ServeError(f"cannot listen on {opts.host}:{opts.port}: {exc.strerror or exc}") from None


def serve_model(opts: ServeOptions, announce: Callable[[str], None] = print) -> None:
    """Serve ``opts.model`` until interrupted; ``announce`` receives the lines to show the user."""
    _check(opts)
    try:
        from mlserver import MLServer
        from mlserver.settings import ModelParameters, ModelSettings, Settings
    except ImportError as e:
        raise ServeError(
            f"serving a model needs MLServer, which is not installed ({e}); install it with: {_INSTALL_HINT}"
        ) from e
    other = free_port(opts.host)
    http_port, grpc_port = (opts.port, other) if opts.protocol == "http" else (other, opts.port)
    settings = Settings(
        host=opts.host,
        http_port=http_port,
        grpc_port=grpc_port,
        parallel_workers=0,
        grpc_max_message_length=2**31 - 1,  # a batch of 32 ImageNet samples is 19 MB; the default is 4 MB
        metrics_endpoint=None,
        load_models_at_startup=False,
        model_repository_root=str(opts.model.resolve().parent),
    )
    model_settings = ModelSettings(
        name=opts.model_name,
        implementation="edgeperf.serving.onnx_model.OnnxModel",
        parameters=ModelParameters(uri=str(opts.model.resolve())),
    )
    announce(
        f"edgeperf: serving {opts.model} as model '{opts.model_name}' over KServe v2: "
        f"http://{opts.host}:{http_port} (HTTP), {opts.host}:{grpc_port} (gRPC); Ctrl-C stops it"
    )

    async def main() -> None:
        server = MLServer(settings)
        await server.start([model_settings])

    asyncio.run(main())
