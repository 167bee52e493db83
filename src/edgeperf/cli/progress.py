"""Live progress of a LoadGen run on a terminal (rich), fed by LoadGen events.

It polls `SeriesProgress` a few times a second from its own thread, so the issue loop does no
extra work. Off a terminal it shows nothing.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from ..loadgen import events as ev
from ..loadgen.enums import TestScenario as Scenario


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
        return (f"preparing samples {self.done:,}/{self.total:,} ({100 * self.done / self.total:.0f}%)  "
                f"{rate:,.0f} images/s  ETA {eta}")


class LiveProgress:
    """An event listener that draws elapsed time, queries, QPS and running p90/p99."""

    def __init__(self, console, label: str, refresh_s: float = 0.25):
        self._console = console
        self._label = label
        self._refresh_s = refresh_s
        self._series: ev.SeriesProgress | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._live = None
        self._load = LoadProgress()

    def __call__(self, event: ev.Event) -> None:
        if event.name == "dataset_load":  # edgeperf.benchmarks.runner.DATASET_LOAD
            self._load.update(event.data["done"], event.data["total"])
            if self._thread is None and self._console.is_terminal:
                self._start()
        elif event.name == ev.SERIES_START:
            self._series = event.data["progress"]
            if self._thread is None and self._console.is_terminal:
                self._start()
        elif event.name == ev.TEST_END:
            self.close()

    def _start(self) -> None:
        from rich.live import Live

        self._live = Live(self._render(), console=self._console, refresh_per_second=8, transient=True)
        self._live.start()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="edgeperf-progress")
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._refresh_s):
            self._live.update(self._render())

    def _render(self):
        from rich.text import Text

        s = self._series
        if self._load.active:
            return Text(f"{self._label}: {self._load.line()}")
        if s is None:
            return Text(f"{self._label}: starting")
        elapsed = s.elapsed_s
        target = s.min_duration_ms / 1000
        lat = s.recent_latencies()
        p90 = p99 = "-"
        if len(lat):
            ordered = np.sort(lat)
            p90 = f"{ordered[int(len(ordered) * 0.9)] / 1e6:.2f} ms"
            p99 = f"{ordered[int(len(ordered) * 0.99)] / 1e6:.2f} ms"
        qps = s.completed_samples / elapsed if elapsed > 0 else 0.0
        text = Text(
            f"{self._label} [{s.mode_name}]  {elapsed:6.1f}s / {target:.0f}s min  "
            f"issued {s.issued_samples:,}  completed {s.completed_samples:,}  "
            f"{qps:,.0f} samples/s  p90 {p90}  p99 {p99}"
        )
        if s.scenario is Scenario.Server and s.mode_name != "AccuracyOnly" and s.target_latency_ns:
            allowed = (1.0 - s.target_percentile) * s.total_queries
            if s.over_bound_count() > allowed:
                text.append(
                    f"\n  This run can no longer be VALID: more than {allowed:,.0f} of its {s.total_queries:,} "
                    f"queries exceeded the {s.target_latency_ns / 1e6:g} ms bound.",
                    style="bold red",
                )
        return text

    def close(self) -> None:
        """Stop drawing (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        if self._live is not None:
            self._live.stop()
            self._live = None
