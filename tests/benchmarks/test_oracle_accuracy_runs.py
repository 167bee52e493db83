"""Oracle runs: a backend whose outputs are the ground truth must score perfectly through the whole
``edgeperf run`` chain, and perturbing one sample must cost exactly what the official scripts say.

The oracle (``edgeperf.testing.oracle.OracleBackend.from_table``) looks each sample's outputs up by
the content of its *preprocessed* input, so it sees exactly what a real model would: the dataset
loader, the reference preprocessing, DatasetQSL batching, the SUT and the response encoding all
run for real. It is registered as a backend and chosen with ``--backend``, as a user would choose
a remote one. The expected COCO values are computed here independently, with pycocotools'
COCOeval on detections built straight from the annotation file.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

from edgeperf.backends import register_backend
from edgeperf.benchmarks import get_benchmark
from edgeperf.datasets.coco import CocoDataset
from edgeperf.datasets.imagenet import ImagenetDataset
from edgeperf.testing.oracle import OracleBackend, content_key
from vision_fixtures import COCO_ANNOTATIONS, COCO_EMPTY_IMAGE_ID, COCO_IMAGES, IMAGENET_LABELS

pytest.importorskip("pycocotools")

# -- oracle tables from the ground truth --------------------------------------------------------


def _imagenet_table(root: Path, wrong: dict[int, int] | None = None) -> dict:
    """content key of sample i → ArgMax (1001 classes, 0 = background) = label + 1."""
    ds = ImagenetDataset(root, layout="NCHW")
    wrong = wrong or {}
    return {
        content_key(ds.preprocessed(i)): {"ArgMax:0": np.int64(wrong.get(i, ds.label(i)) + 1)} for i in range(len(ds))
    }


def _coco_truth(ds: CocoDataset, i: int, drop: set[int]):
    """(normalised x0, y0, x1, y1 boxes, COCO category ids) of image i, without annotation ids in drop."""
    gt = ds.ground_truth(i)
    keep = ~np.isin(gt.annotation_ids, list(drop))
    height, width = ds.image_size(i)
    x, y, w, h = (gt.boxes[keep, k] for k in range(4))
    boxes = np.stack([x / width, y / height, (x + w) / width, (y + h) / height], axis=1)
    return boxes.astype(np.float32), gt.category_ids[keep]


def _ssd_mobilenet_table(root: Path, drop: set[int] = frozenset()) -> dict:
    ds = CocoDataset(root, preprocess="ssd-mobilenet")
    table = {}
    for i in range(len(ds)):
        xyxy, cats = _coco_truth(ds, i, drop)
        k = len(cats)
        boxes = np.zeros((100, 4), np.float32)
        boxes[:k] = xyxy[:, [1, 0, 3, 2]]  # [ymin, xmin, ymax, xmax]
        scores = np.zeros(100, np.float32)
        scores[:k] = 0.9
        classes = np.zeros(100, np.float32)
        classes[:k] = cats  # COCO ids directly (§4.c)
        table[content_key(ds.preprocessed(i))] = {
            "num_detections:0": np.float32(k),
            "detection_boxes:0": boxes,
            "detection_scores:0": scores,
            "detection_classes:0": classes,
        }
    return table


def _ssd_resnet34_table(root: Path, drop: set[int] = frozenset()) -> dict:
    ds = CocoDataset(root, preprocess="ssd-resnet34")
    contiguous = {int(c): n + 1 for n, c in enumerate(ds.category_ids)}  # COCO id → 1..80
    table = {}
    for i in range(len(ds)):
        xyxy, cats = _coco_truth(ds, i, drop)
        k = len(cats)
        # Entries in *ascending* score order with padding first, as the PyTorch decoder leaves
        # them: the reference's "stop at the first score < 0.5" would lose them all.
        bboxes = np.zeros((200, 4), np.float32)
        labels = np.zeros(200, np.int64)
        scores = np.zeros(200, np.float32)
        if k:
            bboxes[200 - k :] = xyxy  # ltrb, x first (§5.c)
            labels[200 - k :] = [contiguous[int(c)] for c in cats]
            scores[200 - k :] = np.linspace(0.6, 0.9, k)
        table[content_key(ds.preprocessed(i))] = {"bboxes": bboxes, "labels": labels, "scores": scores}
    return table


_TABLES = {
    "resnet50": ("input_tensor:0", _imagenet_table),
    "ssd-mobilenet": ("image_tensor:0", _ssd_mobilenet_table),
    "ssd-resnet34": ("image", _ssd_resnet34_table),
}


def _register_oracle(name: str, benchmark: str, table: dict) -> str:
    signature = get_benchmark(benchmark).signature
    key_input = signature.inputs[0].name

    def factory(threads=None, providers=None):
        return OracleBackend.from_table(signature, key_input, table)

    register_backend(name, factory, replace=True)
    return name


def _oracle_run(
    cli, tmp_path: Path, benchmark: str, dataset: Path, model: Path, backend: str, scenario: str = "Offline"
) -> tuple[Path, str]:
    out = tmp_path / f"{benchmark}-{backend}"
    result = cli(
        "run",
        benchmark,
        "--scenario",
        scenario,
        "--mode",
        "accuracy",
        "--model",
        model,
        "--dataset",
        dataset,
        "--output",
        out,
        "--backend",
        backend,
    )
    assert result.exit_code == 0, result.output
    official = (out / "accuracy.txt").read_text().splitlines()[-1]
    assert official in result.output.splitlines()
    return out, official


# -- the independent COCO computation ----------------------------------------------------------


def _expected_map(annotations_file: Path, drop: set[int]) -> str:
    """``mAP=…%`` for detections equal to the ground truth minus ``drop``, by pycocotools directly."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(annotations_file))
        dets = [
            {"image_id": a["image_id"], "category_id": a["category_id"], "bbox": list(a["bbox"]), "score": 0.9}
            for a in COCO_ANNOTATIONS
            if a["id"] not in drop
        ]
        evaluator = COCOeval(gt, gt.loadRes(dets), iouType="bbox")
        evaluator.params.imgIds = [im["id"] for im in COCO_IMAGES]  # every image was answered
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return f"mAP={100 * evaluator.stats[0]:.3f}%"


# -- ResNet50 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["SingleStream", "Offline"])
def test_resnet50_oracle_is_perfect_and_one_wrong_label_costs_one_image(cli, tmp_path, imagenet_dir, models, scenario):
    backend = _register_oracle("test-oracle-resnet50", "resnet50", _imagenet_table(imagenet_dir))
    out, official = _oracle_run(cli, tmp_path, "resnet50", imagenet_dir, models["resnet50"], backend, scenario)
    assert official == "accuracy=100.000%, good=5, total=5"
    # the log holds each label as the reference writes it: float32 of label (argmax - 1)
    entries = json.loads((out / "mlperf_log_accuracy.json").read_text())
    by_index = {e["qsl_idx"]: e["data"] for e in entries}
    assert by_index == {i: np.float32(label).tobytes().hex().upper() for i, label in enumerate(IMAGENET_LABELS)}

    wrong = _register_oracle("test-oracle-resnet50-wrong", "resnet50", _imagenet_table(imagenet_dir, {2: 231}))
    _, official = _oracle_run(cli, tmp_path, "resnet50", imagenet_dir, models["resnet50"], wrong, scenario)
    assert official == "accuracy=80.000%, good=4, total=5"


# -- SSD-MobileNet and SSD-ResNet34 -------------------------------------------------------------


def test_ssd_mobilenet_oracle_is_perfect(cli, tmp_path, coco_dir, models):
    backend = _register_oracle("test-oracle-ssd-mobilenet", "ssd-mobilenet", _ssd_mobilenet_table(coco_dir))
    out, official = _oracle_run(cli, tmp_path, "ssd-mobilenet", coco_dir, models["ssd-mobilenet"], backend)
    assert official == "mAP=100.000%"
    entries = json.loads((out / "mlperf_log_accuracy.json").read_text())
    assert sorted(e["qsl_idx"] for e in entries) == [0, 1, 2, 3]
    empty = [e for e in entries if e["qsl_idx"] == [m["id"] for m in COCO_IMAGES].index(COCO_EMPTY_IMAGE_ID)]
    assert empty[0]["data"] == ""  # the image without annotations answers no detection
    for e in entries:
        values = np.frombuffer(bytes.fromhex(e["data"]), "<f4").reshape(-1, 7)
        assert (values[:, 0] == e["qsl_idx"]).all()  # the first float is the QSL index


@pytest.mark.parametrize("drop", [{1005}, {1002}], ids=["one-of-two-persons", "the-only-toothbrush"])
def test_ssd_mobilenet_one_dropped_detection(cli, tmp_path, coco_dir, models, drop):
    expected = _expected_map(coco_dir / "annotations" / "instances_val2017.json", drop)
    assert expected == {1005: "mAP=87.624%", 1002: "mAP=75.000%"}[next(iter(drop))]  # by hand: (3 + 51/101) / 4, 3 / 4
    backend = _register_oracle("test-oracle-ssd-mobilenet-drop", "ssd-mobilenet", _ssd_mobilenet_table(coco_dir, drop))
    _, official = _oracle_run(cli, tmp_path, "ssd-mobilenet", coco_dir, models["ssd-mobilenet"], backend)
    assert official == expected


def test_ssd_resnet34_oracle_is_perfect_with_contiguous_labels(cli, tmp_path, coco_dir, models):
    from edgeperf.accuracy.coco import evaluate_coco

    backend = _register_oracle("test-oracle-ssd-resnet34", "ssd-resnet34", _ssd_resnet34_table(coco_dir))
    out, official = _oracle_run(cli, tmp_path, "ssd-resnet34", coco_dir, models["ssd-resnet34"], backend)
    assert official == "mAP=100.000%"
    # the log holds contiguous labels: only the inverse map (--use-inv-map) makes them COCO ids
    without = evaluate_coco(out / "mlperf_log_accuracy.json", coco_dir, use_inv_map=False)
    assert without.value < 100.0
    labels = set()
    for e in json.loads((out / "mlperf_log_accuracy.json").read_text()):
        labels |= set(np.frombuffer(bytes.fromhex(e["data"]), "<f4").reshape(-1, 7)[:, 6].tolist())
    assert labels == {1.0, 2.0, 3.0, 4.0}


def test_ssd_resnet34_one_dropped_detection(cli, tmp_path, coco_dir, models):
    drop = {1003}  # one of the two cars (image 37777): category 3 recall at most 1/2
    expected = _expected_map(coco_dir / "annotations" / "instances_val2017.json", drop)
    assert expected == "mAP=87.624%"
    backend = _register_oracle("test-oracle-ssd-resnet34-drop", "ssd-resnet34", _ssd_resnet34_table(coco_dir, drop))
    _, official = _oracle_run(cli, tmp_path, "ssd-resnet34", coco_dir, models["ssd-resnet34"], backend, "SingleStream")
    assert official == expected


# -- edgeperf accuracy on the logs of those runs ------------------------------------------------


def _untimed(text: str) -> list[str]:
    """The lines of ``text`` with the durations pycocotools prints masked."""
    return re.sub(r"\(t=\d+\.\d+s\)", "(t=…s)", text).splitlines()


def test_edgeperf_accuracy_rescores_a_run_log(cli, tmp_path, coco_dir, imagenet_dir, models):
    cases = [
        (
            "resnet50",
            imagenet_dir,
            models["resnet50"],
            _imagenet_table(imagenet_dir, {0: 1, 4: 14}),
            "accuracy=60.000%, good=3, total=5",
        ),
        ("ssd-mobilenet", coco_dir, models["ssd-mobilenet"], _ssd_mobilenet_table(coco_dir, {1002}), "mAP=75.000%"),
    ]
    for benchmark, dataset, model, table, line in cases:
        backend = _register_oracle(f"test-oracle-rescore-{benchmark}", benchmark, table)
        out, official = _oracle_run(cli, tmp_path, benchmark, dataset, model, backend)
        assert official == line
        result = cli("accuracy", benchmark, "--log", out / "mlperf_log_accuracy.json", "--dataset", dataset)
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[-1] == line
        # and exactly the lines of the run's accuracy.txt, but for pycocotools' own timings
        # ("DONE (t=0.01s)."), which differ from run to run
        assert _untimed(result.output) == _untimed((out / "accuracy.txt").read_text())
