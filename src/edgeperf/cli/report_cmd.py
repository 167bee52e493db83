"""``edgeperf report``: the final results table from a checker's summary.csv."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer


def report(
    summary: Path = typer.Argument(..., help="summary.csv written by the submission checker (r1.1, 27 columns)."),
    output: Path = typer.Option(..., "--output", "-o", help="Folder for the report files (created if missing)."),
    formats: Optional[str] = typer.Option(
        "xlsx,csv,md,html", "--format", help="Comma-separated formats: xlsx, csv, md, html."
    ),
    links_base: str = typer.Option(
        "",
        "--links-base",
        help="URL or path prefixing the Details and Code links (default: paths relative to the submission tree).",
    ),
    unofficial: bool = typer.Option(
        False, "--unofficial", help="Say in the note that these are not official MLPerf results."
    ),
    tree: Optional[Path] = typer.Option(
        None,
        "--tree",
        help="The submission tree the summary came from: Details and Code links lead from the output folder "
        "into it (default: the summary's folder when it holds closed/ or open/).",
    ),
) -> None:
    """Write the official final report (xlsx) and the results-page tables (csv, md, html)."""
    from ..errors import EdgeperfError
    from ..submission.report import parse_formats, write_report

    def fail(message: str) -> None:
        print(f"edgeperf: {message}", file=sys.stderr)
        raise typer.Exit(2)

    if tree is not None and not tree.is_dir():
        fail(f"--tree {tree}: not a folder (expected the submission tree holding closed/ or open/)")
    if tree is None and not links_base:
        here = summary.resolve().parent
        if (here / "closed").is_dir() or (here / "open").is_dir():
            tree = here
        else:
            print(
                "edgeperf: warning: Details and Code links are relative to the submission tree's root; "
                "pass --tree TREE (or --links-base URL) so that they resolve from the output folder",
                file=sys.stderr,
            )
    try:
        chosen = parse_formats(formats)
        out = write_report(
            summary, output, chosen, links_base=links_base, unofficial=unofficial, tree=None if links_base else tree
        )
    except EdgeperfError as exc:  # a malformed summary, an unknown format, openpyxl missing
        fail(str(exc))
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"cannot write the report: {where}{exc.strerror or exc}")
    for warning in out.warnings:
        print(f"edgeperf: warning: {warning}", file=sys.stderr)
    sheets = len(out.final.sheets)
    typer.echo(
        f"{len(out.final.entries)} summary rows, {len({e.id for e in out.final.entries})} ids, "
        f"{sheets} official sheet{'s' if sheets != 1 else ''}, {len(out.tables)} results tables"
    )
    for path in out.files:
        typer.echo(f"wrote {path}")
