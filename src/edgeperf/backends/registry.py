"""The backend registry: ``get_backend(name, **options)``.

Built-in names are ``"onnxruntime"`` (the default) and ``"torch"``; their modules are imported
only when asked for, and the heavy library only when the backend is created, so a missing one
ends in a :class:`BackendUnavailableError` naming the extra to install. Other backends (a remote
KServe v2 or Ray one, a test double) plug in with :func:`register_backend`, or from another
installed package through the ``edgeperf.backends`` entry-point group (``name = "pkg.mod:Class"``).
"""

from __future__ import annotations

import importlib
import inspect
from typing import Callable, Union

from .base import Backend
from .errors import BackendConfigError

__all__ = ["DEFAULT_BACKEND", "ENTRY_POINT_GROUP", "register_backend", "available_backends", "get_backend"]

DEFAULT_BACKEND = "onnxruntime"
ENTRY_POINT_GROUP = "edgeperf.backends"

#: A factory: a callable returning a Backend, or "package.module:attribute" naming one.
Factory = Union[Callable[..., Backend], str]

_registry: dict[str, Factory] = {
    "onnxruntime": "edgeperf.backends.onnxruntime_backend:OnnxRuntimeBackend",
    "torch": "edgeperf.backends.torch_backend:TorchBackend",
}


def register_backend(name: str, factory: Factory, *, replace: bool = False) -> None:
    """Make ``get_backend(name, **options)`` call ``factory(**options)``.

    ``factory`` is a callable (usually a :class:`Backend` subclass) or a ``"module:attribute"``
    string, imported on first use. Registering a taken name needs ``replace=True``.
    """
    if not isinstance(name, str) or not name:
        raise BackendConfigError(f"backend name must be a non-empty string, got {name!r}")
    if not (callable(factory) or (isinstance(factory, str) and ":" in factory)):
        raise BackendConfigError(f"backend {name!r}: factory must be callable or 'module:attribute', got {factory!r}")
    if name in _registry and not replace:
        raise BackendConfigError(f"backend {name!r} is already registered (pass replace=True to replace it)")
    _registry[name] = factory


def _entry_points() -> dict:
    from importlib.metadata import entry_points

    try:
        return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    except Exception:  # a broken distribution's metadata must not break the built-in backends
        return {}


def available_backends() -> list[str]:
    """Every backend name known: built-in, registered and from entry points (installed or not)."""
    return sorted(set(_registry) | set(_entry_points()))


def _resolve(name: str, factory: Factory) -> Callable[..., Backend]:
    if callable(factory):
        return factory
    module_name, _, attr = factory.partition(":")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise BackendConfigError(f"backend {name!r}: module {module_name} has no attribute {attr!r}") from None


def get_backend(name: str = DEFAULT_BACKEND, **options) -> Backend:
    """A new, unloaded backend called ``name``, created with ``options``.

    ``get_backend("onnxruntime", threads=4)``; ``get_backend("torch", device="cpu")``. An unknown
    name or option is a :class:`BackendConfigError` listing the valid ones; a backend whose
    library is not installed is a :class:`BackendUnavailableError` naming the extra.
    """
    factory = _registry.get(name)
    if factory is None:
        ep = _entry_points().get(name)
        if ep is None:
            raise BackendConfigError(f"unknown backend {name!r}; known backends: {', '.join(available_backends())}")
        factory = ep.load()
    factory = _resolve(name, factory)
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        params = None
    if params is not None and not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        unknown = [k for k in options if k not in params]
        if unknown:
            valid = [k for k, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
            raise BackendConfigError(
                f"backend {name!r}: unknown option(s) {', '.join(repr(u) for u in unknown)}; "
                f"its options are: {', '.join(valid) or 'none'}"
            )
    return factory(**options)
