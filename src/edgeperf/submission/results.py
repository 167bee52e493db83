"""What a check run produces: the result map, the summary rows, the findings and the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..power import PowerMetric
from .context import CheckOptions
from .findings import Finding, Severity
from .summary_csv import SummaryRow
from .tree import ReadStats

__all__ = ["CheckReport", "ScenarioResult", "Verdict"]


@dataclass(frozen=True)
class ScenarioResult:
    """A recorded (valid) scenario result."""

    location: str  # division/submitter/results/system/benchmark/scenario-directory
    division: str
    submitter: str
    system: str
    benchmark: str
    mlperf_model: str
    scenario: str  # CamelCase (scenario_fixed)
    value: Any  # float, or the raw number of an inferred Offline result
    units: str
    accuracy: str | None
    inferred: bool
    power: PowerMetric | None
    compliance: int
    errors: int

    @property
    def has_power(self) -> bool:
        return self.power is not None and self.power.value > 0

    def log_value(self) -> str:
        """The value as v1.1's ``Results <path> <value>`` line prints it."""
        if self.has_power:
            return f"{self.value:f} with power_metric = {self.power.value:f}"
        return str(self.value)


@dataclass(frozen=True)
class Verdict:
    """``status`` is ``"pass"``, ``"pass-with-errors"`` (errors v1.1 does not count) or ``"fail"``."""

    status: str
    line: str
    exit_code: int


@dataclass
class CheckReport:
    root: str
    options: CheckOptions
    entries: dict[str, ScenarioResult | None] = field(default_factory=dict)
    rows: list[SummaryRow] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    read_stats: ReadStats = field(default_factory=ReadStats)
    elapsed_s: float = 0.0

    @property
    def results(self) -> list[ScenarioResult]:
        return [self.entries[k] for k in sorted(self.entries) if self.entries[k] is not None]

    @property
    def no_results(self) -> list[str]:
        """Result-map keys that got no result (NoResults), sorted."""
        return sorted(k for k, v in self.entries.items() if v is None)

    def count(self, *severities: Severity) -> int:
        return sum(1 for f in self.findings if f.severity in severities)

    @property
    def error_count(self) -> int:
        """Findings v1.1 would log as ERROR (FATAL, DROP and SOFT)."""
        return self.count(Severity.FATAL, Severity.DROP, Severity.SOFT)

    @property
    def warning_count(self) -> int:
        return self.count(Severity.WARN)

    @property
    def valid(self) -> bool:
        """True when every entry of the result map has a result (v1.1's exit status 0)."""
        return bool(self.entries) and not self.no_results

    def verdict(self) -> Verdict:
        n_ok, n_bad = len(self.results), len(self.no_results)
        errors, warnings = self.error_count, self.warning_count
        invalidating = self.count(Severity.FATAL, Severity.DROP)
        tail = f"{warnings} warning{'s' if warnings != 1 else ''}"
        if not self.entries:
            return Verdict(
                "fail",
                "FAIL: no results found to check (is this a submission tree with closed/ or open/ at its top?)",
                1,
            )
        if n_bad:
            return Verdict(
                "fail",
                f"FAIL: {n_bad} NoResults, {n_ok} results; {errors} errors "
                f"({invalidating} invalidating), {tail} -- the submission has errors",
                1,
            )
        if errors:
            hint = "" if self.options.strict else "; --strict would enforce the seed/latency/query/duration ones"
            return Verdict(
                "pass-with-errors",
                f"PASS WITH ERRORS LOGGED: {n_ok} results, 0 NoResults; {errors} "
                f"errors that v1.1 does not count against a result{hint}; {tail}",
                0,
            )
        return Verdict("pass", f"PASS: {n_ok} results, 0 NoResults, no errors, {tail}", 0)
