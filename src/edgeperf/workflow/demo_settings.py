"""The demo's settings: its constants, the user.conf texts, and the measurements that size its runs.

Three short runs before the plan size it on the machine at hand: a calibration of the model
alone (single images, batches), a Server find-peak whose rate is confirmed by a Server run
(halved until VALID), and an Offline run that sizes the Offline query.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Callable

from ..errors import EdgeperfError

DEMO_BENCHMARK = "demo-digits"
DEMO_SCENARIOS = ("SingleStream", "MultiStream", "Server", "Offline")
SUBMITTER = "edgeperf-demo"
SYSTEM_NAME = "edgeperf-demo-system"
DEFAULT_DURATION_S = 2.0
#: The Server runs use this fraction of the peak rate find-peak found (margin for a busy machine).
SERVER_MARGIN = 0.5
#: Samples per MultiStream query (v1.1: one query every 50 ms, also in accuracy mode, so a
#: larger query keeps the 1,100-image accuracy run short; the model answers 64 well within 50 ms).
MULTISTREAM_SPQ = 64
NOT_COMPLIANT = (
    "NOT COMPLIANT: edgeperf demo with shortened durations (the rules ask for 600 s "
    "and minimum query counts); not an MLPerf result"
)
FULL_NOTE = "edgeperf demo with the rules' durations; an independent run, not an official MLPerf result"


def server_latency_ms() -> int:
    """demo-digits' Server latency bound (its benchmark definition); mlperf.conf has no line for it."""
    from ..benchmarks.registry import get_benchmark

    return get_benchmark(DEMO_BENCHMARK).server_latency_ms


def user_conf_text(duration_s: float | None, server_qps: float, offline_qps: float, latency_s: float) -> str:
    """The user.conf of every run: expected performance, and (short demo) short durations."""
    m = DEMO_BENCHMARK
    lines = [
        f"# user.conf of edgeperf demo ({m}); read after the shipped mlperf.conf.",
        # In whole milliseconds (the config unit); the model answers in well under one.
        f"{m}.SingleStream.target_latency = {max(1, math.ceil(latency_s * 1000))}",
        f"{m}.MultiStream.samples_per_query = {MULTISTREAM_SPQ}",
        f"{m}.Server.target_qps = {server_qps:.1f}",
        f"{m}.Server.target_latency = {server_latency_ms()}",
        f"{m}.Offline.target_qps = {offline_qps:.1f}",
    ]
    if duration_s is not None:
        ms = max(1, int(round(duration_s * 1000)))
        lines += [
            "# " + NOT_COMPLIANT,
            f"{m}.*.min_duration = {ms}",
            f"{m}.SingleStream.min_query_count = 64",
            # v1.1 MultiStream issues one query every 50 ms (target_qps 20).
            f"{m}.MultiStream.min_query_count = {max(8, math.ceil(duration_s * 20))}",
            f"{m}.Server.min_query_count = 64",
            f"{m}.Offline.min_query_count = 1024",
        ]
    return "\n".join(lines) + "\n"


def find_peak_conf_text(duration_s: float, start_qps: float) -> str:
    m = DEMO_BENCHMARK
    ms = max(1, int(round(duration_s * 1000)))
    return (
        "\n".join(
            [
                f"# edgeperf demo: the Server find-peak search ({ms} ms per step; {NOT_COMPLIANT})",
                f"{m}.Server.target_latency = {server_latency_ms()}",
                f"{m}.Server.target_qps = {start_qps:.1f}",
                f"{m}.Server.min_duration = {ms}",
                f"{m}.Server.min_query_count = 32",
            ]
        )
        + "\n"
    )


def calibrate(model: Path, dataset: Path, threads: int | None) -> tuple[float, float]:
    """(mean seconds of one single-image inference, samples per second in batches of 64),
    through the benchmark's runner: the starting points of find-peak and of the expected
    SingleStream and Offline performance."""
    import numpy as np

    from ..backends import get_backend
    from ..benchmarks.registry import get_benchmark
    from ..benchmarks.runner import make_runner
    from ..datasets.base import DatasetQSL

    bench = get_benchmark(DEMO_BENCHMARK)
    data = bench.open_dataset(dataset, layout=bench.layout, count=64)
    qsl = DatasetQSL(data, performance_sample_count=len(data))
    backend = get_backend(bench.default_backend, threads=threads)
    backend.load(str(model), bench.signature)
    try:
        qsl.load_samples_to_ram(list(range(len(data))))
        run = make_runner(bench, backend, qsl)
        times = []
        for i in range(200):
            start = time.perf_counter()
            run(np.array([i % len(data)]))
            times.append(time.perf_counter() - start)
        batch = np.arange(len(data))
        run(batch)
        start = time.perf_counter()
        for _ in range(20):
            run(batch)
        batch_qps = 20 * len(batch) / (time.perf_counter() - start)
    finally:
        backend.close()
    return float(np.mean(times[20:])), float(batch_qps)


def confirm_server_rate(
    folder: Path,
    model: Path,
    dataset: Path,
    threads: int | None,
    qps: float,
    duration_s: float,
    say: Callable[[str], None],
    tries: int = 6,
) -> float:
    """The rate for the Server runs: ``qps`` if a Server run at it is VALID, else the first VALID
    of successive halvings. A rate found by short search steps can fail over a longer run on a
    busy machine (scheduler pauses show up in the 99th percentile), and the tree needs VALID runs."""
    from ..benchmarks.runner import RunOptions, run_benchmark
    from ..loadgen.enums import TestMode, TestScenario

    folder.mkdir(parents=True, exist_ok=True)
    for _ in range(tries):
        conf = folder / "user.conf"
        conf.write_text(
            f"# edgeperf demo: checking the Server rate ({NOT_COMPLIANT})\n"
            f"{DEMO_BENCHMARK}.Server.target_latency = {server_latency_ms()}\n"
            f"{DEMO_BENCHMARK}.Server.target_qps = {qps:.1f}\n"
            f"{DEMO_BENCHMARK}.Server.min_duration = {max(1, int(duration_s * 1000))}\n"
            f"{DEMO_BENCHMARK}.Server.min_query_count = 64\n"
        )
        outcome = run_benchmark(
            RunOptions(
                benchmark=DEMO_BENCHMARK,
                scenario=TestScenario.Server,
                mode=TestMode.PerformanceOnly,
                model=model,
                dataset=dataset,
                output=folder,
                user_conf=conf,
                threads=threads,
                report=False,
            )
        )
        if _performance_of(outcome, folder).valid:
            say(f"Server: a run at {qps:.0f} queries/s is VALID; the Server runs use it")
            return qps
        say(f"Server: a run at {qps:.0f} queries/s is INVALID (see {folder}); halving")
        qps = max(1.0, qps / 2)
    return qps


def offline_rate(folder: Path, model: Path, dataset: Path, threads: int | None, batch_qps: float) -> float:
    """Samples per second of a short (0.5 s) Offline run: what sizes the Offline query."""
    from ..benchmarks.runner import RunOptions, run_benchmark
    from ..loadgen.enums import TestMode, TestScenario

    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "user.conf"
    conf.write_text(
        f"# edgeperf demo: sizing the Offline query ({NOT_COMPLIANT})\n"
        f"{DEMO_BENCHMARK}.Offline.min_duration = 500\n"
        f"{DEMO_BENCHMARK}.Offline.min_query_count = 1024\n"
        f"{DEMO_BENCHMARK}.Offline.target_qps = {0.3 * batch_qps:.1f}\n"
    )
    outcome = run_benchmark(
        RunOptions(
            benchmark=DEMO_BENCHMARK,
            scenario=TestScenario.Offline,
            mode=TestMode.PerformanceOnly,
            model=model,
            dataset=dataset,
            output=folder,
            user_conf=conf,
            threads=threads,
            report=False,
        )
    )
    return float(_performance_of(outcome, folder).samples_per_second)


def _performance_of(outcome, folder: Path):
    """The performance result of a PerformanceOnly run (LoadGen always reports one for it)."""
    performance = outcome.result.performance
    if performance is None:
        raise EdgeperfError(f"the performance run in {folder} reported no performance result")
    return performance
