"""One background thread that writes a cache's files, so preprocessing threads never wait on
the file system and never contend for it.

Creating files in one folder does not scale across threads: the folder's lock and the inode
allocator serialise them, and two threads creating files at once spent twice the kernel time
for the same wall time here. Handing each finished sample to a single writer keeps file
creation serial while the preprocessing threads go on decoding.
"""

from __future__ import annotations

import atexit
import collections
import threading
import weakref
from pathlib import Path
from typing import Callable, Optional

import numpy as np

__all__ = ["BackgroundWriter"]

_live: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _flush_all_at_exit() -> None:  # pragma: no cover - runs at interpreter exit
    for writer in list(_live):
        try:
            writer.flush()
        except Exception:  # noqa: BLE001 - nothing can be reported at exit; the file is simply absent
            pass


class BackgroundWriter:
    """Writes ``(path, array)`` pairs in submission order with ``write(path, array)`` on a thread
    of its own (started when needed, gone when idle).

    At most ``max_pending_bytes`` of arrays wait at once (``submit`` blocks beyond that). The
    first error ``write`` raises is kept: ``submit`` and ``flush`` raise it, and ``flush`` waits
    until everything submitted is written. A submitted array must not change afterwards.
    """

    def __init__(self, write: Callable[[Path, np.ndarray], None], max_pending_bytes: int = 64 << 20):
        self._write = write
        self._max_pending = int(max_pending_bytes)
        self._cond = threading.Condition()
        self._queue: collections.deque[tuple[Path, np.ndarray]] = collections.deque()
        self._pending_bytes = 0
        self._busy = False  # an item is being written
        self._error: Optional[BaseException] = None
        self._thread: Optional[threading.Thread] = None
        _live.add(self)

    def submit(self, path: Path, array: np.ndarray) -> None:
        """Queue ``array`` for ``path``; raises the first earlier write error, if any."""
        with self._cond:
            self._raise_pending_error()
            while self._queue and self._pending_bytes + array.nbytes > self._max_pending:
                self._cond.wait()
                self._raise_pending_error()
            self._queue.append((path, array))
            self._pending_bytes += array.nbytes
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="edgeperf-cache-writer", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def flush(self) -> None:
        """Wait until every submitted array is written; raise the first write error, if any."""
        with self._cond:
            while self._queue or self._busy:
                self._cond.wait()
            self._raise_pending_error()

    def _raise_pending_error(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._queue:
                    self._thread = None  # idle: the next submit starts a new thread
                    self._cond.notify_all()
                    return
                path, array = self._queue.popleft()
                self._busy = True
            try:
                self._write(path, array)
            except BaseException as error:  # noqa: BLE001 - handed to the thread that submitted
                with self._cond:
                    if self._error is None:
                        self._error = error
            finally:
                with self._cond:
                    self._busy = False
                    self._pending_bytes -= array.nbytes
                    self._cond.notify_all()
