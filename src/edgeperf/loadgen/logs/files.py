"""Names and creation of the four LoadGen log files (spec loadgen.md §2.6)."""

from __future__ import annotations

import os
import time
from typing import Any, NamedTuple, TextIO

from .formatting import test_datetime
from ...errors import EdgeperfError

__all__ = ["LogFilePaths", "LogFileOpenError", "log_file_paths", "open_log_files", "open_text_target"]

_KINDS = (("summary", ".txt"), ("detail", ".txt"), ("accuracy", ".json"), ("trace", ".json"))
_CPP_NAMES = {
    "summary": "summary file",
    "detail": "detailed log file",
    "accuracy": "accuracy log file",
    "trace": "trace file",
}


class LogFilePaths(NamedTuple):
    summary: str
    detail: str
    accuracy: str
    trace: str


class LogFileOpenError(EdgeperfError, OSError):
    """A log file (or the output directory) could not be created.

    ``which`` is ``summary``/``detail``/``accuracy``/``trace``; ``filename`` the path;
    ``cpp_message`` what the official LoadGen prints to stderr in that case (§2.6), e.g.
    ``LoadGen: Failed to open summary file.``
    """

    def __init__(self, which: str, path: str, cause: OSError) -> None:
        self.which = which
        self.cpp_message = f"LoadGen: Failed to open {_CPP_NAMES[which]}."
        super().__init__(cause.errno, f"{self.cpp_message} ({cause.strerror or cause})", path)


def log_file_paths(
    outdir: str | os.PathLike = ".",
    prefix: str = "mlperf_log_",
    suffix: str = "",
    prefix_with_datetime: bool = False,
    datetime_str: str = "",
) -> LogFilePaths:
    """``<outdir>/<prefix>[<datetime>_]{summary,detail,accuracy,trace}<suffix>.{txt,txt,json,json}``.

    The datetime goes *after* the prefix (the official header comment saying otherwise is wrong).
    """
    stem = prefix + (f"{datetime_str}_" if prefix_with_datetime else "")
    outdir = os.fspath(outdir)
    return LogFilePaths(*(os.path.join(outdir, f"{stem}{kind}{suffix}{ext}") for kind, ext in _KINDS))


def open_log_files(
    settings: Any = None,
    *,
    outdir: str | os.PathLike | None = None,
    prefix: str | None = None,
    suffix: str | None = None,
    prefix_with_datetime: bool | None = None,
    datetime_str: str | None = None,
) -> LogFilePaths:
    """Create ``outdir`` and create/truncate all four log files; return their paths.

    ``settings`` is anything with the ``LogOutputSettings`` attributes (``outdir``, ``prefix``,
    ``suffix``, ``prefix_with_datetime``); keyword arguments override it, missing ones take the
    §2.6 defaults. ``datetime_str`` defaults to ``test_datetime(now)``. All four files are created
    even when unused (the trace then stays empty), in the official order summary, detail,
    accuracy, trace; the first failure raises ``LogFileOpenError`` naming that file.
    """

    def pick(value: Any, name: str, default: Any) -> Any:
        return value if value is not None else getattr(settings, name, default)

    outdir = pick(outdir, "outdir", ".")
    with_datetime = bool(pick(prefix_with_datetime, "prefix_with_datetime", False))
    if with_datetime and not datetime_str:
        datetime_str = test_datetime(time.time())
    paths = log_file_paths(
        outdir, pick(prefix, "prefix", "mlperf_log_"), pick(suffix, "suffix", ""), with_datetime, datetime_str or ""
    )
    try:
        if os.fspath(outdir):
            os.makedirs(outdir, exist_ok=True)
    except OSError as exc:
        raise LogFileOpenError("summary", paths.summary, exc) from exc
    for which, path in zip(LogFilePaths._fields, paths):
        try:
            open(path, "wb").close()
        except OSError as exc:
            raise LogFileOpenError(which, path, exc) from exc
    return paths


def open_text_target(target: str | os.PathLike | TextIO) -> tuple[TextIO, bool]:
    """A text log's stream and whether the log owns it: a path is created (truncated) for writing
    UTF-8 with ``\n`` line ends and owned (closed with the log); an open stream is used as given."""
    if isinstance(target, (str, os.PathLike)):
        return open(target, "w", encoding="utf-8", newline="\n"), True
    return target, False
