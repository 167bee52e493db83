"""TEST01/TEST04/TEST05 performance verdicts on both sides of every threshold, and the official quirks.

The bounds are strict and computed in the scripts' float arithmetic (``ref * (1 + t)``), so the
tests probe them with the neighbouring doubles (``math.nextafter``) as well as with round values.
"""

from __future__ import annotations

import math
import re

import pytest

from compliance_helpers import summary_text, write_summary
from edgeperf.compliance.verify import verify_compliance
from edgeperf.compliance.verify_performance import verify_performance_lines
from edgeperf.loadgen.logs.readers import LogFormatError

THRESHOLDS = {"TEST01": 0.10, "TEST05": 0.05}
OFFICIAL_LINE = re.compile(
    r"^(Verifying performance\.|(reference|test|TEST04-A|TEST04-B) score = \S+|TEST PASS|TEST FAIL: Test score invalid|"
    r"Note: TEST04-B is significantly slower than TEST04-A|WARNING: \d+ ERROR reported in (reference|test|TEST04-A|TEST04-B) results)$"
)


def verdict(test, scenario, ref, got, **kw):
    ref_kw = {k[4:]: v for k, v in kw.items() if k.startswith("ref_")}
    got_kw = {k[4:]: v for k, v in kw.items() if k.startswith("got_")}
    r = verify_performance_lines(
        test,
        summary_text(scenario, ref, **ref_kw).splitlines(True),
        summary_text(scenario, got, **got_kw).splitlines(True),
    )
    assert all(OFFICIAL_LINE.match(line) for line in r.lines), r.lines
    return r


def s(x: float) -> str:
    return repr(float(x))


@pytest.mark.parametrize("test", ["TEST01", "TEST05"])
@pytest.mark.parametrize("scenario", ["Offline", "Server", "MultiStream", "SingleStream"])
def test_bounds_are_strict_in_float_arithmetic(test, scenario):
    ref = 1234567.0 if scenario == "SingleStream" else 1234.5  # above the 200 µs relaxation
    t = THRESHOLDS[test]
    hi, lo = ref * (1 + t), ref * (1 - t)
    assert verdict(test, scenario, s(ref), s(math.nextafter(hi, 0))).passed
    assert not verdict(test, scenario, s(ref), s(hi)).passed
    assert verdict(test, scenario, s(ref), s(math.nextafter(lo, math.inf))).passed
    assert not verdict(test, scenario, s(ref), s(lo)).passed
    r = verdict(test, scenario, s(ref), s(ref))
    assert r.lines == ["Verifying performance.", f"reference score = {s(ref)}", f"test score = {s(ref)}", "TEST PASS"]
    assert r.threshold == t


@pytest.mark.parametrize(
    "test,ref,got,passed",
    [
        ("TEST01", "1000", "1099.99", True),
        ("TEST01", "1000", "1100.01", False),
        ("TEST01", "1000", "900.01", True),
        ("TEST01", "1000", "899.99", False),
        ("TEST01", "1000", "1100", False),
        ("TEST01", "1000", "900", False),  # exactly ±10 %: strict
        ("TEST01", "3", "3.3", True),  # 3 * 1.1 == 3.3000000000000003 in floats: the official script passes +10 %
        ("TEST05", "1000", "1049.99", True),
        ("TEST05", "1000", "1050.01", False),
        ("TEST05", "1000", "950.01", True),
        ("TEST05", "1000", "949.99", False),
        ("TEST05", "1000", "1050", False),
        ("TEST05", "1000", "950", False),
    ],
)
def test_round_values_around_the_bounds(test, ref, got, passed):
    r = verdict(test, "Offline", ref, got)
    assert r.passed is passed
    assert r.lines[-1] == ("TEST PASS" if passed else "TEST FAIL: Test score invalid")


@pytest.mark.parametrize("test,relaxed_ok", [("TEST01", "239999"), ("TEST05", "239999")])
def test_short_singlestream_latencies_get_20_percent(test, relaxed_ok):
    """A reference p90 of at most 200 000 ns relaxes the bound to ±20 %; one ns more does not."""
    assert verdict(test, "SingleStream", "200000", relaxed_ok).threshold == 0.20
    assert verdict(test, "SingleStream", "200000", relaxed_ok).passed
    assert not verdict(test, "SingleStream", "200000", "240000").passed
    assert verdict(test, "SingleStream", "200000", "160001").passed
    assert not verdict(test, "SingleStream", "200000", "160000").passed
    strict = verdict(test, "SingleStream", "200001", relaxed_ok)
    assert strict.threshold == THRESHOLDS[test] and not strict.passed
    # the relaxation is for SingleStream only
    assert verdict(test, "Offline", "200000", relaxed_ok).threshold == THRESHOLDS[test]


class TestTest04:
    def test_offline_b_slower_passes_with_a_note_b_faster_fails(self):
        assert verdict("TEST04", "Offline", "1000", "1099.99").lines[-1] == "TEST PASS"
        faster = verdict("TEST04", "Offline", "1000", "1100.01")
        assert not faster.passed and faster.lines[-1] == "TEST FAIL: Test score invalid"
        assert "suggests caching" in faster.explain()
        slower = verdict("TEST04", "Offline", "1000", "899.99")
        assert slower.passed and slower.lines[-2:] == [
            "TEST PASS",
            "Note: TEST04-B is significantly slower than TEST04-A",
        ]
        assert verdict("TEST04", "Offline", "1000", "900.01").lines[-1] == "TEST PASS"
        assert verdict("TEST04", "Server", "1000", "1100.01").lines[-1] == "TEST FAIL: Test score invalid"
        assert verdict("TEST04", "Server", "1000", "800").lines[-1].startswith("Note:")

    def test_singlestream_latency_higher_is_slower(self):
        a = 1000000.0
        assert verdict("TEST04", "SingleStream", s(a), s(math.nextafter(a * 1.1, 0))).lines[-1] == "TEST PASS"
        slower = verdict("TEST04", "SingleStream", s(a), s(a * 1.1))  # outside the band, but slower: allowed
        assert slower.lines[-2:] == ["TEST PASS", "Note: TEST04-B is significantly slower than TEST04-A"]
        assert verdict("TEST04", "SingleStream", s(a), s(math.nextafter(a * 0.9, math.inf))).lines[-1] == "TEST PASS"
        faster = verdict("TEST04", "SingleStream", s(a), s(a * 0.9))
        assert faster.lines[-1] == "TEST FAIL: Test score invalid"

    def test_singlestream_relaxation_uses_a(self):
        assert verdict("TEST04", "SingleStream", "200000", "160001").passed
        assert not verdict("TEST04", "SingleStream", "200000", "160000").passed
        assert not verdict("TEST04", "SingleStream", "200001", "170000").passed  # ±10 % above 200 µs

    def test_labels_and_no_validity_check(self):
        r = verdict("TEST04", "Offline", "52325", "44945.4", ref_valid=False, got_valid=False)
        assert r.lines == [
            "Verifying performance.",
            "TEST04-A score = 52325",
            "TEST04-B score = 44945.4",
            "TEST PASS",
            "Note: TEST04-B is significantly slower than TEST04-A",
        ]

    def test_the_scan_stops_at_the_settings_line(self):
        """So the error footer, which comes after it, is never reported for TEST04."""
        r = verdict("TEST04", "Offline", "1000", "1000", ref_errors=3, got_errors=1)
        assert not any(line.startswith("WARNING") for line in r.lines)

    def test_false_settings_stop(self):
        a = summary_text("Offline", "1000").replace("performance_issue_unique : 0", "performance_issue_unique : false")
        r = verify_performance_lines("TEST04", a.splitlines(True), summary_text("Offline", "1000").splitlines(True))
        assert r.stopped == "TEST FAIL: Invalid test settings in TEST04-A summary." and r.lines == [
            "Verifying performance."
        ]
        b = summary_text("Offline", "1000").replace("performance_issue_same : 0", "performance_issue_same : false")
        r = verify_performance_lines("TEST04", summary_text("Offline", "1000").splitlines(True), b.splitlines(True))
        assert r.stopped == "TEST FAIL: Invalid test settings in TEST04-B summary." and not r.passed


@pytest.mark.parametrize("test", ["TEST01", "TEST05"])
def test_invalid_runs_stop_the_script(test):
    r = verdict(test, "Offline", "1000", "1000", ref_valid=False)
    assert r.stopped == "TEST FAIL: Reference results are invalid"
    assert r.text == "Verifying performance.\n" and not r.passed and r.reference_score is None
    r = verdict(test, "Offline", "1000", "1000", got_valid=False)
    assert r.stopped == "TEST FAIL: Test results are invalid" and r.text == "Verifying performance.\n"
    assert "Test results are invalid" in r.explain()


@pytest.mark.parametrize("test", ["TEST01", "TEST05"])
def test_errors_are_warnings(test):
    r = verdict(test, "Offline", "1000", "1000", ref_errors=1, got_errors=12)
    assert r.lines == [
        "Verifying performance.",
        "WARNING: 1 ERROR reported in reference results",
        "WARNING: 12 ERROR reported in test results",
        "reference score = 1000",
        "test score = 1000",
        "TEST PASS",
    ]


def test_scenario_mismatch_and_missing_scores():
    a = summary_text("Offline", "1000").splitlines(True)
    b = summary_text("SingleStream", "1000").splitlines(True)
    r = verify_performance_lines("TEST05", a, b)
    assert r.stopped == "Test and reference scenarios do not match!" and r.text == "Verifying performance.\n"
    # a summary whose headline is not the scenario's (here MultiStreamFree's) leaves the score at 0
    odd = summary_text("Offline", "5").replace("Scenario : Offline", "Scenario : MultiStreamFree").splitlines(True)
    r = verify_performance_lines("TEST01", odd, odd)
    assert r.lines[1:] == ["reference score = 0", "test score = 0", "TEST FAIL: Test score invalid"]


def test_malformed_summary_names_the_line():
    bad = summary_text("Offline", "1000").replace("Scenario : Offline", "Scenario Offline").splitlines(True)
    with pytest.raises(LogFormatError, match="line 5"):
        verify_performance_lines("TEST01", bad, bad)
    bad = summary_text("Offline", "fast").splitlines(True)
    with pytest.raises(LogFormatError, match="not a number"):
        verify_performance_lines("TEST01", bad, bad)
    with pytest.raises(ValueError, match="TEST01, TEST04 or TEST05"):
        verify_performance_lines("TEST02", bad, bad)


# ----------------------------------------------------------------------- through the folders


def _tree(tmp_path, scenario, ref, a, b, t5):
    results = tmp_path / "results/sys/resnet50" / scenario
    comp = tmp_path / "compliance/sys/resnet50" / scenario
    write_summary(results / "performance/run_1/mlperf_log_summary.txt", scenario, ref)
    write_summary(comp / "TEST04-A/performance/run_1/mlperf_log_summary.txt", scenario, a, valid=False, issue_unique=1)
    write_summary(comp / "TEST04-B/performance/run_1/mlperf_log_summary.txt", scenario, b, valid=False, issue_same=1)
    write_summary(comp / "TEST05/performance/run_1/mlperf_log_summary.txt", scenario, t5)
    return results, comp


def test_verify_writes_where_the_official_tools_do(tmp_path):
    results, comp = _tree(tmp_path, "Offline", "1000", "1000", "1200", "1049")
    out = verify_compliance("TEST05", results, comp / "TEST05")
    assert out.passed and (comp / "TEST05/verify_performance.txt").read_text().endswith(
        "test score = 1049\nTEST PASS\n"
    )
    # TEST04's verdict goes to TEST04-A only, whichever half is named
    for name in ("TEST04-A", "TEST04-B", "TEST04"):
        folder = comp / ("TEST04-A" if name == "TEST04" else name)
        out = verify_compliance(name, results, folder)
        assert not out.passed and out.output_dir == comp / "TEST04-A"
        assert (comp / "TEST04-A/verify_performance.txt").read_text().splitlines()[
            -1
        ] == "TEST FAIL: Test score invalid"
        assert not (comp / "TEST04-B/verify_performance.txt").exists()
        (comp / "TEST04-A/verify_performance.txt").unlink()


def test_verify_names_missing_files(tmp_path):
    results, comp = _tree(tmp_path, "Offline", "1000", "1000", "1000", "1000")
    assert verify_compliance("TEST04", None, comp / "TEST04-A").passed  # TEST04 needs no results folder
    with pytest.raises(ValueError, match="TEST05 compares with the submission's runs"):
        verify_compliance("TEST05", None, comp / "TEST05")
    with pytest.raises(FileNotFoundError, match=r"TEST04-B.*no such folder"):
        verify_compliance("TEST04-A", results, comp / "TEST04-A", other_dir=tmp_path / "nowhere/TEST04-B")
    with pytest.raises(FileNotFoundError, match="submission's performance summary"):
        verify_compliance("TEST05", tmp_path / "results", comp / "TEST05")
    with pytest.raises(FileNotFoundError, match="TEST01 run's accuracy log"):
        write_summary(comp / "TEST01/performance/run_1/mlperf_log_summary.txt", "Offline", "1000")
        (results / "accuracy").mkdir()
        (results / "accuracy/mlperf_log_accuracy.json").write_text("[\n]\n")
        verify_compliance("TEST01", results, comp / "TEST01")
    assert not (comp / "TEST01/verify_performance.txt").exists()  # nothing written before all inputs are there
