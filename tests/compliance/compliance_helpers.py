"""Shared helpers of the compliance tests: the fixture's compliance folders, summaries, the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fixture_paths import FIXTURES

TESTS_WITH_VERIFY_PERFORMANCE = ("TEST01", "TEST04-A", "TEST05")


@dataclass(frozen=True)
class FixtureTest:
    """One compliance test folder of the real v1.1 subset, with its results folder."""

    test: str
    test_dir: Path
    results_dir: Path

    @property
    def id(self) -> str:
        return str(self.test_dir.relative_to(FIXTURES))


def fixture_tests(names: tuple[str, ...] = TESTS_WITH_VERIFY_PERFORMANCE) -> list[FixtureTest]:
    """Every ``compliance/<sys>/<bench>/<scenario>/<TEST>`` folder of the fixture named in ``names``."""
    out = []
    for test_dir in sorted(FIXTURES.glob("*/*/compliance/*/*/*/TEST*")):
        if test_dir.name not in names:
            continue
        division, submitter, _, system, bench, scenario = test_dir.parent.relative_to(FIXTURES).parts
        results = FIXTURES / division / submitter / "results" / system / bench / scenario
        out.append(FixtureTest(test_dir.name, test_dir, results))
    return out


def summary_text(
    scenario: str,
    score: str,
    *,
    valid: bool = True,
    errors: int = 0,
    warnings: int = 0,
    issue_unique: int = 0,
    issue_same: int = 0,
) -> str:
    """A v1.1 summary with the given headline score (the lines the verify scripts read, in place)."""
    headline = {
        "SingleStream": f"90th percentile latency (ns) : {score}",
        "MultiStream": f"Samples per query : {score}",
        "Server": f"Scheduled samples per second : {score}",
        "Offline": f"Samples per second: {score}",
    }[scenario]
    if errors == 0:
        footer_e = "No errors encountered during test."
    elif errors == 1:
        footer_e = "1 ERROR encountered. See detailed log."
    else:
        footer_e = f"{errors} ERRORS encountered. See detailed log."
    footer_w = (
        "No warnings encountered during test."
        if warnings == 0
        else f"{warnings} warning encountered. See detailed log."
    )
    lines = [
        "================================================",
        "MLPerf Results Summary",
        "================================================",
        "SUT name : TestSUT",
        f"Scenario : {scenario}",
        "Mode     : PerformanceOnly",
        headline,
        f"Result is : {'VALID' if valid else 'INVALID'}",
        "  Min duration satisfied : Yes",
        "  Min queries satisfied : Yes",
        "",
        "================================================",
        "Additional Stats",
        "================================================",
        "Min latency (ns)                : 447162",
        "90.00 percentile latency (ns)   : 508819",
        "",
        "================================================",
        "Test Parameters Used",
        "================================================",
        "samples_per_query : 1",
        "target_qps : 1327.22",
        f"performance_issue_unique : {issue_unique}",
        f"performance_issue_same : {issue_same}",
        "performance_issue_same_index : 0",
        "performance_sample_count : 1024",
        "",
        footer_w,
        "",
        footer_e,
    ]
    return "\n".join(lines) + "\n"


def write_summary(path: Path, *args, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(summary_text(*args, **kwargs))
    return path


def compliance_cli():
    """``invoke(*args)`` runs ``edgeperf *args`` in-process with the compliance commands registered."""
    from typer.testing import CliRunner

    from edgeperf.cli import compliance
    from edgeperf.cli.main import build_app

    app = build_app()
    if not any(getattr(g, "name", None) == "compliance" for g in app.registered_groups):
        app.add_typer(compliance.app, name="compliance")
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})

    return invoke
