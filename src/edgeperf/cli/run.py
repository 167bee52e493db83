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
    model: Optional[Path] = typer.Option(None, "--model", help="Model file (ONNX, or TorchScript/PyTorch with --backend torch); not used with --backend remote."),
    dataset: Path = typer.Option(..., "--dataset", help="Dataset folder in its official layout."),
    backend: Optional[str] = typer.Option(None, "--backend", help="onnxruntime, torch, remote (a KServe v2 server) or ray (replicas on a Ray cluster); default: the benchmark's own."),
    user_conf: Optional[Path] = typer.Option(None, "--user-conf", help="user.conf overriding the shipped v1.1 mlperf.conf."),
    audit_config: Optional[Path] = typer.Option(None, "--audit-config", help="Compliance audit.config to apply on top."),
    output: Path = typer.Option(Path("output"), "--output", help="Folder for logs, accuracy.txt and report.html."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="Backend intra-op threads."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="Samples per model call."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Worker threads (non-SingleStream)."),
    max_samples: Optional[int] = typer.Option(None, "--max-samples", min=1, help="Use only the first N samples of the dataset."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Cache preprocessed samples here."),
    url: Optional[str] = typer.Option(None, "--url", help="--backend remote: the server's HOST:PORT.", rich_help_panel="Remote (KServe v2)"),
    model_name: Optional[str] = typer.Option(None, "--model-name", help="--backend remote: the model's name on the server.", rich_help_panel="Remote (KServe v2)"),
    protocol: str = typer.Option("http", "--protocol", help="--backend remote: http or grpc.", rich_help_panel="Remote (KServe v2)"),
    concurrency: int = typer.Option(4, "--concurrency", min=1, max=1024, help="--backend remote: requests in flight at most.", rich_help_panel="Remote (KServe v2)"),
    timeout: float = typer.Option(30.0, "--timeout", min=0.001, max=86400, help="--backend remote: seconds before a request fails.", rich_help_panel="Remote (KServe v2)"),
    max_errors: int = typer.Option(0, "--max-errors", min=0, help="--backend remote: failed requests logged and tolerated before the run ends.", rich_help_panel="Remote (KServe v2)"),
    ray_address: str = typer.Option("auto", "--ray-address", help="--backend ray: auto, HOST:PORT of the cluster's head, or local.", rich_help_panel="Ray"),
    replicas: int = typer.Option(1, "--replicas", min=1, max=1024, help="--backend ray: model replicas (Ray actors).", rich_help_panel="Ray"),
    ray_node_ip: Optional[str] = typer.Option(None, "--ray-node-ip", help="--backend ray: this machine's address as the cluster sees it (default: Ray's choice).", rich_help_panel="Ray"),
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
    remote_opts, ray_opts, backend, model = _distributed_options(
        backend, model, url=url, model_name=model_name, protocol=protocol, concurrency=concurrency, timeout=timeout,
        max_errors=max_errors, ray_address=ray_address, replicas=replicas, ray_node_ip=ray_node_ip, threads=threads,
        errors=errors)
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
        remote=remote_opts,
        ray=ray_opts,
    )
    progress = LiveProgress(console, f"{benchmark} {scenario.value}")
    with user_errors(errors):
        try:
            outcome = run_benchmark(opts, listeners=[progress])
        finally:
            progress.close()
    perf = outcome.result.performance
    if perf is not None:
        summary = (output / "mlperf_log_summary.txt").read_text().splitlines()
        headline = next((line for line in summary[6:8] if " : " in line or ": " in line), "")
        console.print(f"{headline}\nResult is : {'VALID' if perf.valid else 'INVALID'}")
    if outcome.accuracy is not None:
        for line in outcome.accuracy.lines[-1:]:
            console.print(line, markup=False, highlight=False)
    console.print(f"Logs in {output}" + (f"; report: {outcome.report_path}" if outcome.report_path else ""))
    console.print("[dim]edgeperf is an independent implementation; this is not an official MLPerf result.[/dim]")


def _distributed_options(backend, model, *, url, model_name, protocol, concurrency, timeout, max_errors, ray_address,
                         replicas, ray_node_ip, threads, errors):
    """The remote or Ray options, checked: each backend's required flags present, none of the
    other's given. Returns (remote options, ray options, backend name for the run, model)."""
    from ..benchmarks.runner import RemoteOptions
    from ..sut.ray_sut import RayOptions

    def refuse(message: str) -> None:
        errors.print(f"edgeperf: {message}", markup=False, highlight=False)
        raise typer.Exit(2)

    if backend == "remote":
        if not url or not model_name:
            refuse("--backend remote needs --url HOST:PORT and --model-name NAME (the model's name on the server)")
        if protocol not in ("http", "grpc"):
            refuse(f"--protocol must be http or grpc, got {protocol!r}")
        remote = RemoteOptions(url=url, model_name=model_name, protocol=protocol, concurrency=concurrency,
                               timeout=timeout, max_errors=max_errors)
        return remote, None, "remote", model if model is not None else Path(model_name)
    if url or model_name:
        refuse("--url and --model-name are for --backend remote")
    if model is None:
        refuse("--model FILE is required (except with --backend remote)")
    if backend == "ray":
        return None, RayOptions(address=ray_address, replicas=replicas, threads=threads, node_ip_address=ray_node_ip), "ray", model
    if ray_node_ip or replicas != 1 or ray_address != "auto":
        refuse("--ray-address, --replicas and --ray-node-ip are for --backend ray")
    return None, None, backend, model
