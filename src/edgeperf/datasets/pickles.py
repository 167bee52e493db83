"""The one safe reader of the pickles that datasets and accuracy scripts must read.

The preprocessed-BraTS files of the 3D-UNet reference (``preprocessed_files.pkl``, one
``<case>.pkl`` per case) are pickles, and a pickle can run code. :func:`load_pickle` admits only
the globals in one allow-list (:func:`allowed_global`): numpy arrays, scalars and dtypes under the
module names numpy 1 and 2 write them with, and plain containers. Anything else is refused with
``pickle.UnpicklingError``.

``skip_over=N`` reads a pickle's small values but not its large byte payloads (a case file is one
128 MB volume plus a few numbers): a payload of more than ``N`` bytes is seeked over, and an
array whose data was skipped comes back as a :class:`SkippedArray` with its shape and dtype. This
uses only the public ``pickle.Unpickler``: the unpickler reads a large payload outside any frame
with the file's ``readinto``, and the file wrapper here moves past it instead of filling the buffer.
"""

from __future__ import annotations

import builtins
import collections
import functools
import io
import os
import pickle
from typing import Any, Callable, Optional, Sequence

import numpy as np

__all__ = ["SkippedArray", "allowed_global", "load_pickle"]


class SkippedArray:
    """An array from a pickle whose data was not read (``skip_over``): its shape and dtype."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: Sequence[int], dtype: np.dtype) -> None:
        self.shape = tuple(int(s) for s in shape)
        self.dtype = dtype

    def __repr__(self) -> str:
        return f"SkippedArray(shape={self.shape}, dtype={self.dtype})"


_BUILTINS = ("set", "frozenset", "slice", "complex", "bytearray", "range")


@functools.cache
def _numpy_globals() -> dict[tuple[str, str], Any]:
    """numpy's pickle helpers under every module name numpy 1 and 2 write them with."""
    reconstruct = np.zeros(1).__reduce__()[0]
    scalar = np.float64(0).__reduce__()[0]
    frombuffer = np.zeros(1).__reduce_ex__(5)[0]
    allowed: dict[tuple[str, str], Any] = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    for core in ("numpy.core", "numpy._core"):
        allowed[(f"{core}.multiarray", "_reconstruct")] = reconstruct
        allowed[(f"{core}.multiarray", "scalar")] = scalar
        allowed[(f"{core}.numeric", "_frombuffer")] = frombuffer
    return allowed


def allowed_global(module: str, name: str) -> Any:
    """The object a pickle may name as ``module.name``; ``UnpicklingError`` for anything else."""
    if module in ("builtins", "__builtin__") and name in _BUILTINS:
        return getattr(builtins, name)
    if (module, name) == ("collections", "OrderedDict"):
        return collections.OrderedDict
    if (module, name) == ("_codecs", "encode"):  # protocol 2 writes bytes through it
        import codecs

        return codecs.encode
    if module == "numpy.dtypes" and name.endswith("DType"):  # numpy >= 1.25 dtype classes
        import numpy.dtypes as dtypes

        return getattr(dtypes, name)
    found = _numpy_globals().get((module, name))
    if found is None:
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name}: only numpy arrays and plain containers are allowed")
    return found


# ------------------------------------------------------------------------------- skipping reads


class _PartialArray:
    """Stands for an ndarray while a skipping load runs (numpy's ``_reconstruct`` + ``__setstate__``)."""

    def __init__(self, skip_over: int) -> None:
        self.skip_over = skip_over
        self.value: Any = None

    def __setstate__(self, state: tuple) -> None:
        _version, shape, dtype, fortran, raw = state
        self.value = _array_or_skipped(raw, dtype, shape, "F" if fortran else "C", self.skip_over)


def _array_or_skipped(raw: Any, dtype: Any, shape: Sequence[int], order: str, skip_over: int) -> Any:
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise pickle.UnpicklingError("object arrays are not allowed")
    if isinstance(raw, str):  # protocol 2 from Python 2: latin-1 text
        raw = raw.encode("latin-1")
    if len(raw) > skip_over:  # the reader moved past these bytes: their content is not the data
        return SkippedArray(shape, dtype)
    return np.frombuffer(raw, dtype=dtype).copy().reshape(tuple(shape), order=order)


class _SkippingFile(io.RawIOBase):
    """A read-only view of a binary file whose ``readinto`` of more than ``skip_over`` bytes seeks."""

    def __init__(self, file: io.BufferedReader, skip_over: int) -> None:
        super().__init__()
        self._file = file
        self._skip_over = skip_over

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def readline(self, size: Optional[int] = -1) -> bytes:
        return self._file.readline(-1 if size is None else size)

    def readinto(self, buffer: Any) -> int:
        n = memoryview(buffer).nbytes
        if n > self._skip_over:
            self._file.seek(n, io.SEEK_CUR)
            return n
        return self._file.readinto(buffer)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: Any, find: Callable[[str, str], Any]) -> None:
        super().__init__(file)
        self._find = find

    def find_class(self, module: str, name: str) -> Any:
        return self._find(module, name)


def _skipping_find(skip_over: int) -> Callable[[str, str], Any]:
    def find(module: str, name: str) -> Any:
        found = allowed_global(module, name)
        if name == "_reconstruct":  # ndarray.__reduce__: the data comes with __setstate__
            return lambda *args: _PartialArray(skip_over)
        if name == "_frombuffer":  # protocol 5: the data comes as the first argument
            return lambda buffer, dtype, shape, order: _array_or_skipped(buffer, dtype, shape, order, skip_over)
        return found

    return find


def _resolve(obj: Any) -> Any:
    """Replace the stand-ins of a skipping load by their arrays (or :class:`SkippedArray`)."""
    if isinstance(obj, _PartialArray):
        return obj.value
    if isinstance(obj, dict):
        return type(obj)((k, _resolve(v)) for k, v in obj.items())
    if isinstance(obj, list):
        return [_resolve(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_resolve(v) for v in obj)
    return obj


def load_pickle(path: str | os.PathLike, *, skip_over: Optional[int] = None) -> Any:
    """Unpickle ``path`` admitting only :func:`allowed_global`'s globals.

    With ``skip_over``, byte payloads larger than that are not read (see the module docstring).
    Raises what opening and reading the file raise (``OSError``) and ``pickle.UnpicklingError``
    (or ``EOFError``, ``ValueError``, ...) for a file that is not such a pickle; callers turn
    these into their package's error naming the file.
    """
    with open(path, "rb") as f:
        if skip_over is None:
            return _Unpickler(f, allowed_global).load()
        return _resolve(_Unpickler(_SkippingFile(f, skip_over), _skipping_find(skip_over)).load())
