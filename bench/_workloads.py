"""One measurement each, run in a fresh process by ``bench/loadgen_overhead.py``.

Every function here runs one LoadGen test (or one pre-generation) in the *current* process and
returns a JSON-able dict. The orchestrator starts a new interpreter for each call, so no state,
allocation or JIT-ish warm-up leaks from one measurement into the next.

Three implementations are driven:

* ``wheel``  -- the official LoadGen, ``import mlperf_loadgen`` (PyPI ``mlcommons-loadgen``);
* ``dropin`` -- ``import edgeperf.mlperf_loadgen as mlperf_loadgen``; the harness is the *same
  code* as for ``wheel`` (:func:`run_binding` takes the module as its only difference);
* ``native`` -- edgeperf's own API, a SUT with ``issue_query_arrays`` answering through
  ``complete_arrays`` (numpy ids, no per-sample objects).

The SUT is a null SUT: it completes every sample inside the issue callback. Optionally it
records ``time.perf_counter_ns()`` when each query arrives (and just before it completes it), so
issue lateness and inter-query gaps can be measured from the SUT side without touching LoadGen.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import time
from typing import Any

import numpy as np

#: v1.1 mlperf.conf seeds (spec loadgen.md §3.5), used by every run so all three
#: implementations see the same loaded set, sample order and Server schedule.
V11_SEEDS = {
    "qsl_rng_seed": 1624344308455410291,
    "sample_index_rng_seed": 517984244576520566,
    "schedule_rng_seed": 10051496985653635065,
}

QSL_TOTAL = 1024
QSL_PERF = 1024

IMPLEMENTATIONS = ("wheel", "dropin", "native")
BINDING_MODULES = {"wheel": "mlperf_loadgen", "dropin": "edgeperf.mlperf_loadgen"}


# --------------------------------------------------------------------------- log reading


def read_detail(outdir: str) -> dict[str, Any]:
    """``key -> value`` of every ``:::MLLOG`` record in ``mlperf_log_detail.txt`` (first wins).

    Works for both implementations (same file name and record layout). Only a few dozen lines
    are logged per run, so this is cheap.
    """
    records: dict[str, Any] = {}
    path = os.path.join(outdir, "mlperf_log_detail.txt")
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith(":::MLLOG"):
                continue
            try:
                rec = json.loads(line[len(":::MLLOG") :])
            except ValueError:
                continue
            records.setdefault(rec.get("key"), rec.get("value"))
    return records


def _pick(records: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in records:
            return records[key]
    return None


def _percentile_key(records: dict[str, Any], pct: str) -> Any:
    """The per-sample latency percentile record, e.g. pct='90.00' (same key in v1.1 and the wheel)."""
    return _pick(records, f"result_{pct}_percentile_latency_ns")


# --------------------------------------------------------------------------- null SUTs


class IssueRecorder:
    """SUT-side timestamps (``perf_counter_ns``): ``issue[i]`` = arrival of query i, ``done[i]`` =
    just before it is completed. Plain lists with bound ``append``: ~50 ns per query, the same
    in every implementation."""

    def __init__(self) -> None:
        self.issue: list[int] = []
        self.done: list[int] = []


def binding_null_sut(lg, recorder: IssueRecorder | None):
    """``(issue_cb, flush_cb)`` for the binding API: complete every sample inside the callback."""
    Response = lg.QuerySampleResponse
    complete = lg.QuerySamplesComplete
    if recorder is None:

        def issue(samples):
            complete([Response(s.id, 0, 0) for s in samples])

    else:
        now = time.perf_counter_ns
        on_issue, on_done = recorder.issue.append, recorder.done.append

        def issue(samples):
            on_issue(now())
            responses = [Response(s.id, 0, 0) for s in samples]
            on_done(now())
            complete(responses)

    def flush():
        pass

    return issue, flush


class NativeNullSUT:
    """The same null SUT on edgeperf's vectorised API."""

    name = "NativeNullSUT"

    def __init__(self, recorder: IssueRecorder | None):
        from edgeperf.loadgen.engine import complete_arrays

        if recorder is None:

            def issue_query_arrays(ids, indices):
                complete_arrays(ids)

        else:
            now = time.perf_counter_ns
            on_issue, on_done = recorder.issue.append, recorder.done.append

            def issue_query_arrays(ids, indices):
                t = now()
                on_issue(t)
                on_done(t)
                complete_arrays(ids)

        self.issue_query_arrays = issue_query_arrays

    def issue_query(self, samples):  # not used: the engine prefers issue_query_arrays
        raise AssertionError("issue_query_arrays should have been used")

    def flush_queries(self):
        pass


class NativeQSL:
    name = "NullQSL"

    def __init__(self, total: int, perf: int):
        self.total_sample_count = total
        self.performance_sample_count = perf

    def load_samples_to_ram(self, indices):
        pass

    def unload_samples_from_ram(self, indices):
        pass


# --------------------------------------------------------------------------- running a test


def run_binding(
    module_name: str,
    scenario: str,
    fields: dict[str, Any],
    outdir: str,
    recorder: IssueRecorder | None,
    qsl_total: int = QSL_TOTAL,
    qsl_perf: int = QSL_PERF,
) -> float:
    """Run one PerformanceOnly test through a module with the official binding's API.

    This is the *only* harness for ``wheel`` and ``dropin``: it differs between them in the
    imported module alone. Returns the wall time of ``StartTestWithLogSettings`` in seconds.
    """
    lg = importlib.import_module(module_name)
    settings = lg.TestSettings()
    settings.scenario = getattr(lg.TestScenario, scenario)
    settings.mode = lg.TestMode.PerformanceOnly
    for key, value in fields.items():
        setattr(settings, key, value)
    log_settings = lg.LogSettings()
    log_settings.log_output.outdir = outdir
    log_settings.log_output.copy_summary_to_stdout = False
    log_settings.enable_trace = False
    issue, flush = binding_null_sut(lg, recorder)
    sut = lg.ConstructSUT(issue, flush)
    qsl = lg.ConstructQSL(qsl_total, qsl_perf, lambda idx: None, lambda idx: None)
    t0 = time.perf_counter()
    lg.StartTestWithLogSettings(sut, qsl, settings, log_settings)
    wall = time.perf_counter() - t0
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)
    return wall


def run_native(
    scenario: str,
    fields: dict[str, Any],
    outdir: str,
    recorder: IssueRecorder | None,
    qsl_total: int = QSL_TOTAL,
    qsl_perf: int = QSL_PERF,
) -> float:
    """The same test on edgeperf's native API (``start_test`` + ``complete_arrays``)."""
    from edgeperf.loadgen.engine import start_test
    from edgeperf.loadgen.enums import TestMode, TestScenario
    from edgeperf.loadgen.settings import LogOutputSettings, LogSettings, TestSettings

    settings = TestSettings(scenario=TestScenario(scenario), mode=TestMode.PerformanceOnly)
    for key, value in fields.items():
        setattr(settings, key, value)
    log_settings = LogSettings(log_output=LogOutputSettings(outdir=outdir), enable_trace=False)
    t0 = time.perf_counter()
    start_test(NativeNullSUT(recorder), NativeQSL(qsl_total, qsl_perf), settings, log_settings, audit_config=None)
    return time.perf_counter() - t0


def run_impl(
    impl: str, scenario: str, fields: dict[str, Any], outdir: str, recorder: IssueRecorder | None = None, **qsl
) -> float:
    if impl == "native":
        return run_native(scenario, fields, outdir, recorder, **qsl)
    return run_binding(BINDING_MODULES[impl], scenario, fields, outdir, recorder, **qsl)


def _stats_us(values_ns: np.ndarray) -> dict[str, float]:
    """p50/p99/max (and mean) in microseconds."""
    if len(values_ns) == 0:
        return {}
    v = np.sort(np.asarray(values_ns, dtype=np.int64))
    n = len(v)
    return {
        "n": int(n),
        "p50_us": float(v[int(n * 0.50)]) / 1e3,
        "p99_us": float(v[min(n - 1, int(n * 0.99))]) / 1e3,
        "max_us": float(v[-1]) / 1e3,
        "mean_us": float(v.mean()) / 1e3,
    }


def _self_maxrss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# --------------------------------------------------------------------------- the cases


def case_single(impl: str, outdir: str, queries: int) -> dict[str, Any]:
    """SingleStream: p90 latency and QPS with LoadGen overhead over ``queries`` queries."""
    fields = dict(
        V11_SEEDS,
        min_query_count=queries,
        min_duration_ms=100,
        single_stream_expected_latency_ns=1000,
        single_stream_target_latency_percentile=0.9,
    )
    wall = run_impl(impl, "SingleStream", fields, outdir)
    rec = read_detail(outdir)
    return {
        "p90_ns": _percentile_key(rec, "90.00"),
        "qps_with_overhead": _pick(rec, "result_qps_with_loadgen_overhead"),
        "qps_without_overhead": _pick(rec, "result_qps_without_loadgen_overhead"),
        "queries": _pick(rec, "result_query_count") or queries,
        "valid": _pick(rec, "result_validity"),
        "wall_s": wall,
    }


def case_offline(impl: str, outdir: str, samples: int) -> dict[str, Any]:
    """Offline: samples per second for one query of ``samples`` samples."""
    fields = dict(V11_SEEDS, min_query_count=samples, min_duration_ms=0, offline_expected_qps=1.0)
    wall = run_impl(impl, "Offline", fields, outdir)
    rec = read_detail(outdir)
    return {
        "samples_per_second": _pick(rec, "result_samples_per_second"),
        "generated_samples": _pick(rec, "generated_samples_per_query"),
        "valid": _pick(rec, "result_validity"),
        "wall_s": wall,
    }


def server_fields(qps: float, queries: int, min_duration_ms: int) -> dict[str, Any]:
    return dict(
        V11_SEEDS,
        server_target_qps=float(qps),
        server_target_latency_ns=10_000_000,
        server_target_latency_percentile=0.99,
        min_query_count=queries,
        min_duration_ms=min_duration_ms,
    )


def _edgeperf_schedule(qps: float, min_duration_ms: int, queries: int) -> tuple[np.ndarray, int]:
    from edgeperf.loadgen import rng

    return rng.server_schedule(V11_SEEDS["schedule_rng_seed"], float(qps), min_duration_ms * 1_000_000, queries)


def lateness_ns(issue_ns: np.ndarray, scheduled_rel_ns: np.ndarray) -> np.ndarray:
    """How late each query arrived at the SUT relative to its schedule.

    ``scheduled_rel_ns[i]`` is query i's schedule relative to the (unknown) series start. The
    start is estimated as ``min_i(issue[i] - scheduled_rel[i])`` -- i.e. the least-late query
    is taken as 0 ns late -- so the figures are lower bounds, short by that query's true
    lateness (a few microseconds: the issue loop's own cost for one query).
    """
    n = min(len(issue_ns), len(scheduled_rel_ns))
    raw = np.asarray(issue_ns[:n], dtype=np.int64) - np.asarray(scheduled_rel_ns[:n], dtype=np.int64)
    return raw - raw.min()


def case_server(
    impl: str, outdir: str, qps: float, queries: int, min_duration_ms: int, record: bool = True
) -> dict[str, Any]:
    """Server: one run at ``qps``; validity, p99, and (from the SUT side) issue lateness."""
    recorder = IssueRecorder() if record else None
    wall = run_impl(impl, "Server", server_fields(qps, queries, min_duration_ms), outdir, recorder)
    rec = read_detail(outdir)
    out: dict[str, Any] = {
        "qps": qps,
        "valid": _pick(rec, "result_validity"),
        "p99_ns": _percentile_key(rec, "99.00"),
        "scheduled_sps": _pick(rec, "result_scheduled_samples_per_sec"),
        "completed_sps": _pick(rec, "result_completed_samples_per_sec"),
        "generated_query_count": _pick(rec, "generated_query_count"),
        "generated_query_duration": _pick(rec, "generated_query_duration"),
        "early_stopping_met": _pick(rec, "early_stopping_met"),
        "wall_s": wall,
        "maxrss_kib_self": _self_maxrss_kib(),
    }
    if recorder is not None and len(recorder.issue) > 1:
        issue = np.asarray(recorder.issue, dtype=np.int64)
        out["sut_issue_rate"] = (len(issue) - 1) / ((issue[-1] - issue[0]) / 1e9)
        deltas, duration = _edgeperf_schedule(qps, min_duration_ms, queries)
        same = len(deltas) == out["generated_query_count"] and int(duration) == out["generated_query_duration"]
        out["schedule_matches_edgeperf"] = bool(same)
        if same:
            late = lateness_ns(issue, deltas)
            out["lateness"] = _stats_us(late)
    return out


def case_multistream(
    impl: str, outdir: str, ruleset: str, queries: int, rate_hz: float, spq: int = 8
) -> dict[str, Any]:
    """MultiStream jitter (edgeperf only).

    v1.1: query i is due at the tick ``start + (i + 1) / target_qps`` (the first tick is one
    period after the start, §8.3); jitter = SUT-side arrival minus that tick, anchored as in
    :func:`lateness_ns`. v2.0: the next query is issued when the previous one completes; the gap
    is (arrival of query i+1) - (moment the SUT completed query i, taken just before the
    completion call), i.e. everything LoadGen does between two queries, completion included.
    """
    recorder = IssueRecorder()
    if ruleset == "v1.1":
        fields = dict(
            V11_SEEDS,
            ruleset="v1.1",
            multi_stream_target_qps=float(rate_hz),
            multi_stream_samples_per_query=spq,
            multi_stream_max_async_queries=1,
            min_query_count=queries,
            min_duration_ms=1,
        )
    else:
        fields = dict(
            V11_SEEDS,
            ruleset="v2.0",
            multi_stream_expected_latency_ns=1000,
            multi_stream_samples_per_query=spq,
            min_query_count=queries,
            min_duration_ms=1,
        )
    wall = run_impl(impl, "MultiStream", fields, outdir, recorder)
    rec = read_detail(outdir)
    issue = np.asarray(recorder.issue, dtype=np.int64)
    out: dict[str, Any] = {
        "ruleset": ruleset,
        "queries": len(issue),
        "valid": _pick(rec, "result_validity"),
        "wall_s": wall,
    }
    if ruleset == "v1.1" and len(issue) > 1:
        from edgeperf.loadgen.rng import seconds_to_ns

        # raw[i] = start + lateness[i] + (ticks skipped before i) * period, up to a constant.
        ideal = np.array([seconds_to_ns((i + 1) / rate_hz) for i in range(len(issue))], dtype=np.int64)
        raw = issue - ideal
        period = seconds_to_ns(1.0 / rate_hz)
        # Lateness against the tick each query was actually issued on: raw modulo the period.
        # On that circle the queries cluster just after their ticks; the cluster's densest
        # 20 us bin is found and the least-late query at most 1 ms (or a quarter period) before
        # it is taken as 0 late -- the same lower-bound anchoring as lateness_ns. Whole periods
        # between raw and this are ticks LoadGen skipped. Exact for lateness below one period
        # minus that window.
        phase = raw % period
        bins = max(1, period // 20_000)
        counts, edges = np.histogram(phase, bins=bins, range=(0, period))
        mode = int(edges[int(np.argmax(counts))])
        centred = (phase - mode + period // 2) % period
        window = min(period // 4, 1_000_000)
        anchor = centred[centred >= period // 2 - window].min()
        own = (centred - anchor) % period
        base = raw - own  # start + skipped * period
        out["rate_hz"] = rate_hz
        out["ticks_skipped"] = int(round((base[-1] - base.min()) / period))
        out["jitter_ideal"] = _stats_us(raw - base.min())
        out["jitter"] = _stats_us(own)
        out["first_gaps_us"] = (np.diff(issue[:6]) / 1e3).round(1).tolist()
    elif len(issue) > 1:
        done = np.asarray(recorder.done, dtype=np.int64)
        out["gap"] = _stats_us(issue[1:] - done[:-1])
        out["queries_per_s"] = (len(issue) - 1) / ((issue[-1] - issue[0]) / 1e9)
    return out


def case_rss_server(impl: str, outdir: str, qps: float, queries: int) -> dict[str, Any]:
    """A long Server run (no SUT-side recording): wall time and validity; RSS is taken by the parent."""
    fields = server_fields(qps, queries, min_duration_ms=1000)
    wall = run_impl(impl, "Server", fields, outdir, None)
    rec = read_detail(outdir)
    return {
        "qps": qps,
        "queries": _pick(rec, "generated_query_count"),
        "valid": _pick(rec, "result_validity"),
        "p99_ns": _percentile_key(rec, "99.00"),
        "wall_s": wall,
        "maxrss_kib_self": _self_maxrss_kib(),
    }


def case_pregen(
    outdir: str, qps: float, min_duration_ms: int, min_query_count: int, qsl_total: int, qsl_perf: int
) -> dict[str, Any]:
    """edgeperf pre-generation of a full-length Server series (loadable sets + queries)."""
    from edgeperf.loadgen.effective import compute_effective
    from edgeperf.loadgen.enums import TestMode, TestScenario
    from edgeperf.loadgen.queries import generate_loadable_sets, generate_queries
    from edgeperf.loadgen.settings import TestSettings

    settings = TestSettings(
        scenario=TestScenario.Server,
        mode=TestMode.PerformanceOnly,
        server_target_qps=float(qps),
        min_duration_ms=min_duration_ms,
        min_query_count=min_query_count,
        **V11_SEEDS,
    )
    eff, _ = compute_effective(settings, qsl_perf)
    rss_before = _self_maxrss_kib()
    t0 = time.perf_counter()
    sets = generate_loadable_sets(
        qsl_total, eff.performance_sample_count, eff.qsl_rng_seed, eff.scenario, eff.samples_per_query
    )
    t1 = time.perf_counter()
    gen = generate_queries(eff, sets[0], TestMode.PerformanceOnly)
    t2 = time.perf_counter()
    return {
        "queries": gen.count,
        "duration_ns": gen.duration_ns,
        "loadable_sets_s": t1 - t0,
        "generate_queries_s": t2 - t1,
        "total_s": t2 - t0,
        "array_bytes": int(gen.sample_indices.nbytes + (gen.deltas.nbytes if gen.deltas is not None else 0)),
        "maxrss_kib_before": rss_before,
        "maxrss_kib_self": _self_maxrss_kib(),
    }


def case_wheel_pregen(
    outdir: str, qps: float, min_duration_ms: int, min_query_count: int, qsl_total: int, qsl_perf: int
) -> dict[str, Any]:
    """The wheel's pre-generation of the same series, made cheap with ``max_query_count = 1``:
    the whole schedule is generated, then the run ends after the first query."""
    fields = dict(server_fields(qps, min_query_count, min_duration_ms), max_query_count=1)
    wall = run_binding("mlperf_loadgen", "Server", fields, outdir, None, qsl_total=qsl_total, qsl_perf=qsl_perf)
    rec = read_detail(outdir)
    return {
        "queries": _pick(rec, "generated_query_count"),
        "duration_ns": _pick(rec, "generated_query_duration"),
        "total_s": wall,
        "maxrss_kib_self": _self_maxrss_kib(),
    }


CASES = {
    "single": case_single,
    "offline": case_offline,
    "server": case_server,
    "multistream": case_multistream,
    "rss_server": case_rss_server,
    "pregen": case_pregen,
    "wheel_pregen": case_wheel_pregen,
}
