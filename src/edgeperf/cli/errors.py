"""Turning the errors a user can cause into one clear message and a non-zero exit."""

from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def user_errors(console=None):
    """Print known user-caused errors as one line (no traceback) and exit with status 2 (1 for runs)."""
    from ..loadgen.engine import LoadGenRunError
    from ..errors import EdgeperfError
    from ..loadgen.errors import ConfigError

    known: tuple[type[BaseException], ...] = (EdgeperfError, ConfigError, FileNotFoundError, NotADirectoryError, PermissionError, KeyError, ValueError)
    try:
        yield
    except LoadGenRunError as exc:
        _print(console, f"edgeperf: the run ended early: {exc}")
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        _print(console, "edgeperf: interrupted; the log files written so far are closed.")
        raise SystemExit(130) from None
    except known as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        if isinstance(exc, OSError) and not isinstance(exc, EdgeperfError) and exc.filename is not None:
            message = f"{exc.filename}: {exc.strerror or exc}"  # the user's path, not "[Errno N] ..."
        _print(console, f"edgeperf: {message}")
        raise SystemExit(2) from None
    except OSError as exc:  # a path the user gave that cannot be read or written (a folder, a device)
        if exc.filename is None:
            raise
        _print(console, f"edgeperf: {exc.filename}: {exc.strerror or exc}")
        raise SystemExit(2) from None


def _print(console, message: str) -> None:
    """One line on stderr, never wrapped at the terminal width (the console is only for styling)."""
    del console
    print(message, file=sys.stderr)
