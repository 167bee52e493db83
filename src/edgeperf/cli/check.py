"""``edgeperf check``: the v1.1 submission checker on a tree; report, summary.csv, JSON findings."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer


def _model_map(text: Optional[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in filter(None, (text or "").split(";")):
        name, sep, cls = item.partition(":")
        if not sep or not name.strip() or not cls.strip():
            raise ValueError(f"--extra-model-map: expected 'name:class;name2:class2', found {item!r}")
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
    csv: Optional[Path] = typer.Option(None, "--csv", help="Write summary.csv (the official 27 columns) here."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the findings as JSON (edgeperf-check format 1) here."),
    submitter: Optional[str] = typer.Option(None, "--submitter", help="Check only this submitter directory."),
    skip_compliance: bool = typer.Option(False, "--skip-compliance", help="Do not check compliance/ (closed results get compilance=0)."),
    strict: bool = typer.Option(False, "--strict", help="Also invalidate what v1.1 only logs: wrong seeds, latency bound, "
                                "too few queries or samples per query, duration under 600 s."),
    submission_exceptions: bool = typer.Option(False, "--submission-exceptions",
                                               help="Accept 'Loadgen built with uncommitted changes!' errors."),
    extra_model_map: Optional[str] = typer.Option(None, "--extra-model-map", help="Extra benchmark-to-class names, 'name:class;...'."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also show INFO notes (file-list mismatches, inferred results)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Show only problems, not every result."),
    workers: Optional[int] = typer.Option(None, "--workers", "-j", min=1,
                                          help="Processes checking systems in parallel (default: one per CPU core); "
                                          "the output is the same for any number."),
) -> None:
    """Check a submission tree as the official v1.1 checker does; the last line is the verdict.

    Exit status 1 when anything invalidates a result (NoResults), 2 for a usage error, else 0.
    """
    from ..submission import CheckOptions, check_tree, render_text_report, write_json_report, write_summary_csv

    def fail(message: str) -> None:
        print(f"edgeperf: {message}", file=sys.stderr)
        raise typer.Exit(2)

    try:
        options = CheckOptions(version=version, submitter=submitter, skip_compliance=skip_compliance, strict=strict,
                               submission_exceptions=submission_exceptions, extra_model_map=_model_map(extra_model_map))
        options.rules()
        report = check_tree(tree, options, workers=workers or _cpu_count())
    except (ValueError, NotADirectoryError) as exc:
        fail(str(exc))
    written = []
    try:
        if csv is not None:
            write_summary_csv(report.rows, csv)
            written.append(f"wrote {csv} ({len(report.rows)} rows)")
        if json_out is not None:
            write_json_report(report, json_out)
            written.append(f"wrote {json_out}")
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"cannot write the output: {where}{exc.strerror or exc}")
    text = render_text_report(report, verbose=verbose, show_results=not quiet)
    body, _, verdict = text.rstrip("\n").rpartition("\n")
    typer.echo(body)
    for line in written:
        typer.echo(line)
    verdict_obj = report.verdict()
    color = {"pass": typer.colors.GREEN, "pass-with-errors": typer.colors.YELLOW}.get(verdict_obj.status, typer.colors.RED)
    typer.secho(verdict, fg=color, bold=True)
    raise typer.Exit(verdict_obj.exit_code)
