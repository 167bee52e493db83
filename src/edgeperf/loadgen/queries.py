"""Loadable sets and query generation, bit-exact with v1.1 (spec loadgen.md §6, §7, §9.3).

All queries of a series are generated before issuing, as the official LoadGen does, but held in
numpy arrays: one flat array of QSL indices (``count * samples_per_query``) and, for Server, one
array of scheduled deltas. No per-query Python object exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import rng
from .enums import TestMode, TestScenario
from ..errors import UsageError

_MULTI = (TestScenario.MultiStream, TestScenario.MultiStreamFree)

#: The accuracy-log value RNG is default-constructed in v1.1, i.e. seeded with 5489 (§5.6).
DEFAULT_MT19937_SEED = 5489

_VALUE_CHUNK = 1 << 22
_SAMPLE_CHUNK = 1 << 22


@dataclass(frozen=True)
class LoadableSet:
    """One set of samples loaded together: ``indices`` includes MultiStream padding, ``end`` not."""

    indices: np.ndarray
    end: int


def generate_loadable_sets(
    total_sample_count: int,
    performance_sample_count: int,
    qsl_rng_seed: int,
    scenario: TestScenario,
    samples_per_query: int,
) -> list[LoadableSet]:
    """Shuffle all QSL indices with the qsl seed and cut them into sets (§6)."""
    order = rng.shuffled_range(qsl_rng_seed, total_sample_count)
    size = max(1, min(performance_sample_count, total_sample_count))
    sets = []
    for start in range(0, total_sample_count, size):
        chunk = order[start : start + size]
        end = len(chunk)
        if scenario in _MULTI and samples_per_query > 1:
            chunk = np.concatenate([chunk, np.resize(chunk, samples_per_query - 1)])
        sets.append(LoadableSet(indices=np.ascontiguousarray(chunk, dtype=np.int64), end=end))
    return sets


@dataclass(frozen=True)
class GeneratedQueries:
    """The queries of one series.

    ``sample_indices`` holds ``count * samples_per_query`` QSL indices, query after query.
    Scheduled deltas are ``deltas[q]`` for Server and ``q * period_ns`` otherwise.
    """

    count: int
    samples_per_query: int
    sample_indices: np.ndarray
    deltas: np.ndarray | None
    period_ns: int
    duration_ns: int
    logged_samples_per_query: int

    @property
    def num_samples(self) -> int:
        """Samples generated (each consumes one sequence id)."""
        return self.count * self.samples_per_query

    def delta(self, query: int) -> int:
        """Scheduled time of ``query`` relative to the series start (ns)."""
        if self.deltas is not None:
            return int(self.deltas[query])
        return query * self.period_ns


def _fixed_period_count(period_ns: int, gen_duration_ns: int, min_queries: int) -> int:
    """Queries a constant-period loop generates: stop after the first delta >= duration (§7.9)."""
    if gen_duration_ns <= 0:
        return max(1, min_queries)
    if period_ns <= 0:
        raise UsageError("target QPS is so high that the query period rounds to 0 ns")
    reach = -(-gen_duration_ns // period_ns)  # smallest k with k * period >= duration
    return max(reach + 1, min_queries, 1)


def generate_queries(eff, loaded: LoadableSet, mode: TestMode) -> GeneratedQueries:
    """Generate one series' queries from the effective settings and the loaded set (§7)."""
    scenario = eff.scenario
    accuracy = mode is TestMode.AccuracyOnly
    unique, same = eff.performance_issue_unique, eff.performance_issue_same
    L = loaded.indices
    end = loaded.end

    gen_duration = eff.target_duration_ms * 1_000_000 * (1 if scenario is TestScenario.Server else 2)
    min_queries = eff.min_query_count
    spq = eff.samples_per_query
    if scenario is TestScenario.Offline and accuracy:
        spq = end
    if accuracy or unique or same:
        gen_duration = 0
        min_queries = len(L) // spq

    sample_words = rng.MT19937Words(eff.sample_index_rng_seed)
    stride = spq if scenario in _MULTI else 1
    positions = np.arange(0, end, stride, dtype=np.int64)
    main_order = None
    if accuracy:
        main_order = positions.copy()
        rng.shuffle(sample_words, main_order)
    unique_order = positions.copy()
    rng.shuffle(sample_words, unique_order)
    equal_issue = None
    if getattr(eff, "ruleset", "v1.1") == "v2.0":
        # r2.0 always builds its equal-issue sampler next, consuming the sample RNG even when
        # sample_concatenate_permutation is off (spec §15.5).
        equal_issue = _equal_issue_order(sample_words, min_queries, len(L))
    concatenate = getattr(eff, "sample_concatenate_permutation", False)
    if concatenate and scenario is TestScenario.Offline and spq % len(L):
        spq += len(L) - spq % len(L)  # whole copies of the loaded set, each shuffled below

    deltas = None
    period_ns = 0
    if scenario is TestScenario.Server:
        deltas, duration = rng.server_schedule(eff.schedule_rng_seed, eff.target_qps, gen_duration, min_queries)
        count = len(deltas)
    else:
        period_ns = rng.seconds_to_ns(1.0 / eff.target_qps)
        count = _fixed_period_count(period_ns, gen_duration, min_queries)
        duration = count * period_ns

    if scenario is TestScenario.Offline:
        indices = _offline_query(L, spq, same, eff.performance_issue_same_index)
        if concatenate and not same:
            for k in range(spq // len(L)):  # std::shuffle of each copy, in order
                block = indices[k * len(L) : (k + 1) * len(L)]
                rng.shuffle(sample_words, block)
        if accuracy and len(L) % spq:
            raise UsageError("Offline accuracy set size is not a multiple of the query size")
    else:
        if unique:
            starts = unique_order[np.arange(count) % len(unique_order)]
        elif same:
            starts = np.full(count, eff.performance_issue_same_index, dtype=np.int64)
        elif concatenate and scenario is TestScenario.SingleStream and equal_issue is not None:
            starts = equal_issue[np.arange(count) % len(equal_issue)]
        elif accuracy:
            starts = main_order[np.arange(count) % len(main_order)]
        else:
            starts = None
        if scenario in _MULTI:
            if starts is None:
                starts = rng.uniform_int_array(sample_words, 0, end - 1, count)
            window = starts[:, None] + np.arange(spq, dtype=np.int64)[None, :]
            indices = L[window].reshape(-1).astype(_index_dtype(L))
        elif starts is None:
            indices = _uniform_samples(sample_words, L, end, count)
        else:
            indices = L[starts].astype(_index_dtype(L))

    return GeneratedQueries(
        count=count,
        samples_per_query=spq,
        sample_indices=np.ascontiguousarray(indices),
        deltas=deltas,
        period_ns=period_ns,
        duration_ns=int(duration),
        logged_samples_per_query=eff.samples_per_query,
    )


def _equal_issue_order(words, min_queries: int, set_size: int) -> np.ndarray:
    """r2.0's equal-issue order: ``[0, set_size)`` shuffled in place once per started block of
    ``set_size`` among ``min_queries``, each state appended (so every loaded sample appears once
    per block). Empty when ``min_queries`` is 0."""
    order = list(range(set_size))
    blocks = []
    for _ in range(0, int(min_queries), max(set_size, 1)):
        rng.shuffle(words, order)
        blocks.append(np.array(order, dtype=np.int64))
    return np.concatenate(blocks) if blocks else np.empty(0, dtype=np.int64)


def _index_dtype(L: np.ndarray):
    """int32 halves the memory of long runs; QSL indices almost always fit in it."""
    return np.int32 if len(L) == 0 or int(L.max()) < 2**31 else np.int64


def _uniform_samples(words, L: np.ndarray, end: int, count: int) -> np.ndarray:
    """``L[uniform_int(0, end - 1)]`` for ``count`` queries, drawn in chunks to bound memory.

    Consecutive chunks consume the sample RNG exactly as one long run of draws would.
    """
    out = np.empty(count, dtype=_index_dtype(L))
    for lo in range(0, count, _SAMPLE_CHUNK):
        n = min(_SAMPLE_CHUNK, count - lo)
        out[lo : lo + n] = L[rng.uniform_int_array(words, 0, end - 1, n)]
    return out


def _offline_query(L: np.ndarray, spq: int, same: bool, same_index: int) -> np.ndarray:
    """The single Offline query: the loaded set repeated up to ``spq`` samples (§7.9)."""
    if not same:
        return np.resize(L.astype(_index_dtype(L)), spq)
    query = np.zeros(spq, dtype=_index_dtype(L))  # v1.1 quirk: slots past len(L) stay sample 0
    query[: min(len(L), spq)] = L[same_index]
    return query


def accuracy_log_probability(eff) -> float:
    """Probability that a performance-mode response is logged (§9.3)."""
    if eff.accuracy_log_sampling_target <= 0:
        return eff.accuracy_log_probability
    expected = int(eff.target_qps * eff.min_duration_ms / 1000)
    if eff.scenario is TestScenario.Offline:
        minimum = eff.min_sample_count
    else:
        expected *= eff.samples_per_query
        minimum = eff.min_query_count * eff.samples_per_query
    expected = max(expected, minimum)
    return eff.accuracy_log_sampling_target / expected if expected else 1.0


class AccuracyLogSampler:
    """The per-test value RNG deciding which responses reach the accuracy log (§9.3, §16).

    It is created once per test and advances by one canonical double per *generated* sample, in
    sequence-id order, across all series.
    """

    def __init__(self) -> None:
        self._words = rng.MT19937Words(DEFAULT_MT19937_SEED)

    def select(self, num_samples: int, probability: float, offset: float, log_all: bool) -> np.ndarray | None:
        """Draw values for ``num_samples`` samples; return the selected positions (None = all)."""
        chosen = []
        done = 0
        while done < num_samples:
            n = min(_VALUE_CHUNK, num_samples - done)
            values = rng.canonical_array(self._words, n)
            if not log_all and probability > 0:
                w = values + offset
                w = np.where(w < 1.0, w, w - 1.0)
                hits = np.flatnonzero(w <= probability)
                if len(hits):
                    chosen.append(hits + done)
            done += n
        if log_all:
            return None
        return np.concatenate(chosen).astype(np.int64) if chosen else np.empty(0, dtype=np.int64)
