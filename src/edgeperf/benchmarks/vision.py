"""ResNet50-v1.5, SSD-MobileNet-v1 and SSD-ResNet34 (spec benchmarks.md §2-§5, §10).

The postprocessing functions produce exactly the reference harness's response bytes: float32
little-endian values, one label for ResNet50, 7-tuples ``[qsl_idx, ymin, xmin, ymax, xmax,
score, class]`` for the detectors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..backends.base import ModelSignature, TensorSpec
from .registry import BenchmarkDefinition, register, round_edge_scenarios, round_quality


#: SSD-ResNet34 detections below this score are not reported (reference PostProcessCocoOnnx).
SSD_RESNET34_SCORE_THRESHOLD = 0.5


def resnet50_postprocess(outputs: dict[str, np.ndarray], indices: np.ndarray) -> list[bytes]:
    """ArgMax over 1001 classes (0 = background) minus one, as one float32 per sample (§3.d)."""
    labels = (np.asarray(outputs["ArgMax:0"]).reshape(-1).astype(np.int64) - 1).astype("<f4")
    return [labels[i : i + 1].tobytes() for i in range(len(indices))]


def _detections(idx: int, boxes_yx: np.ndarray, scores: np.ndarray, classes: np.ndarray) -> bytes:
    rows = np.empty((len(scores), 7), dtype="<f4")
    rows[:, 0] = idx
    rows[:, 1:5] = boxes_yx
    rows[:, 5] = scores
    rows[:, 6] = classes
    return rows.tobytes()


def ssd_mobilenet_postprocess(outputs: dict[str, np.ndarray], indices: np.ndarray) -> list[bytes]:
    """The first ``num_detections`` boxes of each image, no score threshold (§4.d)."""
    num = outputs["num_detections:0"]
    boxes = outputs["detection_boxes:0"]
    scores = outputs["detection_scores:0"]
    classes = outputs["detection_classes:0"]
    out = []
    for b, idx in enumerate(np.asarray(indices).tolist()):
        n = int(num[b])
        out.append(_detections(idx, boxes[b, :n], scores[b, :n], classes[b, :n]))
    return out


def ssd_resnet34_postprocess(outputs: dict[str, np.ndarray], indices: np.ndarray) -> list[bytes]:
    """Detections with score >= 0.5, boxes turned from ltrb to ``ymin, xmin, ymax, xmax`` (§5.d).

    The reference walks the 200 outputs in order and stops at the first score below 0.5, which
    assumes descending scores; keeping every entry at or above 0.5 in output order gives the same
    bytes for a descending output and stays correct for any other order.
    """
    bboxes, labels, scores = outputs["bboxes"], outputs["labels"], outputs["scores"]
    out = []
    for b, idx in enumerate(np.asarray(indices).tolist()):
        keep = scores[b] >= SSD_RESNET34_SCORE_THRESHOLD
        box = bboxes[b][keep]
        out.append(_detections(idx, box[:, [1, 0, 3, 2]], scores[b][keep], labels[b][keep]))
    return out


def _open_imagenet(root, *, layout, cache_dir=None, count=None):
    from ..datasets.imagenet import ImagenetDataset

    return ImagenetDataset(root, layout=layout, cache_dir=cache_dir, count=count)


def _open_coco(size: int, preprocess: str):
    def open_coco(root, *, layout, cache_dir=None, count=None):
        from ..datasets.coco import CocoDataset

        return CocoDataset(
            root, image_size=(size, size), preprocess=preprocess, layout=layout, cache_dir=cache_dir, count=count
        )

    return open_coco


def _evaluate_imagenet(log_path, dataset_root, **kw):
    from ..accuracy.imagenet import evaluate_imagenet

    return evaluate_imagenet(log_path, Path(dataset_root) / "val_map.txt", **kw)


def _evaluate_coco(use_inv_map: bool):
    # use_inv_map: what the benchmark's reference model needs; a caller may still override it.
    def evaluate(log_path, dataset_root, *, use_inv_map: bool = use_inv_map, **kw):
        from ..accuracy.coco import evaluate_coco

        return evaluate_coco(log_path, dataset_root, use_inv_map=use_inv_map, **kw)

    return evaluate


RESNET50 = register(
    BenchmarkDefinition(
        name="resnet50",
        config_model="resnet50",
        checker_model="resnet",
        task="image classification (ImageNet 2012 val)",
        dataset_kind="imagenet",
        signature=ModelSignature(
            inputs=(TensorSpec("input_tensor:0", "float32", (None, 3, 224, 224)),),
            # Only ArgMax:0 is read; the official zenodo 2541184 model has no softmax output.
            outputs=(TensorSpec("ArgMax:0", "int64", (None,)),),
        ),
        requested_outputs=("ArgMax:0",),
        layout="NCHW",
        max_batch=32,
        qsl_total=50000,
        qsl_performance_count=1024,
        quality=round_quality("resnet", "top1"),
        server_latency_ms=15,
        required_scenarios=round_edge_scenarios("resnet"),
        open_dataset=_open_imagenet,
        postprocess=resnet50_postprocess,
        evaluate=_evaluate_imagenet,
    )
)

SSD_MOBILENET = register(
    BenchmarkDefinition(
        name="ssd-mobilenet",
        config_model="ssd-mobilenet",
        checker_model="ssd-small",
        task="object detection (COCO 2017 val, 300x300)",
        dataset_kind="coco-300",
        signature=ModelSignature(
            inputs=(TensorSpec("image_tensor:0", "uint8", (None, 300, 300, 3)),),
            outputs=(
                TensorSpec("num_detections:0", "float32", (None,)),
                TensorSpec("detection_boxes:0", "float32", (None, 100, 4)),
                TensorSpec("detection_scores:0", "float32", (None, 100)),
                TensorSpec("detection_classes:0", "float32", (None, 100)),
            ),
        ),
        requested_outputs=("num_detections:0", "detection_boxes:0", "detection_scores:0", "detection_classes:0"),
        layout="NHWC",
        max_batch=32,
        qsl_total=5000,
        qsl_performance_count=256,
        quality=round_quality("ssd-small", "coco_map"),
        server_latency_ms=10,
        required_scenarios=round_edge_scenarios("ssd-small"),
        open_dataset=_open_coco(300, "ssd-mobilenet"),
        postprocess=ssd_mobilenet_postprocess,
        evaluate=_evaluate_coco(use_inv_map=False),
    )
)

SSD_RESNET34 = register(
    BenchmarkDefinition(
        name="ssd-resnet34",
        config_model="ssd-resnet34",
        checker_model="ssd-large",
        task="object detection (COCO 2017 val, 1200x1200)",
        dataset_kind="coco-1200",
        signature=ModelSignature(
            inputs=(TensorSpec("image", "float32", (1, 3, 1200, 1200)),),
            outputs=(
                TensorSpec("bboxes", "float32", (1, 200, 4)),
                TensorSpec("labels", "int64", (1, 200)),
                TensorSpec("scores", "float32", (1, 200)),
            ),
        ),
        requested_outputs=("bboxes", "labels", "scores"),
        layout="NCHW",
        max_batch=1,
        qsl_total=5000,
        qsl_performance_count=64,
        quality=round_quality("ssd-large", "coco_map"),
        server_latency_ms=100,
        required_scenarios=round_edge_scenarios("ssd-large"),
        open_dataset=_open_coco(1200, "ssd-resnet34"),
        postprocess=ssd_resnet34_postprocess,
        evaluate=_evaluate_coco(use_inv_map=True),
        notes="labels are contiguous 1..80; the accuracy script maps them with --use-inv-map",
    )
)
