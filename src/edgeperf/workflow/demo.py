"""``edgeperf demo``: a complete small Open-division submission, start to finish, with no download.

The plan (DESIGN.md's workflow layer), on the shipped ``demo-digits`` benchmark:

1. sizing (:mod:`.demo_settings`): a calibration of the model alone, a FindPeakPerformance search
   of the Server rate (the Server runs use ``SERVER_MARGIN`` of the peak, halved until a Server
   run at it is VALID), and a short Offline run that sizes the Offline query;
2. :func:`~.submission_run.run_plan` (the ``submission run`` plan): accuracy and performance in
   SingleStream, MultiStream, Server and Offline, and TEST01, TEST04-A/B and TEST05 where a closed
   result would need them, each run with its ``report.html``;
3. power: a run measured by a :data:`PowerMeasurer` (the power simulator), skipped with a
   note when this build has none;
4. build the Open-division tree, with a generated system description;
5. check it (the v1.1 checker, told ``demo-digits:resnet`` as its extra model map);
6. the results page, by a :data:`PageWriter`.

By default every performance run lasts :data:`DEFAULT_DURATION_S` seconds with small minimum
query counts, so the whole plan takes a few minutes; everything it writes says it is NOT compliant
(:data:`NOT_COMPLIANT`). ``full=True`` keeps the rules' durations and query counts of
``mlperf.conf`` (hours).

Output folder::

    <output>/.edgeperf-demo          marks the folder as the demo's (a re-run replaces it)
    <output>/find-peak/              the Server search: logs and report.html (find-peak.user.conf)
    <output>/server-check/           the Server run that confirms the rate
    <output>/calibration/            the Offline run that sizes the Offline query
    <output>/user.conf               the settings of every run of the plan
    <output>/runs/                   every run of the plan (runs/demo-digits/<scenario>/<step>/)
    <output>/power/                  the power run, when there is a power measurer
                                     (power-director/: the simulator's director configuration)
    <output>/system/<name>.json      the generated system description
    <output>/submission/             the Open-division tree
    <output>/summary.csv, check.txt  the checker's summary and report
    <output>/results/                the results page
    <output>/demo.json               the outcome (format ``edgeperf-demo``, version 1)
"""

from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import EdgeperfError
from .demo_results import (
    MEASUREMENT,
    DemoRow,
    add_power_run,
    default_page_writer,
    report_tables_page,
    result_rows,
    tree_readme,
    write_system_json,
)
from .demo_settings import (
    DEFAULT_DURATION_S,
    DEMO_BENCHMARK,
    DEMO_SCENARIOS,
    FULL_NOTE,
    NOT_COMPLIANT,
    SERVER_MARGIN,
    SUBMITTER,
    calibrate,
    confirm_server_rate,
    find_peak_conf_text,
    offline_rate,
    user_conf_text,
)
from .submission_run import OneShotOptions, PlanStep, plan_steps, run_plan

__all__ = [
    "DEMO_BENCHMARK",
    "DEMO_SCENARIOS",
    "DEFAULT_DURATION_S",
    "DemoError",
    "DemoOptions",
    "DemoOutcome",
    "DemoRow",
    "JSON_FORMAT",
    "JSON_VERSION",
    "NOT_COMPLIANT",
    "PageWriter",
    "PowerMeasurer",
    "demo_step_labels",
    "prepare_output",
    "report_tables_page",
    "run_demo",
    "validate_duration",
]

MARKER = ".edgeperf-demo"
#: The shortest power run (s): the analyzer gives one sample a second.
POWER_MIN_DURATION_S = 3.0
JSON_FORMAT = "edgeperf-demo"
JSON_VERSION = 1
#: ``measure(run, folder) -> power folder``. ``run(logs)`` makes one performance run that writes
#: LoadGen's logs into ``logs``; the measurer calls it (for ranging and for testing) while its
#: analyzer records, writes the power files under ``folder`` and returns the folder holding
#: them, or raises :class:`~edgeperf.errors.EdgeperfError`.
PowerMeasurer = Callable[[Callable[[Path], Any], Path], Path]

#: ``write(tree, summary_csv, folder) -> page``: the results page of a checked tree.
PageWriter = Callable[[Path, Path, Path], Path]


class DemoError(EdgeperfError, ValueError):
    """A demo that cannot run as asked (bad option, unusable output folder); one line."""


@dataclass
class DemoOptions:
    """What ``edgeperf demo`` accepts."""

    output: Path
    full: bool = False
    duration_s: float = DEFAULT_DURATION_S  # each performance run, unless ``full``
    threads: int | None = 1  # onnxruntime intra-op threads: one keeps runs steady on a small machine
    power: PowerMeasurer | None = None
    power_unavailable: str = "power simulator not available in this build"
    page: PageWriter | None = None  # None: the results store's page if installed, else report_tables_page


@dataclass
class DemoOutcome:
    """Where everything is, and what the checker said."""

    output: Path
    tree: Path
    runs: Path
    page: Path
    full: bool
    duration_s: float | None
    server_qps: float
    peak_qps: float | None
    quality_target: float
    rows: list[DemoRow]
    verdict_status: str
    verdict_line: str
    check_exit_code: int
    reports: list[Path]
    power: Path | None
    power_note: str
    system_json: Path
    summary_csv: Path
    check_report: Path
    extra_model_map: dict[str, str]
    elapsed_s: float = 0.0

    @property
    def label(self) -> str:
        return FULL_NOTE if self.full else NOT_COMPLIANT

    @property
    def check_command(self) -> str:
        maps = ";".join(f"{k}:{v}" for k, v in self.extra_model_map.items())
        return f"edgeperf check {self.tree} --extra-model-map '{maps}'"

    @property
    def open_command(self) -> str:
        return f"python3 -m webbrowser -t {self.page.resolve().as_uri()}"

    def to_json(self) -> dict:
        """The outcome as versioned JSON (format ``edgeperf-demo``, version 1)."""
        return {
            "format": JSON_FORMAT,
            "version": JSON_VERSION,
            "compliant_durations": self.full,
            "label": self.label,
            "benchmark": DEMO_BENCHMARK,
            "division": "open",
            "duration_s": self.duration_s,
            "server_target_qps": self.server_qps,
            "find_peak_qps": self.peak_qps,
            "quality_target": self.quality_target,
            "results": [
                {
                    "scenario": r.scenario,
                    "metric": r.metric,
                    "value": r.value,
                    "units": r.units,
                    "valid": r.valid,
                    "accuracy": r.accuracy,
                    "accuracy_meets_target": r.accuracy_ok,
                    "compliance": r.compliance,
                    "power": r.power or None,
                }
                for r in self.rows
            ],
            "check": {
                "status": self.verdict_status,
                "line": self.verdict_line,
                "exit_code": self.check_exit_code,
                "command": self.check_command,
            },
            "power": {"folder": str(self.power) if self.power else None, "note": self.power_note},
            "paths": {
                "output": str(self.output),
                "tree": str(self.tree),
                "runs": str(self.runs),
                "results_page": str(self.page),
                "summary_csv": str(self.summary_csv),
                "check_report": str(self.check_report),
                "system_json": str(self.system_json),
                "reports": [str(p) for p in self.reports],
            },
            "open_page_command": self.open_command,
            "elapsed_s": round(self.elapsed_s, 3),
        }


# --------------------------------------------------------------------------- options


def validate_duration(value: float) -> float:
    """A run duration in seconds: finite and above zero (DemoError otherwise)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DemoError(f"--duration: expected a number of seconds, found {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise DemoError(f"--duration: expected a finite number of seconds above 0, found {value!r}")
    return number


def prepare_output(output: Path) -> Path:
    """Make ``output`` an empty folder the demo can write, replacing an earlier demo's output.

    DemoError when it is a file, a non-empty folder the demo did not make, or not writable.
    """
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise DemoError(f"--output {output}: exists and is not a folder (expected a folder for the demo's files)")
    if output.is_dir() and any(output.iterdir()):
        if not (output / MARKER).is_file():
            raise DemoError(
                f"--output {output}: the folder is not empty and is not an earlier edgeperf demo's "
                "output; choose a new or empty folder"
            )
        try:
            for child in output.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        except OSError as exc:
            raise DemoError(
                f"--output {output}: cannot replace the earlier demo's files ({exc.strerror or exc})"
            ) from None
    try:
        output.mkdir(parents=True, exist_ok=True)
        (output / MARKER).write_text("edgeperf demo output; `edgeperf demo` replaces this folder's contents\n")
    except OSError as exc:
        where = exc.filename or output
        raise DemoError(f"--output {output}: cannot write there ({where}: {exc.strerror or exc})") from None
    return output


def _performance_valid(folder: Path) -> bool:
    try:
        text = (folder / "mlperf_log_summary.txt").read_text(errors="replace")
    except OSError:
        return False
    return "Result is : VALID" in text


def _rerun_invalid(
    plan: OneShotOptions,
    duration: float | None,
    server_qps: float,
    offline_qps: float,
    latency_s: float,
    say: Callable[[str], None],
    listeners_for: Callable[[str], Iterable[Callable]] | None,
    tries: int = 2,
) -> tuple[float, float]:
    """Run an INVALID performance run again (at most ``tries`` times), with more room: half the
    Server rate, a twice larger Offline query. On a busy small machine one run in a few misses
    its bound or ends before its duration, and the tree needs VALID performance runs (the
    compliance runs keep their first settings; their verdicts are only reported in the Open
    division). Returns the (Server, Offline) rates finally used."""
    from ..benchmarks.runner import RunOptions, run_benchmark
    from ..loadgen.enums import TestMode, TestScenario

    runs = plan.runs_dir
    for _ in range(tries):
        invalid = [s for s in DEMO_SCENARIOS if not _performance_valid(runs / DEMO_BENCHMARK / s / "performance")]
        if not invalid:
            break
        if "Server" in invalid:
            server_qps = max(1.0, server_qps / 2)
        if "Offline" in invalid:
            offline_qps *= 2
        text = user_conf_text(duration, server_qps, offline_qps, latency_s)
        if plan.user_conf is None:  # the demo always writes one before its runs
            raise DemoError("the demo's plan has no user.conf to rewrite")
        Path(plan.user_conf).write_text(text)
        (runs / "user.conf").write_text(text)  # the copy the runs and the tree's measurements use
        for scenario in invalid:
            say(
                f"{scenario} performance run INVALID (a busy machine?); running it again"
                + {
                    "Server": f" at {server_qps:.0f} queries/s",
                    "Offline": f" expecting {offline_qps:,.0f} samples/s",
                }.get(scenario, "")
            )
            folder = runs / DEMO_BENCHMARK / scenario / "performance"
            shutil.rmtree(folder, ignore_errors=True)
            label = f"{DEMO_BENCHMARK} {scenario} performance (again)"
            run_benchmark(
                RunOptions(
                    benchmark=DEMO_BENCHMARK,
                    scenario=TestScenario(scenario),
                    mode=TestMode.PerformanceOnly,
                    model=Path(plan.model),
                    dataset=Path(plan.dataset),
                    output=folder,
                    user_conf=runs / "user.conf",
                    threads=plan.threads,
                    report=True,
                    report_note=plan.report_note,
                    settings_overrides=dict(plan.settings_overrides),
                ),
                listeners=list(listeners_for(label)) if listeners_for else [],
            )
    return server_qps, offline_qps


def demo_step_labels(power: bool = True) -> list[str]:
    """Every step of the demo's plan, in order (the progress counter's denominator)."""
    steps = plan_steps([DEMO_BENCHMARK], DEMO_SCENARIOS, "open", compliance=True)
    return (
        ["find-peak: Server rate"]
        + [s.label for s in steps]
        + [
            "power: " + ("Offline on the power simulator" if power else "skipped"),
            "build the Open-division tree",
            "check the tree",
            "results page",
        ]
    )


# --------------------------------------------------------------------------- settings

Progress = Callable[[int, int, str, str], None]


def run_demo(
    opts: DemoOptions,
    *,
    on_progress: Progress | None = None,
    listeners_for: Callable[[str], Iterable[Callable]] | None = None,
) -> DemoOutcome:
    """Run the whole demo plan (module docstring); the outcome says where everything is.

    ``on_progress(i, n, label, status)`` hears ``"start"``, ``"done"`` and ``"skip"`` for each of
    the :func:`demo_step_labels`, and ``"note"`` with a one-line message; ``listeners_for(label)``
    gives LoadGen event listeners for a run (live progress).
    """
    from ..benchmarks.demo_digits import OPEN_MODEL_MAP, demo_dataset_path, demo_model_path
    from ..benchmarks.registry import get_benchmark
    from ..benchmarks.runner import RunOptions, run_benchmark
    from ..loadgen.enums import TestMode, TestScenario

    started = time.perf_counter()
    duration = None if opts.full else validate_duration(opts.duration_s)
    output = prepare_output(Path(opts.output))
    bench = get_benchmark(DEMO_BENCHMARK)
    model, dataset = demo_model_path(), demo_dataset_path()
    labels = demo_step_labels(opts.power is not None)
    n = len(labels)
    note = FULL_NOTE if opts.full else NOT_COMPLIANT
    step_no = 0

    def progress(label: str, status: str) -> None:
        if on_progress is not None:
            on_progress(step_no, n, label, status)

    def begin(label: str) -> None:
        nonlocal step_no
        step_no += 1
        progress(label, "start")

    # 1. find-peak: the Server rate.
    begin(labels[0])
    latency_s, batch_qps = calibrate(model, dataset, opts.threads)
    # Each search step as long as a run (at most 2 s): shorter steps end before a backlog shows
    # and find a rate the real runs cannot sustain.
    search_s = min(duration if duration is not None else 2.0, 2.0)
    # A start the SUT surely sustains: half the single-image rate (batching only adds to it).
    start_qps = max(10.0, min(0.5 / latency_s, 0.1 * batch_qps))
    precision = -max(0, math.floor(math.log10(start_qps)) - 1)
    peak_dir = output / "find-peak"
    (output / "find-peak.user.conf").write_text(find_peak_conf_text(search_s, start_qps))
    peak = run_benchmark(
        RunOptions(
            benchmark=DEMO_BENCHMARK,
            scenario=TestScenario.Server,
            mode=TestMode.FindPeakPerformance,
            model=model,
            dataset=dataset,
            output=peak_dir,
            user_conf=output / "find-peak.user.conf",
            threads=opts.threads,
            report_note=note,
            # The search stops when its bounds are within a tenth of the starting rate's
            # order of magnitude (the official default, 0.1 queries/s, takes twice as
            # many runs at tens of thousands of queries/s, for no visible gain).
            settings_overrides={"server_find_peak_qps_decimals_of_precision": precision},
        ),
        listeners=list(listeners_for(labels[0])) if listeners_for else [],
    )
    peak_qps = peak.result.find_peak_value
    if peak_qps:
        server_qps = max(1.0, float(peak_qps) * SERVER_MARGIN)
        progress(f"find-peak: peak {float(peak_qps):.0f} queries/s; trying {server_qps:.0f}", "note")
    else:
        server_qps = max(1.0, start_qps / 10)
        progress(
            f"find-peak found no peak (see {peak_dir}/mlperf_log_detail.txt); trying {server_qps:.0f} queries/s", "note"
        )
    server_qps = confirm_server_rate(
        output / "server-check", model, dataset, opts.threads, server_qps, search_s, lambda text: progress(text, "note")
    )
    progress(labels[0], "done")

    # 2. the submission-run plan: accuracy, performance, compliance.
    user_conf = output / "user.conf"
    # Offline: the one query must outlast the duration, so it is sized from a short Offline run,
    # three times over: the rate of a loaded small machine varies by two or more between runs.
    offline_qps = 3 * offline_rate(output / "calibration", model, dataset, opts.threads, batch_qps)
    user_conf.write_text(user_conf_text(duration, server_qps, offline_qps, latency_s))
    progress(
        f"calibration: {latency_s * 1e6:.0f} us per image alone, {batch_qps:,.0f} images/s in batches; "
        f"Offline expects {offline_qps:,.0f} samples/s",
        "note",
    )
    system = write_system_json(output / "system", note)
    runs = output / "runs"
    tree = output / "submission"
    plan = OneShotOptions(
        benchmarks=[DEMO_BENCHMARK],
        scenarios=list(DEMO_SCENARIOS),
        model=model,
        dataset=dataset,
        system=system,
        submitter=SUBMITTER,
        division="open",
        output=tree,
        runs=runs,
        user_conf=user_conf,
        threads=opts.threads,
        compliance=True,
        report=True,
        report_note=note,
        # LoadGen pre-generates SingleStream queries from the expected latency, which user.conf
        # gives in whole milliseconds; the model answers in microseconds and would use them up
        # before the duration ends. The TestSettings field takes nanoseconds (a quarter of the
        # measured latency, half with --full, where 600 s of queries are held: generating more
        # queries than needed costs only memory).
        settings_overrides={
            "single_stream_expected_latency_ns": max(1, int(latency_s * 1e9 / (2 if opts.full else 4)))
        },
    )
    offset = step_no

    def on_step(i: int, _n: int, step: PlanStep, status: str) -> None:
        nonlocal step_no
        step_no = offset + i
        progress(step.label, status)

    run_plan(plan, on_step=on_step, listeners_for=(lambda step: listeners_for(step.label)) if listeners_for else None)
    (runs / DEMO_BENCHMARK / "measurement.json").write_text(json.dumps(MEASUREMENT, indent=2) + "\n")
    server_qps, offline_qps = _rerun_invalid(
        plan,
        duration,
        server_qps,
        offline_qps,
        latency_s,
        lambda text: progress(text, "note"),
        (lambda label: listeners_for(label)) if listeners_for else None,
    )

    # 3. power.
    begin(labels[step_no])
    power_dir: Path | None = None
    if opts.power is None:
        power_note = opts.power_unavailable
        progress(f"power: skipped: {power_note}", "note")
        progress(labels[step_no - 1], "skip")
    else:
        # The analyzer samples once a second: a power run needs a few seconds even when the
        # other runs are shortened further (the ranging run must last over one second).
        power_conf = output / "power.user.conf"
        power_conf.write_text(
            user_conf_text(
                None if duration is None else max(duration, POWER_MIN_DURATION_S), server_qps, offline_qps, latency_s
            )
        )

        def power_run(logs: Path) -> None:
            run_benchmark(
                RunOptions(
                    benchmark=DEMO_BENCHMARK,
                    scenario=TestScenario.Offline,
                    mode=TestMode.PerformanceOnly,
                    model=model,
                    dataset=dataset,
                    output=Path(logs),
                    user_conf=power_conf,
                    threads=opts.threads,
                    report=False,
                ),
                listeners=list(listeners_for("power")) if listeners_for else [],
            )

        try:
            power_dir = opts.power(power_run, output / "power")
        except (EdgeperfError, OSError) as exc:
            # The tree is complete without power: say why there is none and go on.
            power_dir = None
            power_note = f"the power run failed, so the tree has no power result: {exc}"
            progress(f"power: {power_note}", "note")
            progress(labels[step_no - 1], "skip")
        else:
            power_note = f"measured on the power simulator: {power_dir}"
            add_power_run(runs, power_dir)
            progress(labels[step_no - 1], "done")

    # 4. build.
    from ..submission.build.builder import build_submission

    begin(labels[step_no])
    build = build_submission(
        runs, system, SUBMITTER, "open", tree, user_conf=user_conf, force=True, open_compliance=True
    )
    for warning in build.warnings:
        progress(f"build: {warning}", "note")
    (tree / "README.md").write_text(tree_readme(note))
    progress(labels[step_no - 1], "done")

    # 5. check.
    from ..submission import CheckOptions, check_tree, render_text_report, write_summary_csv

    begin(labels[step_no])
    report = check_tree(tree, CheckOptions(extra_model_map=dict(OPEN_MODEL_MAP)))
    verdict = report.verdict()
    summary_csv = output / "summary.csv"
    write_summary_csv(report.rows, summary_csv)
    check_txt = output / "check.txt"
    check_txt.write_text(f"# {note}\n" + render_text_report(report, verbose=False, show_results=True))
    progress(f"check: {verdict.line}", "note")
    progress(labels[step_no - 1], "done")

    # 6. the results page.
    begin(labels[step_no])
    page = (opts.page or default_page_writer())(tree, summary_csv, output / "results")
    progress(labels[step_no - 1], "done")

    rows = result_rows(report, tree, bench.quality.threshold, power_dir)
    reports = sorted(output.rglob("report.html"))
    return DemoOutcome(
        output=output,
        tree=tree,
        runs=runs,
        page=page,
        full=opts.full,
        duration_s=duration,
        server_qps=server_qps,
        peak_qps=float(peak_qps) if peak_qps else None,
        quality_target=bench.quality.threshold,
        rows=rows,
        verdict_status=verdict.status,
        verdict_line=verdict.line,
        check_exit_code=verdict.exit_code,
        reports=reports,
        power=power_dir,
        power_note=power_note,
        system_json=system,
        summary_csv=summary_csv,
        check_report=check_txt,
        extra_model_map=dict(OPEN_MODEL_MAP),
        elapsed_s=time.perf_counter() - started,
    )
