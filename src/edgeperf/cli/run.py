"""``edgeperf run``: one benchmark, one scenario, one mode, with the real model and dataset."""

from __future__ import annotations

import sys
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
    accuracy_flag: bool = typer.Option(
        False, "--accuracy", help="Same as --mode accuracy (the reference harness's flag)."
    ),
    model: Optional[Path] = typer.Option(
        None,
        "--model",
        help="Model file (ONNX, or TorchScript/PyTorch with --backend torch); not used with --backend remote.",
    ),
    dataset: Path = typer.Option(..., "--dataset", help="Dataset folder in its official layout."),
    backend: Optional[str] = typer.Option(
        None,
        "--backend",
        help="onnxruntime, torch, remote (a KServe v2 server) or ray (replicas on a Ray cluster); default: the benchmark's own.",
    ),
    user_conf: Optional[Path] = typer.Option(
        None, "--user-conf", help="user.conf overriding the shipped v1.1 mlperf.conf."
    ),
    audit_config: Optional[Path] = typer.Option(
        None, "--audit-config", help="Compliance audit.config to apply on top."
    ),
    output: Path = typer.Option(Path("output"), "--output", help="Folder for logs, accuracy.txt and report.html."),
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
        help="Quick mode, not compliant: use only the first N samples of the dataset "
        "(--count: the reference harness's name).",
    ),
    duration: Optional[float] = typer.Option(
        None,
        "--duration",
        help="Quick mode, not compliant: run for about S seconds (min and max duration S, at least one query).",
    ),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Cache preprocessed samples here."),
    power: Optional[str] = typer.Option(
        None,
        "--power",
        help="HOST:PORT of an `edgeperf power server` (or power-dev "
        "server): run ranging then testing with power measurement (performance mode).",
    ),
    power_ntp: Optional[str] = typer.Option(
        None, "--power-ntp", help="NTP server (HOST or HOST:PORT) for the clock check."
    ),
    power_skip_time_sync: bool = typer.Option(
        False, "--power-skip-time-sync", help="Skip the NTP clock check (recorded in client.json)."
    ),
    power_label: str = typer.Option("", "--power-label", help="Session label ([-_A-Za-z0-9]*)."),
    power_no_ranging: bool = typer.Option(
        False,
        "--power-no-ranging",
        help="Testing run only, at the director's --fixed-range (halves the time; not v1.1 compliant; recorded).",
    ),
    providers: Optional[str] = typer.Option(
        None,
        "--providers",
        help="onnxruntime execution providers in priority order, "
        "';'-separated, each NAME or NAME:key=value,...; e.g. "
        "'tensorrt:trt_fp16_enable=True;cuda:device_id=0;cpu'.",
    ),
    device: Optional[str] = typer.Option(
        None, "--device", help="torch device for --backend torch, e.g. cpu, cuda or cuda:1."
    ),
    json_out: Optional[Path] = typer.Option(
        None, "--json", help="Also write the outcome as JSON (edgeperf-run format 1) here."
    ),
    url: Optional[str] = typer.Option(
        None, "--url", help="--backend remote: the server's HOST:PORT.", rich_help_panel="Remote (KServe v2)"
    ),
    model_name: Optional[str] = typer.Option(
        None,
        "--model-name",
        help="--backend remote: the model's name on the server.",
        rich_help_panel="Remote (KServe v2)",
    ),
    protocol: str = typer.Option(
        "http", "--protocol", help="--backend remote: http or grpc.", rich_help_panel="Remote (KServe v2)"
    ),
    concurrency: int = typer.Option(
        4,
        "--concurrency",
        min=1,
        max=1024,
        help="--backend remote: requests in flight at most.",
        rich_help_panel="Remote (KServe v2)",
    ),
    timeout: float = typer.Option(
        30.0,
        "--timeout",
        min=0.001,
        max=86400,
        help="--backend remote: seconds before a request fails.",
        rich_help_panel="Remote (KServe v2)",
    ),
    max_errors: int = typer.Option(
        0,
        "--max-errors",
        min=0,
        help="--backend remote: failed requests logged and tolerated before the run ends.",
        rich_help_panel="Remote (KServe v2)",
    ),
    ray_address: str = typer.Option(
        "auto",
        "--ray-address",
        help="--backend ray: auto, HOST:PORT of the cluster's head, or local.",
        rich_help_panel="Ray",
    ),
    replicas: int = typer.Option(
        1, "--replicas", min=1, max=1024, help="--backend ray: model replicas (Ray actors).", rich_help_panel="Ray"
    ),
    ray_node_ip: Optional[str] = typer.Option(
        None,
        "--ray-node-ip",
        help="--backend ray: this machine's address as the cluster sees it (default: Ray's choice).",
        rich_help_panel="Ray",
    ),
) -> None:
    """Run a benchmark and write the four LoadGen logs (plus accuracy.txt in accuracy mode)."""
    from rich.console import Console
    from rich.markup import escape

    from ..benchmarks.runner import RunOptions, run_benchmark
    from ..loadgen.enums import TestMode, TestScenario
    from .accelerators import parse_providers
    from .errors import user_errors
    from .output import json_to_stdout, plain_console, write_json
    from .progress import LiveProgress

    console = plain_console(stderr=json_to_stdout(json_out))
    # Errors go to stderr, one line each however narrow the terminal (rich would wrap them).
    errors = Console(stderr=True, soft_wrap=True)
    if accuracy_flag:
        mode = ModeChoice.accuracy
    with user_errors(errors):
        provider_list = parse_providers(providers) if providers is not None else None
    if audit_config is None and Path("audit.config").is_file():
        console.print(
            "[yellow]edgeperf: ./audit.config is present but not applied; the official LoadGen would apply it. "
            "Pass --audit-config audit.config to use it.[/yellow]"
        )
    remote_opts, ray_opts, backend, model = _distributed_options(
        backend,
        model,
        url=url,
        model_name=model_name,
        protocol=protocol,
        concurrency=concurrency,
        timeout=timeout,
        max_errors=max_errors,
        ray_address=ray_address,
        replicas=replicas,
        ray_node_ip=ray_node_ip,
        threads=threads,
        errors=errors,
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
        providers=provider_list,
        device=device,
        duration_s=duration,
        on_warning=lambda text: errors.print(f"edgeperf: warning: {text}", markup=False, highlight=False),
        remote=remote_opts,
        ray=ray_opts,
    )
    if power is not None:
        _run_with_power(opts, console, errors, power, power_ntp, power_skip_time_sync, power_label, power_no_ranging)
        return
    progress = LiveProgress(
        console,
        f"{benchmark} {scenario.value}",
        quick=opts.quick,
        heartbeat=sys.stderr if json_to_stdout(json_out) else None,
    )
    with user_errors(errors):
        try:
            progress.begin()
            outcome = run_benchmark(opts, listeners=[progress])
        finally:
            progress.close()
    if json_out is not None:
        with user_errors(errors):
            write_json(run_json(opts, outcome), json_out)
    for note in outcome.notes:
        console.print(f"[bold yellow]{note}[/bold yellow]")
    perf = outcome.result.performance
    if perf is not None:
        console.print(
            f"{outcome.result.headline}\nResult is : {'VALID' if perf.valid else 'INVALID'}",
            markup=False,
            highlight=False,
        )
    if outcome.accuracy is not None:
        for line in outcome.accuracy.lines[-1:]:
            console.print(line, markup=False, highlight=False)
        acc = outcome.accuracy_summary
        if acc is not None:
            from .output import num

            console.print(
                f"Accuracy {acc['metric']} {num(acc['value'])}{acc['unit']} vs target >= {num(acc['target'])}{acc['unit']}: "
                f"{'PASS' if acc['passed'] else 'FAIL'}; missing samples: {acc['missing_samples']}",
                markup=False,
                highlight=False,
            )
    # User strings never reach rich's markup parser: a path may hold "[/]" or "[bold red]".
    console.print(
        f"Logs in {escape(str(output))}"
        + (f"; report: {escape(str(outcome.report_path))}" if outcome.report_path else "")
    )
    console.print("[dim]edgeperf is an independent implementation; this is not an official MLPerf result.[/dim]")


def _run_with_power(
    opts, console, errors, address: str, ntp: Optional[str], skip_time_sync: bool, label: str, no_ranging: bool
) -> None:
    """``--power``: ranging + testing through the director; the metric as the checker computes it."""
    from ..errors import EdgeperfError
    from ..loadgen.enums import TestMode
    from ..power.client import PowerClientOptions
    from ..power.proto import parse_host_port
    from ..workflow.power_run import run_with_power
    from .errors import user_errors
    from .progress import LiveProgress

    def fail(message: str, code: int = 2) -> None:
        errors.print(f"edgeperf: {message}", markup=False, highlight=False)
        raise typer.Exit(code)

    if opts.mode is not TestMode.PerformanceOnly:
        fail("--power needs --mode performance (power is measured over performance runs only)")
    if ntp is None and not skip_time_sync:
        fail(
            "--power needs --power-ntp HOST[:PORT] for the clock check, or --power-skip-time-sync to skip it (recorded)"
        )
    try:
        host, port = parse_host_port(address)
    except ValueError as exc:
        fail(f"--power {exc}")
    client = PowerClientOptions(
        host, port, ntp_server=ntp, skip_time_sync=skip_time_sync, label=label, no_ranging=no_ranging
    )
    progress = LiveProgress(console, f"{opts.benchmark} {opts.scenario.value} (power)")
    with user_errors(errors):
        try:
            outcome = run_with_power(
                opts,
                client,
                listeners=[progress],
                on_event=lambda text: console.print(text, markup=False, highlight=False),
            )
        except EdgeperfError as exc:
            fail(f"power run failed, no power result was written: {exc}", 1)
        finally:
            progress.close()
    m = outcome.metric
    label_text = {"Watts": "System power", "Joules": "Energy per query", "Joules/Stream": "Energy per stream"}.get(
        m.unit or "", "Power"
    )
    console.print(
        f"{label_text}: {m.value:.6g} {m.unit} (average {m.average_watts:.6g} W over {m.sample_count} samples)",
        markup=False,
        highlight=False,
    )
    if outcome.valid is not None:
        console.print(f"Result is : {'VALID' if outcome.valid else 'INVALID'}")
    for w in outcome.warnings:
        console.print(f"[yellow]edgeperf: ranging vs testing: {w}[/yellow]")
    if outcome.simulated:
        console.print("[yellow]edgeperf: measured by the analyzer SIMULATOR: not a power measurement.[/yellow]")
    console.print(
        f"Power logs in {outcome.output}/{{power,ranging,run_1}}"
        + (f"; report: {outcome.report_path}" if outcome.report_path else "")
    )
    console.print("[dim]edgeperf is an independent implementation; this is not an official MLPerf result.[/dim]")


JSON_FORMAT = "edgeperf-run"
JSON_FORMAT_VERSION = 1


def run_json(opts, outcome) -> dict:
    """The ``edgeperf-run`` format 1 document::

        {format, format_version, edgeperf_version, benchmark, scenario, mode, output, quick, compliant,
         notes: [...],
         performance: null | {valid, metric, value, units, summary: {label: text, ...}},
         accuracy: null | {metric, value, unit, target, passed, missing_samples, expected_samples,
                           logged_samples, official_line, lines: [...]},
         report: "path" | null}

    ``compliant`` is false in quick mode (``--duration``/``--count``). ``summary`` holds the
    summary log's ``label : value`` pairs as printed (strings, as the log has them).
    """
    from ..report.data import RunData
    from .output import header

    doc = header(JSON_FORMAT, JSON_FORMAT_VERSION)
    doc.update(
        {
            "benchmark": opts.benchmark,
            "scenario": opts.scenario.value,
            "mode": opts.mode.value,
            "output": str(opts.output),
            "quick": opts.quick,
            "compliant": not opts.quick,
            "notes": list(outcome.notes),
        }
    )
    perf = outcome.result.performance
    if perf is not None:
        run = RunData.from_log_dir(opts.output)
        head = run.headline()
        value = None
        if head is not None:
            try:
                value = float(head[1])
            except ValueError:
                value = None
        doc["performance"] = {
            "valid": bool(perf.valid),
            "metric": head[0] if head else None,
            "value": value,
            "summary": dict(run.summary),
        }
    else:
        doc["performance"] = None
    if outcome.accuracy is not None:
        acc = dict(outcome.accuracy_summary or {})
        acc["lines"] = list(outcome.accuracy.lines)
        doc["accuracy"] = acc
    else:
        doc["accuracy"] = None
    doc["report"] = str(outcome.report_path) if outcome.report_path else None
    return doc


def _distributed_options(
    backend,
    model,
    *,
    url,
    model_name,
    protocol,
    concurrency,
    timeout,
    max_errors,
    ray_address,
    replicas,
    ray_node_ip,
    threads,
    errors,
):
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
        remote = RemoteOptions(
            url=url,
            model_name=model_name,
            protocol=protocol,
            concurrency=concurrency,
            timeout=timeout,
            max_errors=max_errors,
        )
        return remote, None, "remote", model if model is not None else Path(model_name)
    if url or model_name:
        refuse("--url and --model-name are for --backend remote")
    if model is None:
        refuse("--model FILE is required (except with --backend remote)")
    if backend == "ray":
        return (
            None,
            RayOptions(address=ray_address, replicas=replicas, threads=threads, node_ip_address=ray_node_ip),
            "ray",
            model,
        )
    if ray_node_ip or replicas != 1 or ray_address != "auto":
        refuse("--ray-address, --replicas and --ray-node-ip are for --backend ray")
    return None, None, backend, model
