"""``edgeperf benchmarks``: the benchmarks edgeperf knows, with their targets."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

JSON_FORMAT = "edgeperf-benchmarks"
JSON_FORMAT_VERSION = 1
_COLUMNS = ("Benchmark", "Task", "Quality target", "Server bound", "QSL (total/perf)", "Required (Edge)")


def _rows() -> list[tuple[str, ...]]:
    from ..benchmarks.registry import all_benchmarks
    from .output import num

    rows: list[tuple[str, ...]] = []
    for b in all_benchmarks():
        q = b.quality
        rows.append(
            (
                b.name,
                b.task,
                f"{q.metric} >= {num(q.threshold)}{q.unit} ({q.fraction:g} x {q.reference:g})",
                f"{b.server_latency_ms} ms",
                f"{b.qsl_total}/{b.qsl_performance_count}",
                ", ".join(s.value for s in b.required_scenarios) or "-",
            )
        )
    return rows


def benchmarks_json() -> dict[str, Any]:
    """The ``edgeperf-benchmarks`` format 1 document (see :mod:`edgeperf.cli.output`)."""
    from ..benchmarks.registry import all_benchmarks
    from .output import header

    doc = header(JSON_FORMAT, JSON_FORMAT_VERSION)
    doc["benchmarks"] = [
        {
            "name": b.name,
            "task": b.task,
            "quality": {
                "metric": b.quality.metric,
                "reference": b.quality.reference,
                "fraction": b.quality.fraction,
                "threshold": round(b.quality.threshold, 10),
                "unit": b.quality.unit,
            },
            "server_latency_ms": b.server_latency_ms,
            "qsl_total": b.qsl_total,
            "qsl_performance_count": b.qsl_performance_count,
            "required_scenarios": [s.value for s in b.required_scenarios],
        }
        for b in all_benchmarks()
    ]
    return doc


def benchmarks(
    json_out: Optional[Path] = typer.Option(
        None, "--json", help="Also write the list as JSON (edgeperf-benchmarks format 1) here."
    ),
) -> None:
    """List each benchmark: task, quality target, Server latency bound, QSL size, required scenarios."""
    from .output import json_to_stdout, on_terminal, plain_console, write_json

    if json_out is not None:
        write_json(benchmarks_json(), json_out)
    to_stderr = json_to_stdout(json_out)
    rows = _rows()
    if not on_terminal():
        # Plain full-width lines for pipes and files: one benchmark per line, nothing cut.
        emit = (lambda line: typer.echo(line, err=True)) if to_stderr else typer.echo
        emit("\t".join(_COLUMNS))
        for row in rows:
            emit("\t".join(row))
        return
    console = plain_console(stderr=to_stderr)
    natural = sum(max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(_COLUMNS)) + 3 * len(_COLUMNS) + 1
    if natural > console.width:
        # Too narrow for a table without folding names and numbers: one block per benchmark.
        for row in rows:
            console.print(f"[bold]{row[0]}[/bold]: {row[1]}", highlight=False)
            for label, value in zip(_COLUMNS[2:], row[2:]):
                console.print(f"  {label + ':':<18}{value}", markup=False, highlight=False)
        return
    from rich.table import Table

    table = Table(title="edgeperf benchmarks (MLPerf Inference v1.1 Edge definitions)")
    for column in _COLUMNS:
        table.add_column(column, no_wrap=True)
    for row in rows:
        table.add_row(*row)
    console.print(table)
