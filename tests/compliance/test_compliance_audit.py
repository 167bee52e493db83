"""The official v1.1 audit settings as data, and that the config parser applies them as LoadGen would."""

from __future__ import annotations

import pytest

from edgeperf.compliance.audit import (
    TEST01_ACCURACY_LOG_RNG_SEED,
    TEST05_SEEDS,
    ComplianceTest,
    audit_config_text,
    audit_settings,
    benchmark_family,
    required_tests,
    sampling_target,
    write_audit_config,
)
from edgeperf.loadgen.enums import TestMode, TestScenario
from edgeperf.loadgen.settings import TestSettings

SCENARIOS = ("SingleStream", "MultiStream", "Server", "Offline")


@pytest.mark.parametrize(
    "bench,target",
    [
        ("resnet50", 4096),
        ("resnet", 4096),
        ("ssd-mobilenet", 1024),
        ("ssd-small", 1024),
        ("ssd-resnet34", 256),
        ("ssd-large", 256),
        ("3d-unet-99", 64),
        ("3d-unet-99.9", 64),
        ("bert-99", 4096),
        ("bert-99.9", 4096),
        ("dlrm-99", 4096),
        ("rnnt", 4096),
    ],
)
def test_test01_sampling_targets(bench, target):
    assert sampling_target(bench) == target
    assert [(s.key, s.value) for s in audit_settings("TEST01", bench)] == [
        ("mode", 2),
        ("accuracy_log_rng_seed", 720381539243781796),
        ("accuracy_log_sampling_target", target),
    ]


def test_the_seeds_are_the_official_ones():
    assert TEST01_ACCURACY_LOG_RNG_SEED == 720381539243781796
    assert TEST05_SEEDS == {
        "qsl_rng_seed": 313588358309856706,
        "sample_index_rng_seed": 471397156132239067,
        "schedule_rng_seed": 413914573387865862,
    }


def test_text_of_each_test():
    assert audit_config_text("TEST01", "resnet50").splitlines()[-3:] == [
        "*.*.mode = 2",
        "*.*.accuracy_log_rng_seed = 720381539243781796",
        "*.*.accuracy_log_sampling_target = 4096",
    ]
    assert audit_config_text("TEST05", "resnet50").splitlines()[-4:] == [
        "*.*.mode = 2",
        "*.*.qsl_rng_seed = 313588358309856706",
        "*.*.sample_index_rng_seed = 471397156132239067",
        "*.*.schedule_rng_seed = 413914573387865862",
    ]
    a = [line for line in audit_config_text("TEST04-A", "resnet50").splitlines() if not line.startswith("#")]
    assert a[:3] == [
        "*.MultiStream.mode = 2",
        "*.MultiStream.performance_issue_unique = 1",
        "*.MultiStream.performance_issue_same = 0",
    ]
    assert len(a) == 12 and {line.split(".")[1] for line in a} == {"MultiStream", "Offline", "SingleStream", "Server"}
    b = [line for line in audit_config_text("TEST04-B", "resnet50").splitlines() if not line.startswith("#")]
    assert b[:4] == [
        "*.MultiStream.mode = 2",
        "*.MultiStream.performance_issue_unique = 0",
        "*.MultiStream.performance_issue_same = 1",
        "*.MultiStream.performance_issue_same_index = 3",
    ]
    assert len(b) == 16


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("test", list(ComplianceTest))
def test_the_parser_applies_every_setting(tmp_path, test, scenario):
    """Written, then read back by the same parser LoadGen uses, over mlperf.conf and a user.conf
    that sets accuracy mode: every audit value wins."""
    path = write_audit_config(test, "resnet50", tmp_path / "audit.config")
    user = tmp_path / "user.conf"
    user.write_text("*.*.mode = 1\n*.*.accuracy_log_sampling_target = 7\n")
    s = TestSettings.from_files("resnet50", scenario, user_conf=user, audit_config=path, mode=TestMode.AccuracyOnly)
    assert s.mode is TestMode.PerformanceOnly
    assert s.scenario is TestScenario(scenario)
    if test is ComplianceTest.TEST01:
        assert (s.accuracy_log_rng_seed, s.accuracy_log_sampling_target) == (720381539243781796, 4096)
    elif test is ComplianceTest.TEST05:
        assert (s.qsl_rng_seed, s.sample_index_rng_seed, s.schedule_rng_seed) == tuple(TEST05_SEEDS.values())
    elif test is ComplianceTest.TEST04_A:
        assert (s.performance_issue_unique, s.performance_issue_same) == (True, False)
    else:
        assert (s.performance_issue_unique, s.performance_issue_same, s.performance_issue_same_index) == (
            False,
            True,
            3,
        )
    assert s.config_warnings == []


def test_required_tests():
    full = ("TEST01", "TEST04-A", "TEST04-B", "TEST05")
    assert [t.value for t in required_tests("resnet50", "Offline")] == list(full)
    assert [t.value for t in required_tests("ssd-small", TestScenario.SingleStream)] == list(full)
    assert [t.value for t in required_tests("resnet50", TestScenario.MultiStream)] == ["TEST01", "TEST05"]
    for bench in ("bert-99", "bert-99.9", "rnnt", "dlrm-99.9"):
        assert [t.value for t in required_tests(bench, "Offline")] == ["TEST01", "TEST05"]
    # the checker compares the folder name exactly: "multistream" keeps TEST04
    assert len(required_tests("resnet50", "multistream")) == 4


def test_names():
    assert ComplianceTest.parse("test04a") is ComplianceTest.TEST04_A
    assert ComplianceTest.parse(" TEST04_B ") is ComplianceTest.TEST04_B
    assert ComplianceTest.parse("TEST05") is ComplianceTest.TEST05
    with pytest.raises(ValueError, match="TEST01, TEST04-A, TEST04-B, TEST05"):
        ComplianceTest.parse("TEST06")
    assert benchmark_family("3d-unet-99.9") == "3d-unet"
    with pytest.raises(KeyError, match="not a v1.1 benchmark"):
        audit_settings("TEST05", "mobilenetv2")
