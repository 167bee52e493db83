"""A performance run with power: ranging and testing through a director (``edgeperf run --power``).

The two LoadGen runs are :func:`~edgeperf.benchmarks.runner.run_benchmark` calls driven by
:func:`~edgeperf.power.client.run_power_session`; the result is laid out in ``output`` as the v1.1
power results are (``power/``, ``ranging/``, ``run_1/``). The power metric is then computed from
``run_1`` by :func:`~edgeperf.power.compute_power_metric`, the code the submission checker runs,
with the same inputs (client and server timezones, the detail log's counts), and report.html
shows it beside the throughput plot.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterable

from ..power import PowerMetric, compute_power_metric, parse_spl_text
from ..power.spl import SplSamples
from ..power.client import PowerClientError, PowerClientOptions, run_power_session
from ..power.session import read_session_json, session_timezone

__all__ = ["PowerRunOutcome", "performance_dir_metric", "run_with_power"]


@dataclass
class PowerRunOutcome:
    output: Path
    session_id: str
    metric: PowerMetric
    simulated: bool
    report_path: Path | None = None
    warnings: list[str] = field(default_factory=list)
    valid: bool | None = None  # the testing run's LoadGen verdict


def _identify(server_json: dict) -> str:
    for m in server_json.get("ptd_messages") or []:
        if isinstance(m, dict) and m.get("cmd") == "Identify":
            return str(m.get("reply", ""))
    return ""


def performance_dir_metric(perf_dir: str | Path, scenario: str) -> tuple[PowerMetric, SplSamples, dict]:
    """(metric, spl samples, server.json) of a ``performance/`` folder holding power/ and run_1/."""
    from ..loadgen.logs.readers import read_detail_log

    perf_dir = Path(perf_dir)
    client = read_session_json(perf_dir / "power" / "client.json")
    server = read_session_json(perf_dir / "power" / "server.json")
    detail = read_detail_log(perf_dir / "run_1" / "mlperf_log_detail.txt")
    spl_path = perf_dir / "run_1" / "spl.txt"
    samples = parse_spl_text(spl_path.read_bytes().decode("utf-8", errors="replace"), spl_path)
    metric = compute_power_metric(
        samples,
        power_begin=detail["power_begin"],
        power_end=detail["power_end"],
        scenario=scenario,
        client_tz_seconds=session_timezone(client),
        server_tz_seconds=session_timezone(server),
        qps_with_loadgen_overhead=detail.get("result_qps_with_loadgen_overhead"),
        generated_query_count=detail.get("generated_query_count"),
        generated_samples_per_query=detail.get("generated_samples_per_query"),
        spl_path=spl_path,
    )
    return metric, samples, server


def power_series(metric: PowerMetric, samples: Iterable, server_json: dict):
    """The report's :class:`~edgeperf.report.data.PowerSeries` of a computed metric."""
    from ..report.data import PowerSeries

    shift = timedelta(seconds=session_timezone(server_json))
    offsets, watts = [], []
    for s in samples:
        try:
            w = float(s.watts_text)
        except ValueError:
            continue
        offsets.append(((s.time + shift) - metric.window.begin).total_seconds())
        watts.append(w)
    ident = _identify(server_json)
    note = (
        "Measured by edgeperf's analyzer SIMULATOR (" + ident.split(",")[0] + "): not a power measurement, "
        "never an MLPerf power result."
        if ident.startswith("EdgeperfSimulator")
        else "Unofficial: measured with edgeperf's power client and director, not the MLCommons power tools."
    )
    return PowerSeries(
        tuple(offsets),
        tuple(watts),
        metric.duration_s,
        metric.value,
        metric.unit or "",
        metric.average_watts,
        metric.sample_count,
        note,
    )


def run_with_power(
    opts,
    client: PowerClientOptions,
    *,
    listeners: Iterable[Callable] = (),
    on_event: Callable[[str], None] | None = None,
    report: bool = True,
) -> PowerRunOutcome:
    """Ranging and testing runs of ``opts`` (a performance-mode RunOptions) through the director."""
    from ..benchmarks.runner import SeriesCapture, run_benchmark, write_run_report

    capture = SeriesCapture()
    outcomes = {}

    def workload(mode: str, folder: Path) -> None:
        extra = [capture] if mode == "testing" else []
        outcomes[mode] = run_benchmark(
            dataclasses.replace(opts, output=folder, report=False), listeners=[*listeners, *extra]
        )

    output = Path(opts.output)
    session = run_power_session(client, workload, output, on_event=on_event)
    try:
        metric, samples, server = performance_dir_metric(output, opts.scenario.value)
    except ValueError as exc:  # no sample inside the window, a malformed log: no result to keep
        for name in ("power", "ranging", "run_1"):
            shutil.rmtree(output / name, ignore_errors=True)
        raise PowerClientError(f"the session completed but gives no power metric ({exc})") from None
    series = power_series(metric, samples, server)
    testing = outcomes["testing"].result
    path = None
    if report:
        path = write_run_report(
            output / "run_1", testing, capture.series, opts.benchmark, output / "report.html", power=series
        )
    valid = testing.performance.valid if testing.performance is not None else None
    return PowerRunOutcome(
        output,
        session.session_id,
        metric,
        _identify(server).startswith("EdgeperfSimulator"),
        path,
        session.warnings,
        valid,
    )
