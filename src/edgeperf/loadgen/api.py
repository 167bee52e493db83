"""The small interfaces between LoadGen and the code under test (spec loadgen.md §2.1-2.3).

A SUT receives queries and answers each sample by calling `QueryCompleter.complete` (or the
module-level `query_samples_complete`) from any thread, including from inside `issue_query`.
A QSL loads and unloads samples when LoadGen asks.

Response ids are opaque, non-zero integers that must travel back unchanged. edgeperf uses the
sample sequence id plus one, which lets completion find a sample by indexing an array instead of
looking up a per-sample object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np


@dataclass(frozen=True, slots=True)
class QuerySample:
    """One sample of an issued query: the response id to answer with and the QSL index."""

    id: int
    index: int


@dataclass(slots=True)
class QuerySampleResponse:
    """A completed sample.

    ``data`` may be a raw memory address (an ``int``, as the official binding takes it, read with
    ctypes only when the sample is logged) or any bytes-like object; ``size`` is the number of bytes.
    """

    id: int
    data: Any = 0
    size: int = 0


@runtime_checkable
class SystemUnderTest(Protocol):
    """What LoadGen drives. ``issue_query`` may complete samples before it returns."""

    @property
    def name(self) -> str: ...

    def issue_query(self, samples: list[QuerySample]) -> None: ...

    def flush_queries(self) -> None: ...


class FastSystemUnderTest(SystemUnderTest, Protocol):
    """A SUT that also takes queries as two numpy arrays, avoiding one object per sample.

    When a SUT has ``issue_query_arrays``, LoadGen calls it instead of ``issue_query``.
    """

    def issue_query_arrays(self, ids: np.ndarray, indices: np.ndarray) -> None: ...


@runtime_checkable
class QuerySampleLibrary(Protocol):
    """The data set as LoadGen sees it."""

    @property
    def name(self) -> str: ...

    @property
    def total_sample_count(self) -> int: ...

    @property
    def performance_sample_count(self) -> int: ...

    def load_samples_to_ram(self, indices: Sequence[int]) -> None: ...

    def unload_samples_from_ram(self, indices: Sequence[int]) -> None: ...


def report_latencies(sut: object, latencies_ns: np.ndarray) -> None:
    """Call the optional r1.1 ``report_latency_results`` hook of a SUT, if it has one."""
    hook = getattr(sut, "report_latency_results", None)
    if hook is not None:
        hook(latencies_ns)
