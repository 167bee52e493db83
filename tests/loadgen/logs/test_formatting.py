"""Formatting of log values and lines (spec loadgen.md §1, §12.2), checked against real v1.1 logs."""

from __future__ import annotations

import calendar
import enum
import json
import math
import os
import re
import time

import numpy as np
import pytest
from fixture_paths import require_fixtures

from edgeperf.loadgen.enums import TestScenario
from edgeperf.loadgen.logs import formatting as fmt


FIX = require_fixtures()
ALIBABA_SS = FIX / "closed/Alibaba/results/T4x1_TRT/ssd-mobilenet/SingleStream"
ALIBABA_OFF = FIX / "closed/Alibaba/results/T4x1_TRT/ssd-mobilenet/Offline"
TEST04A = FIX / "closed/Alibaba/compliance/T4x1_TRT/ssd-mobilenet/SingleStream/TEST04-A/performance/run_1"

_TIME_RE = re.compile(r'"time_ms": (\d+)\.(\d{6}), ')


def _reencode(line: str) -> str:
    """Rebuild a real :::MLLOG line from its parsed JSON with edgeperf's ``mllog_line``."""
    rec = json.loads(line[len(":::MLLOG") :])
    m = _TIME_RE.search(line)
    ns = int(m.group(1)) * 1_000_000 + int(m.group(2))
    md = rec["metadata"]
    return fmt.mllog_line(
        rec["key"], rec["value"], ns, md["is_error"], md["is_warning"], md["file"], md["line_no"], md["pid"], md["tid"]
    )


# -- §1 number formats ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x, expected",
    [
        (272250.0, "272250"),
        (1327.2245610868376, "1327.22"),
        (0.99, "0.99"),
        (1234567.0, "1.23457e+06"),
        (0.0, "0"),
    ],
)
def test_fmt_g6_examples_of_spec_section_1(x, expected):
    assert fmt.fmt_g6(x) == expected


def test_fmt_g6_small_and_non_finite():
    assert fmt.fmt_g6(0.0001) == "0.0001"
    assert fmt.fmt_g6(0.00001) == "1e-05"
    assert fmt.fmt_g6(float("inf")) == "inf"
    assert fmt.fmt_g6(float("-inf")) == "-inf"
    assert fmt.fmt_g6(float("nan")) == "nan"


def test_fixed_formats():
    assert fmt.fmt_fixed2(1970.8789) == "1970.88"
    assert fmt.fmt_fixed2(272300.99) == "272300.99"
    assert fmt.fmt_fixed2(3) == "3.00"
    assert fmt.fmt_fixed0(0.9 * 100) == "90"  # "90th percentile latency (ns)" of §12.1
    assert fmt.fmt_fixed0(99.4) == "99"


@pytest.mark.parametrize(
    "ns, expected",
    [
        (4712, "0.004712"),  # Appendix B, loadgen_version
        (19050, "0.019050"),
        (683200513859, "683200.513859"),  # Appendix B, result_* records
        (0, "0.000000"),
        (1_000_000, "1.000000"),
    ],
)
def test_fmt_time_ms(ns, expected):
    assert fmt.fmt_time_ms(ns) == expected


def test_fmt_time_ms_negative_keeps_the_value():
    assert fmt.fmt_time_ms(-1500) == "-0.001500"
    assert float(fmt.fmt_time_ms(-2_000_001)) == -2.000001


@pytest.mark.parametrize(
    "p, expected", [(0.5, "50.00"), (0.9, "90.00"), (0.95, "95.00"), (0.97, "97.00"), (0.99, "99.00"), (0.999, "99.90")]
)
def test_percentile_label(p, expected):
    assert fmt.percentile_label(p) == expected


def test_percentile_labels_name_the_keys_of_a_real_log():
    text = (ALIBABA_SS / "performance/run_1/mlperf_log_detail.txt").read_text()
    for p in (0.5, 0.9, 0.95, 0.97, 0.99, 0.999):
        assert f'"key": "result_{fmt.percentile_label(p)}_percentile_latency_ns"' in text


# -- §12.2 value encoding -----------------------------------------------------------------------


def test_encode_scalars():
    assert fmt.encode_value(True) == "true"
    assert fmt.encode_value(False) == "false"
    assert fmt.encode_value(np.bool_(True)) == "true"
    assert fmt.encode_value(163380598) == "163380598"
    assert fmt.encode_value(np.int64(-7)) == "-7"
    assert fmt.encode_value(np.uint64(10051496985653635065)) == "10051496985653635065"
    assert fmt.encode_value(272301.0) == "272301"  # an integral double prints like an int
    assert fmt.encode_value(0.99) == "0.99"
    assert fmt.encode_value(np.float32(0.5)) == "0.5"
    assert fmt.encode_value(1327.2245610868376) == "1327.22"


def test_encode_strings_json_escaped_non_ascii_kept():
    assert fmt.encode_value("VALID") == '"VALID"'
    assert fmt.encode_value('a "q" \\ b\nc\td') == r'"a \"q\" \\ b\nc\td"'
    assert fmt.encode_value("héllo ✓") == '"héllo ✓"'
    assert json.loads(fmt.encode_value("x\u0001y")) == "x\u0001y"


def test_encode_sequences_without_spaces():
    assert fmt.encode_value([1, 2, 3]) == "[1,2,3]"
    assert fmt.encode_value((4, 5)) == "[4,5]"
    assert fmt.encode_value([]) == "[]"
    assert fmt.encode_value(np.array([7, 8, 9], dtype=np.int64)) == "[7,8,9]"
    assert fmt.encode_value(np.array([1, 2], dtype=np.uint32)) == "[1,2]"
    with pytest.raises(TypeError):
        fmt.encode_value(np.zeros((2, 2), dtype=np.int64))


def test_encode_dict_sorted_without_spaces():
    assert fmt.encode_value({"/b.cc": "22", "/a.cc": "11"}) == '{"/a.cc":"11","/b.cc":"22"}'
    with pytest.raises(TypeError):
        fmt.encode_value({1: "x"})


def test_encode_non_finite_floats_as_strings_to_stay_valid_json():
    for x, s in ((float("inf"), "inf"), (float("-inf"), "-inf"), (float("nan"), "nan")):
        enc = fmt.encode_value(x)
        assert enc == f'"{s}"'
        assert json.loads(enc) == s
    line = fmt.mllog_line("k", math.inf, 0, False, False, "f.py", 1, 2, 3)
    assert json.loads(line[len(":::MLLOG ") :])["value"] == "inf"


def test_encode_enum_uses_its_official_spelling():
    assert fmt.encode_value(TestScenario.MultiStreamFree) == '"MultiStreamFree"'

    class Num(enum.Enum):
        A = 3

    assert fmt.encode_value(Num.A) == "3"


def test_encode_rejects_unknown_types():
    with pytest.raises(TypeError):
        fmt.encode_value(object())
    with pytest.raises(TypeError):
        fmt.encode_value(None)


# -- §12.2 line layout -------------------------------------------------------------------------

APPENDIX_B_LINES = [
    ':::MLLOG {"key": "loadgen_version", "value": "1.1 @ b1452de454", "time_ms": 0.004712, '
    '"namespace": "mlperf::logging", "event_type": "POINT_IN_TIME", "metadata": {"is_error": false, '
    '"is_warning": false, "file": "/work/build/inference/loadgen/version.cc", "line_no": 53, '
    '"pid": 70157, "tid": 70157}}',
    ':::MLLOG {"key": "requested_server_target_latency_percentile", "value": 0.99, "time_ms": 0.019050, '
    '"namespace": "mlperf::logging", "event_type": "POINT_IN_TIME", "metadata": {"is_error": false, '
    '"is_warning": false, "file": "/work/build/inference/loadgen/test_settings_internal.cc", '
    '"line_no": 288, "pid": 70157, "tid": 70157}}',
]


def test_mllog_line_reproduces_appendix_b():
    assert (
        fmt.mllog_line(
            "loadgen_version",
            "1.1 @ b1452de454",
            4712,
            False,
            False,
            "/work/build/inference/loadgen/version.cc",
            53,
            70157,
            70157,
        )
        == APPENDIX_B_LINES[0]
    )
    assert (
        fmt.mllog_line(
            "requested_server_target_latency_percentile",
            0.99,
            19050,
            False,
            False,
            "/work/build/inference/loadgen/test_settings_internal.cc",
            288,
            70157,
            70157,
        )
        == APPENDIX_B_LINES[1]
    )


def test_mllog_line_has_no_trailing_newline():
    assert not fmt.mllog_line("k", 1, 0, False, False, "f", 1, 1, 1).endswith("\n")


REAL_DETAIL_LOGS = [
    ALIBABA_SS / "performance/run_1/mlperf_log_detail.txt",
    ALIBABA_SS / "accuracy/mlperf_log_detail.txt",
    ALIBABA_OFF / "performance/run_1/mlperf_log_detail.txt",
    TEST04A / "mlperf_log_detail.txt",
    FIX
    / "closed/Krai/results/xavier-power.0-fan.cool-tflite-v2.5.0-ruy/resnet50/offline/performance/run_1/mlperf_log_detail.txt",
    FIX / "open/OctoML/results/aws-m5zn.6xlarge-tvm/resnet50/offline/performance/run_1/mlperf_log_detail.txt",
]


@pytest.mark.parametrize("path", REAL_DETAIL_LOGS, ids=lambda p: str(p.relative_to(FIX)))
def test_every_record_of_real_detail_logs_reencodes_byte_for_byte(path):
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""  # the official file ends with a newline and has no end marker
    assert len(lines) > 50
    for n, line in enumerate(lines[:-1], start=1):
        assert _reencode(line) == line, f"{path}:{n}"


def test_all_detail_logs_of_the_fixture_tree_reencode():
    """All 180 detail logs of the subset: every value kind (str, int, bool, float, list, dict)."""
    paths = sorted(FIX.rglob("mlperf_log_detail.txt"))
    assert len(paths) >= 100
    kinds = set()
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            assert _reencode(line) == line, f"{path}:{n}"
            kinds.add(type(json.loads(line[8:])["value"]).__name__)
    assert kinds == {"str", "int", "bool", "float", "list", "dict"}


def test_error_record_of_appendix_b_reencodes():
    line = next(
        l for l in (TEST04A / "mlperf_log_detail.txt").read_text().splitlines() if '"key": "error_runtime"' in l
    )
    assert '"is_error": true, "is_warning": false' in line
    assert _reencode(line) == line


# -- wall-clock strings --------------------------------------------------------------------------


def test_power_timestamp_utc_with_truncated_milliseconds():
    base = calendar.timegm((2021, 8, 10, 23, 8, 58, 0, 0, 0))
    assert fmt.power_timestamp(base * 1_000_000_000 + 419_999_999) == "08-10-2021 23:08:58.419"
    assert fmt.power_timestamp(base * 1_000_000_000) == "08-10-2021 23:08:58.000"


def test_power_timestamps_of_real_logs_round_trip():
    """Parse real power_begin/end values as the checker does (%m-%d-%Y %H:%M:%S.%f) and rebuild them."""
    seen = 0
    for path in REAL_DETAIL_LOGS[:4]:
        for line in path.read_text().splitlines():
            rec = json.loads(line[8:])
            if rec["key"] in ("power_begin", "power_end"):
                t = time.strptime(rec["value"][:-4], "%m-%d-%Y %H:%M:%S")
                ms = int(rec["value"][-3:])
                epoch_ns = calendar.timegm(t) * 1_000_000_000 + ms * 1_000_000 + 123_456
                assert fmt.power_timestamp(epoch_ns) == rec["value"]
                seen += 1
    assert seen >= 8


@pytest.fixture
def timezone():
    old = os.environ.get("TZ")

    def set_tz(name):
        os.environ["TZ"] = name
        time.tzset()

    yield set_tz
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_test_datetime_is_local_time_with_a_literal_z(timezone):
    epoch = calendar.timegm((2021, 8, 10, 18, 7, 53, 0, 0, 0))
    timezone("UTC")
    assert fmt.test_datetime(epoch) == "2021-08-10T18:07:53Z"
    assert fmt.test_datetime(epoch + 0.9) == "2021-08-10T18:07:53Z"
    timezone("JST-9")  # POSIX TZ string: UTC+9, no tz database needed
    assert fmt.test_datetime(epoch) == "2021-08-11T03:07:53Z"


def test_test_datetime_shape_matches_real_logs():
    text = (ALIBABA_SS / "performance/run_1/mlperf_log_detail.txt").read_text()
    real = re.search(r'"key": "test_datetime", "value": "([^"]+)"', text).group(1)
    pattern = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    assert re.fullmatch(pattern, real)
    assert re.fullmatch(pattern, fmt.test_datetime(time.time()))
