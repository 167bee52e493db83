"""Enumerations shared by the LoadGen settings, engine and logs (spec loadgen.md §2.5, §2.7)."""

from __future__ import annotations

import enum


class TestScenario(enum.Enum):
    """Scenario names, exactly as the official logs spell them."""

    __test__ = False  # keeps pytest from collecting this as a test class

    SingleStream = "SingleStream"
    MultiStream = "MultiStream"
    MultiStreamFree = "MultiStreamFree"
    Server = "Server"
    Offline = "Offline"


class TestMode(enum.Enum):
    """Test modes; the integer of each is its value in a config file's ``mode`` key (§3.3)."""

    __test__ = False

    SubmissionRun = "SubmissionRun"
    AccuracyOnly = "AccuracyOnly"
    PerformanceOnly = "PerformanceOnly"
    FindPeakPerformance = "FindPeakPerformance"

    @classmethod
    def from_config_int(cls, value: int) -> "TestMode":
        """Map the config-file integer (0..3) to a mode; raises ValueError otherwise."""
        order = [cls.SubmissionRun, cls.AccuracyOnly, cls.PerformanceOnly, cls.FindPeakPerformance]
        if not 0 <= value < len(order):
            raise ValueError(value)
        return order[value]


class LoggingMode(enum.Enum):
    """How logs are flushed. Only AsyncPoll is implemented, as in the official LoadGen."""

    AsyncPoll = "AsyncPoll"
    EndOfTestOnly = "EndOfTestOnly"
    Synchronous = "Synchronous"


class Ruleset(enum.Enum):
    """Which round's rules the engine follows: v1.1 (default) or v2.0 (§15.1-15.2)."""

    v1_1 = "v1.1"
    v2_0 = "v2.0"
