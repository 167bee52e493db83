"""On-disk cache of preprocessed samples (spec benchmarks.md §2.1).

Like the reference harness, each preprocessed sample is one ``.npy`` file at
``<cache_dir>/<dataset key>-<fingerprint>/<layout>/<relative image path>.npy``. The reference
directory is just ``<dataset key>``, and its files go stale silently when preprocessing changes;
here the key carries a short fingerprint of every preprocessing parameter (and of this module's
cache format), so a change of parameters writes to a fresh directory instead of reusing old files.
What a file holds is the data set's choice: the model input itself (COCO), or an earlier stage
from which the model input follows exactly and cheaply (ImageNet keeps the uint8 RGB crop, a
quarter of the float32 sample).

Files are written to a temporary name in the same directory and renamed with ``os.replace``, so a
reader never sees half a file and an interrupted run leaves no truncated ``.npy`` behind. A file
that cannot be read back (truncated, corrupt, wrong shape or dtype) is recreated. ``put(...,
background=True)`` hands the write to one writer thread per cache (see ``_writer``).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import threading
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Mapping, Optional, Union

import numpy as np

from ._writer import BackgroundWriter
from .base import DatasetError, check_layout

__all__ = ["PreprocessCache", "fingerprint", "CACHE_FORMAT"]

#: Bump when the way samples are stored changes; it is part of every fingerprint.
CACHE_FORMAT = 1


def fingerprint(params: Mapping[str, Any], length: int = 10) -> str:
    """A short hex digest of ``params`` (JSON-serialisable) and the cache format version.

    Equal parameters give the same digest in every process and Python version (keys are sorted,
    floats written by ``repr``), so the cache is found again on the next run.
    """
    text = json.dumps({"cache_format": CACHE_FORMAT, **params}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def _safe_relative(relative: str) -> PurePosixPath:
    """``relative`` as a path that stays inside the cache directory (``..``/absolute parts defused)."""
    parts = [p for p in PurePosixPath(str(relative).replace("\\", "/")).parts if p not in ("", ".", "/")]
    parts = ["__" if p == ".." else p for p in parts]
    if not parts:
        raise DatasetError(f"cannot cache a sample with an empty relative path {relative!r}")
    return PurePosixPath(*parts)


@functools.lru_cache(maxsize=64)
def _npy_header(shape: tuple[int, ...], dtype: np.dtype) -> bytes:
    """The ``.npy`` header ``np.save`` writes for a C-ordered array of ``shape`` and ``dtype``."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


def _write_npy(handle, array: np.ndarray) -> None:
    """Write ``array`` as a ``.npy`` file to the unbuffered binary ``handle``: the header, then
    the array's own bytes (no copy, unlike ``np.save`` through a buffered file)."""
    array = np.ascontiguousarray(array)
    handle.write(_npy_header(array.shape, array.dtype))
    data = array.reshape(-1).view(np.uint8).data if array.size else b""
    while data:
        written = handle.write(data)
        data = data[written:]


class PreprocessCache:
    """The ``.npy`` files of one dataset key, one preprocessing and one layout.

    ``PreprocessCache(cache_dir, "imagenet", "NCHW", params)`` stores under
    ``cache_dir/imagenet-<fingerprint(params)>/NCHW/``; the layout is a folder of its own (as in the
    reference), so both layouts of one preprocessing sit side by side. ``get(relative, compute)`` returns the
    cached array of ``relative`` (the image path relative to the dataset root), or calls
    ``compute()``, stores its result and returns it.
    """

    def __init__(self, cache_dir: Union[str, os.PathLike], key: str, layout: str, params: Mapping[str, Any]):
        check_layout(layout)
        self.key = key
        self.layout = layout
        self.fingerprint = fingerprint({"key": key, **params})
        self.directory = Path(cache_dir) / f"{key}-{self.fingerprint}" / layout
        self._made: set[Path] = set()  # folders known to exist: one mkdir per folder, not per file
        self._writer = BackgroundWriter(self._write)

    def path_for(self, relative: str) -> Path:
        """The ``.npy`` file of the image at ``relative`` (relative to the dataset root)."""
        rel = _safe_relative(relative)
        return self.directory.joinpath(*rel.parts[:-1], rel.parts[-1] + ".npy")

    def get(
        self,
        relative: str,
        compute: Callable[[], np.ndarray],
        *,
        shape: Optional[tuple[int, ...]] = None,
        dtype: Optional[np.dtype] = None,
    ) -> np.ndarray:
        """The cached array of ``relative``, computed and stored first if missing or unreadable.

        With ``shape``/``dtype`` given, a cached file of another shape or dtype counts as corrupt.
        """
        path = self.path_for(relative)
        array = self._read(path, shape, dtype)
        if array is None:
            array = np.ascontiguousarray(compute())
            self._write(path, array)
        return array

    def read_into(self, relative: str, out: np.ndarray) -> bool:
        """Fill ``out`` (C-contiguous) from the cached file of ``relative``; False if missing or unusable.

        The ``.npy`` header is parsed and the data read straight into ``out`` (no intermediate
        array): a cached start costs one read per sample. A file of another shape or dtype, or
        shorter than its header says, counts as missing (it is recreated).
        """
        try:
            with open(self.path_for(relative), "rb") as handle:
                version = np.lib.format.read_magic(handle)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
                elif version == (2, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
                else:
                    return False
                if fortran or tuple(shape) != out.shape or dtype != out.dtype or not out.flags.c_contiguous:
                    return False
                view = out.reshape(-1).view(np.uint8).data  # 1-D bytes: also for zero-size arrays
                got = handle.readinto(view)
                return got == len(view) and not handle.read(1)
        except FileNotFoundError:
            return False
        except (OSError, ValueError, EOFError):
            return False  # truncated or not a .npy: recreate it

    def put(self, relative: str, array: np.ndarray, *, background: bool = False) -> None:
        """Store ``array`` as the cached file of ``relative`` (atomically, written from ``array`` itself).

        With ``background=True`` the file is written by the cache's writer thread and ``array``
        must not change afterwards; :meth:`flush` waits for such writes and raises the first
        error among them (a later ``put`` raises it too).
        """
        path = self.path_for(relative)
        if background:
            self._writer.submit(path, array)
        else:
            self._write(path, array)

    def flush(self) -> None:
        """Wait until every background ``put`` is on disk; raise the first error among them."""
        self._writer.flush()

    @staticmethod
    def _read(path: Path, shape, dtype) -> Optional[np.ndarray]:
        try:
            array = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError):
            return None  # truncated or not a .npy: recreate it
        if not isinstance(array, np.ndarray):
            return None
        if shape is not None and tuple(array.shape) != tuple(shape):
            return None
        if dtype is not None and array.dtype != np.dtype(dtype):
            return None
        return array

    def _write(self, path: Path, array: np.ndarray) -> None:
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            if path.parent not in self._made:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._made.add(path.parent)
            with open(temporary, "wb", buffering=0) as handle:
                _write_npy(handle, array)
            os.replace(temporary, path)
        except OSError as error:
            try:
                temporary.unlink()
            except OSError:
                pass
            raise DatasetError(
                f"cannot write the preprocessing cache file {path}: {error.strerror or error} "
                "(make the cache directory writable, free space, or run without a cache)",
                path=path,
            ) from None
