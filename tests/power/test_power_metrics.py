"""Power metric per power.md §8: spl.txt parsing, the window, timezones, energy per scenario."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fixture_paths import FIXTURES

from edgeperf.loadgen.logs.readers import read_detail_log
from edgeperf.power import (
    NoPowerSamplesError,
    PowerWindow,
    SplFormatError,
    compute_power_metric,
    parse_ptd_time,
    parse_spl_text,
    power_metric_value,
    read_session_json,
    session_timezone,
)
from edgeperf.power.session import SessionFileError, parse_session_json
from edgeperf.power.spl import PTD_TIME_FORMAT, read_spl

KRAI = FIXTURES / "closed/Krai/results/xavier-power.0-fan.cool-tflite-v2.5.0-ruy/resnet50"


def _line(ts: str, watts: str) -> str:
    return f"Time,{ts},Watts,{watts},Volts,120.000000,Amps,0.100000,PF,0.500000,Mark,sess_testing"


@pytest.mark.parametrize(
    "scenario,directory,expected,unit",
    [
        ("SingleStream", "singlestream", 2.2692211502651807, "Joules"),
        ("Offline", "offline", 27.825416666666673, "Watts"),
    ],
)
def test_real_krai_results_are_bit_exact_with_the_official_checker(scenario, directory, expected, unit):
    perf = KRAI / directory / "performance"
    detail = read_detail_log(perf / "run_1/mlperf_log_detail.txt")
    m = compute_power_metric(
        read_spl(perf / "run_1/spl.txt"),
        power_begin=detail["power_begin"],
        power_end=detail["power_end"],
        scenario=scenario,
        client_tz_seconds=session_timezone(read_session_json(perf / "power/client.json")),
        server_tz_seconds=session_timezone(read_session_json(perf / "power/server.json")),
        qps_with_loadgen_overhead=detail["result_qps_with_loadgen_overhead"],
    )
    assert m.value == expected  # exact, not approximate
    assert m.unit == unit and m.sample_count == 600 and m.duration_s == 600.137


def test_ptd_time_fast_path_agrees_with_strptime():
    for text in (
        "08-04-2021 11:39:42.365",
        "12-31-1999 23:59:59.999999",
        "01-02-2021 00:00:00.5",
        "1-2-2021 3:04:05.6",
    ):
        assert parse_ptd_time(text) == datetime.strptime(text, PTD_TIME_FORMAT)
    with pytest.raises(ValueError):
        parse_ptd_time("28-12-2020 10:00:00.000")  # day first: month 28 does not exist
    with pytest.raises(ValueError):
        parse_ptd_time("08-04-2021 11:39:42.365 ")


def test_window_is_strict_at_both_ends_and_keeps_negative_samples():
    text = (
        "\n".join(
            [
                _line("01-01-2021 00:00:00.000", "100.0"),  # == begin: out
                _line("01-01-2021 00:00:00.001", "-2.0"),  # in (negative kept)
                _line("01-01-2021 00:00:05.000", "4.0"),  # in
                _line("01-01-2021 00:00:10.000", "1000.0"),  # == end: out
            ]
        )
        + "\n"
    )
    m = compute_power_metric(
        parse_spl_text(text),
        power_begin="01-01-2021 00:00:00.000",
        power_end="01-01-2021 00:00:10.000",
        scenario="Offline",
    )
    assert (m.value, m.sample_count, m.unit) == (1.0, 2, "Watts")


def test_timezones_shift_the_window_by_client_and_samples_by_server():
    text = _line("01-01-2021 01:00:05.000", "7.0") + "\n" + _line("01-01-2021 00:00:05.000", "3.0") + "\n"
    samples = parse_spl_text(text)
    kw = dict(power_begin="01-01-2021 00:00:00.000", power_end="01-01-2021 00:00:10.000", scenario="Server")
    # same zone: the offsets cancel -> the 00:00:05 sample
    assert compute_power_metric(samples, client_tz_seconds=3600, server_tz_seconds=3600, **kw).value == 3.0
    # client one hour ahead of server: the window moves onto the 01:00:05 sample
    assert compute_power_metric(samples, client_tz_seconds=3600, server_tz_seconds=0, **kw).value == 7.0
    # UTC mode (v2.0 rule) ignores both
    assert (
        compute_power_metric(samples, client_tz_seconds=3600, server_tz_seconds=0, timezones="utc", **kw).value == 3.0
    )
    with pytest.raises(ValueError):
        compute_power_metric(samples, timezones="local", **kw)


def test_average_is_summed_left_to_right_in_file_order():
    vals = ["1e16", "1.0", "-1e16", "1.0"]
    text = "".join(_line(f"01-01-2021 00:00:0{i + 1}.000", v) + "\n" for i, v in enumerate(vals))
    m = compute_power_metric(
        parse_spl_text(text),
        power_begin="01-01-2021 00:00:00.000",
        power_end="01-01-2021 00:00:09.000",
        scenario="Offline",
    )
    naive = (((1e16 + 1.0) + -1e16) + 1.0) / 4
    assert m.value == naive and naive != 0.5  # fsum would give 0.5


def test_single_stream_and_multistream_energy_formulas():
    avg, dur = 15.811371666666655, 600.004
    v, unit = power_metric_value("SingleStream", avg, dur, qps_with_loadgen_overhead=378.594)
    assert unit == "Joules" and v == avg * dur / (378.594 * dur)
    assert v == pytest.approx(0.04176339737731357, rel=1e-12)  # the NVIDIA AGX Xavier example of the spec
    v, unit = power_metric_value(
        "MultiStream", 10.0, 600.0, generated_query_count=270336, generated_samples_per_query=8
    )
    assert unit == "Joules/Stream" and v == 10.0 * 600.0 / (270336 * 8)
    assert power_metric_value("Custom", 10.0, 1.0) == (0.0, None)
    with pytest.raises(ValueError, match="result_qps_with_loadgen_overhead"):
        power_metric_value("SingleStream", 1.0, 1.0)
    with pytest.raises(ValueError, match="undefined"):
        power_metric_value("SingleStream", 1.0, 1.0, qps_with_loadgen_overhead=0)


def test_no_samples_in_window_is_an_error_naming_the_file():
    samples = parse_spl_text(_line("01-01-2021 00:00:20.000", "5.0") + "\n")
    with pytest.raises(NoPowerSamplesError, match="spl.txt"):
        compute_power_metric(
            samples,
            power_begin="01-01-2021 00:00:00.000",
            power_end="01-01-2021 00:00:10.000",
            scenario="Offline",
            spl_path="x/spl.txt",
        )


def test_spl_crlf_is_accepted_and_blank_lines_and_bad_times_are_errors():
    crlf = _line("01-01-2021 00:00:01.000", "2.0") + "\r\n" + _line("01-01-2021 00:00:02.000", "4.0") + "\r\n"
    s = parse_spl_text(crlf)
    assert [x.watts for x in s] == [2.0, 4.0] and [x.line for x in s] == [1, 2]
    with pytest.raises(SplFormatError) as e:
        parse_spl_text(crlf + "\r\n" + crlf, "run_1/spl.txt")
    assert e.value.line == 3 and "blank" in str(e.value) and "run_1/spl.txt" in str(e.value)
    with pytest.raises(SplFormatError, match="timestamp"):
        parse_spl_text(_line("2021-01-01 00:00:01.000", "1.0"))


def test_junk_watts_only_matter_inside_the_window():
    text = _line("01-01-2021 00:00:01.000", "junk") + "\n" + _line("01-01-2021 00:00:05.000", "3.0") + "\n"
    samples = parse_spl_text(text)
    m = compute_power_metric(
        samples, power_begin="01-01-2021 00:00:02.000", power_end="01-01-2021 00:00:09.000", scenario="Offline"
    )
    assert m.value == 3.0
    with pytest.raises(SplFormatError, match="junk"):
        compute_power_metric(
            samples, power_begin="01-01-2021 00:00:00.000", power_end="01-01-2021 00:00:09.000", scenario="Offline"
        )


def test_window_duration_matches_timedelta_total_seconds():
    w = PowerWindow.from_loadgen("08-04-2021 11:39:42.365", "08-04-2021 11:49:42.369", 25200)
    assert w.duration_s == 600.004 and w.begin == datetime(2021, 8, 4, 18, 39, 42, 365000)
    assert w.contains(w.begin + timedelta(microseconds=1)) and not w.contains(w.end)


def test_session_timezone_is_required_and_numeric():
    assert session_timezone(parse_session_json(b'\xef\xbb\xbf{"timezone": -3600}')) == -3600
    with pytest.raises(SessionFileError, match="missing"):
        session_timezone({}, "power/server.json")
    with pytest.raises(SessionFileError, match="number"):
        session_timezone({"timezone": "25200"})
    with pytest.raises(SessionFileError, match="invalid JSON"):
        parse_session_json("{", "power/client.json")
    with pytest.raises(SessionFileError, match="object"):
        parse_session_json("[1]")
