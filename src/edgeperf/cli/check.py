"""``edgeperf check``: the v1.1 submission checker on a tree; report, summary.csv, JSON findings."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

from ..errors import UsageError


def _model_map(text: Optional[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in filter(None, (text or "").split(";")):
        name, sep, cls = item.partition(":")
        if not sep or not name.strip() or not cls.strip():
            raise UsageError(f"--extra-model-map: expected 'name:class;name2:class2', found {item!r}")
        out[name.strip()] = cls.strip()
    return out


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def check(
    tree: Path = typer.Argument(..., help="Submission tree: the folder holding closed/ and open/."),
    version: str = typer.Option("v1.1", "--version", help="Round whose rules apply (v1.1; v1.0 also known)."),
    csv: Optional[Path] = typer.Option(
        None, "--csv", help="Write summary.csv (the official 27 columns) here ('-': stdout)."
    ),
    json_out: Optional[Path] = typer.Option(
        None, "--json", help="Write the findings as JSON (edgeperf-check format 1) here ('-': stdout)."
    ),
    submitter: Optional[str] = typer.Option(None, "--submitter", help="Check only this submitter directory."),
    skip_compliance: bool = typer.Option(
        False, "--skip-compliance", help="Do not check compliance/ (closed results get compilance=0)."
    ),
    strict: bool = typer.Option(
        False,
        "--strict",
        help="Also invalidate what v1.1 only logs: wrong seeds, latency bound, "
        "too few queries or samples per query, duration under 600 s.",
    ),
    submission_exceptions: bool = typer.Option(
        False, "--submission-exceptions", help="Accept 'Loadgen built with uncommitted changes!' errors."
    ),
    extra_model_map: Optional[str] = typer.Option(
        None, "--extra-model-map", help="Extra benchmark-to-class names, 'name:class;...'."
    ),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Also show INFO notes (file-list mismatches, inferred results)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Show only problems, not every result."),
    prune_invalid: Optional[Path] = typer.Option(
        None,
        "--prune-invalid",
        help="Write a copy of TREE here without the results the checker drops (listed with why); TREE is not changed.",
    ),
    workers: Optional[int] = typer.Option(
        None,
        "--workers",
        "-j",
        min=1,
        help="Processes checking systems in parallel (default: one per CPU core); "
        "the output is the same for any number.",
    ),
) -> None:
    """Check a submission tree as the official v1.1 checker does; the last line is the verdict.

    Exit status 1 when anything invalidates a result (NoResults), 2 for a usage error, else 0.
    """
    from .._atomic import is_stdout
    from ..errors import EdgeperfError
    from ..submission import CheckOptions, check_tree, render_text_report, write_json_report, write_summary_csv

    def fail(message: str) -> None:
        print(f"edgeperf: {message}", file=sys.stderr)
        raise typer.Exit(2)

    try:
        options = CheckOptions(
            version=version,
            submitter=submitter,
            skip_compliance=skip_compliance,
            strict=strict,
            submission_exceptions=submission_exceptions,
            extra_model_map=_model_map(extra_model_map),
        )
        options.rules()
        report = check_tree(tree, options, workers=workers or _cpu_count())
    except EdgeperfError as exc:  # anything else is a bug: its traceback shows
        fail(str(exc))
    if is_stdout(csv) and is_stdout(json_out):
        fail("--csv - and --json - cannot both go to standard output")
    # With '-', stdout carries the data alone; the report a person reads goes to stderr.
    to_stderr = is_stdout(csv) or is_stdout(json_out)
    written = []
    try:
        if csv is not None:
            write_summary_csv(report.rows, csv)
            if not is_stdout(csv):
                written.append(f"wrote {csv} ({len(report.rows)} rows)")
        if json_out is not None:
            write_json_report(report, json_out)
            if not is_stdout(json_out):
                written.append(f"wrote {json_out}")
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"cannot write the output: {where}{exc.strerror or exc}")
    text = render_text_report(report, verbose=verbose, show_results=not quiet)
    body, _, verdict = text.rstrip("\n").rpartition("\n")
    typer.echo(body, err=to_stderr)
    for line in written:
        typer.echo(line, err=to_stderr)
    verdict_obj = report.verdict()
    color = {"pass": typer.colors.GREEN, "pass-with-errors": typer.colors.YELLOW}.get(
        verdict_obj.status, typer.colors.RED
    )
    typer.secho(verdict, fg=color, bold=True, err=to_stderr)
    if prune_invalid is None:
        raise typer.Exit(verdict_obj.exit_code)
    from ..submission.prune import prune_invalid as prune

    try:
        pruned = prune(tree, prune_invalid, options, report)
    except (ValueError, FileExistsError, NotADirectoryError) as exc:
        fail(str(exc))
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"cannot write the pruned tree: {where}{exc.strerror or exc}")
    typer.echo(f"Pruned copy: {prune_invalid} ({len(pruned.pruned)} result(s) left out; {tree} unchanged)")
    for item in pruned.pruned:
        typer.echo(f"  left out {item.location}")
        for reason in item.reasons:
            typer.echo(f"      because {reason}")
    assert pruned.check is not None  # prune_invalid always checks the copy it made
    after = pruned.check.verdict()
    typer.echo(f"edgeperf check {prune_invalid}: {after.line}")
    raise typer.Exit(after.exit_code)
