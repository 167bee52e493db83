"""The root of every error a user of edgeperf can cause.

Each package's own errors subclass :class:`EdgeperfError`, so the command line can print any of
them as one clear line and exit non-zero, while anything else is treated as a bug (traceback and
a request to report it). See ``docs/architecture.md``.
"""

from __future__ import annotations


class EdgeperfError(Exception):
    """An error caused by the user's input or environment, not by a bug in edgeperf.

    The message says what went wrong, where (file, line, field) and what was expected.
    """
