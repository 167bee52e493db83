"""LoadGen overhead: edgeperf against the official LoadGen, with a null SUT.

Usage (from the repository root, after ``pip install -e '.[bench]'``)::

    python -m bench.loadgen_overhead             # everything, ~5 minutes on 2 cores
    python -m bench.loadgen_overhead --quick     # small counts, ~1 minute
    python -m bench.loadgen_overhead --only server --only single
    python -m bench.loadgen_overhead --json results.json --keep-logs

The null SUT completes every sample inside its issue callback, so what is measured is LoadGen's
own cost. The same harness (``bench/_workloads.py: run_binding``) runs through the official
``mlperf_loadgen`` wheel ("wheel") and through ``edgeperf.mlperf_loadgen`` ("drop-in"), differing
only in the imported module; a third run uses edgeperf's native vectorised API ("native":
``issue_query_arrays`` + ``complete_arrays``). Every measurement runs in a fresh interpreter
(``python -m bench.loadgen_overhead --one CASE ...``), with its logs in a temporary directory;
peak RSS is the child's ``ru_maxrss`` as returned by ``os.wait4``.

Ratios are always edgeperf / wheel. See bench/README.md for the targets and the last results.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("single", "offline", "server", "multistream", "rss", "pregen")
IMPL_LABEL = {"wheel": "wheel", "dropin": "drop-in", "native": "native"}
GIB = 1024**3


@dataclass(frozen=True)
class Plan:
    single_queries: int
    offline_samples: int
    repeats: int  # SingleStream and Offline runs per implementation; the median run is reported
    server_queries: int
    server_min_duration_ms: int
    server_tolerance: float  # stop bisecting when hi / lo <= 1 + tolerance
    ms_v11_queries: int
    ms_v11_rate_hz: float
    ms_v20_queries: int
    rss_queries: int
    rss_qps: float
    pregen_full: bool  # the 600 s / 270 000 QPS schedule (edgeperf only)
    pregen_compare_ms: int  # a shorter schedule at the same QPS, for both implementations


FULL = Plan(
    single_queries=200_000,
    offline_samples=1_000_000,
    repeats=3,
    server_queries=400_000,
    server_min_duration_ms=100,
    server_tolerance=0.02,
    ms_v11_queries=2_000,
    ms_v11_rate_hz=200.0,
    ms_v20_queries=50_000,
    rss_queries=1_000_000,
    rss_qps=100_000.0,
    pregen_full=True,
    pregen_compare_ms=60_000,
)

QUICK = Plan(
    single_queries=20_000,
    offline_samples=100_000,
    repeats=1,
    server_queries=40_000,
    server_min_duration_ms=10,
    server_tolerance=0.10,
    ms_v11_queries=200,
    ms_v11_rate_hz=200.0,
    ms_v20_queries=5_000,
    rss_queries=100_000,
    rss_qps=100_000.0,
    pregen_full=False,
    pregen_compare_ms=6_000,
)

PREGEN = dict(qps=270_000.0, min_duration_ms=600_000, min_query_count=270_336, qsl_total=50_000, qsl_perf=1_024)


# =============================================================================== child side


def _child_main(args: argparse.Namespace) -> int:
    from bench import _workloads

    func = _workloads.CASES[args.one]
    params = json.loads(args.params)
    os.makedirs(args.outdir, exist_ok=True)
    if args.impl:
        result = func(args.impl, args.outdir, **params)
    else:
        result = func(args.outdir, **params)
    with open(args.result, "w", encoding="utf-8") as fh:
        json.dump(result, fh)
    return 0


# =============================================================================== parent side


class Runner:
    """Starts one child interpreter per measurement and collects its result and rusage."""

    def __init__(self, workdir: Path, verbose: bool = True):
        self.workdir = workdir
        self.verbose = verbose
        self.count = 0

    def run(self, case: str, impl: str | None, timeout_s: float = 900, **params: Any) -> dict[str, Any]:
        self.count += 1
        tag = f"{self.count:03d}-{case}" + (f"-{impl}" if impl else "")
        case_dir = self.workdir / tag
        case_dir.mkdir(parents=True)
        result_path = case_dir / "result.json"
        cmd = [
            sys.executable,
            "-m",
            "bench.loadgen_overhead",
            "--one",
            case,
            "--params",
            json.dumps(params),
            "--outdir",
            str(case_dir / "logs"),
            "--result",
            str(result_path),
        ]
        if impl:
            cmd += ["--impl", impl]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        )
        t0 = time.perf_counter()
        with open(case_dir / "stdout.txt", "wb") as out, open(case_dir / "stderr.txt", "wb") as err:
            # cwd = the case directory: no stray audit.config can be picked up.
            proc = subprocess.Popen(cmd, cwd=case_dir, env=env, stdout=out, stderr=err)
            status, rusage = self._wait(proc, timeout_s)
        wall = time.perf_counter() - t0
        res: dict[str, Any] = {}
        if status == 0 and result_path.exists():
            res = json.loads(result_path.read_text())
        else:
            tail = (case_dir / "stderr.txt").read_text(errors="replace")[-2000:]
            res = {"error": f"exit status {status}", "stderr_tail": tail}
        res["process_wall_s"] = wall
        res["maxrss_kib"] = rusage.ru_maxrss if rusage is not None else None
        res["log_dir"] = str(case_dir)
        if self.verbose:
            summary = {k: res[k] for k in ("qps", "valid", "wall_s") if k in res}
            print(
                f"  [{tag}] {wall:6.1f} s  rss {_fmt_kib(res['maxrss_kib'])}  {summary}"
                + (f"  ERROR {res['error']}" if "error" in res else ""),
                flush=True,
            )
        return res

    @staticmethod
    def _wait(proc: subprocess.Popen, timeout_s: float):
        """Wait for the child with ``os.wait4`` so its own peak RSS comes back (ru_maxrss, KiB)."""
        deadline = time.monotonic() + timeout_s
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                return proc.returncode, rusage
            if time.monotonic() > deadline:
                proc.kill()
                _, status, rusage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                return -9, rusage
            time.sleep(0.02)


# ------------------------------------------------------------------------------ formatting


def _fmt_kib(kib: int | None) -> str:
    return "-" if kib is None else f"{kib / 1024:.0f} MiB"


def _num(x: Any, digits: int = 0) -> str:
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    if digits == 0:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def _ratio(a: Any, b: Any) -> float | None:
    try:
        if a is None or b is None or float(b) == 0:
            return None
        return float(a) / float(b)
    except (TypeError, ValueError):
        return None


def _fmt_ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}x"


def table(title: str, header: list[str], rows: list[list[str]], notes: list[str] = ()) -> str:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = [title, "-" * len(title)]
    fmt = lambda row: "  ".join(  # noqa: E731
        str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(row)
    )
    lines.append(fmt(header))
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(fmt(r) for r in rows)
    lines.extend(notes)
    return "\n".join(lines) + "\n"


def _target(ok: bool | None, text: str, value: str) -> str:
    mark = "n/a" if ok is None else ("MET" if ok else "MISSED")
    return f"  target: {text:<52} {mark:>6}  ({value})"


def _get(res: dict | None, key: str) -> Any:
    return None if res is None or "error" in res else res.get(key)


# ------------------------------------------------------------------------------- sections


class Bench:
    def __init__(self, plan: Plan, runner: Runner, impls: list[str]):
        self.plan = plan
        self.runner = runner
        self.impls = impls
        self.results: dict[str, Any] = {}
        self.targets: list[dict[str, Any]] = []
        self.out: list[str] = []

    def emit(self, text: str) -> None:
        print(text, flush=True)
        self.out.append(text)

    def _compare_rows(
        self, res: dict[str, dict], figures: list[tuple[str, str, int]]
    ) -> tuple[list[str], list[list[str]]]:
        header = ["figure"]
        for impl in self.impls:
            header.append(IMPL_LABEL[impl])
            if impl != "wheel" and "wheel" in self.impls:
                header.append(f"{IMPL_LABEL[impl]}/wheel")
        rows = []
        for label, key, digits in figures:
            row = [label]
            base = _get(res.get("wheel"), key)
            for impl in self.impls:
                v = _get(res.get(impl), key)
                row.append(_num(v, max(digits, 0)) if "error" not in (res.get(impl) or {}) else "error")
                if impl != "wheel" and "wheel" in self.impls:
                    row.append(_fmt_ratio(_ratio(v, base)) if digits >= 0 else "")
            rows.append(row)
        return header, rows

    def _median_run(self, case: str, impl: str, key: str, **params: Any) -> dict[str, Any]:
        """Run a case ``repeats`` times; return the run with the median ``key`` (all runs under 'runs')."""
        runs = [self.runner.run(case, impl, **params) for _ in range(self.plan.repeats)]
        good = sorted((r for r in runs if _get(r, key) is not None), key=lambda r: r[key])
        chosen = dict(good[len(good) // 2]) if good else dict(runs[0])
        chosen["runs"] = [r.get(key) for r in runs]
        chosen["spread"] = f"{_num(good[0][key])}..{_num(good[-1][key])}" if len(good) > 1 else None
        return chosen

    def add_target(self, name: str, text: str, ratio: float | None, ok: bool | None, value: str) -> str:
        self.targets.append({"name": name, "target": text, "ratio": ratio, "met": ok, "value": value})
        return _target(ok, text, value)

    # -- SingleStream --------------------------------------------------------------------
    def single(self) -> None:
        n = self.plan.single_queries
        print(f"SingleStream: {n} queries per implementation", flush=True)
        res = {impl: self._median_run("single", impl, "p90_ns", queries=n) for impl in self.impls}
        self.results["single"] = res
        header, rows = self._compare_rows(
            res,
            [
                ("90th percentile latency (ns)", "p90_ns", 0),
            ]
            + ([("  range over the runs", "spread", -1)] if self.plan.repeats > 1 else [])
            + [
                ("QPS w/ loadgen overhead", "qps_with_overhead", 0),
                ("QPS w/o loadgen overhead", "qps_without_overhead", 0),
                ("result", "valid", 0),
            ],
        )
        r = _ratio(_get(res.get("dropin"), "p90_ns"), _get(res.get("wheel"), "p90_ns"))
        notes = [
            self.add_target(
                "single_p90",
                "SingleStream p90 latency, drop-in <= 1.5x wheel",
                r,
                None if r is None else r <= 1.5,
                _fmt_ratio(r),
            )
        ]
        self.emit(
            table(
                f"SingleStream -- null SUT, {n:,} queries, median of {self.plan.repeats} run(s) by p90",
                header,
                rows,
                notes,
            )
        )

    # -- Offline -------------------------------------------------------------------------
    def offline(self) -> None:
        n = self.plan.offline_samples
        print(f"Offline: one query of {n} samples per implementation", flush=True)
        res = {impl: self._median_run("offline", impl, "samples_per_second", samples=n) for impl in self.impls}
        self.results["offline"] = res
        header, rows = self._compare_rows(
            res,
            [
                ("samples per second", "samples_per_second", 0),
            ]
            + ([("  range over the runs", "spread", -1)] if self.plan.repeats > 1 else [])
            + [
                ("StartTest wall time (s)", "wall_s", 3),
            ],
        )
        base = _get(res.get("wheel"), "samples_per_second")
        r1 = _ratio(_get(res.get("dropin"), "samples_per_second"), base)
        r2 = _ratio(_get(res.get("native"), "samples_per_second"), base)
        notes = [
            self.add_target(
                "offline_dropin",
                "Offline samples/s, drop-in >= 1.0x wheel",
                r1,
                None if r1 is None else r1 >= 1.0,
                _fmt_ratio(r1),
            ),
            self.add_target(
                "offline_native",
                "Offline samples/s, native >= 3x wheel",
                r2,
                None if r2 is None else r2 >= 3.0,
                _fmt_ratio(r2),
            ),
        ]
        self.emit(
            table(f"Offline -- null SUT, {n:,} samples, median of {self.plan.repeats} run(s)", header, rows, notes)
        )

    # -- Server --------------------------------------------------------------------------
    def _server_probe(self, impl: str, qps: float) -> dict[str, Any]:
        p = self.plan
        return self.runner.run(
            "server", impl, qps=float(qps), queries=p.server_queries, min_duration_ms=p.server_min_duration_ms
        )

    @staticmethod
    def _valid(res: dict[str, Any]) -> bool:
        return res.get("valid") == "VALID"

    def _bisect(self, impl: str) -> dict[str, Any]:
        """Highest VALID server_target_qps: saturate once to find the issue rate R, then bisect."""
        probes: list[dict[str, Any]] = []
        sat = self._server_probe(impl, 5_000_000.0)
        probes.append(sat)
        rate = _get(sat, "sut_issue_rate") or _get(sat, "completed_sps") or 10_000.0
        hi = float(rate)
        top = self._server_probe(impl, hi)
        probes.append(top)
        best = None
        if self._valid(top):  # unexpected, but then search upwards
            best, lo, hi = top, hi, 2 * hi
            while True:
                r = self._server_probe(impl, hi)
                probes.append(r)
                if not self._valid(r):
                    break
                best, lo, hi = r, hi, 2 * hi
        else:
            lo = hi / 2
            while lo >= 100:
                r = self._server_probe(impl, lo)
                probes.append(r)
                if self._valid(r):
                    best = r
                    break
                hi, lo = lo, lo / 2
        if best is None:
            return {"max_valid_qps": None, "probes": probes, "best": None}
        while hi / lo > 1 + self.plan.server_tolerance:
            mid = math.sqrt(lo * hi)
            r = self._server_probe(impl, mid)
            probes.append(r)
            if self._valid(r):
                best, lo = r, mid
            else:
                hi = mid
        return {
            "max_valid_qps": lo,
            "first_invalid_qps": hi,
            "saturated_issue_rate": rate,
            "probes": probes,
            "best": best,
        }

    def server(self) -> None:
        p = self.plan
        print(
            f"Server: bisection for the highest VALID target QPS, {p.server_queries} queries per run, 10 ms bound",
            flush=True,
        )
        res: dict[str, Any] = {}
        for impl in self.impls:
            res[impl] = self._bisect(impl)
        maxima = [res[i]["max_valid_qps"] for i in self.impls if res[i]["max_valid_qps"]]
        common = min(maxima) if maxima else None
        if common:
            for impl in self.impls:
                best = res[impl]["best"]
                if best is not None and abs(best.get("qps", 0) - common) < 1e-6:
                    res[impl]["at_common"] = best
                else:
                    res[impl]["at_common"] = self._server_probe(impl, common)
        self.results["server"] = res
        self.results["server_common_qps"] = common

        def lat(r: dict | None, key: str) -> Any:
            if r is None or "error" in r or "lateness" not in r:
                return None
            return r["lateness"].get(key)

        flat = {
            impl: {
                "max_valid_qps": res[impl]["max_valid_qps"],
                "p99_at_max": _get(res[impl]["best"], "p99_ns"),
                "sat_rate": res[impl].get("saturated_issue_rate"),
                "late_p50": lat(res[impl]["best"], "p50_us"),
                "late_p99": lat(res[impl]["best"], "p99_us"),
                "late_max": lat(res[impl]["best"], "max_us"),
                "c_late_p50": lat(res[impl].get("at_common"), "p50_us"),
                "c_late_p99": lat(res[impl].get("at_common"), "p99_us"),
                "c_late_max": lat(res[impl].get("at_common"), "max_us"),
                "c_p99": _get(res[impl].get("at_common"), "p99_ns"),
                "c_valid": _get(res[impl].get("at_common"), "valid"),
                "probes": len(res[impl]["probes"]),
            }
            for impl in self.impls
        }
        header, rows = self._compare_rows(
            flat,
            [
                ("highest VALID server_target_qps", "max_valid_qps", 0),
                ("  p99 latency at that QPS (ns)", "p99_at_max", 0),
                ("  issue lateness p50 (us)", "late_p50", 1),
                ("  issue lateness p99 (us)", "late_p99", 1),
                ("  issue lateness max (us)", "late_max", 1),
                (f"at {_num(common)} QPS: result", "c_valid", 0),
                ("  p99 latency (ns)", "c_p99", 0),
                ("  issue lateness p50 (us)", "c_late_p50", 1),
                ("  issue lateness p99 (us)", "c_late_p99", 1),
                ("  issue lateness max (us)", "c_late_max", 1),
                ("saturated issue rate (queries/s)", "sat_rate", 0),
                ("probes run", "probes", -1),
            ],
        )
        r = _ratio(flat.get("dropin", {}).get("max_valid_qps"), flat.get("wheel", {}).get("max_valid_qps"))
        notes = [
            self.add_target(
                "server_qps",
                "Server highest VALID QPS, drop-in >= 1.0x wheel",
                r,
                None if r is None else r >= 1.0,
                _fmt_ratio(r),
            ),
            "  issue lateness: SUT-side arrival time of query i minus (start + scheduled delta i), the",
            "  schedule rebuilt with edgeperf.loadgen.rng.server_schedule (checked equal to each run's",
            "  generated_query_count/duration) and the start anchored on the least-late query (lower bound).",
        ]
        self.emit(
            table(
                f"Server -- null SUT, {p.server_queries:,} queries/run, 10 ms p99 bound "
                f"(bisection to {p.server_tolerance:.0%})",
                header,
                rows,
                notes,
            )
        )

    # -- MultiStream ---------------------------------------------------------------------
    def multistream(self) -> None:
        p = self.plan
        impls = [i for i in self.impls if i != "wheel"]
        print(
            f"MultiStream (edgeperf only): v1.1 {p.ms_v11_queries} queries at {p.ms_v11_rate_hz:g} Hz, "
            f"v2.0 {p.ms_v20_queries} queries",
            flush=True,
        )
        res = {}
        for impl in impls:
            res[impl] = {
                "v1.1": self.runner.run(
                    "multistream", impl, ruleset="v1.1", queries=p.ms_v11_queries, rate_hz=p.ms_v11_rate_hz
                ),
                "v2.0": self.runner.run("multistream", impl, ruleset="v2.0", queries=p.ms_v20_queries, rate_hz=0),
            }
        self.results["multistream"] = res

        def g(impl, form, group, key):
            r = res[impl][form]
            if "error" in r:
                return "error"
            if group is None:
                return r.get(key)
            return (r.get(group) or {}).get(key)

        header = ["figure"] + [IMPL_LABEL[i] for i in impls]
        spec = [
            (f"v1.1 ({p.ms_v11_rate_hz:g} Hz, 8 samples/query): result", "v1.1", None, "valid", 0),
            ("  lateness vs ideal tick, p50 (us)", "v1.1", "jitter_ideal", "p50_us", 1),
            ("  lateness vs ideal tick, p99 (us)", "v1.1", "jitter_ideal", "p99_us", 1),
            ("  lateness vs ideal tick, max (us)", "v1.1", "jitter_ideal", "max_us", 1),
            ("  ticks skipped (whole run)", "v1.1", None, "ticks_skipped", 0),
            ("  lateness vs tick issued on, p50 (us)", "v1.1", "jitter", "p50_us", 1),
            ("  lateness vs tick issued on, p99 (us)", "v1.1", "jitter", "p99_us", 1),
            ("  lateness vs tick issued on, max (us)", "v1.1", "jitter", "max_us", 1),
            ("v2.0 (8 samples/query): result", "v2.0", None, "valid", 0),
            ("  completion -> next issue, p50 (us)", "v2.0", "gap", "p50_us", 1),
            ("  completion -> next issue, p99 (us)", "v2.0", "gap", "p99_us", 1),
            ("  completion -> next issue, max (us)", "v2.0", "gap", "max_us", 1),
            ("  queries per second", "v2.0", None, "queries_per_s", 0),
        ]
        rows = [[label] + [_num(g(i, form, grp, key), d) for i in impls] for label, form, grp, key, d in spec]
        notes = [
            "  v1.1: SUT-side arrival of query i minus its ideal tick start + (i+1)/target_qps, the start",
            "  anchored on the least-late query; 'ideal' keeps skipped ticks as lateness, 'tick issued on'",
            "  takes it modulo the period (exact below one period of lateness).",
            "  v2.0: arrival of query i+1 minus the moment the SUT completed query i (just before its",
            "  QuerySamplesComplete/complete_arrays call), i.e. all LoadGen work between two queries.",
        ]
        self.emit(table("MultiStream -- edgeperf only, null SUT", header, rows, notes))

    # -- RSS -----------------------------------------------------------------------------
    def rss(self) -> None:
        p = self.plan
        print(f"Server RSS: {p.rss_queries} queries at {p.rss_qps:g} QPS, one process per implementation", flush=True)
        res = {impl: self.runner.run("rss_server", impl, qps=p.rss_qps, queries=p.rss_queries) for impl in self.impls}
        for r in res.values():
            if r.get("maxrss_kib"):
                r["maxrss_mib"] = r["maxrss_kib"] / 1024
        self.results["rss"] = res
        header, rows = self._compare_rows(
            res,
            [
                ("peak RSS (MiB)", "maxrss_mib", 0),
                ("StartTest wall time (s)", "wall_s", 2),
                ("process wall time (s)", "process_wall_s", 2),
                ("result", "valid", 0),
                ("p99 latency (ns)", "p99_ns", 0),
            ],
        )
        r = _ratio(_get(res.get("dropin"), "maxrss_mib"), _get(res.get("wheel"), "maxrss_mib"))
        notes = [
            self.add_target(
                "rss",
                "peak RSS of the Server run, drop-in <= 1.0x wheel",
                r,
                None if r is None else r <= 1.0,
                _fmt_ratio(r),
            )
        ]
        self.emit(
            table(
                f"Server {p.rss_queries:,} queries at {p.rss_qps:,.0f} QPS -- peak RSS and wall time",
                header,
                rows,
                notes,
            )
        )

    # -- Pre-generation ------------------------------------------------------------------
    def pregen(self) -> None:
        p = self.plan
        res: dict[str, Any] = {}
        rows = []
        cmp_params = dict(PREGEN, min_duration_ms=p.pregen_compare_ms)
        print(
            f"Pre-generation: Server schedule of {p.pregen_compare_ms / 1000:g} s at 270 000 QPS "
            f"(both implementations)" + (", then the full 600 s one (edgeperf)" if p.pregen_full else ""),
            flush=True,
        )
        if "wheel" in self.impls:
            res["wheel_short"] = self.runner.run("wheel_pregen", None, **cmp_params)
        res["edgeperf_short"] = self.runner.run("pregen", None, **cmp_params)
        if p.pregen_full:
            res["edgeperf_full"] = self.runner.run("pregen", None, **PREGEN)
        self.results["pregen"] = res

        def row(label, r, note=""):
            if r is None or "error" in r:
                return [label, "-", "-", "-", "-", "error" if r else "-"]
            t = r.get("total_s")
            arrays = r.get("array_bytes")
            return [
                label,
                _num(r.get("queries")),
                _num(t, 2),
                _num(r["maxrss_kib"] / 1024**2, 2),
                "-" if arrays is None else _num(arrays / GIB, 2),
                note,
            ]

        if "wheel_short" in res:
            rows.append(
                row(f"wheel, {p.pregen_compare_ms // 1000} s", res["wheel_short"], "StartTest with max_query_count=1")
            )
        rows.append(
            row(
                f"edgeperf, {p.pregen_compare_ms // 1000} s",
                res["edgeperf_short"],
                "generate_loadable_sets + generate_queries",
            )
        )
        notes = []
        if p.pregen_full:
            full = res["edgeperf_full"]
            rows.append(row("edgeperf, 600 s", full, "generate_loadable_sets + generate_queries"))
            t = _get(full, "total_s")
            rss_gib = (full.get("maxrss_kib") or 0) / 1024**2 if "error" not in full else None
            notes.append(
                self.add_target(
                    "pregen_time",
                    "pre-generate 163 M-query schedule < 60 s",
                    None,
                    None if t is None else t < 60,
                    f"{_num(t, 1)} s",
                )
            )
            notes.append(
                self.add_target(
                    "pregen_mem",
                    "pre-generate 163 M-query schedule < 4 GiB peak",
                    None,
                    None if rss_gib is None else rss_gib < 4,
                    f"{_num(rss_gib, 2)} GiB",
                )
            )
            ws = res.get("wheel_short")
            if ws and "error" not in ws and ws.get("queries"):
                scale = (_get(full, "queries") or 0) / ws["queries"]
                notes.append(
                    f"  wheel at 600 s, extrapolated linearly from its {p.pregen_compare_ms // 1000} s run: "
                    f"~{ws['total_s'] * scale:.0f} s, ~{ws['maxrss_kib'] * scale / 1024**2:.0f} GiB "
                    "(not run: it needs more memory than this machine has)"
                )
        self.emit(
            table(
                "Server pre-generation at 270 000 QPS (v1.1 seeds, QSL 50 000 / 1 024)",
                ["run", "queries", "time (s)", "peak RSS (GiB)", "result arrays (GiB)", "how"],
                rows,
                notes,
            )
        )


# =============================================================================== main


def _machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "nproc": os.cpu_count(),
    }
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in lscpu.splitlines():
            if line.startswith("Model name:"):
                info["cpu"] = line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        with open("/proc/meminfo") as fh:
            info["mem_total_gib"] = round(int(fh.readline().split()[1]) / 1024**2, 1)
    except OSError:
        pass
    for _module, dist in (("numpy", "numpy"), ("mlperf_loadgen", "mlcommons-loadgen"), ("edgeperf", "edgeperf")):
        try:
            from importlib.metadata import version

            info[dist] = version(dist)
        except Exception:  # noqa: BLE001
            info[dist] = None
    try:
        git = ["git", "-C", str(REPO_ROOT)]
        head = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(git + ["status", "--porcelain", "--", "src"], capture_output=True, text=True, timeout=10)
        info["edgeperf_commit"] = head.stdout.strip() + ("+uncommitted-src" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.loadgen_overhead", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small counts: a smoke test of about a minute")
    ap.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="SECTION",
        help=f"run only these sections (repeatable or comma-separated): {', '.join(SECTIONS)}",
    )
    ap.add_argument("--no-wheel", action="store_true", help="skip the official LoadGen (edgeperf only)")
    ap.add_argument("--json", metavar="PATH", help="also write every result as JSON here")
    ap.add_argument("--keep-logs", action="store_true", help="keep the per-run log directories")
    ap.add_argument("--logdir", metavar="DIR", help="put the per-run directories here (implies --keep-logs)")
    ap.add_argument("--quiet", action="store_true", help="print only the tables")
    # child-process interface
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--impl", help=argparse.SUPPRESS)
    ap.add_argument("--params", help=argparse.SUPPRESS)
    ap.add_argument("--outdir", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        return _child_main(args)

    sections = [s for item in args.only for s in item.split(",") if s] or list(SECTIONS)
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        ap.error(f"unknown section(s) {unknown}; choose from {SECTIONS}")
    impls = ["wheel", "dropin", "native"]
    if args.no_wheel:
        impls.remove("wheel")
    elif importlib.util.find_spec("mlperf_loadgen") is None:
        print("mlperf_loadgen is not installed (pip install -e '.[bench]'); running edgeperf only.", file=sys.stderr)
        impls.remove("wheel")

    plan = QUICK if args.quick else FULL
    keep = args.keep_logs or bool(args.logdir)
    workdir = Path(args.logdir) if args.logdir else Path(tempfile.mkdtemp(prefix="edgeperf-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    machine = _machine()
    bench = Bench(plan, Runner(workdir, verbose=not args.quiet), impls)
    bench.emit("edgeperf LoadGen overhead benchmark" + (" (--quick)" if args.quick else ""))
    bench.emit("machine: " + ", ".join(f"{k}={v}" for k, v in machine.items()))
    bench.emit(
        "ratios are edgeperf / wheel: above 1 is better for QPS and samples/s, worse for latency,\n"
        "lateness, memory and time.\n"
    )
    t0 = time.perf_counter()
    try:
        for section in SECTIONS:
            if section in sections:
                getattr(bench, section)()
    finally:
        elapsed = time.perf_counter() - t0
        if bench.targets:
            lines = [
                f"  {t['target']:<56} {('MET' if t['met'] else 'MISSED') if t['met'] is not None else 'n/a':>6}"
                f"  ({t['value']})"
                for t in bench.targets
            ]
            bench.emit("Targets\n-------\n" + "\n".join(lines) + "\n")
        bench.emit(
            f"total benchmark time: {elapsed:.0f} s; {bench.runner.count} child processes; "
            f"logs {'kept in ' + str(workdir) if keep else 'removed'}"
        )
        if args.json:
            Path(args.json).write_text(
                json.dumps(
                    {
                        "machine": machine,
                        "plan": plan.__dict__,
                        "results": bench.results,
                        "targets": bench.targets,
                        "elapsed_s": elapsed,
                        "tables": bench.out,
                    },
                    indent=1,
                    default=str,
                )
            )
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
