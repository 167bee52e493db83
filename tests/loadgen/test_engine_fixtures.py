"""End-to-end LoadGen runs checked against real v1.1 logs (spec loadgen.md §5.7, §7, §9.3, §10)."""

from __future__ import annotations

from fixture_paths import ALIBABA_SS, ALIBABA_TEST01_SS
from harness import ImmediateSUT, RecordingQSL, index_bytes, log_settings

from edgeperf.loadgen.engine import start_test
from edgeperf.loadgen.enums import TestMode, TestScenario
from edgeperf.loadgen.logs.accuracy import read_accuracy_log
from edgeperf.loadgen.logs.readers import read_detail_log
from edgeperf.loadgen.settings import TestSettings


def _settings_from_detail(detail) -> TestSettings:
    """TestSettings carrying the requested_* values a real detail log recorded."""
    s = TestSettings(scenario=TestScenario(detail.first("requested_scenario")["value"]))
    for rec in detail:
        key = rec["key"]
        if key.startswith("requested_") and key not in ("requested_scenario", "requested_test_mode"):
            setattr(s, key[len("requested_") :], rec["value"])
    return s


def test_accuracy_only_reproduces_the_real_qsl_idx_order(tmp_path):
    real = read_detail_log(ALIBABA_SS / "accuracy" / "mlperf_log_detail.txt")
    settings = _settings_from_detail(real)
    settings.mode = TestMode.AccuracyOnly
    total = real.first("qsl_reported_total_count")["value"]
    qsl = RecordingQSL(total, real.first("qsl_reported_performance_count")["value"])
    result = start_test(ImmediateSUT(), qsl, settings, log_settings(tmp_path), audit_config=None)

    assert result.performance is None
    ours = read_accuracy_log(tmp_path / "mlperf_log_accuracy.json")
    assert sorted(r["qsl_idx"] for r in ours) == list(range(total))  # every sample exactly once
    ours_by_seq = {r["seq_id"]: r["qsl_idx"] for r in ours}
    theirs = read_accuracy_log(ALIBABA_SS / "accuracy" / "mlperf_log_accuracy.json", allow_truncated=True)
    assert len(theirs) >= 10
    for record in theirs:
        assert ours_by_seq[record["seq_id"]] == record["qsl_idx"], record["seq_id"]
    assert [ours_by_seq[i] for i in range(5)] == [4497, 304, 706, 3092, 3027]
    # Every loadable set, loaded in the same order as the real run.
    assert qsl.loads == [rec["value"] for rec in real.all("loaded_qsl_set")]
    assert qsl.unloads == qsl.loads
    # Response bytes reach the log unchanged.
    assert all(r["data"] == index_bytes(r["qsl_idx"]).hex().upper() for r in ours)


def test_accuracy_only_detail_log_has_the_real_record_sequence(tmp_path):
    real = read_detail_log(ALIBABA_SS / "accuracy" / "mlperf_log_detail.txt")
    settings = _settings_from_detail(real)
    settings.mode = TestMode.AccuracyOnly
    qsl = RecordingQSL(5000, 1024)
    start_test(ImmediateSUT(), qsl, settings, log_settings(tmp_path), audit_config=None)
    ours = read_detail_log(tmp_path / "mlperf_log_detail.txt")
    assert [r["key"] for r in ours] == [r["key"] for r in real]
    for key in ("generated_query_count", "generated_samples_per_query", "generated_query_duration"):
        assert [r["value"] for r in ours.all(key)] == [r["value"] for r in real.all(key)], key
    summary = (tmp_path / "mlperf_log_summary.txt").read_text()
    assert summary == (ALIBABA_SS / "accuracy" / "mlperf_log_summary.txt").read_text()


def test_test01_performance_run_logs_the_same_sampled_responses(tmp_path):
    """TEST01: the performance run logs the seq_ids / qsl_idx the real one logged (§9.3, §14)."""
    real = read_detail_log(ALIBABA_TEST01_SS / "performance" / "run_1" / "mlperf_log_detail.txt")
    settings = _settings_from_detail(real)
    settings.mode = TestMode.PerformanceOnly
    settings.max_query_count = 3000  # the real run issued 1.2 M queries; the first 3000 suffice
    qsl = RecordingQSL(real.first("qsl_reported_total_count")["value"], 1024)
    start_test(ImmediateSUT(), qsl, settings, log_settings(tmp_path), audit_config=None)

    ours = read_detail_log(tmp_path / "mlperf_log_detail.txt")
    for key in ("generated_query_count", "generated_query_duration", "loaded_qsl_set"):
        assert ours.first(key)["value"] == real.first(key)["value"], key
    logged = [(r["seq_id"], r["qsl_idx"]) for r in read_accuracy_log(tmp_path / "mlperf_log_accuracy.json")]
    theirs = [
        (r["seq_id"], r["qsl_idx"])
        for r in read_accuracy_log(ALIBABA_TEST01_SS / "accuracy" / "mlperf_log_accuracy.json", allow_truncated=True)
    ]
    assert logged[:3] == [(446, 3849), (1631, 929), (1891, 3106)]
    assert [x for x in theirs if x[0] < 3000] == logged
    # Stopping on max_query_count is an error in v1.1 (§8.1 step 7).
    errors = [r["value"] for r in ours.errors()]
    assert errors == ["IssueQueryThread 0 Ending early: Max query count reached. query_count 3000"]
