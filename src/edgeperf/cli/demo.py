"""``edgeperf demo``: a complete small Open-division submission, start to finish (the workflow in
:mod:`edgeperf.workflow.demo`); this module parses, shows progress and prints."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from ..workflow.demo import DEFAULT_DURATION_S


def demo(
    output: Path = typer.Option(
        Path("edgeperf-demo"),
        "--output",
        "-o",
        help="Folder for everything the demo writes (replaced if an earlier demo made it).",
    ),
    full: bool = typer.Option(
        False, "--full", help="Use the rules' durations and query counts (hours) instead of short runs."
    ),
    duration: float = typer.Option(
        DEFAULT_DURATION_S,
        "--duration",
        "-d",
        help="Seconds per performance run in the short demo (ignored with --full).",
    ),
    json_out: Optional[str] = typer.Option(
        None,
        "--json",
        help="Also write the outcome as JSON (format edgeperf-demo, version 1) "
        "to this file; '-' prints only the JSON on stdout.",
    ),
) -> None:
    """Benchmark a small digit classifier in every scenario, check its accuracy, run the compliance
    tests, build and check an Open-division tree, and write the run reports and the results page.

    The default runs are short and NOT compliant with the rules' durations; nothing here is an
    official MLPerf result (MLPerf is a trademark of MLCommons).
    """
    from rich.console import Console

    from ..workflow.demo import DemoOptions, run_demo, validate_duration
    from ..workflow.demo_power import simulator_power_measurer
    from .errors import user_errors
    from .progress import LiveProgress

    quiet = json_out == "-"
    # With --json - stdout carries only the JSON; progress goes to stderr.
    console = Console(stderr=quiet)
    say = (lambda text: print(text, file=sys.stderr)) if quiet else typer.echo
    live: list[LiveProgress] = []

    def on_progress(i: int, n: int, label: str, status: str) -> None:
        if status == "start":
            say(f"[{i}/{n}] {label} ...")
        elif status == "note":
            say(f"      {label}")

    def listeners_for(label: str):
        for p in live:
            p.close()
        # Off a terminal the heartbeat lines go where the progress goes (stderr with --json -).
        live[:] = [LiveProgress(console, label, quick=not full, heartbeat=sys.stderr if quiet else None)]
        return live

    with user_errors():
        if not full:
            validate_duration(duration)
        if json_out not in (None, "-"):
            _check_json_target(Path(json_out))
        say(
            "edgeperf demo: "
            + (
                "the rules' durations (this takes hours)"
                if full
                else f"short runs of {duration:g} s each, NOT compliant with the rules' durations"
            )
            + "; not an official MLPerf result."
        )
        try:
            outcome = run_demo(
                DemoOptions(output=output, full=full, duration_s=duration, power=simulator_power_measurer()),
                on_progress=on_progress,
                listeners_for=listeners_for,
            )
        finally:
            for p in live:
                p.close()
    data = outcome.to_json()
    text = json.dumps(data, indent=2) + "\n"
    (outcome.output / "demo.json").write_text(text, encoding="utf-8")
    if json_out == "-":
        sys.stdout.write(text)
    else:
        if json_out is not None:
            Path(json_out).write_text(text, encoding="utf-8")
        _print_summary(outcome)
        if json_out is not None:
            typer.echo(f"JSON: {json_out}")
    raise typer.Exit(0 if outcome.check_exit_code == 0 else 1)


def _check_json_target(path: Path) -> None:
    """Refuse an unusable --json path before the runs, not after them."""
    if path.is_dir():
        raise ValueError(f"--json {path}: is a folder (expected a file name, or - for stdout)")
    if not path.parent.is_dir():
        raise ValueError(f"--json {path}: the folder {path.parent} does not exist")


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """A plain text table sized to its content: no column is ever cut to fit the terminal."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return out


def _print_summary(outcome) -> None:
    label = outcome.label
    typer.echo("")
    typer.echo(f"Results: demo-digits, Open division ({label})")
    headers = ["Scenario", "Metric", "Result", "Units", "Accuracy (top-1)", "Quality target", "Compliance", "Power"]
    rows = []
    for r in outcome.rows:
        value = "NoResult" if r.value is None else (f"{r.value:g}" if isinstance(r.value, float) else str(r.value))
        acc = "-" if r.accuracy is None else f"{r.accuracy:.3f}%"
        target = f">= {outcome.quality_target:.3f}%: " + ("met" if r.accuracy_ok else "NOT met")
        comp = ", ".join(f"{t} {v}" for t, v in r.compliance.items()) or "-"
        rows.append([r.scenario, r.metric, value, r.units, acc, target, comp, r.power or "-"])
    for line in _table(headers, rows):
        typer.echo(line)
    if any(v == "FAIL" for r in outcome.rows for v in r.compliance.values()):
        typer.echo(
            "Compliance: a FAIL means a test run's score differed from the performance run's by more "
            "than the test allows (5-20%); short runs on a busy machine can differ that much."
        )
    if outcome.peak_qps:
        typer.echo(
            f"Server rate: find-peak found {outcome.peak_qps:.0f} queries/s; the Server runs used "
            f"{outcome.server_qps:.0f}."
        )
    typer.echo(f"Power: {outcome.power_note}")
    typer.echo(f"Checker: {outcome.verdict_line}")
    typer.echo("")
    typer.echo("Where everything is:")
    for name, path in (
        ("submission tree", outcome.tree),
        ("runs (logs, report.html each)", outcome.runs),
        ("checker report", outcome.check_report),
        ("summary.csv", outcome.summary_csv),
        ("system description", outcome.system_json),
        ("results page", outcome.page),
        ("outcome (JSON)", outcome.output / "demo.json"),
    ):
        typer.echo(f"  {name}: {path}")
    typer.echo(f"  {len(outcome.reports)} run reports (report.html) under {outcome.output}")
    typer.echo(f"Check the tree again: {outcome.check_command}")
    typer.echo(f"Open the results page: {outcome.open_command}")
    typer.echo(f"{label}. Took {outcome.elapsed_s:.0f} s.")
