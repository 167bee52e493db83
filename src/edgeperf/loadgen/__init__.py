"""edgeperf's load generator: a pure-Python LoadGen that behaves like the official v1.1 one.

Only numpy and the standard library are needed here. The names below are the public API; the
modules behind them (``engine``, ``settings``, ``api``, ...) are implementation and may move.

>>> from edgeperf.loadgen import start_test, TestSettings, LogSettings
"""

from .api import QuerySample, QuerySampleLibrary, QuerySampleResponse, SystemUnderTest
from .engine import (
    LoadGenRunError,
    SutError,
    SutStallError,
    TestResult,
    abort_test,
    complete_arrays,
    query_samples_complete,
    start_test,
)
from .enums import TestMode, TestScenario
from .settings import LogOutputSettings, LogSettings, TestSettings

__all__ = [
    "start_test",
    "TestSettings",
    "LogSettings",
    "LogOutputSettings",
    "TestScenario",
    "TestMode",
    "TestResult",
    "complete_arrays",
    "query_samples_complete",
    "abort_test",
    "SystemUnderTest",
    "QuerySampleLibrary",
    "QuerySample",
    "QuerySampleResponse",
    "LoadGenRunError",
    "SutError",
    "SutStallError",
]
