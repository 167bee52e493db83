"""Synthetic photographs for the benches: JPEGs of realistic sizes and content, written by OpenCV.

No real ImageNet/COCO images are available offline, so the benches use seeded images that cost
what real ones cost to decode and resize: natural-looking content (smooth colour fields plus
edges and fine noise, ~50-150 KB per 500x375 JPEG at quality 90, like ImageNet's validation set).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def synthetic_photo(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A BGR uint8 image: low-frequency colour field, a few rectangles and ellipses, sensor noise."""
    import cv2

    base = rng.integers(0, 256, (max(2, height // 48), max(2, width // 48), 3), dtype=np.uint8)
    img = cv2.resize(base, (width, height), interpolation=cv2.INTER_CUBIC)
    for _ in range(int(rng.integers(4, 12))):
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        if rng.random() < 0.5:
            cv2.rectangle(
                img, (x, y), (x + int(rng.integers(10, width // 2)), y + int(rng.integers(10, height // 2))), color, -1
            )
        else:
            cv2.ellipse(
                img,
                (x, y),
                (int(rng.integers(5, width // 4)), int(rng.integers(5, height // 4))),
                float(rng.integers(0, 180)),
                0,
                360,
                color,
                -1,
            )
    noise = rng.normal(0, 6, img.shape)
    return np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def write_imagenet_like(root: Path, count: int, width: int = 500, height: int = 375, seed: int = 0) -> Path:
    """``count`` JPEGs under ``root`` and a ``val_map.txt`` listing them (reused if already complete)."""
    import cv2

    root.mkdir(parents=True, exist_ok=True)
    val_map = root / "val_map.txt"
    if val_map.exists() and len(val_map.read_text().splitlines()) == count:
        return root
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(count):
        name = f"ILSVRC2012_val_{i + 1:08d}.JPEG"
        cv2.imwrite(str(root / name), synthetic_photo(rng, width, height), [cv2.IMWRITE_JPEG_QUALITY, 90])
        lines.append(f"{name} {int(rng.integers(0, 1000))}")
    val_map.write_text("\n".join(lines) + "\n")
    return root


def write_coco_like(root: Path, count: int, width: int = 640, height: int = 480, seed: int = 1) -> Path:
    """``count`` JPEGs under ``root/val2017`` and ``root/annotations/instances_val2017.json``.

    The images have no annotations: preprocessing does not read them, and r1.1's ``coco.Coco``
    builds ``np.array(label_list)``, which current numpy refuses for ragged box lists.
    """
    import json

    import cv2

    ann = root / "annotations" / "instances_val2017.json"
    if ann.exists() and len(json.loads(ann.read_text())["images"]) == count:
        return root
    (root / "val2017").mkdir(parents=True, exist_ok=True)
    ann.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    images, annotations = [], []
    for i in range(count):
        name = f"{i + 1:012d}.jpg"
        cv2.imwrite(str(root / "val2017" / name), synthetic_photo(rng, width, height), [cv2.IMWRITE_JPEG_QUALITY, 90])
        images.append({"id": i + 1, "file_name": name, "height": height, "width": width, "license": 1, "coco_url": ""})
    ann.write_text(
        json.dumps(
            {
                "info": {},
                "licenses": [{"id": 1, "name": "synthetic"}],
                "images": images,
                "annotations": annotations,
                "categories": [{"id": 1, "name": "person", "supercategory": "person"}],
            }
        )
    )
    return root
