"""SUTs that misbehave (spec loadgen.md §13.2, §9.2) and edgeperf's rules for them.

* a SUT/QSL callback that raises ends the test with `SutError`; the logs are closed and valid;
* a SUT that stops answering ends it with `SutStallError` after ``sut_stall_timeout_s``
  (the official LoadGen would hang forever);
* unknown, duplicate and old response ids are logged as ``error_runtime`` and ignored;
* completion from inside ``issue_query`` and from many threads at once never deadlocks and
  records every sample;
* a bad config line is reported with its file and line.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections import Counter

import numpy as np
import pytest

from edgeperf.loadgen.api import QuerySampleResponse
from edgeperf.loadgen.engine import (
    LoadGenRunError,
    SutError,
    SutStallError,
    complete_arrays,
    query_samples_complete,
    start_test,
)
from edgeperf.loadgen.enums import TestMode, TestScenario
from edgeperf.loadgen.errors import ConfigError
from edgeperf.loadgen.logs.accuracy import read_accuracy_log
from edgeperf.loadgen.logs.readers import read_detail_log, read_summary_log
from edgeperf.loadgen.logs.summary import parse_summary_footer
from edgeperf.loadgen.settings import LogOutputSettings, LogSettings, TestSettings

TOTAL, PERF = 48, 20  # loadable sets of 20, 20, 8
MSG_TWICE = "Attempted to complete a sample twice."


def payload(index: int) -> bytes:
    return index.to_bytes(4, "little") + b"\xab"


def make_settings(scenario: str, mode: str = "PerformanceOnly", **overrides) -> TestSettings:
    values = dict(
        scenario=TestScenario(scenario),
        mode=TestMode(mode),
        min_duration_ms=200,
        min_query_count=8,
        single_stream_expected_latency_ns=1_000,  # generate more than any machine can issue in 200 ms
        multi_stream_target_qps=50,
        multi_stream_samples_per_query=4,
        server_target_qps=300,
        offline_expected_qps=200,
        sut_stall_timeout_s=10.0,
    )
    values.update(overrides)
    return TestSettings(**values)


def log_settings(outdir) -> LogSettings:
    return LogSettings(log_output=LogOutputSettings(outdir=str(outdir)), enable_trace=True)


@pytest.fixture(autouse=True)
def _private_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray audit.config


class QSL:
    name = "TestQSL"

    def __init__(self, total: int = TOTAL, performance: int = PERF, fail_on_load: bool = False):
        self.total_sample_count = total
        self.performance_sample_count = performance
        self.fail_on_load = fail_on_load
        self.loads: list[list[int]] = []
        self.unloads: list[list[int]] = []

    def load_samples_to_ram(self, indices):
        if self.fail_on_load:
            raise OSError("disk on fire")
        self.loads.append(list(indices))

    def unload_samples_from_ram(self, indices):
        self.unloads.append(list(indices))


class BaseSUT:
    """Completes every sample inside issue_query unless a subclass decides otherwise."""

    name = "MisbehavingSUT"

    def __init__(self):
        self.issued = 0
        self.queries = 0
        self.flushes = 0
        self.reports: list[np.ndarray] = []

    def issue_query(self, samples):
        self.queries += 1
        self.issued += len(samples)
        self.answer(samples)

    def answer(self, samples):
        query_samples_complete([QuerySampleResponse(s.id, payload(s.index), 5) for s in samples])

    def flush_queries(self):
        self.flushes += 1

    def report_latency_results(self, latencies):
        self.reports.append(np.asarray(latencies))


def run_in_thread(fn, timeout_s: float = 30.0):
    """Run ``fn`` in a daemon thread; fail (instead of hanging the suite) if it deadlocks."""
    box: dict = {}

    def target():
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout_s)
    assert not t.is_alive(), f"start_test did not return within {timeout_s} s (deadlock?)"
    if "error" in box:
        raise box["error"]
    return box["result"]


def check_logs_closed(paths: dict) -> tuple[dict, object]:
    """All four files exist and are complete: footer, valid JSON, parseable detail log."""
    for kind in ("summary", "detail", "accuracy", "trace"):
        assert paths[kind] and os.path.isfile(paths[kind]), kind
    with open(paths["summary"], encoding="utf-8") as f:
        summary_text = f.read()
    footer = parse_summary_footer(summary_text)
    with open(paths["accuracy"], encoding="utf-8") as f:
        accuracy = json.load(f)
    assert isinstance(accuracy, list)
    with open(paths["trace"], encoding="utf-8") as f:
        trace = f.read()
    if trace:
        json.loads(trace)
    detail = read_detail_log(paths["detail"])
    assert footer[1] == len(detail.errors())
    return {"footer": footer, "accuracy": accuracy, "summary": summary_text}, detail


def error_values(detail) -> list[str]:
    return [r["value"] for r in detail.errors()]


# ---------------------------------------------------------------------------- raising callbacks


class RaisingSUT(BaseSUT):
    def __init__(self, fail_at_query: int):
        super().__init__()
        self.fail_at_query = fail_at_query

    def issue_query(self, samples):
        if self.queries == self.fail_at_query:
            raise ZeroDivisionError("model exploded")
        super().issue_query(samples)


@pytest.mark.parametrize("mode", ["PerformanceOnly", "AccuracyOnly"])
@pytest.mark.parametrize("scenario", ["SingleStream", "MultiStream", "Server", "Offline"])
def test_issue_query_raises(tmp_path, scenario, mode):
    fail_at = 0 if scenario == "Offline" else 3
    sut = RaisingSUT(fail_at_query=fail_at)
    with pytest.raises(SutError) as info:
        run_in_thread(lambda: start_test(sut, QSL(), make_settings(scenario, mode), log_settings(tmp_path)))
    message = str(info.value)
    assert "ZeroDivisionError" in message and "model exploded" in message and "issue_query" in message
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    result = info.value.result
    assert result is not None and result.errors == [message]

    files, detail = check_logs_closed(result.log_paths)
    runtime = [r["value"] for r in detail.all("error_runtime")]
    assert runtime == [message]
    assert files["footer"] == (0, 1)
    assert "1 ERROR encountered. See detailed log." in files["summary"]
    if mode == "AccuracyOnly":
        # the samples answered before the failure are in the (closed, valid) accuracy log
        assert len(files["accuracy"]) == sut.issued
        for rec in files["accuracy"]:
            assert bytes.fromhex(rec["data"]) == payload(rec["qsl_idx"])

    # The engine is free again: the next test runs normally.
    good = BaseSUT()
    ok = run_in_thread(lambda: start_test(good, QSL(), make_settings("Offline"), log_settings(tmp_path / "next")))
    assert ok.error_count == 0 and good.flushes == 1


def test_flush_queries_raises(tmp_path):
    class FlushRaises(BaseSUT):
        def flush_queries(self):
            raise RuntimeError("cannot flush")

    with pytest.raises(SutError, match=r"RuntimeError from flush_queries: cannot flush") as info:
        run_in_thread(lambda: start_test(FlushRaises(), QSL(), make_settings("Offline"), log_settings(tmp_path)))
    _, detail = check_logs_closed(info.value.result.log_paths)
    assert any("cannot flush" in v for v in error_values(detail))


def test_report_latency_results_raises(tmp_path):
    class ReportRaises(BaseSUT):
        def report_latency_results(self, latencies):
            raise ValueError("bad report")

    with pytest.raises(SutError, match="report_latency_results: bad report") as info:
        run_in_thread(lambda: start_test(ReportRaises(), QSL(), make_settings("Offline"), log_settings(tmp_path)))
    check_logs_closed(info.value.result.log_paths)


def test_load_samples_raises(tmp_path):
    sut = BaseSUT()
    with pytest.raises(SutError, match=r"QSL raised OSError from load_samples_to_ram: disk on fire") as info:
        run_in_thread(
            lambda: start_test(sut, QSL(fail_on_load=True), make_settings("SingleStream"), log_settings(tmp_path))
        )
    assert sut.issued == 0
    _, detail = check_logs_closed(info.value.result.log_paths)
    assert any("disk on fire" in v for v in error_values(detail))


# ---------------------------------------------------------------------------------- stalls


class StallingSUT(BaseSUT):
    """Answers the first ``answered`` samples, then never again."""

    def __init__(self, answered: int):
        super().__init__()
        self.answered = answered
        self.done = 0

    def answer(self, samples):
        for s in samples:
            if self.done < self.answered:
                self.done += 1
                query_samples_complete([QuerySampleResponse(s.id, payload(s.index), 5)])


@pytest.mark.parametrize(
    "scenario,mode,answered",
    [
        ("SingleStream", "PerformanceOnly", 0),
        ("SingleStream", "AccuracyOnly", 5),
        ("Server", "PerformanceOnly", 7),
        ("Offline", "PerformanceOnly", 10),
        ("Offline", "AccuracyOnly", 0),
        ("MultiStream", "AccuracyOnly", 0),
        ("MultiStream", "PerformanceOnly", 0),
    ],
)
def test_stalled_sut_raises_sut_stall_error(tmp_path, scenario, mode, answered):
    sut = StallingSUT(answered)
    settings = make_settings(scenario, mode, sut_stall_timeout_s=0.5)
    t0 = time.monotonic()
    with pytest.raises(SutStallError) as info:
        run_in_thread(lambda: start_test(sut, QSL(), settings, log_settings(tmp_path)))
    elapsed = time.monotonic() - t0
    assert elapsed < 5.0, elapsed
    outstanding = sut.issued - sut.done
    assert outstanding > 0
    message = str(info.value)
    assert f"{outstanding} sample(s) were outstanding" in message
    assert "0.5 s" in message
    files, detail = check_logs_closed(info.value.result.log_paths)
    errors = error_values(detail)
    assert message in errors
    assert f"Encountered incomplete samples at the end of a series of queries. count: {outstanding}" in errors
    assert files["footer"][1] == len(errors) >= 2
    if mode == "AccuracyOnly":
        assert len(files["accuracy"]) == sut.done


def test_slow_but_steady_sut_is_not_a_stall(tmp_path):
    """The stall timer measures time since the last completion, not the length of the run."""

    class Slow(BaseSUT):
        def answer(self, samples):
            def later():
                for s in samples:
                    time.sleep(0.05)
                    query_samples_complete([QuerySampleResponse(s.id, b"", 0)])

            threading.Thread(target=later, daemon=True).start()

    sut = Slow()
    settings = make_settings("Offline", sut_stall_timeout_s=0.3, offline_expected_qps=60)
    result = run_in_thread(lambda: start_test(sut, QSL(), settings, log_settings(tmp_path)))
    assert sut.issued * 0.05 > 0.3  # the whole query takes longer than the stall timeout
    assert result.error_count == 0
    assert len(sut.reports[0]) == sut.issued and (sut.reports[0] > 0).all()


# ------------------------------------------------------------------- bad and duplicate ids


def test_unknown_response_ids_are_logged_and_ignored(tmp_path):
    class Unknown(BaseSUT):
        def answer(self, samples):
            super().answer(samples)
            if self.queries == 1:
                query_samples_complete([QuerySampleResponse(10**9, b"", 0)])  # one-response path
                query_samples_complete([QuerySampleResponse(0, b"", 0), QuerySampleResponse(10**9 + 1, b"", 0)])

    sut = Unknown()
    result = run_in_thread(lambda: start_test(sut, QSL(), make_settings("SingleStream"), log_settings(tmp_path)))
    files, detail = check_logs_closed(result.log_paths)
    errors = error_values(detail)
    assert len(errors) == 3
    for bad in (10**9, 0, 10**9 + 1):
        assert any(f"unknown response id: {bad} " in e for e in errors), (bad, errors)
    assert all(r["key"] == "error_runtime" for r in detail.errors())
    # the run itself went on normally
    assert result.performance is not None and result.performance.queries_issued == sut.queries
    assert len(sut.reports) == 1 and (sut.reports[0] > 0).all()
    assert read_summary_log(result.log_paths["summary"])["Scenario"] == "SingleStream"


def test_duplicate_completion_keeps_first_latency(tmp_path):
    class Twice(BaseSUT):
        def answer(self, samples):
            super().answer(samples)
            time.sleep(0.03)
            super().answer(samples)  # a late duplicate must not overwrite the latency

    sut = Twice()
    settings = make_settings("SingleStream", single_stream_expected_latency_ns=1_000_000, min_query_count=3)
    result = run_in_thread(lambda: start_test(sut, QSL(), settings, log_settings(tmp_path)))
    files, detail = check_logs_closed(result.log_paths)
    assert error_values(detail) == [MSG_TWICE] * sut.issued
    assert files["footer"][1] == sut.issued
    latencies = sut.reports[0]
    assert len(latencies) == sut.issued and (latencies > 0).all()
    assert latencies.max() < 30_000_000


def test_duplicates_appear_in_accuracy_log(tmp_path):
    """§9.2 step 4: the duplicate's accuracy record is written before it is rejected (as in C++)."""

    class TwiceBatched(BaseSUT):
        def answer(self, samples):
            ids = np.array([s.id for s in samples], dtype=np.int64)
            data = [payload(s.index) for s in samples]
            complete_arrays(ids, data)
            complete_arrays(ids, data)

    sut = TwiceBatched()
    result = run_in_thread(
        lambda: start_test(sut, QSL(), make_settings("Offline", "AccuracyOnly"), log_settings(tmp_path))
    )
    files, detail = check_logs_closed(result.log_paths)
    assert error_values(detail) == [MSG_TWICE] * TOTAL
    counts = Counter(r["qsl_idx"] for r in read_accuracy_log(result.log_paths["accuracy"]))
    assert counts == Counter({i: 2 for i in range(TOTAL)})


def test_duplicate_within_multisample_query_does_not_finish_it(tmp_path):
    """A duplicate of sample 0 must not stand in for the still missing sample 1 of the query."""

    class DupFirst(BaseSUT):
        def answer(self, samples):
            first, second = samples
            query_samples_complete([QuerySampleResponse(first.id, b"", 0)])
            query_samples_complete([QuerySampleResponse(first.id, b"", 0)])

            def later():
                time.sleep(0.02)
                query_samples_complete([QuerySampleResponse(second.id, b"", 0)])

            threading.Thread(target=later, daemon=True).start()

    sut = DupFirst()
    settings = make_settings(
        "MultiStream", multi_stream_samples_per_query=2, multi_stream_target_qps=20, min_query_count=3
    )
    result = run_in_thread(lambda: start_test(sut, QSL(), settings, log_settings(tmp_path)))
    _, detail = check_logs_closed(result.log_paths)
    assert error_values(detail) == [MSG_TWICE] * sut.queries
    assert result.performance.query_stats.min >= 20_000_000


def test_completion_of_an_old_sample(tmp_path):
    """In accuracy mode, answering a sample of the previous loadable set again is an 'old sample'."""

    class Old(BaseSUT):
        def __init__(self):
            super().__init__()
            self.first_id = None

        def answer(self, samples):
            super().answer(samples)
            if self.first_id is None:
                self.first_id = samples[0].id
            if self.issued == PERF + 1:  # first query of the second set
                query_samples_complete([QuerySampleResponse(self.first_id, b"", 0)])

    sut = Old()
    result = run_in_thread(
        lambda: start_test(sut, QSL(), make_settings("SingleStream", "AccuracyOnly"), log_settings(tmp_path))
    )
    files, detail = check_logs_closed(result.log_paths)
    assert error_values(detail) == [
        f"Received completion for an old sample. Min expected id: {PERF} Actual id: 0"  # seq_id of the first sample
    ]
    assert sorted(r["qsl_idx"] for r in files["accuracy"]) == list(range(TOTAL))


# ------------------------------------------------------------------------------ threading


@pytest.mark.parametrize("scenario", ["SingleStream", "MultiStream", "Server", "Offline"])
def test_reentrant_completion_records_every_sample(tmp_path, scenario):
    """Completion from inside issue_query, one by one and in batches through complete_arrays."""

    class Reentrant(BaseSUT):
        def answer(self, samples):
            singles, rest = samples[:1], samples[1:]
            query_samples_complete([QuerySampleResponse(s.id, payload(s.index), 5) for s in singles])
            for start in range(0, len(rest), 3):
                chunk = rest[start : start + 3]
                complete_arrays(np.array([s.id for s in chunk]), [payload(s.index) for s in chunk])

    sut = Reentrant()
    result = run_in_thread(
        lambda: start_test(sut, QSL(), make_settings(scenario, "AccuracyOnly"), log_settings(tmp_path))
    )
    files, detail = check_logs_closed(result.log_paths)
    assert detail.errors() == []
    records = files["accuracy"]
    assert len(records) == sut.issued
    assert {r["qsl_idx"] for r in records} == set(range(TOTAL))
    for r in records:
        assert bytes.fromhex(r["data"]) == payload(r["qsl_idx"])


class PoolSUT(BaseSUT):
    """issue_query only queues; worker threads complete in batches, concurrently."""

    name = "PoolSUT"

    def __init__(self, workers: int = 4, batch: int = 6):
        super().__init__()
        self.q: queue.Queue = queue.Queue()
        self.batch = batch
        self.completed = 0
        self._lock = threading.Lock()
        self.workers = [threading.Thread(target=self._work, args=(w,), daemon=True) for w in range(workers)]
        for t in self.workers:
            t.start()

    def answer(self, samples):
        for s in samples:
            self.q.put((s.id, s.index))

    def _work(self, worker: int):
        while True:
            item = self.q.get()
            if item is None:
                return
            items = [item]
            while len(items) < self.batch:
                try:
                    nxt = self.q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self.q.put(None)  # leave the stop signal for this worker's next turn
                    break
                items.append(nxt)
            if worker % 2:
                complete_arrays(np.array([i for i, _ in items], dtype=np.int64), [payload(x) for _, x in items])
            else:
                query_samples_complete([QuerySampleResponse(i, payload(x), 5) for i, x in items])
            with self._lock:
                self.completed += len(items)

    def stop(self):
        for _ in self.workers:
            self.q.put(None)
        for t in self.workers:
            t.join(5)


@pytest.mark.parametrize("scenario", ["Server", "Offline"])
@pytest.mark.parametrize("mode", ["PerformanceOnly", "AccuracyOnly"])
def test_concurrent_completion_from_a_thread_pool(tmp_path, scenario, mode):
    sut = PoolSUT()
    qsl = QSL(total=400, performance=200)
    settings = make_settings(scenario, mode, server_target_qps=2000, offline_expected_qps=4000)
    try:
        result = run_in_thread(lambda: start_test(sut, qsl, settings, log_settings(tmp_path)))
    finally:
        sut.stop()
    files, detail = check_logs_closed(result.log_paths)
    assert detail.errors() == []
    assert sut.completed == sut.issued
    if mode == "PerformanceOnly":
        assert len(sut.reports) == 1
        latencies = sut.reports[0]
        assert len(latencies) == sut.issued and (latencies > 0).all()
        assert result.performance.sample_stats.count == sut.issued
    else:
        records = files["accuracy"]
        assert sorted(r["qsl_idx"] for r in records) == list(range(400))
        for r in records:
            assert bytes.fromhex(r["data"]) == payload(r["qsl_idx"])


# ---------------------------------------------------------------------------------- config


def test_bad_config_line_names_file_and_line(tmp_path):
    conf = tmp_path / "user.conf"
    conf.write_text("# my settings\n*.SingleStream.min_duration = 1000\nresnet50.SingleStream.min_query_count 7\n")
    settings = TestSettings()
    with pytest.raises(ConfigError) as info:
        settings.load_config(conf, "resnet50", "SingleStream")
    err = info.value
    text = str(err)
    assert f"{conf}:3" in text
    assert "resnet50.SingleStream.min_query_count 7" in text
    assert "expected 'key=value', line=3" in text
    assert (err.file, err.line) == (str(conf), 3)
    assert settings.min_duration_ms == 10_000  # nothing applied

    bad_value = tmp_path / "value.conf"
    bad_value.write_text("*.SingleStream.min_duration = soon\n")
    with pytest.raises(ConfigError, match=r"value\.conf:1") as info:
        settings.load_config(bad_value, "resnet50", "SingleStream")
    assert "value needs to be integer or double, line=1" in str(info.value)


def test_lenient_config_error_reaches_the_detail_log(tmp_path):
    conf = tmp_path / "user.conf"
    conf.write_text("*.Offline.target_qps = 200\n*.Offline.min_duration = = 5\n")
    settings = make_settings("Offline")
    assert settings.from_config(conf, "resnet50", "Offline") == -22
    result = run_in_thread(lambda: start_test(BaseSUT(), QSL(), settings, log_settings(tmp_path / "out")))
    _, detail = check_logs_closed(result.log_paths)
    config_errors = [r["value"] for r in detail.all("error_invalid_config")]
    assert len(config_errors) == 1 and "line=2" in config_errors[0]
    assert result.error_count == 1


def test_loadgen_run_error_hierarchy():
    assert issubclass(SutError, LoadGenRunError) and issubclass(SutStallError, LoadGenRunError)
