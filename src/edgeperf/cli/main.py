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


def _print_version(value: bool) -> None:
    if value:
        import typer

        from .. import __version__

        typer.echo(f"edgeperf {__version__} (MLPerf(TM) Inference v1.1 Edge rules; not official MLPerf results)")
        raise typer.Exit(0)


def plain_help_settings() -> dict:
    """Typer settings shared by every command group: click's plain help, which wraps but never cuts.

    typer's rich help panels shorten long option help with an ellipsis at 80 columns (a folder
    layout such as ``<runs>/<benchmark>/<scenario>/...`` became unreadable), so they are off.
    """
    from .output import on_terminal

    if on_terminal():
        return {"rich_markup_mode": None, "context_settings": {"max_content_width": 120}}
    # Off a terminal: one line per paragraph and per option, however long (plain full-width text).
    return {"rich_markup_mode": None, "context_settings": {"max_content_width": 100_000, "terminal_width": 100_000}}


def _full_short_help(command) -> None:
    """Give every command an explicit one-sentence ``short_help`` so that click never shortens it
    with "..." in a command list (it cuts the docstring's first sentence to fit the width)."""
    import inspect

    for sub in getattr(command, "commands", {}).values():
        if not sub.short_help and sub.help:
            first = inspect.cleandoc(sub.help).split("\n\n")[0].replace("\n", " ")
            sub.short_help = first.split(". ")[0].rstrip(".") + "."
        _full_short_help(sub)


def build_command():
    """The click command behind ``edgeperf``, with command lists that are never cut."""
    import typer

    command = typer.main.get_command(build_app())
    _full_short_help(command)
    return command


def build_app():
    """Create the typer application with every sub-command registered."""
    import typer

    from . import (
        accuracy,
        benchmarks,
        check,
        compliance,
        datasets_cmd,
        demo,
        power_cmd,
        report_cmd,
        results_cmd,
        run,
        serve_model,
        submission_cmd,
    )
    from .notices import install as show_dataset_warnings

    show_dataset_warnings()

    app = typer.Typer(
        name="edgeperf",
        help="edgeperf: an independent pure-Python implementation of the MLPerf(TM) Inference v1.1 "
        "Edge suite. MLPerf is a trademark of MLCommons; edgeperf runs are not official MLPerf results.",
        no_args_is_help=True,
        add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
        **plain_help_settings(),
    )

    @app.callback()
    def _root(
        version: bool = typer.Option(
            False, "--version", callback=_print_version, is_eager=True, help="Print the edgeperf version and exit."
        ),
    ) -> None:
        """edgeperf: MLPerf(TM) Inference v1.1 Edge, in pure Python (independent; not official results)."""

    app.command("demo")(demo.demo)
    app.command("run")(run.run)
    app.command("accuracy")(accuracy.accuracy)
    app.command("benchmarks")(benchmarks.benchmarks)
    app.command("report")(report_cmd.report)
    app.command("check")(check.check)
    app.command("serve-model")(serve_model.serve_model)
    app.add_typer(compliance.app, name="compliance")
    app.add_typer(submission_cmd.app, name="submission")
    app.add_typer(power_cmd.app, name="power")
    app.command("datasets")(datasets_cmd.datasets)
    app.add_typer(datasets_cmd.dataset_app, name="dataset")
    app.command("fetch")(datasets_cmd.fetch)
    app.add_typer(results_cmd.app, name="results")
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
        command = build_command()
    except ImportError as exc:
        _missing_cli_extra(exc)
    _prepare_streams()
    stdout_errnos = {errno.ENOSPC, errno.EFBIG, errno.EIO, errno.EPIPE}
    try:
        try:
            command()
        finally:
            sys.stdout.flush()
    except OSError as exc:
        if exc.filename is None and exc.errno in stdout_errnos:
            _stdout_failed(exc)
        raise


if __name__ == "__main__":
    main()
