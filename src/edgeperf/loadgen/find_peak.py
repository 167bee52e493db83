"""FindPeakPerformance mode: widen, then bisect, the Server QPS or MultiStream samples per query
(spec loadgen.md §10). Only the performance constraint decides; each run is a full series.
"""

from __future__ import annotations

import math

from .enums import TestScenario

MSG_UNSUPPORTED = "Finding peak performance is only supported in MultiStream, MultiStreamFree, and Server scenarios."
_MAX_WIDENINGS = 64  # the C++ widens forever; a bound keeps a null SUT from looping


def supports(scenario: TestScenario, multistream_v2: bool) -> bool:
    """Whether FindPeakPerformance applies: Server QPS, or v1.1 MultiStream(Free) samples per query."""
    return scenario in (TestScenario.Server, TestScenario.MultiStreamFree) or (
        scenario is TestScenario.MultiStream and not multistream_v2
    )


def find_peak_performance(test, eff, result) -> None:
    """Run FindPeakPerformance for ``test`` (an engine ``_Test``) and store the peak in ``result``."""
    scenario = eff.scenario
    if not supports(scenario, test.multistream_v2):
        test.error("error_invalid_config", MSG_UNSUPPORTED)
        return
    detail = test.detail
    server = scenario is TestScenario.Server
    field_name = "server_target_qps" if server else "multi_stream_samples_per_query"
    detail.log("generic_message", "Starting FindPeakPerformance mode")
    detail.log("generic_message", f"FindPeakPerformance: Check validity of the base settings field: {field_name}")

    def text(value) -> str:
        return f"{value:.6f}" if server else str(int(value))

    def settings_for(value):
        return eff.with_changes(target_qps=value) if server else eff.with_changes(samples_per_query=int(value))

    def run(value):
        run_eff = settings_for(value)
        perf, recorder = test.performance_series(run_eff, eff.mode.value)
        if getattr(test, "last_stall", None) is not None:
            from .engine import SutStallError

            raise SutStallError(str(test.last_stall))
        loaded = getattr(test, "_unload_after", None)
        if loaded is not None:
            test._unload(loaded)
            test._unload_after = None
        return perf, recorder, run_eff

    lower = eff.target_qps if server else eff.samples_per_query
    best = run(lower)
    if not best[0].perf_constraints_met:
        rec = best[0].recommendations[0] if best[0].recommendations else ""
        test.error(
            "error_runtime",
            f"FindPeakPerformance: Initial lower bound does not satisfy performance constraints, msg: {rec}",
        )
        _finish(test, best, result, None)
        return

    upper = None
    for _ in range(_MAX_WIDENINGS):
        candidate = lower * (1 + eff.server_find_peak_qps_boundary_step_size) if server else lower * 2
        detail.log("generic_message", f"FindBoundaries: Checking fields [{text(lower)}, {text(candidate)})")
        attempt = run(candidate)
        if attempt[0].perf_constraints_met:
            lower, best = candidate, attempt
        else:
            upper = candidate
            break
    if upper is None:
        test.error("error_runtime", f"FindPeakPerformance: no upper bound found after {_MAX_WIDENINGS} widenings.")
        _finish(test, best, result, lower)
        return
    detail.log("generic_message", f"FindPeakPerformance: Found boundaries: [{text(lower)}, {text(upper)})")

    precision = 10**eff.server_find_peak_qps_decimals_of_precision
    while True:
        if server and math.floor(lower * precision) + 1 >= math.floor(upper * precision):
            break
        if not server and lower + 1 >= upper:
            break
        mid = lower + (upper - lower) / 2 if server else lower + (upper - lower) // 2
        detail.log(
            "generic_message",
            f"FindPeakPerformanceBinarySearch: Testing the mid value of bounds [{text(lower)}, {text(upper)}): {text(mid)}",
        )
        attempt = run(mid)
        if attempt[0].perf_constraints_met:
            lower, best = mid, attempt
        else:
            upper = mid
    detail.log("generic_message", f"FindPeakPerformance: Found peak performance field: {text(lower)}")
    _finish(test, best, result, lower)


def _finish(test, best, result, peak) -> None:
    perf, recorder, run_eff = best
    test.finish_performance(perf, recorder, run_eff, run_eff.mode.value)
    result.performance = perf
    result.find_peak_value = peak
