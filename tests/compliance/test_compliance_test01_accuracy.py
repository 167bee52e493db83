"""TEST01's accuracy check: real LoadGen runs with the official audit.config, and the official quirks.

A deterministic SUT passes; a SUT that answers differently in performance mode fails, and the
report names the samples, where their bytes differ and by how much. The official counting rules
(duplicates, the map being overwritten by performance records, element-0 comparison, empty data)
are pinned on hand-written logs.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from harness import RecordingQSL, log_settings
from edgeperf.compliance.audit import write_audit_config
from edgeperf.compliance.verify import verify_compliance
from edgeperf.compliance.verify_accuracy import verify_test01_accuracy
from edgeperf.loadgen.api import QuerySampleResponse
from edgeperf.loadgen.engine import query_samples_complete, start_test
from edgeperf.loadgen.enums import TestMode, TestScenario
from edgeperf.loadgen.logs.readers import LogFormatError, read_detail_log
from edgeperf.loadgen.settings import TestSettings

AUDIT_WARNING = "Found Audit Config file (audit.config). Overriding TestSettings from audit.config file."


class VectorSUT:
    """Answers each sample with 8 float32 values computed from its index; ``drift`` changes some."""

    name = "VectorSUT"

    def __init__(self, drift=None):
        self.drift = drift  # (index, vector) -> vector, applied in the "performance" SUT only

    def response(self, index: int) -> bytes:
        v = np.arange(8, dtype="<f4") * 0.25 + np.float32(index)
        if self.drift is not None:
            v = self.drift(index, v)
        return np.ascontiguousarray(v, dtype="<f4").tobytes()

    def issue_query(self, samples):
        query_samples_complete([QuerySampleResponse(s.id, self.response(s.index), 32) for s in samples])

    def flush_queries(self):
        pass


def _settings(scenario, mode):
    return TestSettings(
        scenario=scenario,
        mode=mode,
        min_duration_ms=50,
        min_query_count=64,
        single_stream_expected_latency_ns=20000,
        offline_expected_qps=4000,
    )


def _submission(tmp_path, scenario, perf_sut, total=400, performance=200):
    """A results folder (accuracy run + performance run with a reference SUT) and a TEST01 folder
    (a performance run of ``perf_sut`` with the official TEST01 audit.config for resnet50)."""
    results = tmp_path / "results/sys/resnet50" / scenario.value
    test01 = tmp_path / "compliance/sys/resnet50" / scenario.value / "TEST01"
    honest = VectorSUT()
    start_test(
        honest,
        RecordingQSL(total, performance),
        _settings(scenario, TestMode.AccuracyOnly),
        log_settings(results / "accuracy"),
        audit_config=None,
    )
    start_test(
        honest,
        RecordingQSL(total, performance),
        _settings(scenario, TestMode.PerformanceOnly),
        log_settings(results / "performance/run_1"),
        audit_config=None,
    )
    audit = write_audit_config("TEST01", "resnet50", tmp_path / "audit.config")
    run = test01 / "run"
    # accuracy mode requested, as a harness would default to: audit.config switches it to performance
    start_test(
        perf_sut,
        RecordingQSL(total, performance),
        _settings(scenario, TestMode.AccuracyOnly),
        log_settings(run),
        audit_config=str(audit),
    )
    (test01 / "performance/run_1").mkdir(parents=True)
    (test01 / "accuracy").mkdir()
    for name, sub in (
        ("mlperf_log_summary.txt", "performance/run_1"),
        ("mlperf_log_detail.txt", "performance/run_1"),
        ("mlperf_log_accuracy.json", "accuracy"),
    ):
        (run / name).rename(test01 / sub / name)
    return results, test01


@pytest.mark.parametrize("scenario", [TestScenario.Offline, TestScenario.SingleStream])
def test_a_deterministic_sut_passes(tmp_path, scenario):
    results, test01 = _submission(tmp_path, scenario, VectorSUT())
    detail = read_detail_log(test01 / "performance/run_1/mlperf_log_detail.txt")
    assert detail["effective_test_mode"] == "PerformanceOnly"
    assert detail["effective_accuracy_log_sampling_target"] == 4096
    assert detail["effective_accuracy_log_rng_seed"] == 720381539243781796
    assert [r["value"] for r in detail.warnings()] == [AUDIT_WARNING]

    out = verify_compliance("TEST01", results, test01, benchmark="resnet50")
    acc = out.accuracy
    assert acc.passed and acc.official_passed and acc.differences == []
    c = acc.counts
    assert c["num_acc_log_entries"] == 400 and c["num_perf_log_entries"] > 0
    assert c["num_perf_log_qsl_idx_match"] == c["num_perf_log_entries"]
    assert c["num_perf_log_data_mismatch"] == c["num_missing_qsl_idxs"] == c["num_acc_log_duplicate_keys"] == 0
    text = (test01 / "verify_accuracy.txt").read_text()
    assert text.startswith(
        "Verifying accuracy. This might take a while...\nReading accuracy mode results...\n"
        "Reading performance mode results...\nnum_acc_log_entries = 400\n"
    )
    assert text.endswith(
        f"num_perf_log_qsl_idx_match = {c['num_perf_log_entries']}\nnum_perf_log_data_mismatch = 0\n"
        "num_missing_qsl_idxs = 0\nTEST PASS\n\n"
    )
    # (an instant SUT makes runs too short to be VALID, so the performance part stops; see the CLI tests)
    assert (test01 / "verify_performance.txt").read_text().startswith("Verifying performance.\n")
    assert out.report_lines()[1].startswith(f"TEST01 accuracy PASS: {c['num_perf_log_entries']} sampled responses")


def test_a_sut_answering_differently_in_performance_mode_fails_with_a_report(tmp_path):
    def drift(index, v):
        if index % 7 == 0:
            v = v.copy()
            v[0] += 3.0  # a different answer: the official check sees it
        elif index % 11 == 0:
            v = v.copy()
            v[5] += 0.001  # a small difference further in: only edgeperf's report sees it
        return v

    results, test01 = _submission(tmp_path, TestScenario.Offline, VectorSUT(drift))
    out = verify_compliance("TEST01", results, test01, benchmark="resnet50")
    acc = out.accuracy
    assert not out.passed and not acc.passed
    text = (test01 / "verify_accuracy.txt").read_text()
    assert text.endswith("TEST FAIL\n\n")
    sampled = [d.qsl_idx for d in acc.differences]
    big = [d for d in acc.differences if d.qsl_idx % 7 == 0]
    small = [d for d in acc.differences if d.qsl_idx % 7 and d.qsl_idx % 11 == 0]
    assert big and small and len(big) + len(small) == len(sampled)
    # Offline repeats the loaded samples: the official check compares a repeat with the previous
    # performance record of its qsl_idx, so only the first occurrence counts there
    firsts = {}
    for d in big:
        firsts.setdefault(d.qsl_idx, d)
    assert acc.counts["num_perf_log_data_mismatch"] == len(firsts) < len(big)
    assert acc.dtype == "float32"  # resnet50's response type, not the official default "byte"
    for d in big:
        assert d.official is (firsts[d.qsl_idx] is d)
        assert d.first_byte < 4 and d.first_element == 0 and d.dtype == "float32"
        assert d.max_abs_diff == pytest.approx(3.0) and d.performance_value == pytest.approx(d.accuracy_value + 3)
        assert d.bytes_differing >= 1 and d.performance_bytes == d.accuracy_bytes == 32
    for d in small:
        assert not d.official and d.first_element == 5 and d.first_byte >= 20
        assert d.max_abs_diff == pytest.approx(0.001, rel=0.05)
    report = "\n".join(out.report_lines(limit=5))
    assert "TEST01 accuracy FAIL" in report
    assert f"{len(sampled)} differ in their bytes" in report
    assert f"num_perf_log_data_mismatch = {len(firsts)}" in report
    repeats = len(big) - len(firsts) + sum(1 for d in small if d.repeat)
    equal_first = sum(1 for d in small if not d.repeat)
    parts = ([f"{equal_first} with an equal first element"] if equal_first else []) + [
        f"{repeats} repeating a qsl_idx sampled earlier (compared with that earlier response)"
    ]
    assert f"Not counted by the official check: {'; '.join(parts)}." in report
    first = acc.differences[0]
    assert f"{first.seq_id:>8} {first.qsl_idx:>8}" in report and "max |diff| (float32)" in report
    assert f"… and {len(sampled) - 5} more differing responses." in report
    assert "Give the benchmark and its dataset" in report


class _Scored(SimpleNamespace):
    pass


def test_baseline_comparison_on_both_sides_of_the_threshold(tmp_path):
    """When the responses differ, both sets are scored; TEST PASS needs ≥ 99 % of the baseline."""
    results, test01 = _submission(tmp_path, TestScenario.Offline, VectorSUT(lambda i, v: v + 1))

    def scorer(compliance_score):
        def evaluate(log):
            value = 80.0 if log.name == "mlperf_log_accuracy_baseline.json" else compliance_score
            return _Scored(
                value=value,
                official_line=f"accuracy={value:.3f}%, good=0, total=0",
                lines=[f"accuracy={value:.3f}%, good=0, total=0"],
            )

        return evaluate

    def verify(score, fraction=0.99):
        return verify_compliance(
            "TEST01", results, test01, dtype="float32", evaluate=scorer(score), quality_fraction=fraction
        ).accuracy

    ok = verify(79.2)
    assert ok.passed and not ok.official_passed
    lines = (test01 / "verify_accuracy.txt").read_text().splitlines()
    assert lines[-8:] == [
        "num_missing_qsl_idxs = 0",
        "TEST FAIL",
        "",
        "Verifying accuracy via baseline comparison...",
        "baseline accuracy: 80.0 (100.00%)",
        "compliance accuracy: 79.2 (99.00%)",
        "threshold accuracy: 99.0%",
        "TEST PASS",
    ]
    assert (test01 / "accuracy/baseline_accuracy.txt").read_text() == "accuracy=80.000%, good=0, total=0\n"
    assert (test01 / "accuracy/compliance_accuracy.txt").read_text() == "accuracy=79.200%, good=0, total=0\n"

    bad = verify(79.19)
    assert not bad.passed
    assert (
        (test01 / "verify_accuracy.txt")
        .read_text()
        .endswith("compliance accuracy: 79.19 (98.99%)\nthreshold accuracy: 99.0%\nTEST FAIL\n")
    )
    strict = verify(79.92, 0.999)
    assert strict.passed and "threshold accuracy: 99.9%" in (test01 / "verify_accuracy.txt").read_text()
    assert "Baseline comparison: accuracy 79.92" in "\n".join(strict.report_lines())
    assert not verify(79.91, 0.999).passed

    # a deterministic re-run passes the official check: the stale baseline files go
    results2, test01b = _submission(tmp_path / "again", TestScenario.Offline, VectorSUT())
    for name in ("baseline_accuracy.txt", "compliance_accuracy.txt"):
        (test01b / "accuracy" / name).write_text("old\n")
    assert verify_compliance("TEST01", results2, test01b).accuracy.passed
    assert sorted(p.name for p in (test01b / "accuracy").iterdir()) == ["mlperf_log_accuracy.json"]


def test_baseline_records_follow_create_accuracy_baseline(tmp_path):
    from edgeperf.compliance.verify_accuracy import baseline_records

    acc = _log(tmp_path / "acc.json", [(0, 5, "05"), (1, 2, "02"), (2, 9, "09"), (3, 2, "22")])
    perf = _log(tmp_path / "perf.json", [(0, 9, "AA"), (1, 2, "BB"), (2, 9, "CC"), (3, 7, "DD")])
    # sorted perf qsl_idx with repeats: 2, 9, 9 (7 has no accuracy record); all acc records of each
    assert baseline_records(acc, perf) == [(1, 2, "02"), (3, 2, "22"), (2, 9, "09"), (2, 9, "09")]


# ---------------------------------------------------------------------------- official quirks


def _log(path, records):
    path.write_text(json.dumps([{"seq_id": s, "qsl_idx": q, "data": d} for s, q, d in records]))
    return path


def test_official_counting_rules(tmp_path):
    acc = _log(tmp_path / "acc.json", [(0, 1, "01"), (1, 1, "02"), (2, 2, "03"), (3, 2, "03"), (4, 3, "0A0B")])
    perf = _log(
        tmp_path / "perf.json",
        [
            (10, 1, "01"),  # match, equal
            (11, 1, "01FF"),  # compared with the previous *performance* record "01": first byte equal
            (12, 9, "05"),  # qsl_idx not in the accuracy log: missing
            (13, 9, "06"),  # now compared with the performance record "05": mismatch
            (14, 2, ""),  # empty vs one byte: mismatch by size
            (15, 3, "0A0C"),  # only the second byte differs: the official check passes it
        ],
    )
    r = verify_test01_accuracy(acc, perf)
    assert r.counts == {
        "num_acc_log_entries": 5,
        "num_acc_log_duplicate_keys": 2,
        "num_acc_log_data_mismatch": 1,
        "num_perf_log_entries": 6,
        "num_perf_log_qsl_idx_match": 5,
        "num_perf_log_data_mismatch": 2,
        "num_missing_qsl_idxs": 1,
    }
    assert not r.passed and r.text.endswith("TEST FAIL\n\n")
    # the report compares every record with the accuracy run itself
    assert [(d.seq_id, d.performance_bytes, d.accuracy_bytes, d.first_byte, d.official) for d in r.differences] == [
        (11, 2, 1, 1, False),
        (14, 0, 1, 0, True),
        (15, 2, 2, 1, False),
    ]
    report = "\n".join(r.report_lines())
    assert "1 sampled responses have a qsl_idx that the accuracy log lacks" in report
    assert "The accuracy log repeats 2 qsl_idx (1 with different data)" in report


def test_verdict_needs_no_match_in_v11(tmp_path):
    """v1.1 prints TEST PASS when nothing mismatches, even if nothing was compared; the report says so."""
    acc = _log(tmp_path / "acc.json", [(0, 1, "01")])
    perf = _log(tmp_path / "perf.json", [])
    r = verify_test01_accuracy(acc, perf)
    assert r.passed and r.counts["num_perf_log_entries"] == 0
    assert "logged no responses" in "\n".join(r.report_lines())


def test_dtypes(tmp_path):
    nan = np.array([np.nan, 1], "<f4").tobytes().hex().upper()
    acc = _log(tmp_path / "acc.json", [(0, 1, nan), (1, 2, "0100000002000000")])
    perf = _log(tmp_path / "perf.json", [(0, 1, nan), (1, 2, "0100000003000000")])
    r = verify_test01_accuracy(acc, perf, dtype="float32")
    assert r.counts["num_perf_log_data_mismatch"] == 1  # NaN != NaN: identical bytes, official mismatch
    assert "identical bytes, yet the official check counts a mismatch" in "\n".join(r.report_lines())
    r = verify_test01_accuracy(acc, perf, dtype="int32", response_dtype_name="int32")
    assert r.counts["num_perf_log_data_mismatch"] == 0 and [d.first_element for d in r.differences] == [1]
    assert r.differences[0].max_abs_diff == 1.0
    with pytest.raises(LogFormatError, match="not a whole number of int64 values"):
        verify_test01_accuracy(acc, _log(tmp_path / "odd.json", [(0, 1, "010203")]), dtype="int64")
    with pytest.raises(LogFormatError, match="even number of hex digits"):
        verify_test01_accuracy(acc, _log(tmp_path / "bad.json", [(0, 1, "123")]))
    with pytest.raises(ValueError, match="dtype must be one of"):
        verify_test01_accuracy(acc, perf, dtype="float64")


def test_the_dtype_follows_the_benchmark_folder(tmp_path):
    """In the submission layout the benchmark folder names the response type; elsewhere: byte."""
    results, test01 = _submission(tmp_path, TestScenario.Offline, VectorSUT())
    assert verify_compliance("TEST01", results, test01).accuracy.dtype == "float32"
    assert verify_compliance("TEST01", results, test01, dtype="int32").accuracy.dtype == "int32"
    odd = tmp_path / "elsewhere/run"
    odd.parent.mkdir()
    results.rename(odd)
    assert verify_compliance("TEST01", odd, test01).accuracy.dtype == "byte"


def test_a_repeat_is_compared_with_the_earlier_response(tmp_path):
    acc = _log(tmp_path / "acc.json", [(0, 4, "04")])
    perf = _log(tmp_path / "perf.json", [(0, 4, "05"), (1, 4, "04")])
    r = verify_test01_accuracy(acc, perf)
    assert r.counts["num_perf_log_data_mismatch"] == 2 and [d.seq_id for d in r.differences] == [0]
    assert "identical to the accuracy run, yet the official check counts a mismatch" in "\n".join(r.report_lines())
