"""Live progress of a LoadGen run on a terminal (rich), fed by LoadGen events.

It polls `SeriesProgress` a few times a second from its own thread, so the issue loop does no
extra work. Off a terminal it shows nothing.
"""

from __future__ import annotations

import threading

import numpy as np

from ..loadgen import events as ev
from ..loadgen.enums import TestScenario as Scenario


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

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.SeriesStart):
            self._series = event.progress
            if self._thread is None and self._console.is_terminal:
                self._start()
        elif isinstance(event, ev.TestEnd):
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
