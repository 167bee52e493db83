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

    from . import accuracy, benchmarks, check, compliance, demo, report_cmd, run, serve_model, submission_cmd

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
    app.command("serve-model")(serve_model.serve_model)
    app.add_typer(compliance.app, name="compliance")
    app.add_typer(submission_cmd.app, name="submission")
    return app


def main() -> None:
    """Run the ``edgeperf`` command line."""
    try:
        app = build_app()
    except ImportError as exc:
        _missing_cli_extra(exc)
    app()


if __name__ == "__main__":
    main()
