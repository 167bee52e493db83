"""What the model-level Offline benchmarks share: one timed edgeperf Offline run, repeatable."""

from __future__ import annotations

import time

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
        return {"samples": perf.samples_per_query, "samples_per_second": perf.samples_per_second, "start_test_wall_s": wall}

    def close() -> None:
        sut.close()
        backend.close()
        logs.cleanup()

    return run_once, close
