"""The performance summary's lines and the ``result_*`` detail records (spec §12.1, §12.2).

Both are built from a `PerformanceResult` after a series, never on the hot path.
"""

from __future__ import annotations

from .enums import TestScenario
from .logs.formatting import fmt_fixed0, fmt_fixed2, fmt_g6, percentile_label
from .metrics import REC_EXITED_EARLY, REPORTED_PERCENTILES, PerformanceResult

RULE = "================================================"


def _yes_no(flag: bool) -> str:
    return "Yes" if flag else "NO"


def headline_line(result: PerformanceResult, eff, *, multistream_v2: bool = False) -> str:
    """The scenario's result line, e.g. ``90th percentile latency (ns) : 508841``."""
    s = result.scenario
    if s is TestScenario.SingleStream:
        return f"{fmt_fixed0(eff.target_latency_percentile * 100)}th percentile latency (ns) : {result.sample_stats.target}"
    if s is TestScenario.MultiStream and multistream_v2:
        return (
            f"{fmt_fixed0(eff.target_latency_percentile * 100)}th percentile latency (ns) : {result.query_stats.target}"
        )
    if s is TestScenario.MultiStream:
        return f"Samples per query : {result.samples_per_query}"
    if s is TestScenario.MultiStreamFree:
        return f"Samples per second : {fmt_g6(result.samples_per_second)}"
    if s is TestScenario.Server:
        return f"Scheduled samples per second : {fmt_fixed2(result.scheduled_samples_per_second)}"
    return f"Samples per second: {fmt_g6(result.samples_per_second)}"


def _latency_block(stats, label_width: int = 32) -> list[str]:
    lines = [
        "Min latency (ns)".ljust(label_width) + f": {stats.min}",
        "Max latency (ns)".ljust(label_width) + f": {stats.max}",
        "Mean latency (ns)".ljust(label_width) + f": {stats.mean}",
    ]
    for p in REPORTED_PERCENTILES:
        lines.append(f"{percentile_label(p)} percentile latency (ns)".ljust(label_width) + f": {stats.at(p)}")
    return lines


def summary_lines(
    result: PerformanceResult,
    eff,
    sut_name: str,
    mode_name: str,
    parameter_lines: list[str],
    *,
    multistream_v2: bool = False,
    early_stopping_lines: list[str] | None = None,
) -> list[str]:
    """Every line of ``mlperf_log_summary.txt`` before the warning/error footer."""
    s = result.scenario
    lines = [
        RULE,
        "MLPerf Results Summary",
        RULE,
        f"SUT name : {sut_name}",
        f"Scenario : {s.value}",
        f"Mode     : {mode_name}",
        headline_line(result, eff, multistream_v2=multistream_v2),
        f"Result is : {'VALID' if result.valid else 'INVALID'}",
    ]
    if result.perf_constraints_met is not None:
        lines.append(f"  Performance constraints satisfied : {_yes_no(result.perf_constraints_met)}")
    lines.append(f"  Min duration satisfied : {_yes_no(result.min_duration_met)}")
    lines.append(f"  Min queries satisfied : {_yes_no(result.min_queries_met)}")
    if result.early_stopping is not None:
        lines.append(f"  Early stopping satisfied: {_yes_no(result.early_stopping.met)}")
    if not result.valid:
        lines.append("Recommendations:")
        for rec in result.recommendations:
            lines.append(f" * {rec}")
            if rec == REC_EXITED_EARLY:
                lines.append("   See the detailed log for why this may have occurred.")
    if early_stopping_lines:
        lines.append("Early Stopping Result:")
        lines.extend(early_stopping_lines)
    lines += ["", RULE, "Additional Stats", RULE]

    if s is TestScenario.SingleStream:
        lines.append(f"QPS w/ loadgen overhead         : {fmt_fixed2(result.qps_with_loadgen_overhead)}")
        lines.append(f"QPS w/o loadgen overhead        : {fmt_fixed2(result.qps_without_loadgen_overhead)}")
        lines.append("")
    elif s is TestScenario.Server:
        lines.append(f"Completed samples per second    : {fmt_fixed2(result.completed_samples_per_second)}")
        lines.append("")
    elif s is TestScenario.MultiStream and multistream_v2:
        # r2.0 prints only the per-query block, under a title with two trailing spaces.
        lines.append("Per-query latency:  ")
        lines.extend(_latency_block(result.query_stats))
    elif s in (TestScenario.MultiStream, TestScenario.MultiStreamFree):
        qps = eff.target_qps
        lines.append(f'Intervals between each IssueQuery:  "qps" : {fmt_g6(qps)}, "ms" : {fmt_g6(1000.0 / qps)}')
        for p in REPORTED_PERCENTILES:
            lines.append(f"{percentile_label(p)} percentile : {result.interval_stats.at(p)}")
        lines.append("")
        target_ns = eff.target_latency_ns
        lines.append(f'Per-query latency:  "target_ns" : {target_ns}, "target_ms" : {fmt_g6(target_ns / 1e6)}')
        for p in REPORTED_PERCENTILES:
            lines.append(f"{percentile_label(p)} percentile latency (ns)   : {result.query_stats.at(p)}")
        lines.append("")
        lines.append("Per-sample latency:")
    if not (s is TestScenario.MultiStream and multistream_v2):
        lines.extend(_latency_block(result.sample_stats))
    lines += ["", RULE, "Test Parameters Used", RULE]
    lines.extend(parameter_lines)
    return lines


def result_records(result: PerformanceResult, eff, *, multistream_v2: bool = False) -> list[tuple[str, object]]:
    """The ``result_*`` detail records, in the order of §12.2 item 15."""
    s = result.scenario
    recs: list[tuple[str, object]] = [("result_validity", "VALID" if result.valid else "INVALID")]
    if result.perf_constraints_met is not None:
        recs.append(("result_perf_constraints_met", result.perf_constraints_met))
    recs.append(("result_min_duration_met", result.min_duration_met))
    recs.append(("result_min_queries_met", result.min_queries_met))
    if result.early_stopping is not None:
        recs.append(("early_stopping_met", bool(result.early_stopping.met)))
    if not result.valid:
        recs.append(("result_invalid_reason", result.invalid_reason))
    # r2.0 logs the early-stopping text and query counts here, but the latency estimates
    # only after the scenario's own records (QPS for SingleStream, per-query for MultiStream).
    es_records = list(result.early_stopping.records) if result.early_stopping is not None else []
    es_latencies = [r for r in es_records if r[0].startswith("early_stopping_latency")]
    recs.extend(r for r in es_records if not r[0].startswith("early_stopping_latency"))

    def per_query(with_intervals: bool) -> None:
        for p in REPORTED_PERCENTILES:
            label = percentile_label(p)
            if with_intervals:
                recs.append((f"result_{label}_percentile_num_intervals_between_queries", result.interval_stats.at(p)))
            recs.append((f"result_{label}_percentile_per_query_latency_ns", result.query_stats.at(p)))

    if s is TestScenario.SingleStream:
        recs.append(("result_qps_with_loadgen_overhead", result.qps_with_loadgen_overhead))
        recs.append(("result_qps_without_loadgen_overhead", result.qps_without_loadgen_overhead))
    elif s is TestScenario.MultiStream and multistream_v2:
        qs = result.query_stats
        recs += [
            ("result_min_query_latency_ns", qs.min),
            ("result_max_query_latency_ns", qs.max),
            ("result_mean_query_latency_ns", qs.mean),
        ]
        for p in REPORTED_PERCENTILES:
            recs.append((f"result_{percentile_label(p)}_percentile_per_query_latency_ns", qs.at(p)))
    elif s is TestScenario.MultiStreamFree:
        recs.append(("result_samples_per_second", result.samples_per_second))
        per_query(True)
    elif s is TestScenario.MultiStream:
        per_query(True)
    elif s is TestScenario.Server:
        recs.append(("result_scheduled_samples_per_sec", result.scheduled_samples_per_second))
        recs.append(("result_completed_samples_per_sec", result.completed_samples_per_second))
    else:
        recs.append(("result_samples_per_second", result.samples_per_second))
    recs.extend(es_latencies)
    st = result.sample_stats
    recs += [("result_min_latency_ns", st.min), ("result_max_latency_ns", st.max), ("result_mean_latency_ns", st.mean)]
    for p in REPORTED_PERCENTILES:
        recs.append((f"result_{percentile_label(p)}_percentile_latency_ns", st.at(p)))
    return recs
