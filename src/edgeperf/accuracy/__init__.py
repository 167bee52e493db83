"""Accuracy evaluators: one per metric, each printing what the official v1.1 script prints.

- ``evaluate_imagenet`` (metric ``top1``): ``tools/accuracy-imagenet.py`` (ResNet50);
- ``evaluate_coco`` (metric ``coco_map``): ``tools/accuracy-coco.py`` (SSD-MobileNet,
  SSD-ResNet34); needs pycocotools (the ``vision`` extra), imported only when it runs;
- ``evaluate_squad`` (metric ``squad_f1``): ``accuracy-squad.py`` (BERT);
- ``evaluate_wer`` (metric ``wer``): RNN-T's ``accuracy_eval.py``;
- ``evaluate_brats`` (metric ``dice``): ``accuracy-brats.py`` (3D-UNet).

Every evaluator returns an :class:`AccuracyResult` whose ``lines`` are the official script's
stdout; :func:`write_accuracy_txt` writes them as ``accuracy.txt``. :data:`EVALUATORS` maps
metric names to evaluators (log path first, ground-truth location second, options by keyword).
This package may import numpy, task libraries and ``edgeperf.loadgen.logs`` only.
"""

from .base import AccuracyError, AccuracyResult, EVALUATORS, register, write_accuracy_txt
from .brats import evaluate_brats
from .coco import evaluate_coco
from .imagenet import evaluate_imagenet, read_val_map
from .squad import evaluate_squad
from .wer import evaluate_wer

__all__ = [
    "AccuracyError",
    "AccuracyResult",
    "EVALUATORS",
    "evaluate_brats",
    "evaluate_coco",
    "evaluate_imagenet",
    "evaluate_squad",
    "evaluate_wer",
    "read_val_map",
    "register",
    "write_accuracy_txt",
]
