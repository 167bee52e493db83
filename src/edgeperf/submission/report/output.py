"""Rendering every requested format, then writing all files so that none is left half-written.

Everything is rendered in memory first, so a bad summary or a missing openpyxl writes nothing.
Each file is then written to a temporary file in the output folder and renamed over its target;
if any write fails, the temporary files are removed (and the folder, if this call created it).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from ..._atomic import OutputError, _reason, check_output_dir
from .final import FinalReport, build_final_report
from .render import csv_name, render_csv, render_html, render_markdown, report_note
from .summary import read_summary
from .tables import ResultsTable, build_results_tables
from ...errors import NotAFolderError, UsageError

__all__ = [
    "FORMATS",
    "XLSX_FILE",
    "HTML_FILE",
    "MARKDOWN_FILE",
    "ReportOutput",
    "parse_formats",
    "render_report",
    "write_report",
    "write_files",
    "relative_links_base",
    "missing_link_targets",
]

FORMATS: tuple[str, ...] = ("xlsx", "csv", "md", "html")
XLSX_FILE = "final-report.xlsx"
HTML_FILE = "results.html"
MARKDOWN_FILE = "results.md"


@dataclass(frozen=True)
class ReportOutput:
    """What :func:`write_report` made: the files (in writing order), warnings, and the data."""

    files: tuple[Path, ...]
    warnings: tuple[str, ...]
    final: FinalReport
    tables: tuple[ResultsTable, ...]


def parse_formats(text: str | None) -> tuple[str, ...]:
    """``"xlsx,html"`` → ``("xlsx", "html")``; None or "" → every format. Unknown names raise ValueError."""
    if not text:
        return FORMATS
    chosen = []
    for name in (part.strip().lower() for part in text.split(",")):
        if not name:
            continue
        if name == "markdown":
            name = "md"
        if name not in FORMATS:
            raise UsageError(f"unknown report format {name!r}; choose from {', '.join(FORMATS)}")
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise UsageError(f"no report format given; choose from {', '.join(FORMATS)}")
    return tuple(chosen)


def _title(report: FinalReport) -> str:
    versions = sorted({e.row["version"] for e in report.entries if e.row["version"]})
    return f"Inference {versions[0]} results" if len(versions) == 1 else "Inference results"


def relative_links_base(tree: str | os.PathLike, output_dir: str | os.PathLike) -> str:
    """The submission tree's path relative to the report folder, percent-encoded, for links.

    The report's files sit in ``output_dir``, so a link written there must start from it: from
    ``out/`` to the tree ``../tree`` this gives ``../tree`` (``.`` when they are the same folder).
    """
    rel = os.path.relpath(os.path.abspath(tree), os.path.abspath(output_dir))
    return "/".join(p if p in (".", "..") else urllib.parse.quote(p, safe="") for p in rel.split(os.sep))


def missing_link_targets(tables: list[ResultsTable], tree: str | os.PathLike) -> list[str]:
    """Details and Code targets (tree-relative) that do not exist in ``tree``."""
    missing = []
    for table in tables:
        for row in table.rows:
            for rel in (row.details_url, row.code_url):
                if not os.path.exists(os.path.join(tree, *urllib.parse.unquote(rel).split("/"))) and rel not in missing:
                    missing.append(rel)
    return missing


def render_report(
    summary_path: str | os.PathLike,
    formats: tuple[str, ...] = FORMATS,
    *,
    links_base: str = "",
    unofficial: bool = False,
    tree: str | os.PathLike | None = None,
    output_dir: str | os.PathLike | None = None,
) -> tuple[dict[str, bytes], FinalReport, list[ResultsTable]]:
    """Read the summary and render each format in memory: {file name: bytes}, in writing order.

    Details and Code links: under ``links_base`` when given; else, with ``tree`` and
    ``output_dir``, relative from the report folder to the tree, so they resolve where the files
    are written; else relative to the tree's root.
    """
    summary = read_summary(summary_path)
    if not links_base and tree is not None and output_dir is not None:
        links_base = relative_links_base(tree, output_dir)
    if "xlsx" in formats:
        from .xlsx import require_openpyxl

        require_openpyxl()
    final = build_final_report(summary)
    tables = build_results_tables(final, links_base=links_base)
    note = report_note(os.path.basename(os.fspath(summary_path)), unofficial=unofficial)
    title = _title(final)
    files: dict[str, bytes] = {}
    for fmt in formats:
        if fmt == "xlsx":
            from .xlsx import render_xlsx

            files[XLSX_FILE] = render_xlsx(final, description=note)
        elif fmt == "csv":
            for table in tables:
                files[csv_name(table)] = render_csv(table).encode("utf-8")
        elif fmt == "md":
            files[MARKDOWN_FILE] = render_markdown(tables, title, note).encode("utf-8")
        elif fmt == "html":
            files[HTML_FILE] = render_html(tables, title, note, footer=_footer()).encode("utf-8")
    return files, final, tables


def _footer() -> str:
    try:
        from importlib.metadata import version

        return f"edgeperf {version('edgeperf')}"
    except Exception:  # not installed (running from a source tree)
        return "edgeperf"


def write_report(
    summary_path: str | os.PathLike,
    output_dir: str | os.PathLike,
    formats: tuple[str, ...] = FORMATS,
    *,
    links_base: str = "",
    unofficial: bool = False,
    tree: str | os.PathLike | None = None,
) -> ReportOutput:
    """Read ``summary_path`` and write the requested formats into ``output_dir``.

    ``tree``: the submission tree the summary was made from; the Details and Code links then
    lead from ``output_dir`` into it (see :func:`render_report`), and missing targets warn.

    Raises :class:`~.summary.SummaryError` for a bad summary, ImportError when xlsx is asked for
    without openpyxl, OSError when the folder cannot be written; in every case nothing is written.
    """
    files, final, tables = render_report(
        summary_path, formats, links_base=links_base, unofficial=unofficial, tree=tree, output_dir=output_dir
    )
    warnings = final.warnings
    if tree is not None:
        missing = missing_link_targets(build_results_tables(final), tree)
        if missing:
            warnings += (
                f"{len(missing)} Details/Code link target(s) missing from {os.fspath(tree)}, "
                f"first: {urllib.parse.unquote(missing[0])}",
            )
    written = write_files(output_dir, files)
    return ReportOutput(files=tuple(written), warnings=warnings, final=final, tables=tuple(tables))


def write_files(output_dir: str | os.PathLike, files: dict[str, bytes]) -> list[Path]:
    """Write every file or none: stage each beside its target, then rename them all."""
    folder = Path(output_dir)
    if folder.exists() and not folder.is_dir():
        raise NotAFolderError(f"{folder}: the output must be a folder, and this is a file")
    check_output_dir(output_dir)  # not '-', not under a file, somewhere writable
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(folder, _reason(exc), exc.errno) from None
    staged: list[tuple[str, Path]] = []
    try:
        for name, data in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
            target = folder / name
            # A symlinked file is written through (the link stays), as every edgeperf output is.
            staged.append((tmp, Path(os.path.realpath(target)) if target.is_symlink() else target))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o644)
        done = []
        for tmp, target in staged:
            os.replace(tmp, target)
            done.append(target)
        return done
    except BaseException as exc:
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):  # name the folder, not a temporary file
            raise OutputError(folder, _reason(exc), exc.errno) from None
        raise
