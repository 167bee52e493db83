"""The held-out 8x8 handwritten digits of the ``demo-digits`` benchmark (shipped with edgeperf).

The folder holds ``digits.npz`` (``images``: uint8 [N, 8, 8] with pixel values 0..16, ``labels``:
uint8 [N]) and ``val_map.txt`` (``<image name> <label>`` per image, in the ImageNet format, which
the top-1 evaluator reads). Both are written by ``tools/train_demo_model.py``. Preprocessing
scales the pixels to 0..1 as float32 and adds the channel axis: [1, 8, 8] (NCHW) or [8, 8, 1] (NHWC).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from .base import DatasetError, check_layout

__all__ = ["DigitsDataset", "DIGITS_FILE", "PIXEL_MAX"]

DIGITS_FILE = "digits.npz"
PIXEL_MAX = 16.0


class DigitsDataset:
    """The images and labels of a ``digits.npz``; ``count`` keeps only the first ``count`` images."""

    name = "digits"

    def __init__(self, root: str | os.PathLike, *, layout: str = "NCHW", count: int | None = None):
        self.root = Path(root)
        self.layout = check_layout(layout)
        path = self.root / DIGITS_FILE
        if not path.is_file():
            raise DatasetError(f"{path}: not found (expected the demo-digits data set, {DIGITS_FILE})", path=path)
        try:
            with np.load(path) as data:
                images, labels = np.asarray(data["images"]), np.asarray(data["labels"])
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise DatasetError(
                f"{path}: not a digits archive with 'images' and 'labels' arrays ({exc})", path=path
            ) from None
        if images.ndim != 3 or images.shape[1:] != (8, 8) or len(labels) != len(images):
            raise DatasetError(
                f"{path}: expected images [N, 8, 8] and N labels, found images {images.shape} and {len(labels)} labels",
                path=path,
            )
        if count is not None:
            images, labels = images[:count], labels[:count]
        self.images = images
        self.labels = labels.astype(np.int64)

    def __len__(self) -> int:
        return len(self.images)

    def preprocessed(self, index: int) -> np.ndarray:
        """Image ``index`` as float32 in 0..1 with a channel axis (the model's input without the batch axis)."""
        img = self.images[index].astype(np.float32) / PIXEL_MAX
        return img[None, :, :] if self.layout == "NCHW" else img[:, :, None]
