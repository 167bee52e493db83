"""What the model-level Offline benchmarks share: one timed edgeperf Offline run, repeatable."""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable

from edgeperf.loadgen.engine import start_test
from edgeperf.loadgen.settings import LogOutputSettings, LogSettings


def edgeperf_offline(sut, qsl, settings, backend, logs):
    """``(run_once, close)`` for timing ``start_test`` on a prepared SUT and QSL.

    ``run_once()`` returns the samples issued, LoadGen's samples/s and StartTest's wall time;
    ``close()`` stops the SUT and the backend and removes ``logs`` (a TemporaryDirectory).
    """

    def run_once() -> dict:
        log_settings = LogSettings(log_output=LogOutputSettings(outdir=logs.name), enable_trace=False)
        t = time.perf_counter()
        result = start_test(sut, qsl, settings, log_settings, audit_config=None)
        wall = time.perf_counter() - t
        perf = result.performance
        if result.errors or perf is None:
            raise SystemExit(f"edgeperf run failed: {result.errors}")
        return {
            "samples": perf.samples_per_query,
            "samples_per_second": perf.samples_per_second,
            "start_test_wall_s": wall,
        }

    def close() -> None:
        sut.close()
        backend.close()
        logs.cleanup()

    return run_once, close


def compare_rounds(
    raw: Callable[[], dict],
    edgeperf: Callable[[], dict],
    close: Callable[[], None],
    rounds: int,
    target: float,
    *,
    number: str = "8.2f",
    before_close: Callable[[], Any] | None = None,
):
    """Time ``raw()`` then ``edgeperf()`` ``rounds`` times, printing each round, then ``close()``.

    Returns ``(rounds, raw median samples/s, edgeperf median samples/s, ratio, "MET"/"MISSED" against
    ``target``, what ``before_close()`` returned)``; ``number`` formats the per-round figures.
    """
    done: list[dict] = []
    extra = None
    try:
        for r in range(rounds):
            a = raw()
            b = edgeperf()
            done.append({"raw": a, "edgeperf": b})
            print(
                f"round {r + 1}: raw {a['samples_per_second']:{number}} samples/s   "
                f"edgeperf {b['samples_per_second']:{number}} samples/s   "
                f"ratio {b['samples_per_second'] / a['samples_per_second']:.3f}",
                flush=True,
            )
        if before_close is not None:
            extra = before_close()
    finally:
        close()
    raw_sps = statistics.median(r["raw"]["samples_per_second"] for r in done)
    ep_sps = statistics.median(r["edgeperf"]["samples_per_second"] for r in done)
    ratio = ep_sps / raw_sps
    return done, raw_sps, ep_sps, ratio, ("MET" if ratio >= target else "MISSED"), extra
