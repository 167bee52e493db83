"""Entry point of the ``edgeperf`` command."""

from __future__ import annotations

import sys


def _missing_cli_extra(exc: ImportError) -> None:
    print(
        f"edgeperf: the command line needs the 'cli' extra ({exc.name} is not installed).\n"
        "Install it with:  pip install 'edgeperf[cli]'",
        file=sys.stderr,
    )
    raise SystemExit(2)


def _root() -> None:
    """edgeperf: MLPerf(TM) Inference v1.1 Edge, in pure Python (independent; not official results)."""


def build_app():
    """Create the typer application with every sub-command registered."""
    import typer

    from . import accuracy, benchmarks, check, compliance, demo, report_cmd, run, submission_cmd

    app = typer.Typer(
        name="edgeperf",
        help="edgeperf: an independent pure-Python implementation of the MLPerf(TM) Inference v1.1 "
        "Edge suite. MLPerf is a trademark of MLCommons; edgeperf runs are not official MLPerf results.",
        no_args_is_help=True,
        add_completion=False,
    )
    app.callback()(_root)
    app.command("demo")(demo.demo)
    app.command("run")(run.run)
    app.command("accuracy")(accuracy.accuracy)
    app.command("benchmarks")(benchmarks.benchmarks)
    app.command("report")(report_cmd.report)
    app.command("check")(check.check)
    app.add_typer(compliance.app, name="compliance")
    app.add_typer(submission_cmd.app, name="submission")
    return app


def _prepare_streams() -> None:
    """Never fail on a file name that is not UTF-8 (or a lone surrogate from a JSON file) when
    printing it: its bytes go out as they are, other surrogates as \\uXXXX."""
    from .. import _atomic  # registers the "edgeperf.surrogates" error handler

    del _atomic
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="edgeperf.surrogates")


def _stdout_failed(exc: OSError) -> None:
    """Standard output cannot take what was printed (a full device, a closed pipe): one line, exit 1."""
    import os

    from .._atomic import OutputError, _reason

    print(f"edgeperf: {OutputError('standard output', _reason(exc), exc.errno)}", file=sys.stderr)
    # What is still buffered would fail again at exit, with Python's own "Exception ignored" noise.
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), sys.stdout.fileno())
    raise SystemExit(1)


def main() -> None:
    """Run the ``edgeperf`` command line."""
    import errno

    try:
        app = build_app()
    except ImportError as exc:
        _missing_cli_extra(exc)
    _prepare_streams()
    stdout_errnos = {errno.ENOSPC, errno.EFBIG, errno.EIO, errno.EPIPE}
    try:
        try:
            app()
        finally:
            sys.stdout.flush()
    except OSError as exc:
        if exc.filename is None and exc.errno in stdout_errnos:
            _stdout_failed(exc)
        raise


if __name__ == "__main__":
    main()
