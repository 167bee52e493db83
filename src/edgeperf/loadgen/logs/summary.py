"""The summary log (``mlperf_log_summary.txt``): a line container plus the footer of §12.1.

The engine composes the result lines; this module only stores them and, at the very end of the
test (C++ ``StopLogging``), writes them followed by the warning/error footer.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Iterable, TextIO

from .files import open_text_target

__all__ = ["summary_footer", "parse_summary_footer", "SummaryLog"]


def _count_line(n: int, one: str, many: str, none: str) -> str:
    if n == 0:
        return none
    if n == 1:
        return one
    return f"{n} {many}"


def summary_footer(warning_count: int, error_count: int) -> str:
    """The summary footer, exactly ``"\\n<warnings line>\\n\\n<errors line>\\n"`` (§12.1)."""
    warnings_line = _count_line(
        warning_count,
        "1 warning encountered. See detailed log.",
        "warnings encountered. See detailed log.",
        "No warnings encountered during test.",
    )
    errors_line = _count_line(
        error_count,
        "1 ERROR encountered. See detailed log.",
        "ERRORS encountered. See detailed log.",
        "No errors encountered during test.",
    )
    return f"\n{warnings_line}\n\n{errors_line}\n"


_FOOTER_RE = re.compile(
    r"\n(?:No warnings encountered during test\.|(\d+) warnings? encountered\. See detailed log\.)"
    r"\r?\n\r?\n"
    r"(?:No errors encountered during test\.|(\d+) ERRORS? encountered\. See detailed log\.)"
    r"\r?\n?\Z"
)


def parse_summary_footer(text: str) -> tuple[int, int]:
    """``(warning_count, error_count)`` from the footer at the end of a summary's text.

    Raises ``ValueError`` if ``text`` does not end with a footer of the §12.1 form.
    """
    m = _FOOTER_RE.search(text)
    if m is None:
        raise ValueError("text does not end with a LoadGen summary footer")
    return int(m.group(1) or 0), int(m.group(2) or 0)


class SummaryLog:
    """Collects the lines of ``mlperf_log_summary.txt`` and writes them, plus footer, at ``close``.

    ``target`` is a path (truncated now, written and closed by ``close``) or an open text stream
    (written and flushed, not closed). With ``copy_to_stdout`` every line is mirrored to stdout as
    it is added, and the footer when the log is closed (``copy_summary_to_stdout``, §2.6).
    """

    def __init__(self, target: str | os.PathLike | TextIO, *, copy_to_stdout: bool = False) -> None:
        self._file, self._owns_file = open_text_target(target)
        self.copy_to_stdout = copy_to_stdout
        self.lines: list[str] = []
        self.closed = False

    def write_line(self, line: str = "") -> None:
        """Add one line (without its ``\\n``)."""
        self.lines.append(line)
        if self.copy_to_stdout:
            sys.stdout.write(line + "\n")

    def write_lines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write_line(line)

    def close(self, warning_count: int, error_count: int) -> None:
        """Write the collected lines and the footer for these counts; idempotent."""
        if self.closed:
            return
        self.closed = True
        footer = summary_footer(warning_count, error_count)
        body = "".join(line + "\n" for line in self.lines)
        try:
            self._file.write(body + footer)
        finally:
            if self._owns_file:
                self._file.close()
            else:
                self._file.flush()
        if self.copy_to_stdout:
            sys.stdout.write(footer)
            sys.stdout.flush()
