"""TestSettings / LogSettings defaults (spec loadgen.md §2.5, §2.6) and the config loaders
(``from_config``, ``load_config``, ``from_files``; §3.4 precedence between sources)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from edgeperf.loadgen.enums import LoggingMode, Ruleset, TestMode, TestScenario
from edgeperf.loadgen.errors import ConfigError
from edgeperf.loadgen.settings import (
    LogOutputSettings,
    LogSettings,
    TestSettings,
    default_mlperf_conf_path,
)

# Spec §2.5 table: field -> default.
SPEC_25_DEFAULTS = {
    "scenario": TestScenario.SingleStream,
    "mode": TestMode.PerformanceOnly,
    "single_stream_expected_latency_ns": 1_000_000,
    "single_stream_target_latency_percentile": 0.90,
    "multi_stream_target_qps": 10.0,
    "multi_stream_target_latency_ns": 100_000_000,
    "multi_stream_target_latency_percentile": 0.9,
    "multi_stream_samples_per_query": 4,
    "multi_stream_max_async_queries": 1,
    "server_target_qps": 1,
    "server_target_latency_ns": 100_000_000,
    "server_target_latency_percentile": 0.99,
    "server_coalesce_queries": False,
    "server_find_peak_qps_decimals_of_precision": 1,
    "server_find_peak_qps_boundary_step_size": 1,
    "server_max_async_queries": 0,
    "server_num_issue_query_threads": 0,
    "offline_expected_qps": 1,
    "min_duration_ms": 10_000,
    "max_duration_ms": 0,
    "min_query_count": 100,
    "max_query_count": 0,
    "qsl_rng_seed": 0,
    "sample_index_rng_seed": 0,
    "schedule_rng_seed": 0,
    "accuracy_log_rng_seed": 0,
    "accuracy_log_probability": 0.0,
    "accuracy_log_sampling_target": 0,
    "print_timestamps": False,
    "performance_issue_unique": False,
    "performance_issue_same": False,
    "performance_issue_same_index": 0,
    "performance_sample_count_override": 0,
}

DOUBLE_FIELDS = {
    "single_stream_target_latency_percentile",
    "multi_stream_target_qps",
    "multi_stream_target_latency_percentile",
    "server_target_qps",
    "server_target_latency_percentile",
    "server_find_peak_qps_boundary_step_size",
    "offline_expected_qps",
    "accuracy_log_probability",
}


def test_every_spec_field_with_its_default():
    s = TestSettings()
    for name, default in SPEC_25_DEFAULTS.items():
        value = getattr(s, name)
        assert value == default, name
        if name in DOUBLE_FIELDS:
            assert isinstance(value, float), name
        elif isinstance(default, bool):
            assert isinstance(value, bool), name
    field_names = {f.name for f in dataclasses.fields(TestSettings)}
    assert set(SPEC_25_DEFAULTS) <= field_names


def test_edgeperf_additions():
    s = TestSettings()
    assert s.ruleset == "v1.1"
    assert s.multi_stream_expected_latency_ns == 8_000_000  # §15.1 default
    assert s.sut_stall_timeout_s == 300.0
    assert TestSettings(ruleset=Ruleset.v2_0).ruleset == "v2.0"
    with pytest.raises(ValueError):
        TestSettings(ruleset="v3.0")


def test_enum_strings_are_accepted():
    s = TestSettings(scenario="Server", mode="AccuracyOnly")
    assert s.scenario is TestScenario.Server and s.mode is TestMode.AccuracyOnly


def test_log_settings_defaults():
    out = LogOutputSettings()
    assert (out.outdir, out.prefix, out.suffix) == (".", "mlperf_log_", "")
    assert out.prefix_with_datetime is False
    assert out.copy_detail_to_stdout is False and out.copy_summary_to_stdout is False
    ls = LogSettings()
    assert ls.log_output == LogOutputSettings()
    assert ls.log_mode is LoggingMode.AsyncPoll
    assert ls.log_mode_async_poll_interval_ms == 1000
    assert ls.enable_trace is True
    # independent default objects
    assert LogSettings().log_output is not LogSettings().log_output


def test_default_mlperf_conf_path_is_package_data():
    p = Path(default_mlperf_conf_path())
    assert p.is_file()
    assert p.name == "mlperf.conf" and p.parent.name == "data"
    assert "edgeperf" in p.parts and "loadgen" in p.parts


def test_from_config_return_codes_and_official_alias(tmp_path):
    good = tmp_path / "good.conf"
    good.write_text("*.*.min_query_count = 5\n")
    bad = tmp_path / "bad.conf"
    bad.write_text("*.*.min_query_count = five\n")
    s = TestSettings()
    assert s.FromConfig(str(good), "resnet50", "Offline") == 0
    assert s.min_query_count == 5
    assert s.from_config(str(bad), "resnet50", "Offline") == -22
    assert s.from_config(str(tmp_path / "missing.conf"), "resnet50", "Offline") == -2
    assert s.min_query_count == 5
    msgs = [e.message for e in s.drain_config_errors()]
    assert msgs == ["value needs to be integer or double, line=1", f"can't open file {tmp_path / 'missing.conf'}"]
    assert s.pending_config_errors == []


def test_error_bookkeeping_does_not_affect_equality(tmp_path):
    s = TestSettings()
    s.from_config(str(tmp_path / "missing.conf"), "resnet50", "Offline")
    assert s == TestSettings()


def test_load_config_returns_warnings(tmp_path):
    p = tmp_path / "user.conf"
    p.write_text("resnet50.Server.target_qps = 250\nresnet50.Server.min_duraton = 1\n")
    s = TestSettings()
    warnings = s.load_config(str(p), "resnet50", "Server")
    assert s.server_target_qps == 250.0
    assert [w.line for w in warnings] == [2]
    assert s.config_warnings == warnings


def test_from_files_defaults_to_shipped_mlperf_conf():
    s = TestSettings.from_files("resnet50", "Server")
    assert s.scenario is TestScenario.Server
    assert s.server_target_latency_ns == 15_000_000
    assert s.min_duration_ms == 600000
    assert s.qsl_rng_seed == 1624344308455410291
    assert s.config_warnings == []


def test_from_files_order(tmp_path):
    user = tmp_path / "user.conf"
    user.write_text(
        "resnet50.Server.target_qps = 5000\n*.Server.target_latency = 20\n*.*.mode = 1\n*.*.min_query_count = 100\n"
    )
    s = TestSettings.from_files("resnet50", "Server", user_conf=user)
    assert s.server_target_qps == 5000.0
    # precedence is per file: user.conf's *.Server key beats mlperf.conf's resnet50.Server one
    assert s.server_target_latency_ns == 20_000_000
    assert s.min_query_count == 100  # user.conf overrides mlperf.conf's 270336
    assert s.mode is TestMode.AccuracyOnly
    s2 = TestSettings.from_files("resnet50", "Server", user_conf=user, mode=TestMode.PerformanceOnly)
    assert s2.mode is TestMode.PerformanceOnly  # harness assignment beats the files


def test_from_files_audit_config_on_top_with_wildcard_model(tmp_path):
    user = tmp_path / "user.conf"
    user.write_text("*.*.mode = 1\n")
    audit = tmp_path / "audit.config"
    audit.write_text(
        "*.*.mode = 2\n"
        "*.*.accuracy_log_sampling_target = 4096\n"
        "resnet50.*.accuracy_log_rng_seed = 5\n"  # model is '*' for audit.config: never matches
        "*.Offline.performance_issue_same = 1\n"
        "*.Server.performance_issue_unique = 1\n"
    )
    s = TestSettings.from_files("resnet50", "Offline", user_conf=user, audit_config=audit, mode=TestMode.AccuracyOnly)
    assert s.mode is TestMode.PerformanceOnly
    assert s.accuracy_log_sampling_target == 4096
    assert s.accuracy_log_rng_seed == 0
    assert s.performance_issue_same is True
    assert s.performance_issue_unique is False


def test_from_files_strict_and_lenient(tmp_path):
    user = tmp_path / "user.conf"
    user.write_text("resnet50.Offline.target_qps = 100 # expected\n")
    with pytest.raises(ConfigError) as ei:
        TestSettings.from_files("resnet50", "Offline", user_conf=user)
    assert str(user) in str(ei.value) and "line 1" in str(ei.value)
    s = TestSettings.from_files("resnet50", "Offline", user_conf=user, strict=False)
    assert s.offline_expected_qps == 1.0  # nothing from the bad file
    assert s.min_query_count == 24576  # mlperf.conf still applied
    assert [e.message for e in s.pending_config_errors] == ["value needs to be integer or double, line=1"]


def test_from_files_v20_multistream(tmp_path):
    s = TestSettings.from_files("resnet50", "MultiStream", ruleset="v2.0")
    # the shipped r2.0 mlperf.conf: *.MultiStream.target_latency = 80 (ms, a double under v2.0),
    # samples_per_query = 8, target_latency_percentile = 99, and the v2.0 seeds
    assert s.ruleset == "v2.0"
    assert s.multi_stream_expected_latency_ns == 80_000_000
    assert s.multi_stream_samples_per_query == 8 and s.multi_stream_target_latency_percentile == 0.99
    assert s.min_query_count == 270336 and s.qsl_rng_seed == 0x5C5C885919353C12
    assert s.config_warnings == []
    unet = TestSettings.from_files("3d-unet", "SingleStream", ruleset="v2.0")
    assert unet.sample_concatenate_permutation is True and unet.performance_sample_count_override == 0
    v11 = TestSettings.from_files("resnet50", "MultiStream")
    assert v11.multi_stream_expected_latency_ns == 8_000_000
