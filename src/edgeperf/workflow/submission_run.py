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
step interrupted midway leaves no marker, and its partial folder is removed first). After a
finished plan it rebuilds the tree from the runs. A resume refuses a plan whose options changed
(benchmarks, scenarios, model, dataset, backend, threads, batch size, workers, user.conf text, ...),
naming each change, since mixing runs made under different settings would be misleading.

An accuracy run that misses the benchmark's quality target stops the plan (the following runs
would take hours for a result that cannot be submitted in the closed division), unless
``keep_going=True``; its marker records the miss, so a resume stops there again.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..errors import EdgeperfError, MissingPathError, OutputExistsError
from .._atomic import check_output_dir, refuse_overlap
from ..benchmarks.preflight import PreflightError, check_parallelism
from ..submission.build.builder import BuildError, BuildResult, build_submission
from ..submission.build.system_json import load_system_json

__all__ = [
    "AccuracyTargetMissed",
    "PlanStep",
    "OneShotOptions",
    "plan_steps",
    "run_plan",
    "run_submission",
    "estimate_left_s",
]

PLAN_FILE = "plan.json"
_PLAN_KEYS = (
    "benchmarks",
    "scenarios",
    "division",
    "model",
    "dataset",
    "backend",
    "user_conf_text",
    "max_samples",
    "threads",
    "batch_size",
    "workers",
    "providers",
    "device",
    "duration_s",
    "compliance",
)
_MISSED = "accuracy target missed"


class AccuracyTargetMissed(EdgeperfError, ValueError):
    """An accuracy run of the plan scored below its benchmark's quality target."""


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
    keep_going: bool = False  # go on after an accuracy run misses its quality target
    providers: list[Any] | None = None  # onnxruntime execution providers (see RunOptions)
    device: str | None = None  # torch device (see RunOptions)
    duration_s: float | None = None  # quick mode (see RunOptions): not compliant
    models: dict[str, Path] = field(default_factory=dict)  # per-benchmark model (else ``model``)
    datasets: dict[str, Path] = field(default_factory=dict)  # per-benchmark dataset (else ``dataset``)
    power: Any = None  # a PowerClientOptions: performance steps run ranging + testing through a director
    compliance: bool | None = None  # run the compliance tests; None: in the closed division only
    report: bool = False  # write report.html beside each run's logs
    report_note: str = ""  # added to each report.html's title
    settings_overrides: dict[str, Any] = field(default_factory=dict)  # TestSettings fields for every run

    @property
    def runs_dir(self) -> Path:
        return (
            Path(self.runs) if self.runs is not None else Path(self.output).with_name(Path(self.output).name + ".runs")
        )


def plan_steps(
    benchmarks: Sequence[str], scenarios: Sequence[str], division: str, compliance: bool | None = None
) -> list[PlanStep]:
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
        "threads": opts.threads,
        "batch_size": opts.batch_size,
        "workers": opts.workers,
        "providers": [list(p) if isinstance(p, tuple) else p for p in opts.providers] if opts.providers else None,
        "device": opts.device,
        "duration_s": opts.duration_s,
        "compliance": opts.compliance,
    }


def _describe_change(key: str, old: Any, new: Any) -> str:
    if key == "user_conf_text":
        return "user.conf (its text differs from the one the runs were made with)"
    return f"{key.replace('_', '-')} ({old!r} then, {new!r} now)"


def _check_inputs(opts: OneShotOptions) -> None:
    """Every model and dataset exists, and neither output folder overlaps an input, before a
    plan is written: a mistyped path must not leave a plan behind that blocks the next try."""
    check_parallelism(opts.threads, opts.workers)
    inputs: dict[str, Any] = {"--system": opts.system, "--user-conf": opts.user_conf}
    for b in opts.benchmarks:
        model, dataset = Path(opts.models.get(b, opts.model)), Path(opts.datasets.get(b, opts.dataset))
        if not model.exists():
            raise PreflightError(f"--model {model}: no such file (the model of {b})")
        if not dataset.is_dir():
            raise PreflightError(
                f"--dataset {dataset}: {'not a folder' if dataset.exists() else 'no such folder'} "
                f"(expected the dataset folder of {b})"
            )
        inputs[f"--model {b}"], inputs[f"--dataset {b}"] = model, dataset
    refuse_overlap({"--output": opts.output, "--runs": opts.runs_dir}, inputs)
    refuse_overlap({"--output": opts.output}, {"--runs": opts.runs_dir})
    check_output_dir(opts.runs_dir)
    check_output_dir(opts.output)


def _started(runs: Path) -> bool:
    """Whether any step of the plan in ``runs`` has finished (has its ``.done`` marker)."""
    return any(runs.glob("*/*/.*.done"))


def _prepare_runs(opts: OneShotOptions) -> Path:
    runs = opts.runs_dir
    record = _plan_record(opts)
    plan_file = runs / PLAN_FILE
    if plan_file.is_file() and not _started(runs):
        # A plan none of whose steps finished holds nothing worth keeping: start it afresh
        # (the corrected command after a mistyped option must not be refused).
        shutil.rmtree(runs)
    if runs.exists() and any(runs.iterdir()):
        if opts.resume and plan_file.is_file():
            old = json.loads(plan_file.read_text())
            diff = [_describe_change(k, old.get(k), record.get(k)) for k in _PLAN_KEYS if old.get(k) != record.get(k)]
            if diff:
                raise BuildError(
                    [
                        f"{runs}: cannot resume, the plan changed: {'; '.join(diff)}; "
                        "run with the same options, or use --force to start over"
                    ]
                )
            return runs
        if not opts.force:
            raise OutputExistsError(f"{runs} exists; pass --resume to continue it or --force to start over")
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
    on_eta: Callable[[float, bool], None] | None = None,
) -> tuple[BuildResult, list[PlanStep]]:
    """Run the plan (:func:`run_plan`), then build the tree from its runs; (build result, steps run).

    ``on_step(i, n, step, status)`` is told ``"skip"``, ``"start"`` and ``"done"`` for each step;
    ``listeners_for(step)`` gives LoadGen event listeners for a step (progress display);
    ``on_eta(seconds, at_least)`` is told, before each step, the estimated time left for the
    whole plan (see :func:`estimate_left_s`). Raises :class:`AccuracyTargetMissed` when an
    accuracy run misses its target and ``keep_going`` is off.
    """
    runs, ran = run_plan(opts, on_step=on_step, listeners_for=listeners_for, on_eta=on_eta)
    # On resume the tree is derived data: rebuild it from the runs (they are never touched here).
    result = build_submission(
        runs,
        opts.system,
        opts.submitter,
        opts.division,
        opts.output,
        user_conf=opts.user_conf,
        force=opts.force or opts.resume,
        open_compliance=bool(opts.compliance),
    )
    return result, ran


def run_plan(
    opts: OneShotOptions,
    *,
    on_step: Callable[[int, int, PlanStep, str], None] | None = None,
    listeners_for: Callable[[PlanStep], Iterable[Callable]] | None = None,
    on_eta: Callable[[float, bool], None] | None = None,
) -> tuple[Path, list[PlanStep]]:
    """Check the options, then run every step of the plan (skipping finished steps on resume);
    (runs folder, steps run). No build: :func:`run_submission` adds it. Callbacks as for
    :func:`run_submission`.
    """
    from ..benchmarks.runner import RunOptions, run_benchmark
    from ..compliance.run import run_compliance_test
    from ..loadgen.enums import TestMode, TestScenario

    if opts.division not in ("closed", "open"):
        raise BuildError([f"division {opts.division!r} is not one of closed, open"])
    # Everything a user can get wrong is checked before the first (long) run.
    load_system_json(opts.system, division=opts.division, submitter=opts.submitter)
    if Path(opts.output).exists() and not (opts.force or opts.resume):
        raise OutputExistsError(
            f"{opts.output} exists; pass --resume to rebuild it from the finished runs, or --force to start over"
        )
    if opts.user_conf is not None and not Path(opts.user_conf).is_file():
        raise MissingPathError(f"{opts.user_conf}: user.conf not found")
    _check_inputs(opts)
    steps = plan_steps(opts.benchmarks, opts.scenarios, opts.division, opts.compliance)
    runs = _prepare_runs(opts)
    ran: list[PlanStep] = []
    took: dict[str, list[float]] = {}
    n = len(steps)
    for i, step in enumerate(steps, 1):
        marker, folder = step.marker(runs), step.folder(runs)
        if marker.is_file():
            if on_step:
                on_step(i, n, step, "skip")
            if _MISSED in marker.read_text() and not opts.keep_going:
                raise AccuracyTargetMissed(
                    marker.read_text().strip().splitlines()[-1] + "; pass --keep-going to go on anyway"
                )
            continue
        if on_eta:
            left = [s for s in steps[i - 1 :] if not s.marker(runs).is_file()]
            on_eta(*estimate_left_s(left, took, opts, runs))
        if folder.exists():
            shutil.rmtree(folder)
        if on_step:
            on_step(i, n, step, "start")
        mode = {"accuracy": TestMode.AccuracyOnly}.get(step.step, TestMode.PerformanceOnly)
        ropts = RunOptions(
            benchmark=step.benchmark,
            scenario=TestScenario(step.scenario),
            mode=mode,
            model=Path(opts.models.get(step.benchmark, opts.model)),
            dataset=Path(opts.datasets.get(step.benchmark, opts.dataset)),
            output=folder,
            backend=opts.backend,
            user_conf=(runs / "user.conf") if opts.user_conf is not None else None,
            threads=opts.threads,
            batch_size=opts.batch_size,
            workers=opts.workers,
            max_samples=opts.max_samples,
            cache_dir=opts.cache_dir,
            report=opts.report,
            providers=opts.providers,
            device=opts.device,
            duration_s=opts.duration_s,
            report_note=opts.report_note,
            settings_overrides=dict(opts.settings_overrides),
        )
        listeners = list(listeners_for(step)) if listeners_for else []
        started = time.monotonic()
        missed = None
        if step.step == "performance" and opts.power is not None:
            from .power_run import run_with_power

            # performance/{power,ranging,run_1}, laid out as v1.1 power results (power.md §5.1).
            run_with_power(ropts, opts.power, listeners=listeners, report=False)
        elif step.step in ("accuracy", "performance"):
            outcome = run_benchmark(ropts, listeners=listeners)
            missed = _missed_target(step, outcome)
        else:
            run_compliance_test(step.step, ropts, listeners=listeners)
        took.setdefault(_kind(step), []).append(time.monotonic() - started)
        marker.write_text("done\n" + (f"{missed}\n" if missed else ""))
        if missed and not opts.keep_going:
            raise AccuracyTargetMissed(
                f"{missed}; the plan stops here (pass --keep-going to go on, --resume to continue later)"
            )
        ran.append(step)
        if on_step:
            on_step(i, n, step, "done")
    return runs, ran


def _kind(step: PlanStep) -> str:
    return "accuracy" if step.step == "accuracy" else "timed"


def _missed_target(step: PlanStep, outcome) -> str | None:
    """The one-line reason when an accuracy run scored below the target, else None."""
    acc = getattr(outcome, "accuracy_summary", None)
    if step.step != "accuracy" or not acc or acc.get("passed", True):
        return None
    from .._numbers import num

    return (
        f"{step.label}: {_MISSED}: {acc['metric']} {num(acc['value'])}{acc['unit']} < {num(acc['target'])}{acc['unit']}"
    )


def estimate_left_s(
    left: Sequence[PlanStep], took: dict[str, list[float]], opts: OneShotOptions, runs: Path
) -> tuple[float, bool]:
    """Seconds the remaining steps should take, and whether that is only a lower bound.

    A step of a kind already timed in this session (accuracy, or a timed performance/compliance
    run) is estimated at that kind's mean; an untimed performance or compliance run at its
    minimum duration from mlperf.conf and user.conf (it cannot be shorter); an untimed accuracy
    run is unknown, which makes the total a lower bound.
    """
    from ..benchmarks.registry import get_benchmark
    from ..loadgen.settings import TestSettings

    total, at_least = 0.0, False
    user_conf = (runs / "user.conf") if opts.user_conf is not None else None
    for step in left:
        seen = took.get(_kind(step))
        if seen:
            total += sum(seen) / len(seen)
        elif step.step == "accuracy":
            at_least = True
        elif opts.duration_s is not None:
            total += opts.duration_s
            at_least = True
        else:
            settings = TestSettings.from_files(
                get_benchmark(step.benchmark).config_model, step.scenario, user_conf=user_conf
            )
            total += settings.min_duration_ms / 1000
            at_least = True
    return total, at_least
