"""A series is not over until every accuracy record is on disk (a slow write must not be lost)."""

from __future__ import annotations

import threading
import time

import numpy as np
from harness import RecordingQSL, log_settings

from edgeperf.loadgen.engine import complete_arrays, start_test
from edgeperf.loadgen.enums import TestMode, TestScenario
from edgeperf.loadgen.logs.accuracy import read_accuracy_log
from edgeperf.loadgen.settings import TestSettings


class SlowPayloads:
    """Response bytes that take a while to produce, like a 64 MB volume being copied."""

    def __init__(self, indices):
        self._indices = indices

    def __getitem__(self, i):
        time.sleep(0.2)
        return int(self._indices[i]).to_bytes(4, "little")


class WorkerThreadSUT:
    """Answers each query from another thread, with slow-to-read payloads."""

    name = "WorkerThreadSUT"

    def issue_query_arrays(self, ids, indices):
        ids, indices = np.array(ids), np.array(indices)
        threading.Thread(target=complete_arrays, args=(ids, SlowPayloads(indices))).start()

    def flush_queries(self):
        pass


def test_offline_accuracy_run_waits_for_slow_record_writes(tmp_path):
    s = TestSettings(scenario=TestScenario.Offline, mode=TestMode.AccuracyOnly)
    result = start_test(WorkerThreadSUT(), RecordingQSL(4, 4), s, log_settings(tmp_path), audit_config=None)
    records = read_accuracy_log(tmp_path / "mlperf_log_accuracy.json")
    assert sorted(r["qsl_idx"] for r in records) == [0, 1, 2, 3]
    assert all(bytes.fromhex(r["data"]) == r["qsl_idx"].to_bytes(4, "little") for r in records)
    assert result.error_count == 0


class DeferredSUT:
    """Answers with zero-argument callables that build the bytes, counting how often they run."""

    name = "DeferredSUT"

    def __init__(self):
        self.built = 0

    def _bytes(self, index):
        self.built += 1
        return int(index).to_bytes(4, "little")

    def issue_query_arrays(self, ids, indices):
        import functools

        complete_arrays(ids, [functools.partial(self._bytes, i) for i in indices.tolist()])

    def flush_queries(self):
        pass


def test_deferred_responses_are_built_only_for_logged_samples(tmp_path):
    perf = DeferredSUT()
    s = TestSettings(scenario=TestScenario.Offline, mode=TestMode.PerformanceOnly, min_duration_ms=0, min_query_count=1)
    start_test(perf, RecordingQSL(8, 8), s, log_settings(tmp_path / "perf"), audit_config=None)
    assert perf.built == 0  # nothing is logged in a performance run, so nothing is built
    acc = DeferredSUT()
    s = TestSettings(scenario=TestScenario.Offline, mode=TestMode.AccuracyOnly)
    start_test(acc, RecordingQSL(8, 8), s, log_settings(tmp_path / "acc"), audit_config=None)
    records = read_accuracy_log(tmp_path / "acc" / "mlperf_log_accuracy.json")
    assert acc.built == 8 and sorted(r["qsl_idx"] for r in records) == list(range(8))
    assert all(bytes.fromhex(r["data"]) == r["qsl_idx"].to_bytes(4, "little") for r in records)
