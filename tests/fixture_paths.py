"""Where the real v1.1 fixtures live: ``tests/data/fixtures`` inside the repository.

The data is a slice of the published MLPerf Inference v1.1 results (see
``tests/data/README.md``), so a fresh clone runs the whole suite with nothing beside it.
``EDGEPERF_FIXTURES`` may name another folder with the same layout (for example a fuller copy).
"""

from __future__ import annotations

import os
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
# The folder that holds the subset tree and the official checker's outputs for it.
FIXTURE_DIR = Path(os.environ.get("EDGEPERF_FIXTURES") or DATA / "fixtures")
# Tests written when the data sat in ../shared read ``SHARED / "fixtures" / ...``.
SHARED = FIXTURE_DIR.parent
FIXTURES = FIXTURE_DIR / "submissions-v1.1-subset"
OFFICIAL_SUMMARY = FIXTURE_DIR / "submissions-v1.1-subset.official-summary.csv"
OFFICIAL_CHECKER_LOG = FIXTURE_DIR / "submissions-v1.1-subset.official-checker.log"
OFFICIAL_FINAL_REPORT = FIXTURE_DIR / "submissions-v1.1-subset.official-final-report.xlsx"
ALIBABA_SS = FIXTURES / "closed/Alibaba/results/T4x1_TRT/ssd-mobilenet/SingleStream"
ALIBABA_OFFLINE = FIXTURES / "closed/Alibaba/results/T4x1_TRT/ssd-mobilenet/Offline"
ALIBABA_TEST01_SS = FIXTURES / "closed/Alibaba/compliance/T4x1_TRT/ssd-mobilenet/SingleStream/TEST01"
ALIBABA_TEST04A_SS = FIXTURES / "closed/Alibaba/compliance/T4x1_TRT/ssd-mobilenet/SingleStream/TEST04-A"


def require_fixtures() -> Path:
    """The subset tree, or skip the calling test module with the reason when it is absent."""
    import pytest

    if not FIXTURES.is_dir():
        pytest.skip(f"v1.1 submission fixtures not found at {FIXTURES}", allow_module_level=True)
    return FIXTURES
