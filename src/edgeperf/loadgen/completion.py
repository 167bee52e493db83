"""Recording completions of one series (spec loadgen.md §9.2, §9.3, §13.2).

All per-sample and per-query state lives in preallocated numpy arrays indexed by the position of
a sample in its series, so a completion is an array write, never a dictionary lookup. The lock is
held only for that bookkeeping; reading response bytes and writing the accuracy log happen after
it is released, and the SUT is never called with the lock held.
"""

from __future__ import annotations

import ctypes
import threading
import time
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import EdgeperfError
from .queries import GeneratedQueries

MSG_OLD_SAMPLE = "Received completion for an old sample. Min expected id: {} Actual id: {}"
MSG_TWICE = "Attempted to complete a sample twice."
MSG_UNKNOWN = "Received completion for an unknown response id: {} (it was never issued in this series)."


class SutStalled(EdgeperfError, RuntimeError):
    """The SUT left samples unanswered for longer than ``sut_stall_timeout_s``."""

    def __init__(self, outstanding: int, timeout_s: float):
        self.outstanding = outstanding
        self.timeout_s = timeout_s
        super().__init__(
            f"SUT stopped answering: no sample completed for {timeout_s:g} s while "
            f"{outstanding} sample(s) were outstanding (sut_stall_timeout_s = {timeout_s:g})."
        )


class SutAborted(EdgeperfError, RuntimeError):
    """The SUT gave up on the test (``engine.abort_test``), e.g. because its model failed."""


def response_bytes(data: Any, size: int) -> bytes:
    """The bytes of a response: from a raw address (as the official binding passes), a buffer, or
    a zero-argument callable returning a buffer.

    The callable form lets a SUT defer building a response (say, casting 128 MB of logits to
    float16) until LoadGen actually logs the sample: in a performance run it is never called.
    """
    if callable(data):
        data = data()
    if data is None or size == 0 and isinstance(data, int):
        return b""
    if isinstance(data, int):
        return ctypes.string_at(data, size)
    view = memoryview(data).cast("B")
    return bytes(view[:size]) if size and size < len(view) else bytes(view)


class SeriesRecorder:
    """Timestamps and bookkeeping for the samples of one series."""

    def __init__(
        self,
        first_seq_id: int,
        queries: GeneratedQueries,
        *,
        log_all: bool,
        selected: np.ndarray | None,
        accuracy_sink: Callable[[int, int, bytes], None] | None,
        error_sink: Callable[[str], None],
        id_offset: int = 1,
    ) -> None:
        self.first_seq_id = first_seq_id
        self.id_offset = id_offset  # response id = id_offset + sequence id
        self.queries = queries
        self.spq = queries.samples_per_query
        n = queries.num_samples
        self.latency = np.full(n, -1, dtype=np.int64)
        self.scheduled = np.zeros(queries.count, dtype=np.int64)
        self.query_done = np.full(queries.count, -1, dtype=np.int64)
        self._pending = np.full(queries.count, self.spq, dtype=np.int64) if self.spq > 1 else None
        self.issued_samples = 0
        self.completed_samples = 0
        self.queries_completed = 0
        self.max_completion_ns = 0
        self.last_completion_ns = time.perf_counter_ns()
        self._log_all = log_all
        self._selected = selected if selected is not None and len(selected) else None
        self._accuracy_sink = accuracy_sink
        self._error_sink = error_sink
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._wanted_query = -1
        self._want_all = False
        self._waiting = False  # anyone blocked in wait_*: only then is there something to notify
        self._aborted: str | None = None
        # Accuracy records being written after their sample was marked complete: the series is not
        # over (and the log must not be closed) until they are on disk.
        self._writes_in_flight = 0
        # Scalar reads and writes through memoryviews cost a fraction of numpy item access; the
        # arrays stay for the vectorised paths and share the same memory.
        self._lat = memoryview(self.latency)
        self._sched = self.scheduled_view = memoryview(self.scheduled)
        self._done = self.done_view = memoryview(self.query_done)
        self._id_base = id_offset + first_seq_id
        self._nothing_to_log = accuracy_sink is None or (not log_all and self._selected is None)

    # ----------------------------------------------------------------- issuing side
    def mark_issued(self, query_begin: int, query_end: int) -> None:
        """Queries ``[query_begin, query_end)`` are about to be handed to the SUT.

        A single attribute store (atomic under the GIL); it only ever grows, and it happens
        before the SUT can see the ids, so no lock is needed.
        """
        self.issued_samples = query_end * self.spq

    # -------------------------------------------------------------- completion side
    def complete_one(self, response_id: int, data: Any = None, size: int = 0, response_cb=None, response=None) -> None:
        """Record one completed sample (the common SingleStream/Server case, kept scalar)."""
        t = time.perf_counter_ns()
        pos = response_id - self._id_base
        log_it = False
        error = None
        with self._lock:
            if not 0 <= pos < self.issued_samples:
                error = self._bad_id_message(response_id)
            elif self._lat[pos] >= 0:
                error = MSG_TWICE
                log_it = not self._nothing_to_log and self._wants(pos)
            else:
                q = pos if self._pending is None else pos // self.spq
                self._lat[pos] = t - self._sched[q]
                if self._pending is None or self._decrement(q):
                    self._done[q] = t
                    self.queries_completed += 1
                self.completed_samples += 1
                if t > self.max_completion_ns:
                    self.max_completion_ns = t
                self.last_completion_ns = t
                if not self._nothing_to_log:
                    log_it = self._wants(pos)
                if self._waiting:
                    self._notify_locked()
            if log_it:
                self._writes_in_flight += 1
        if error is not None:
            self._error_sink(error)
        if log_it:
            try:
                if response_cb is not None:
                    response_cb(response)
                self._write_accuracy(pos, response_bytes(data, size))
            finally:
                self._write_done(1)

    def complete_many(
        self, ids: np.ndarray, payloads: Sequence[Any] | None = None, response_cb=None, responses=None
    ) -> None:
        """Record a batch of completions sharing one timestamp (§9.2 step 1).

        ``payloads[i]`` is whatever ``response_bytes`` accepts for ``ids[i]`` (or ``(data, size)``
        pairs), and may be omitted when nothing needs logging.
        """
        t = time.perf_counter_ns()
        pos = np.asarray(ids, dtype=np.int64) - (self.id_offset + self.first_seq_id)
        errors: list[str] = []
        with self._lock:
            ok = (pos >= 0) & (pos < self.issued_samples)
            if not ok.all():
                errors.extend(self._bad_id_message(int(i) + self.id_offset + self.first_seq_id) for i in pos[~ok])
            valid_idx = np.flatnonzero(ok)
            vpos = pos[valid_idx]
            new_mask = (self.latency[vpos] < 0) & _first_occurrences(vpos)
            twice = len(vpos) - int(new_mask.sum())
            if twice:
                errors.extend([MSG_TWICE] * twice)
            new = vpos[new_mask]
            if len(new):
                q = new // self.spq
                self.latency[new] = t - self.scheduled[q]
                if self._pending is None:
                    self.query_done[q] = t
                    self.queries_completed += len(q)
                else:
                    np.subtract.at(self._pending, q, 1)
                    done_q = q[self._pending[q] == 0]
                    done_q = done_q[_first_occurrences(done_q)]
                    self.query_done[done_q] = t
                    self.queries_completed += len(done_q)
                self.completed_samples += len(new)
                self.max_completion_ns = max(self.max_completion_ns, t)
                self.last_completion_ns = t
                if self._waiting:
                    self._notify_locked()
            to_log = valid_idx[self._wants_array(vpos)] if len(vpos) else valid_idx
            if self._accuracy_sink is None:
                to_log = to_log[:0]
            self._writes_in_flight += len(to_log)
        for message in errors:
            self._error_sink(message)
        if len(to_log):
            try:
                for i in to_log:
                    i = int(i)
                    if response_cb is not None and responses is not None:
                        response_cb(responses[i])
                    self._write_accuracy(int(pos[i]), _payload_bytes(payloads, i))
            finally:
                self._write_done(len(to_log))

    # ------------------------------------------------------------------ waiting
    def wait_query(self, query: int, timeout_s: float) -> None:
        """Block until every sample of ``query`` completed; raise SutStalled on a stall."""
        with self._lock:
            if self._done[query] >= 0:
                return
            self._wanted_query = query
            self._waiting = True
            try:
                self._wait_locked(lambda: self._done[query] >= 0, timeout_s)
            finally:
                self._wanted_query = -1
                self._waiting = False

    def wait_all(self, timeout_s: float) -> None:
        """Block until every issued sample completed; raise SutStalled on a stall."""
        with self._lock:
            self._want_all = True
            self._waiting = True
            try:
                self._wait_locked(self._all_done_locked, timeout_s)
            finally:
                self._want_all = False
                self._waiting = False

    def abort(self, message: str) -> None:
        """Make every current and future wait of this series raise `SutAborted`."""
        with self._lock:
            self._aborted = message
            self._cond.notify_all()

    def _all_done_locked(self) -> bool:
        return self.completed_samples >= self.issued_samples and self._writes_in_flight == 0

    def _write_done(self, n: int) -> None:
        with self._lock:
            self._writes_in_flight -= n
            if self._waiting:
                self._notify_locked()

    def outstanding(self) -> int:
        """Issued samples not yet completed."""
        return self.issued_samples - self.completed_samples

    # ---------------------------------------------------------------- internals
    def _wait_locked(self, done: Callable[[], bool], timeout_s: float) -> None:
        while not done():
            if self._aborted is not None:
                raise SutAborted(self._aborted)
            idle_s = (time.perf_counter_ns() - self.last_completion_ns) / 1e9
            remaining = timeout_s - idle_s
            if remaining <= 0:
                raise SutStalled(self.issued_samples - self.completed_samples, timeout_s)
            self._cond.wait(min(remaining, 0.5))

    def _notify_locked(self) -> None:
        if self._want_all and self._all_done_locked():
            self._cond.notify_all()
        elif self._wanted_query >= 0 and self._done[self._wanted_query] >= 0:
            self._cond.notify_all()

    def _decrement(self, q: int) -> bool:
        self._pending[q] -= 1
        return self._pending[q] == 0

    def _bad_id_message(self, response_id: int) -> str:
        seq = response_id - self.id_offset
        if 0 <= seq < self.first_seq_id:
            return MSG_OLD_SAMPLE.format(self.first_seq_id, seq)
        return MSG_UNKNOWN.format(response_id)

    def _wants(self, pos: int) -> bool:
        if self._accuracy_sink is None:
            return False
        if self._log_all:
            return True
        if self._selected is None:
            return False
        i = int(np.searchsorted(self._selected, pos))
        return i < len(self._selected) and int(self._selected[i]) == pos

    def _wants_array(self, positions: np.ndarray) -> np.ndarray:
        if self._accuracy_sink is None:
            return np.zeros(len(positions), dtype=bool)
        if self._log_all:
            return np.ones(len(positions), dtype=bool)
        if self._selected is None:
            return np.zeros(len(positions), dtype=bool)
        i = np.searchsorted(self._selected, positions)
        i = np.minimum(i, len(self._selected) - 1)
        return self._selected[i] == positions

    def _write_accuracy(self, pos: int, data: bytes) -> None:
        qsl_idx = int(self.queries.sample_indices[pos])
        self._accuracy_sink(self.first_seq_id + pos, qsl_idx, data)


def _first_occurrences(values: np.ndarray) -> np.ndarray:
    """Mask of the first occurrence of each value (a sort, not np.unique, which imports numpy.ma
    lazily and so stalls the first completion of a process by ~10 ms)."""
    if len(values) < 2:
        return np.ones(len(values), dtype=bool)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first_sorted = np.empty(len(values), dtype=bool)
    first_sorted[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first_sorted[1:])
    mask = np.zeros(len(values), dtype=bool)
    mask[order[first_sorted]] = True
    return mask


def _payload_bytes(payloads: Sequence[Any] | None, i: int) -> bytes:
    if payloads is None:
        return b""
    item = payloads[i]
    if isinstance(item, tuple):
        return response_bytes(*item)
    if item is None:
        return b""
    if hasattr(item, "data") and hasattr(item, "size"):
        return response_bytes(item.data, item.size)
    return response_bytes(item, 0)
