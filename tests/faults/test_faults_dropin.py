"""Mistakes made with the drop-in module ``edgeperf.mlperf_loadgen`` (issue 12).

The official binding (pybind11) fails where the mistake is made: a value of the wrong type on
assignment, naming the setting. These check that edgeperf does the same, and that nothing of
LoadGen's insides (IndexError, OverflowError, "lam must be positive") reaches the harness.
"""

from __future__ import annotations

import pytest

import edgeperf.mlperf_loadgen as lg


@pytest.fixture(autouse=True)
def _private_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # StartTest writes its logs and looks for audit.config here


@pytest.mark.parametrize(
    "name, value, error, expected",
    [
        ("server_target_qps", 0, ValueError, "above 0"),
        ("server_target_qps", -3.5, ValueError, "above 0"),
        ("offline_expected_qps", 0.0, ValueError, "above 0"),
        ("multi_stream_target_qps", 0, ValueError, "above 0"),
        ("server_target_qps", float("inf"), ValueError, "finite"),
        ("offline_expected_qps", float("nan"), ValueError, "finite"),
        ("server_target_latency_percentile", float("-inf"), ValueError, "finite"),
        ("min_duration_ms", "10000", TypeError, "integer"),
        ("min_duration_ms", 1.5, TypeError, "integer"),
        ("min_query_count", -1, ValueError, "0 or more"),
        ("offline_expected_qps", "fast", TypeError, "number"),
        ("server_coalesce_queries", "yes", TypeError, "True or False"),
        ("scenario", "Offline", TypeError, "TestScenario"),
        ("mode", 2, TypeError, "TestMode"),
    ],
)
def test_a_wrong_setting_fails_at_the_assignment_naming_it(name, value, error, expected):
    settings = lg.TestSettings()
    before = getattr(settings, name)
    with pytest.raises(error) as info:
        setattr(settings, name, value)
    message = str(info.value)
    assert f"TestSettings.{name}" in message and expected in message and "\n" not in message
    assert getattr(settings, name) == before  # the bad value was not kept


def test_good_values_are_still_accepted():
    import numpy as np

    settings = lg.TestSettings()
    settings.server_target_qps = 5  # an int for a double, as the binding allows
    settings.min_duration_ms = np.int64(100)
    settings.server_coalesce_queries = True
    settings.scenario = lg.TestScenario.Offline
    assert settings.server_target_qps == 5.0 and isinstance(settings.server_target_qps, float)
    assert settings.min_duration_ms == 100


@pytest.mark.parametrize(
    "total, perf, expected",
    [
        (0, 0, "total_sample_count = 0"),
        (10, 0, "performance_sample_count = 0"),
        (-1, 5, "total_sample_count = -1"),
    ],
)
def test_construct_qsl_refuses_empty_sizes(total, perf, expected):
    with pytest.raises(ValueError, match="ConstructQSL") as info:
        lg.ConstructQSL(total, perf, lambda s: None, lambda s: None)
    assert expected in str(info.value) and "at least 1" in str(info.value)


def test_construct_qsl_refuses_a_string_size_and_a_non_callable():
    with pytest.raises(TypeError, match="total_sample_count = '10'"):
        lg.ConstructQSL("10", 5, lambda s: None, lambda s: None)
    with pytest.raises(TypeError, match="load_cb"):
        lg.ConstructQSL(10, 5, None, lambda s: None)


def _handles():
    sut = lg.ConstructSUT(
        lambda qs: lg.QuerySamplesComplete([lg.QuerySampleResponse(q.id, 0, 0) for q in qs]), lambda: None
    )
    qsl = lg.ConstructQSL(8, 8, lambda s: None, lambda s: None)
    return sut, qsl


def test_a_zero_rate_from_a_config_file_fails_at_start_test_naming_the_setting(tmp_path):
    conf = tmp_path / "user.conf"
    conf.write_text("*.Offline.target_qps = 0\n")
    settings = lg.TestSettings()
    assert settings.FromConfig(str(conf), "resnet50", "Offline") == 0  # FromConfig returns codes, as officially
    settings.scenario = lg.TestScenario.Offline
    sut, qsl = _handles()
    try:
        with pytest.raises(ValueError, match=r"StartTest: TestSettings.offline_expected_qps = 0.0: .*above 0"):
            lg.StartTest(sut, qsl, settings)
    finally:
        lg.DestroySUT(sut)
        lg.DestroyQSL(qsl)
    assert not (tmp_path / "mlperf_log_summary.txt").exists()  # refused before any log was opened


def test_a_sane_run_still_runs(tmp_path):
    settings = lg.TestSettings()
    settings.scenario = lg.TestScenario.Offline
    settings.mode = lg.TestMode.PerformanceOnly
    settings.min_duration_ms = 50
    settings.min_query_count = 1
    settings.offline_expected_qps = 100
    sut, qsl = _handles()
    try:
        lg.StartTest(sut, qsl, settings)
    finally:
        lg.DestroySUT(sut)
        lg.DestroyQSL(qsl)
    assert "Result is" in (tmp_path / "mlperf_log_summary.txt").read_text()
