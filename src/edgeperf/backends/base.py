"""The backend interface: tensor specs, model signatures, signature checks and :class:`Backend`.

A backend runs one model. It is the plug-in point for every way of running a model, local
(onnxruntime, torch) or remote (a KServe v2 server, a Ray deployment), so the interface is kept
to four members that any of them can implement:

* ``name`` — the backend's registry name;
* ``load(model, signature)`` — open the model and check it against the expected signature;
* ``predict(feeds, outputs=None)`` — run one batch: named numpy arrays in, named numpy arrays out;
* ``close()`` — release the model (sessions, connections).

Nothing here assumes a local file: a remote backend's ``model`` is whatever names the model to
it (a URL, a model name). Each backend describes the model it found as a :class:`ModelSignature`
(from onnxruntime's metadata, a dry run, a server's metadata endpoint) and calls
:func:`check_signature`, so every backend reports mismatches the same way.
"""

from __future__ import annotations

import abc
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence, Union

import numpy as np

from .errors import Mismatch, ModelFileError, ModelMismatchError, PredictError

__all__ = [
    "Dim",
    "TensorSpec",
    "ModelSignature",
    "compare_signatures",
    "check_signature",
    "require_model_file",
    "Backend",
]

#: One dimension of a tensor shape: a fixed size, or ``None`` / a symbolic name for a dynamic one.
Dim = Union[int, str, None]


def _normalise_dtype(dtype) -> str:
    if isinstance(dtype, str):
        if dtype == "bfloat16" or "(" in dtype:
            return dtype  # no numpy type (bfloat16, an ONNX sequence or map): kept verbatim
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = None
        if name != dtype:
            hint = f" (numpy reads it as {name!r})" if name else ""
            raise ValueError(f"dtype must be a numpy dtype name such as 'float32' or 'int64', got {dtype!r}{hint}")
        return name
    try:
        return np.dtype(dtype).name
    except TypeError:
        raise ValueError(f"dtype must be a numpy dtype or its name, got {dtype!r}") from None


def _dim_text(d: Dim) -> str:
    return "?" if d is None else str(d)


@dataclass(frozen=True)
class TensorSpec:
    """A named tensor: its numpy dtype name and its shape.

    ``dtype`` is a numpy dtype name (``"float32"``, ``"uint8"``, ``"int64"``, ``"float16"``); a
    numpy dtype or type is accepted and normalised to its name. Other spellings are refused
    (``"float"`` is float64 to numpy but float32 to ONNX), except ``"bfloat16"`` and ONNX
    non-tensor types such as ``"seq(tensor(float))"``, kept verbatim and compared as text. ``shape`` holds one entry per
    dimension: an ``int`` for a fixed size, ``None`` or a string (a symbolic name such as ``"N"``)
    for a dynamic one.
    """

    name: str
    dtype: str
    shape: tuple[Dim, ...]

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"tensor name must be a non-empty string, got {self.name!r}")
        object.__setattr__(self, "dtype", _normalise_dtype(self.dtype))
        shape = tuple(self.shape)
        for d in shape:
            if d is None or isinstance(d, str):
                continue
            if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0:
                raise ValueError(f"tensor '{self.name}': each dimension must be an int >= 0, None or a name, got {d!r}")
        object.__setattr__(self, "shape", tuple(int(d) if isinstance(d, (int, np.integer)) else d for d in shape))

    @property
    def rank(self) -> int:
        """The number of dimensions."""
        return len(self.shape)

    def describe(self) -> str:
        """``float32[N,3,224,224]`` (``?`` for an unnamed dynamic dimension)."""
        return f"{self.dtype}[{','.join(_dim_text(d) for d in self.shape)}]"


@dataclass(frozen=True)
class ModelSignature:
    """A model's named inputs and outputs, in order (torch passes inputs positionally in this order)."""

    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    def __post_init__(self):
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "outputs", tuple(self.outputs))
        for kind, specs in (("input", self.inputs), ("output", self.outputs)):
            names = [s.name for s in specs]
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"signature has duplicate {kind} names: {', '.join(dup)}")

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.inputs)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.outputs)

    def input(self, name: str) -> TensorSpec:
        """The input called ``name`` (``KeyError`` if none)."""
        for s in self.inputs:
            if s.name == name:
                return s
        raise KeyError(name)

    def output(self, name: str) -> TensorSpec:
        """The output called ``name`` (``KeyError`` if none)."""
        for s in self.outputs:
            if s.name == name:
                return s
        raise KeyError(name)

    def describe(self) -> str:
        ins = ", ".join(f"'{s.name}' {s.describe()}" for s in self.inputs)
        outs = ", ".join(f"'{s.name}' {s.describe()}" for s in self.outputs)
        return f"inputs: {ins or '(none)'}; outputs: {outs or '(none)'}"


def _compare_tensor(kind: str, want: TensorSpec, got: TensorSpec) -> list[Mismatch]:
    out = []
    if want.dtype != got.dtype:
        out.append(Mismatch(kind, want.name, "dtype", want.dtype, got.dtype))
    if want.rank != got.rank:
        out.append(Mismatch(kind, want.name, "rank", f"{want.rank} {want.describe()}", f"{got.rank} {got.describe()}"))
        return out
    for i, (a, b) in enumerate(zip(want.shape, got.shape)):
        if isinstance(a, int) and isinstance(b, int) and a != b:
            out.append(Mismatch(kind, want.name, f"dim {i}", f"{a} in {want.describe()}", f"{b} in {got.describe()}"))
    return out


def compare_signatures(expected: ModelSignature, found: ModelSignature) -> list[Mismatch]:
    """Every way in which the model described by ``found`` does not fit ``expected``.

    * every expected input and output must be present in the model, with the same dtype and
      rank, and the same size in every dimension that both fix;
    * an input that the model requires but the signature does not name is a mismatch (it
      would never be fed); extra model outputs are fine (they are never requested);
    * a dimension dynamic on either side matches any size. (A model that fixes a dimension the
      signature leaves dynamic, e.g. a static batch of 1, is accepted; ``model_signature``
      tells the caller.)
    """
    mismatches: list[Mismatch] = []
    for kind, want_specs, got_specs in (
        ("input", expected.inputs, found.inputs),
        ("output", expected.outputs, found.outputs),
    ):
        got_by_name = {s.name: s for s in got_specs}
        for want in want_specs:
            got = got_by_name.get(want.name)
            if got is None:
                names = ", ".join(f"'{s.name}' {s.describe()}" for s in got_specs) or "none"
                mismatches.append(
                    Mismatch(
                        kind,
                        want.name,
                        "presence",
                        f"{kind} {want.describe()}",
                        f"no such {kind} (the model's {kind}s: {names})",
                    )
                )
            else:
                mismatches += _compare_tensor(kind, want, got)
        if kind == "input":
            wanted = set(expected.input_names)
            mismatches += [
                Mismatch(
                    "input",
                    got.name,
                    "presence",
                    "only the signature's inputs to be required",
                    f"the model also requires input {got.describe()}",
                )
                for got in found.inputs
                if got.name not in wanted
            ]
    return mismatches


def check_signature(model: str | os.PathLike, expected: ModelSignature, found: ModelSignature) -> None:
    """Raise :class:`ModelMismatchError` naming ``model`` and listing every mismatch, if any."""
    mismatches = compare_signatures(expected, found)
    if mismatches:
        raise ModelMismatchError(model, mismatches)


def require_model_file(path: str | os.PathLike) -> Path:
    """``path`` as a :class:`Path` if it is an existing regular file, else :class:`ModelFileError`."""
    p = Path(path)
    if not p.exists():
        raise ModelFileError(p, "no such file")
    if not p.is_file():
        raise ModelFileError(p, "not a regular file (a directory?)")
    return p


class Backend(abc.ABC):
    """Runs one model: ``load`` it against a signature, ``predict`` batches, ``close``.

    ``predict`` may be called from several threads at once, and returns a new dict of numpy
    arrays (batch dimension first, as the model produced them) for exactly the requested outputs.
    After ``load``, ``signature`` is the expected signature and ``model_signature`` what the
    model itself declares (which may fix a dimension that ``signature`` leaves dynamic, e.g. a
    static batch of 1, and may have extra outputs). A backend is a context manager that closes.

    Subclasses implement ``load``, ``predict`` and, if they hold resources, ``close``; the
    helpers ``_check_feeds`` and ``_output_names`` validate a call the same way everywhere.
    """

    #: The backend's name in the registry (``get_backend(name)``).
    name: str = "backend"

    signature: ModelSignature | None = None
    model_signature: ModelSignature | None = None
    #: The model as given to ``load`` (a path for local backends), for messages.
    model: str | None = None

    @abc.abstractmethod
    def load(self, model_path: str | os.PathLike, signature: ModelSignature) -> None:
        """Open the model and check it against ``signature``.

        Raises :class:`ModelFileError` if the model cannot be found or parsed and
        :class:`ModelMismatchError` (listing every difference) if it does not fit ``signature``.
        """

    @abc.abstractmethod
    def predict(self, feeds: Mapping[str, np.ndarray], outputs: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Run one batch: ``feeds`` maps every signature input name to an array; returns the
        requested ``outputs`` (default: every signature output) by name."""

    def close(self) -> None:
        """Release the model. ``predict`` fails after this; ``close`` may be called twice."""
        self.signature = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"model={self.model!r}" if self.signature is not None else "not loaded"
        return f"<{type(self).__name__} {self.name!r} {state}>"

    # -- helpers for subclasses -------------------------------------------------------------

    def _loaded_signature(self) -> ModelSignature:
        sig = self.signature
        if sig is None:
            raise PredictError(f"{self.name} backend: predict() called before load() or after close()")
        return sig

    def _output_names(self, outputs: Sequence[str] | None) -> list[str]:
        """The output names to return: ``outputs`` checked against the signature, or all of them."""
        sig = self._loaded_signature()
        if outputs is None:
            return list(sig.output_names)
        if isinstance(outputs, str):
            outputs = [outputs]
        known = sig.output_names
        unknown = [o for o in outputs if o not in known]
        if unknown:
            raise PredictError(
                f"model '{self.model}': unknown output name(s) {', '.join(repr(u) for u in unknown)}; "
                f"the signature's outputs are {', '.join(repr(k) for k in known)}"
            )
        return list(outputs)

    def _check_feeds(self, feeds: Mapping[str, np.ndarray]) -> None:
        """Every signature input fed, nothing else, each an ndarray of the signature's dtype and rank
        and of its fixed sizes; :class:`PredictError` listing every problem otherwise."""
        sig = self._loaded_signature()
        problems = []
        for spec in sig.inputs:
            arr = feeds.get(spec.name)
            if arr is None:
                problems.append(f"input '{spec.name}' is missing (expected {spec.describe()})")
                continue
            if not isinstance(arr, np.ndarray):
                problems.append(f"input '{spec.name}' must be a numpy array, got {type(arr).__name__}")
                continue
            if arr.dtype.name != spec.dtype:
                problems.append(f"input '{spec.name}': dtype {arr.dtype.name}, expected {spec.dtype}")
            if arr.ndim != spec.rank:
                problems.append(
                    f"input '{spec.name}': shape {list(arr.shape)}, expected rank {spec.rank} {spec.describe()}"
                )
            elif any(isinstance(d, int) and d != n for d, n in zip(spec.shape, arr.shape)):
                problems.append(f"input '{spec.name}': shape {list(arr.shape)}, expected {spec.describe()}")
        if len(feeds) != len(sig.inputs) or problems:
            names = set(sig.input_names)
            problems += [f"'{k}' is not an input of the signature" for k in feeds if k not in names]
        if problems:
            raise PredictError(f"model '{self.model}': bad feeds: " + "; ".join(problems))
