"""Effective settings: what the engine actually runs with (spec loadgen.md §4), and the
``requested_*`` / ``effective_*`` detail-log records and summary "Test Parameters Used" lines
that show them (§12.1, §12.2 items 5-6).

Arithmetic follows the C++ types of the official ``TestSettingsInternal``: unsigned 64-bit
counters wrap, durations are signed 64-bit, double → integer conversions truncate.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from .config import _f64_to_u64
from .enums import TestMode, TestScenario
from .errors import SettingsError
from .settings import TestSettings
from ..errors import UsageError

__all__ = [
    "EffectiveSettings",
    "compute_effective",
    "requested_records",
    "effective_records",
    "test_parameters_lines",
    "OFFLINE_SLACK",
]

_MASK64 = (1 << 64) - 1
_INT64_MIN = -(1 << 63)

#: Offline generates this many times (min duration × expected qps) samples (§4 step 3).
OFFLINE_SLACK = 1.1


def _u64(x: int) -> int:
    return int(x) & _MASK64


def _i64(x: int) -> int:
    x = int(x) & _MASK64
    return x - (1 << 64) if x >> 63 else x


def _f64_to_i64(x: float) -> int:
    """static_cast<int64_t>(double) on x86-64: truncation; NaN / out of range give INT64_MIN."""
    if math.isnan(x) or not (-(2.0**63) <= x < 2.0**63):
        return _INT64_MIN
    return int(x)


def _div(a: float, b: float) -> float:
    """IEEE double division (C++ semantics; Python raises on division by zero)."""
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _g(x: float) -> str:
    """C++ ``ostream << double`` with default precision: printf ``%g``."""
    return "%g" % x


@dataclass(frozen=True)
class EffectiveSettings:
    """The settings the engine runs with, derived from :class:`TestSettings` by
    :func:`compute_effective` (spec §4). Mirrors the official ``TestSettingsInternal``
    plus the Server, ruleset and edgeperf fields the engine needs.

    Offline: ``samples_per_query`` is the size of the single query, ``min_query_count`` is 1
    and ``target_duration_ms`` 0. ``min_sample_count = min_query_count * samples_per_query``.
    """

    scenario: TestScenario
    mode: TestMode
    samples_per_query: int
    target_qps: float
    target_latency_ns: int
    target_latency_percentile: float
    max_async_queries: int
    target_duration_ms: int
    min_duration_ms: int
    max_duration_ms: int
    min_query_count: int
    max_query_count: int
    min_sample_count: int
    qsl_rng_seed: int
    sample_index_rng_seed: int
    schedule_rng_seed: int
    accuracy_log_rng_seed: int
    accuracy_log_probability: float
    accuracy_log_sampling_target: int
    print_timestamps: bool
    performance_issue_unique: bool
    performance_issue_same: bool
    performance_issue_same_index: int
    performance_sample_count: int
    ruleset: str = "v1.1"
    server_coalesce_queries: bool = False
    server_find_peak_qps_decimals_of_precision: int = 1
    server_find_peak_qps_boundary_step_size: float = 1.0
    server_num_issue_query_threads: int = 0
    sut_stall_timeout_s: float = 300.0
    sample_concatenate_permutation: bool = False  # v2.0 only (§15.5)

    def with_changes(self, **changes: Any) -> "EffectiveSettings":
        """A copy with some fields replaced (``dataclasses.replace``); used by FindPeak."""
        return dataclasses.replace(self, **changes)

    @property
    def early_stopping(self) -> bool:
        """True when validity includes the v2.0 early-stopping criterion (§15.2)."""
        return self.ruleset == "v2.0"

    @property
    def multi_stream_v2(self) -> bool:
        """True when MultiStream follows its v2.0 definition (§15.1)."""
        return self.ruleset == "v2.0" and self.scenario is TestScenario.MultiStream


def compute_effective(
    settings: TestSettings, qsl_performance_sample_count: int
) -> tuple[EffectiveSettings, list[SettingsError]]:
    """Derive the effective settings exactly as the official LoadGen does (spec §4).

    ``qsl_performance_sample_count`` is the QSL's PerformanceSampleCount(); it is used
    unless ``performance_sample_count_override`` is non-zero. Returns the settings and the
    ``error_invalid_test_settings`` errors to log (the run goes on regardless).
    """
    s = settings
    errors: list[SettingsError] = []
    scenario = s.scenario
    v2 = s.ruleset == "v2.0"

    samples_per_query = 1
    target_qps = 1.0
    max_async_queries = 0
    target_latency_ns = 0
    target_latency_percentile = 0.0
    min_duration_ms = _i64(s.min_duration_ms)
    target_duration_ms = min_duration_ms
    max_duration_ms = _i64(s.max_duration_ms)
    min_query_count = _u64(s.min_query_count)

    if scenario is TestScenario.SingleStream:
        # r1.1 holds the hint in a uint64, r2.0 in a double (spec §15.9).
        expected = (
            float(s.single_stream_expected_latency_ns) if v2 else float(_u64(s.single_stream_expected_latency_ns))
        )
        target_qps = _div(1e9, expected)
        max_async_queries = 1
        target_latency_percentile = float(s.single_stream_target_latency_percentile)
    elif scenario is TestScenario.MultiStream and v2:
        target_qps = _div(1e9, float(s.multi_stream_expected_latency_ns))
        max_async_queries = 1
        target_latency_percentile = float(s.multi_stream_target_latency_percentile)
    elif scenario is TestScenario.MultiStream:
        max_async_queries = _u64(s.multi_stream_max_async_queries)
        target_qps = float(s.multi_stream_target_qps)
        seconds = _div(float(max_async_queries), target_qps)
        target_latency_ns = _f64_to_i64(seconds * 1e9)
        target_latency_percentile = float(s.multi_stream_target_latency_percentile)
    elif scenario is TestScenario.MultiStreamFree:
        max_async_queries = _u64(s.multi_stream_max_async_queries)
        target_qps = float(s.multi_stream_target_qps)
        target_latency_ns = _i64(s.multi_stream_target_latency_ns)
        target_latency_percentile = float(s.multi_stream_target_latency_percentile)
    elif scenario is TestScenario.Server:
        if s.server_target_qps >= 0.0:
            target_qps = float(s.server_target_qps)
        else:
            errors.append(
                SettingsError(
                    "Invalid value for server_target_qps requested. "
                    f"requested: {_g(s.server_target_qps)} using: {_g(target_qps)}"
                )
            )
        target_latency_ns = _i64(s.server_target_latency_ns)
        target_latency_percentile = float(s.server_target_latency_percentile)
        max_async_queries = _u64(s.server_max_async_queries)
    elif scenario is TestScenario.Offline:
        target_latency_percentile = 0.99
        if s.offline_expected_qps >= 0.0:
            target_qps = float(s.offline_expected_qps)
        else:
            errors.append(
                SettingsError(
                    "Invalid value for offline_expected_qps requested. "
                    f"requested: {_g(s.offline_expected_qps)} using: {_g(target_qps)}"
                )
            )
        max_async_queries = 1
    else:  # pragma: no cover - enum is closed
        raise UsageError(f"unknown scenario {scenario!r}")

    override = _u64(s.performance_sample_count_override)
    performance_sample_count = override if override != 0 else _u64(qsl_performance_sample_count)

    if scenario in (TestScenario.MultiStream, TestScenario.MultiStreamFree):
        samples_per_query = _u64(s.multi_stream_samples_per_query)

    if scenario is TestScenario.Offline:
        duration_s = target_duration_ms / 1000.0
        target_sample_count = _f64_to_u64(OFFLINE_SLACK * duration_s * target_qps)
        if s.performance_issue_unique or s.performance_issue_same:
            samples_per_query = performance_sample_count
        else:
            samples_per_query = max(min_query_count, target_sample_count)
        min_query_count = 1
        target_duration_ms = 0

    concatenate = v2 and bool(s.sample_concatenate_permutation)
    if concatenate and scenario is TestScenario.SingleStream:
        # r2.0 (for 3D-UNet): at least twice the queries the duration needs, rounded up past a
        # multiple of the QSL's own performance count (a whole count is added even when the
        # minimum is already a multiple; the override plays no part here).
        expected = _f64_to_u64(2.0 * (target_duration_ms / 1000.0) * target_qps)
        min_query_count = max(min_query_count, expected)
        qsl_count = _u64(qsl_performance_sample_count)
        if qsl_count:
            min_query_count = _u64(min_query_count + qsl_count - min_query_count % qsl_count)

    min_sample_count = _u64(min_query_count * samples_per_query)

    if s.performance_issue_same and _u64(s.performance_issue_same_index) >= performance_sample_count:
        errors.append(
            SettingsError(
                "Sample Idx to be repeated in performance_issue_same mode cannot be greater than "
                "loaded performance_sample_count. "
                f"performance_issue_same_index: {_u64(s.performance_issue_same_index)} "
                f"performance_sample_count: {performance_sample_count}"
            )
        )
    if s.performance_issue_unique and s.performance_issue_same:
        errors.append(
            SettingsError(
                "Performance_issue_unique and performance_issue_same, both cannot be true at the "
                "same time. performance_issue_unique: 1 performance_issue_same: 1"
            )
        )

    eff = EffectiveSettings(
        scenario=scenario,
        mode=s.mode,
        samples_per_query=samples_per_query,
        target_qps=target_qps,
        target_latency_ns=target_latency_ns,
        target_latency_percentile=target_latency_percentile,
        max_async_queries=max_async_queries,
        target_duration_ms=target_duration_ms,
        min_duration_ms=min_duration_ms,
        max_duration_ms=max_duration_ms,
        min_query_count=min_query_count,
        max_query_count=_u64(s.max_query_count),
        min_sample_count=min_sample_count,
        qsl_rng_seed=_u64(s.qsl_rng_seed),
        sample_index_rng_seed=_u64(s.sample_index_rng_seed),
        schedule_rng_seed=_u64(s.schedule_rng_seed),
        accuracy_log_rng_seed=_u64(s.accuracy_log_rng_seed),
        accuracy_log_probability=float(s.accuracy_log_probability),
        accuracy_log_sampling_target=_u64(s.accuracy_log_sampling_target),
        print_timestamps=bool(s.print_timestamps),
        performance_issue_unique=bool(s.performance_issue_unique),
        performance_issue_same=bool(s.performance_issue_same),
        performance_issue_same_index=_u64(s.performance_issue_same_index),
        performance_sample_count=performance_sample_count,
        ruleset=s.ruleset,
        server_coalesce_queries=bool(s.server_coalesce_queries),
        server_find_peak_qps_decimals_of_precision=int(s.server_find_peak_qps_decimals_of_precision),
        server_find_peak_qps_boundary_step_size=float(s.server_find_peak_qps_boundary_step_size),
        server_num_issue_query_threads=_u64(s.server_num_issue_query_threads),
        sut_stall_timeout_s=float(s.sut_stall_timeout_s),
        sample_concatenate_permutation=concatenate,
    )
    return eff, errors


def requested_records(settings: TestSettings) -> list[tuple[str, object]]:
    """The ``requested_*`` detail-log records, in order (spec §12.2 item 5).

    Values are Python values of the C++ types: enums as their strings, bools as bool,
    doubles as float, integers as int. Under ruleset v2.0 MultiStream logs its v2.0 fields
    (``requested_multi_stream_expected_latency_ns``, percentile, samples per query), and
    both expected-latency hints are doubles, as r2.0 declares them.
    """
    s = settings
    v2 = s.ruleset == "v2.0"
    recs: list[tuple[str, object]] = [
        ("requested_scenario", s.scenario.value),
        ("requested_test_mode", s.mode.value),
    ]
    sc = s.scenario
    if sc is TestScenario.SingleStream:
        # A uint64 in r1.1, a double in r2.0 (printed as a double: 1e+06).
        expected: object = (
            float(s.single_stream_expected_latency_ns) if v2 else int(s.single_stream_expected_latency_ns)
        )
        recs += [
            ("requested_single_stream_expected_latency_ns", expected),
            ("requested_single_stream_target_latency_percentile", float(s.single_stream_target_latency_percentile)),
        ]
    elif sc is TestScenario.MultiStream and v2:
        recs += [
            ("requested_multi_stream_expected_latency_ns", float(s.multi_stream_expected_latency_ns)),
            ("requested_multi_stream_target_latency_percentile", float(s.multi_stream_target_latency_percentile)),
            ("requested_multi_stream_samples_per_query", int(s.multi_stream_samples_per_query)),
        ]
    elif sc in (TestScenario.MultiStream, TestScenario.MultiStreamFree):
        recs += [
            ("requested_multi_stream_target_qps", float(s.multi_stream_target_qps)),
            ("requested_multi_stream_target_latency_ns", int(s.multi_stream_target_latency_ns)),
            ("requested_multi_stream_target_latency_percentile", float(s.multi_stream_target_latency_percentile)),
            ("requested_multi_stream_samples_per_query", int(s.multi_stream_samples_per_query)),
            ("requested_multi_stream_max_async_queries", int(s.multi_stream_max_async_queries)),
        ]
    elif sc is TestScenario.Server:
        recs += [
            ("requested_server_target_qps", float(s.server_target_qps)),
            ("requested_server_target_latency_ns", int(s.server_target_latency_ns)),
            ("requested_server_target_latency_percentile", float(s.server_target_latency_percentile)),
            ("requested_server_coalesce_queries", bool(s.server_coalesce_queries)),
            ("requested_server_find_peak_qps_decimals_of_precision", int(s.server_find_peak_qps_decimals_of_precision)),
            ("requested_server_find_peak_qps_boundary_step_size", float(s.server_find_peak_qps_boundary_step_size)),
            ("requested_server_max_async_queries", int(s.server_max_async_queries)),
            ("requested_server_num_issue_query_threads", int(s.server_num_issue_query_threads)),
        ]
    elif sc is TestScenario.Offline:
        recs.append(("requested_offline_expected_qps", float(s.offline_expected_qps)))
    recs += [
        ("requested_min_duration_ms", int(s.min_duration_ms)),
        ("requested_max_duration_ms", int(s.max_duration_ms)),
        ("requested_min_query_count", int(s.min_query_count)),
        ("requested_max_query_count", int(s.max_query_count)),
        ("requested_qsl_rng_seed", int(s.qsl_rng_seed)),
        ("requested_sample_index_rng_seed", int(s.sample_index_rng_seed)),
        ("requested_schedule_rng_seed", int(s.schedule_rng_seed)),
        ("requested_accuracy_log_rng_seed", int(s.accuracy_log_rng_seed)),
        ("requested_accuracy_log_probability", float(s.accuracy_log_probability)),
        ("requested_accuracy_log_sampling_target", int(s.accuracy_log_sampling_target)),
        ("requested_print_timestamps", bool(s.print_timestamps)),
        ("requested_performance_issue_unique", bool(s.performance_issue_unique)),
        ("requested_performance_issue_same", bool(s.performance_issue_same)),
        ("requested_performance_issue_same_index", int(s.performance_issue_same_index)),
        ("requested_performance_sample_count_override", int(s.performance_sample_count_override)),
    ]
    return recs


def effective_records(eff: EffectiveSettings) -> list[tuple[str, object]]:
    """The ``effective_*`` detail-log records, in order (spec §12.2 item 6)."""
    return [
        ("effective_scenario", eff.scenario.value),
        ("effective_test_mode", eff.mode.value),
        ("effective_samples_per_query", int(eff.samples_per_query)),
        ("effective_target_qps", float(eff.target_qps)),
        ("effective_target_latency_ns", int(eff.target_latency_ns)),
        ("effective_target_latency_percentile", float(eff.target_latency_percentile)),
        ("effective_max_async_queries", int(eff.max_async_queries)),
        ("effective_target_duration_ms", int(eff.target_duration_ms)),
        ("effective_min_duration_ms", int(eff.min_duration_ms)),
        ("effective_max_duration_ms", int(eff.max_duration_ms)),
        ("effective_min_query_count", int(eff.min_query_count)),
        ("effective_max_query_count", int(eff.max_query_count)),
        ("effective_min_sample_count", int(eff.min_sample_count)),
        ("effective_qsl_rng_seed", int(eff.qsl_rng_seed)),
        ("effective_sample_index_rng_seed", int(eff.sample_index_rng_seed)),
        ("effective_schedule_rng_seed", int(eff.schedule_rng_seed)),
        ("effective_accuracy_log_rng_seed", int(eff.accuracy_log_rng_seed)),
        ("effective_accuracy_log_probability", float(eff.accuracy_log_probability)),
        ("effective_accuracy_log_sampling_target", int(eff.accuracy_log_sampling_target)),
        ("effective_print_timestamps", bool(eff.print_timestamps)),
        ("effective_performance_issue_unique", bool(eff.performance_issue_unique)),
        ("effective_performance_issue_same", bool(eff.performance_issue_same)),
        ("effective_performance_issue_same_index", int(eff.performance_issue_same_index)),
        ("effective_performance_sample_count", int(eff.performance_sample_count)),
    ]


def test_parameters_lines(eff: EffectiveSettings) -> list[str]:
    """The summary's "Test Parameters Used" lines (spec §12.1), without newlines: from
    ``samples_per_query : …`` to ``performance_sample_count : …``."""
    b = lambda v: "1" if v else "0"  # noqa: E731 - C++ prints bools as 0/1 in the summary
    return [
        f"samples_per_query : {eff.samples_per_query}",
        f"target_qps : {_g(eff.target_qps)}",
        f"target_latency (ns): {eff.target_latency_ns}",
        f"max_async_queries : {eff.max_async_queries}",
        f"min_duration (ms): {eff.min_duration_ms}",
        f"max_duration (ms): {eff.max_duration_ms}",
        f"min_query_count : {eff.min_query_count}",
        f"max_query_count : {eff.max_query_count}",
        f"qsl_rng_seed : {eff.qsl_rng_seed}",
        f"sample_index_rng_seed : {eff.sample_index_rng_seed}",
        f"schedule_rng_seed : {eff.schedule_rng_seed}",
        f"accuracy_log_rng_seed : {eff.accuracy_log_rng_seed}",
        f"accuracy_log_probability : {_g(eff.accuracy_log_probability)}",
        f"accuracy_log_sampling_target : {eff.accuracy_log_sampling_target}",
        f"print_timestamps : {b(eff.print_timestamps)}",
        f"performance_issue_unique : {b(eff.performance_issue_unique)}",
        f"performance_issue_same : {b(eff.performance_issue_same)}",
        f"performance_issue_same_index : {eff.performance_issue_same_index}",
        f"performance_sample_count : {eff.performance_sample_count}",
    ]


test_parameters_lines.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
