"""Constants and helpers shared by the results-explorer tests (imported by name: a module called
``conftest`` is ambiguous when several test folders have one)."""

from __future__ import annotations

import socket
from pathlib import Path

import fixture_paths

FIXTURES: Path = fixture_paths.FIXTURES
# The official checker's summary of the subset sits beside it (shared/fixtures or tests/data).
OFFICIAL_SUMMARY: Path = FIXTURES.parent / "submissions-v1.1-subset.official-summary.csv"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
