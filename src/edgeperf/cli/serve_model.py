"""``edgeperf serve-model``: an ONNX model behind the KServe v2 protocol (MLServer)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def serve_model(
    model: Path = typer.Argument(..., help="The ONNX model file to serve."),
    port: int = typer.Option(
        8000, "--port", help="Port for the chosen protocol (the other protocol gets a free port)."
    ),
    protocol: str = typer.Option("http", "--protocol", help="http or grpc: which endpoint --port is for."),
    name: Optional[str] = typer.Option(None, "--name", help="Model name clients use (default: the file's stem)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
) -> None:
    """Serve an ONNX model over the KServe v2 inference protocol, HTTP and gRPC, until Ctrl-C."""
    from ..serving.server import ServeOptions
    from ..serving.server import serve_model as run_server
    from .errors import user_errors

    with user_errors():
        run_server(
            ServeOptions(model=model, port=port, protocol=protocol, name=name, host=host),
            announce=lambda line: print(line, flush=True),
        )
