"""The trace log (``mlperf_log_trace.json``, Chrome trace event format, spec §12.4).

With tracing disabled the file is created and left empty (0 bytes), like every trace of the v1.1
results. Enabled, it holds the header, one event per line (each ending ``},``) and the fixed
footer, which makes the whole file valid JSON loadable by ``chrome://tracing`` / Perfetto.

Like the detail log, the calling thread only appends a tuple; the formatting and writing happen
on a background thread.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, TextIO

from .files import open_text_target
from .detail import _BackgroundWriter
from .formatting import encode_value

__all__ = ["TraceLog", "TRACE_HEADER", "trace_footer"]

TRACE_HEADER = '{"traceEvents":[\n'


def trace_footer(origin_epoch_us: int) -> str:
    """The footer closing the event array, with the trace origin in µs since the epoch (§12.4)."""
    return (
        '{"name":"LastTrace"}\n],\n"displayTimeUnit":"ns",\n"otherData":{\n'
        f'"ts":{origin_epoch_us},\n"version":"MLPerf LoadGen v1.0"\n}}\n}}\n'
    )


def _us(ns: int) -> str:
    """ns as µs in fixed notation with 3 decimals, computed exactly on integers."""
    if ns < 0:
        return "-" + _us(-ns)
    return f"{ns // 1000}.{ns % 1000:03d}"


def _args(args: dict[str, Any]) -> str:
    return ",".join(f'"{k}":{encode_value(v)}' for k, v in args.items())


class TraceLog:
    """Writer of ``mlperf_log_trace.json``.

    ``origin_ns`` (``perf_counter_ns``) is the trace's time zero, ``origin_epoch_ns`` the same
    instant on the wall clock (written in the footer). All event times are ``perf_counter_ns``
    readings. When ``enabled`` is false every method is a cheap no-op and the file stays empty.
    """

    def __init__(
        self,
        target: str | os.PathLike | TextIO,
        *,
        enabled: bool,
        origin_ns: int | None = None,
        origin_epoch_ns: int | None = None,
        pid: int | None = None,
        poll_interval_s: float = 0.010,
    ) -> None:
        self._file, self._owns_file = open_text_target(target)
        self.enabled = enabled
        self.origin_ns = time.perf_counter_ns() if origin_ns is None else origin_ns
        self.origin_epoch_ns = time.time_ns() if origin_epoch_ns is None else origin_epoch_ns
        self.pid = os.getpid() if pid is None else pid
        self.closed = False
        self._writer = None
        if enabled:
            self._file.write(TRACE_HEADER)
            self._writer = _BackgroundWriter(self._write_items, poll_interval_s, "edgeperf-trace-log")

    def _put(self, item: tuple) -> None:
        if not self.closed:
            self._writer.queue.append(item)

    def complete(self, name: str, start_ns: int, end_ns: int, **args: Any) -> None:
        """A complete event (``"ph":"X"``) spanning ``start_ns``..``end_ns``."""
        if self.enabled:
            self._put(("X", threading.get_native_id(), name, start_ns, end_ns, args))

    def async_sample(
        self,
        seq_id: int,
        query_seq: int,
        sample_idx: int,
        issue_start_ns: int,
        complete_ns: int,
        *,
        scheduled_ns: int | None = None,
    ) -> None:
        """The ``Sample`` async begin/end pair of one sample (id = its ``seq_id``).

        It spans ``scheduled_ns`` (default: ``issue_start_ns``) to ``complete_ns``; the args
        ``issue_start_ns`` and ``complete_ns`` are relative to the scheduled time, as in C++.
        """
        if self.enabled:
            self._put(
                (
                    "S",
                    threading.get_native_id(),
                    seq_id,
                    query_seq,
                    sample_idx,
                    issue_start_ns if scheduled_ns is None else scheduled_ns,
                    issue_start_ns,
                    complete_ns,
                )
            )

    def counter(self, name: str, ts_ns: int, **values: Any) -> None:
        """A counter event (``"ph":"C"``), e.g. ``Latency`` with ``issue_delay``/``issue_to_done``."""
        if self.enabled:
            self._put(("C", threading.get_native_id(), name, ts_ns, values))

    def async_instant(self, name: str, event_id: int, ts_ns: int, **args: Any) -> None:
        """An async instant event (``"ph":"n"``), e.g. ``QueryInterval``."""
        if self.enabled:
            self._put(("n", threading.get_native_id(), name, event_id, ts_ns, args))

    def _format(self, item: tuple) -> str:
        kind, tid = item[0], item[1]
        head = f'"pid":{self.pid},"tid":{tid}'
        o = self.origin_ns
        if kind == "X":
            _, _, name, start, end, args = item
            return (
                f'{{"name":{encode_value(name)},"ph":"X",{head},"ts":{_us(start - o)},'
                f'"dur":{_us(end - start)},"args":{{{_args(args)}}}}},\n'
            )
        if kind == "S":
            _, _, seq_id, query_seq, sample_idx, sched, issue, done = item
            args = _args(
                {
                    "sample_seq": seq_id,
                    "query_seq": query_seq,
                    "sample_idx": sample_idx,
                    "issue_start_ns": issue - sched,
                    "complete_ns": done - sched,
                }
            )
            common = '"name":"Sample","cat":"default",'
            return (
                f'{{{common}"ph":"b",{head},"id":{seq_id},"ts":{_us(sched - o)},'
                f'"args":{{{args}}}}},\n'
                f'{{{common}"ph":"e",{head},"id":{seq_id},"ts":{_us(done - o)}}},\n'
            )
        if kind == "C":
            _, _, name, ts, values = item
            return f'{{"name":{encode_value(name)},"ph":"C",{head},"ts":{_us(ts - o)},"args":{{{_args(values)}}}}},\n'
        _, _, name, event_id, ts, args = item
        return (
            f'{{"name":{encode_value(name)},"cat":"default","ph":"n",{head},"id":{event_id},'
            f'"ts":{_us(ts - o)},"args":{{{_args(args)}}}}},\n'
        )

    def _write_items(self, items: list) -> None:
        self._file.write("".join(map(self._format, items)))

    def close(self) -> None:
        """Write pending events and the footer (if enabled) and close the file (idempotent)."""
        if self.closed:
            return
        self.closed = True
        try:
            if self._writer is not None:
                self._writer.stop()
                self._file.write(trace_footer(self.origin_epoch_ns // 1000))
        finally:
            if self._owns_file:
                self._file.close()
            else:
                self._file.flush()
        if self._writer is not None and self._writer.errors:
            raise self._writer.errors[0]

    def __enter__(self) -> "TraceLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
