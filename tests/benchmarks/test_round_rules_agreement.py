"""Every benchmark definition agrees with the round's rules (submission/rules.py), and the rules
agree with the spec (submission.md: accuracy targets, required scenarios, minimum QSL sizes,
required compliance tests; mlperf.conf's Server latency bounds).

Quality targets and required scenarios are read from the rules by the registry; the compliance
tests by both ``compliance.audit.required_tests`` and the checker. The expected values written
out below come from the spec's tables, not from the code under test.
"""

from __future__ import annotations

import pytest

from edgeperf.benchmarks.registry import all_benchmarks
from edgeperf.compliance.audit import required_tests
from edgeperf.submission.rules import V1_1

# submission.md, "Accuracy targets": class -> (metric line of accuracy.txt, target as Python computes it)
SPEC_TARGETS = {
    "resnet": ("acc", 75.6954),
    "ssd-small": ("mAP", 21.78),
    "ssd-large": ("mAP", 19.8),
    "rnnt": ("WER", 91.62252),
    "bert-99": ("F1", 89.96526),
    "bert-99.9": ("F1", 90.783126),
    "3d-unet-99": ("DICE", 0.84447),
    "3d-unet-99.9": ("DICE", 0.852147),
}
# submission.md, required scenarios for an edge system (bert-99.9 is invalid there).
SPEC_EDGE_REQUIRED = {
    "resnet": ("SingleStream", "Offline"),
    "ssd-small": ("SingleStream", "Offline"),
    "ssd-large": ("SingleStream", "Offline"),
    "rnnt": ("SingleStream", "Offline"),
    "bert-99": ("SingleStream", "Offline"),
    "bert-99.9": (),
    "3d-unet-99": ("SingleStream", "Offline"),
    "3d-unet-99.9": ("SingleStream", "Offline"),
}
# submission.md: the minimum performance_sample_count per class.
SPEC_MIN_PSC = {
    "ssd-small": 256,
    "ssd-large": 64,
    "resnet": 1024,
    "rnnt": 2513,
    "bert-99": 10833,
    "bert-99.9": 10833,
    "3d-unet-99": 16,
    "3d-unet-99.9": 16,
}
# submission.md (mlperf.conf v1.1): Server target_latency in ms.
SPEC_SERVER_MS = {"resnet": 15, "ssd-large": 100, "bert-99": 130, "bert-99.9": 130, "rnnt": 1000}
# submission.md §5.9: TEST04-A/B are dropped for rnnt, bert-* and dlrm-*, and for a MultiStream folder.
NO_TEST04 = {"rnnt", "bert-99", "bert-99.9"}
ALL_TESTS = ("TEST01", "TEST04-A", "TEST04-B", "TEST05")

# The v1.1 suite's benchmarks; edgeperf's own Open-only model (demo-digits) has its own target,
# checked against its training record in test_demo_digits.py.
DEFINITIONS = sorted((b for b in all_benchmarks() if b.division == "closed"), key=lambda b: b.name)


def test_every_checker_class_of_the_suite_has_a_definition():
    assert {b.checker_model for b in DEFINITIONS} == set(SPEC_TARGETS)


@pytest.mark.parametrize("bench", DEFINITIONS, ids=lambda b: b.name)
def test_definition_agrees_with_the_rules(bench):
    cls = bench.checker_model
    assert cls in V1_1.models
    assert V1_1.model_class(bench.name) == cls
    rule = V1_1.accuracy[cls]
    assert (bench.quality.reference, bench.quality.fraction) == (rule.reference, rule.fraction)
    assert bench.quality.threshold == rule.target
    assert tuple(s.value for s in bench.required_scenarios) == (V1_1.required_scenarios("edge", cls) or ())
    assert bench.qsl_performance_count >= V1_1.min_performance_sample_count[cls]
    bound = V1_1.latency_constraint_ns.get((cls, "Server"))
    if bound is not None:
        assert bench.server_latency_ms * 1_000_000 == bound
    for scenario in ("SingleStream", "MultiStream", "Server", "Offline"):
        assert tuple(t.value for t in required_tests(bench.name, scenario)) == V1_1.required_compliance_tests(
            cls, scenario
        )


@pytest.mark.parametrize("bench", DEFINITIONS, ids=lambda b: b.name)
def test_definition_agrees_with_the_spec(bench):
    cls = bench.checker_model
    metric, target = SPEC_TARGETS[cls]
    assert V1_1.accuracy[cls].metric == metric
    assert bench.quality.threshold == pytest.approx(target, rel=1e-12)
    assert tuple(s.value for s in bench.required_scenarios) == SPEC_EDGE_REQUIRED[cls]
    assert bench.qsl_performance_count == SPEC_MIN_PSC[cls]
    if cls in SPEC_SERVER_MS:
        assert bench.server_latency_ms == SPEC_SERVER_MS[cls]
    for scenario in ("SingleStream", "Offline", "Server"):
        expected = tuple(t for t in ALL_TESTS if cls not in NO_TEST04 or not t.startswith("TEST04"))
        assert tuple(t.value for t in required_tests(bench.name, scenario)) == expected
    assert tuple(t.value for t in required_tests(bench.name, "MultiStream")) == ("TEST01", "TEST05")
