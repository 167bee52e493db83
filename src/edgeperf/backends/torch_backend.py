"""The torch backend: runs a TorchScript file, a ``torch.export`` archive, a pickled ``nn.Module``,
or a module object.

Inputs are passed to the module positionally, in the signature's input order. What the module
returns is mapped to the signature's output names: a single tensor → the only output; a tuple
or list → the outputs in order (extra trailing elements, such as 3D-UNet's deep-supervision
heads, are ignored); a dict (or ``ModelOutput``) → by key.

A torch module declares no dtypes or shapes, so the signature is checked by running it: at load
time on zeros of the signature's input shapes when every input dimension is fixed, except at most
a leading dynamic batch dimension (run as 1); otherwise on the first ``predict``. Either way the
mismatches are reported like the ONNX backend's, all at once. torch is imported when a backend is
created, never when this module is imported.

``torch.load`` of a pickled module runs code from the file: load only files you trust.
"""

from __future__ import annotations

import inspect
import os
import threading
import warnings
from typing import Any, Mapping, Sequence

import numpy as np

from .base import Backend, ModelSignature, TensorSpec, compare_signatures, require_model_file
from .errors import (
    BackendConfigError,
    BackendUnavailableError,
    Mismatch,
    ModelFileError,
    ModelMismatchError,
    PredictError,
)

__all__ = ["TorchBackend"]

_INSTALL_HINT = "pip install 'edgeperf[torch]'"


def _import_torch():
    try:
        import torch
    except ImportError as e:
        raise BackendUnavailableError(
            f"the 'torch' backend needs the torch package, which is not installed ({e}); install it with: {_INSTALL_HINT}"
        ) from e
    return torch


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"


class TorchBackend(Backend):
    """Runs a torch module on ``device``.

    ``threads`` sets torch's intra-op thread count, which is process-wide in torch
    (``torch.set_num_threads``): the last backend created wins. ``dry_run=False`` skips the
    load-time forward pass (the check then happens on the first ``predict``).
    """

    name = "torch"

    def __init__(self, threads: int | None = None, device: str = "cpu", dry_run: bool = True):
        self._torch = torch = _import_torch()
        if threads is not None:
            if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
                raise BackendConfigError(f"torch backend: threads must be an int >= 1, got {threads!r}")
            torch.set_num_threads(int(threads))
        self.threads = threads
        try:
            self.device = torch.device(device)
        except (RuntimeError, TypeError) as e:
            raise BackendConfigError(f"torch backend: bad device {device!r}: {e}") from e
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise BackendConfigError(
                f"torch backend: device {device!r} requested but this torch build sees no CUDA device"
            )
        self.dry_run = dry_run
        self._module = None
        self._validated = False
        self._lock = threading.Lock()

    # -- loading ----------------------------------------------------------------------------

    def load(self, model_path: str | os.PathLike, signature: ModelSignature) -> None:
        """Load a TorchScript file (``torch.jit.save``), a ``torch.export`` archive
        (``torch.export.save``, usually ``.pt2``) or a file holding a pickled ``nn.Module``
        (``torch.save(module)``), then check it against ``signature``."""
        torch = self._torch
        path = require_model_file(model_path)
        loaders = [
            ("as TorchScript (torch.jit.load)", lambda: torch.jit.load(str(path), map_location=self.device)),
            ("as an exported program (torch.export.load)", lambda: torch.export.load(str(path)).module()),
            (
                "as a pickled module (torch.load)",
                lambda: torch.load(str(path), map_location=self.device, weights_only=False),
            ),
        ]
        if path.suffix == ".pt2":
            loaders.insert(0, loaders.pop(1))
        errors = []
        for how, loader in loaders:
            try:
                with warnings.catch_warnings():
                    # TorchScript is deprecated in torch >= 2.10, but it is how many models ship.
                    warnings.simplefilter("ignore", DeprecationWarning)
                    module = loader()
                break
            except Exception as e:
                errors.append(f"{how}: {_first_line(e)}")
        else:
            raise ModelFileError(path, "torch cannot load it; tried " + "; ".join(errors))
        if not isinstance(module, torch.nn.Module):
            what = "a state dict" if isinstance(module, Mapping) else f"a {type(module).__name__}"
            raise ModelFileError(
                path,
                f"holds {what}, not a torch module; build the module, load its weights, and pass it to "
                "TorchBackend.load_module(module, signature)",
            )
        self._set_module(module, signature, str(path))

    def load_module(self, module, signature: ModelSignature, *, name: str | None = None) -> None:
        """Use ``module`` (an ``nn.Module`` or TorchScript module) directly, checked like a file.
        ``name`` names it in messages (default: its class name)."""
        torch = self._torch
        if not isinstance(module, torch.nn.Module):
            raise BackendConfigError(
                f"torch backend: load_module() needs a torch.nn.Module, got {type(module).__name__}"
            )
        self._set_module(module, signature, name or f"<{type(module).__name__}>")

    def _set_module(self, module, signature: ModelSignature, label: str) -> None:
        module = module.to(self.device)
        try:
            module.eval()
        except NotImplementedError:  # modules from torch.export have no train/eval modes
            pass
        mismatches = self._check_arity(module, signature)
        validated = False
        if not mismatches and self.dry_run:
            shapes = self._dry_run_shapes(signature)
            if shapes is not None:
                mismatches = self._dry_run(module, signature, shapes)
                validated = True
        if mismatches:
            raise ModelMismatchError(label, mismatches)
        self.model = label
        self._module = module
        self._validated = validated
        self.signature = signature
        self.model_signature = signature  # a torch module declares no signature of its own

    @staticmethod
    def _check_arity(module, signature: ModelSignature) -> list[Mismatch]:
        """The forward method must accept one positional argument per signature input."""
        try:
            params = list(inspect.signature(module.forward).parameters.values())
        except (TypeError, ValueError):
            try:  # TorchScript: the compiled schema, whose first argument is self
                args = module.forward.schema.arguments[1:]
            except Exception:
                return []
            n_max = n_min = len(args)
            n_min -= sum(1 for a in args if a.default_value is not None)
        else:
            if params and params[0].name == "self":
                params = params[1:]
            if any(p.kind == p.VAR_POSITIONAL for p in params):
                return []
            positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            n_max = len(positional)
            n_min = sum(1 for p in positional if p.default is p.empty)
        n = len(signature.inputs)
        if n_min <= n <= n_max:
            return []
        takes = f"{n_min}" if n_min == n_max else f"{n_min} to {n_max}"
        return [
            Mismatch(
                "model",
                "forward",
                "positional arguments",
                f"{n} (one per input: {', '.join(signature.input_names)})",
                f"forward() takes {takes}",
            )
        ]

    @staticmethod
    def _dry_run_shapes(signature: ModelSignature) -> list[tuple[int, ...]] | None:
        shapes = []
        for spec in signature.inputs:
            shape = list(spec.shape)
            if shape and not isinstance(shape[0], int):
                shape[0] = 1
            if not all(isinstance(d, int) for d in shape):
                return None
            shapes.append(tuple(shape))
        return shapes

    def _dry_run(self, module, signature: ModelSignature, shapes) -> list[Mismatch]:
        torch = self._torch
        try:
            args = [
                torch.from_numpy(np.zeros(shape, spec.dtype)).to(self.device)
                for spec, shape in zip(signature.inputs, shapes)
            ]
            with torch.inference_mode():
                raw = module(*args)
        except Exception as e:
            feeds = ", ".join(f"'{s.name}' {s.dtype}{list(shape)}" for s, shape in zip(signature.inputs, shapes))
            return [
                Mismatch(
                    "model", "forward", "dry run on zeros", f"a forward pass on {feeds} to succeed", _first_line(e)
                )
            ]
        mapped, mismatches = self._map_outputs(raw, signature)
        if mismatches:
            return mismatches
        return self._check_outputs(mapped, signature)

    # -- outputs ----------------------------------------------------------------------------

    def _map_outputs(self, raw: Any, signature: ModelSignature) -> tuple[dict[str, Any], list[Mismatch]]:
        torch = self._torch
        names = signature.output_names
        if isinstance(raw, torch.Tensor):
            if len(names) == 1:
                return {names[0]: raw}, []
            return {}, [
                Mismatch("model", "forward", "outputs", f"{len(names)} tensors ({', '.join(names)})", "a single tensor")
            ]
        if isinstance(raw, Mapping):
            missing = [n for n in names if n not in raw]
            if missing:
                keys = ", ".join(repr(k) for k in raw)
                return {}, [
                    Mismatch("output", n, "presence", "a key of the returned dict", f"no such key (keys: {keys})")
                    for n in missing
                ]
            return {n: raw[n] for n in names}, []
        if isinstance(raw, (tuple, list)):
            if len(raw) < len(names):
                return {}, [
                    Mismatch(
                        "model",
                        "forward",
                        "outputs",
                        f"at least {len(names)} ({', '.join(names)})",
                        f"a {type(raw).__name__} of {len(raw)}",
                    )
                ]
            return dict(zip(names, raw)), []
        return {}, [
            Mismatch(
                "model", "forward", "outputs", "a tensor, a tuple/list or a dict of tensors", f"a {type(raw).__name__}"
            )
        ]

    def _check_outputs(self, mapped: Mapping[str, Any], signature: ModelSignature) -> list[Mismatch]:
        """Dtype, rank and fixed sizes of the mapped outputs against the signature's."""
        torch = self._torch
        mismatches = []
        expected, found = [], []
        for spec in signature.outputs:
            t = mapped[spec.name]
            if not isinstance(t, torch.Tensor):
                mismatches.append(Mismatch("output", spec.name, "type", "a tensor", f"a {type(t).__name__}"))
                continue
            expected.append(spec)
            found.append(TensorSpec(spec.name, str(t.dtype).removeprefix("torch."), tuple(t.shape)))
        return mismatches + compare_signatures(ModelSignature((), tuple(expected)), ModelSignature((), tuple(found)))

    # -- running ----------------------------------------------------------------------------

    def predict(self, feeds: Mapping[str, np.ndarray], outputs: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        torch = self._torch
        module = self._module
        names = self._output_names(outputs)
        self._check_feeds(feeds)
        signature = self.signature
        args = []
        for spec in signature.inputs:
            a = feeds[spec.name]
            if not (a.flags.writeable and a.flags.c_contiguous):
                a = np.array(a, order="C")  # from_numpy needs a writeable array it can share
            args.append(torch.from_numpy(a).to(self.device))
        try:
            with torch.inference_mode():
                raw = module(*args)
        except Exception as e:
            raise PredictError(f"model '{self.model}': torch forward failed: {_first_line(e)}") from e
        mapped, mismatches = self._map_outputs(raw, signature)
        if not self._validated:
            with self._lock:
                if not self._validated:
                    mismatches = mismatches or self._check_outputs(mapped, signature)
                    if mismatches:
                        raise ModelMismatchError(self.model, mismatches)
                    self._validated = True
        elif mismatches:
            raise ModelMismatchError(self.model, mismatches)
        return {n: mapped[n].detach().cpu().numpy() for n in names}

    def close(self) -> None:
        self._module = None
        super().close()
