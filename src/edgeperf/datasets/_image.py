"""Image reading shared by the vision datasets: OpenCV imported lazily, errors named by file."""

from __future__ import annotations

import abc
import os
from pathlib import Path
from typing import Optional, Union

import numpy as np

from ..errors import MissingExtraError
from .base import DatasetError
from .cache import PreprocessCache


def cv2_module():
    """Import OpenCV on first use (it is an optional extra), with a helpful message if missing."""
    try:
        import cv2
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise MissingExtraError(
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


class ImageDatasetBase(abc.ABC):
    """What the image datasets share: each sample is an image file, preprocessed to ``dims`` in
    ``layout`` and, with a cache, kept as a ``.npy`` named by its path relative to the dataset.

    A subclass sets ``key``, ``dims``, ``layout``, ``paths`` and ``relative_paths``, calls
    :meth:`_open_cache`, and defines ``sample_dtype``, ``preprocessing_params`` and ``_compute``.
    """

    key: str
    dims: tuple[int, int]
    layout: str
    paths: list[Path]
    relative_paths: list[str]
    _cache: Optional[PreprocessCache] = None

    def _open_cache(self, cache_dir: Union[str, os.PathLike, None]) -> None:
        self._cache = None
        if cache_dir is not None:
            self._cache = PreprocessCache(cache_dir, self.key, self.layout, self.preprocessing_params())

    @property
    def name(self) -> str:
        return self.key

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def sample_shape(self) -> tuple[int, int, int]:
        """Shape of one preprocessed sample: ``(3, h, w)`` in NCHW, ``(h, w, 3)`` in NHWC."""
        h, w = self.dims
        return (3, h, w) if self.layout == "NCHW" else (h, w, 3)

    @property
    @abc.abstractmethod
    def sample_dtype(self) -> np.dtype:
        """The dtype of one preprocessed sample."""

    @property
    def cache_directory(self) -> Optional[Path]:
        """Where this dataset's ``.npy`` files go (``None`` without a cache)."""
        return None if self._cache is None else self._cache.directory

    @abc.abstractmethod
    def preprocessing_params(self) -> dict:
        """Every parameter of the preprocessing; their fingerprint names the cache directory."""

    def image_path(self, index: int) -> Path:
        """The image file of sample ``index``."""
        return self.paths[self._check(index)]

    def preprocessed(self, index: int) -> np.ndarray:
        """The model input of sample ``index`` (from the cache when there is one)."""
        index = self._check(index)
        if self._cache is None:
            return self._compute(index)
        return self._cache.get(
            self.relative_paths[index], lambda: self._compute(index), shape=self.sample_shape, dtype=self.sample_dtype
        )

    def flush_cache(self) -> None:
        """Wait until every cache file written in the background is on disk (raises the first
        write error); nothing to do without a cache."""
        if self._cache is not None:
            self._cache.flush()

    @abc.abstractmethod
    def _compute(self, index: int) -> np.ndarray:
        """Sample ``index`` read and preprocessed (no cache)."""

    def _check(self, index: int) -> int:
        index = int(index)
        if not 0 <= index < len(self.paths):
            raise IndexError(f"sample index {index} out of range: {self.name} has {len(self.paths)} samples")
        return index
