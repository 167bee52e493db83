"""``edgeperf results export-html OUT``: the page as static files (``file://`` or any static host).

OUT gets ``index.html`` (the data embedded), ``static/`` (the page's script, stylesheet and the
vendored Chart.js) and ``details/<tree>/<system>.html``. File names are built from database
integers only, never from submission strings. Everything is written into a fresh folder beside
OUT first and then renamed into place, so a failed export leaves OUT as it was. An existing OUT
is replaced only if an earlier export made it (it holds the marker file).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import ResultsError
from .links import LinkMode
from .page import build_page_data
from .render import render_index
from .site import details_pages, static_files
from .store import Store

__all__ = ["MARKER", "ExportResult", "export_html"]

MARKER = ".edgeperf-results-export"


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: the folder, how many trees, tables and Details pages."""

    out: Path
    trees: int
    tables: int
    details: int


def export_html(store: Store, out: str | os.PathLike, tree_ids: list[int] | None = None) -> ExportResult:
    """Write the page for the stored trees (``tree_ids``: only these) into ``out``."""
    target = Path(os.path.abspath(os.fspath(out)))
    if target.exists() and not target.is_dir():
        raise ResultsError(f"{target}: exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).is_file():
        raise ResultsError(f"{target}: folder is not empty and was not made by export-html; choose a new folder")
    links = LinkMode("export", out_dir=str(target))
    data = build_page_data(store, links, tree_ids)
    files: dict[str, bytes] = {
        "index.html": render_index(data, served=False).encode("utf-8"),
        MARKER: b"edgeperf results export\n",
    }
    files.update(static_files())
    files.update(details_pages(store, data, links))
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    old = None
    try:
        for name, content in files.items():
            path = stage / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        os.chmod(stage, 0o755)
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(stage, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        if old is not None and not target.exists():
            os.replace(old, target)
        raise
    if old is not None:
        with contextlib.suppress(OSError):
            shutil.rmtree(old)
    tables = sum(len(t["tables"]) for t in data["trees"])
    details = sum(1 for name in files if name.startswith("details/"))
    return ExportResult(target, len(data["trees"]), tables, details)
