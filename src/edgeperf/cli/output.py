"""How the command line prints: plain full-width text off a terminal, versioned JSON for scripts.

Rules (DESIGN.md "Conventions"): nothing a user must read or type is ever cut to fit a width;
off a terminal (a pipe, a file, CI) output is plain text with no box drawing or wrapping; every
command that prints a result can also write it as versioned JSON.

Each JSON document starts with ``format`` (``edgeperf-<command>``), ``format_version`` (an int,
raised when a field changes meaning or disappears; new fields do not raise it) and
``edgeperf_version``, as ``edgeperf check --json`` does. Formats and their history:

* ``edgeperf-benchmarks`` 1: ``{"benchmarks": [{name, task, quality: {metric, reference, fraction,
  threshold, unit}, server_latency_ms, qsl_total, qsl_performance_count, required_scenarios}]}``
* ``edgeperf-run`` 1: one ``edgeperf run``; see :func:`edgeperf.cli.run.run_json`.
* ``edgeperf-compliance-verify`` 1: see :func:`edgeperf.cli.compliance.verify_json`.
* ``edgeperf-submission-run`` 1: see :func:`edgeperf.cli.submission_cmd.submission_run_json`.
* ``edgeperf-datasets`` 1: see :func:`edgeperf.cli.datasets_cmd.datasets_json`.
* ``edgeperf-fetch`` 1: ``{name, kind, files: [{file, url, algorithm, digest, official_checksum,
  downloaded, resumed_from, extracted?}]}``.

History: every format above is at version 1 (edgeperf 0.1.0), its first version.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from .._numbers import num  # noqa: F401  (re-exported for the commands)


def header(fmt: str, version: int) -> dict[str, Any]:
    """The three fields every edgeperf JSON document starts with."""
    from .. import __version__

    return {"format": fmt, "format_version": version, "edgeperf_version": __version__}


def write_json(doc: dict[str, Any], path: Path) -> None:
    """Write ``doc`` as indented JSON through the project's atomic writer (``-``: see _atomic)."""
    from .._atomic import atomic_write

    atomic_write(path, json.dumps(doc, indent=2, allow_nan=False) + "\n")


def json_to_stdout(path: Path | None) -> bool:
    """True when ``--json -`` asks for the JSON on standard output (human text then goes to stderr)."""
    return path is not None and str(path) == "-"


def on_terminal(stream=None) -> bool:
    """Whether ``stream`` (default stdout) is an interactive terminal (rich decorations allowed)."""
    stream = stream if stream is not None else sys.stdout
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def plain_console(stderr: bool = False):
    """A rich console that never wraps or cuts: off a terminal it prints lines as they are."""
    from rich.console import Console

    if on_terminal(sys.stderr if stderr else sys.stdout):
        return Console(stderr=stderr, soft_wrap=True)
    # Off a terminal rich would wrap at 80 columns; soft_wrap prints each line whole.
    return Console(stderr=stderr, soft_wrap=True, no_color=True, highlight=False, emoji=False)
