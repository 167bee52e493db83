"""COCO mAP of SSD-MobileNet / SSD-ResNet34, as ``tools/accuracy-coco.py`` computes it.

Spec benchmarks.md §4.d–§4.e, §5.d–§5.e. Needs ``pycocotools`` (the ``vision`` extra), imported
only when an evaluation runs.

What the reference does, and so what :func:`evaluate_coco` does:

1. Load the ground truth with ``pycocotools.coco.COCO(<coco_dir>/annotations/instances_val2017.json)``.
   The sample index → image map is the JSON ``images`` list in file order, or with
   ``remove_48_empty_images`` the images having at least one annotation, in the order of
   ``list(set(...))`` over the per-category image lists (CPython's set order — deterministic for
   integer ids; only meant for the PyTorch SSD-ResNet34 profile, whose loader drops those images).
2. Walk the log keeping the first record of each ``qsl_idx``. Its bytes are float32 values in
   groups of 7: ``[idx, ymin, xmin, ymax, xmax, score, label]`` with the box normalised to
   [0, 1]. Fewer than 7 values: the image had no detections; its id is still evaluated. For each
   group: print ``ERROR: loadgen(<qsl_idx>) and payload(<idx>) disagree on image_idx`` when the
   payload's ``int(idx)`` differs (the log's qsl_idx is used anyway); multiply y by the GT image
   height and x by its width in float32 arithmetic; ``label = int(label)``, with ``use_inv_map``
   mapped through ``inv_map = [0] + category ids in JSON order`` (contiguous 1..80 → COCO ids);
   the detection is ``{"bbox": [xmin, ymin, xmax - xmin, ymax - ymin], "category_id": label,
   "image_id": <GT id>, "image_loc": <coco_dir>/val2017/<file_name>, "score": score}``.
3. Write the detections as JSON (``sort_keys=True, indent=4``), ``loadRes`` them, run ``COCOeval``
   (``bbox``, default parameters, ``params.imgIds`` = every image id seen), evaluate, accumulate,
   summarize (pycocotools prints its 12-line table), then print ``mAP={100*stats[0]:.3f}%``; with
   ``verbose`` also ``found <n> results``, ``found <n> images``, ``found <n> images with no
   results`` and ``ignored <n> dupes`` (and ``no results: <coco_url>, idx=<i>`` during the walk).

Everything pycocotools prints is captured (``contextlib.redirect_stdout``, so do not run two
evaluations in threads of one process at once) and lands in ``AccuracyResult.lines`` in order,
timings included, so ``accuracy.txt`` has the reference's layout.

Choices where the reference is hostile:

* The detections file is written only when ``output_file`` is given (the reference always writes
  ``coco-results.json`` into the current directory); otherwise the same list is handed to
  ``loadRes`` in memory, which scores identically (JSON round-trips these floats and ints exactly).
* No detection at all (an empty log, or only empty records): pycocotools' ``loadRes`` crashes on
  an empty list (IndexError). edgeperf builds the empty result set itself, runs the normal
  evaluation (so the table is still printed, all zeros or ``-1.000``), and reports
  ``mAP=0.000%`` — forced to 0 even where pycocotools' ``stats[0]`` is -1 because no ground truth
  was evaluated. An ``edgeperf:`` note line says so, after ``Loading and preparing results...``.
* Records the reference would crash on raise :class:`AccuracyError` naming the log, seq_id and
  qsl_idx: a qsl_idx outside the image map, data that is not whole float32 values or whose
  7-value groups are incomplete, a non-finite idx or label, a label outside ``inv_map`` (a
  negative label, which the reference would read from the end of ``inv_map``, included).
* ``verbose``'s ``no results`` line uses the image's ``file_name`` when it has no ``coco_url``.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from edgeperf.loadgen.logs.accuracy import iter_accuracy_log

from .._atomic import atomic_open
from .base import AccuracyError, AccuracyResult, _printed_value, register
from ..errors import MissingExtraError

__all__ = ["evaluate_coco", "ANNOTATIONS", "NO_DETECTIONS_NOTE"]

#: The ground-truth file, relative to the COCO root (``--coco-dir``).
ANNOTATIONS = os.path.join("annotations", "instances_val2017.json")

NO_DETECTIONS_NOTE = (
    "edgeperf: the accuracy log holds no detection; pycocotools cannot load an empty result "
    "list (the reference script crashes here), so an empty result set was evaluated and "
    "mAP is reported as 0"
)

_F32 = np.dtype("<f4")


def _import_pycocotools():
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError("COCO mAP needs pycocotools: pip install 'edgeperf[vision]'") from exc
    return COCO, COCOeval


@register("coco_map")
def evaluate_coco(
    log_path: str | os.PathLike,
    coco_dir: str | os.PathLike,
    *,
    use_inv_map: bool = False,
    remove_48_empty_images: bool = False,
    output_file: str | os.PathLike | None = None,
    verbose: bool = False,
) -> AccuracyResult:
    """COCO box mAP of an SSD accuracy log, exactly as ``accuracy-coco.py`` prints it.

    Args:
        log_path: ``mlperf_log_accuracy.json`` (complete, not truncated).
        coco_dir: the COCO root holding ``annotations/instances_val2017.json``.
        use_inv_map: labels in the log are contiguous 1..80 (SSD-ResNet34): map them to COCO
            category ids. SSD-MobileNet logs hold COCO ids already: leave it False.
        remove_48_empty_images: the sample index counts only annotated images (PyTorch
            SSD-ResNet34 profile).
        output_file: where to write the detections JSON (as the reference's ``--output-file``);
            None writes nothing.
        verbose: also produce the reference's ``--verbose`` lines.

    Returns an :class:`AccuracyResult` with metric ``"coco_map"``, value in percent and
    ``details`` ``stats`` (pycocotools' 12 numbers), ``images``, ``no_results``, ``dupes``,
    ``records``, ``detections``, ``idx_mismatches``. Raises :class:`AccuracyError` (see the module
    docstring) or ``LogFormatError`` for a malformed log.
    """
    COCO, COCOeval = _import_pycocotools()
    out = io.StringIO()

    def emit(line: str) -> None:
        out.write(line + "\n")

    coco_root = os.fspath(coco_dir)
    gt_path = os.path.join(coco_root, ANNOTATIONS)
    if not os.path.isfile(gt_path):
        raise AccuracyError(
            gt_path, "", "COCO annotations not found (expected <coco_dir>/annotations/instances_val2017.json)"
        )
    try:
        with contextlib.redirect_stdout(out):
            coco_gt = COCO(gt_path)
    except (ValueError, AssertionError, KeyError, TypeError) as exc:
        raise AccuracyError(gt_path, "", f"not a COCO annotations file: {exc!r}") from None
    if not isinstance(coco_gt.dataset.get("images"), list):
        raise AccuracyError(gt_path, "", 'no "images" list')

    inv_map = [0] + list(coco_gt.getCatIds()) if use_inv_map else None
    if remove_48_empty_images:
        annotated: list[Any] = []
        for cat_id in coco_gt.getCatIds():
            annotated += coco_gt.catToImgs[cat_id]
        image_map = [coco_gt.imgs[i] for i in list(set(annotated))]
    else:
        image_map = coco_gt.dataset["images"]

    log_name = os.fspath(log_path)
    detections: list[dict[str, Any]] = []
    image_ids: set[Any] = set()
    seen: set[int] = set()
    records = no_results = mismatches = 0
    for seq_id, qsl_idx, data_hex in iter_accuracy_log(log_path):
        records += 1
        if qsl_idx in seen:
            continue
        seen.add(qsl_idx)
        where = f"seq_id {seq_id} (qsl_idx {qsl_idx})"
        if not 0 <= qsl_idx < len(image_map):
            raise AccuracyError(log_name, where, f"qsl_idx is outside the {len(image_map)} images of {gt_path}")
        image = image_map[qsl_idx]
        data = bytes.fromhex(data_hex)
        if len(data) % 4:
            raise AccuracyError(log_name, where, f"{len(data)} data bytes are not whole float32 values")
        values = np.frombuffer(data, _F32)
        if len(values) < 7:
            image_ids.add(image["id"])
            no_results += 1
            if verbose:
                emit(f"no results: {image.get('coco_url', image.get('file_name'))}, idx={qsl_idx}")
            continue
        if len(values) % 7:
            raise AccuracyError(
                log_name,
                where,
                f"{len(values)} float32 values are not whole detections "
                "of 7 [idx, ymin, xmin, ymax, xmax, score, label]",
            )
        mismatches += _append_detections(
            values.reshape(-1, 7),
            qsl_idx,
            image,
            inv_map,
            coco_root,
            detections,
            image_ids,
            emit,
            log_name,
            where,
            gt_path,
        )

    if output_file is not None:
        _write_json_atomic(Path(output_file), detections)
        results_arg: Any = os.fspath(output_file)
    else:
        results_arg = detections

    notes: list[str] = []
    with contextlib.redirect_stdout(out):
        if detections:
            coco_dt = coco_gt.loadRes(results_arg)
        else:
            coco_dt = _empty_results(COCO, coco_gt, emit)
            notes.append(NO_DETECTIONS_NOTE)
        coco_eval = COCOeval(coco_gt, coco_dt, iouType="bbox")
        coco_eval.params.imgIds = list(image_ids)
        coco_eval.evaluate()
        coco_eval.accumulate()
        coco_eval.summarize()

    stats = [float(s) for s in coco_eval.stats]
    exact = 100.0 * stats[0]
    if not detections:
        exact = 0.0
    official = f"mAP={exact:.3f}%"
    emit(official)
    dupes = records - len(seen)
    if verbose:
        emit(f"found {records} results")
        emit(f"found {len(image_ids)} images")
        emit(f"found {no_results} images with no results")
        emit(f"ignored {dupes} dupes")

    return AccuracyResult(
        metric="coco_map",
        value=_printed_value(official),
        exact=exact,
        official_line=official,
        lines=out.getvalue().split("\n")[:-1],
        details={
            "stats": stats,
            "images": len(image_ids),
            "no_results": no_results,
            "dupes": dupes,
            "records": records,
            "detections": len(detections),
            "idx_mismatches": mismatches,
        },
        notes=notes,
    )


def _append_detections(
    groups, qsl_idx, image, inv_map, coco_root, detections, image_ids, emit, log_name, where, gt_path
) -> int:
    """Turn one record's ``[k, 7]`` float32 groups into pycocotools detections; count idx mismatches."""
    try:
        image_id = image["id"]
        height = np.float32(image["height"])
        width = np.float32(image["width"])
    except (KeyError, TypeError, ValueError) as exc:
        raise AccuracyError(
            gt_path, f"image at index {qsl_idx}", f"needs numeric id, height and width ({exc!r})"
        ) from None
    # float32 arithmetic, as the reference's numpy scalars do
    ymin = groups[:, 1] * height
    xmin = groups[:, 2] * width
    ymax = groups[:, 3] * height
    xmax = groups[:, 4] * width
    rows = zip(
        groups[:, 0].tolist(),
        xmin.tolist(),
        ymin.tolist(),
        (xmax - xmin).tolist(),
        (ymax - ymin).tolist(),
        groups[:, 5].tolist(),
        groups[:, 6].tolist(),
    )
    loc = os.path.join(coco_root, "val2017", str(image.get("file_name", "")))
    mismatches = 0
    for payload_idx, x, y, w, h, score, label in rows:
        if not math.isfinite(payload_idx):
            raise AccuracyError(log_name, where, f"detection image index is {payload_idx}")
        payload_idx = int(payload_idx)
        if payload_idx != qsl_idx:
            emit(f"ERROR: loadgen({qsl_idx}) and payload({payload_idx}) disagree on image_idx")
            mismatches += 1
        if not math.isfinite(label):
            raise AccuracyError(log_name, where, f"detection label is {label}")
        label = int(label)
        if inv_map is not None:
            if not 0 <= label < len(inv_map):
                raise AccuracyError(
                    log_name,
                    where,
                    f"label {label} is outside the inverse map "
                    f"(0..{len(inv_map) - 1}: background + {len(inv_map) - 1} "
                    "categories)",
                )
            label = inv_map[label]
        detections.append(
            {
                "bbox": [x, y, w, h],
                "category_id": label,
                "image_id": image_id,
                "image_loc": loc,
                "score": score,
            }
        )
    image_ids.add(image_id)
    return mismatches


def _empty_results(COCO, coco_gt, emit):
    """What ``loadRes([])`` would return if it did not crash: no annotations, GT images/categories."""
    print("Loading and preparing results...")
    tic = time.time()
    emit(NO_DETECTIONS_NOTE)
    res = COCO()
    res.dataset["info"] = copy.deepcopy(coco_gt.dataset.get("info", {}))
    res.dataset["images"] = list(coco_gt.dataset["images"])
    res.dataset["categories"] = copy.deepcopy(coco_gt.dataset.get("categories", []))
    res.dataset["annotations"] = []
    print(f"DONE (t={time.time() - tic:0.2f}s)")
    res.createIndex()
    return res


def _write_json_atomic(path: Path, detections: list[dict[str, Any]]) -> None:
    """The reference's detections file (``sort_keys=True, indent=4``), never left half-written."""
    with atomic_open(path, "w") as fp:
        json.dump(detections, fp, sort_keys=True, indent=4)
