"""Image reading shared by the vision datasets: OpenCV imported lazily, errors named by file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

import numpy as np

from .base import DatasetError


def cv2_module():
    """Import OpenCV on first use (it is an optional extra), with a helpful message if missing."""
    try:
        import cv2
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ModuleNotFoundError(
            "the vision datasets need OpenCV for bit-exact preprocessing: "
            "pip install 'edgeperf[vision]' (or opencv-python-headless)"
        ) from error
    return cv2


def read_bgr(path: Union[str, os.PathLike]) -> np.ndarray:
    """``cv2.imread(path)`` as the reference reads images: 3-channel BGR uint8, EXIF orientation applied.

    Raises :class:`DatasetError` naming the file when it is gone or OpenCV cannot decode it
    (``cv2.imread`` returns ``None`` instead of raising).
    """
    cv2 = cv2_module()
    path = Path(path)
    image = cv2.imread(str(path))
    if image is None:
        if not path.exists():
            raise DatasetError(f"image file {path} is missing (it existed when the dataset was opened)", path=path)
        if not os.access(path, os.R_OK):
            raise DatasetError(f"image file {path} is not readable (permission denied)", path=path)
        raise DatasetError(
            f"image file {path} is corrupt or not an image OpenCV can decode "
            f"({path.stat().st_size} bytes); replace it with the original file",
            path=path,
        )
    return image
