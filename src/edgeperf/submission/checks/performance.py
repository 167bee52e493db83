"""``results/.../<scenario>/performance/run_1/`` (spec submission.md §5.6).

Drops the result: an unreadable detail log, ``result_validity`` not VALID, LoadGen errors, an
unknown log scenario or missing result, ``effective_performance_sample_count`` below the class
minimum, a missing value that a check needs, an Offline directory whose log is neither Offline nor
SingleStream. SOFT in v1.1 (dropped under ``--strict``): a seed differing from the round's, the
99th-percentile latency above the bound, too few queries, too few Offline samples per query, a
minimum duration under 600 s. An Offline directory holding a SingleStream log is an inferred
Offline result: 1 / mean latency (``result_qps_without_loadgen_overhead``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..context import CheckContext
from ..findings import Reporter, Severity
from ..readers import DetailLogRecords
from .detail import check_detail_errors, detail_keys, read_detail

__all__ = ["PerformanceOutcome", "check_performance"]


@dataclass(frozen=True)
class PerformanceOutcome:
    valid: bool
    result: Any  # float (ms for SingleStream), or the raw JSON number of an inferred Offline result
    inferred: bool
    log_scenario: str | None
    detail: DetailLogRecords | None  # the parsed run_1 detail log, for the power check


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_performance(
    ctx: CheckContext, rep: Reporter, run_dir: str, mlperf_model: str, scenario_fixed: str
) -> PerformanceOutcome:
    rules = ctx.rules
    path = ctx.tree.join(run_dir, "mlperf_log_detail.txt")
    log = read_detail(ctx, rep, path, Severity.DROP, "performance", detail_keys(rules))
    if log is None:
        return PerformanceOutcome(False, None, False, None, None)

    valid = True

    def need(key: str) -> Any:
        nonlocal valid
        if key not in log:
            rep.drop(
                "performance.key_missing",
                f"{key} is missing from the detail log",
                file=path,
                expected=key,
                found="missing",
            )
            valid = False
            return None
        value = log[key]
        if not _is_number(value):
            rep.drop("performance.key_type", f"{key} is not a number", file=path, expected="number", found=value)
            valid = False
            return None
        return value

    validity = log.get("result_validity")
    if validity != "VALID":
        rep.drop(
            "performance.validity",
            "the run is not VALID",
            file=path,
            expected="VALID",
            found=validity if "result_validity" in log else "missing",
        )
        valid = False

    scenario = log.get("effective_scenario")
    result = None
    if scenario not in rules.result_key:
        rep.drop(
            "performance.scenario",
            "effective_scenario is not a known scenario",
            file=path,
            expected=sorted(rules.result_key),
            found=scenario,
        )
        valid = False
    else:
        result = need(rules.result_key[scenario])
        if result is not None:
            result = float(result)

    if not check_detail_errors(ctx, rep, log, path, Severity.DROP, "performance"):
        valid = False

    pcount = need("effective_performance_sample_count")
    minimum = rules.min_performance_sample_count.get(mlperf_model)
    if pcount is not None and minimum is not None and pcount < minimum:
        rep.drop(
            "performance.sample_count",
            "effective_performance_sample_count is below the minimum",
            file=path,
            expected=f">= {minimum}",
            found=pcount,
        )
        valid = False

    for name, key in rules.seed_keys:
        expected = rules.seeds[name]
        found = log.get(key)
        if found != expected:
            rep.soft(
                "performance.seed",
                f"{name} is wrong",
                file=path,
                expected=expected,
                found=found if key in log else "missing",
                strict=True,
            )
            if ctx.options.strict:
                valid = False

    if scenario == "SingleStream" and result is not None:
        result /= rules.ns_per_ms

    if scenario in rules.result_key:
        bound = rules.latency_constraint_ns.get((mlperf_model, scenario))
        if bound is not None:
            p99 = need(rules.p99_key.get(scenario, rules.p99_key_default))
            if p99 is not None and p99 > bound:
                rep.soft(
                    "performance.latency",
                    "Latency constraint not met (99th percentile, ns)",
                    file=path,
                    expected=f"<= {bound}",
                    found=p99,
                    strict=True,
                )
                valid &= not ctx.options.strict
        min_queries = rules.min_query_count.get((mlperf_model, scenario))
        if min_queries:
            count = need("effective_min_query_count")
            if count is not None and count < min_queries:
                rep.soft(
                    "performance.min_query_count",
                    "Required minimum Query Count not met by user config",
                    file=path,
                    expected=f">= {min_queries}",
                    found=count,
                    strict=True,
                )
                valid &= not ctx.options.strict
        if scenario == "Offline":
            spq = need("effective_samples_per_query")
            if spq is not None and spq < rules.offline_min_samples_per_query:
                rep.soft(
                    "performance.samples_per_query",
                    "Required minimum samples per query not met by user config",
                    file=path,
                    expected=f">= {rules.offline_min_samples_per_query}",
                    found=spq,
                    strict=True,
                )
                valid &= not ctx.options.strict
        duration = need("effective_min_duration_ms")
        if duration is not None and duration < rules.min_duration_ms:
            rep.soft(
                "performance.min_duration",
                "Test duration lesser than 600s in user config (ms)",
                file=path,
                expected=f">= {rules.min_duration_ms}",
                found=duration,
                strict=True,
            )
            valid &= not ctx.options.strict

    inferred = False
    if scenario_fixed == "Offline" and scenario in rules.result_key and scenario != "Offline":
        if scenario == "SingleStream":
            qps = need("result_qps_without_loadgen_overhead")
            if qps is not None:
                inferred, result = True, qps
                rep.info(
                    "performance.inferred",
                    "Offline result inferred from a SingleStream run (result_qps_without_loadgen_overhead)",
                    file=path,
                    found=qps,
                )
        else:
            rep.drop(
                "performance.inference",
                "an Offline directory may only hold an Offline or a SingleStream log",
                file=path,
                expected="Offline or SingleStream",
                found=scenario,
            )
            valid = False
    elif scenario in rules.result_key and scenario != scenario_fixed and scenario_fixed in rules.result_key:
        rep.warn(
            "performance.scenario_mismatch",
            f"the {scenario_fixed} directory holds a {scenario} log (v1.1 does not check this)",
            file=path,
            expected=scenario_fixed,
            found=scenario,
        )
    if valid and not result:
        rep.drop(
            "performance.result_zero",
            "the result is 0 (v1.1 records no result for it)",
            file=path,
            expected="> 0",
            found=result,
        )
        valid = False
    return PerformanceOutcome(valid, result, inferred, scenario, log)
