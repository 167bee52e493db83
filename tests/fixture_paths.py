"""Where the real v1.1 fixtures live (shared/ sits beside the repository)."""

from __future__ import annotations

from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURES = SHARED / "fixtures" / "submissions-v1.1-subset"
ALIBABA_SS = FIXTURES / "closed/Alibaba/results/T4x1_TRT/ssd-mobilenet/SingleStream"
ALIBABA_OFFLINE = FIXTURES / "closed/Alibaba/results/T4x1_TRT/ssd-mobilenet/Offline"
ALIBABA_TEST01_SS = FIXTURES / "closed/Alibaba/compliance/T4x1_TRT/ssd-mobilenet/SingleStream/TEST01"
ALIBABA_TEST04A_SS = FIXTURES / "closed/Alibaba/compliance/T4x1_TRT/ssd-mobilenet/SingleStream/TEST04-A"
