"""One-shot submission: run every step a tree needs, build it, check it (``edgeperf submission run``).

The plan, per scenario: accuracy, performance, then the compliance tests the division needs
(closed: :func:`~edgeperf.compliance.audit.required_tests`; open: none). Each step writes its
folder under the runs folder in the layout :func:`build_submission` reads::

    <runs>/plan.json                         the plan's options (a resume must match them)
    <runs>/user.conf                         copy of --user-conf
    <runs>/<benchmark>/<scenario>/<step>/    accuracy, performance, TEST01, ...
    <runs>/<benchmark>/<scenario>/.<step>.done   written once the step has finished

:func:`run_plan` runs the steps only (``edgeperf demo`` adds its own steps before the build);
:func:`run_submission` runs them and builds the tree.

``resume=True`` skips the steps with a ``.done`` marker and re-runs the others from scratch (a
step interrupted midway leaves no marker, and its partial folder is removed first).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..submission.build.builder import BuildError, BuildResult, build_submission
from ..submission.build.system_json import load_system_json

__all__ = ["PlanStep", "OneShotOptions", "plan_steps", "run_plan", "run_submission"]

PLAN_FILE = "plan.json"
_PLAN_KEYS = ("benchmarks", "scenarios", "division", "model", "dataset", "backend", "user_conf_text", "max_samples",
              "compliance")


@dataclass(frozen=True)
class PlanStep:
    benchmark: str
    scenario: str
    step: str  # "accuracy", "performance" or a compliance test name

    @property
    def label(self) -> str:
        return f"{self.benchmark} {self.scenario} {self.step}"

    def folder(self, runs: Path) -> Path:
        return runs / self.benchmark / self.scenario / self.step

    def marker(self, runs: Path) -> Path:
        return runs / self.benchmark / self.scenario / f".{self.step}.done"


@dataclass
class OneShotOptions:
    benchmarks: Sequence[str]
    scenarios: Sequence[str]
    model: Path
    dataset: Path
    system: Path
    submitter: str
    division: str
    output: Path
    runs: Path | None = None  # default: <output>.runs beside the tree
    user_conf: Path | None = None
    backend: str | None = None
    threads: int | None = None
    batch_size: int | None = None
    workers: int | None = None
    max_samples: int | None = None
    cache_dir: Path | None = None
    resume: bool = False
    force: bool = False
    models: dict[str, Path] = field(default_factory=dict)  # per-benchmark model (else ``model``)
    datasets: dict[str, Path] = field(default_factory=dict)  # per-benchmark dataset (else ``dataset``)
    compliance: bool | None = None  # run the compliance tests; None: in the closed division only
    report: bool = False  # write report.html beside each run's logs
    report_note: str = ""  # added to each report.html's title
    settings_overrides: dict[str, Any] = field(default_factory=dict)  # TestSettings fields for every run

    @property
    def runs_dir(self) -> Path:
        return Path(self.runs) if self.runs is not None else Path(self.output).with_name(Path(self.output).name + ".runs")


def plan_steps(benchmarks: Sequence[str], scenarios: Sequence[str], division: str,
               compliance: bool | None = None) -> list[PlanStep]:
    """Every step, in run order. The compliance tests are those a closed result needs
    (:func:`~edgeperf.compliance.audit.required_tests`); ``compliance`` None runs them in the
    closed division only, True or False decides for either division."""
    from ..benchmarks.registry import get_benchmark
    from ..compliance.audit import required_tests

    steps = []
    for name in benchmarks:
        bench = get_benchmark(name).name
        for scenario in scenarios:
            steps += [PlanStep(bench, scenario, "accuracy"), PlanStep(bench, scenario, "performance")]
            if division == "closed" if compliance is None else compliance:
                steps += [PlanStep(bench, scenario, t.value) for t in required_tests(bench, scenario)]
    return steps


def _plan_record(opts: OneShotOptions) -> dict[str, Any]:
    return {
        "benchmarks": list(opts.benchmarks),
        "scenarios": list(opts.scenarios),
        "division": opts.division,
        "model": {b: str(Path(opts.models.get(b, opts.model)).resolve()) for b in opts.benchmarks},
        "dataset": {b: str(Path(opts.datasets.get(b, opts.dataset)).resolve()) for b in opts.benchmarks},
        "backend": opts.backend,
        "user_conf_text": Path(opts.user_conf).read_text() if opts.user_conf is not None else None,
        "max_samples": opts.max_samples,
        "compliance": opts.compliance,
    }


def _prepare_runs(opts: OneShotOptions) -> Path:
    runs = opts.runs_dir
    record = _plan_record(opts)
    plan_file = runs / PLAN_FILE
    if runs.exists() and any(runs.iterdir()):
        if opts.resume and plan_file.is_file():
            old = json.loads(plan_file.read_text())
            diff = [k for k in _PLAN_KEYS if old.get(k) != record.get(k)]
            if diff:
                raise BuildError([f"{runs}: cannot resume, the plan changed ({', '.join(diff)}); "
                                  "use --force to start over"])
            return runs
        if not opts.force:
            raise FileExistsError(f"{runs} exists; pass --resume to continue it or --force to start over")
        shutil.rmtree(runs)
    runs.mkdir(parents=True, exist_ok=True)
    if opts.user_conf is not None:
        shutil.copyfile(opts.user_conf, runs / "user.conf")
    plan_file.write_text(json.dumps(record, indent=2) + "\n")
    return runs


def run_submission(
    opts: OneShotOptions,
    *,
    on_step: Callable[[int, int, PlanStep, str], None] | None = None,
    listeners_for: Callable[[PlanStep], Iterable[Callable]] | None = None,
) -> tuple[BuildResult, list[PlanStep]]:
    """Run the plan (skipping finished steps on resume), build the tree; (build result, steps run).

    ``on_step(i, n, step, status)`` is told ``"skip"``, ``"start"`` and ``"done"`` for each step;
    ``listeners_for(step)`` gives LoadGen event listeners for a step (progress display).
    """
    runs, ran = run_plan(opts, on_step=on_step, listeners_for=listeners_for)
    result = build_submission(runs, opts.system, opts.submitter, opts.division, opts.output,
                              user_conf=opts.user_conf, force=opts.force, open_compliance=bool(opts.compliance))
    return result, ran


def run_plan(
    opts: OneShotOptions,
    *,
    on_step: Callable[[int, int, PlanStep, str], None] | None = None,
    listeners_for: Callable[[PlanStep], Iterable[Callable]] | None = None,
) -> tuple[Path, list[PlanStep]]:
    """Check the options, then run every step of the plan; (runs folder, steps run). No build.

    Callbacks as for :func:`run_submission`.
    """
    from ..benchmarks.runner import RunOptions, run_benchmark
    from ..compliance.run import run_compliance_test
    from ..loadgen.enums import TestMode, TestScenario

    if opts.division not in ("closed", "open"):
        raise BuildError([f"division {opts.division!r} is not one of closed, open"])
    # Everything a user can get wrong is checked before the first (long) run.
    load_system_json(opts.system, division=opts.division, submitter=opts.submitter)
    if Path(opts.output).exists() and not opts.force:
        raise FileExistsError(f"{opts.output} exists; pass --force to replace it")
    if opts.user_conf is not None and not Path(opts.user_conf).is_file():
        raise FileNotFoundError(f"{opts.user_conf}: user.conf not found")
    steps = plan_steps(opts.benchmarks, opts.scenarios, opts.division, opts.compliance)
    runs = _prepare_runs(opts)
    ran: list[PlanStep] = []
    n = len(steps)
    for i, step in enumerate(steps, 1):
        marker, folder = step.marker(runs), step.folder(runs)
        if marker.is_file():
            if on_step:
                on_step(i, n, step, "skip")
            continue
        if folder.exists():
            shutil.rmtree(folder)
        if on_step:
            on_step(i, n, step, "start")
        mode = {"accuracy": TestMode.AccuracyOnly}.get(step.step, TestMode.PerformanceOnly)
        ropts = RunOptions(
            benchmark=step.benchmark, scenario=TestScenario(step.scenario), mode=mode,
            model=Path(opts.models.get(step.benchmark, opts.model)),
            dataset=Path(opts.datasets.get(step.benchmark, opts.dataset)), output=folder,
            backend=opts.backend, user_conf=(runs / "user.conf") if opts.user_conf is not None else None,
            threads=opts.threads, batch_size=opts.batch_size, workers=opts.workers,
            max_samples=opts.max_samples, cache_dir=opts.cache_dir, report=opts.report,
            report_note=opts.report_note, settings_overrides=dict(opts.settings_overrides),
        )
        listeners = list(listeners_for(step)) if listeners_for else []
        if step.step in ("accuracy", "performance"):
            run_benchmark(ropts, listeners=listeners)
        else:
            run_compliance_test(step.step, ropts, listeners=listeners)
        marker.write_text("done\n")
        ran.append(step)
        if on_step:
            on_step(i, n, step, "done")
    return runs, ran
