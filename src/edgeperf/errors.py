"""The root of every error a user of edgeperf can cause.

Each package's own errors subclass :class:`EdgeperfError`, so the command line can print any of
them as one clear line and exit non-zero, while anything else is treated as a bug (traceback and
a request to report it). See ``docs/architecture.md``.

The few generic kinds below serve where no package-specific class fits. Each also derives from the
built-in exception that code written before the error root (and ``except ValueError`` callers)
expects, so that raising them changes no caller's behaviour.
"""

from __future__ import annotations

__all__ = [
    "EdgeperfError",
    "UsageError",
    "UnknownNameError",
    "MissingPathError",
    "NotAFolderError",
    "MissingExtraError",
]


class EdgeperfError(Exception):
    """An error caused by the user's input or environment, not by a bug in edgeperf.

    The message says what went wrong, where (file, line, field) and what was expected.
    """


class UsageError(EdgeperfError, ValueError):
    """A value the user gave (argument, option, setting, or a field of an input file) that is not allowed.

    The message says which value, where it came from and what was expected.
    """


class UnknownNameError(EdgeperfError, KeyError):
    """A name (benchmark, compliance test, round, format) that edgeperf does not know.

    Its text is the message itself, not ``KeyError``'s quoted repr of it.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class MissingPathError(EdgeperfError, FileNotFoundError):
    """A file or folder the user named (or that a tree must contain) does not exist."""


class NotAFolderError(EdgeperfError, NotADirectoryError):
    """A path that must be a folder is something else."""


class MissingExtraError(EdgeperfError, ImportError):
    """An optional library that this feature needs is not installed; the message names the extra."""


class OutputExistsError(EdgeperfError, FileExistsError):
    """An output that would replace something the user has (pass --force, --resume or another path)."""
