"""``edgeperf compliance verify``: one test's official verification, from submission folders.

``results_dir`` is a scenario's results folder (``results/<system>/<benchmark>/<scenario>``, with
``performance/run_1/mlperf_log_summary.txt`` and ``accuracy/mlperf_log_accuracy.json``);
``compliance_dir`` is the test's folder (``compliance/<system>/<benchmark>/<scenario>/<TEST>``),
with its logs in ``performance/run_1/`` (and, for TEST01, ``accuracy/``) as ``edgeperf compliance
run`` writes them — or flat, as a run leaves them in its working directory. The verify files go
to ``output_dir`` (default: the test's folder; for TEST04, the TEST04-A folder, as the official
``run_verification.py`` writes TEST04's verdict only there).

Everything is computed before anything is written, so an unreadable or truncated log leaves the
output folder as it was.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .._atomic import atomic_write
from .audit import ComplianceTest
from .verify_accuracy import AccuracyVerification, compare_with_baseline, default_dtype, verify_test01_accuracy
from .verify_performance import (
    PerformanceVerification,
    verify_test01_performance,
    verify_test04_performance,
    verify_test05_performance,
)
from ..errors import MissingPathError, UsageError

__all__ = ["VerifyOutcome", "verify_compliance", "parse_verify_test", "SUMMARY", "DETAIL", "ACCURACY_LOG"]

SUMMARY = "mlperf_log_summary.txt"
DETAIL = "mlperf_log_detail.txt"
ACCURACY_LOG = "mlperf_log_accuracy.json"
VERIFY_PERFORMANCE = "verify_performance.txt"
VERIFY_ACCURACY = "verify_accuracy.txt"
BASELINE_FILES = ("baseline_accuracy.txt", "compliance_accuracy.txt")


@dataclass
class VerifyOutcome:
    """What one verification found and wrote."""

    test: ComplianceTest
    output_dir: Path
    performance: PerformanceVerification
    accuracy: AccuracyVerification | None = None
    written: list[Path] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Every verify file written says TEST PASS (what the checker looks for)."""
        return self.performance.passed and (self.accuracy is None or self.accuracy.passed)

    def report_lines(self, limit: int = 20) -> list[str]:
        """A readable account: the performance verdict, then TEST01's accuracy report."""
        lines = [self.performance.explain()]
        if self.accuracy is not None:
            lines += self.accuracy.report_lines(limit)
        return lines


def parse_verify_test(name: str) -> ComplianceTest:
    """A test name for verification; ``TEST04`` means the TEST04-A/TEST04-B pair."""
    if str(name).strip().upper() == "TEST04":
        return ComplianceTest.TEST04_A
    return ComplianceTest.parse(name)


def _find(folder: Path, candidates: tuple[str, ...], what: str, expected: str) -> Path:
    if not folder.is_dir():
        raise MissingPathError(f"{folder}: no such folder (expected {expected})")
    for rel in candidates:
        path = folder / rel
        if path.is_file():
            return path
    names = " or ".join(candidates)
    raise MissingPathError(f"{folder}: no {names} ({what})")


_RESULTS = "a scenario's results folder, results/<system>/<benchmark>/<scenario>"
_TEST = "a compliance test folder, compliance/<system>/<benchmark>/<scenario>/<TEST>"


def _results_summary(results: Path) -> Path:
    return _find(results, (f"performance/run_1/{SUMMARY}",), "the submission's performance summary", _RESULTS)


def _results_accuracy(results: Path) -> Path:
    return _find(results, (f"accuracy/{ACCURACY_LOG}",), "the submission's accuracy-run log", _RESULTS)


def _test_summary(test_dir: Path) -> Path:
    return _find(test_dir, (f"performance/run_1/{SUMMARY}", SUMMARY), "the compliance run's summary", _TEST)


def _test_accuracy(test_dir: Path) -> Path:
    return _find(test_dir, (f"accuracy/{ACCURACY_LOG}", ACCURACY_LOG), "the TEST01 run's accuracy log", _TEST)


def verify_compliance(
    test: ComplianceTest | str,
    results_dir: str | os.PathLike | None,
    compliance_dir: str | os.PathLike,
    output_dir: str | os.PathLike | None = None,
    *,
    dtype: str | None = None,
    benchmark: str | None = None,
    dataset: str | os.PathLike | None = None,
    evaluate: Callable[[Path], Any] | None = None,
    quality_fraction: float | None = None,
    skip_accuracy: bool = False,
    other_dir: str | os.PathLike | None = None,
) -> VerifyOutcome:
    """Run the official verification of ``test`` and write its verify file(s).

    * TEST01: ``verify_accuracy.txt`` (unless ``skip_accuracy``) and ``verify_performance.txt``.
      ``dtype`` is the official ``--dtype``; by default the benchmark's response type where the
      official script offers it (``float32`` for resnet50, ssd-* and bert, ``int64`` for rnnt),
      else ``byte`` (the official default, which compares only the first *byte*: it cannot tell
      the float32 labels 1.0 and 65.0 apart). Without ``benchmark`` the results folder's
      benchmark folder name is used when it names a v1.1 benchmark (``…/resnet50/Offline``). When the official accuracy check fails and the
      benchmark's accuracy can be computed (``benchmark`` and ``dataset``, or ``evaluate`` and
      ``quality_fraction``), the baseline comparison is made: ``accuracy/baseline_accuracy.txt``
      and ``accuracy/compliance_accuracy.txt`` are written and its lines appended.
    * TEST04-A / TEST04-B / ``TEST04``: A against B. ``other_dir`` is the other half's folder
      (default: the sibling ``TEST04-B`` / ``TEST04-A`` folder); ``results_dir`` is not needed.
    * TEST05: the alternate-seed run against the submission's performance run.

    When ``output_dir`` is not the test's folder the test's logs are copied there too
    (``performance/run_1/``, TEST01's ``accuracy/``), as ``run_verification.py`` does.
    Missing files raise ``FileNotFoundError``; malformed or truncated logs ``LogFormatError``.
    """
    kind = parse_verify_test(test) if isinstance(test, str) else test
    comp = Path(compliance_dir)
    results = Path(results_dir) if results_dir is not None else None
    accuracy: AccuracyVerification | None = None
    copies: list[tuple[Path, str]] = []

    if kind in (ComplianceTest.TEST04_A, ComplianceTest.TEST04_B):
        if kind is ComplianceTest.TEST04_A:
            a_dir, b_dir = comp, Path(other_dir) if other_dir else comp.parent / ComplianceTest.TEST04_B.value
        else:
            a_dir, b_dir = Path(other_dir) if other_dir else comp.parent / ComplianceTest.TEST04_A.value, comp
        a_summary, b_summary = _test_summary(a_dir), _test_summary(b_dir)
        performance = verify_test04_performance(a_summary, b_summary)
        own = a_dir
        out = Path(output_dir) if output_dir is not None else a_dir
        kind = ComplianceTest.TEST04_A
        copies.append((a_summary, "performance/run_1"))
    else:
        if results is None:
            raise UsageError(
                f"{kind.value} compares with the submission's runs: give the scenario's results folder "
                f"(--results results/<system>/<benchmark>/<scenario>)"
            )
        ref_summary, test_summary = _results_summary(results), _test_summary(comp)
        own = comp
        out = Path(output_dir) if output_dir is not None else comp
        copies.append((test_summary, "performance/run_1"))
        if kind is ComplianceTest.TEST01:
            if not skip_accuracy:
                ref_log, test_log = _results_accuracy(results), _test_accuracy(comp)
                copies.append((test_log, "accuracy"))
                known = benchmark or _benchmark_from_folder(results)
                accuracy = verify_test01_accuracy(
                    ref_log, test_log, dtype=dtype or default_dtype(known), benchmark=known
                )
                if not accuracy.official_passed:
                    evaluate, quality_fraction = _evaluator(benchmark, dataset, evaluate, quality_fraction)
                    if evaluate is not None:
                        accuracy.baseline = compare_with_baseline(ref_log, test_log, evaluate, quality_fraction)
            performance = verify_test01_performance(ref_summary, test_summary)
        elif kind is ComplianceTest.TEST05:
            performance = verify_test05_performance(ref_summary, test_summary)
        else:  # pragma: no cover - every test is handled above
            raise UsageError(f"cannot verify {kind.value}")
    for summary, _ in list(copies):
        detail = summary.with_name(DETAIL)
        if detail.is_file():
            copies.append((detail, "performance/run_1"))

    outcome = VerifyOutcome(test=kind, output_dir=out, performance=performance, accuracy=accuracy)
    out.mkdir(parents=True, exist_ok=True)
    if accuracy is not None:
        outcome.written.append(accuracy.write(out / VERIFY_ACCURACY))
        acc_dir = out / "accuracy"
        if accuracy.baseline is not None:
            b = accuracy.baseline
            for name, lines in zip(BASELINE_FILES, (b.baseline_lines, b.compliance_lines)):
                outcome.written.append(atomic_write(acc_dir / name, "".join(line + "\n" for line in lines)))
        elif accuracy.official_passed:
            for name in BASELINE_FILES:  # left from an earlier, failing verification of older logs
                stale = acc_dir / name
                if stale.is_file():
                    stale.unlink()
    outcome.written.append(performance.write(out / VERIFY_PERFORMANCE))
    if _resolved(out) != _resolved(own):
        for src, sub in copies:
            target = out / sub / src.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            outcome.written.append(target)
    return outcome


def _benchmark_from_folder(results: Path) -> str | None:
    """``results/<system>/<benchmark>/<scenario>`` → the benchmark, if it is one of v1.1."""
    from .audit import benchmark_family

    name = results.resolve().parent.name if results.name else ""
    try:
        benchmark_family(name)
    except KeyError:
        return None
    return name


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _evaluator(benchmark, dataset, evaluate, fraction):
    """The accuracy evaluator for the baseline comparison, if one can be had."""
    if evaluate is not None:
        return evaluate, fraction if fraction is not None else 0.99
    if benchmark is None or dataset is None:
        return None, None
    from ..benchmarks.registry import get_benchmark

    bench = get_benchmark(benchmark)
    root = Path(dataset)
    return (lambda log: bench.evaluate(log, root)), (fraction if fraction is not None else bench.quality.fraction)
