"""`start_test`: one whole LoadGen test, from settings to closed log files (spec §2.4, §10).

The engine keeps the official separation of concerns: user settings and the effective settings
derived from them are both logged; the issue loop (``issue.py``) and completion bookkeeping
(``completion.py``) never format a log line; the log layer (``logs/``) writes on its own thread.
"""

from __future__ import annotations

import copy
import itertools
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from . import events as ev
from . import rng
from .api import QuerySampleLibrary, QuerySampleResponse, SystemUnderTest, report_latencies
from .completion import SeriesRecorder, SutAborted, SutStalled
from .effective import compute_effective, effective_records, requested_records, test_parameters_lines
from .enums import TestMode, TestScenario
from .header import CONTENTION_COUNTERS, version_records
from .issue import MSG_NATURAL_END, issue_series
from .logs.accuracy import AccuracyLog
from .logs.detail import DetailLog
from .logs.files import open_log_files
from .logs.formatting import power_timestamp, test_datetime
from .logs.summary import SummaryLog
from .logs.trace import TraceLog
from .metrics import PerformanceResult, SeriesMeasurements, compute_result
from .queries import AccuracyLogSampler, LoadableSet, accuracy_log_probability, generate_loadable_sets, generate_queries
from .settings import LogSettings, TestSettings
from .summary_text import headline_line, result_records, summary_lines
from ..errors import EdgeperfError

MSG_RAN_OUT = (
    "Ending early: Ran out of generated queries to issue before the minimum query count and test "
    "duration were reached. Please update the relevant expected latency or target qps in the "
    "TestSettings so they are more accurate."
)
MSG_AUDIT = "Found Audit Config file (audit.config). Overriding TestSettings from audit.config file."


class LoadGenRunError(EdgeperfError, RuntimeError):
    """A test that could not finish normally. The logs are closed; ``result`` has what was measured."""

    def __init__(self, message: str, result: "TestResult | None" = None):
        super().__init__(message)
        self.result = result


class SutError(LoadGenRunError):
    """The SUT raised from one of its callbacks."""


class SutStallError(LoadGenRunError):
    """The SUT stopped answering for longer than ``sut_stall_timeout_s``."""


@dataclass
class TestResult:
    """What `start_test` returns: the final performance result (if any) and log bookkeeping."""

    __test__ = False

    scenario: TestScenario
    mode: TestMode
    performance: PerformanceResult | None = None
    find_peak_value: float | int | None = None
    accuracy_records: int = 0
    error_count: int = 0
    warning_count: int = 0
    errors: list[str] = field(default_factory=list)
    log_paths: dict[str, str] = field(default_factory=dict)
    #: The summary's result line, e.g. ``90th percentile latency (ns) : 508841`` ("" without one).
    headline: str = ""

    @property
    def valid(self) -> bool | None:
        """The performance verdict, or None when the test had no performance part."""
        return None if self.performance is None else self.performance.valid


_TEST_NUMBERS = itertools.count()


class _ActiveTest:
    """Routes completions from any thread to the series currently running."""

    lock = threading.Lock()
    current: "_Test | None" = None


def query_samples_complete(responses: Sequence[QuerySampleResponse], response_cb=None) -> None:
    """Report completed samples; callable from any thread, also from inside ``issue_query``."""
    test = _ActiveTest.current
    recorder = test.recorder if test is not None else None
    if recorder is None:
        return
    if len(responses) == 1:
        r = responses[0]
        recorder.complete_one(r.id, r.data, r.size, response_cb, r)
        return
    ids = np.array([r.id for r in responses], dtype=np.int64)
    recorder.complete_many(ids, responses, response_cb, responses)


def abort_test(message: str) -> None:
    """Let a SUT end the running test because it cannot go on (say, its model failed).

    LoadGen stops waiting for answers, logs ``message`` as an error, closes the logs and raises
    `SutError` from `start_test`. Callable from any thread; does nothing when no test runs.
    """
    test = _ActiveTest.current
    if test is None:
        return
    test.abort_message = message
    recorder = test.recorder
    if recorder is not None:
        recorder.abort(message)


def log_sut_error(message: str) -> None:
    """Record a failure inside the SUT that does not end the test (one request that timed out, a
    server error on a batch) as an ``error_runtime`` record of the detail log.

    The run goes on; the error makes the checker treat its logs as invalid, as it does for every
    LoadGen error. Callable from any thread; does nothing when no test runs.
    """
    test = _ActiveTest.current
    if test is not None:
        test.error("error_runtime", str(message))


def complete_arrays(ids: np.ndarray, payloads: Sequence[Any] | None = None) -> None:
    """Vectorised completion: ``ids`` as a numpy array, optional per-sample bytes-like payloads."""
    test = _ActiveTest.current
    recorder = test.recorder if test is not None else None
    if recorder is None:
        return
    if len(ids) == 1:  # the common one-sample answer: the scalar path is several times cheaper
        recorder.complete_one(int(ids[0]), None if payloads is None else payloads[0], 0)
        return
    recorder.complete_many(np.asarray(ids, dtype=np.int64), payloads)


class _Test:
    """State of one `start_test` call."""

    def __init__(self, sut, qsl, settings: TestSettings, log_settings: LogSettings, listeners: Iterable):
        self.sut, self.qsl, self.settings, self.log_settings = sut, qsl, settings, log_settings
        self.bus = ev.EventBus(list(listeners))
        self.multistream_v2 = settings.ruleset == "v2.0"
        self.sampler = AccuracyLogSampler()
        self.next_seq_id = 0
        self.last_headline = ""  # the result line of the last summary written
        self.recorder: SeriesRecorder | None = None
        self.errors: list[str] = []
        self.accuracy_records = 0
        self.sut_name = str(_attr(sut, "name"))
        self.last_stall: SutStalled | None = None
        self.abort_message: str | None = None
        # Response ids differ from test to test, so a late answer from an earlier test is caught.
        self.id_offset = 1 + (next(_TEST_NUMBERS) << 40)
        self._unload_after: LoadableSet | None = None
        self.audit_path: str | os.PathLike | None = None

    # ------------------------------------------------------------------ logging helpers
    def error(self, key: str, message: str) -> None:
        self.errors.append(message)
        self.detail.log(key, message, is_error=True, stacklevel=2)

    def _record_error(self, message: str) -> None:
        self.error("error_runtime", message)

    def _accuracy_sink(self, seq_id: int, qsl_idx: int, data: bytes) -> None:
        self.accuracy.append(seq_id, qsl_idx, data)
        self.accuracy_records += 1

    # ---------------------------------------------------------------------- a series
    def run_series(self, eff, mode: TestMode, loaded: LoadableSet):
        """Generate and issue one series; wait for it; return (recorder, outcome, stalled)."""
        t0 = time.perf_counter_ns()
        gen = generate_queries(eff, loaded, mode)
        self.detail.log_group(
            [
                ("generated_query_count", gen.count),
                ("generated_samples_per_query", gen.logged_samples_per_query),
                ("generated_query_duration", gen.duration_ns),
            ]
        )
        self.trace.complete("GenerateQueries", t0, time.perf_counter_ns())
        accuracy = mode is TestMode.AccuracyOnly
        prob = accuracy_log_probability(eff)
        offset = rng.accuracy_log_offset(eff.accuracy_log_rng_seed)
        selected = self.sampler.select(gen.num_samples, prob, offset, log_all=accuracy)
        recorder = SeriesRecorder(
            self.next_seq_id,
            gen,
            log_all=accuracy,
            selected=selected,
            accuracy_sink=self._accuracy_sink,
            error_sink=self._record_error,
            id_offset=self.id_offset,
        )
        self.next_seq_id += gen.num_samples
        self.recorder = recorder
        if self.abort_message is not None:
            recorder.abort(self.abort_message)
        progress = ev.SeriesProgress(recorder, eff, mode.value, time.perf_counter_ns())
        self.bus.emit(lambda now: ev.SeriesStart(now, progress, mode, eff.scenario))
        t1 = time.perf_counter_ns()
        try:
            outcome = issue_series(self.sut, recorder, eff, mode, multistream_v2=self.multistream_v2)
        except Exception as exc:
            self._sut_failed("issue_query", exc)
        stalled = outcome.stalled
        if isinstance(stalled, SutAborted):
            self._sut_failed("its own abort_test call", stalled)
        self.trace.complete("IssueQueries", t1, time.perf_counter_ns())
        for message in outcome.errors:
            self.error("error_runtime", message)
        if outcome.natural_end:
            self.detail.log("generic_message", MSG_NATURAL_END)
        try:
            self.sut.flush_queries()
        except Exception as exc:
            self._sut_failed("flush_queries", exc)
        if outcome.ran_out:
            self.error("error_runtime", MSG_RAN_OUT)
        if stalled is None:
            try:
                recorder.wait_all(eff.sut_stall_timeout_s)
            except SutStalled as exc:
                stalled = exc
            except SutAborted as exc:
                self._sut_failed("its own abort_test call", exc)
        if stalled is not None:
            self.error("error_runtime", str(stalled))
            self.error(
                "error_runtime",
                f"Encountered incomplete samples at the end of a series of queries. count: {recorder.outstanding()}",
            )
        self.detail.log_group([(key, 0) for key in CONTENTION_COUNTERS])
        start_ns, start_wall = outcome.start_ns, outcome.start_wall_ns
        active_ns = max(0, recorder.max_completion_ns - start_ns)
        begin, end = power_timestamp(start_wall), power_timestamp(start_wall + active_ns)
        self.detail.log_group([("power_begin", begin), ("power_end", end)])
        self.bus.emit(lambda now: ev.PowerBegin(start_wall))
        self.bus.emit(lambda now: ev.PowerEnd(start_wall + active_ns))
        self.recorder = None
        return recorder, outcome, stalled

    def _sut_failed(self, where: str, exc: BaseException) -> None:
        if isinstance(exc, SutAborted):
            message = f"The SUT aborted the test: {exc}"
        else:
            message = f"The SUT raised {type(exc).__name__} from {where}: {exc}"
        self.error("error_runtime", message)
        raise SutError(message) from exc

    def measurements(self, recorder: SeriesRecorder, outcome, eff) -> SeriesMeasurements:
        """Turn a finished performance series into the inputs of `compute_result`."""
        issued = outcome.queries_issued
        spq = recorder.spq
        lat = _completed(recorder.latency[: issued * spq])
        start = outcome.start_ns
        final = max(issued - 1, 0)
        query_lat = intervals = None
        scenario = eff.scenario
        multi = scenario in (TestScenario.MultiStream, TestScenario.MultiStreamFree)
        if multi:
            done = recorder.query_done[:issued]
            query_lat = (done - recorder.scheduled[:issued])[done >= 0]
            if scenario is TestScenario.MultiStreamFree or not self.multistream_v2:
                intervals = self._intervals(outcome, eff, query_lat, len(query_lat))
        done_final = int(recorder.query_done[final]) if issued else start
        return SeriesMeasurements(
            scenario=scenario,
            samples_per_query=eff.samples_per_query,
            queries_issued=issued,
            sample_latencies=lat,
            final_query_issued_ns=outcome.final_issued_ns,
            final_query_scheduled_ns=recorder.queries.delta(final) if issued else 0,
            final_query_all_done_ns=max(0, done_final - start),
            query_latencies=query_lat,
            query_intervals=intervals,
        )

    @staticmethod
    def _intervals(outcome, eff, query_lat: np.ndarray, issued: int) -> np.ndarray:
        """Per-query intervals of §8.3 step 4 (MultiStream v1.1 and MultiStreamFree)."""
        k = eff.max_async_queries
        result = np.zeros(issued, dtype=np.int64)
        steps = outcome.intervals
        head = max(0, issued - k)
        if head:
            result[:head] = steps[k : k + head] if steps is not None else 1
        tail_lat = query_lat[head:issued] / 1e9
        result[head:] = np.ceil(eff.target_qps * tail_lat).astype(np.int64)
        return result

    # ---------------------------------------------------------------------- modes
    def performance_series(self, eff, mode_name: str) -> tuple[PerformanceResult, SeriesRecorder]:
        """Load the first set, run one performance series, unload; return its result."""
        sets = generate_loadable_sets(
            _attr(self.qsl, "total_sample_count"),
            eff.performance_sample_count,
            eff.qsl_rng_seed,
            eff.scenario,
            eff.samples_per_query,
        )
        loaded = sets[0]
        self._load(loaded)
        wall0, perf0 = time.time_ns(), time.perf_counter_ns()
        if eff.print_timestamps:
            print(f"Loadgen :: Perf mode start. system_clock Timestamp = {wall0 // 1_000_000_000}")
        recorder, outcome, stalled = self.run_series(eff, TestMode.PerformanceOnly, loaded)
        self._clock_check(eff, wall0, perf0)
        measured = self.measurements(recorder, outcome, eff)
        result = compute_result(measured, eff, multistream_v2=self.multistream_v2)
        if self.multistream_v2:
            from .early_stopping import evaluate

            result = evaluate(result, eff, measured.sample_latencies, measured.query_latencies)
        self.bus.emit(
            lambda now: ev.SeriesEnd(
                now, result, ev.SeriesSnapshot.capture(recorder, result.queries_issued, outcome.start_ns), eff
            )
        )
        if stalled is not None:
            self._unload(loaded)
            self.last_stall = stalled
        else:
            self._unload_after = loaded
        return result, recorder

    def finish_performance(self, result: PerformanceResult, recorder: SeriesRecorder, eff, mode_name: str) -> None:
        """Report latencies to the SUT, log ``result_*`` and write the summary (§10)."""
        issued = result.queries_issued * recorder.spq
        try:
            report_latencies(self.sut, _completed(recorder.latency[:issued]).copy())
        except Exception as exc:
            self._sut_failed("report_latency_results", exc)
        self.detail.log_group(result_records(result, eff, multistream_v2=self.multistream_v2))
        es_lines = getattr(result.early_stopping, "summary_lines", None)
        self.last_headline = headline_line(result, eff, multistream_v2=self.multistream_v2)
        for line in summary_lines(
            result,
            eff,
            self.sut_name,
            mode_name,
            test_parameters_lines(eff),
            multistream_v2=self.multistream_v2,
            early_stopping_lines=list(es_lines) if es_lines else None,
        ):
            self.summary.write_line(line)
        loaded = self._unload_after
        if loaded is not None:
            self._unload(loaded)
            self._unload_after = None

    def _clock_check(self, eff, wall0: int, perf0: int) -> None:
        wall_ns = time.time_ns() - wall0
        perf_ns = time.perf_counter_ns() - perf0
        wall_ms, perf_ms = wall_ns // 1_000_000, perf_ns // 1_000_000
        # Two Python clocks read back to back: compare in ns, and only over a meaningful span.
        ratio = perf_ns / wall_ns if wall_ns >= 100_000_000 else 1.0
        if ratio > 1.01 or ratio < 0.99:
            self.error("error_runtime", f"PerfClock and system_clock differ by more than 1%!  pc_sc_ratio: {ratio:g}")
        elif ratio > 1.001 or ratio < 0.999:
            self.detail.log(
                "warning_generic_message",
                f"PerfClock and system_clock differ by more than 0.1%!  pc_sc_ratio: {ratio:g}",
                is_warning=True,
            )
        if eff.print_timestamps:
            print(f"Loadgen :: Perf mode stop. systme_clock Timestamp = {time.time_ns() // 1_000_000_000}")
            print(f"Loadgen :: PerfClock Perf duration = {perf_ms}ms")
            print(f"Loadgen :: system_clock Perf duration = {wall_ms}ms")
            print(f"Loadgen :: PerfClock/system_clock ratio = {ratio:.4f}")

    def accuracy_pass(self, eff) -> None:
        """Every loadable set once, each sample exactly once (§10 AccuracyOnly)."""
        self.detail.log("generic_message", "Starting accuracy mode")
        sets = generate_loadable_sets(
            _attr(self.qsl, "total_sample_count"),
            eff.performance_sample_count,
            eff.qsl_rng_seed,
            eff.scenario,
            eff.samples_per_query,
        )
        for loaded in sets:
            self._load(loaded)
            _, _, stalled = self.run_series(eff, TestMode.AccuracyOnly, loaded)
            self._unload(loaded)
            if stalled is not None:
                self.last_stall = stalled
                return

    def _load(self, loaded: LoadableSet) -> None:
        indices = loaded.indices.tolist()
        self.detail.log("loaded_qsl_set", indices)
        t0 = time.perf_counter_ns()
        try:
            self.qsl.load_samples_to_ram(indices)
        except Exception as exc:
            message = f"The QSL raised {type(exc).__name__} from load_samples_to_ram: {exc}"
            self.error("error_runtime", message)
            raise SutError(message) from exc
        self.trace.complete("LoadSamples", t0, time.perf_counter_ns())

    def _unload(self, loaded: LoadableSet) -> None:
        try:
            self.qsl.unload_samples_from_ram(loaded.indices.tolist())
        except Exception as exc:
            message = f"The QSL raised {type(exc).__name__} from unload_samples_from_ram: {exc}"
            self.error("error_runtime", message)
            raise SutError(message) from exc


def _completed(latencies: np.ndarray) -> np.ndarray:
    """The recorded latencies, without the -1 placeholders of samples never answered."""
    return latencies[latencies >= 0] if len(latencies) and latencies.min() < 0 else latencies


def _attr(obj: Any, name: str) -> Any:
    """Read a protocol member that may be a property or a zero-argument method."""
    value = getattr(obj, name)
    return value() if callable(value) else value


def start_test(
    sut: SystemUnderTest,
    qsl: QuerySampleLibrary,
    settings: TestSettings,
    log_settings: LogSettings | None = None,
    *,
    audit_config: str | os.PathLike | None = "audit.config",
    listeners: Iterable[ev.Listener] = (),
) -> TestResult:
    """Run a whole test and write the four log files; return the result.

    ``audit_config`` names the compliance override file; as in the official LoadGen it is applied
    only if it exists (relative paths are taken from the current directory). Raises
    `LoadGenRunError` (logs closed, partial result attached) when the SUT raises or stalls.
    """
    log_settings = log_settings or LogSettings()
    out = log_settings.log_output
    started_wall = time.time()
    paths = open_log_files(out, datetime_str=test_datetime(started_wall))._asdict()
    test = _Test(sut, qsl, settings, log_settings, listeners)
    test.audit_path = audit_config
    origin = time.perf_counter_ns()
    test.detail = DetailLog(paths["detail"], origin_ns=origin, copy_to_stdout=out.copy_detail_to_stdout)
    test.summary = SummaryLog(paths["summary"], copy_to_stdout=out.copy_summary_to_stdout)
    test.accuracy = AccuracyLog(paths["accuracy"])
    test.trace = TraceLog(paths["trace"], enabled=log_settings.enable_trace, origin_ns=origin)
    result = TestResult(scenario=settings.scenario, mode=settings.mode, log_paths={k: str(v) for k, v in paths.items()})
    failure: LoadGenRunError | None = None
    with _ActiveTest.lock:
        if _ActiveTest.current is not None:
            raise RuntimeError("start_test is already running in this process; LoadGen runs one test at a time")
        _ActiveTest.current = test
    try:
        _run(test, settings, started_wall, result)
    except LoadGenRunError as exc:
        failure = exc
    finally:
        _ActiveTest.current = None
        result.accuracy_records = test.accuracy_records
        result.errors = list(test.errors)
        result.headline = test.last_headline
        _close_logs(test, result)
    if failure is not None:
        failure.result = result
        raise failure
    stalled = test.last_stall
    if stalled is not None:
        raise SutStallError(str(stalled), result)
    test.bus.emit(lambda now: ev.TestEnd(now, result))
    return result


def _close_logs(test: _Test, result: TestResult) -> None:
    test.accuracy.close()
    test.trace.close()
    test.detail.close()
    result.error_count = test.detail.error_count
    result.warning_count = test.detail.warning_count
    test.summary.close(test.detail.warning_count, test.detail.error_count)


def _run(test: _Test, settings: TestSettings, started_wall: float, result: TestResult) -> None:
    detail = test.detail
    detail.log_group(version_records())
    qsl = test.qsl
    detail.log_group(
        [
            ("test_datetime", test_datetime(started_wall)),
            ("sut_name", test.sut_name),
            ("qsl_name", str(_attr(qsl, "name"))),
            ("qsl_reported_total_count", int(_attr(qsl, "total_sample_count"))),
            ("qsl_reported_performance_count", int(_attr(qsl, "performance_sample_count"))),
        ]
    )
    for problem in settings.drain_config_errors():
        test.error("error_invalid_config", _official_text(problem))
    settings = _apply_audit_config(test, settings)
    eff, problems = compute_effective(settings, int(_attr(qsl, "performance_sample_count")))
    for problem in problems:
        test.error("error_invalid_test_settings", str(problem))
    detail.log_group(requested_records(settings))
    detail.log_group(effective_records(eff))
    result.scenario, result.mode = eff.scenario, eff.mode
    test.bus.emit(lambda now: ev.TestStart(now, eff.scenario, eff.mode, eff))
    mode = eff.mode
    if mode is TestMode.AccuracyOnly:
        test.accuracy_pass(eff)
    elif mode is TestMode.PerformanceOnly:
        detail.log("generic_message", "Starting performance mode")
        perf, recorder = test.performance_series(eff, mode.value)
        test.finish_performance(perf, recorder, eff, mode.value)
        result.performance = perf
    elif mode is TestMode.SubmissionRun:
        test.accuracy_pass(eff)
        if test.last_stall is None:
            detail.log("generic_message", "Starting performance mode")
            perf, recorder = test.performance_series(eff, mode.value)
            test.finish_performance(perf, recorder, eff, mode.value)
            result.performance = perf
    else:
        from .find_peak import find_peak_performance

        find_peak_performance(test, eff, result)


def _apply_audit_config(test: _Test, settings: TestSettings) -> TestSettings:
    """Apply ``audit.config`` from the working directory on top of everything (§3.4)."""
    if test.audit_path is None:
        return settings
    path = Path(test.audit_path)
    if not path.is_file():
        return settings
    test.detail.log("warning_generic_message", MSG_AUDIT, is_warning=True)
    audited = copy.copy(settings)  # a shallow copy keeps the subclass of the drop-in module
    audited.pending_config_errors, audited.config_warnings = [], []
    status = audited.from_config(str(path), "*", settings.scenario.value)
    for problem in audited.drain_config_errors():
        test.error("error_invalid_config", _official_text(problem))
    return audited if status == 0 else settings


def _official_text(problem) -> str:
    """The official message of a config diagnostic (what the C++ LoadGen would log)."""
    return getattr(problem, "message", None) or str(problem)
