"""The detail log (``mlperf_log_detail.txt``) and the background writer it shares with the trace.

Like the C++ LoadGen (§12, §13.4), logging is split in two:

- the *hot path* (``DetailLog.log`` / ``log_group``) takes a ``time.perf_counter_ns()`` stamp,
  the caller's source location and OS thread id, and appends one tuple to a deque. It never
  formats a number nor touches a file;
- a daemon thread wakes every ~10 ms, drains the deque, formats the lines with
  ``formatting.mllog_line`` and writes them.

Records of one thread keep their order; records of different threads are written in the order
they were appended (so ``time_ms`` is not necessarily monotonic across threads, as in C++).
"""

from __future__ import annotations

import collections
import os
import sys
import threading
import time
from typing import Any, Callable, Iterable, TextIO

from .files import open_text_target
from .formatting import mllog_line

__all__ = ["DetailLog", "Listener"]

#: ``listener(key, value, is_error, is_warning)``, called on the logging thread (see ``add_listener``).
Listener = Callable[[str, Any, bool, bool], None]

# The directory that holds the ``edgeperf`` package (``src/`` in a checkout, ``site-packages``
# once installed). Caller file names are written relative to it, e.g. ``edgeperf/loadgen/engine.py``.
_PKG_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
_file_names: dict[str, str] = {}


def _metadata_file(co_filename: str) -> str:
    """Map a code object's file name to the ``file`` metadata (cached per file)."""
    name = _file_names.get(co_filename)
    if name is None:
        if co_filename.startswith("<"):  # "<string>", "<stdin>", ...: not a file
            _file_names[co_filename] = co_filename
            return co_filename
        path = os.path.abspath(co_filename)
        if path.startswith(_PKG_PARENT + os.sep):
            path = os.path.relpath(path, _PKG_PARENT)
        name = path.replace(os.sep, "/")
        _file_names[co_filename] = name
    return name


class _BackgroundWriter:
    """Drains a deque on a daemon thread every ``interval_s`` and hands the items to ``sink``.

    ``sink(items)`` runs with the drain lock held, so items are written in append order.
    ``deque.append`` / ``popleft`` are atomic, so producers never take a lock.
    """

    def __init__(self, sink: Callable[[list], None], interval_s: float, name: str) -> None:
        self.queue: collections.deque = collections.deque()
        self.errors: list[Exception] = []  # exceptions the sink raised on the thread
        self._sink = sink
        self._interval_s = interval_s
        self._drain_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.drain()
            except Exception as exc:  # noqa: BLE001 - kept for the owner's close() to raise
                self.errors.append(exc)

    def drain(self) -> None:
        with self._drain_lock:
            q = self.queue
            items = []
            while q:
                items.append(q.popleft())
            if items:
                self._sink(items)

    def stop(self) -> None:
        """Stop the thread, then drain whatever is left (on the calling thread)."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
        self.drain()


class DetailLog:
    """Writer of ``mlperf_log_detail.txt`` (":::MLLOG" JSON lines, spec §12.2).

    ``target`` is a path (opened for writing, truncated, and closed by ``close``) or an open text
    stream (flushed but not closed). ``origin_ns`` is the ``perf_counter_ns()`` reading that
    ``time_ms`` is relative to (default: now). ``pid`` defaults to ``os.getpid()``.

    Metadata ``file``/``line_no``: the C++ LoadGen writes its own ``__FILE__``/``__LINE__``. Python
    has no macros, so ``log`` looks one frame up (``sys._getframe``) and records the caller's module
    path relative to the directory holding the ``edgeperf`` package (``edgeperf/loadgen/engine.py``;
    files outside it keep their absolute path) and the caller's line. Nothing consumes these fields
    (§16). ``stacklevel`` works as in ``warnings.warn``, for helpers that log on behalf of their caller.

    Values must not be mutated after being logged: they are formatted later, on the writer thread.
    A value ``encode_value`` cannot encode is not worth stopping a test for: its record is
    skipped, reported on stderr (first time only) and kept in ``encode_errors``.
    ``error_count``/``warning_count`` count records logged with ``is_error``/``is_warning`` (the
    summary footer of §12.1). After ``close`` records are no longer written (they still count and
    still reach listeners); ``dropped_count`` tells how many were lost that way. A record logged
    while ``close`` runs on another thread may be lost without being counted.
    """

    def __init__(
        self,
        target: str | os.PathLike | TextIO,
        *,
        origin_ns: int | None = None,
        copy_to_stdout: bool = False,
        pid: int | None = None,
        poll_interval_s: float = 0.010,
    ) -> None:
        self._file, self._owns_file = open_text_target(target)
        self.origin_ns = time.perf_counter_ns() if origin_ns is None else origin_ns
        self.pid = os.getpid() if pid is None else pid
        self.copy_to_stdout = copy_to_stdout
        self.error_count = 0
        self.warning_count = 0
        self.dropped_count = 0
        self._count_lock = threading.Lock()
        self._listeners: list[Listener] = []
        self.listener_errors: list[Exception] = []
        self.encode_errors: list[Exception] = []
        self._closed = False
        self._writer = _BackgroundWriter(self._write_items, poll_interval_s, "edgeperf-detail-log")
        self._queue = self._writer.queue

    # -- hot path -------------------------------------------------------------------------------

    def log(
        self,
        key: str,
        value: Any,
        *,
        is_error: bool = False,
        is_warning: bool = False,
        time_ns: int | None = None,
        stacklevel: int = 1,
    ) -> None:
        """Record ``key = value``; safe from any thread. ``time_ns`` overrides the perf-clock stamp."""
        t = time.perf_counter_ns() if time_ns is None else time_ns
        if self._closed:
            self._dropped(1)
        else:
            frame = sys._getframe(stacklevel)
            self._queue.append(
                (
                    t,
                    ((key, value),),
                    is_error,
                    is_warning,
                    frame.f_code.co_filename,
                    frame.f_lineno,
                    threading.get_native_id(),
                )
            )
        if is_error or is_warning:
            self._count(1, is_error, is_warning)
        if self._listeners:
            self._notify(key, value, is_error, is_warning)

    def log_group(
        self,
        records: Iterable[tuple[str, Any]],
        *,
        is_error: bool = False,
        is_warning: bool = False,
        time_ns: int | None = None,
        stacklevel: int = 1,
    ) -> None:
        """Record several ``(key, value)`` pairs sharing ONE timestamp and source location.

        This is how the ``requested_*``, ``effective_*`` and ``result_*`` groups are logged: in C++
        they come from one logging call and so share one ``time_ms`` (§12.2). They are also
        written contiguously, even when other threads log at the same time.
        """
        t = time.perf_counter_ns() if time_ns is None else time_ns
        records = tuple(records)
        if self._closed:
            self._dropped(len(records))
        else:
            frame = sys._getframe(stacklevel)
            self._queue.append(
                (t, records, is_error, is_warning, frame.f_code.co_filename, frame.f_lineno, threading.get_native_id())
            )
        if is_error or is_warning:
            self._count(len(records), is_error, is_warning)
        if self._listeners:
            for key, value in records:
                self._notify(key, value, is_error, is_warning)

    # -- listeners ------------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(key, value, is_error, is_warning)`` for every record from now on.

        Listeners run synchronously on the thread that logs, so they must be quick. An exception
        raised by a listener is caught (logging must not fail because of a progress display);
        the first one is reported on stderr and all are kept in ``listener_errors``.
        """
        self._listeners.append(listener)

    def _notify(self, key: str, value: Any, is_error: bool, is_warning: bool) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(key, value, is_error, is_warning)
            except Exception as exc:  # noqa: BLE001 - see add_listener
                if not self.listener_errors:
                    print(f"edgeperf: detail-log listener {listener!r} failed: {exc!r}", file=sys.stderr)
                self.listener_errors.append(exc)

    def _count(self, n: int, is_error: bool, is_warning: bool) -> None:
        with self._count_lock:
            if is_error:
                self.error_count += n
            if is_warning:
                self.warning_count += n

    def _dropped(self, n: int) -> None:
        with self._count_lock:
            self.dropped_count += n

    # -- writer side ----------------------------------------------------------------------------

    def _write_items(self, items: list) -> None:
        origin, pid = self.origin_ns, self.pid
        lines = []
        for t, records, is_error, is_warning, co_filename, line_no, tid in items:
            file = _metadata_file(co_filename)
            for key, value in records:
                try:
                    lines.append(mllog_line(key, value, t - origin, is_error, is_warning, file, line_no, pid, tid))
                except Exception as exc:  # noqa: BLE001 - a bad value must not stop the test
                    if not self.encode_errors:
                        print(f"edgeperf: detail-log record {key!r} skipped: {exc}", file=sys.stderr)
                    self.encode_errors.append(exc)
        if not lines:
            return
        text = "\n".join(lines) + "\n"
        self._file.write(text)
        self._file.flush()
        if self.copy_to_stdout:
            sys.stdout.write(text)
            sys.stdout.flush()

    def flush(self) -> None:
        """Write everything logged so far (on the calling thread) and flush the file."""
        self._writer.drain()

    def close(self) -> None:
        """Write all pending records, stop the writer thread and close the file (idempotent).

        Once the file is closed, re-raises the first exception the writer thread met while
        writing (an ``OSError`` such as a full disk).
        """
        if self._closed:
            return
        self._closed = True  # from now on log() drops records instead of queueing them
        try:
            self._writer.stop()
        finally:
            if self._owns_file:
                self._file.close()
            else:
                self._file.flush()
        if self._writer.errors:
            raise self._writer.errors[0]

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> "DetailLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
