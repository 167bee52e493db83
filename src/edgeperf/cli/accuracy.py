"""``edgeperf accuracy``: score an existing mlperf_log_accuracy.json and print the official line."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def accuracy(
    benchmark: str = typer.Argument(..., help="Benchmark name (see `edgeperf benchmarks`)."),
    log: Path = typer.Option(..., "--log", help="mlperf_log_accuracy.json to score."),
    dataset: Path = typer.Option(..., "--dataset", help="Dataset folder in its official layout."),
    output: Optional[Path] = typer.Option(None, "--output", help="Also write these lines to this accuracy.txt ('-': only to stdout)."),
) -> None:
    """Print what the official accuracy script prints for this log."""
    from .._atomic import is_stdout
    from ..benchmarks.preflight import check_input_file
    from ..benchmarks.registry import get_benchmark
    from .errors import user_errors

    with user_errors():
        bench = get_benchmark(benchmark)
        check_input_file(log, "--log")
        result = bench.evaluate(log, dataset)
        if output is not None:
            from ..accuracy.base import write_accuracy_txt

            write_accuracy_txt(result, output)
    if is_stdout(output):
        return  # the lines went to standard output as the accuracy.txt
    for line in result.lines:
        typer.echo(line)
