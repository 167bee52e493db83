"""The v1.1 compliance (audit) tests and their official ``audit.config`` settings, as data.

Spec: submission.md §6 (what each test is for, the settings), loadgen.md §3.6 and §14 (how the
LoadGen applies them). A compliance run is a normal benchmark run with the test's settings
applied on top of ``mlperf.conf`` and ``user.conf``; :func:`write_audit_config` writes them in the
config-file syntax that :class:`~edgeperf.loadgen.settings.TestSettings` (and the official
LoadGen) read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from .._atomic import atomic_write
from ..errors import UnknownNameError, UsageError
from ..submission.rules import V1_1

__all__ = [
    "ComplianceTest",
    "AuditSetting",
    "TEST01_ACCURACY_LOG_RNG_SEED",
    "TEST01_SAMPLING_TARGETS",
    "TEST04_SAME_INDEX",
    "TEST04_SCENARIOS",
    "TEST05_SEEDS",
    "PERFORMANCE_ONLY",
    "benchmark_family",
    "sampling_target",
    "audit_settings",
    "audit_config_text",
    "write_audit_config",
    "required_tests",
]


class ComplianceTest(str, Enum):
    """One audit test; the value is its folder name in a submission tree."""

    TEST01 = "TEST01"  # accuracy in performance mode
    TEST04_A = "TEST04-A"  # sample caching: every query a different sample
    TEST04_B = "TEST04-B"  # sample caching: every query the same sample
    TEST05 = "TEST05"  # alternate RNG seeds

    @classmethod
    def parse(cls, name: str) -> "ComplianceTest":
        """``TEST01``, ``test04-a``, ``TEST04A`` … → the test; ``ValueError`` lists the names."""
        if isinstance(name, cls):
            return name
        key = str(name).strip().upper().replace("_", "-")
        if key in ("TEST04A", "TEST04B"):
            key = key[:6] + "-" + key[6:]
        for test in cls:
            if test.value == key:
                return test
        raise UsageError(f"unknown compliance test {name!r}; the v1.1 tests are {', '.join(t.value for t in cls)}")


#: ``mode = 2``: PerformanceOnly. Every audit test is a performance-mode run.
PERFORMANCE_ONLY = 2

#: TEST01's accuracy-log seed (the same for every benchmark).
TEST01_ACCURACY_LOG_RNG_SEED = 720381539243781796

#: TEST01's ``accuracy_log_sampling_target`` per benchmark family (submission.md §6.1; the real
#: v1.1 logs confirm 4096 for resnet50 and 1024 for ssd-mobilenet).
TEST01_SAMPLING_TARGETS: dict[str, int] = {
    "resnet50": 4096,
    "ssd-mobilenet": 1024,
    "ssd-resnet34": 256,
    "3d-unet": 64,
    "bert": 4096,
    "dlrm": 4096,
    "rnnt": 4096,
    # edgeperf's Open-division demo model (not a v1.1 benchmark): its short demo runs issue a
    # few thousand samples, so a smaller target keeps TEST01's accuracy log small.
    "demo-digits": 1024,
}

#: TEST04-B repeats this sample (an index into the loaded set).
TEST04_SAME_INDEX = 3

#: The scenarios the official TEST04-A/B ``audit.config`` files set, in their order.
TEST04_SCENARIOS = ("MultiStream", "Offline", "SingleStream", "Server")

#: TEST05's alternate seeds (replacing the official v1.1 seeds of mlperf.conf).
TEST05_SEEDS: dict[str, int] = {
    "qsl_rng_seed": 313588358309856706,
    "sample_index_rng_seed": 471397156132239067,
    "schedule_rng_seed": 413914573387865862,
}

# Other names of a benchmark family: the checker's model classes and the edgeperf names.
_ALIASES = {
    "resnet": "resnet50",
    "resnet50": "resnet50",
    "ssd-small": "ssd-mobilenet",
    "ssd-mobilenet": "ssd-mobilenet",
    "ssd-large": "ssd-resnet34",
    "ssd-resnet34": "ssd-resnet34",
    "3d-unet": "3d-unet",
    "bert": "bert",
    "dlrm": "dlrm",
    "rnnt": "rnnt",
    "demo-digits": "demo-digits",
}


def benchmark_family(benchmark: str) -> str:
    """The family a benchmark belongs to: ``bert-99.9`` → ``bert``, ``resnet`` → ``resnet50``.

    ``KeyError`` (naming the known benchmarks) for a benchmark outside the v1.1 suite.
    """
    name = str(benchmark).strip().lower()
    for suffix in ("-99.9", "-99"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    try:
        return _ALIASES[name]
    except KeyError:
        known = ", ".join(sorted(TEST01_SAMPLING_TARGETS))
        raise UnknownNameError(
            f"{benchmark!r} is not a v1.1 benchmark; the compliance settings are defined for {known}"
        ) from None


def sampling_target(benchmark: str) -> int:
    """TEST01's ``accuracy_log_sampling_target`` for a benchmark."""
    return TEST01_SAMPLING_TARGETS[benchmark_family(benchmark)]


@dataclass(frozen=True)
class AuditSetting:
    """One line of an ``audit.config``: ``model.scenario.key = value`` (``*`` matches any)."""

    key: str
    value: int
    scenario: str = "*"
    model: str = "*"

    @property
    def line(self) -> str:
        return f"{self.model}.{self.scenario}.{self.key} = {self.value}"


def audit_settings(test: ComplianceTest | str, benchmark: str) -> list[AuditSetting]:
    """The official v1.1 audit settings of ``test`` for ``benchmark``, in the official order."""
    test = ComplianceTest.parse(test) if not isinstance(test, ComplianceTest) else test
    if test is ComplianceTest.TEST01:
        return [
            AuditSetting("mode", PERFORMANCE_ONLY),
            AuditSetting("accuracy_log_rng_seed", TEST01_ACCURACY_LOG_RNG_SEED),
            AuditSetting("accuracy_log_sampling_target", sampling_target(benchmark)),
        ]
    if test is ComplianceTest.TEST05:
        benchmark_family(benchmark)  # the same seeds for all, but refuse unknown names alike
        return [AuditSetting("mode", PERFORMANCE_ONLY)] + [AuditSetting(k, v) for k, v in TEST05_SEEDS.items()]
    benchmark_family(benchmark)
    unique = test is ComplianceTest.TEST04_A
    out = []
    for scenario in TEST04_SCENARIOS:
        out += [
            AuditSetting("mode", PERFORMANCE_ONLY, scenario),
            AuditSetting("performance_issue_unique", 1 if unique else 0, scenario),
            AuditSetting("performance_issue_same", 0 if unique else 1, scenario),
        ]
        if not unique:
            out.append(AuditSetting("performance_issue_same_index", TEST04_SAME_INDEX, scenario))
    return out


_PURPOSE = {
    ComplianceTest.TEST01: "accuracy in performance mode: sampled responses go to the accuracy log",
    ComplianceTest.TEST04_A: "sample caching, part A: every query uses a different sample",
    ComplianceTest.TEST04_B: "sample caching, part B: every query repeats one sample",
    ComplianceTest.TEST05: "alternate RNG seeds",
}


def audit_config_text(test: ComplianceTest | str, benchmark: str) -> str:
    """The ``audit.config`` file for ``test`` and ``benchmark`` (comments, then one line per setting)."""
    test = ComplianceTest.parse(test) if not isinstance(test, ComplianceTest) else test
    settings = audit_settings(test, benchmark)
    head = [
        f"# {test.value} for {benchmark}: {_PURPOSE[test]} (MLPerf Inference v1.1 settings, written by edgeperf).",
        "# Syntax: model.scenario.key = value, where '*' matches any model or scenario.",
        "# mode 2 = PerformanceOnly.",
    ]
    return "\n".join(head + [s.line for s in settings]) + "\n"


def write_audit_config(test: ComplianceTest | str, benchmark: str, path: str | os.PathLike) -> Path:
    """Write the ``audit.config`` of ``test`` for ``benchmark`` to ``path`` (atomically); return it."""
    return atomic_write(path, audit_config_text(test, benchmark))


def required_tests(benchmark: str, scenario: str) -> tuple[ComplianceTest, ...]:
    """The tests a closed-division result needs, as the v1.1 round's rules say (§5.9).

    The rules (:meth:`~edgeperf.submission.rules.RoundRules.required_compliance_tests`) leave
    TEST04-A/B out for rnnt, bert and dlrm, and for a scenario folder named exactly
    ``MultiStream``; the checker reads the same rules.
    """
    benchmark_family(benchmark)  # refuse a name outside the suite, naming the known ones
    model = V1_1.model_class(benchmark)
    if model is None:  # an Open-only benchmark (demo-digits) is filed under a v1.1 model class
        from ..benchmarks.registry import open_model_map

        model = open_model_map().get(benchmark)
    if model is None:
        raise UnknownNameError(f"{benchmark!r} has no model class in the v1.1 rules")
    return tuple(
        ComplianceTest(t) for t in V1_1.required_compliance_tests(model, str(getattr(scenario, "value", scenario)))
    )
