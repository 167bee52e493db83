"""Shared test set-up.

The real v1.1 data the tests read is in ``tests/data`` (see ``fixture_paths``); nothing outside the
repository is needed. Every test is either ``slow`` (marked explicitly, more than a few seconds) or
fast: this hook marks the rest ``fast`` so that ``-m fast`` and ``-m "not slow"`` both select them.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.fast)


@pytest.fixture
def cli():
    """``cli(*args)`` runs ``edgeperf *args`` in-process and returns the click Result."""
    pytest.importorskip("typer")
    from typer.testing import CliRunner

    from edgeperf.cli.main import build_app

    app = build_app()
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})

    return invoke
