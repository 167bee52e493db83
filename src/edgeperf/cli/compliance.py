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
    rich_markup_mode=None,  # plain help: never cut at 80 columns (see cli.main.plain_help_settings)
)


@app.command("run")
def run(
    test: str = typer.Argument(..., help="TEST01, TEST04-A, TEST04-B or TEST05."),
    benchmark: str = typer.Argument(..., help="Benchmark name (see `edgeperf benchmarks`)."),
    scenario: ScenarioChoice = typer.Option(..., "--scenario", help="LoadGen scenario."),
    model: Path = typer.Option(..., "--model", help="Model file (ONNX, or TorchScript/PyTorch with --backend torch)."),
    dataset: Path = typer.Option(..., "--dataset", help="Dataset folder in its official layout."),
    backend: Optional[str] = typer.Option(
        None, "--backend", help="onnxruntime or torch (default: the benchmark's own)."
    ),
    user_conf: Optional[Path] = typer.Option(
        None, "--user-conf", help="user.conf overriding the shipped v1.1 mlperf.conf."
    ),
    output: Optional[Path] = typer.Option(None, "--output", help="The test's folder (default: ./<TEST>)."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="Backend intra-op threads."),
    batch_size: Optional[int] = typer.Option(
        None,
        "--batch-size",
        "--max-batchsize",
        min=1,
        help="Samples per model call (--max-batchsize: the reference harness's name).",
    ),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Worker threads (non-SingleStream)."),
    max_samples: Optional[int] = typer.Option(
        None,
        "--max-samples",
        "--count",
        min=1,
        help="Quick mode, not compliant: use only the first N samples of the dataset (--count: the reference harness's name).",
    ),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Cache preprocessed samples here."),
    audit_config: Optional[Path] = typer.Option(
        None, "--audit-config", help="Use this audit.config instead of the official one (not for submissions)."
    ),
    duration: Optional[float] = typer.Option(
        None, "--duration", help="Quick mode, not compliant: run for about S seconds."
    ),
    providers: Optional[str] = typer.Option(
        None, "--providers", help="onnxruntime execution providers, as for edgeperf run."
    ),
    device: Optional[str] = typer.Option(
        None, "--device", help="torch device for --backend torch, as for edgeperf run."
    ),
) -> None:
    """Run a benchmark with a compliance test's official audit settings; write the test's folder."""
    from rich.console import Console
    from rich.markup import escape

    from ..benchmarks.runner import RunOptions
    from ..compliance.audit import ComplianceTest
    from ..compliance.run import run_compliance_test
    from ..loadgen.enums import TestMode, TestScenario
    from .errors import user_errors
    from .progress import LiveProgress

    from .output import plain_console

    console = plain_console()  # never wraps: the "Next:" command line must stay whole to be copied
    errors = Console(stderr=True, soft_wrap=True)
    from .accelerators import parse_providers

    with user_errors(errors):
        kind = ComplianceTest.parse(test)
        provider_list = parse_providers(providers) if providers is not None else None
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
        providers=provider_list,
        device=device,
        duration_s=duration,
        on_warning=lambda text: errors.print(f"edgeperf: warning: {text}", markup=False, highlight=False),
    )
    progress = LiveProgress(console, f"{kind.value} {benchmark} {scenario.value}", quick=opts.quick)
    with user_errors(errors):
        try:
            progress.begin()
            outcome = run_compliance_test(kind, opts, listeners=[progress], audit_config=audit_config)
        finally:
            progress.close()
    perf = outcome.run.result.performance
    console.print(f"{kind.value}: {outcome.run.result.headline}", markup=False, highlight=False)
    if perf is not None:
        console.print(f"Result is : {'VALID' if perf.valid else 'INVALID'}", markup=False, highlight=False)
    if audit_config is not None:
        console.print(
            f"[yellow]Applied {escape(str(audit_config))} instead of the official {kind.value} settings.[/yellow]"
        )
    if opts.quick:
        from ..benchmarks.runner import QUICK_NOTE

        console.print(QUICK_NOTE, markup=False, highlight=False)
    console.print(f"{kind.value} folder: {outcome.output}", markup=False, highlight=False)
    console.print(
        f"Next: edgeperf compliance verify {kind.value} --results <results/system/{benchmark}/{scenario.value}> "
        f"--compliance {outcome.output}",
        markup=False,
        highlight=False,
    )


@app.command("verify")
def verify(
    test: str = typer.Argument(..., help="TEST01, TEST04-A (or TEST04, or TEST04-B: the A/B pair) or TEST05."),
    results: Optional[Path] = typer.Option(
        None,
        "--results",
        help="The scenario's results folder: results/<system>/<benchmark>/<scenario> (not needed for TEST04).",
    ),
    compliance: Path = typer.Option(
        ..., "--compliance", help="The test's folder: compliance/<system>/<benchmark>/<scenario>/<TEST>."
    ),
    output: Optional[Path] = typer.Option(
        None, "--output", help="Where the verify files go (default: the test's folder)."
    ),
    dtype: Optional[str] = typer.Option(
        None,
        "--dtype",
        help="TEST01: how the official check decodes responses: byte, float32, int32 or int64 "
        "(default: the benchmark's response type, from --benchmark or the results folder's name; else byte).",
    ),
    benchmark: Optional[str] = typer.Option(
        None, "--benchmark", help="TEST01: the benchmark, to show value differences and score both runs."
    ),
    dataset: Optional[Path] = typer.Option(
        None, "--dataset", help="TEST01: its dataset, for the baseline accuracy comparison."
    ),
    skip_accuracy: bool = typer.Option(
        False, "--skip-accuracy", help="TEST01: verify performance only (e.g. for published, truncated logs)."
    ),
    other: Optional[Path] = typer.Option(
        None, "--other", help="TEST04: the other half's folder (default: the sibling TEST04-A/TEST04-B)."
    ),
    show: int = typer.Option(20, "--show", min=0, help="TEST01: list at most this many differing responses."),
    json_out: Optional[Path] = typer.Option(
        None, "--json", help="Also write the verdict as JSON (edgeperf-compliance-verify format 1) here."
    ),
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
            if output is not None:
                from .._atomic import check_output_dir

                check_output_dir(output)
            outcome = verify_compliance(
                test,
                results,
                compliance,
                output,
                dtype=dtype,
                benchmark=benchmark,
                dataset=dataset,
                skip_accuracy=skip_accuracy,
                other_dir=other,
            )
        except TruncatedLogError as exc:
            raise UsageError(f"{exc} (--skip-accuracy verifies the performance part alone)") from None
    from .output import json_to_stdout, write_json

    if json_out is not None:
        with user_errors():
            write_json(verify_json(outcome), json_out)
    to_stderr = json_to_stdout(json_out)
    for path in outcome.written:
        if path.name.startswith("verify_"):
            typer.echo(f"== {path}", err=to_stderr)
            typer.echo(path.read_text(), nl=False, err=to_stderr)
    typer.echo("", err=to_stderr)
    for line in outcome.report_lines(show):
        typer.echo(line, err=to_stderr)
    typer.echo(f"{_test_name(outcome)} verification: {'PASS' if outcome.passed else 'FAIL'}", err=to_stderr)
    raise typer.Exit(0 if outcome.passed else 1)


def _test_name(outcome) -> str:
    return "TEST04" if outcome.test.value == "TEST04-A" else outcome.test.value


def verify_json(outcome) -> dict:
    """The ``edgeperf-compliance-verify`` format 1 document::

        {format, format_version, edgeperf_version, test: "TEST01" | "TEST04" | "TEST05", passed,
         output_dir, written: [paths],
         performance: {passed, scenario, reference_score, test_score, threshold, stopped,
                       reference, test, lines: [verify_performance.txt lines]},
         accuracy: null | {passed, official_passed, dtype, counts: {num_acc_log_entries, ...},
                           differences: int, lines: [verify_accuracy.txt lines]}}

    Scores are the strings the official script prints (as in the verify file).
    """
    from .output import header

    perf = outcome.performance
    doc = header("edgeperf-compliance-verify", 1)
    doc.update(
        {
            "test": _test_name(outcome),
            "passed": bool(outcome.passed),
            "output_dir": str(outcome.output_dir),
            "written": [str(p) for p in outcome.written],
            "performance": {
                "passed": bool(perf.passed),
                "scenario": perf.scenario,
                "reference_score": perf.reference_score,
                "test_score": perf.test_score,
                "threshold": perf.threshold,
                "stopped": perf.stopped,
                "reference": perf.reference_path,
                "test": perf.test_path,
                "lines": list(perf.lines),
            },
            "accuracy": None,
        }
    )
    acc = outcome.accuracy
    if acc is not None:
        doc["accuracy"] = {
            "passed": bool(acc.passed),
            "official_passed": bool(acc.official_passed),
            "dtype": acc.dtype,
            "counts": dict(acc.counts),
            "differences": len(acc.differences),
            "lines": list(acc.lines),
        }
    return doc
