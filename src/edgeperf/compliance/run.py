"""``edgeperf compliance run``: a benchmark run with a test's audit settings, written as the test's folder.

The run is ``edgeperf run`` (:func:`~edgeperf.benchmarks.runner.run_benchmark`) in performance
mode with the test's official ``audit.config`` applied on top of ``mlperf.conf`` and ``user.conf``.
It runs in a staging folder beside the output; only when it has finished are its logs moved into
the submission layout of a compliance test folder::

    <output>/performance/run_1/mlperf_log_summary.txt
    <output>/performance/run_1/mlperf_log_detail.txt
    <output>/accuracy/mlperf_log_accuracy.json        (TEST01 only: the sampled responses)

A failed run leaves the output folder as it was. Files of an earlier verification of the folder
(``verify_*.txt``, the baseline files, a truncation hash) are removed, since they described the
logs being replaced.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .._atomic import OutputError, check_output_dir
from .audit import ComplianceTest, audit_config_text, write_audit_config
from .verify import ACCURACY_LOG, DETAIL, SUMMARY

__all__ = ["ComplianceRunOutcome", "run_compliance_test", "STALE_FILES"]

#: Files of an earlier verification, relative to the test folder; a new run makes them stale.
STALE_FILES = (
    "verify_performance.txt",
    "verify_accuracy.txt",
    "accuracy/baseline_accuracy.txt",
    "accuracy/compliance_accuracy.txt",
    "accuracy/accuracy.txt",
    "performance/run_1/mlperf_log_accuracy.json",
    "performance/run_1/mlperf_log_trace.json",
)


@dataclass
class ComplianceRunOutcome:
    """What a compliance run produced."""

    test: ComplianceTest
    output: Path
    run: Any  # benchmarks.runner.RunOutcome
    audit_config: str
    files: list[Path] = field(default_factory=list)

    @property
    def summary_path(self) -> Path:
        return self.output / "performance" / "run_1" / SUMMARY


def _check_audit_config(path: str | os.PathLike) -> None:
    from ..benchmarks.preflight import PreflightError, check_input_file, check_text_file
    from ..loadgen.config import read_config_file
    from ..loadgen.errors import ConfigError

    check_input_file(path, "--audit-config")
    check_text_file(path, "--audit-config")
    parsed = read_config_file(path)
    if parsed.errors:
        raise ConfigError(parsed.errors)
    if not parsed.entries:
        raise PreflightError(f"--audit-config {path}: no settings in it; expected lines 'model.scenario.key = value'")


def run_compliance_test(
    test: ComplianceTest | str,
    opts,
    *,
    listeners: Iterable[Callable] = (),
    audit_config: str | os.PathLike | None = None,
) -> ComplianceRunOutcome:
    """Run ``opts`` (a :class:`~edgeperf.benchmarks.runner.RunOptions`) as compliance test ``test``.

    ``opts.output`` is the test's folder; ``opts.mode`` and ``opts.audit_config`` are replaced
    (performance mode, the official audit settings of ``opts.benchmark``). ``audit_config``
    names another ``audit.config`` to use instead of the official one (for experiments; a
    submission must use the official settings).
    """
    from ..benchmarks.registry import get_benchmark
    from ..benchmarks.runner import run_benchmark
    from ..loadgen.enums import TestMode

    kind = ComplianceTest.parse(test) if isinstance(test, str) else test
    bench = get_benchmark(opts.benchmark)
    output = Path(opts.output)
    if audit_config is not None:
        _check_audit_config(audit_config)  # errors name the user's file, not the staged copy
    check_output_dir(output)
    parent = output.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.edgeperf-run-", dir=parent))
    try:
        if audit_config is not None:
            raw = Path(audit_config).read_bytes()
            text = raw.decode("utf-8", errors="replace")
            audit_path = staging / "audit.config"
            audit_path.write_bytes(raw)
        else:
            text = audit_config_text(kind, bench.name)
            audit_path = write_audit_config(kind, bench.name, staging / "audit.config")
        logs = staging / "logs"
        run_opts = dataclasses.replace(
            opts, output=logs, audit_config=audit_path, mode=TestMode.PerformanceOnly, report=False
        )
        try:
            result = run_benchmark(run_opts, listeners=listeners)
        except OutputError as exc:  # name the user's folder, never the hidden staging one
            raise OutputError(output, exc.reason, exc.errno) from None
        outcome = ComplianceRunOutcome(test=kind, output=output, run=result, audit_config=text)
        output.mkdir(parents=True, exist_ok=True)
        for rel in STALE_FILES:
            stale = output / rel
            if stale.is_file():
                stale.unlink()
        moves = [(SUMMARY, "performance/run_1"), (DETAIL, "performance/run_1")]
        if kind is ComplianceTest.TEST01:
            moves.append((ACCURACY_LOG, "accuracy"))
        for name, sub in moves:
            target = output / sub / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(logs / name, target)
            outcome.files.append(target)
        result.log_dir = output
        return outcome
    finally:
        shutil.rmtree(staging, ignore_errors=True)
