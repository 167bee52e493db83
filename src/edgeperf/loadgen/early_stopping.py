"""Early stopping, as the v2.0 LoadGen evaluates it (spec loadgen.md §15.1-15.2).

From v2.0 on, a performance run of the SingleStream, MultiStream and Server scenarios is
only VALID if it also passes the *early stopping* criterion, and the SingleStream and
MultiStream headline results become early-stopping percentile *estimates*. Offline checks
nothing, but its summary and detail log still report the criterion as satisfied.

The statistics (MLPerf ``inference_rules.adoc``, appendix "Early Stopping Criterion"):
with a per-query under-latency rate ``p`` (the target percentile), a tolerance ``d`` and a
confidence ``c``, the chance that a minimally failing system (rate ``p - d``) shows at most
``t`` over-latency queries among ``h + t`` is the binomial CDF, which equals the regularized
incomplete beta function ``I_{p-d}(h, t + 1)`` (:func:`odds`). ``h(t)`` is the smallest ``h``
that makes this chance smaller than ``1 - c`` (:func:`find_min_passing`); LoadGen uses
``d = 0`` and ``c = 0.99``.

* **Server**: ``t`` = number of sample latencies above the target latency; the run passes iff
  ``queries_issued >= h(t) + t``.
* **SingleStream / MultiStream**: a run needs at least ``h(1) + 1`` queries; otherwise it
  fails. Else ``t`` is the largest count with ``queries_issued >= h(t) + t`` and the estimate
  is the ``(queries_issued - t)``-th smallest latency, i.e. the ``t - 1`` highest latencies are
  discarded (SingleStream: sample latencies, also a 99th-percentile estimate for inferring
  MultiStream; MultiStream: per-query latencies).

The summary texts and detail-log keys follow LoadGen v2.0 (``PerformanceSummary::
EarlyStopping`` and ``LogDetail``; the same texts live in ``loadgen/results.cc`` of later
rounds, where only the percentile label later gained a decimal, "90.0th", in v5.1).
Everything here is written from those facts; nothing is a copy of the C++ code.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from .enums import TestScenario

#: The confidence and tolerance LoadGen v2.0 hard-codes.
DEFAULT_CONFIDENCE = 0.99
DEFAULT_TOLERANCE = 0.0
#: SingleStream also estimates this percentile (to infer a MultiStream result from it).
SINGLE_STREAM_SECONDARY_PERCENTILE = 0.99

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


# ---------------------------------------------------------------------------------------
# Binomial CDF / regularized incomplete beta
# ---------------------------------------------------------------------------------------


def _stirling_error(n: int) -> float:
    """``log(n!) - [(n + 1/2) log n - n + log sqrt(2 pi)]`` (the Stirling-formula remainder).

    For large ``n`` the asymptotic series (coefficients B_2k / (2k (2k - 1))) is evaluated
    directly, which keeps full relative precision where ``lgamma`` differences would lose
    it (``lgamma(1e8)`` is ~1.7e9, so its rounding alone is ~2e-7).
    """
    if n <= 15:
        return math.lgamma(n + 1.0) - (n + 0.5) * math.log(n) + n - _LOG_SQRT_2PI
    x = float(n)
    inv2 = 1.0 / (x * x)
    # 1/12 - 1/(360 n^2) + 1/(1260 n^4) - 1/(1680 n^6) + 1/(1188 n^8), times 1/n
    series = 1.0 / 1188.0
    series = 1.0 / 1680.0 - series * inv2
    series = 1.0 / 1260.0 - series * inv2
    series = 1.0 / 360.0 - series * inv2
    series = 1.0 / 12.0 - series * inv2
    return series / x


def _deviance(x: float, mean: float) -> float:
    """``x log(x / mean) + mean - x`` without cancellation when ``x`` is close to ``mean``."""
    if abs(x - mean) < 0.1 * (x + mean):
        v = (x - mean) / (x + mean)
        total = (x - mean) * v
        term = 2.0 * x * v
        v2 = v * v
        j = 1
        while True:
            term *= v2
            nxt = total + term / (2 * j + 1)
            if nxt == total:
                return total
            total = nxt
            j += 1
    return x * math.log(x / mean) + mean - x


def _log_binomial_pmf(k: int, n: int, q: float, p: float) -> float:
    """``log[C(n, k) q^k p^(n-k)]`` with ``p + q = 1``, accurate for very large ``n``.

    Uses the saddle-point form of the binomial probability (Loader, "Fast and accurate
    computation of binomial probabilities", 2000).
    """
    if k == 0:
        return n * math.log(p)
    if k == n:
        return n * math.log(q)
    body = (
        _stirling_error(n)
        - _stirling_error(k)
        - _stirling_error(n - k)
        - _deviance(float(k), n * q)
        - _deviance(float(n - k), n * p)
    )
    return body + 0.5 * math.log(n / (2.0 * math.pi * k * (n - k)))


def _log_sum_of_run(n: int, p: float, q: float, k: int, downward: bool, log_first: float) -> float:
    """Log of the sum of binomial terms from ``k`` (whose log is ``log_first``) towards 0
    (``downward``) or towards ``n``, stopping once the rest is provably negligible.

    Neighbouring terms are chained by their ratios, which only shrink in the direction of
    travel once past the mode, so after the ratio drops below 1 the remainder is bounded by
    a geometric series. Sums run in vectorised blocks, in log space, so nothing overflows.
    """
    peak = 0.0  # sum = exp(log_first + peak) * acc, terms taken relative to the first
    acc = 1.0
    log_rel = 0.0  # relative log size of the last term summed
    end = 0 if downward else n
    sigma = math.sqrt(n * p * q)
    size = int(abs(k - (n + 1) * q) + 12.0 * sigma) + 64
    while k != end:
        if downward:
            stop = max(k - size, 0)
            j = np.arange(k, stop, -1, dtype=np.float64)  # term(j-1) / term(j)
            steps = np.log((j * p) / ((n - j + 1.0) * q))
        else:
            stop = min(k + size, n)
            j = np.arange(k, stop, dtype=np.float64)  # term(j+1) / term(j)
            steps = np.log(((n - j) * q) / ((j + 1.0) * p))
        rel = log_rel + np.cumsum(steps)
        top = float(rel.max())
        if top > peak:
            acc = acc * math.exp(peak - top) + float(np.exp(rel - top).sum())
            peak = top
        else:
            acc += float(np.exp(rel - peak).sum())
        log_rel = float(rel[-1])
        k = stop
        if k != end:
            r = k * p / ((n - k + 1.0) * q) if downward else (n - k) * q / ((k + 1.0) * p)
            if r < 1.0 and log_rel + math.log(r / (1.0 - r)) < peak + math.log(acc) - 50.0:
                break
        size *= 2
    return log_first + peak + math.log(acc)


def odds(h: int, t: int, p: float) -> float:
    """Probability of at most ``t`` over-latency queries among ``h + t`` when each query is
    under latency with probability ``p``; equals the regularized incomplete beta
    ``I_p(h, t + 1)``.

    Computed as the binomial CDF ``sum_{k<=t} C(h+t, k) (1-p)^k p^(h+t-k)`` in log space:
    the boundary term in saddle-point form, its neighbours from it by their ratios. Below
    the mode the terms ``k <= t`` are summed; above it, ``1 -`` the terms ``k > t`` (so
    values near 1 keep their accuracy too). Stable for ``h + t`` up to ~1e15. Edge cases
    follow the limits of ``I_p(h, t + 1)``: 1 for ``h <= 0``, 0 for ``t < 0``; ``p <= 0``
    gives 0 and ``p >= 1`` gives 1 (for ``h > 0``).
    """
    h = int(h)
    t = int(t)
    p = float(p)
    if t < 0:
        return 0.0
    if h <= 0:
        return 1.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    q = 1.0 - p
    n = h + t
    if t < (n + 1) * q:  # t is below the mode: the lower tail is the small side
        log_first = _log_binomial_pmf(t, n, q, p)
        if t == 0:
            return min(1.0, math.exp(log_first))
        return min(1.0, math.exp(_log_sum_of_run(n, p, q, t, True, log_first)))
    log_first = _log_binomial_pmf(t + 1, n, q, p)
    if t + 1 == n:
        return max(0.0, 1.0 - math.exp(log_first))
    return max(0.0, 1.0 - math.exp(_log_sum_of_run(n, p, q, t + 1, False, log_first)))


# ---------------------------------------------------------------------------------------
# Minimum passing query count
# ---------------------------------------------------------------------------------------


class MinPassingQueriesFinder:
    """Finds ``h(t)``, the smallest ``h`` with ``odds(h, t, p - d) < 1 - c``, the way LoadGen
    does: a binary search over a bracket extrapolated from earlier answers, with a cache
    per ``(p, d, c)``.

    The bracket for ``t`` is built from the two largest cached ``t`` below it, ``x1 > x0``
    (seeded with ``(0, ceil(ln(1 - c) / ln(p - d)))`` and ``(-1, 0)``):
    ``low = trunc((t - x1) * (p - d) / (1 - p + d) + h(x1))`` and
    ``high = trunc((t - x1) * (h(x1) - h(x0)) * (x1 - x0) + h(x1) + 1)``; the search returns
    the first ``h`` in ``[low, high)`` that passes, or ``high`` if none does (LoadGen's
    behaviour; with correct brackets it is the true minimum).
    """

    def __init__(self) -> None:
        self._caches: dict[tuple[float, float, float], tuple[list[int], dict[int, int]]] = {}

    def __call__(
        self,
        t: int,
        p: float,
        tolerance: float = DEFAULT_TOLERANCE,
        confidence: float = DEFAULT_CONFIDENCE,
    ) -> int:
        t = int(t)
        keys, values = self._caches.setdefault((float(p), float(tolerance), float(confidence)), ([], {}))
        if t in values:
            return values[t]
        rate = p - tolerance
        threshold = 1 - confidence
        if not (0.0 < rate < 1.0 and 0.0 < threshold < 1.0):
            raise ValueError(f"need 0 < p - tolerance < 1 and 0 < confidence < 1, got {p}, {tolerance}, {confidence}")
        x0, y0 = -1, 0
        x1, y1 = 0, math.ceil(math.log(threshold) / math.log(rate))
        below = bisect.bisect_left(keys, t)
        if below >= 1:
            x1 = keys[below - 1]
            y1 = values[x1]
        if below >= 2:
            x0 = keys[below - 2]
            y0 = values[x0]
        min_slope = rate / (1 - p + tolerance)
        max_slope = float((y1 - y0) * (x1 - x0))
        low = int((t - x1) * min_slope + y1)
        high = int((t - x1) * max_slope + y1 + 1)
        h = _lower_bound(low, high, t, rate, threshold)
        bisect.insort(keys, t)
        values[t] = h
        return h


def _lower_bound(low: int, high: int, t: int, rate: float, threshold: float) -> int:
    """First ``h`` in ``[low, high)`` with ``odds(h, t, rate) < threshold``, else ``high``."""
    count = high - low
    while count > 0:
        step = count // 2
        h = low + step
        if odds(h, t, rate) < threshold:
            count = step
        else:
            low = h + 1
            count -= step + 1
    return low


def find_min_passing(
    t: int,
    p: float,
    tolerance: float = DEFAULT_TOLERANCE,
    confidence: float = DEFAULT_CONFIDENCE,
) -> int:
    """Smallest ``h`` with ``odds(h, t, p - tolerance) < 1 - confidence``.

    Found as a fresh :class:`MinPassingQueriesFinder` finds it (the Server call: one query,
    empty cache), so the answer does not depend on earlier calls.
    """
    return MinPassingQueriesFinder()(t, p, tolerance, confidence)


def _percentile_label(p: float) -> str:
    """``DoubleToString(p * 100, 0)``: ``0.9 -> "90"``, ``0.99 -> "99"``."""
    return f"{p * 100:.0f}"


def max_discardable(queries: int, p: float) -> int:
    """The ``t`` SingleStream/MultiStream early stopping settles on for ``queries`` queries
    (assuming ``queries >= h(1) + 1``): one more than the number of highest latencies it
    discards.

    LoadGen walks ``i = 2, 3, ...`` and stops at the first ``i`` with
    ``queries < h(i) + i``, giving ``t = i - 1`` (``t = 1`` if the walk ends without
    stopping). ``h(i) + i`` strictly increases with ``i`` (``h`` itself never falls: one
    more allowed failure needs about ``p / (1 - p)`` more passes), so that first ``i`` is
    found here by bisection instead of a walk of ``~queries * (1 - p)`` steps; the tests
    check both give the same ``t``.
    """
    queries = int(queries)
    if queries < 2:
        return 1
    lo, hi = 2, queries  # h(queries) >= 1, so i = queries always stops the walk
    while lo < hi:
        mid = (lo + hi) // 2
        if queries < find_min_passing(mid, p) + mid:
            hi = mid
        else:
            lo = mid + 1
    return lo - 1


# ---------------------------------------------------------------------------------------
# Scenario evaluation
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EarlyStoppingResult:
    """Outcome of the early-stopping check of one performance series.

    ``summary_lines`` are the lines LoadGen prints under ``Early Stopping Result:`` in
    ``mlperf_log_summary.txt``. ``records`` are the detail-log ``(key, value)`` pairs in
    LoadGen's relative order: ``early_stopping_result`` (the summary text with newlines
    replaced by spaces), ``result_query_count``, Server ``result_overlatency_query_count``,
    then SingleStream ``early_stopping_latency_ss`` and ``early_stopping_latency_ms`` or
    MultiStream ``early_stopping_latency_ms``. (LoadGen logs ``early_stopping_met`` from
    ``met`` before these, and the two latency keys after the scenario's QPS records.)
    ``estimate_ns`` is the target-percentile estimate (SingleStream/MultiStream when met).
    """

    met: bool
    summary_lines: tuple[str, ...]
    records: tuple[tuple[str, object], ...]
    estimate_ns: int | None = None

    @property
    def text(self) -> str:
        """The recommendation as one string (lines joined by newlines)."""
        return "\n".join(self.summary_lines)


def _sorted_latencies(values) -> np.ndarray:
    return np.sort(np.asarray(values, dtype=np.int64), kind="stable")


def _estimate_block(queries: int, latencies: np.ndarray, p: float):
    """(met, lines, estimate) of the SingleStream/MultiStream target-percentile estimate."""
    h_min = find_min_passing(1, p)
    if queries < h_min + 1:
        lines = [
            f" * Only processed {queries} queries.",
            f" * Need to process at least {h_min + 1} queries for early stopping.",
        ]
        return False, lines, None
    t = max_discardable(queries, p)
    index = queries - t
    if not 0 <= index < len(latencies):
        raise ValueError(f"{len(latencies)} latencies cannot give the estimate for {queries} queries")
    estimate = int(latencies[index])
    lines = [
        f" * Processed at least {h_min + 1} queries ({queries}).",
        f" * Would discard {t - 1} highest latency queries.",
        f" * Early stopping {_percentile_label(p)}th percentile estimate: {estimate}",
    ]
    return True, lines, estimate


def _secondary_block(queries: int, latencies: np.ndarray, p: float):
    """(lines, estimate) of SingleStream's extra 99th-percentile estimate."""
    h_min = find_min_passing(1, p)
    label = _percentile_label(p)
    if queries < h_min + 1:
        lines = [
            f" * Not enough queries processed for {label}th percentile",
            " early stopping estimate (would need to process at",
            f" least {h_min + 1} total queries).",
        ]
        return lines, 0
    t = max_discardable(queries, p)
    estimate = int(latencies[queries - t])
    return [f" * Early stopping {label}th percentile estimate: {estimate}"], estimate


def _result(met: bool, lines: list[str], tail: list[tuple[str, object]], estimate: int | None) -> EarlyStoppingResult:
    text = " ".join(lines)  # the detail log turns the '\n' between lines into ' '
    records: list[tuple[str, object]] = [("early_stopping_result", text)]
    records.extend(tail)
    return EarlyStoppingResult(met=met, summary_lines=tuple(lines), records=tuple(records), estimate_ns=estimate)


def early_stopping(
    scenario: TestScenario,
    queries_issued: int,
    target_latency_percentile: float,
    target_latency_ns: int,
    sample_latencies: np.ndarray,
    query_latencies: np.ndarray | None = None,
) -> EarlyStoppingResult | None:
    """The v2.0 early-stopping verdict for one series; ``None`` for the v1.1-only
    MultiStreamFree. Offline always passes, with no summary text (as in r2.0)."""
    n = int(queries_issued)
    p = float(target_latency_percentile)
    samples = _sorted_latencies(sample_latencies)
    # LoadGen reports result_query_count only once there are latencies to process.
    query_count = n if len(samples) else 0

    if scenario is TestScenario.Server:
        over = int(np.count_nonzero(samples > int(target_latency_ns)))
        h = find_min_passing(over, p)
        if n >= h + over:
            lines = [" * Run successful."]
            met = True
        else:
            lines = [
                " * Run unsuccessful.",
                f" * Processed {n} queries.",
                f" * Would need to run at least {h + over - n} more queries,",
                " with the run being successful if every additional",
                " query were under latency.",
            ]
            met = False
        tail = [("result_query_count", query_count), ("result_overlatency_query_count", over)]
        return _result(met, lines, tail, None)

    if scenario is TestScenario.SingleStream:
        met, lines, estimate = _estimate_block(n, samples, p)
        latency_ss = estimate if estimate is not None else 0
        latency_ms = 0
        if met:
            extra, latency_ms = _secondary_block(n, samples, SINGLE_STREAM_SECONDARY_PERCENTILE)
            lines = lines + extra
        tail = [
            ("result_query_count", query_count),
            ("early_stopping_latency_ss", latency_ss),
            ("early_stopping_latency_ms", latency_ms),
        ]
        return _result(met, lines, tail, estimate)

    if scenario is TestScenario.MultiStream:
        if query_latencies is None:
            raise ValueError("MultiStream early stopping needs the per-query latencies")
        queries = _sorted_latencies(query_latencies)
        met, lines, estimate = _estimate_block(n, queries, p)
        tail = [
            ("result_query_count", query_count),
            ("early_stopping_latency_ms", estimate if estimate is not None else 0),
        ]
        return _result(met, lines, tail, estimate)

    if scenario is TestScenario.Offline:
        # r2.0 checks nothing for Offline but still reports the criterion as met, with an
        # empty result text, in the summary and the detail log.
        return EarlyStoppingResult(
            met=True, summary_lines=(), records=(("early_stopping_result", ""), ("result_query_count", query_count))
        )

    return None


def evaluate(result, eff, sample_latencies: np.ndarray, query_latencies: np.ndarray | None = None):
    """Attach the v2.0 early-stopping verdict to a :class:`~edgeperf.loadgen.metrics.PerformanceResult`.

    ``eff`` supplies ``scenario``, ``target_latency_percentile`` and ``target_latency_ns``;
    the latency arrays are the series' raw ones (SingleStream/Server: sample latencies;
    MultiStream: also the per-query latencies). Returns a copy of ``result`` whose
    ``early_stopping`` is an :class:`EarlyStoppingResult`, which
    ``PerformanceResult.valid`` then includes (always met for Offline). Always applies the
    v2.0 rules: call it only
    for ``ruleset="v2.0"`` series.
    """
    verdict = early_stopping(
        eff.scenario,
        result.queries_issued,
        eff.target_latency_percentile,
        eff.target_latency_ns,
        sample_latencies,
        query_latencies,
    )
    return dataclasses.replace(result, early_stopping=verdict)
