"""The v1.1 compliance (audit) tests: TEST01, TEST04-A/B and TEST05 (spec submission.md §6).

* :mod:`.audit` — the tests and their official ``audit.config`` settings, as data;
  :func:`required_tests` says which a closed result needs.
* :mod:`.run` — :func:`run_compliance_test`: a benchmark run with a test's settings, written as
  the test's folder of a submission tree.
* :mod:`.verify_performance` — ``verify_performance.txt`` of TEST01, TEST04 and TEST05, byte for
  byte as the official scripts write it.
* :mod:`.verify_accuracy` — TEST01's ``verify_accuracy.txt``, the baseline fallback for
  non-deterministic systems, and a report of which responses differed and by how much.
* :mod:`.verify` — :func:`verify_compliance`: one test's verification from submission folders.

Only numpy and the standard library are needed, except by :func:`run_compliance_test` (which runs
a benchmark) and by the baseline comparison (which scores accuracy).
"""

from .audit import (
    ComplianceTest,
    audit_config_text,
    audit_settings,
    required_tests,
    sampling_target,
    write_audit_config,
)
from .run import ComplianceRunOutcome, run_compliance_test
from .verify import VerifyOutcome, parse_verify_test, verify_compliance
from .verify_accuracy import AccuracyVerification, BaselineComparison, SampleDifference, verify_test01_accuracy
from .verify_performance import (
    PerformanceVerification,
    verify_test01_performance,
    verify_test04_performance,
    verify_test05_performance,
)

__all__ = [
    "ComplianceTest",
    "audit_settings",
    "audit_config_text",
    "write_audit_config",
    "required_tests",
    "sampling_target",
    "run_compliance_test",
    "ComplianceRunOutcome",
    "verify_compliance",
    "parse_verify_test",
    "VerifyOutcome",
    "PerformanceVerification",
    "verify_test01_performance",
    "verify_test04_performance",
    "verify_test05_performance",
    "AccuracyVerification",
    "BaselineComparison",
    "SampleDifference",
    "verify_test01_accuracy",
]
