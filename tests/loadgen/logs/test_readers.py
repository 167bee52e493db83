"""Readers of detail and summary logs, on official v1.1 logs and on edgeperf's own."""

from __future__ import annotations

import json

import pytest
from fixture_paths import require_fixtures

from edgeperf.loadgen.logs import (
    DetailLog,
    LogFormatError,
    SummaryLog,
    fmt_g6,
    read_detail_log,
    read_summary_log,
)


FIX = require_fixtures()
ALIBABA = FIX / "closed/Alibaba/results/T4x1_TRT/ssd-mobilenet"
TEST04A = FIX / "closed/Alibaba/compliance/T4x1_TRT/ssd-mobilenet/SingleStream/TEST04-A/performance/run_1"


# -- detail log --------------------------------------------------------------------------------


def test_reads_every_line_of_a_real_detail_log():
    path = ALIBABA / "SingleStream/performance/run_1/mlperf_log_detail.txt"
    recs = read_detail_log(path)
    lines = path.read_text().splitlines()
    assert len(recs) == len(lines) == len(recs.line_numbers)
    assert recs.records[0] == json.loads(lines[0][len(":::MLLOG") :])
    assert recs["loadgen_version"] == "1.1 @ d9688d03d5"
    assert recs["effective_scenario"] == "SingleStream"
    assert recs["result_validity"] == "VALID"
    assert recs.get("result_90.00_percentile_latency_ns") == 508841  # = the summary's line
    assert recs.get("no_such_key", "dflt") == "dflt"
    assert "sut_name" in recs and "no_such_key" not in recs
    with pytest.raises(KeyError):
        recs.first("no_such_key")
    assert recs.errors() == [] and recs.warnings() == []


def test_duplicated_keys_take_the_first_record_like_the_official_checker():
    recs = read_detail_log(ALIBABA / "SingleStream/accuracy/mlperf_log_detail.txt")
    sets = recs.all("loaded_qsl_set")
    assert len(sets) == 5
    assert [r["key"] for r in sets] == ["loaded_qsl_set"] * 5
    assert recs.first("loaded_qsl_set") is sets[0]
    assert recs["loaded_qsl_set"] == sets[0]["value"] != sets[-1]["value"]
    numbers = [recs.line_numbers[recs.records.index(r)] for r in sets]
    assert numbers == sorted(numbers)
    assert recs.keys().count("loaded_qsl_set") == 1


def test_errors_of_the_test04a_log_of_appendix_b():
    recs = read_detail_log(TEST04A / "mlperf_log_detail.txt")
    (err,) = recs.errors()
    assert err["key"] == "error_runtime"
    assert err["value"].startswith(
        "Ending early: Ran out of generated queries to issue before the "
        "minimum query count and test duration were reached."
    )
    assert err["metadata"]["is_warning"] is False
    assert recs["result_validity"] == "INVALID"
    assert recs["result_invalid_reason"] == (
        "Decrease the expected latency so the loadgen pre-generates more queries. "
    )


def test_non_mllog_lines_are_ignored_and_crlf_is_accepted(tmp_path):
    real = (ALIBABA / "Offline/performance/run_1/mlperf_log_detail.txt").read_text().splitlines()
    mixed = ["some harness print", real[0], "", real[1], "Loadgen :: Perf mode start."]
    path = tmp_path / "d.txt"
    path.write_bytes(("\r\n".join(mixed) + "\r\n").encode())
    recs = read_detail_log(path)
    assert [r["key"] for r in recs] == ["loadgen_version", "loadgen_build_date_local"]
    assert recs.line_numbers == [2, 4]


def test_a_malformed_mllog_line_names_file_and_line(tmp_path):
    real = (ALIBABA / "Offline/performance/run_1/mlperf_log_detail.txt").read_text().splitlines()
    path = tmp_path / "mlperf_log_detail.txt"
    path.write_text("\n".join([real[0], real[1], ':::MLLOG {"key": "x", "value": inf}']) + "\n")
    with pytest.raises(LogFormatError) as info:
        read_detail_log(path)
    assert info.value.path == str(path)
    assert info.value.where == "3"
    assert f"{path}:3:" in str(info.value)
    path.write_text(':::MLLOG ["not", "an", "object"]\n')
    with pytest.raises(LogFormatError, match=":1:"):
        read_detail_log(path)


def test_reads_what_detail_log_writes(tmp_path):
    path = tmp_path / "d.txt"
    with DetailLog(path) as log:
        log.log("loaded_qsl_set", [3, 1, 2])
        log.log("loadgen_file_sha1", {"/b": "2", "/a": "1"})
        log.log("warning_generic_message", "w", is_warning=True)
        log.log("loaded_qsl_set", [9])
    recs = read_detail_log(path)
    assert recs["loaded_qsl_set"] == [3, 1, 2]
    assert recs["loadgen_file_sha1"] == {"/a": "1", "/b": "2"}
    assert [r["value"] for r in recs.warnings()] == ["w"]
    assert len(recs.all("loaded_qsl_set")) == 2


# -- summary log -------------------------------------------------------------------------------


def test_summary_of_a_real_offline_run():
    s = read_summary_log(ALIBABA / "Offline/performance/run_1/mlperf_log_summary.txt")
    assert s["SUT name"] == "LWIS_Server"
    assert s["Scenario"] == "Offline"
    assert s["Mode"] == "PerformanceOnly"
    assert s["Samples per second"] == "8435.99"  # "Samples per second: ..." has no space before ':'
    assert s["Result is"] == "VALID"
    assert s["Min duration satisfied"] == "Yes"
    assert s["target_latency (ns)"] == "0"
    assert "No warnings encountered during test." not in s


def test_summary_of_a_real_singlestream_run():
    s = read_summary_log(ALIBABA / "SingleStream/performance/run_1/mlperf_log_summary.txt")
    assert s["90th percentile latency (ns)"] == "508841"
    assert s["target_qps"] == "1327.22"
    assert s["99.90 percentile latency (ns)"] == "582962"
    assert s["schedule_rng_seed"] == "10051496985653635065"


def test_summary_numbers_agree_with_detail_logs_across_the_fixtures():
    """The summary's %g6 / integer numbers are the detail log's values printed the same way."""
    checked = 0
    for summary in sorted(FIX.rglob("mlperf_log_summary.txt")):
        detail = summary.with_name("mlperf_log_detail.txt")
        s = read_summary_log(summary)
        if "Scenario" not in s or not detail.exists():
            continue  # accuracy runs: footer only
        d = read_detail_log(detail)
        assert s["Scenario"] == d["effective_scenario"]
        assert s["Result is"] == d["result_validity"]
        if s["Scenario"] == "Offline":
            assert s["Samples per second"] == fmt_g6(d["result_samples_per_second"])
        elif s["Scenario"] == "SingleStream":
            assert s["90th percentile latency (ns)"] == str(d["result_90.00_percentile_latency_ns"])
        assert s["Max latency (ns)"] == str(d["result_max_latency_ns"])
        checked += 1
    assert checked >= 50


def test_summary_reader_tolerates_crlf_and_reads_summary_log_output(tmp_path):
    path = tmp_path / "s.txt"
    log = SummaryLog(path)
    log.write_lines(["Scenario : Server", "Scheduled samples per second : 272300.99", "target_latency (ns): 15000000"])
    log.close(0, 1)
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    for p in (path, crlf):
        assert read_summary_log(p) == {
            "Scenario": "Server",
            "Scheduled samples per second": "272300.99",
            "target_latency (ns)": "15000000",
        }
