"""Progress of a LoadGen run, fed by LoadGen events: live on a terminal, a heartbeat line off one.

A thread polls `SeriesProgress` a few times a second (on a terminal, drawn with rich) or every
10 s (off a terminal: one plain line per beat, so that ``edgeperf run ... > log`` is never silent
for minutes); the issue loop does no extra work either way. An accuracy run shows the samples done
out of the total; a performance run its elapsed time against the minimum duration, QPS and the
running percentiles.
"""

from __future__ import annotations

import sys
import threading
import time

import numpy as np

from ..loadgen import events as ev
from ..loadgen.enums import TestScenario as Scenario

HEARTBEAT_S = 10.0


def status_line(label: str, s: ev.SeriesProgress | None, quick: bool = False) -> str:
    """One plain line describing the series now (the heartbeat, and the first line on a terminal)."""
    if s is None:
        return f"{label}: preparing (data set, model, warm-up)"
    elapsed = s.elapsed_s
    flag = " [quick mode: not compliant]" if quick else ""
    if s.mode_name == "AccuracyOnly":
        total = s.total_samples
        done = s.completed_samples
        pct = 100.0 * done / total if total else 0.0
        return f"{label} [accuracy]{flag}  {done:,}/{total:,} samples ({pct:.0f}%)  {elapsed:.0f}s elapsed"
    lat = s.recent_latencies()
    p90 = p99 = "-"
    if len(lat):
        ordered = np.sort(lat)
        p90 = f"{ordered[int(len(ordered) * 0.9)] / 1e6:.2f} ms"
        p99 = f"{ordered[int(len(ordered) * 0.99)] / 1e6:.2f} ms"
    qps = s.completed_samples / elapsed if elapsed > 0 else 0.0
    target = s.min_duration_ms / 1000
    return (
        f"{label} [{s.mode_name}]{flag}  {elapsed:.1f}s of at least {target:g}s  "
        f"issued {s.issued_samples:,}  completed {s.completed_samples:,}  "
        f"{qps:,.0f} samples/s  p90 {p90}  p99 {p99}"
    )


class LoadProgress:
    """Images done, rate and time left of a dataset load (preprocessing or reading the cache)."""

    def __init__(self) -> None:
        self.done = self.total = 0
        self._start = 0.0

    def update(self, done: int, total: int) -> None:
        if done <= 1 or total != self.total:
            self._start = time.monotonic()
        self.done, self.total = done, total

    @property
    def active(self) -> bool:
        return 0 < self.done < self.total

    def line(self) -> str:
        elapsed = time.monotonic() - self._start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        eta = "--:--" if left != left else f"{int(left) // 60:d}:{int(left) % 60:02d}"
        return (
            f"preparing samples {self.done:,}/{self.total:,} ({100 * self.done / self.total:.0f}%)  "
            f"{rate:,.0f} images/s  ETA {eta}"
        )


class LiveProgress:
    """An event listener showing a run's progress until the test ends.

    ``console``: the rich console of the command (its ``is_terminal`` decides live drawing);
    ``heartbeat``: where plain heartbeat lines go off a terminal (default stdout; pass stderr when
    stdout carries JSON); ``quick``: label every line "not compliant".
    """

    def __init__(
        self,
        console,
        label: str,
        refresh_s: float = 0.25,
        *,
        heartbeat=None,
        heartbeat_s: float = HEARTBEAT_S,
        quick: bool = False,
    ):
        self._console = console
        self._label = label
        self._refresh_s = refresh_s
        self._heartbeat = heartbeat
        self._heartbeat_s = heartbeat_s
        self._quick = quick
        self._series: ev.SeriesProgress | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._live = None
        self._load = LoadProgress()

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.DatasetLoad):
            self._load.update(event.done, event.total)
            self.begin()
        elif isinstance(event, ev.SeriesStart):
            self._series = event.progress
            self.begin()
        elif isinstance(event, ev.TestEnd):
            self.close()

    def begin(self) -> None:
        """Start showing progress now (before the first series: loading a data set can take minutes)."""
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        self._stop.clear()
        if self._console.is_terminal:
            from rich.live import Live

            self._live = Live(self._render(), console=self._console, refresh_per_second=8, transient=True)
            self._live.start()
            target = self._loop
        else:
            target = self._beat
        self._thread = threading.Thread(target=target, daemon=True, name="edgeperf-progress")
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._refresh_s):
            self._live.update(self._render())

    def _beat(self) -> None:
        stream = self._heartbeat if self._heartbeat is not None else sys.stdout
        stamp = time.strftime
        while not self._stop.wait(self._heartbeat_s):
            print(f"[{stamp('%H:%M:%S')}] {self._line()}", file=stream, flush=True)

    def _line(self) -> str:
        """The data set's load while one runs (images done, rate, time left), else the series."""
        if self._load.active:
            return f"{self._label}: {self._load.line()}"
        return status_line(self._label, self._series, self._quick)

    def _render(self):
        from rich.text import Text

        s = self._series
        if self._load.active:
            return Text(self._line())
        text = Text(status_line(self._label, s, self._quick))
        if s is not None and s.scenario is Scenario.Server and s.mode_name != "AccuracyOnly" and s.target_latency_ns:
            allowed = (1.0 - s.target_percentile) * s.total_queries
            if s.over_bound_count() > allowed:
                text.append(
                    f"\n  This run can no longer be VALID: more than {allowed:,.0f} of its {s.total_queries:,} "
                    f"queries exceeded the {s.target_latency_ns / 1e6:g} ms bound.",
                    style="bold red",
                )
        return text

    def close(self) -> None:
        """Stop drawing or beating (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        if self._live is not None:
            self._live.stop()
            self._live = None
