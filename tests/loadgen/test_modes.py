"""Test modes: SubmissionRun, FindPeakPerformance and the mode key of audit.config (spec §3.4, §10)."""

from __future__ import annotations


from harness import ImmediateSUT, RecordingQSL, log_settings

from edgeperf.loadgen import find_peak
from edgeperf.loadgen.effective import compute_effective
from edgeperf.loadgen.engine import TestResult, start_test
from edgeperf.loadgen.enums import TestMode, TestScenario
from edgeperf.loadgen.logs.accuracy import read_accuracy_log
from edgeperf.loadgen.logs.readers import read_detail_log
from edgeperf.loadgen.metrics import PerformanceResult, latency_stats
from edgeperf.loadgen.settings import TestSettings


def test_submission_run_is_an_accuracy_pass_then_a_performance_pass(tmp_path):
    s = TestSettings(
        scenario=TestScenario.SingleStream,
        mode=TestMode.SubmissionRun,
        min_duration_ms=100,
        min_query_count=10,
        single_stream_expected_latency_ns=1000,
    )
    sut, qsl = ImmediateSUT(), RecordingQSL(total=250, performance=100)
    result = start_test(sut, qsl, s, log_settings(tmp_path), audit_config=None)
    assert result.performance is not None and result.performance.valid
    detail = read_detail_log(tmp_path / "mlperf_log_detail.txt")
    messages = [r["value"] for r in detail.all("generic_message")]
    assert messages[0] == "Starting accuracy mode" and "Starting performance mode" in messages
    # three accuracy sets (100, 100, 50) then the performance set
    assert [len(x) for x in qsl.loads] == [100, 100, 50, 100]
    assert sut.flushes == 4 and len(sut.latency_reports) == 1
    records = read_accuracy_log(tmp_path / "mlperf_log_accuracy.json")
    assert sorted(r["qsl_idx"] for r in records) == list(range(250))
    # the performance series continues the sequence ids after the 250 accuracy samples
    counts = [r["value"] for r in detail.all("generated_query_count")]
    assert len(counts) == 4 and counts[:3] == [100, 100, 50]


def test_audit_config_overrides_mode_and_is_announced(tmp_path, monkeypatch):
    audit = tmp_path / "audit.config"
    audit.write_text(
        "*.*.mode = 2\n*.*.accuracy_log_rng_seed = 720381539243781796\n*.*.accuracy_log_sampling_target = 50\n"
    )
    s = TestSettings(
        scenario=TestScenario.SingleStream,
        mode=TestMode.AccuracyOnly,
        min_duration_ms=50,
        min_query_count=10,
        single_stream_expected_latency_ns=1000,
    )
    out = tmp_path / "logs"
    result = start_test(ImmediateSUT(), RecordingQSL(100, 100), s, log_settings(out), audit_config=str(audit))
    detail = read_detail_log(out / "mlperf_log_detail.txt")
    assert detail["effective_test_mode"] == "PerformanceOnly"
    assert detail["effective_accuracy_log_sampling_target"] == 50
    assert [r["value"] for r in detail.warnings()] == [
        "Found Audit Config file (audit.config). Overriding TestSettings from audit.config file."
    ]
    assert result.warning_count == 1
    assert len(read_accuracy_log(out / "mlperf_log_accuracy.json")) > 0


class _FakeTest:
    """Just enough of the engine's _Test for find_peak: pass/fail decided by a threshold."""

    multistream_v2 = False

    def __init__(self, passes):
        self.passes = passes
        self.tried = []
        self.messages = []
        self.errors = []
        self.finished = None

        class _Detail:
            def log(_, key, value, **kw):
                self.messages.append(value)

        self.detail = _Detail()

    def error(self, key, message):
        self.errors.append((key, message))

    def performance_series(self, eff, mode_name):
        value = eff.target_qps if eff.scenario is TestScenario.Server else eff.samples_per_query
        self.tried.append(value)
        ok = self.passes(value)
        stats = latency_stats([1, 2, 3], eff.target_latency_percentile)
        perf = PerformanceResult(
            eff.scenario,
            eff.samples_per_query,
            3,
            stats,
            None,
            None,
            True,
            True,
            ok,
            () if ok else ("Reduce target QPS to improve latency.",),
        )
        return perf, object()

    def finish_performance(self, perf, recorder, eff, mode_name):
        self.finished = (perf, eff)


def _eff(**fields):
    s = TestSettings(mode=TestMode.FindPeakPerformance, **fields)
    return compute_effective(s, 100)[0]


def test_find_peak_server_widens_then_bisects_to_the_precision():
    fake = _FakeTest(lambda qps: qps <= 437.5)
    result = TestResult(TestScenario.Server, TestMode.FindPeakPerformance)
    find_peak.find_peak_performance(fake, _eff(scenario=TestScenario.Server, server_target_qps=100.0), result)
    assert fake.tried[:4] == [100.0, 200.0, 400.0, 800.0]
    assert 437.4 <= result.find_peak_value <= 437.5
    assert fake.messages[-1] == f"FindPeakPerformance: Found peak performance field: {result.find_peak_value:.6f}"
    assert "FindPeakPerformance: Found boundaries: [400.000000, 800.000000)" in fake.messages
    assert fake.finished[1].target_qps == result.find_peak_value


def test_find_peak_multistream_bisects_integers():
    fake = _FakeTest(lambda spq: spq <= 13)
    result = TestResult(TestScenario.MultiStream, TestMode.FindPeakPerformance)
    find_peak.find_peak_performance(
        fake, _eff(scenario=TestScenario.MultiStream, multi_stream_samples_per_query=2), result
    )
    assert fake.tried[:4] == [2, 4, 8, 16]
    assert result.find_peak_value == 13


def test_find_peak_stops_when_the_lower_bound_already_fails():
    fake = _FakeTest(lambda qps: False)
    result = TestResult(TestScenario.Server, TestMode.FindPeakPerformance)
    find_peak.find_peak_performance(fake, _eff(scenario=TestScenario.Server, server_target_qps=100.0), result)
    assert fake.tried == [100.0]
    assert fake.errors == [
        (
            "error_runtime",
            "FindPeakPerformance: Initial lower bound does not satisfy "
            "performance constraints, msg: Reduce target QPS to improve latency.",
        )
    ]


def test_find_peak_is_refused_for_offline(tmp_path):
    s = TestSettings(scenario=TestScenario.Offline, mode=TestMode.FindPeakPerformance)
    result = start_test(ImmediateSUT(), RecordingQSL(10, 10), s, log_settings(tmp_path), audit_config=None)
    detail = read_detail_log(tmp_path / "mlperf_log_detail.txt")
    assert [r["value"] for r in detail.errors()] == [
        "Finding peak performance is only supported in MultiStream, MultiStreamFree, and Server scenarios."
    ]
    assert result.performance is None and result.error_count == 1
