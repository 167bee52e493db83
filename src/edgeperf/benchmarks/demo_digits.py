"""``demo-digits``: the small Open-division benchmark that ``edgeperf demo`` runs (no download).

Not one of the six v1.1 benchmarks. A 64-32-10 perceptron classifies the held-out 8x8 handwritten
digits of scikit-learn's bundled data set; ``tools/train_demo_model.py`` trains it, exports it to
ONNX and records its held-out top-1 accuracy in ``model.json``. All of it ships in
``data/demo-digits/`` (about 60 kB), so the benchmark needs only numpy and onnxruntime at run time.

* Quality target: 99% of the recorded held-out accuracy (like the closed image classifier's).
* Accuracy: top-1 over the held-out images, printed in the ImageNet script's format
  (``accuracy=96.364%, good=1060, total=1100``) by the same evaluator, from ``val_map.txt``.
* Response bytes: the predicted label as one float32 per sample, as ResNet50's harness writes it.
* Server latency bound: 50 ms (its own; set in the demo's user.conf, since mlperf.conf has no
  line for this model).
* Submission: an Open-division result filed under the image-classification model class
  ``resnet``; the checker learns the name through its extra model map (``demo-digits:resnet``,
  the official checker's ``--extra-model-benchmark-map``). The held-out set holds 1,100 images so
  that the 1,024-sample performance set the ``resnet`` class requires fits.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..backends.base import ModelSignature, TensorSpec
from ..loadgen.enums import TestScenario
from .registry import BenchmarkDefinition, QualityTarget, register

__all__ = ["DEMO_DIGITS", "DATA_DIR", "demo_model_path", "demo_dataset_path", "demo_model_record", "OPEN_MODEL_MAP"]

#: The folder of the shipped model, data set and ``model.json``.
DATA_DIR = Path(__file__).resolve().parent / "data" / "demo-digits"

#: Benchmark name -> the v1.1 checker model class its Open-division results are filed under.
OPEN_MODEL_MAP = {"demo-digits": "resnet"}


def demo_model_path() -> Path:
    """The shipped ONNX classifier."""
    return DATA_DIR / "model.onnx"


def demo_dataset_path() -> Path:
    """The folder of the shipped held-out digits (``digits.npz``, ``val_map.txt``)."""
    return DATA_DIR


@lru_cache(maxsize=1)
def demo_model_record() -> dict:
    """``model.json``: the held-out accuracy, the quality target and how the model was made."""
    return json.loads((DATA_DIR / "model.json").read_text(encoding="utf-8"))


def digits_postprocess(outputs: dict[str, np.ndarray], indices: np.ndarray) -> list[bytes]:
    """The predicted digit of each sample as one little-endian float32."""
    labels = np.asarray(outputs["label"]).reshape(-1).astype("<f4")
    return [labels[i : i + 1].tobytes() for i in range(len(indices))]


def _open_digits(root, *, layout, cache_dir=None, count=None):
    from ..datasets.digits import DigitsDataset

    del cache_dir  # 64 pixels per image: nothing worth caching
    return DigitsDataset(root, layout=layout, count=count)


def _evaluate_digits(log_path, dataset_root, **kw):
    """Top-1 of an accuracy log against the held-out labels (``val_map.txt``), ImageNet-style line."""
    from ..accuracy.imagenet import evaluate_imagenet

    return evaluate_imagenet(log_path, Path(dataset_root) / "val_map.txt", **kw)


def _quality() -> QualityTarget:
    record = demo_model_record()
    return QualityTarget("top1", float(record["held_out_accuracy"]), float(record["quality_target_fraction"]))


DEMO_DIGITS = register(
    BenchmarkDefinition(
        name="demo-digits",
        config_model="demo-digits",
        checker_model=OPEN_MODEL_MAP["demo-digits"],
        task="handwritten digits, 8x8 (Open-division demo)",
        dataset_kind="digits",
        signature=ModelSignature(
            inputs=(TensorSpec("input", "float32", (None, 1, 8, 8)),),
            outputs=(TensorSpec("label", "int64", (None,)), TensorSpec("logits", "float32", (None, 10))),
        ),
        requested_outputs=("label",),
        layout="NCHW",
        max_batch=64,
        qsl_total=int(demo_model_record()["held_out_images"]),
        qsl_performance_count=1024,
        quality=_quality(),
        # A Python SUT on a small shared machine sees scheduler pauses of several ms; a 50 ms
        # bound keeps the demo's Server runs VALID there (the resnet class's 15 ms is reported
        # by the checker, which v1.1 does not count against an Open result).
        server_latency_ms=50,
        required_scenarios=(TestScenario.SingleStream, TestScenario.MultiStream, TestScenario.Offline),
        open_dataset=_open_digits,
        postprocess=digits_postprocess,
        evaluate=_evaluate_digits,
        notes="Open division only; edgeperf's demo workload, trained by tools/train_demo_model.py",
        division="open",
    )
)
