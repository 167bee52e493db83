"""The one safe reader of the pickles that datasets and accuracy scripts must read.

The preprocessed-BraTS files of the 3D-UNet reference (``preprocessed_files.pkl``, one
``<case>.pkl`` per case) are pickles, and a pickle can run code. :func:`load_pickle` admits only
the globals in one allow-list (:func:`allowed_global`): numpy arrays, scalars and dtypes under the
module names numpy 1 and 2 write them with, and plain containers. Anything else is refused with
``pickle.UnpicklingError``.

``skip_over=N`` reads a pickle's small values but not its large payloads (a case file is one
128 MB volume plus a few numbers): ``pickletools.genops`` walks the opcodes, a payload of more
than ``N`` bytes is seeked over (never read or allocated) and left out of a rewritten, small
pickle, which the restricted unpickler then loads. An array whose data was left out comes back as
a :class:`SkippedArray` with its shape and dtype. Only public ``pickle`` and ``pickletools`` APIs
are used.
"""

from __future__ import annotations

import builtins
import collections
import functools
import io
import os
import pickle
import pickletools
from typing import IO, Any, Callable, Optional, Sequence, cast

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
            f"refusing to load {module}.{name}: only numpy arrays and plain containers are allowed"
        )
    return found


# ------------------------------------------------------------------------------- skipping reads


class _PartialArray:
    """Stands for an ndarray while a skipping load runs (numpy's ``_reconstruct`` + ``__setstate__``)."""

    def __init__(self) -> None:
        self.value: Any = None

    def __setstate__(self, state: tuple) -> None:
        _version, shape, dtype, fortran, raw = state
        self.value = _array_or_skipped(raw, dtype, shape, "F" if fortran else "C")


def _array_or_skipped(raw: Any, dtype: Any, shape: Sequence[int], order: str) -> Any:
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise pickle.UnpicklingError("object arrays are not allowed")
    if isinstance(raw, str):  # protocol 2 from Python 2: latin-1 text
        raw = raw.encode("latin-1")
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) < nbytes:  # the payload was left out of the rewritten pickle
        return SkippedArray(shape, dtype)
    return np.frombuffer(raw, dtype=dtype).copy().reshape(tuple(shape), order=order)


class _LeftOut(bytes):
    """An empty stand-in for a payload that was seeked over; ``len()`` gives its real size."""

    size: int

    def __new__(cls, size: int) -> "_LeftOut":
        out = super().__new__(cls)
        out.size = size
        return out

    def __len__(self) -> int:
        return self.size


class _Rewriter:
    """The file as ``pickletools.genops`` reads it, copied to ``out`` but for the large payloads.

    A read of more than ``skip_over`` bytes right after the 4- or 8-byte length that announced it
    is a payload (bytes, bytearray or text): the file position moves past it, and ``out`` gets the
    opcode with length 0 instead, so ``out`` is a small valid pickle of everything else.
    """

    def __init__(self, file: io.BufferedReader, skip_over: int) -> None:
        self._file, self._skip_over = file, skip_over
        self.out = bytearray()
        self._last = b""

    def tell(self) -> int:
        return self._file.tell()

    def read(self, size: int = -1) -> bytes:
        last = self._last
        if size > self._skip_over and len(last) in (4, 8) and int.from_bytes(last, "little") == size:
            self._file.seek(size, io.SEEK_CUR)
            self.out[-len(last) :] = bytes(len(last))
            self._last = b""
            return _LeftOut(size)
        data = self._file.read(size)
        self.out += data
        self._last = data
        return data

    def readline(self) -> bytes:
        data = self._file.readline()
        self.out += data
        self._last = data
        return data


def _without_large_payloads(file: io.BufferedReader, skip_over: int) -> bytes:
    rewriter = _Rewriter(file, skip_over)
    for _ in pickletools.genops(cast(IO[bytes], rewriter)):  # reads up to and including STOP
        pass
    return bytes(rewriter.out)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: Any, find: Callable[[str, str], Any]) -> None:
        super().__init__(file)
        self._find = find

    def find_class(self, module: str, name: str) -> Any:
        return self._find(module, name)


def _skipping_find(module: str, name: str) -> Any:
    found = allowed_global(module, name)
    if name == "_reconstruct":  # ndarray.__reduce__: the data comes with __setstate__
        return lambda *args: _PartialArray()
    if name == "_frombuffer":  # protocol 5: the data comes as the first argument
        return _array_or_skipped
    return found


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
        small = _without_large_payloads(f, skip_over)
    return _resolve(_Unpickler(io.BytesIO(small), _skipping_find).load())
