"""The small interfaces between LoadGen and the code under test (spec loadgen.md §2.1-2.3).

A SUT receives queries and answers each sample by calling `QueryCompleter.complete` (or the
module-level `query_samples_complete`) from any thread, including from inside `issue_query`.
A QSL loads and unloads samples when LoadGen asks.

Response ids are opaque, non-zero integers that must travel back unchanged. edgeperf uses the
sample sequence id plus one, which lets completion find a sample by indexing an array instead of
looking up a per-sample object.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np


class QuerySample:
    """One sample of an issued query: the response id to answer with and the QSL index.

    A plain slotted class rather than a dataclass: an Offline query builds a million of these,
    and a bare ``__init__`` is several times cheaper than a frozen dataclass's.
    """

    __slots__ = ("id", "index")

    def __init__(self, id: int = 0, index: int = 0):
        self.id = id
        self.index = index

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuerySample):
            return NotImplemented
        return self.id == other.id and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.id, self.index))

    def __repr__(self) -> str:
        return f"QuerySample(id={self.id}, index={self.index})"

    def __reduce__(self):
        return (type(self), (self.id, self.index))


class QuerySampleResponse:
    """A completed sample.

    ``data`` may be a raw memory address (an ``int``, as the official binding takes it, read with
    ctypes only when the sample is logged), any bytes-like object, or a zero-argument callable
    returning one (called only if the sample is logged); ``size`` is the number of bytes.
    ``n_tokens`` exists for harnesses written for the current official binding; v1.1 ignores it.
    """

    __slots__ = ("id", "data", "size", "n_tokens")

    def __init__(self, id: int = 0, data: Any = 0, size: int = 0, n_tokens: int = 0):
        self.id = id
        self.data = data
        self.size = size
        self.n_tokens = n_tokens

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuerySampleResponse):
            return NotImplemented
        return (self.id, self.data, self.size, self.n_tokens) == (other.id, other.data, other.size, other.n_tokens)

    __hash__ = None  # mutable, like the binding's

    def __repr__(self) -> str:
        return f"QuerySampleResponse(id={self.id}, data={self.data!r}, size={self.size})"

    def __reduce__(self):
        return (type(self), (self.id, self.data, self.size, self.n_tokens))


@runtime_checkable
class SystemUnderTest(Protocol):
    """What LoadGen drives. ``issue_query`` may complete samples before it returns.

    A SUT may also define ``issue_query_arrays(ids, indices)`` taking two numpy arrays (or
    ``issue_query_lists(ids, indices)`` taking two lists of ints, as the official binding's
    ``ConstructFastSUT`` callback does); LoadGen then calls it instead of ``issue_query``, which
    avoids building one object per sample.
    """

    @property
    def name(self) -> str: ...

    def issue_query(self, samples: list[QuerySample]) -> None: ...

    def flush_queries(self) -> None: ...


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
