"""Config-file parser: tokenizer quirks (spec loadgen.md §3.1), lookup precedence (§3.2),
key table and conversions (§3.3), the shipped mlperf.conf (§3.5) and edgeperf's extra
diagnostics. Expected values come from the spec text or from C library semantics
(strtoul/strtod), never from the code under test."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from edgeperf.loadgen.config import (
    c_strtod,
    c_strtoul,
    is_config_value,
    parse_config_text,
    read_config_file,
)
from edgeperf.loadgen.enums import TestMode
from edgeperf.loadgen.errors import ConfigError
from edgeperf.loadgen.settings import TestSettings, default_mlperf_conf_path

U64_MAX = 2**64 - 1


def write(tmp_path: Path, text: str, name: str = "user.conf") -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def load(tmp_path, text, model="resnet50", scenario="Server", settings=None, name="user.conf"):
    s = settings if settings is not None else TestSettings()
    rc = s.from_config(write(tmp_path, text, name), model, scenario)
    return s, rc


# ---------------------------------------------------------------------- C number parsing


@pytest.mark.parametrize(
    "text, expected",
    [
        ("123", (123, 3)),
        ("010", (8, 3)),  # leading 0 = octal
        ("0x1F", (31, 4)),
        ("0X1f", (31, 4)),
        ("08", (0, 1)),  # octal "0", stops at '8'
        ("0x", (0, 1)),  # no hex digit: only the "0" converts
        ("6e5", (6, 1)),
        ("0.5", (0, 1)),
        ("+7", (7, 2)),
        ("-1", (U64_MAX, 2)),  # negation modulo 2**64
        ("99999999999999999999999", (U64_MAX, 23)),  # overflow saturates (ERANGE)
        ("abc", (0, 0)),
        ("", (0, 0)),
    ],
)
def test_c_strtoul(text, expected):
    assert c_strtoul(text) == expected


@pytest.mark.parametrize(
    "text, value, consumed",
    [
        ("1.5", 1.5, 3),
        ("6e5", 600000.0, 3),
        ("010", 10.0, 3),  # strtod has no octal
        ("0x10", 16.0, 4),  # hexadecimal float
        ("0x1.8p1", 3.0, 7),
        (".5", 0.5, 2),
        ("5.", 5.0, 2),
        ("1e", 1.0, 1),  # exponent without digits is not consumed
        ("-2.5e-1", -0.25, 7),
        ("1e400", math.inf, 5),  # overflow gives HUGE_VAL
        ("INF", math.inf, 3),
        ("-Infinity", -math.inf, 9),
        ("infinit", math.inf, 3),
    ],
)
def test_c_strtod(text, value, consumed):
    got, n = c_strtod(text)
    assert (got, n) == (value, consumed)


def test_c_strtod_nan_and_nothing():
    v, n = c_strtod("nan(abc_1)")
    assert math.isnan(v) and n == 10
    v, n = c_strtod("nan(")
    assert math.isnan(v) and n == 3
    assert c_strtod(".")[1] == 0
    assert c_strtod("x1")[1] == 0


@pytest.mark.parametrize("tok", ["1", "1.5", "6e5", "0x10", "010", "08", "-3", "+2", "inf", "nan", "1e400", "0x1p3"])
def test_accepted_values(tok):
    assert is_config_value(tok)


@pytest.mark.parametrize("tok", ["1,000", "abc", "#", "10ms", "1.2.3", "0x", "true", "=", "1e"])
def test_rejected_values(tok):
    assert not is_config_value(tok)


# ---------------------------------------------------------------------- tokenizer (§3.1)


def test_comment_lines_and_blank_lines(tmp_path):
    s, rc = load(
        tmp_path,
        "# a comment\n\n   # indented comment\n*.*.min_query_count = 5\n#lonely\n",
    )
    assert rc == 0
    assert s.min_query_count == 5


def test_hash_without_space_starting_a_line_with_more_words_is_an_error(tmp_path):
    s, rc = load(tmp_path, "*.*.min_query_count = 5\n#not a comment\n")
    assert rc == -22
    assert [e.message for e in s.pending_config_errors] == ["expected 'key=value', line=2"]
    assert s.min_query_count == 100  # nothing applied
    assert "'#'" in s.pending_config_errors[0].expected


def test_key_equals_value_without_spaces_is_silently_ignored(tmp_path):
    s, rc = load(tmp_path, "*.*.min_query_count=5\n")
    assert rc == 0
    assert s.pending_config_errors == []
    assert s.min_query_count == 100
    [w] = s.config_warnings
    assert w.line == 1 and "no spaces" in w.message and "*.*.min_query_count = 5" in w.message


def test_key_space_equals_value_is_an_error(tmp_path):
    s, rc = load(tmp_path, "*.*.max_query_count = 3\n*.*.min_query_count =5\n")
    assert rc == -22
    assert [e.message for e in s.pending_config_errors] == ["expected 'key=value', line=2"]
    assert s.max_query_count == 0  # the valid line 1 is not applied either


def test_key_equals_space_value_is_an_error(tmp_path):
    s, rc = load(tmp_path, "*.*.min_query_count= 5\n")
    assert rc == -22
    assert [e.message for e in s.pending_config_errors] == ["expected 'key=value', line=1"]


def test_bad_value_is_an_error(tmp_path):
    s, rc = load(tmp_path, "\n*.*.min_duration = 10ms\n")
    assert rc == -22
    assert [e.message for e in s.pending_config_errors] == ["value needs to be integer or double, line=2"]
    assert s.min_duration_ms == 10_000


@pytest.mark.parametrize("line", ["*.*.min_query_count = 5 # five", "*.*.min_query_count = # five"])
def test_trailing_comment_is_an_error_that_says_what_to_do(tmp_path, line):
    s, rc = load(tmp_path, line + "\n")
    assert rc == -22
    [e] = s.pending_config_errors
    assert e.message == "value needs to be integer or double, line=1"
    assert "comment" in e.expected and "own line" in e.expected
    assert s.min_query_count == 100


def test_trailing_values_overwrite(tmp_path):
    s, rc = load(tmp_path, "*.*.min_query_count = 5 7 0x10\n")
    assert rc == 0
    assert s.min_query_count == 16
    assert any("last one" in w.message for w in s.config_warnings)


def test_later_line_overrides_earlier(tmp_path):
    s, rc = load(tmp_path, "*.*.min_query_count = 5\n*.*.min_query_count = 9\n")
    assert rc == 0 and s.min_query_count == 9


def test_hash_after_key_ends_the_line(tmp_path):
    # '#' outside the value state ends the line: "key # ..." stores nothing, no error.
    s, rc = load(tmp_path, "*.*.min_query_count # = 5\n")
    assert rc == 0 and s.min_query_count == 100
    assert len(s.config_warnings) == 1


def test_key_without_value_is_ignored(tmp_path):
    s, rc = load(tmp_path, "*.*.min_query_count =\n")
    assert rc == 0 and s.min_query_count == 100
    assert "no value" in s.config_warnings[0].message


def test_tabs_and_crlf(tmp_path):
    s, rc = load(tmp_path, "*.*.min_query_count\t=\t42\r\n*.*.max_query_count = 7\r\n")
    assert rc == 0
    assert (s.min_query_count, s.max_query_count) == (42, 7)


def test_error_means_no_key_is_applied(tmp_path):
    text = (
        "*.*.min_query_count = 5\n"
        "*.*.mode = 1\n"
        "resnet50.Server.target_qps = 300\n"
        "*.*.max_duration = oops\n"
        "*.*.qsl_rng_seed = 77\n"
    )
    s, rc = load(tmp_path, text)
    assert rc == -22
    untouched = TestSettings()
    assert s == untouched


def test_all_errors_are_reported_with_line_numbers(tmp_path):
    s, rc = load(tmp_path, "a.b.c =1\n# fine\nx.y.z = q\n")
    assert rc == -22
    assert [e.message for e in s.pending_config_errors] == [
        "expected 'key=value', line=1",
        "value needs to be integer or double, line=3",
    ]


def test_unopenable_file_returns_enoent(tmp_path):
    missing = str(tmp_path / "nope.conf")
    s = TestSettings()
    assert s.from_config(missing, "resnet50", "Server") == -2
    assert [e.message for e in s.pending_config_errors] == [f"can't open file {missing}"]
    with pytest.raises(ConfigError) as ei:
        TestSettings().load_config(missing, "resnet50", "Server")
    assert missing in str(ei.value)


# ---------------------------------------------------------------------- precedence (§3.2)

FOUR = (
    "resnet50.Server.min_query_count = 1\n"
    "*.Server.min_query_count = 2\n"
    "resnet50.*.min_query_count = 3\n"
    "*.*.min_query_count = 4\n"
)


@pytest.mark.parametrize(
    "drop, expected",
    [
        ((), 1),  # M.S.K
        ((0,), 2),  # *.S.K
        ((0, 1), 3),  # M.*.K
        ((0, 1, 2), 4),  # *.*.K
    ],
)
def test_lookup_precedence(tmp_path, drop, expected):
    lines = [line for i, line in enumerate(FOUR.splitlines(True)) if i not in drop]
    s, rc = load(tmp_path, "".join(reversed(lines)))  # file order must not matter
    assert rc == 0 and s.min_query_count == expected


def test_scenario_wildcard_model_beats_model_wildcard_scenario(tmp_path):
    s, _ = load(tmp_path, "resnet50.*.min_duration = 111\n*.Server.min_duration = 222\n")
    assert s.min_duration_ms == 222


def test_other_model_and_scenario_do_not_match(tmp_path):
    s, _ = load(tmp_path, "bert.Server.min_duration = 1\n*.Offline.min_duration = 2\n")
    assert s.min_duration_ms == 10_000


def test_parsed_lookup_helper():
    parsed = parse_config_text(FOUR)
    assert parsed.lookup("resnet50", "Server", "min_query_count").value == "1"
    assert parsed.lookup("bert", "Server", "min_query_count").value == "2"
    assert parsed.lookup("resnet50", "Offline", "min_query_count").value == "3"
    assert parsed.lookup("bert", "Offline", "min_query_count").value == "4"
    assert parsed.lookup("bert", "Offline", "max_query_count") is None


# ---------------------------------------------------------------------- hard-coded scenarios (§3.2, §3.3)


def test_wildcard_target_qps_sets_every_scenario(tmp_path):
    s, rc = load(tmp_path, "resnet50.*.target_qps = 123\n", scenario="SingleStream")
    assert rc == 0
    assert s.server_target_qps == 123.0
    assert s.multi_stream_target_qps == 123.0
    assert s.offline_expected_qps == 123.0


def test_scenario_specific_keys_ignore_the_given_scenario(tmp_path):
    s, _ = load(
        tmp_path,
        "*.Server.target_latency = 7\n*.SingleStream.target_latency = 3\n*.MultiStream.samples_per_query = 9\n",
        scenario="Offline",
    )
    assert s.server_target_latency_ns == 7_000_000
    assert s.single_stream_expected_latency_ns == 3_000_000
    assert s.multi_stream_samples_per_query == 9


def test_generic_keys_use_the_given_scenario(tmp_path):
    s, _ = load(tmp_path, "*.Server.min_duration = 5\n*.Offline.min_duration = 6\n", scenario="Offline")
    assert s.min_duration_ms == 6


def test_multistreamfree_reads_generic_keys_but_not_specific_ones(tmp_path):
    s, _ = load(
        tmp_path,
        "*.MultiStreamFree.min_duration = 5\n*.MultiStreamFree.target_qps = 99\n",
        scenario="MultiStreamFree",
    )
    assert s.min_duration_ms == 5
    assert s.multi_stream_target_qps == 10.0
    assert any("MultiStreamFree" in w.message for w in s.config_warnings)


# ---------------------------------------------------------------------- conversions (§3.2, §3.3)


@pytest.mark.parametrize(
    "line, field, expected",
    [
        ("*.*.accuracy_log_probability = 50", "accuracy_log_probability", 50 * 0.01),
        ("*.SingleStream.target_latency_percentile = 90", "single_stream_target_latency_percentile", 90 * 0.01),
        ("*.MultiStream.target_latency_percentile = 99", "multi_stream_target_latency_percentile", 99 * 0.01),
        ("*.Server.target_latency_percentile = 97.5", "server_target_latency_percentile", 97.5 * 0.01),
        ("*.Server.target_latency = 15", "server_target_latency_ns", 15_000_000),
        ("*.SingleStream.target_latency = 10", "single_stream_expected_latency_ns", 10_000_000),
        ("*.SingleStream.target_latency = 0.5", "single_stream_expected_latency_ns", 0),  # fraction truncated
        ("*.Server.target_latency = 1.9", "server_target_latency_ns", 1_000_000),
        ("*.*.min_query_count = 010", "min_query_count", 8),  # octal
        ("*.*.min_query_count = 08", "min_query_count", 0),  # strtod accepts it, strtoull reads "0"
        ("*.*.min_query_count = 6e5", "min_query_count", 6),
        ("*.*.min_query_count = 0.5", "min_query_count", 0),
        ("*.*.min_query_count = 0x20", "min_query_count", 32),
        ("*.*.min_query_count = -1", "min_query_count", U64_MAX),
        ("*.*.min_duration = 600000", "min_duration_ms", 600000),  # ms field stays ms
        ("*.Server.target_qps = 010", "server_target_qps", 10.0),  # doubles: strtod, no octal
        ("*.Offline.target_qps = 0x10", "offline_expected_qps", 16.0),
        ("*.MultiStream.target_qps = 6e5", "multi_stream_target_qps", 600000.0),
        ("*.*.print_timestamps = 0.5", "print_timestamps", False),  # integer prefix 0
        ("*.*.print_timestamps = 2", "print_timestamps", True),
        ("*.Server.coalesce_queries = 1", "server_coalesce_queries", True),
        ("*.*.performance_issue_unique = 1", "performance_issue_unique", True),
        ("*.*.performance_issue_same = 1", "performance_issue_same", True),
        ("*.*.performance_issue_same_index = 3", "performance_issue_same_index", 3),
        ("*.*.accuracy_log_sampling_target = 4096", "accuracy_log_sampling_target", 4096),
        ("*.*.accuracy_log_rng_seed = 720381539243781796", "accuracy_log_rng_seed", 720381539243781796),
        ("*.*.performance_sample_count_override = 64", "performance_sample_count_override", 64),
        ("*.*.max_duration = 1000", "max_duration_ms", 1000),
        ("*.*.max_query_count = 12", "max_query_count", 12),
        ("*.MultiStream.max_async_queries = 2", "multi_stream_max_async_queries", 2),
        ("*.Server.max_async_queries = 8", "server_max_async_queries", 8),
        # the int-typed MultiStream field is a C++ static_cast<int> of the 64-bit value
        ("*.MultiStream.samples_per_query = 0x100000005", "multi_stream_samples_per_query", 5),
    ],
)
def test_value_conversions(tmp_path, line, field, expected):
    s, rc = load(tmp_path, line + "\n")
    assert rc == 0
    got = getattr(s, field)
    assert type(got) is type(expected)
    assert got == expected


@pytest.mark.parametrize(
    "value, mode",
    [
        ("0", TestMode.SubmissionRun),
        ("1", TestMode.AccuracyOnly),
        ("2", TestMode.PerformanceOnly),
        ("3", TestMode.FindPeakPerformance),
    ],
)
def test_mode_values(tmp_path, value, mode):
    start = TestMode.AccuracyOnly if mode is TestMode.SubmissionRun else TestMode.SubmissionRun
    s, rc = load(tmp_path, f"*.*.mode = {value}\n", settings=TestSettings(mode=start))
    assert rc == 0 and s.mode is mode


def test_invalid_mode_is_logged_other_keys_still_apply(tmp_path):
    s, rc = load(tmp_path, "*.*.mode = 4\n*.*.min_query_count = 5\n")
    assert rc == 0  # r1.1 returns 0 here
    assert s.mode is TestMode.PerformanceOnly
    assert s.min_query_count == 5
    assert [e.message for e in s.pending_config_errors] == ["Invalid value passed to Mode key in config."]


def test_invalid_mode_strict_raises_and_applies_nothing(tmp_path):
    s = TestSettings()
    path = write(tmp_path, "*.*.min_query_count = 5\n*.*.mode = 7\n")
    with pytest.raises(ConfigError) as ei:
        s.load_config(path, "resnet50", "Server")
    assert s.min_query_count == 100
    assert ei.value.line == 2
    assert ei.value.message == "Invalid value passed to Mode key in config."


def test_multistream_target_latency_by_ruleset(tmp_path):
    text = "*.MultiStream.target_latency = 80\nssd-resnet34.MultiStream.target_latency = 0.5\n"
    v11, rc = load(tmp_path, text, model="resnet50", scenario="MultiStream")
    assert rc == 0 and v11.multi_stream_expected_latency_ns == 8_000_000  # ignored under v1.1
    assert any("ignored" in w.message for w in v11.config_warnings)
    v20, rc = load(tmp_path, text, model="resnet50", scenario="MultiStream", settings=TestSettings(ruleset="v2.0"))
    assert rc == 0 and v20.multi_stream_expected_latency_ns == 80_000_000
    assert not any("target_latency" in w.message for w in v20.config_warnings)
    frac, _ = load(tmp_path, text, model="ssd-resnet34", scenario="MultiStream", settings=TestSettings(ruleset="v2.0"))
    assert frac.multi_stream_expected_latency_ns == 500_000  # parsed as a double in v2.0


# ---------------------------------------------------------------------- strict errors


def test_config_error_names_file_line_text_and_expectation(tmp_path):
    path = write(tmp_path, "# header\n*.*.min_query_count = 5\nresnet50.Server.target_qps =300\n")
    with pytest.raises(ConfigError) as ei:
        TestSettings().load_config(path, "resnet50", "Server")
    err = ei.value
    text = str(err)
    assert path in text
    assert ":3" in text and "line 3" in text
    assert "resnet50.Server.target_qps =300" in text
    assert "spaces on both sides of '='" in text
    assert err.file == path and err.line == 3
    assert err.message == "expected 'key=value', line=3"


def test_config_error_for_bad_value_explains(tmp_path):
    path = write(tmp_path, "*.Server.target_qps = 1,000\n")
    with pytest.raises(ConfigError) as ei:
        TestSettings().load_config(path, "resnet50", "Server")
    assert "integer" in ei.value.expected and "'1,000'" in ei.value.expected
    assert "line 1" in str(ei.value)


# ---------------------------------------------------------------------- warnings


def test_warning_for_unknown_key_name_with_suggestion():
    parsed = parse_config_text("# x\n*.*.min_duraton = 5\n", "user.conf")
    [w] = parsed.warnings
    assert (w.file, w.line) == ("user.conf", 2)
    assert "min_duraton" in w.message and "'min_duration'" in w.message


def test_warning_for_scenario_with_wrong_case():
    parsed = parse_config_text("*.singlestream.target_latency = 5\n", "user.conf")
    [w] = parsed.warnings
    assert "singlestream" in w.message and "case-sensitive" in w.message


def test_warning_for_malformed_key():
    parsed = parse_config_text("min_duration = 5\n", "user.conf")
    [w] = parsed.warnings
    assert "model.scenario.name" in w.message


@pytest.mark.parametrize(
    "line",
    ["*.MultiStream.target_latency = 50", "*.Server.target_duration = 0", "*.Offline.target_latency_percentile = 90"],
)
def test_keys_r11_ignores_warn_in_user_conf_but_not_in_mlperf_conf(line):
    user = parse_config_text(line + "\n", "user.conf")
    assert len(user.warnings) == 1 and "ignored" in user.warnings[0].message
    as_mlperf = parse_config_text(line + "\n", "mine.conf", mlperf_conf=True)
    assert as_mlperf.warnings == []


def test_no_warnings_for_good_keys():
    parsed = parse_config_text(
        "resnet50.Server.target_qps = 100\n*.*.mode = 2\nbert.SingleStream.target_latency = 3\n"
        "*.*.target_qps = 5\nresnet50.*.target_latency_percentile = 99\n",
        "user.conf",
    )
    assert parsed.warnings == []
    assert parsed.errors == []


def test_shipped_mlperf_conf_has_no_warnings_or_errors():
    parsed = read_config_file(default_mlperf_conf_path())
    assert parsed.errors == [] and parsed.warnings == []


# ---------------------------------------------------------------------- shipped mlperf.conf (§3.5)

# (key, value) of spec §3.5, in file order.
SPEC_35 = (
    [
        (f"{m}.*.performance_sample_count_override", v)
        for m, v in [
            ("mobilenet", 1024),
            ("gnmt", 3903900),
            ("resnet50", 1024),
            ("ssd-mobilenet", 256),
            ("ssd-resnet34", 64),
            ("bert", 10833),
            ("dlrm", 204800),
            ("rnnt", 2513),
            ("3d-unet", 16),
        ]
    ]
    + [
        ("*.*.qsl_rng_seed", 1624344308455410291),
        ("*.*.sample_index_rng_seed", 517984244576520566),
        ("*.*.schedule_rng_seed", 10051496985653635065),
    ]
    + [
        ("*.SingleStream.target_latency_percentile", 90),
        ("*.SingleStream.min_duration", 600000),
        ("*.SingleStream.min_query_count", 1024),
    ]
    + [
        ("*.MultiStream.target_qps", 20),
        ("*.MultiStream.target_latency_percentile", 99),
        ("*.MultiStream.max_async_queries", 1),
        ("*.MultiStream.target_latency", 50),
        ("*.MultiStream.min_duration", 600000),
        ("*.MultiStream.min_query_count", 270336),
        ("ssd-resnet34.MultiStream.target_qps", 15),
        ("ssd-resnet34.MultiStream.target_latency", 66),
        ("gnmt.MultiStream.min_query_count", 90112),
        ("gnmt.MultiStream.target_latency", 100),
        ("gnmt.MultiStream.target_qps", 10),
        ("gnmt.MultiStream.target_latency_percentile", 97),
    ]
    + [
        ("*.Server.target_latency", 10),
        ("*.Server.target_latency_percentile", 99),
        ("*.Server.target_duration", 0),
        ("*.Server.min_duration", 600000),
        ("*.Server.min_query_count", 270336),
        ("resnet50.Server.target_latency", 15),
        ("ssd-resnet34.Server.target_latency", 100),
        ("gnmt.Server.target_latency", 250),
        ("bert.Server.target_latency", 130),
        ("dlrm.Server.target_latency", 30),
        ("rnnt.Server.target_latency", 1000),
        ("gnmt.Server.min_query_count", 90112),
        ("gnmt.Server.target_latency_percentile", 97),
    ]
    + [
        ("*.Offline.target_latency_percentile", 90),
        ("*.Offline.min_duration", 600000),
        ("*.Offline.min_query_count", 24576),
    ]
    + [
        ("*.SingleStream.target_latency", 10),
        ("*.Server.target_qps", 1.0),
        ("*.Offline.target_qps", 1.0),
        ("*.MultiStream.samples_per_query", 4),
    ]
)


def test_shipped_mlperf_conf_matches_spec_in_file_order():
    parsed = read_config_file(default_mlperf_conf_path())
    got = [(e.key, float(e.value) if "." in e.value else int(e.value)) for e in parsed.entries]
    assert got == SPEC_35
    text = Path(default_mlperf_conf_path()).read_text()
    assert text.startswith("#")  # has a header comment


def test_shipped_conf_resnet50_server():
    s = TestSettings()
    assert s.from_config(default_mlperf_conf_path(), "resnet50", "Server") == 0
    assert s.server_target_latency_ns == 15_000_000
    assert s.server_target_latency_percentile == 0.99
    assert s.qsl_rng_seed == 1624344308455410291
    assert s.sample_index_rng_seed == 517984244576520566
    assert s.schedule_rng_seed == 10051496985653635065
    assert s.min_duration_ms == 600000
    assert s.min_query_count == 270336
    assert s.performance_sample_count_override == 1024
    assert s.server_target_qps == 1.0
    assert s.pending_config_errors == [] and s.config_warnings == []


def test_shipped_conf_ssd_resnet34_multistream():
    s = TestSettings()
    assert s.from_config(default_mlperf_conf_path(), "ssd-resnet34", "MultiStream") == 0
    assert s.multi_stream_target_qps == 15.0
    assert s.multi_stream_max_async_queries == 1
    assert s.multi_stream_samples_per_query == 4
    assert s.multi_stream_target_latency_percentile == 0.99
    assert s.min_query_count == 270336
    assert s.performance_sample_count_override == 64
    assert s.multi_stream_target_latency_ns == 100_000_000  # not settable from config


def test_shipped_conf_bert_server_and_others():
    s = TestSettings()
    s.from_config(default_mlperf_conf_path(), "bert", "Server")
    assert s.server_target_latency_ns == 130_000_000
    assert s.performance_sample_count_override == 10833
    g = TestSettings()
    g.from_config(default_mlperf_conf_path(), "gnmt", "MultiStream")
    assert g.multi_stream_target_qps == 10.0
    assert g.multi_stream_target_latency_percentile == 97 * 0.01
    assert g.min_query_count == 90112
    o = TestSettings()
    o.from_config(default_mlperf_conf_path(), "ssd-mobilenet", "Offline")
    assert o.min_query_count == 24576 and o.min_duration_ms == 600000
    assert o.offline_expected_qps == 1.0
    assert o.performance_sample_count_override == 256
    ss = TestSettings()
    ss.from_config(default_mlperf_conf_path(), "resnet50", "SingleStream")
    assert ss.single_stream_expected_latency_ns == 10_000_000
    assert ss.single_stream_target_latency_percentile == 0.9
    assert ss.min_query_count == 1024
