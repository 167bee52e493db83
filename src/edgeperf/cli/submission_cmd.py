"""``edgeperf submission``: build a v1.1 submission tree from runs, truncate accuracy logs, system JSON.

Register with ``app.add_typer(submission_cmd.app, name="submission")``.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from ..errors import UsageError

app = typer.Typer(
    name="submission",
    help="Lay edgeperf runs out as a v1.1 submission tree, truncate its accuracy logs, write a system JSON.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain help: never cut at 80 columns (see cli.main.plain_help_settings)
)


class DivisionChoice(str, Enum):
    closed = "closed"
    open = "open"


@app.command("build")
def build(
    runs: Path = typer.Option(
        ...,
        "--runs",
        help="Runs folder, laid out as <runs>/<benchmark>/<scenario>/<step> where a step is performance, accuracy, TEST01, TEST04-A, TEST04-B or TEST05.",
    ),
    system: Path = typer.Option(
        ..., "--system", help="System description JSON (its name, without .json, is the system name)."
    ),
    submitter: str = typer.Option(..., "--submitter", help="Submitting organization (the submitter folder name)."),
    division: DivisionChoice = typer.Option(..., "--division", help="closed or open."),
    output: Path = typer.Option(
        ..., "--output", help="The tree to write (the folder that will hold closed/ or open/)."
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing --output tree."),
    system_name: Optional[str] = typer.Option(
        None, "--system-name", help="System name (default: the --system file's name)."
    ),
    implementation: str = typer.Option(
        "edgeperf", "--implementation", help="Implementation id in the measurement JSON's name."
    ),
    user_conf: Optional[Path] = typer.Option(
        None, "--user-conf", help="user.conf for scenarios whose runs folder has none."
    ),
    no_verify: bool = typer.Option(
        False, "--no-verify", help="Do not verify compliance folders that lack verify files."
    ),
    no_truncate: bool = typer.Option(False, "--no-truncate", help="Do not hash and truncate the accuracy logs."),
    check: bool = typer.Option(True, "--check/--no-check", help="Run the v1.1 checker on the tree afterwards."),
) -> None:
    """Build a submission tree from `edgeperf run` and `edgeperf compliance run` output folders.

    Exit status 2 for problems found before writing (all listed), 1 when the checker finds
    NoResults in the built tree, else 0.
    """
    from ..submission.build import build_submission
    from .errors import user_errors

    # BuildError and SystemJsonError are ValueErrors whose message lists every problem.
    with user_errors():
        try:
            result = build_submission(
                runs,
                system,
                submitter,
                division.value,
                output,
                system_name=system_name,
                implementation=implementation,
                user_conf=user_conf,
                force=force,
                verify=not no_verify,
                truncate=not no_truncate,
            )
        except FileExistsError as exc:
            raise UsageError(str(exc)) from None
    for w in result.warnings:
        typer.echo(f"warning: {w}")
    for s in result.scenarios:
        typer.echo(
            f"{s.folder}/{s.scenario}: results, measurements"
            + (f", compliance {' '.join(sorted(s.compliance))}" if s.compliance and division.value == "closed" else "")
        )
    if result.truncation is not None:
        typer.echo(f"truncated {len(result.truncation.truncated)} accuracy log(s)")
    typer.echo(f"Tree: {result.root}")
    if check:
        from ..benchmarks.registry import open_model_map
        from ..submission import check_tree

        report = check_tree(output, extra_model_map=open_model_map(sorted({s.benchmark for s in result.scenarios})))
        verdict = report.verdict()
        typer.echo(f"edgeperf check {output}: {verdict.line}")
        raise typer.Exit(verdict.exit_code)


@app.command("truncate")
def truncate(
    tree: Path = typer.Argument(..., help="Submission tree: the folder holding closed/ and open/."),
    submitter: Optional[str] = typer.Option(None, "--submitter", help="Only this submitter folder."),
) -> None:
    """Hash and truncate the accuracy logs of a tree, as truncate_accuracy_log.py does (in place).

    Logs already truncated (a hash line in accuracy.txt and under 10240 bytes) are left alone.
    Keep the untruncated originals: review may ask for them.
    """
    from ..submission.build import truncate_tree
    from .errors import user_errors

    with user_errors():
        report = truncate_tree(tree, submitter)
    for rel in report.truncated:
        typer.echo(f"truncated {rel}")
    for rel in report.already_done:
        typer.echo(f"already truncated {rel}")
    for p in report.problems:
        typer.echo(f"edgeperf: {p}", err=True)
    typer.echo(
        f"{len(report.truncated)} truncated, {len(report.already_done)} already done, {len(report.problems)} problem(s)"
    )
    raise typer.Exit(1 if report.problems else 0)


@app.command("system-json")
def system_json(
    output: Optional[Path] = typer.Option(None, "--output", help="Write here (default, or '-': stdout)."),
    division: Optional[DivisionChoice] = typer.Option(None, "--division", help="Fill in the division."),
    submitter: Optional[str] = typer.Option(None, "--submitter", help="Fill in the submitter."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --output file."),
) -> None:
    """Write a system description pre-filled from this machine; fields to fill in read "TODO: ...".

    `edgeperf submission build` refuses the file until every TODO is replaced.
    """
    from .._atomic import atomic_write, is_stdout
    from ..submission.build import machine_system_json, validate_system_json
    from .errors import user_errors

    data = machine_system_json(division.value if division else None, submitter)
    text = json.dumps(data, indent=2) + "\n"
    if output is None or is_stdout(output):
        typer.echo(text, nl=False)
        return
    if output.is_dir():
        print(f"edgeperf: {output} is a folder; expected a file name for the system JSON", file=sys.stderr)
        raise typer.Exit(2)
    if output.exists() and not force:
        print(f"edgeperf: {output} exists; pass --force to replace it", file=sys.stderr)
        raise typer.Exit(2)
    with user_errors():  # written whole or not at all (a full disk leaves the old file)
        atomic_write(output, text)
    todo = validate_system_json(data)
    typer.echo(f"Wrote {output}; {len(todo)} field(s) to fill in:")
    for p in todo:
        typer.echo(f"  - {p}")


@app.command("run")
def run(
    benchmarks: str = typer.Argument(
        ..., help="Benchmark name, or several separated by commas (see `edgeperf benchmarks`)."
    ),
    scenarios: str = typer.Option("SingleStream,Offline", "--scenarios", help="Scenarios, separated by commas."),
    model: Path = typer.Option(..., "--model", help="Model file (one benchmark), or NAME=PATH,NAME=PATH for several."),
    dataset: Path = typer.Option(
        ..., "--dataset", help="Dataset folder (one benchmark), or NAME=PATH,NAME=PATH for several."
    ),
    system: Path = typer.Option(
        ..., "--system", help="System description JSON (its name, without .json, is the system name)."
    ),
    submitter: str = typer.Option(..., "--submitter", help="Submitting organization."),
    division: DivisionChoice = typer.Option(..., "--division", help="closed (with compliance tests) or open."),
    output: Path = typer.Option(..., "--output", help="The tree to write."),
    runs: Optional[Path] = typer.Option(None, "--runs", help="Where the runs go (default: <output>.runs)."),
    user_conf: Optional[Path] = typer.Option(None, "--user-conf", help="user.conf for every run."),
    backend: Optional[str] = typer.Option(
        None, "--backend", help="onnxruntime or torch (default: the benchmark's own)."
    ),
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
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Continue an interrupted plan: finished runs are not redone; "
        "after a finished plan, rebuild the tree from its runs.",
    ),
    force: bool = typer.Option(False, "--force", help="Start over: replace the runs folder and the tree."),
    power: Optional[str] = typer.Option(
        None,
        "--power",
        help="HOST:PORT of a power server: performance runs become "
        "ranging + testing runs with power (performance/{power,ranging,run_1}).",
    ),
    power_ntp: Optional[str] = typer.Option(
        None, "--power-ntp", help="NTP server (HOST or HOST:PORT) for the clock check."
    ),
    power_skip_time_sync: bool = typer.Option(
        False, "--power-skip-time-sync", help="Skip the NTP clock check (recorded in client.json)."
    ),
    duration: Optional[float] = typer.Option(
        None, "--duration", help="Quick mode, not compliant: every run lasts about S seconds."
    ),
    providers: Optional[str] = typer.Option(
        None, "--providers", help="onnxruntime execution providers, as for edgeperf run."
    ),
    device: Optional[str] = typer.Option(
        None, "--device", help="torch device for --backend torch, as for edgeperf run."
    ),
    keep_going: bool = typer.Option(
        False,
        "--keep-going",
        help="Go on after an accuracy run misses its quality target (by default the plan stops there).",
    ),
    json_out: Optional[Path] = typer.Option(
        None, "--json", help="Also write the outcome as JSON (edgeperf-submission-run format 1) here."
    ),
) -> None:
    """Run accuracy, performance and the required compliance tests per scenario, build the tree, check it.

    Exit status 1 when an accuracy run misses its target (without --keep-going) or the checker
    finds NoResults, 2 for a usage error, else 0.
    """
    import time

    from ..workflow import OneShotOptions, run_submission
    from ..workflow.submission_run import AccuracyTargetMissed
    from .accelerators import parse_providers
    from .errors import user_errors
    from .output import json_to_stdout, plain_console, write_json
    from .progress import LiveProgress

    to_stderr = json_to_stdout(json_out)
    console = plain_console(stderr=to_stderr)
    echo = (lambda text: typer.echo(text, err=True)) if to_stderr else typer.echo
    record: list[dict] = []
    started: dict[str, float] = {}
    names = [b.strip() for b in benchmarks.split(",") if b.strip()]

    def per_benchmark(value: Path, what: str) -> tuple[Path, dict[str, Path]]:
        text = str(value)
        if "=" not in text:
            return value, {}
        pairs = dict(item.split("=", 1) for item in text.split(",") if "=" in item)
        lacking = [n for n in names if n not in pairs]
        if lacking:
            raise UsageError(f"--{what}: no path for {', '.join(lacking)} (expected NAME=PATH,...)")
        return Path(pairs[names[0]]), {k: Path(v) for k, v in pairs.items()}

    eta: list[str] = [""]

    def on_eta(seconds: float, at_least: bool) -> None:
        eta[0] = f" (plan: {'at least ' if at_least else 'about '}{_duration(seconds)} left)"

    def on_step(i: int, n: int, step, status: str) -> None:
        if status == "skip":
            echo(f"[{i}/{n}] {step.label}: already done")
            record.append({"step": step.label, "status": "skipped", "seconds": None})
        elif status == "start":
            echo(f"[{i}/{n}] {step.label} ...{eta[0]}")
            started[step.label] = time.monotonic()
        elif status == "done":
            record.append(
                {
                    "step": step.label,
                    "status": "ran",
                    "seconds": round(time.monotonic() - started.get(step.label, time.monotonic()), 3),
                }
            )

    live: list[LiveProgress] = []

    def listeners_for(step):
        for p in live:
            p.close()
        live[:] = [
            LiveProgress(
                console,
                step.label,
                quick=max_samples is not None or duration is not None,
                heartbeat=sys.stderr if to_stderr else None,
            )
        ]
        live[0].begin()
        return live

    with user_errors():
        scen = []
        for s in (x.strip() for x in scenarios.split(",") if x.strip()):
            canon = {c.lower(): c for c in ("SingleStream", "MultiStream", "Server", "Offline")}.get(s.lower())
            if canon is None:
                raise UsageError(f"--scenarios: {s!r} is not SingleStream, MultiStream, Server or Offline")
            scen.append(canon)
        model0, models = per_benchmark(model, "model")
        dataset0, datasets = per_benchmark(dataset, "dataset")
        power_opts = None
        if power is not None:
            from ..power.client import PowerClientOptions
            from ..power.proto import parse_host_port

            if power_ntp is None and not power_skip_time_sync:
                raise UsageError(
                    "--power needs --power-ntp HOST[:PORT], or --power-skip-time-sync to skip the check (recorded)"
                )
            try:
                host, port = parse_host_port(power)
            except ValueError as exc:
                raise UsageError(f"--power {exc}") from None
            power_opts = PowerClientOptions(host, port, ntp_server=power_ntp, skip_time_sync=power_skip_time_sync)
        opts = OneShotOptions(
            benchmarks=names,
            scenarios=scen,
            model=model0,
            dataset=dataset0,
            system=system,
            submitter=submitter,
            division=division.value,
            output=output,
            runs=runs,
            user_conf=user_conf,
            backend=backend,
            threads=threads,
            batch_size=batch_size,
            workers=workers,
            max_samples=max_samples,
            cache_dir=cache_dir,
            resume=resume,
            force=force,
            models=models,
            datasets=datasets,
            power=power_opts,
            keep_going=keep_going,
            providers=parse_providers(providers) if providers is not None else None,
            device=device,
            duration_s=duration,
        )
        from ..errors import EdgeperfError

        try:
            result, _ = run_submission(opts, on_step=on_step, listeners_for=listeners_for, on_eta=on_eta)
        except FileExistsError as exc:
            raise UsageError(str(exc)) from None
        except AccuracyTargetMissed as exc:
            print(f"edgeperf: {exc}", file=sys.stderr)
            if json_out is not None:
                write_json(submission_run_json(opts, record, None, None, stopped=str(exc)), json_out)
            raise typer.Exit(1) from None
        except EdgeperfError as exc:
            if power_opts is None:
                raise
            print(f"edgeperf: power run failed, no power result was written: {exc}", file=sys.stderr)
            raise typer.Exit(1) from None
        finally:
            for p in live:
                p.close()
    if max_samples is not None or duration is not None:
        echo(
            "NOT COMPLIANT: quick mode (--duration or --count/--max-samples) shortened every run below the v1.1 rules."
        )
    for w in result.warnings:
        echo(f"warning: {w}")
    echo(f"Tree: {result.root} (runs in {opts.runs_dir})")
    from ..benchmarks.registry import open_model_map
    from ..submission import check_tree

    # Open-only benchmarks (demo-digits) are filed under a v1.1 model class through the extra map.
    report = check_tree(output, extra_model_map=open_model_map(names))
    from .._numbers import sig

    for r in report.results:
        power = f", power {sig(r.power.value)} {r.power.unit}" if r.has_power else ""
        echo(
            f"{r.benchmark}/{r.scenario}: {sig(r.value)} {r.units}{power}, accuracy {r.accuracy}, "
            f"compliance {r.compliance}"
        )
    verdict = report.verdict()
    echo(f"edgeperf check {output}: {verdict.line}")
    if json_out is not None:
        with user_errors():
            write_json(submission_run_json(opts, record, result, report), json_out)
    raise typer.Exit(verdict.exit_code)


def _duration(seconds: float) -> str:
    """``5400`` -> ``1 h 30 min``; ``90`` -> ``2 min``; ``20`` -> ``20 s``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes = (seconds + 30) // 60
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def submission_run_json(opts, steps: list[dict], result, report, stopped: str | None = None) -> dict:
    """The ``edgeperf-submission-run`` format 1 document::

        {format, format_version, edgeperf_version, tree, runs, division, submitter, benchmarks,
         scenarios, compliant, stopped: null | "reason",
         steps: [{step, status: "ran" | "skipped", seconds}],
         warnings: [...], verdict: null | {...}, results: [...]}

    ``verdict`` and ``results`` are those of ``edgeperf check --json`` (edgeperf-check format 1)
    for the built tree; null when the plan stopped before the build.
    """
    from ..submission.json_report import report_to_json
    from .output import header

    doc = header("edgeperf-submission-run", 1)
    doc.update(
        {
            "tree": str(opts.output),
            "runs": str(opts.runs_dir),
            "division": opts.division,
            "submitter": opts.submitter,
            "benchmarks": list(opts.benchmarks),
            "scenarios": list(opts.scenarios),
            "compliant": opts.max_samples is None and opts.duration_s is None,
            "stopped": stopped,
            "steps": steps,
            "warnings": list(result.warnings) if result is not None else [],
        }
    )
    checked = report_to_json(report) if report is not None else None
    doc["verdict"] = checked["verdict"] if checked else None
    doc["results"] = checked["results"] if checked else []
    return doc
