"""The model-running SUTs: batching across queries, and failures that end the test cleanly."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from harness import RecordingQSL, log_settings

from edgeperf.loadgen.engine import SutError, start_test
from edgeperf.loadgen.enums import TestMode, TestScenario
from edgeperf.loadgen.logs.accuracy import read_accuracy_log
from edgeperf.loadgen.logs.readers import read_detail_log
from edgeperf.loadgen.settings import TestSettings
from edgeperf.sut.pool import DirectSUT, WorkerPoolSUT


class Runner:
    """Answers each sample with its index as 4 bytes; records batch sizes."""

    def __init__(self, fail_on: int | None = None):
        self.batches: list[int] = []
        self.fail_on = fail_on
        self._lock = threading.Lock()

    def __call__(self, indices):
        with self._lock:
            self.batches.append(len(indices))
        if self.fail_on is not None and self.fail_on in indices.tolist():
            raise RuntimeError("model exploded")
        return [int(i).to_bytes(4, "little") for i in indices]


@pytest.mark.parametrize("scenario", ["Offline", "Server", "SingleStream"])
def test_accuracy_run_answers_every_sample_with_its_bytes(tmp_path, scenario):
    runner = Runner()
    sut = DirectSUT(runner) if scenario == "SingleStream" else WorkerPoolSUT(runner, workers=2, batch_size=16)
    s = TestSettings(scenario=TestScenario(scenario), mode=TestMode.AccuracyOnly, server_target_qps=2000)
    try:
        start_test(sut, RecordingQSL(100, 40), s, log_settings(tmp_path), audit_config=None)
    finally:
        getattr(sut, "close", lambda: None)()
    records = read_accuracy_log(tmp_path / "mlperf_log_accuracy.json")
    assert sorted(r["qsl_idx"] for r in records) == list(range(100))
    assert all(bytes.fromhex(r["data"]) == r["qsl_idx"].to_bytes(4, "little") for r in records)
    if scenario == "Offline":
        assert max(runner.batches) == 16  # one big query is cut into full batches
    assert sum(runner.batches) == 100


def test_worker_pool_failure_aborts_the_test_with_the_error(tmp_path):
    sut = WorkerPoolSUT(Runner(fail_on=7), workers=1, batch_size=4)
    s = TestSettings(scenario=TestScenario.Offline, mode=TestMode.AccuracyOnly, sut_stall_timeout_s=60)
    with pytest.raises(SutError, match="model exploded"):
        start_test(sut, RecordingQSL(20, 20), s, log_settings(tmp_path), audit_config=None)
    sut.close()
    errors = [r["value"] for r in read_detail_log(tmp_path / "mlperf_log_detail.txt").errors()]
    assert len(errors) == 1 and errors[0].startswith("The SUT aborted the test: the model runner failed")
    assert (tmp_path / "mlperf_log_summary.txt").read_text().endswith("\n1 ERROR encountered. See detailed log.\n")


def test_worker_pool_merges_small_queries_into_batches():
    runner = Runner()
    done = []
    sut = WorkerPoolSUT(runner, workers=1, batch_size=8)
    import edgeperf.sut.pool as pool

    original = pool.complete_arrays
    pool.complete_arrays = lambda ids, payloads: done.extend(ids.tolist())
    try:
        gate = threading.Event()
        runner_call = runner.__call__

        def slow_first(indices):
            gate.wait(2)
            return runner_call(indices)

        sut._runner = slow_first
        for i in range(17):  # 17 one-sample queries queue up behind the first
            sut.issue_query_arrays(np.array([i + 1]), np.array([i]))
        gate.set()
        sut.close()
    finally:
        pool.complete_arrays = original
    assert sorted(done) == list(range(1, 18))
    # while the first batch is held, the rest queue up and are then served in full batches
    assert max(runner.batches) == 8 and sum(runner.batches) == 17 and len(runner.batches) <= 4


def test_the_array_suts_are_full_systems_under_test():
    """start_test is typed with the SystemUnderTest protocol; both array SUTs also take objects."""
    from edgeperf.loadgen import QuerySample, SystemUnderTest
    from edgeperf.sut.pool import DirectSUT, WorkerPoolSUT

    seen: list[list[int]] = []

    def runner(indices):
        seen.append([int(i) for i in indices])
        return [b"\x00"] * len(indices)

    direct = DirectSUT(runner, max_batch=2)
    assert isinstance(direct, SystemUnderTest)
    direct.issue_query([QuerySample(1, 5), QuerySample(2, 7), QuerySample(3, 9)])
    assert seen == [[5, 7], [9]]
    pool = WorkerPoolSUT(runner, workers=1, batch_size=8)
    try:
        assert isinstance(pool, SystemUnderTest)
    finally:
        pool.close()


def test_worker_pool_runs_a_large_query_in_the_planners_order_full_batches_first():
    runner = Runner()
    done = []
    calls = []

    def planner(indices, batch_size):
        calls.append((len(indices), batch_size))
        order = np.argsort(-indices, kind="stable")  # descending
        return order, np.array([0, 3, 11, 19])  # pieces of 3, 8, 8 and 1 samples

    sut = WorkerPoolSUT(runner, workers=1, batch_size=8, planner=planner)
    import edgeperf.sut.pool as pool

    original = pool.complete_arrays
    pool.complete_arrays = lambda ids, payloads: done.extend(ids.tolist())
    seen = []
    runner_call = runner.__call__
    sut._runner = lambda indices: (seen.append(indices.tolist()), runner_call(indices))[1]
    try:
        sut.issue_query_arrays(np.arange(100, 120), np.arange(20))
        sut.close()
    finally:
        pool.complete_arrays = original
    assert calls == [(20, 8)] and sorted(done) == list(range(100, 120))
    # the two full pieces run as they are, first; the short ones (3 + 1 samples) are merged after
    assert seen[0] == list(range(16, 8, -1)) and seen[1] == list(range(8, 0, -1))
    assert sorted(seen[2]) == [0, 17, 18, 19]
