"""Small SUT/QSL doubles for engine tests."""

from __future__ import annotations

import numpy as np

from edgeperf.loadgen.api import QuerySampleResponse
from edgeperf.loadgen.engine import query_samples_complete
from edgeperf.loadgen.settings import LogOutputSettings, LogSettings


def index_bytes(index: int) -> bytes:
    """The response a test SUT gives for a sample: its QSL index, 4 bytes little-endian."""
    return int(index).to_bytes(4, "little")


class ImmediateSUT:
    """Completes every sample inside issue_query, with the sample index as response data."""

    name = "ImmediateSUT"

    def __init__(self):
        self.issued = 0
        self.flushes = 0
        self.latency_reports: list[np.ndarray] = []

    def issue_query(self, samples):
        self.issued += len(samples)
        query_samples_complete([QuerySampleResponse(s.id, index_bytes(s.index), 4) for s in samples])

    def flush_queries(self):
        self.flushes += 1

    def report_latency_results(self, latencies):
        self.latency_reports.append(np.asarray(latencies))


class RecordingQSL:
    """A QSL that remembers every load and unload call."""

    name = "RecordingQSL"

    def __init__(self, total: int, performance: int):
        self.total_sample_count = total
        self.performance_sample_count = performance
        self.loads: list[list[int]] = []
        self.unloads: list[list[int]] = []

    def load_samples_to_ram(self, indices):
        self.loads.append(list(indices))

    def unload_samples_from_ram(self, indices):
        self.unloads.append(list(indices))


def log_settings(outdir) -> LogSettings:
    return LogSettings(log_output=LogOutputSettings(outdir=str(outdir)), enable_trace=False)


class DelayedSUT:
    """Completes each query from a timer thread ``delay_s`` after it was issued."""

    name = "DelayedSUT"

    def __init__(self, delay_s: float):
        self.delay_s = delay_s
        self._timers = []

    def issue_query(self, samples):
        import threading

        responses = [QuerySampleResponse(s.id, index_bytes(s.index), 4) for s in samples]
        timer = threading.Timer(self.delay_s, query_samples_complete, args=(responses,))
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def flush_queries(self):
        pass
