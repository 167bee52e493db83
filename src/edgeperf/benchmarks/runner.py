"""Running a benchmark end to end: dataset → QSL → backend → SUT → LoadGen → accuracy → report.

This is what ``edgeperf run`` calls; the CLI only parses options and prints.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from ..loadgen.engine import TestResult, start_test
from ..loadgen.enums import TestMode, TestScenario
from ..loadgen.events import SERIES_END, Event
from ..loadgen.settings import LogOutputSettings, LogSettings, TestSettings
from .registry import BenchmarkDefinition, get_benchmark

WARMUP_RUNS = 5  # the reference harness predicts sample 0 five times before the test


@dataclass
class RunOptions:
    """Everything ``edgeperf run`` accepts."""

    benchmark: str
    scenario: TestScenario
    mode: TestMode
    model: Path
    dataset: Path
    output: Path
    backend: str | None = None  # None: the benchmark's default backend
    user_conf: Path | None = None
    audit_config: Path | None = None
    threads: int | None = None
    batch_size: int | None = None
    workers: int | None = None
    max_samples: int | None = None
    cache_dir: Path | None = None
    providers: list[str] | None = None
    report: bool = True
    remote: RemoteOptions | None = None  # --backend remote
    ray: Any = None  # --backend ray: an edgeperf.sut.ray_sut.RayOptions


@dataclass(frozen=True)
class RemoteOptions:
    """``--backend remote``: a KServe v2 server at ``url`` serving the model as ``model_name``.

    ``concurrency`` requests may be in flight at once (one per SUT worker); a request taking longer
    than ``timeout`` seconds fails; up to ``max_errors`` failed requests are logged in the detail log
    and the run goes on, the next one ends it."""

    url: str
    model_name: str
    protocol: str = "http"
    concurrency: int = 4
    timeout: float = 30.0
    max_errors: int = 0


@dataclass
class RunOutcome:
    """What a run produced."""

    result: TestResult
    accuracy: Any | None = None
    report_path: Path | None = None
    log_dir: Path | None = None
    notes: list[str] = field(default_factory=list)


def make_runner(bench: BenchmarkDefinition, backend, qsl) -> Callable[[np.ndarray], list[bytes]]:
    """Batch of QSL indices → model → the reference's response bytes, one per sample."""
    input_name = bench.input_name()
    outputs = list(bench.requested_outputs)

    def run(indices: np.ndarray) -> list[bytes]:
        batch = qsl.get_batch(indices)
        return bench.postprocess(backend.predict({input_name: batch}, outputs), indices)

    return run


def settings_for(bench: BenchmarkDefinition, opts: RunOptions) -> TestSettings:
    """mlperf.conf (shipped v1.1), then user.conf, then scenario/mode, then audit.config (§3.4)."""
    return TestSettings.from_files(
        bench.config_model,
        opts.scenario,
        user_conf=opts.user_conf,
        audit_config=opts.audit_config,
        mode=opts.mode,
    )


class _SeriesCapture:
    """Keeps the last finished performance series for the run report."""

    def __init__(self) -> None:
        self.data: dict | None = None

    def __call__(self, event: Event) -> None:
        if event.name == SERIES_END:
            self.data = dict(event.data)


def run_benchmark(opts: RunOptions, listeners: Iterable[Callable[[Event], None]] = ()) -> RunOutcome:
    """Run one benchmark scenario and mode; write logs, accuracy.txt and report.html to ``opts.output``."""
    from ..datasets.base import DatasetQSL
    from ..sut.pool import DirectSUT, WorkerPoolSUT

    bench = get_benchmark(opts.benchmark)
    settings = settings_for(bench, opts)  # config errors surface before any heavy work
    _check_find_peak(settings)
    dataset = bench.open_dataset(opts.dataset, layout=bench.layout, cache_dir=opts.cache_dir, count=opts.max_samples)
    perf_count = min(bench.qsl_performance_count, len(dataset))
    if bench.open_qsl is not None:
        qsl = bench.open_qsl(bench, dataset, perf_count)
    else:
        qsl = DatasetQSL(dataset, performance_sample_count=perf_count, name=f"{bench.name}-QSL")
    fixed_batch = bench.signature.inputs[0].shape[0]
    batch_size = fixed_batch if isinstance(fixed_batch, int) else (opts.batch_size or bench.max_batch)
    if opts.ray is not None:
        from ..sut.ray_sut import RaySampleQSL, RaySUT

        backend = None
        sut = RaySUT(bench, opts.model, opts.ray, batch_size=batch_size, name=f"edgeperf-{bench.name}-ray")
        try:
            qsl = RaySampleQSL(qsl, sut)
        except Exception:
            sut.close()
            raise
    else:
        backend, runner, raw_runner = _open_backend(bench, opts, qsl)
        with getattr(backend, "warming_up", contextlib.nullcontext)():
            _warm_up(raw_runner, qsl)  # a model failing here fails the run before LoadGen starts
        sut_name = f"edgeperf-{bench.name}-{backend.name}"
        workers = opts.remote.concurrency if opts.remote is not None else (opts.workers or 1)
        if opts.scenario is TestScenario.SingleStream:
            sut = DirectSUT(runner, name=sut_name, max_batch=batch_size)
        else:
            sut = WorkerPoolSUT(runner, workers=workers, batch_size=batch_size, name=sut_name)
    output = Path(opts.output)
    output.mkdir(parents=True, exist_ok=True)
    capture = _SeriesCapture()
    log_settings = LogSettings(log_output=LogOutputSettings(outdir=str(output)), enable_trace=False)
    try:
        # The audit settings are already in `settings`; handing the file to LoadGen as well makes
        # it log the official "Found Audit Config file" warning that reviewers look for.
        audit = str(opts.audit_config) if opts.audit_config is not None else None
        result = start_test(sut, qsl, settings, log_settings, audit_config=audit, listeners=[capture, *listeners])
    finally:
        getattr(sut, "close", lambda: None)()
        if backend is not None:
            backend.close()
    outcome = RunOutcome(result=result, log_dir=output)
    if settings.mode in (TestMode.AccuracyOnly, TestMode.SubmissionRun):
        from ..accuracy.base import write_accuracy_txt

        accuracy = _evaluate(bench, output / "mlperf_log_accuracy.json", opts)
        write_accuracy_txt(accuracy, output / "accuracy.txt")
        outcome.accuracy = accuracy
    if opts.report:
        outcome.report_path = _write_report(output, result, capture.data, bench)
    return outcome


def _open_backend(bench: BenchmarkDefinition, opts: RunOptions, qsl):
    """The loaded backend, the runner the SUT uses and the plain runner under it (for the warm-up).

    A remote backend's failed requests are logged and tolerated up to ``--max-errors`` during the
    test (see :mod:`edgeperf.sut.tolerant`); during the warm-up any failure is an error."""
    from ..backends import get_backend

    remote = opts.remote
    if remote is not None:
        from ..backends.errors import PredictError
        from ..sut.tolerant import error_tolerant

        backend = get_backend("remote", url=remote.url, protocol=remote.protocol, timeout=remote.timeout)
        model = remote.model_name
    else:
        backend_options: dict[str, Any] = {"threads": opts.threads}
        if opts.providers:
            backend_options["providers"] = opts.providers
        backend = get_backend(opts.backend or bench.default_backend, **backend_options)
        model = str(opts.model)
    try:
        if bench.load_model is not None:
            bench.load_model(bench, backend, model)
        else:
            backend.load(model, bench.signature)
    except BaseException:
        backend.close()
        raise
    raw = runner = (bench.make_runner or make_runner)(bench, backend, qsl)
    if remote is not None:
        runner = error_tolerant(raw, remote.max_errors, failures=(PredictError,),
                                describe=f"model '{remote.model_name}' at {backend.url}")
    return backend, runner, raw


def _evaluate(bench: BenchmarkDefinition, log_path: Path, opts: RunOptions):
    """Score the run's accuracy log; with --max-samples, only over the samples the run covered
    when the evaluator can restrict itself (BERT's questions), as the reference's --count does."""
    import inspect

    if opts.max_samples is not None and "count" in inspect.signature(bench.evaluate).parameters:
        return bench.evaluate(log_path, opts.dataset, count=opts.max_samples)
    return bench.evaluate(log_path, opts.dataset)


def _check_find_peak(settings: TestSettings) -> None:
    """FindPeakPerformance searches Server QPS or (v1.1) MultiStream samples per query only.

    LoadGen itself would log ``error_invalid_config`` and return without a result, leaving a set
    of empty logs and a zero exit; refuse before anything is written instead.
    """
    if settings.mode is not TestMode.FindPeakPerformance:
        return
    from ..loadgen.find_peak import supports

    supported = supports(settings.scenario, settings.ruleset == "v2.0")
    if not supported:
        raise ValueError(
            f"find-peak (FindPeakPerformance) mode searches the Server QPS or the MultiStream samples per query; "
            f"it does not apply to the {settings.scenario.value} scenario (use --scenario Server or MultiStream, "
            f"or --mode performance)"
        )


def _warm_up(runner, qsl) -> None:
    qsl.load_samples_to_ram([0])
    try:
        for _ in range(WARMUP_RUNS):
            runner(np.array([0]))
    finally:
        qsl.unload_samples_from_ram([0])


def _write_report(output: Path, result: TestResult, series: dict | None, bench: BenchmarkDefinition) -> Path:
    from ..report.data import RunData, series_arrays, series_query_latencies
    from ..report.html import write_report

    run = RunData.from_log_dir(output, title=f"edgeperf {bench.name} {result.scenario.value} {result.mode.value}")
    if series is not None:
        recorder, queries = series["recorder"], series["result"].queries_issued
        latencies, offsets = series_arrays(recorder, queries * recorder.spq, series["start_ns"])
        run = run.with_series(latencies, offsets, series_query_latencies(recorder, queries))
    return write_report(output / "report.html", run)
