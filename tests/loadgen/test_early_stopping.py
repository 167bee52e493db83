"""Tests for edgeperf.loadgen.early_stopping (spec loadgen.md §15.2).

Expected values come from
* exact rational arithmetic (``fractions`` / ``math.comb``) and a 60-digit ``decimal``
  evaluation of the binomial CDF, written independently below;
* closed forms of the regularized incomplete beta (``I_p(h, 1) = p^h``,
  ``I_p(1, t + 1) = 1 - (1 - p)^(t + 1)``);
* the MLPerf inference rules' appendix "Early Stopping Criterion" (definition of ``h(t)``,
  ``d = 0``, ``c = 0.99``) and the LoadGen ``early_stopping.cc`` search (t = 0 seed
  ``ceil(ln(1 - c) / ln p)``);
* numbers printed by the official LoadGen in real ``mlperf_log_summary.txt`` files
  ("Processed at least 64 queries", "least 662 total queries", "Would discard K highest
  latency queries" for a given query count, Server "Would need to run at least N more
  queries").
"""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeperf.loadgen.early_stopping import (
    EarlyStoppingResult,
    MinPassingQueriesFinder,
    evaluate,
    find_min_passing,
    max_discardable,
    odds,
)
from edgeperf.loadgen.enums import TestScenario
from edgeperf.loadgen.metrics import PerformanceResult, latency_stats

THRESHOLD = 1 - 0.99  # LoadGen compares odds < 1 - confidence


# ---------------------------------------------------------------------------------------
# Independent references
# ---------------------------------------------------------------------------------------


def exact_odds(h: int, t: int, p: float) -> Fraction:
    """P(at most t failures in h + t trials), failure probability 1 - p, exactly."""
    pp = Fraction(p)
    qq = 1 - pp
    n = h + t
    return sum(math.comb(n, k) * qq**k * pp ** (n - k) for k in range(t + 1))


def decimal_odds(h: int, t: int, p: float) -> Decimal:
    """The same CDF to ~50 significant digits, for sizes where fractions are too slow."""
    with localcontext() as ctx:
        ctx.prec = 60
        frac = Fraction(p)
        pp = Decimal(frac.numerator) / Decimal(frac.denominator)
        qq = 1 - pp
        n = h + t
        term = Decimal(math.comb(n, t)) * qq**t * pp ** (n - t)
        total = term
        for k in range(t, 0, -1):
            term = term * Decimal(k) * pp / (Decimal(n - k + 1) * qq)
            total += term
            if term < total * Decimal("1e-45"):
                break
        return +total


def brute_min_passing(t: int, p: float) -> int:
    """Smallest h with exact odds below 1 - c, by a plain upward scan."""
    limit = Fraction(THRESHOLD)
    h = 0
    while exact_odds(h, t, p) >= limit if h > 0 else True:
        h += 1
    return h


def official_walk(queries: int, p: float) -> int:
    """LoadGen's SingleStream/MultiStream loop: i = 2, 3, ... with one cached finder,
    stopping at the first i with queries < h(i) + i; returns t = i - 1 (1 if it never stops)."""
    finder = MinPassingQueriesFinder()
    finder(1, p)
    for i in range(2, queries + 1):
        if queries < finder(i, p) + i:
            return i - 1
    return 1


# ---------------------------------------------------------------------------------------
# odds()
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "h,t,p",
    [
        (1, 0, 0.9),
        (44, 0, 0.9),
        (63, 1, 0.9),
        (79, 2, 0.9),
        (661, 1, 0.99),
        (10, 5, 0.5),
        (200, 30, 0.9),
        (150, 150, 0.3),
        (5, 40, 0.97),
        (1000, 3, 0.999),
        (3, 300, 0.999),
    ],
)
def test_odds_matches_exact_binomial_cdf(h, t, p):
    ref = exact_odds(h, t, p)
    got = odds(h, t, p)
    assert abs(Fraction(got) - ref) <= Fraction(1, 10**12) * min(ref, 1 - ref) + Fraction(1, 10**16)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    h=st.integers(1, 400),
    t=st.integers(0, 120),
    p=st.sampled_from([0.5, 0.9, 0.95, 0.97, 0.99, 0.999]) | st.floats(0.05, 0.995),
)
def test_odds_matches_exact_binomial_cdf_random(h, t, p):
    ref = exact_odds(h, t, p)
    got = odds(h, t, p)
    # relative accuracy on the smaller of the CDF and its complement; below 1e-290 the
    # result may be subnormal, where doubles cannot hold 11 digits
    tolerance = Fraction(1, 10**11) * min(ref, 1 - ref) + Fraction(1, 10**16) * ref
    assert abs(Fraction(got) - ref) <= tolerance or (ref < Fraction(1, 10**290) and got < 1e-290)


@pytest.mark.parametrize(
    "h,t,p",
    [
        (90_000, 10_000, 0.9),  # near the median of the distribution
        (2_000_000, 20_000, 0.99),  # a long Server run, far tail
        (1_120_000, 11_539, 0.99),  # the size of a real MultiStream run (1179125 queries)
        (120_000, 1_000, 0.99),
    ],
)
def test_odds_is_accurate_for_large_counts(h, t, p):
    ref = decimal_odds(h, t, p)
    got = odds(h, t, p)
    assert abs(Decimal(got) - ref) <= Decimal("1e-11") * ref


@pytest.mark.parametrize("p", [0.5, 0.9, 0.99])
@pytest.mark.parametrize("h", [1, 7, 44, 459])
def test_odds_closed_forms_of_incomplete_beta(h, p):
    # I_p(h, 1) = p^h: no over-latency query allowed
    assert odds(h, 0, p) == pytest.approx(p**h, rel=1e-13)
    # I_p(1, t + 1) = 1 - (1 - p)^(t + 1): at most t failures among t + 1 trials
    t = h
    assert odds(1, t, p) == pytest.approx(1 - (1 - p) ** (t + 1), rel=1e-13)


def test_odds_degenerate_arguments():
    assert odds(0, 5, 0.9) == 1.0  # t queries can hold at most t failures
    assert odds(-3, 5, 0.9) == 1.0
    assert odds(10, -1, 0.9) == 0.0
    assert odds(10, 3, 1.0) == 1.0
    assert odds(10, 3, 0.0) == 0.0


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 5000), t=st.integers(0, 500), p=st.sampled_from([0.9, 0.99, 0.97]))
def test_odds_monotone_in_h_and_t(h, t, p):
    here = odds(h, t, p)
    assert 0.0 <= here <= 1.0
    assert odds(h + 1, t, p) <= here  # more under-latency queries: less likely
    assert odds(h, t + 1, p) >= here  # a looser bound on failures: more likely


# ---------------------------------------------------------------------------------------
# find_min_passing()
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.9, 0.99, 0.97, 0.95, 0.5])
def test_t0_is_the_official_seed(p):
    # early_stopping.cc seeds the search with ceil(ln(1 - c) / ln p) for t = 0
    seed = math.ceil(math.log(1 - 0.99) / math.log(p))
    assert find_min_passing(0, p) == seed
    assert p**seed < THRESHOLD <= p ** (seed - 1)


def test_published_minimum_query_counts():
    # Real LoadGen summaries: SingleStream "Processed at least 64 queries" (90th percentile),
    # "would need to process at least 662 total queries" (99th), Server runs with no
    # over-latency query "Processed 21 queries ... at least 438 more" (21 + 438 = 459).
    assert find_min_passing(1, 0.9) + 1 == 64
    assert find_min_passing(1, 0.99) + 1 == 662
    assert find_min_passing(0, 0.99) + 0 == 21 + 438
    assert find_min_passing(0, 0.99) + 0 == 300 + 159
    # "Processed 100 queries. Would need to run at least 12471 more queries": every one of
    # the 100 queries was over latency (its min latency exceeded the bound).
    assert find_min_passing(100, 0.99) + 100 == 100 + 12471


@pytest.mark.parametrize("t,p", [(0, 0.9), (1, 0.9), (2, 0.9), (0, 0.5), (1, 0.5), (4, 0.5), (0, 0.99)])
def test_find_min_passing_is_the_exact_minimum(t, p):
    assert find_min_passing(t, p) == brute_min_passing(t, p)


@pytest.mark.parametrize("t,p", [(1, 0.99), (3, 0.99), (5, 0.99), (10, 0.9), (40, 0.9), (25, 0.97)])
def test_find_min_passing_straddles_the_threshold_exactly(t, p):
    # the CDF falls as h grows, so h(t) is minimal iff it passes and h(t) - 1 does not
    h = find_min_passing(t, p)
    assert exact_odds(h, t, p) < Fraction(THRESHOLD) <= exact_odds(h - 1, t, p)


@pytest.mark.parametrize("p", [0.9, 0.99, 0.97])
def test_cached_sequential_search_agrees_with_fresh_search(p):
    finder = MinPassingQueriesFinder()
    seq = [finder(t, p) for t in range(1, 400)]
    fresh = [find_min_passing(t, p) for t in range(1, 400, 37)]
    assert fresh == seq[::37]
    for t, h in zip(range(1, 400), seq):
        assert odds(h, t, p) < THRESHOLD <= odds(h - 1, t, p)
    # asking again hits the cache and returns the same value
    assert finder(200, p) == seq[199]
    # h(t) grows by at least p / (1 - p) per extra over-latency query
    assert min(np.diff(seq)) >= math.floor(p / (1 - p))


def test_tolerance_and_confidence_are_honoured():
    # d lowers the rate of the minimally failing system to p - d
    assert find_min_passing(3, 0.99, tolerance=0.09) == find_min_passing(3, 0.9)
    # lower confidence needs fewer queries; the seed follows ln(1 - c)
    assert find_min_passing(0, 0.9, confidence=0.9) == math.ceil(math.log(0.1) / math.log(0.9)) == 22
    assert find_min_passing(5, 0.9, confidence=0.9) < find_min_passing(5, 0.9)
    with pytest.raises(ValueError):
        find_min_passing(1, 1.0)  # a 100th percentile can never be shown with confidence


# ---------------------------------------------------------------------------------------
# The SingleStream / MultiStream discard count
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "queries,p,discarded",
    [
        # SingleStream, 90th percentile, from real LoadGen summaries
        (100, 0.9, 2),
        (201, 0.9, 9),
        (659, 0.9, 47),
        (708, 0.9, 51),
        (2048, 0.9, 172),
        (2116, 0.9, 178),
        (2145, 0.9, 181),
        (7469, 0.9, 685),
        (79944, 0.9, 7796),
        # MultiStream (v2.0 definition), 99th percentile
        (1_179_125, 0.99, 11539),
        (2_091_550, 0.99, 20579),
    ],
)
def test_discard_counts_of_real_runs(queries, p, discarded):
    assert max_discardable(queries, p) - 1 == discarded


@pytest.mark.parametrize("p", [0.9, 0.99])
def test_bisection_equals_the_official_walk(p):
    rng = np.random.default_rng(7)
    lo = find_min_passing(1, p) + 1
    counts = sorted({lo, lo + 1, *rng.integers(lo, 60 * lo, size=25).tolist()})
    for n in counts:
        assert max_discardable(n, p) == official_walk(n, p), n


# ---------------------------------------------------------------------------------------
# evaluate()
# ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class Eff:
    scenario: TestScenario
    target_latency_percentile: float
    target_latency_ns: int = 0


def make_result(scenario, sample_latencies, queries_issued, query_latencies=None, p=0.9):
    return PerformanceResult(
        scenario=scenario,
        samples_per_query=1,
        queries_issued=queries_issued,
        sample_stats=latency_stats(np.asarray(sample_latencies), p),
        query_stats=None if query_latencies is None else latency_stats(np.asarray(query_latencies), p),
        interval_stats=None,
        min_duration_met=True,
        min_queries_met=True,
        perf_constraints_met=None,
        recommendations=(),
    )


def shuffled(n, start=1_000_000, seed=1):
    values = start + 1000 * np.arange(n, dtype=np.int64)  # distinct, easy to index
    np.random.default_rng(seed).shuffle(values)
    return values


def test_single_stream_small_run_summary_and_records():
    lat = shuffled(201)
    res = make_result(TestScenario.SingleStream, lat, 201)
    out = evaluate(res, Eff(TestScenario.SingleStream, 0.9), lat, None)
    es = out.early_stopping
    assert isinstance(es, EarlyStoppingResult)
    ordered = np.sort(lat)
    estimate = int(ordered[201 - 10])  # 9 discarded -> t = 10
    assert es.met is True and out.valid is True
    assert es.estimate_ns == estimate
    assert es.summary_lines == (
        " * Processed at least 64 queries (201).",
        " * Would discard 9 highest latency queries.",
        f" * Early stopping 90th percentile estimate: {estimate}",
        " * Not enough queries processed for 99th percentile",
        " early stopping estimate (would need to process at",
        " least 662 total queries).",
    )
    assert es.records == (
        ("early_stopping_result", " ".join(es.summary_lines)),
        ("result_query_count", 201),
        ("early_stopping_latency_ss", estimate),
        ("early_stopping_latency_ms", 0),
    )
    # everything else of the result is untouched
    assert dataclasses.replace(out, early_stopping=None) == res


def test_single_stream_long_run_also_estimates_99th():
    n = 7469
    lat = shuffled(n, seed=3)
    res = make_result(TestScenario.SingleStream, lat, n)
    es = evaluate(res, Eff(TestScenario.SingleStream, 0.9), lat, None).early_stopping
    ordered = np.sort(lat)
    t90 = 686  # 685 discarded in the real run of this size
    t99 = official_walk(n, 0.99)
    assert es.summary_lines == (
        " * Processed at least 64 queries (7469).",
        " * Would discard 685 highest latency queries.",
        f" * Early stopping 90th percentile estimate: {ordered[n - t90]}",
        f" * Early stopping 99th percentile estimate: {ordered[n - t99]}",
    )
    assert dict(es.records)["early_stopping_latency_ms"] == int(ordered[n - t99])
    assert dict(es.records)["early_stopping_latency_ss"] == int(ordered[n - t90])


def test_single_stream_too_few_queries_fails():
    lat = shuffled(63)
    res = make_result(TestScenario.SingleStream, lat, 63)
    out = evaluate(res, Eff(TestScenario.SingleStream, 0.9), lat, None)
    es = out.early_stopping
    assert es.met is False and out.valid is False
    assert es.estimate_ns is None
    assert es.summary_lines == (
        " * Only processed 63 queries.",
        " * Need to process at least 64 queries for early stopping.",
    )
    assert es.records == (
        (
            "early_stopping_result",
            " * Only processed 63 queries.  * Need to process at least 64 queries for early stopping.",
        ),
        ("result_query_count", 63),
        ("early_stopping_latency_ss", 0),
        ("early_stopping_latency_ms", 0),
    )


def test_single_stream_boundary_keeps_every_query():
    lat = shuffled(64)
    res = make_result(TestScenario.SingleStream, lat, 64)
    es = evaluate(res, Eff(TestScenario.SingleStream, 0.9), lat, None).early_stopping
    assert es.met is True
    assert es.summary_lines[1] == " * Would discard 0 highest latency queries."
    assert es.estimate_ns == int(lat.max())


def test_single_stream_other_target_percentile_label():
    lat = shuffled(500)
    res = make_result(TestScenario.SingleStream, lat, 500)
    es = evaluate(res, Eff(TestScenario.SingleStream, 0.95), lat, None).early_stopping
    h1 = find_min_passing(1, 0.95)
    assert es.summary_lines[0] == f" * Processed at least {h1 + 1} queries (500)."
    assert es.summary_lines[2].startswith(" * Early stopping 95th percentile estimate: ")


def test_multi_stream_uses_query_latencies_at_99th():
    n = 700
    queries = shuffled(n, start=5_000_000, seed=4)
    samples = np.repeat(queries, 8) - 7  # per-sample latencies must not be used
    res = make_result(TestScenario.MultiStream, samples, n, queries, p=0.99)
    out = evaluate(res, Eff(TestScenario.MultiStream, 0.99), samples, queries)
    es = out.early_stopping
    t = official_walk(n, 0.99)
    estimate = int(np.sort(queries)[n - t])
    assert es.met is True and out.valid is True
    assert es.summary_lines == (
        " * Processed at least 662 queries (700).",
        f" * Would discard {t - 1} highest latency queries.",
        f" * Early stopping 99th percentile estimate: {estimate}",
    )
    assert es.records == (
        ("early_stopping_result", " ".join(es.summary_lines)),
        ("result_query_count", n),
        ("early_stopping_latency_ms", estimate),
    )


def test_multi_stream_too_few_queries_and_missing_array():
    queries = shuffled(661)
    res = make_result(TestScenario.MultiStream, queries, 661, queries, p=0.99)
    es = evaluate(res, Eff(TestScenario.MultiStream, 0.99), queries, queries).early_stopping
    assert es.met is False
    assert es.summary_lines == (
        " * Only processed 661 queries.",
        " * Need to process at least 662 queries for early stopping.",
    )
    assert dict(es.records)["early_stopping_latency_ms"] == 0
    with pytest.raises(ValueError):
        evaluate(res, Eff(TestScenario.MultiStream, 0.99), queries, None)


def test_server_success_counts_only_strictly_over_latency():
    target = 10_000_000
    lat = np.full(459, target, dtype=np.int64)  # equal to the bound: not over latency
    res = make_result(TestScenario.Server, lat, 459, p=0.99)
    out = evaluate(res, Eff(TestScenario.Server, 0.99, target), lat, None)
    es = out.early_stopping
    assert es.met is True and out.valid is True
    assert es.summary_lines == (" * Run successful.",)
    assert es.estimate_ns is None
    assert es.records == (
        ("early_stopping_result", " * Run successful."),
        ("result_query_count", 459),
        ("result_overlatency_query_count", 0),
    )


def test_server_failure_texts():
    target = 10_000_000
    lat = np.full(459, target, dtype=np.int64)
    lat[17] = target + 1  # one query over latency: now h(1) + 1 = 662 queries are needed
    res = make_result(TestScenario.Server, lat, 459, p=0.99)
    out = evaluate(res, Eff(TestScenario.Server, 0.99, target), lat, None)
    es = out.early_stopping
    assert es.met is False and out.valid is False
    assert es.summary_lines == (
        " * Run unsuccessful.",
        " * Processed 459 queries.",
        " * Would need to run at least 203 more queries,",
        " with the run being successful if every additional",
        " query were under latency.",
    )
    assert es.records == (
        (
            "early_stopping_result",
            " * Run unsuccessful.  * Processed 459 queries.  * Would need to run at least"
            " 203 more queries,  with the run being successful if every additional  query were under latency.",
        ),
        ("result_query_count", 459),
        ("result_overlatency_query_count", 1),
    )


def test_server_real_run_all_over_latency():
    # a real summary: 100 queries, min latency far above the bound
    target = 100_000_000
    lat = np.linspace(121_384_491, 2_398_618_166, 100).astype(np.int64)
    res = make_result(TestScenario.Server, lat, 100, p=0.99)
    es = evaluate(res, Eff(TestScenario.Server, 0.99, target), lat, None).early_stopping
    assert es.summary_lines[1:3] == (
        " * Processed 100 queries.",
        " * Would need to run at least 12471 more queries,",
    )
    assert dict(es.records)["result_overlatency_query_count"] == 100


def test_offline_early_stopping_is_always_met_without_text():
    # r2.0 EarlyStopping() checks nothing for Offline and returns true with an empty
    # recommendation; LogDetail still writes early_stopping_result and result_query_count.
    lat = shuffled(10)
    res = make_result(TestScenario.Offline, lat, 1)
    out = evaluate(res, Eff(TestScenario.Offline, 0.9), lat, None)
    es = out.early_stopping
    assert es.met is True and es.summary_lines == ()
    assert es.records == (("early_stopping_result", ""), ("result_query_count", 1))
    assert dataclasses.replace(out, early_stopping=None) == res


@settings(max_examples=25, deadline=None)
@given(n=st.integers(64, 3000), seed=st.integers(0, 2**32 - 1))
def test_estimate_is_never_below_the_plain_percentile(n, seed):
    lat = np.random.default_rng(seed).integers(1, 10**9, size=n)
    res = make_result(TestScenario.SingleStream, lat, n)
    es = evaluate(res, Eff(TestScenario.SingleStream, 0.9), lat, None).early_stopping
    ordered = np.sort(lat)
    assert es.met is True
    assert es.estimate_ns >= int(ordered[int(n * 0.9)])
    assert es.estimate_ns == int(ordered[n - max_discardable(n, 0.9)])
