"""``edgeperf demo``: every scenario for a few seconds against a simulated SUT."""

from __future__ import annotations

from pathlib import Path

import typer

from ..demo import DEMO_SCENARIOS, run_demo_scenario


def demo(
    output: Path = typer.Option(Path("edgeperf-demo"), "--output", "-o", help="Folder for the logs (one sub-folder per scenario)."),
    duration: float = typer.Option(3.0, "--duration", "-d", min=0.2, help="Minimum duration of each run, in seconds."),
    scenarios: str = typer.Option(",".join(DEMO_SCENARIOS), help="Comma-separated scenarios to run."),
) -> None:
    """Run each scenario against a built-in simulated SUT and print a results table.

    The runs are short and the SUT is simulated, so the results are not MLPerf results.
    """
    from rich.console import Console
    from rich.table import Table

    from .progress import LiveProgress

    console = Console()
    wanted = [s.strip() for s in scenarios.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in DEMO_SCENARIOS]
    if unknown:
        console.print(f"[red]edgeperf demo: unknown scenario(s) {', '.join(unknown)}; expected some of {', '.join(DEMO_SCENARIOS)}[/red]")
        raise typer.Exit(2)
    table = Table(title="edgeperf demo (simulated SUT; not an MLPerf result)")
    for column in ("Scenario", "Metric", "Value", "Result", "Logs"):
        table.add_column(column)
    for scenario in wanted:
        progress = LiveProgress(console, scenario)
        try:
            row = run_demo_scenario(scenario, output / scenario, duration, listeners=[progress])
        finally:
            progress.close()
        table.add_row(scenario, row.metric, row.value, row.verdict, str(output / scenario))
    console.print(table)
