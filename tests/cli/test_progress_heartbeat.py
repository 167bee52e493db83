"""Issue 15 items 2 and 3: off a terminal a heartbeat line every beat; accuracy runs show samples done/total."""

from __future__ import annotations

import io
import time
from types import SimpleNamespace

from edgeperf.cli.progress import LiveProgress, status_line
from edgeperf.loadgen import events as ev
from edgeperf.loadgen.enums import TestMode, TestScenario


class FakeSeries:
    """What LiveProgress reads from a SeriesProgress, with fixed numbers."""

    def __init__(self, mode_name="AccuracyOnly", done=250, total=1000):
        self.mode_name = mode_name
        self.completed_samples = done
        self.issued_samples = done
        self.total_samples = total
        self.total_queries = total
        self.min_duration_ms = 600_000
        self.elapsed_s = 12.0
        self.scenario = TestScenario.Offline
        self.target_latency_ns = 0

    def recent_latencies(self):
        import numpy as np

        return np.array([], dtype=np.int64)


def test_accuracy_progress_is_samples_done_out_of_total():
    line = status_line("resnet50 Offline", FakeSeries(done=250, total=1000))
    assert "250/1,000 samples (25%)" in line
    assert "min" not in line  # no "0.3s / 2s min" for an accuracy run


def test_performance_progress_names_the_minimum_duration_and_quick_mode():
    line = status_line("x", FakeSeries(mode_name="PerformanceOnly"), quick=True)
    assert "of at least 600s" in line and "not compliant" in line


def test_heartbeat_off_a_terminal():
    stream = io.StringIO()
    console = SimpleNamespace(is_terminal=False)
    progress = LiveProgress(console, "bert-99 Offline", heartbeat=stream, heartbeat_s=0.05)
    progress(
        ev.SeriesStart(
            0, progress=FakeSeries(done=3, total=8), mode=TestMode.AccuracyOnly, scenario=TestScenario.Offline
        )
    )
    deadline = time.monotonic() + 5
    while stream.getvalue().count("\n") < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    progress(ev.TestEnd(0, result=None))
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 2
    assert all("bert-99 Offline [accuracy]  3/8 samples (38%)" in line for line in lines)
    count = len(lines)
    time.sleep(0.2)
    assert len(stream.getvalue().splitlines()) == count  # stopped at the end of the test


def test_heartbeat_starts_before_the_first_series():
    """Loading a data set can take minutes before LoadGen starts: the heartbeat says so."""
    stream = io.StringIO()
    progress = LiveProgress(SimpleNamespace(is_terminal=False), "resnet50 Offline", heartbeat=stream, heartbeat_s=0.05)
    progress.begin()
    deadline = time.monotonic() + 5
    while not stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)
    progress.close()
    assert "resnet50 Offline: preparing (data set, model, warm-up)" in stream.getvalue()
