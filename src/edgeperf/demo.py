"""The demo runs: each scenario, a few seconds, against the simulated SUT (used by ``edgeperf demo``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .loadgen.engine import start_test
from .loadgen.enums import TestMode, TestScenario
from .loadgen.logs.formatting import fmt_fixed2
from .loadgen.settings import LogOutputSettings, LogSettings, TestSettings
from .sut.simulated import LatencyModel, SimulatedQSL, SimulatedSUT

DEMO_SCENARIOS = ("SingleStream", "MultiStream", "Server", "Offline")


@dataclass(frozen=True)
class DemoRow:
    """One line of the demo's results table."""

    metric: str
    value: str
    verdict: str


def demo_settings(scenario: str, duration_s: float) -> TestSettings:
    """Settings sized so the simulated SUT gives a VALID run of about ``duration_s`` seconds."""
    s = TestSettings(scenario=TestScenario(scenario), mode=TestMode.PerformanceOnly)
    s.min_duration_ms = int(duration_s * 1000)
    s.min_query_count = 32
    s.single_stream_expected_latency_ns = 1_200_000
    s.multi_stream_target_qps = 50
    s.multi_stream_samples_per_query = 8
    s.server_target_qps = 400
    s.server_target_latency_ns = 15_000_000
    s.offline_expected_qps = 12000  # more samples than the simulated SUT serves in the duration
    s.qsl_rng_seed, s.sample_index_rng_seed, s.schedule_rng_seed = 1624344308455410291, 517984244576520566, 10051496985653635065
    return s


def run_demo_scenario(scenario: str, outdir: Path, duration_s: float, listeners=()) -> DemoRow:
    """Run one scenario and summarise its result."""
    sut = SimulatedSUT(LatencyModel(), workers=2, max_batch=32 if scenario == "Offline" else 8)
    qsl = SimulatedQSL(total=1024, performance=256)
    log_settings = LogSettings(log_output=LogOutputSettings(outdir=str(outdir)), enable_trace=False)
    try:
        result = start_test(sut, qsl, demo_settings(scenario, duration_s), log_settings, audit_config=None, listeners=listeners)
    finally:
        sut.close()
    perf = result.performance
    verdict = "VALID" if perf.valid else "INVALID"
    if scenario == "SingleStream":
        return DemoRow("90th percentile latency", f"{perf.sample_stats.target / 1e6:.3f} ms", verdict)
    if scenario == "MultiStream":
        return DemoRow("Samples per query", str(perf.samples_per_query), verdict)
    if scenario == "Server":
        return DemoRow("Scheduled samples per second", fmt_fixed2(perf.scheduled_samples_per_second), verdict)
    return DemoRow("Samples per second", fmt_fixed2(perf.samples_per_second), verdict)
