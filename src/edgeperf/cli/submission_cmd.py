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

app = typer.Typer(
    name="submission",
    help="Lay edgeperf runs out as a v1.1 submission tree, truncate its accuracy logs, write a system JSON.",
    no_args_is_help=True,
    add_completion=False,
)


class DivisionChoice(str, Enum):
    closed = "closed"
    open = "open"


@app.command("build")
def build(
    runs: Path = typer.Option(..., "--runs", help="Runs folder: <runs>/<benchmark>/<scenario>/{performance,accuracy,TEST01,...}."),
    system: Path = typer.Option(..., "--system", help="System description JSON (its name, without .json, is the system name)."),
    submitter: str = typer.Option(..., "--submitter", help="Submitting organization (the submitter folder name)."),
    division: DivisionChoice = typer.Option(..., "--division", help="closed or open."),
    output: Path = typer.Option(..., "--output", help="The tree to write (the folder that will hold closed/ or open/)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --output tree."),
    system_name: Optional[str] = typer.Option(None, "--system-name", help="System name (default: the --system file's name)."),
    implementation: str = typer.Option("edgeperf", "--implementation", help="Implementation id in the measurement JSON's name."),
    user_conf: Optional[Path] = typer.Option(None, "--user-conf", help="user.conf for scenarios whose runs folder has none."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Do not verify compliance folders that lack verify files."),
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
                runs, system, submitter, division.value, output, system_name=system_name,
                implementation=implementation, user_conf=user_conf, force=force, verify=not no_verify,
                truncate=not no_truncate,
            )
        except FileExistsError as exc:
            raise ValueError(str(exc)) from None
    for w in result.warnings:
        typer.echo(f"warning: {w}")
    for s in result.scenarios:
        typer.echo(f"{s.folder}/{s.scenario}: results, measurements"
                   + (f", compliance {' '.join(sorted(s.compliance))}" if s.compliance and division.value == "closed" else ""))
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
        typer.echo(f"error: {p}", err=True)
    typer.echo(f"{len(report.truncated)} truncated, {len(report.already_done)} already done, "
               f"{len(report.problems)} problem(s)")
    raise typer.Exit(1 if report.problems else 0)


@app.command("system-json")
def system_json(
    output: Optional[Path] = typer.Option(None, "--output", help="Write here (default: stdout)."),
    division: Optional[DivisionChoice] = typer.Option(None, "--division", help="Fill in the division."),
    submitter: Optional[str] = typer.Option(None, "--submitter", help="Fill in the submitter."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --output file."),
) -> None:
    """Write a system description pre-filled from this machine; fields to fill in read "TODO: ...".

    `edgeperf submission build` refuses the file until every TODO is replaced.
    """
    from ..submission.build import machine_system_json, validate_system_json

    data = machine_system_json(division.value if division else None, submitter)
    text = json.dumps(data, indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    if output.exists() and not force:
        print(f"edgeperf: {output} exists; pass --force to replace it", file=sys.stderr)
        raise typer.Exit(2)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    todo = validate_system_json(data)
    typer.echo(f"Wrote {output}; {len(todo)} field(s) to fill in:")
    for p in todo:
        typer.echo(f"  - {p}")


@app.command("run")
def run(
    benchmarks: str = typer.Argument(..., help="Benchmark name, or several separated by commas (see `edgeperf benchmarks`)."),
    scenarios: str = typer.Option("SingleStream,Offline", "--scenarios", help="Scenarios, separated by commas."),
    model: Path = typer.Option(..., "--model", help="Model file (one benchmark), or NAME=PATH,NAME=PATH for several."),
    dataset: Path = typer.Option(..., "--dataset", help="Dataset folder (one benchmark), or NAME=PATH,NAME=PATH for several."),
    system: Path = typer.Option(..., "--system", help="System description JSON (its name, without .json, is the system name)."),
    submitter: str = typer.Option(..., "--submitter", help="Submitting organization."),
    division: DivisionChoice = typer.Option(..., "--division", help="closed (with compliance tests) or open."),
    output: Path = typer.Option(..., "--output", help="The tree to write."),
    runs: Optional[Path] = typer.Option(None, "--runs", help="Where the runs go (default: <output>.runs)."),
    user_conf: Optional[Path] = typer.Option(None, "--user-conf", help="user.conf for every run."),
    backend: Optional[str] = typer.Option(None, "--backend", help="onnxruntime or torch (default: the benchmark's own)."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="Backend intra-op threads."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="Samples per model call."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Worker threads (non-SingleStream)."),
    max_samples: Optional[int] = typer.Option(None, "--max-samples", min=1, help="Use only the first N samples of the dataset."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Cache preprocessed samples here."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted plan: finished runs are not redone."),
    force: bool = typer.Option(False, "--force", help="Start over: replace the runs folder and the tree."),
) -> None:
    """Run accuracy, performance and the required compliance tests per scenario, build the tree, check it."""
    from rich.console import Console

    from ..workflow import OneShotOptions, run_submission
    from .errors import user_errors
    from .progress import LiveProgress

    console = Console()
    names = [b.strip() for b in benchmarks.split(",") if b.strip()]

    def per_benchmark(value: Path, what: str) -> tuple[Path, dict[str, Path]]:
        text = str(value)
        if "=" not in text:
            return value, {}
        pairs = dict(item.split("=", 1) for item in text.split(",") if "=" in item)
        lacking = [n for n in names if n not in pairs]
        if lacking:
            raise ValueError(f"--{what}: no path for {', '.join(lacking)} (expected NAME=PATH,...)")
        return Path(pairs[names[0]]), {k: Path(v) for k, v in pairs.items()}

    def on_step(i: int, n: int, step, status: str) -> None:
        if status == "skip":
            typer.echo(f"[{i}/{n}] {step.label}: already done")
        elif status == "start":
            typer.echo(f"[{i}/{n}] {step.label} ...")

    live: list[LiveProgress] = []

    def listeners_for(step):
        for p in live:
            p.close()
        live[:] = [LiveProgress(console, step.label)]
        return live

    with user_errors():
        scen = []
        for s in (x.strip() for x in scenarios.split(",") if x.strip()):
            canon = {c.lower(): c for c in ("SingleStream", "MultiStream", "Server", "Offline")}.get(s.lower())
            if canon is None:
                raise ValueError(f"--scenarios: {s!r} is not SingleStream, MultiStream, Server or Offline")
            scen.append(canon)
        model0, models = per_benchmark(model, "model")
        dataset0, datasets = per_benchmark(dataset, "dataset")
        opts = OneShotOptions(
            benchmarks=names, scenarios=scen, model=model0, dataset=dataset0, system=system, submitter=submitter,
            division=division.value, output=output, runs=runs, user_conf=user_conf, backend=backend,
            threads=threads, batch_size=batch_size, workers=workers, max_samples=max_samples,
            cache_dir=cache_dir, resume=resume, force=force, models=models, datasets=datasets,
        )
        try:
            result, _ = run_submission(opts, on_step=on_step, listeners_for=listeners_for)
        except FileExistsError as exc:
            raise ValueError(str(exc)) from None
        finally:
            for p in live:
                p.close()
    for w in result.warnings:
        typer.echo(f"warning: {w}")
    typer.echo(f"Tree: {result.root} (runs in {opts.runs_dir})")
    from ..benchmarks.registry import open_model_map
    from ..submission import check_tree

    # Open-only benchmarks (demo-digits) are filed under a v1.1 model class through the extra map.
    report = check_tree(output, extra_model_map=open_model_map(names))
    for r in report.results:
        typer.echo(f"{r.benchmark}/{r.scenario}: {r.log_value()} {r.units}, accuracy {r.accuracy}, "
                   f"compliance {r.compliance}")
    verdict = report.verdict()
    typer.echo(f"edgeperf check {output}: {verdict.line}")
    raise typer.Exit(verdict.exit_code)
