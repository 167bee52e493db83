"""What defines a benchmark, and the lookup by name (spec benchmarks.md §1, §10).

A definition is data plus three small callables: how to open its dataset, how to turn model
outputs into the reference's response bytes, and how to score an accuracy log. Heavy libraries
are imported only inside those callables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..backends.base import ModelSignature
from ..loadgen.enums import TestScenario
from ..errors import UnknownNameError
from ..submission.rules import V1_1

#: The round whose rules (quality targets, required scenarios) the benchmark definitions take.
ROUND_RULES = V1_1


@dataclass(frozen=True)
class QualityTarget:
    """The accuracy a closed-division result must reach: ``fraction`` of the reference ``value``."""

    metric: str  # "top1", "coco_map", ...
    reference: float  # FP32 reference score, in the unit the accuracy line prints
    fraction: float  # 0.99 or 0.999
    unit: str = "%"

    @property
    def threshold(self) -> float:
        """The score a result must reach."""
        return self.reference * self.fraction


def round_quality(checker_model: str, metric: str, unit: str = "%") -> QualityTarget:
    """The quality target of a checker model class, taken from the round's rules (their one source)."""
    rule = ROUND_RULES.accuracy[checker_model]
    return QualityTarget(metric, rule.reference, rule.fraction, unit)


def round_edge_scenarios(checker_model: str) -> tuple[TestScenario, ...]:
    """The scenarios the round's rules require of an Edge system for a model class (none when the
    class is not an Edge benchmark, as bert-99.9 in v1.1)."""
    return tuple(TestScenario(s) for s in ROUND_RULES.required_scenarios("edge", checker_model) or ())


Postprocess = Callable[[dict[str, np.ndarray], np.ndarray], list[bytes]]


@dataclass(frozen=True)
class BenchmarkDefinition:
    """One benchmark of the suite, as data."""

    name: str  # what users type: "resnet50"
    config_model: str  # model name in mlperf.conf / user.conf: "resnet50"
    checker_model: str  # model key of the v1.1 submission checker: "resnet"
    task: str
    dataset_kind: str  # "imagenet", "coco-300", "coco-1200"
    signature: ModelSignature
    requested_outputs: tuple[str, ...]
    layout: str  # "NCHW" or "NHWC" input layout
    max_batch: int
    qsl_total: int
    qsl_performance_count: int
    quality: QualityTarget
    server_latency_ms: int
    required_scenarios: tuple[TestScenario, ...]
    open_dataset: Callable[..., Any] = field(repr=False)
    postprocess: Postprocess = field(repr=False)
    evaluate: Callable[..., Any] = field(repr=False)
    notes: str = ""
    # Extension points for tasks whose samples are not one fixed-shape array (BERT's three
    # inputs, RNN-T's variable-length audio, 3D-UNet's large volumes). None = the vision default.
    open_qsl: Callable[..., Any] | None = field(default=None, repr=False)  # (bench, dataset, perf_count) -> QSL
    make_runner: Callable[..., Any] | None = field(default=None, repr=False)  # (bench, backend, qsl) -> runner
    load_model: Callable[..., Any] | None = field(default=None, repr=False)  # (bench, backend, model_path) -> None
    default_backend: str = "onnxruntime"
    # "closed": one of the v1.1 suite (results may go in either division); "open": a model of
    # edgeperf's own (demo-digits) whose results only the Open division accepts.
    division: str = "closed"

    def input_name(self) -> str:
        """The model input fed with the preprocessed batch."""
        return self.signature.inputs[0].name


BENCHMARKS: dict[str, BenchmarkDefinition] = {}


def register(defn: BenchmarkDefinition) -> BenchmarkDefinition:
    """Add a definition to the registry (names are unique)."""
    if defn.name in BENCHMARKS:
        raise ValueError(f"benchmark {defn.name!r} is defined twice")
    BENCHMARKS[defn.name] = defn
    return defn


#: Modules whose import registers benchmarks (each calls `register` at import time).
BENCHMARK_MODULES = ["vision", "language", "medical", "speech", "demo_digits"]


def _load_all() -> None:
    import importlib

    for module in BENCHMARK_MODULES:
        importlib.import_module(f"{__package__}.{module}")


def get_benchmark(name: str) -> BenchmarkDefinition:
    """Look a benchmark up by name; the error lists the known names."""
    _load_all()
    try:
        return BENCHMARKS[name]
    except KeyError:
        known = ", ".join(sorted(BENCHMARKS))
        raise UnknownNameError(f"unknown benchmark {name!r}; known benchmarks: {known}") from None


def open_model_map(names: Sequence[str] | None = None) -> dict[str, str]:
    """``{benchmark: checker model class}`` for the Open-only benchmarks among ``names`` (default:
    all): what the checker's extra model map (``--extra-model-map``) needs to file their results."""
    chosen = all_benchmarks() if names is None else [get_benchmark(n) for n in names]
    return {b.name: b.checker_model for b in chosen if b.division == "open"}


def all_benchmarks() -> Sequence[BenchmarkDefinition]:
    """Every registered benchmark, in definition order."""
    _load_all()
    return list(BENCHMARKS.values())
