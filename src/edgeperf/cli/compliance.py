"""``edgeperf compliance``: run an audit test (``run``) and do its official verification (``verify``).

Register with ``app.add_typer(compliance.app, name="compliance")``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from .run import ScenarioChoice
from ..errors import UsageError

app = typer.Typer(
    name="compliance",
    help="The v1.1 compliance tests TEST01, TEST04-A/B and TEST05: run them and verify them.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command("run")
def run(
    test: str = typer.Argument(..., help="TEST01, TEST04-A, TEST04-B or TEST05."),
    benchmark: str = typer.Argument(..., help="Benchmark name (see `edgeperf benchmarks`)."),
    scenario: ScenarioChoice = typer.Option(..., "--scenario", help="LoadGen scenario."),
    model: Path = typer.Option(..., "--model", help="Model file (ONNX, or TorchScript/PyTorch with --backend torch)."),
    dataset: Path = typer.Option(..., "--dataset", help="Dataset folder in its official layout."),
    backend: Optional[str] = typer.Option(None, "--backend", help="onnxruntime or torch (default: the benchmark's own)."),
    user_conf: Optional[Path] = typer.Option(None, "--user-conf", help="user.conf overriding the shipped v1.1 mlperf.conf."),
    output: Optional[Path] = typer.Option(None, "--output", help="The test's folder (default: ./<TEST>)."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="Backend intra-op threads."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="Samples per model call."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Worker threads (non-SingleStream)."),
    max_samples: Optional[int] = typer.Option(None, "--max-samples", min=1, help="Use only the first N samples of the dataset."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Cache preprocessed samples here."),
    audit_config: Optional[Path] = typer.Option(
        None, "--audit-config", help="Use this audit.config instead of the official one (not for submissions)."
    ),
) -> None:
    """Run a benchmark with a compliance test's official audit settings; write the test's folder."""
    from rich.console import Console

    from ..benchmarks.runner import RunOptions
    from ..compliance.audit import ComplianceTest
    from ..compliance.run import run_compliance_test
    from ..loadgen.enums import TestMode, TestScenario
    from .errors import user_errors
    from .progress import LiveProgress

    console = Console()
    errors = Console(stderr=True, soft_wrap=True)
    with user_errors(errors):
        kind = ComplianceTest.parse(test)
    out = output if output is not None else Path(kind.value)
    opts = RunOptions(
        benchmark=benchmark,
        scenario=TestScenario(scenario.value),
        mode=TestMode.PerformanceOnly,
        model=model,
        dataset=dataset,
        output=out,
        backend=backend,
        user_conf=user_conf,
        threads=threads,
        batch_size=batch_size,
        workers=workers,
        max_samples=max_samples,
        cache_dir=cache_dir,
    )
    progress = LiveProgress(console, f"{kind.value} {benchmark} {scenario.value}")
    with user_errors(errors):
        try:
            outcome = run_compliance_test(kind, opts, listeners=[progress], audit_config=audit_config)
        finally:
            progress.close()
    perf = outcome.run.result.performance
    console.print(f"{kind.value}: {outcome.run.result.headline}", markup=False, highlight=False)
    if perf is not None:
        console.print(f"Result is : {'VALID' if perf.valid else 'INVALID'}", markup=False, highlight=False)
    if audit_config is not None:
        console.print(f"[yellow]Applied {audit_config} instead of the official {kind.value} settings.[/yellow]")
    console.print(f"{kind.value} folder: {outcome.output}", markup=False, highlight=False)
    console.print(
        f"Next: edgeperf compliance verify {kind.value} --results <results/system/{benchmark}/{scenario.value}> "
        f"--compliance {outcome.output}",
        markup=False, highlight=False,
    )


@app.command("verify")
def verify(
    test: str = typer.Argument(..., help="TEST01, TEST04-A (or TEST04, or TEST04-B: the A/B pair) or TEST05."),
    results: Optional[Path] = typer.Option(
        None, "--results", help="The scenario's results folder: results/<system>/<benchmark>/<scenario> (not needed for TEST04)."
    ),
    compliance: Path = typer.Option(..., "--compliance", help="The test's folder: compliance/<system>/<benchmark>/<scenario>/<TEST>."),
    output: Optional[Path] = typer.Option(None, "--output", help="Where the verify files go (default: the test's folder)."),
    dtype: Optional[str] = typer.Option(
        None, "--dtype",
        help="TEST01: how the official check decodes responses: byte, float32, int32 or int64 "
        "(default: the benchmark's response type, from --benchmark or the results folder's name; else byte).",
    ),
    benchmark: Optional[str] = typer.Option(None, "--benchmark", help="TEST01: the benchmark, to show value differences and score both runs."),
    dataset: Optional[Path] = typer.Option(None, "--dataset", help="TEST01: its dataset, for the baseline accuracy comparison."),
    skip_accuracy: bool = typer.Option(False, "--skip-accuracy", help="TEST01: verify performance only (e.g. for published, truncated logs)."),
    other: Optional[Path] = typer.Option(None, "--other", help="TEST04: the other half's folder (default: the sibling TEST04-A/TEST04-B)."),
    show: int = typer.Option(20, "--show", min=0, help="TEST01: list at most this many differing responses."),
) -> None:
    """Do the official verification of one test and write verify_performance.txt / verify_accuracy.txt."""
    from ..compliance.verify import verify_compliance
    from .errors import user_errors

    if dataset is not None and benchmark is None:
        print("edgeperf: --dataset needs --benchmark (which accuracy script to run)", file=sys.stderr)
        raise typer.Exit(2)
    from ..loadgen.logs.readers import TruncatedLogError

    with user_errors():  # missing files, malformed or truncated logs
        try:
            outcome = verify_compliance(
                test, results, compliance, output, dtype=dtype, benchmark=benchmark, dataset=dataset,
                skip_accuracy=skip_accuracy, other_dir=other,
            )
        except TruncatedLogError as exc:
            raise UsageError(f"{exc} (--skip-accuracy verifies the performance part alone)") from None
    for path in outcome.written:
        if path.name.startswith("verify_"):
            typer.echo(f"== {path}")
            typer.echo(path.read_text(), nl=False)
    typer.echo("")
    for line in outcome.report_lines(show):
        typer.echo(line)
    typer.echo(f"{outcome.test.value if outcome.test.value != 'TEST04-A' else 'TEST04'} verification: "
               f"{'PASS' if outcome.passed else 'FAIL'}")
    raise typer.Exit(0 if outcome.passed else 1)
