"""Tiny on-disk vision datasets for tests (spec benchmarks.md §3.g, §4.g, §5.g).

Shared by every test that needs real files in the real layouts — datasets, benchmarks, accuracy
scripts, CLI. Everything is deterministic (seeded numpy, fixed JPEG quality), so tests may rely on
the exact contents; the names and signatures below are a stable interface: add parameters with
defaults, never rename.

* :func:`make_imagenet` — ``<dir>/imagenet/``: 5 ImageNet-style JPEGs + ``val_map.txt``.
* :func:`make_coco` — ``<dir>/coco/``: 4 COCO 2017 val JPEGs + ``annotations/instances_val2017.json``.
* :func:`make_upscaled_coco` — the same COCO as the reference ``upscale_coco.py`` rewrites it
  (PNGs of one size, ``file_name``/``width``/``height``/``bbox``/``area`` rewritten).

The constants (``IMAGENET_*``, ``COCO_*``) describe what the builders write, so a test can compute
expectations (labels, perfect detection logs) without re-reading the files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence, Union

import numpy as np

PathLike = Union[str, os.PathLike]

# --------------------------------------------------------------------------------------- ImageNet

#: Labels of the five fixture images, in val_map.txt order (the first three as in the real file).
IMAGENET_LABELS = (65, 970, 230, 817, 13)
#: ``(width, height)`` of each fixture image: landscape 4:3, portrait, square, VGA, and the grey one.
IMAGENET_SIZES = ((500, 375), (375, 500), (224, 224), (640, 480), (320, 240))
#: Which image (0-based) is written as a single-channel grayscale JPEG, uniformly this grey value.
IMAGENET_GRAY_INDEX = 4
IMAGENET_GRAY_VALUE = 123
#: JPEG quality of every fixture image.
JPEG_QUALITY = 95


def imagenet_file_name(number: int) -> str:
    """The ImageNet val file name of 1-based image ``number``: ``ILSVRC2012_val_00000001.JPEG``."""
    return f"ILSVRC2012_val_{number:08d}.JPEG"


def _cv2():
    import cv2

    return cv2


def _textured(rng: np.random.Generator, width: int, height: int, channels: int) -> np.ndarray:
    """A natural-looking uint8 image: smooth random colour fields plus fine noise."""
    cv2 = _cv2()
    coarse = rng.integers(0, 256, size=(6, 8, channels)).astype(np.float32)
    smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC).reshape(height, width, channels)
    noise = rng.normal(0.0, 12.0, size=(height, width, channels))
    return np.clip(smooth + noise, 0, 255).astype(np.uint8)


def _write(path: Path, image: np.ndarray) -> None:
    cv2 = _cv2()
    path.parent.mkdir(parents=True, exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if path.suffix.lower() in (".jpg", ".jpeg") else []
    if not cv2.imwrite(str(path), image, params):
        raise OSError(f"could not write fixture image {path}")


def make_imagenet(
    dir: PathLike,
    labels: Sequence[int] = IMAGENET_LABELS,
    sizes: Sequence[tuple[int, int]] = IMAGENET_SIZES,
    *,
    grayscale: Sequence[int] = (IMAGENET_GRAY_INDEX,),
    missing: Sequence[int] = (),
    seed: int = 1234,
) -> Path:
    """Write a tiny ImageNet validation folder under ``dir/imagenet`` and return that folder.

    Image ``k`` (0-based) is ``ILSVRC2012_val_<k+1 in 8 digits>.JPEG`` of size ``sizes[k % len(sizes)]``
    (``(width, height)``), a seeded colour texture written by OpenCV at quality 95 — except the
    images listed in ``grayscale``, which are single-channel JPEGs of the uniform value 123 (so
    ``pre_process_vgg`` gives exactly 123 − mean per channel). ``val_map.txt`` has one line
    ``<file name> <label>`` per label, in order. Images whose index is in ``missing`` are listed in
    ``val_map.txt`` but not written (to exercise skipping). Calling it twice with the same arguments
    writes identical bytes.
    """
    root = Path(dir) / "imagenet"
    root.mkdir(parents=True, exist_ok=True)
    lines = []
    for k, label in enumerate(labels):
        name = imagenet_file_name(k + 1)
        lines.append(f"{name} {int(label)}\n")
        if k in missing:
            continue
        width, height = sizes[k % len(sizes)]
        if k in grayscale:
            image = np.full((height, width), IMAGENET_GRAY_VALUE, dtype=np.uint8)
        else:
            image = _textured(np.random.default_rng(seed + k), width, height, 3)
        _write(root / name, image)
    (root / "val_map.txt").write_text("".join(lines), encoding="utf-8")
    return root


# ------------------------------------------------------------------------------------------- COCO

#: The fixture categories: real COCO ids with gaps, so contiguous labels 1..4 map to 1, 3, 13, 90.
COCO_CATEGORIES = (
    {"supercategory": "person", "id": 1, "name": "person"},
    {"supercategory": "vehicle", "id": 3, "name": "car"},
    {"supercategory": "outdoor", "id": 13, "name": "stop sign"},
    {"supercategory": "indoor", "id": 90, "name": "toothbrush"},
)

#: The fixture images in JSON order (not sorted by id, like the real file); 252219 has no annotation.
COCO_IMAGES = (
    {"id": 397133, "file_name": "000000397133.jpg", "width": 640, "height": 480},
    {"id": 37777, "file_name": "000000037777.jpg", "width": 480, "height": 640},
    {"id": 252219, "file_name": "000000252219.jpg", "width": 320, "height": 320},
    {"id": 87038, "file_name": "000000087038.jpg", "width": 500, "height": 375},
)

#: The fixture annotations (COCO ``bbox`` is ``[x, y, width, height]`` in pixels).
COCO_ANNOTATIONS = (
    {"id": 1001, "image_id": 397133, "category_id": 1, "bbox": [100.0, 50.0, 120.0, 300.0]},
    {"id": 1002, "image_id": 397133, "category_id": 90, "bbox": [400.5, 300.25, 60.0, 40.0]},
    {"id": 1003, "image_id": 37777, "category_id": 3, "bbox": [40.0, 200.0, 300.0, 180.0]},
    {"id": 1004, "image_id": 37777, "category_id": 13, "bbox": [300.0, 20.0, 100.0, 100.0]},
    {"id": 1005, "image_id": 87038, "category_id": 1, "bbox": [10.0, 10.0, 200.0, 340.0]},
    {"id": 1006, "image_id": 87038, "category_id": 3, "bbox": [250.0, 150.0, 220.0, 150.0]},
)

#: The image without annotations (kept by the ONNX profiles, spec §4.a).
COCO_EMPTY_IMAGE_ID = 252219


def _coco_document(images, annotations) -> dict:
    return {
        "info": {"description": "edgeperf tiny COCO 2017 val fixture", "version": "1.0", "year": 2017},
        "licenses": [{"id": 1, "name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"}],
        "images": images,
        "annotations": annotations,
        "categories": [dict(c) for c in COCO_CATEGORIES],
    }


def _rectangle_segmentation(bbox) -> list:
    x, y, w, h = bbox
    return [[x, y, x + w, y, x + w, y + h, x, y + h]]


def make_coco(dir: PathLike, *, seed: int = 4321) -> Path:
    """Write a tiny COCO 2017 validation set under ``dir/coco`` and return that folder.

    ``coco/val2017/`` holds the four JPEGs of :data:`COCO_IMAGES` (640×480, 480×640, 320×320,
    500×375; seeded textures with a filled rectangle of a distinct colour on each annotated box).
    ``coco/annotations/instances_val2017.json`` has ``info``, ``licenses``, ``images`` (id,
    file_name, height, width, coco_url, license), ``annotations`` (id, image_id, category_id, bbox,
    area = w·h, iscrowd 0, a rectangle segmentation) and ``categories`` (ids 1, 3, 13, 90).
    Image 252219 has no annotation.
    """
    root = Path(dir) / "coco"
    images_dir = root / "val2017"
    images_dir.mkdir(parents=True, exist_ok=True)
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    cv2 = _cv2()
    images, annotations = [], []
    for k, meta in enumerate(COCO_IMAGES):
        width, height = meta["width"], meta["height"]
        rng = np.random.default_rng(seed + k)
        image = _textured(rng, width, height, 3)
        for annotation in COCO_ANNOTATIONS:
            if annotation["image_id"] == meta["id"]:
                x, y, w, h = annotation["bbox"]
                colour = tuple(int(v) for v in rng.integers(0, 256, size=3))
                cv2.rectangle(image, (int(x), int(y)), (int(x + w) - 1, int(y + h) - 1), colour, thickness=-1)
        _write(images_dir / meta["file_name"], image)
        images.append(
            {
                "license": 1,
                "file_name": meta["file_name"],
                "coco_url": f"http://images.cocodataset.org/val2017/{meta['file_name']}",
                "height": height,
                "width": width,
                "date_captured": "2013-11-14 17:02:52",
                "id": meta["id"],
            }
        )
    for annotation in COCO_ANNOTATIONS:
        x, y, w, h = annotation["bbox"]
        annotations.append(
            {
                "segmentation": _rectangle_segmentation(annotation["bbox"]),
                "area": w * h,
                "iscrowd": 0,
                "image_id": annotation["image_id"],
                "bbox": list(annotation["bbox"]),
                "category_id": annotation["category_id"],
                "id": annotation["id"],
            }
        )
    path = root / "annotations" / "instances_val2017.json"
    path.write_text(json.dumps(_coco_document(images, annotations)), encoding="utf-8")
    return root


def make_upscaled_coco(
    dir: PathLike, size: tuple[int, int] = (300, 300), *, image_format: str = "png", source: PathLike | None = None
) -> Path:
    """Write the fixture COCO resized the way ``tools/upscale_coco/upscale_coco.py`` does it.

    ``size`` is ``(width, height)``. Reads :func:`make_coco`'s output (built under ``dir`` unless
    ``source`` names an existing one), resizes every image to ``size`` with ``cv2.INTER_LINEAR``,
    writes it as ``<stem>.<image_format>`` under ``dir/coco-upscaled-<W>x<H>/val2017/``, and writes
    the JSON with ``file_name`` renamed, ``width``/``height`` set to ``size`` and every ``bbox`` and
    ``area`` scaled by the per-axis factors (spec §4.a). Returns the new root.
    """
    cv2 = _cv2()
    width, height = int(size[0]), int(size[1])
    source_root = Path(source) if source is not None else make_coco(dir)
    document = json.loads((source_root / "annotations" / "instances_val2017.json").read_text(encoding="utf-8"))
    root = Path(dir) / f"coco-upscaled-{width}x{height}"
    (root / "val2017").mkdir(parents=True, exist_ok=True)
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    scale = {}
    for image in document["images"]:
        scale[image["id"]] = (width / image["width"], height / image["height"])
        pixels = cv2.imread(str(source_root / "val2017" / image["file_name"]))
        resized = cv2.resize(pixels, (width, height), interpolation=cv2.INTER_LINEAR)
        image["file_name"] = image["file_name"].rsplit(".", 1)[0] + "." + image_format
        image["width"], image["height"] = width, height
        _write(root / "val2017" / image["file_name"], resized)
    for annotation in document["annotations"]:
        sx, sy = scale[annotation["image_id"]]
        x, y, w, h = annotation["bbox"]
        annotation["bbox"] = [x * sx, y * sy, w * sx, h * sy]
        annotation["area"] = annotation["area"] * sx * sy
    (root / "annotations" / "instances_val2017.json").write_text(json.dumps(document), encoding="utf-8")
    return root


def write_accuracy_log(path: Path, records) -> Path:
    """An mlperf_log_accuracy.json in the official layout from ``(qsl_idx, bytes)`` pairs."""
    entries = [{"seq_id": k, "qsl_idx": idx, "data": data.hex().upper()} for k, (idx, data) in enumerate(records)]
    path.write_text(json.dumps(entries))
    return path


def coco_detections(qsl_idx: int, image: dict, contiguous: bool) -> bytes:
    """The response bytes of a perfect detector for ``image``: one float32 row per ground-truth box,
    ``[qsl_idx, ymin, xmin, ymax, xmax, score 1, label]`` in relative coordinates; labels are the
    COCO category ids, or 1-based contiguous indices with ``contiguous``."""
    rows = []
    for a in COCO_ANNOTATIONS:
        if a["image_id"] != image["id"]:
            continue
        x, y, w, h = a["bbox"]
        label = a["category_id"]
        if contiguous:
            label = [c["id"] for c in COCO_CATEGORIES].index(label) + 1
        rows.append(
            [
                qsl_idx,
                y / image["height"],
                x / image["width"],
                (y + h) / image["height"],
                (x + w) / image["width"],
                1.0,
                label,
            ]
        )
    return np.asarray(rows, "<f4").tobytes()
