"""Running a benchmark end to end: dataset → QSL → backend → SUT → LoadGen → accuracy → report.

This is what ``edgeperf run`` calls; the CLI only parses options and prints.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, cast

import numpy as np

from ..errors import EdgeperfError, UsageError
from .._atomic import _WRITE_ERRNOS, OutputError, _reason, prepare_output_dir
from ..loadgen.engine import TestResult, start_test
from ..loadgen.enums import TestMode, TestScenario
from ..loadgen.events import DatasetLoad, Event, SeriesEnd, SeriesSnapshot
from ..loadgen.settings import LogOutputSettings, LogSettings, TestSettings
from .preflight import check_config_values, check_parallelism, check_text_file
from .registry import BenchmarkDefinition, get_benchmark

#: The files a run writes into its output folder: cleared at its start, so that a run that fails
#: midway never leaves its partial logs beside an earlier run's accuracy.txt and report.
RUN_FILES = (
    "mlperf_log_summary.txt",
    "mlperf_log_detail.txt",
    "mlperf_log_accuracy.json",
    "mlperf_log_trace.json",
    "accuracy.txt",
    "report.html",
)

if TYPE_CHECKING:
    from ..backends.remote import RemoteBackend

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
    providers: list[Any] | None = None  # onnxruntime execution providers: names or (name, options) pairs
    device: str | None = None  # torch device ("cpu", "cuda", "cuda:1", ...)
    duration_s: float | None = None  # quick mode: run about this long, whatever the rules' minimum
    report: bool = True
    #: Called with each config-file warning (unknown key, misspelt scenario, ...) before the run.
    on_warning: Callable[[str], None] | None = None
    report_note: str = ""  # appended to report.html's title (the demo's "NOT compliant" label)
    # TestSettings fields that config files cannot set (as the official API allows), applied
    # last: e.g. {"server_find_peak_qps_decimals_of_precision": 0}.
    settings_overrides: dict[str, Any] = field(default_factory=dict)
    preprocess_threads: int | None = None  # None: one per CPU core
    remote: RemoteOptions | None = None  # --backend remote
    ray: Any = None  # --backend ray: an edgeperf.sut.ray_sut.RayOptions

    @property
    def quick(self) -> bool:
        """A smoke-test run (``--duration`` or ``--count``/``--max-samples``): not compliant."""
        return self.duration_s is not None or self.max_samples is not None


class ModelRunError(EdgeperfError):
    """The model could not answer its very first inference (before LoadGen started)."""


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
    dataset_notes: list[str] = field(
        default_factory=list
    )  # the data set's warnings (missing files, dropped utterances)
    accuracy_summary: dict[str, Any] | None = None  # see accuracy_summary()


def make_runner(bench: BenchmarkDefinition, backend, qsl) -> Callable[[np.ndarray], list[bytes]]:
    """Batch of QSL indices → model → the reference's response bytes, one per sample."""
    input_name = bench.input_name()
    outputs = list(bench.requested_outputs)

    if not hasattr(qsl, "batch_plan"):  # a QSL without slab views (open_qsl): plain get_batch

        def run(indices: np.ndarray) -> list[bytes]:
            batch = qsl.get_batch(indices)
            return bench.postprocess(backend.predict({input_name: batch}, outputs), indices)

        return run

    local = threading.local()  # one gather buffer per worker thread, reused batch after batch

    def run_with_scratch(indices: np.ndarray) -> list[bytes]:
        scratch = getattr(local, "scratch", None)
        if (
            scratch is None
            or scratch.shape[0] < len(indices)
            or scratch.shape[1:] != qsl.sample_shape
            or scratch.dtype != qsl.sample_dtype
        ):
            scratch = local.scratch = np.empty((max(len(indices), 1),) + qsl.sample_shape, dtype=qsl.sample_dtype)
        batch = qsl.get_batch(indices, scratch=scratch)
        return bench.postprocess(backend.predict({input_name: batch}, outputs), indices)

    return run_with_scratch


def settings_for(bench: BenchmarkDefinition, opts: RunOptions) -> TestSettings:
    """mlperf.conf (shipped v1.1), then user.conf, then scenario/mode, then audit.config (§3.4);
    then quick mode's duration, as the reference harness's ``--time`` sets it (min and max duration);
    then ``opts.settings_overrides``."""
    settings = TestSettings.from_files(
        bench.config_model,
        opts.scenario,
        user_conf=opts.user_conf,
        audit_config=opts.audit_config,
        mode=opts.mode,
    )
    if opts.duration_s is not None:
        if opts.duration_s <= 0:
            raise UsageError(f"--duration must be a number of seconds > 0, got {opts.duration_s:g}")
        ms = max(1, int(round(opts.duration_s * 1000)))
        settings.min_duration_ms = ms
        settings.max_duration_ms = ms
        settings.min_query_count = 1
    for name, value in opts.settings_overrides.items():
        if not hasattr(settings, name):
            raise UsageError(f"settings override {name!r} is not a TestSettings field")
        setattr(settings, name, value)
    return settings


class _SeriesCapture:
    """Keeps the last finished performance series for the run report."""

    def __init__(self) -> None:
        self.series: SeriesSnapshot | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, SeriesEnd):
            self.series = event.series


def run_benchmark(opts: RunOptions, listeners: Iterable[Callable[[Event], None]] = ()) -> RunOutcome:
    """Run one benchmark scenario and mode; write logs, accuracy.txt and report.html to ``opts.output``."""
    from ..datasets.base import DatasetQSL
    from ..sut.pool import DirectSUT, WorkerPoolSUT

    bench = get_benchmark(opts.benchmark)
    check_parallelism(opts.threads, opts.workers)
    check_text_file(opts.user_conf, "--user-conf")
    check_text_file(opts.audit_config, "--audit-config")
    settings = settings_for(bench, opts)  # config errors surface before any heavy work
    _check_find_peak(settings)
    conf_files = [(f, m) for f, m in ((opts.user_conf, bench.config_model), (opts.audit_config, "*")) if f is not None]
    check_config_values(conf_files, opts.scenario.value, settings.ruleset)
    if opts.on_warning is not None:
        for warning in settings.config_warnings:
            opts.on_warning(str(warning))
    dataset = bench.open_dataset(opts.dataset, layout=bench.layout, cache_dir=opts.cache_dir, count=opts.max_samples)
    perf_count = min(bench.qsl_performance_count, len(dataset))
    if bench.open_qsl is not None:
        qsl = bench.open_qsl(bench, dataset, perf_count)
    else:
        qsl = DatasetQSL(
            dataset,
            performance_sample_count=perf_count,
            name=f"{bench.name}-QSL",
            workers=opts.preprocess_threads or _cpu_count(),
            progress=_load_progress(listeners),
        )
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
            _warm_up(raw_runner, qsl, opts)  # a model failing here fails the run before LoadGen starts
        sut_name = f"edgeperf-{bench.name}-{backend.name}"
        workers = opts.remote.concurrency if opts.remote is not None else (opts.workers or 1)
        if opts.scenario is TestScenario.SingleStream:
            sut = DirectSUT(runner, name=sut_name, max_batch=batch_size)
        else:
            sut = WorkerPoolSUT(
                runner,
                workers=workers,
                batch_size=batch_size,
                name=sut_name,
                planner=qsl.batch_plan if isinstance(qsl, DatasetQSL) else None,
            )
    output = prepare_output_dir(opts.output, RUN_FILES)
    capture = _SeriesCapture()
    log_settings = LogSettings(log_output=LogOutputSettings(outdir=str(output)), enable_trace=False)
    try:
        # The audit settings are already in `settings`; handing the file to LoadGen as well makes
        # it log the official "Found Audit Config file" warning that reviewers look for.
        audit = str(opts.audit_config) if opts.audit_config is not None else None
        result = start_test(sut, qsl, settings, log_settings, audit_config=audit, listeners=[capture, *listeners])
    except OSError as exc:
        if exc.filename is not None or exc.errno not in _WRITE_ERRNOS:
            raise
        # A full disk or file size limit cut the logs short: half-written logs would pass for a
        # run's record, so they go (which also gives the space back).
        prepare_output_dir(output, RUN_FILES)
        raise OutputError(
            output, f"the LoadGen logs could not be written: {_reason(exc)}; the partial logs were removed", exc.errno
        ) from None
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
    if outcome.accuracy is not None:
        outcome.accuracy_summary = accuracy_summary(
            bench, outcome.accuracy, output / "mlperf_log_accuracy.json", len(dataset)
        )
    if opts.quick:
        outcome.notes.append(QUICK_NOTE)
    outcome.dataset_notes.extend(getattr(dataset, "notices", ()))
    if opts.report:
        outcome.report_path = _write_report(output, result, capture.series, bench, outcome, note=opts.report_note)
    return outcome


QUICK_NOTE = (
    "NOT COMPLIANT: quick mode (--duration or --count/--max-samples) shortened this run below the "
    "v1.1 rules; use it for smoke tests only, never in a submission."
)


def accuracy_summary(bench: BenchmarkDefinition, accuracy, log_path: Path, expected_samples: int) -> dict[str, Any]:
    """The accuracy figure against the benchmark's target, and how many samples the log lacks.

    ``missing_samples``: QSL samples (``expected_samples``, every one is issued once in
    AccuracyOnly mode, spec loadgen.md §7) that have no entry in the accuracy log.
    """
    from ..loadgen.logs.accuracy import iter_accuracy_log

    try:  # record by record: BERT's log is tens of MB
        logged = len({qsl_idx for _, qsl_idx, _ in iter_accuracy_log(log_path)})
    except (OSError, ValueError):
        logged = 0
    q = bench.quality
    return {
        "metric": q.metric,
        "value": accuracy.value,
        "unit": q.unit,
        "target": round(q.threshold, 10),
        "reference": q.reference,
        "fraction": q.fraction,
        "passed": accuracy.value >= q.threshold,
        "official_line": accuracy.official_line,
        "expected_samples": expected_samples,
        "logged_samples": logged,
        "missing_samples": max(0, expected_samples - logged),
    }


def _open_backend(bench: BenchmarkDefinition, opts: RunOptions, qsl):
    """The loaded backend, the runner the SUT uses and the plain runner under it (for the warm-up).

    A remote backend's failed requests are logged and tolerated up to ``--max-errors`` during the
    test (see :mod:`edgeperf.sut.tolerant`); during the warm-up any failure is an error."""
    from ..backends import get_backend

    remote = opts.remote
    if remote is not None:
        from ..backends.errors import PredictError
        from ..sut.tolerant import error_tolerant

        if opts.providers or opts.device is not None:
            raise UsageError(
                "--providers and --device configure a local model; with --backend remote the server "
                "decides how the model runs"
            )
        backend = get_backend("remote", url=remote.url, protocol=remote.protocol, timeout=remote.timeout)
        model = remote.model_name
    else:
        backend_name = opts.backend or bench.default_backend
        backend_options: dict[str, Any] = {"threads": opts.threads}
        if opts.providers:
            if backend_name != "onnxruntime":
                raise UsageError(
                    f"--providers applies to the onnxruntime backend, not {backend_name} (use --device for torch)"
                )
            backend_options["providers"] = opts.providers
        if opts.device is not None:
            if backend_name != "torch":
                raise UsageError(
                    f"--device applies to the torch backend, not {backend_name} (use --providers for onnxruntime)"
                )
            backend_options["device"] = opts.device
        backend = get_backend(backend_name, **backend_options)
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
        runner = error_tolerant(
            raw,
            remote.max_errors,
            failures=(PredictError,),
            describe=f"model '{remote.model_name}' at {cast('RemoteBackend', backend).url}",
        )
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
        raise UsageError(
            f"find-peak (FindPeakPerformance) mode searches the Server QPS or the MultiStream samples per query; "
            f"it does not apply to the {settings.scenario.value} scenario (use --scenario Server or MultiStream, "
            f"or --mode performance)"
        )


def _load_progress(listeners: Iterable[Callable[[Event], None]]) -> Callable[[int, int], None]:
    """A DatasetQSL progress callback that sends :class:`DatasetLoad` events to the run's listeners."""
    targets = list(listeners)

    def progress(done: int, total: int) -> None:
        event = DatasetLoad(time.time_ns(), done, total)
        for listener in targets:
            listener(event)

    return progress


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _warm_up(runner, qsl, opts: RunOptions) -> None:
    """Run sample 0 through the model a few times before LoadGen starts. A model that cannot
    answer it at all is reported here, in one line; the same failure later in the run is
    LoadGen's to report. Loading the sample (dataset and cache errors) is not the model's fault
    and keeps its own error."""
    from ..datasets.base import DatasetError

    qsl.load_samples_to_ram([0])
    try:
        for _ in range(WARMUP_RUNS):
            runner(np.array([0]))
    except (KeyboardInterrupt, DatasetError):
        raise
    except Exception as exc:
        raise ModelRunError(
            f"the model {opts.model} failed on its first inference (sample 0 of {opts.dataset}): "
            f"{type(exc).__name__}: {_one_line(exc)}; expected it to answer the benchmark's inputs"
        ) from exc
    finally:
        qsl.unload_samples_from_ram([0])


def _write_report(
    output: Path,
    result: TestResult,
    series: SeriesSnapshot | None,
    bench: BenchmarkDefinition,
    outcome: RunOutcome | None = None,
    *,
    report_path: Path | None = None,
    power=None,
    note: str = "",
) -> Path:
    import dataclasses

    from ..report.data import RunData
    from ..report.html import write_report

    title = f"edgeperf {bench.name} {result.scenario.value} {result.mode.value}"
    run = RunData.from_log_dir(output, title=f"{title} ({note})" if note else title)
    if outcome is not None:
        run = dataclasses.replace(run, accuracy=outcome.accuracy_summary, notes=tuple(outcome.notes))
        run = run.with_dataset_notes(outcome.dataset_notes)
    if series is not None:
        run = run.with_series(series.sample_latencies_ns, series.completion_offsets_ns, series.query_latencies_ns)
    if power is not None:
        run = run.with_power(power)
    return write_report(report_path or output / "report.html", run)


class SeriesCapture(_SeriesCapture):
    """A LoadGen listener keeping the last finished performance series (for :func:`write_run_report`)."""


def write_run_report(
    log_dir: Path, result: TestResult, series: SeriesSnapshot | None, benchmark: str, report_path: Path, power=None
) -> Path:
    """report.html for the logs in ``log_dir`` (plus a :class:`SeriesCapture`'s series and a power series)."""
    return _write_report(
        Path(log_dir), result, series, get_benchmark(benchmark), report_path=Path(report_path), power=power
    )
