"""The dataset-loading progress line of ``edgeperf run`` (issue 16): images done, rate, time left."""

from __future__ import annotations

import re

from edgeperf.benchmarks.runner import _load_progress
from edgeperf.loadgen.events import DatasetLoad
from edgeperf.cli.progress import LoadProgress


def test_load_progress_events_reach_every_listener():
    seen_a, seen_b = [], []
    progress = _load_progress([seen_a.append, seen_b.append])
    progress(1, 4)
    progress(4, 4)
    assert all(isinstance(e, DatasetLoad) for e in seen_a)
    assert [(e.done, e.total) for e in seen_a] == [(1, 4), (4, 4)]
    assert len(seen_b) == 2


def test_load_progress_line_shows_done_rate_and_eta(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr("edgeperf.cli.progress.time.monotonic", lambda: clock[0])
    p = LoadProgress()
    p.update(1, 1000)
    clock[0] += 2.0
    p.update(201, 1000)
    assert p.active
    line = p.line()
    assert "201/1,000 (20%)" in line and "100 images/s" in line
    assert re.search(r"ETA 0:0[78]", line)  # 799 images at ~100/s
    p.update(1000, 1000)
    assert not p.active
