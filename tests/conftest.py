"""Shared test set-up: the real v1.1 fixtures must be present."""

from __future__ import annotations

import pytest

from fixture_paths import FIXTURES


def pytest_sessionstart(session):
    if not FIXTURES.is_dir():
        raise pytest.UsageError(f"the shared v1.1 fixtures are missing: {FIXTURES}")
