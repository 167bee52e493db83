"""COCO mAP evaluator against what tools/accuracy-coco.py prints (spec benchmarks.md §4.e, §4.g, §5.g)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re

import numpy as np
import pytest

pytest.importorskip("pycocotools")
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402

from edgeperf.accuracy import EVALUATORS, AccuracyError, evaluate_coco, write_accuracy_txt  # noqa: E402
from edgeperf.accuracy.coco import NO_DETECTIONS_NOTE  # noqa: E402
from edgeperf.loadgen.logs import AccuracyLog  # noqa: E402

# the submission checker's pattern for ssd-small / ssd-large (spec submission.md §4.3)
SSD_PATTERN = re.compile(r"^mAP=([\d\.]+).*")

# real COCO category ids with gaps, in JSON order
CATEGORIES = [
    {"id": 1, "name": "person", "supercategory": "person"},
    {"id": 3, "name": "car", "supercategory": "vehicle"},
    {"id": 13, "name": "stop sign", "supercategory": "outdoor"},
    {"id": 90, "name": "toothbrush", "supercategory": "indoor"},
]
# (id, width, height); JSON order; 632 has no annotation
IMAGES = [(139, 640, 480), (285, 480, 640), (632, 320, 320), (724, 500, 375)]
# (image_id, category_id, [x, y, w, h]) — small, medium and large boxes
ANNOTATIONS = [
    (139, 1, [412.8, 157.61, 53.05, 138.01]),
    (139, 3, [10.0, 20.0, 300.0, 200.0]),
    (139, 90, [600.5, 400.25, 20.0, 12.5]),
    (285, 1, [40.0, 60.0, 400.0, 560.0]),
    (285, 13, [100.0, 100.0, 64.0, 64.0]),
    (724, 13, [250.0, 50.0, 120.0, 150.0]),
    (724, 3, [5.0, 200.0, 90.0, 40.0]),
]
TABLE_LINE = re.compile(r"^ Average (Precision|Recall) +\((AP|AR)\) @\[ IoU=.* \] = -?\d\.\d{3}$")


@pytest.fixture
def coco_dir(tmp_path):
    root = tmp_path / "coco"
    (root / "annotations").mkdir(parents=True)
    doc = {
        "info": {"description": "edgeperf tiny COCO"},
        "licenses": [],
        "images": [
            {
                "id": i,
                "file_name": f"{i:012d}.jpg",
                "width": w,
                "height": h,
                "coco_url": f"http://images.cocodataset.org/val2017/{i:012d}.jpg",
            }
            for i, w, h in IMAGES
        ],
        "annotations": [
            {"id": k + 1, "image_id": img, "category_id": cat, "bbox": box, "area": box[2] * box[3], "iscrowd": 0}
            for k, (img, cat, box) in enumerate(ANNOTATIONS)
        ],
        "categories": CATEGORIES,
    }
    (root / "annotations" / "instances_val2017.json").write_text(json.dumps(doc))
    return root


def gt_tuples(label_of=lambda cat: cat, order=None, score=1.0):
    """Per QSL index: the float32 7-tuples of a perfect detector (GT boxes, normalised)."""
    sizes = {i: (w, h) for i, w, h in IMAGES}
    order = order or [i for i, _, _ in IMAGES]
    out = []
    for idx, img in enumerate(order):
        w, h = sizes[img]
        rows = [
            [idx, y / h, x / w, (y + bh) / h, (x + bw) / w, score, label_of(cat)]
            for im, cat, (x, y, bw, bh) in ANNOTATIONS
            if im == img
        ]
        out.append(rows)
    return out


def write_log(path, per_index, extra=()):
    """per_index[i]: list of 7-value rows for qsl_idx i (empty list: empty data)."""
    with AccuracyLog(path) as log:
        seq = 0
        for idx, rows in list(enumerate(per_index)) + list(extra):
            log.append(seq, idx, np.asarray(rows, dtype="<f4").reshape(-1))
            seq += 1
    return path


def checker_value(lines):
    acc = None
    for line in lines:
        m = SSD_PATTERN.match(line)
        if m:
            acc = m.group(1)
    return acc


def reference_eval(coco_dir, detections, img_ids):
    """pycocotools run directly on a detection list, as the reference script would."""
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(coco_dir / "annotations" / "instances_val2017.json"))
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        dt = gt.loadRes(detections)
        ev = COCOeval(gt, dt, iouType="bbox")
        ev.params.imgIds = list(img_ids)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    table = [line for line in buf.getvalue().splitlines() if TABLE_LINE.match(line)]
    return ev.stats, table


def gt_detections(skip=()):
    """The GT boxes as detections (exact, in pixels), leaving out annotation indices in skip."""
    return [
        {"image_id": img, "category_id": cat, "bbox": list(box), "score": 1.0}
        for k, (img, cat, box) in enumerate(ANNOTATIONS)
        if k not in skip
    ]


def test_perfect_log(tmp_path, coco_dir):
    log = write_log(tmp_path / "log.json", gt_tuples())
    res = evaluate_coco(log, coco_dir)
    assert res.official_line == "mAP=100.000%"
    assert res.lines[-1] == "mAP=100.000%"
    assert res.metric == "coco_map" and res.value == 100.0
    assert res.details["images"] == 4 and res.details["no_results"] == 1
    assert res.details["detections"] == len(ANNOTATIONS)
    assert res.details["stats"][0] == pytest.approx(1.0)
    assert res.notes == []
    assert checker_value(res.lines) == "100.000"


def test_printed_lines_are_the_reference_layout(tmp_path, coco_dir):
    log = write_log(tmp_path / "log.json", gt_tuples())
    res = evaluate_coco(log, coco_dir)
    layout = (
        [
            r"loading annotations into memory\.\.\.",
            r"Done \(t=\d+\.\d\ds\)",
            r"creating index\.\.\.",
            r"index created!",
            r"Loading and preparing results\.\.\.",
            r"DONE \(t=\d+\.\d\ds\)",
            r"creating index\.\.\.",
            r"index created!",
            r"Running per image evaluation\.\.\.",
            r"Evaluate annotation type \*bbox\*",
            r"DONE \(t=\d+\.\d\ds\)\.",
            r"Accumulating evaluation results\.\.\.",
            r"DONE \(t=\d+\.\d\ds\)\.",
        ]
        + [TABLE_LINE.pattern.strip("^$")] * 12
        + [r"mAP=100\.000%"]
    )
    assert len(res.lines) == len(layout)
    for line, pattern in zip(res.lines, layout):
        assert re.fullmatch(pattern, line), (line, pattern)
    # the table is exactly pycocotools' own
    _, table = reference_eval(coco_dir, gt_detections(), [i for i, _, _ in IMAGES])
    assert res.lines[13:25] == table
    assert table[0] == (" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000")


def test_one_missing_detection_exact_drop(tmp_path, coco_dir):
    per_index = gt_tuples()
    # image 285 (index 1) loses its person; person has 2 GT instances in all
    per_index[1] = [row for row in per_index[1] if row[6] != 1]
    log = write_log(tmp_path / "log.json", per_index)
    res = evaluate_coco(log, coco_dir)
    stats, table = reference_eval(coco_dir, gt_detections(skip={3}), [i for i, _, _ in IMAGES])
    # person: recall stops at 0.5 → precision 1 at 51 of the 101 recall points; 3 others perfect
    expected = (3 + 51 / 101) / 4
    assert stats[0] == pytest.approx(expected)
    assert res.details["stats"][0] == pytest.approx(stats[0])
    assert res.official_line == f"mAP={100 * expected:.3f}%" == "mAP=87.624%"
    assert res.lines[-13:-1] == table
    assert res.value == 87.624
    assert checker_value(res.lines) == "87.624"


def test_shifted_categories_drop(tmp_path, coco_dir):
    ids = [c["id"] for c in CATEGORIES]
    shifted = {c: ids[(ids.index(c) + 1) % len(ids)] for c in ids}
    log = write_log(tmp_path / "log.json", gt_tuples(label_of=shifted.__getitem__))
    res = evaluate_coco(log, coco_dir)
    assert res.official_line == "mAP=0.000%"
    assert res.value == 0.0


def test_contiguous_labels_need_inv_map(tmp_path, coco_dir):
    contiguous = {c["id"]: k + 1 for k, c in enumerate(CATEGORIES)}  # 1, 3, 13, 90 -> 1..4
    log = write_log(tmp_path / "log.json", gt_tuples(label_of=contiguous.__getitem__))
    assert evaluate_coco(log, coco_dir, use_inv_map=True).official_line == "mAP=100.000%"
    without = evaluate_coco(log, coco_dir)
    # only label 1 (person) coincides with its COCO id
    assert without.official_line == "mAP=25.000%"


def test_inv_map_label_out_of_range(tmp_path, coco_dir):
    per_index = gt_tuples()  # COCO ids up to 90, but inv_map has only 5 entries
    log = write_log(tmp_path / "log.json", per_index)
    with pytest.raises(AccuracyError) as err:
        evaluate_coco(log, coco_dir, use_inv_map=True)
    assert str(log) in str(err.value) and "seq_id 0" in str(err.value) and "label" in str(err.value)


def test_empty_log(tmp_path, coco_dir):
    log = write_log(tmp_path / "log.json", [])
    res = evaluate_coco(log, coco_dir)
    assert res.official_line == "mAP=0.000%" and res.lines[-1] == "mAP=0.000%"
    assert res.value == 0.0 and res.notes == [NO_DETECTIONS_NOTE]
    assert NO_DETECTIONS_NOTE in res.lines
    i = res.lines.index("Loading and preparing results...")
    assert res.lines[i + 1] == NO_DETECTIONS_NOTE
    assert sum(1 for line in res.lines if TABLE_LINE.match(line)) == 12
    assert checker_value(res.lines) == "0.000"


def test_only_empty_records(tmp_path, coco_dir):
    log = write_log(tmp_path / "log.json", [[], [], [], []])
    res = evaluate_coco(log, coco_dir, verbose=True)
    assert res.official_line == "mAP=0.000%"
    assert res.details["stats"][0] == 0.0  # GT exists in the evaluated images: a real zero
    assert res.details["images"] == 4 and res.details["no_results"] == 4
    assert res.lines[4:8] == [
        f"no results: http://images.cocodataset.org/val2017/{i:012d}.jpg, idx={k}" for k, (i, _, _) in enumerate(IMAGES)
    ]
    assert res.lines[-4:] == ["found 4 results", "found 4 images", "found 4 images with no results", "ignored 0 dupes"]


def test_duplicates_and_verbose_tail(tmp_path, coco_dir):
    per_index = gt_tuples()
    # a second record for qsl 0 with a wrong class: ignored
    log = write_log(tmp_path / "log.json", per_index, extra=[(0, [[0, 0.1, 0.1, 0.2, 0.2, 0.9, 3]])])
    res = evaluate_coco(log, coco_dir, verbose=True)
    assert res.lines[-5:] == [
        "mAP=100.000%",
        "found 5 results",
        "found 4 images",
        "found 1 images with no results",
        "ignored 1 dupes",
    ]
    assert res.details["dupes"] == 1
    assert checker_value(res.lines) == "100.000"


def test_payload_idx_mismatch_warns(tmp_path, coco_dir):
    per_index = gt_tuples()
    per_index[3] = [[7] + row[1:] for row in per_index[3]]
    log = write_log(tmp_path / "log.json", per_index)
    res = evaluate_coco(log, coco_dir)
    errors = [line for line in res.lines if line.startswith("ERROR")]
    assert errors == ["ERROR: loadgen(3) and payload(7) disagree on image_idx"] * 2
    assert res.details["idx_mismatches"] == 2
    # the detections still go to the log's qsl_idx
    assert res.official_line == "mAP=100.000%"
    # they follow GT loading, before the results are loaded
    assert res.lines.index(errors[0]) == 4


def test_false_positive_on_empty_image(tmp_path, coco_dir):
    per_index = gt_tuples(score=0.9)
    per_index[2] = [[2, 0.1, 0.1, 0.5, 0.5, 0.95, 13]]  # image 632 has no GT
    log = write_log(tmp_path / "log.json", per_index)
    res = evaluate_coco(log, coco_dir)
    sizes = {i: (w, h) for i, w, h in IMAGES}
    dets = [dict(d, score=float(np.float32(0.9))) for d in gt_detections()]
    dets.append(
        {"image_id": 632, "category_id": 13, "bbox": [32.0, 32.0, 128.0, 128.0], "score": float(np.float32(0.95))}
    )
    stats, _ = reference_eval(coco_dir, dets, sizes)
    assert res.details["stats"][0] == pytest.approx(stats[0])
    assert res.official_line == f"mAP={100 * stats[0]:.3f}%"
    assert res.value < 100.0


def test_output_file_and_no_litter(tmp_path, coco_dir, monkeypatch):
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    log = write_log(tmp_path / "log.json", gt_tuples())
    evaluate_coco(log, coco_dir)
    assert list(work.iterdir()) == []

    out = tmp_path / "coco-results.json"
    res = evaluate_coco(log, coco_dir, output_file=out)
    assert res.official_line == "mAP=100.000%"
    text = out.read_text()
    dets = json.loads(text)
    assert len(dets) == len(ANNOTATIONS)
    assert list(dets[0]) == ["bbox", "category_id", "image_id", "image_loc", "score"]
    assert dets[0]["image_loc"] == os.path.join(str(coco_dir), "val2017", "000000000139.jpg")
    assert text.startswith('[\n    {\n        "bbox": [\n')  # indent=4, sorted keys
    # boxes are de-normalised in float32 like the reference's numpy scalars
    x, y, w, h = ANNOTATIONS[0][2]
    f = np.float32
    assert dets[0]["bbox"] == [
        float(f(x / 640) * f(640)),
        float(f(y / 480) * f(480)),
        float(f((x + w) / 640) * f(640) - f(x / 640) * f(640)),
        float(f((y + h) / 480) * f(480) - f(y / 480) * f(480)),
    ]
    assert list(work.iterdir()) == []


def test_empty_log_writes_empty_output_file(tmp_path, coco_dir):
    out = tmp_path / "dets.json"
    evaluate_coco(write_log(tmp_path / "log.json", []), coco_dir, output_file=out)
    assert json.loads(out.read_text()) == []


def test_remove_48_empty_images(tmp_path, coco_dir):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(coco_dir / "annotations" / "instances_val2017.json"))
    annotated = []
    for cat in gt.getCatIds():
        annotated += gt.catToImgs[cat]
    order = list(set(annotated))
    assert sorted(order) == [139, 285, 724]
    log = write_log(tmp_path / "log.json", gt_tuples(order=order))
    res = evaluate_coco(log, coco_dir, remove_48_empty_images=True)
    assert res.official_line == "mAP=100.000%"
    assert res.details["images"] == 3
    # index 3 no longer exists
    log = write_log(tmp_path / "log2.json", gt_tuples())
    with pytest.raises(AccuracyError, match="qsl_idx 3"):
        evaluate_coco(log, coco_dir, remove_48_empty_images=True)


def test_bad_records(tmp_path, coco_dir):
    log = tmp_path / "log.json"
    with AccuracyLog(log) as w:
        w.append(0, 0, b"\x00" * 30)
    with pytest.raises(AccuracyError, match="seq_id 0.*not whole float32"):
        evaluate_coco(log, coco_dir)
    with AccuracyLog(log) as w:
        w.append(0, 0, np.zeros(10, "<f4"))
    with pytest.raises(AccuracyError, match="not whole detections"):
        evaluate_coco(log, coco_dir)
    with AccuracyLog(log) as w:
        w.append(5, 9, np.zeros(7, "<f4"))
    with pytest.raises(AccuracyError, match="seq_id 5 \\(qsl_idx 9\\).*outside"):
        evaluate_coco(log, coco_dir)
    with AccuracyLog(log) as w:
        w.append(0, 0, np.array([0, 0, 0, 1, 1, 1, np.nan], "<f4"))
    with pytest.raises(AccuracyError, match="label is nan"):
        evaluate_coco(log, coco_dir)


def test_missing_annotations(tmp_path):
    log = write_log(tmp_path / "log.json", [])
    with pytest.raises(AccuracyError, match="instances_val2017.json"):
        evaluate_coco(log, tmp_path / "nowhere")


def test_registry_and_accuracy_txt(tmp_path, coco_dir):
    assert EVALUATORS["coco_map"] is evaluate_coco
    log = write_log(tmp_path / "log.json", gt_tuples())
    res = EVALUATORS["coco_map"](log, coco_dir)
    path = write_accuracy_txt(res, tmp_path / "accuracy.txt")
    data = path.read_bytes()
    assert data == ("\n".join(res.lines) + "\n").encode()
    assert data.startswith(b"loading annotations into memory...\n")
    assert data.endswith(b"\nmAP=100.000%\n")
