"""Keep freed heap memory for reuse while samples are preprocessed (glibc only).

Decoding and resizing an image allocates a few hundred KB of temporary buffers, freed again
before the next image. glibc hands memory at the top of its heap back to the kernel once more
than its trim threshold (a dynamic value near twice the largest recent buffer) is free, so
each image's buffers were faulted in afresh: 243 extra page faults per ImageNet image here,
about 0.4 ms of a 3.5 ms sample. Raising the trim threshold (and fixing the mmap threshold at
glibc's own 64-bit maximum, since setting one ends the dynamic adjustment of both) makes those
buffers come back from the heap instead. The cost: the process keeps freed heap memory for reuse
(up to :data:`TRIM_THRESHOLD` bytes at the top of the heap, and allocations below
:data:`MMAP_THRESHOLD` come from the heap rather than mappings of their own), which is small next
to the loaded samples themselves.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading

__all__ = ["keep_freed_heap", "TRIM_THRESHOLD", "MMAP_THRESHOLD", "OPT_OUT_VARIABLE"]

#: Free heap memory kept before glibc returns any to the kernel.
TRIM_THRESHOLD = 128 << 20
#: Allocations from this size on get their own mapping (glibc's dynamic ceiling on 64-bit).
MMAP_THRESHOLD = 32 << 20
#: Set to ``1`` to leave the allocator's settings alone.
OPT_OUT_VARIABLE = "EDGEPERF_KEEP_MALLOC_DEFAULTS"

_M_TRIM_THRESHOLD = -1  # from glibc's malloc.h
_M_MMAP_THRESHOLD = -3

_lock = threading.Lock()
_done: bool | None = None


def keep_freed_heap() -> bool:
    """Raise glibc's trim and mmap thresholds once per process; True if they are raised.

    Does nothing (False) off Linux, without glibc, or with ``EDGEPERF_KEEP_MALLOC_DEFAULTS=1``.
    """
    global _done
    with _lock:
        if _done is None:
            _done = _apply()
        return _done


def _apply() -> bool:
    if os.environ.get(OPT_OUT_VARIABLE, "") not in ("", "0") or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
