"""``edgeperf run``: one benchmark, one scenario, one mode, with the real model and dataset."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer


class ScenarioChoice(str, Enum):
    SingleStream = "SingleStream"
    MultiStream = "MultiStream"
    Server = "Server"
    Offline = "Offline"


class ModeChoice(str, Enum):
    performance = "performance"
    accuracy = "accuracy"
    submission = "submission"
    find_peak = "find-peak"


_MODES = {
    "performance": "PerformanceOnly",
    "accuracy": "AccuracyOnly",
    "submission": "SubmissionRun",
    "find-peak": "FindPeakPerformance",
}


def run(
    benchmark: str = typer.Argument(..., help="Benchmark name (see `edgeperf benchmarks`)."),
    scenario: ScenarioChoice = typer.Option(..., "--scenario", help="LoadGen scenario."),
    mode: ModeChoice = typer.Option(ModeChoice.performance, "--mode", help="LoadGen mode."),
    model: Path = typer.Option(..., "--model", help="Model file (ONNX, or TorchScript/PyTorch with --backend torch)."),
    dataset: Path = typer.Option(..., "--dataset", help="Dataset folder in its official layout."),
    backend: Optional[str] = typer.Option(None, "--backend", help="onnxruntime or torch (default: the benchmark's own)."),
    user_conf: Optional[Path] = typer.Option(None, "--user-conf", help="user.conf overriding the shipped v1.1 mlperf.conf."),
    audit_config: Optional[Path] = typer.Option(None, "--audit-config", help="Compliance audit.config to apply on top."),
    output: Path = typer.Option(Path("output"), "--output", help="Folder for logs, accuracy.txt and report.html."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="Backend intra-op threads."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="Samples per model call."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Worker threads (non-SingleStream)."),
    max_samples: Optional[int] = typer.Option(None, "--max-samples", min=1, help="Use only the first N samples of the dataset."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Cache preprocessed samples here."),
) -> None:
    """Run a benchmark and write the four LoadGen logs (plus accuracy.txt in accuracy mode)."""
    from rich.console import Console

    from ..benchmarks.runner import RunOptions, run_benchmark
    from ..loadgen.enums import TestMode, TestScenario
    from .errors import user_errors
    from .progress import LiveProgress

    console = Console()
    # Errors go to stderr, one line each however narrow the terminal (rich would wrap them).
    errors = Console(stderr=True, soft_wrap=True)
    if audit_config is None and Path("audit.config").is_file():
        console.print(
            "[yellow]edgeperf: ./audit.config is present but not applied; the official LoadGen would apply it. "
            "Pass --audit-config audit.config to use it.[/yellow]"
        )
    opts = RunOptions(
        benchmark=benchmark,
        scenario=TestScenario(scenario.value),
        mode=TestMode(_MODES[mode.value]),
        model=model,
        dataset=dataset,
        output=output,
        backend=backend,
        user_conf=user_conf,
        audit_config=audit_config,
        threads=threads,
        batch_size=batch_size,
        workers=workers,
        max_samples=max_samples,
        cache_dir=cache_dir,
    )
    progress = LiveProgress(console, f"{benchmark} {scenario.value}")
    with user_errors(errors):
        try:
            outcome = run_benchmark(opts, listeners=[progress])
        finally:
            progress.close()
    perf = outcome.result.performance
    if perf is not None:
        console.print(f"{outcome.result.headline}\nResult is : {'VALID' if perf.valid else 'INVALID'}")
    if outcome.accuracy is not None:
        for line in outcome.accuracy.lines[-1:]:
            console.print(line, markup=False, highlight=False)
    console.print(f"Logs in {output}" + (f"; report: {outcome.report_path}" if outcome.report_path else ""))
    console.print("[dim]edgeperf is an independent implementation; this is not an official MLPerf result.[/dim]")
