"""The command line's error policy (DESIGN.md, "errors.py").

- An :class:`~edgeperf.errors.EdgeperfError` is caused by the user's input or environment: print
  its message as one line on stderr and exit 2 (1 when a LoadGen run ended early).
- An ``OSError`` that names a file (a missing, unreadable or unwritable path) is the same kind of
  error: one line with the path and the system's reason.
- Anything else is a bug in edgeperf: print its traceback and ask for a report, exit 70
  (``EX_SOFTWARE``). Catching ``ValueError`` or ``KeyError`` wholesale would hide such bugs.
"""

from __future__ import annotations

import contextlib
import sys
import traceback

#: Exit status for a bug in edgeperf (sysexits.h EX_SOFTWARE).
BUG_EXIT = 70

BUG_MESSAGE = (
    "edgeperf: this is a bug in edgeperf, not a problem with your input. Please report it with the "
    "traceback above, the command you ran and `edgeperf --version` (or `pip show edgeperf`)."
)


def user_error_line(exc: BaseException) -> str | None:
    """The one line to print for a user-caused error, or None when ``exc`` is a bug."""
    from ..errors import EdgeperfError

    if isinstance(exc, EdgeperfError):
        return f"edgeperf: {exc}"
    if isinstance(exc, OSError) and exc.filename is not None:
        reason = exc.strerror or str(exc)
        where = exc.filename if exc.filename2 is None else f"{exc.filename} -> {exc.filename2}"
        return f"edgeperf: {where}: {reason}"
    return None


def _is_cli_exit(exc: BaseException) -> bool:
    """typer's Exit/Abort and its (vendored) click usage errors: the command line's own way out."""
    kinds: list[type] = []
    try:
        import typer.exceptions

        kinds += [typer.exceptions.Exit, typer.exceptions.Abort, typer.exceptions.TyperException]
    except ImportError:
        pass
    try:
        import click

        kinds += [click.exceptions.Exit, click.exceptions.ClickException, click.exceptions.Abort]
    except ImportError:
        pass
    return isinstance(exc, tuple(kinds))


@contextlib.contextmanager
def user_errors(console=None):
    """Apply the policy above to the body of a command."""
    from ..loadgen.engine import LoadGenRunError

    try:
        yield
    except LoadGenRunError as exc:
        _print(console, f"edgeperf: the run ended early: {exc}")
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        _print(console, "edgeperf: interrupted; the log files written so far are closed.")
        raise SystemExit(130) from None
    except Exception as exc:
        if _is_cli_exit(exc):  # typer.Exit / click's own usage errors: already handled by the command
            raise
        line = user_error_line(exc)
        if line is None:
            traceback.print_exc(file=sys.stderr)
            _print(console, BUG_MESSAGE)
            raise SystemExit(BUG_EXIT) from None
        _print(console, line)
        raise SystemExit(2) from None


def _print(console, message: str) -> None:
    """One line on stderr, never wrapped at the terminal width (the console is only for styling)."""
    del console
    print(message, file=sys.stderr)
