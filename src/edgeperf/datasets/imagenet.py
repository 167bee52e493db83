"""ImageNet 2012 validation set for ResNet50-v1.5 (spec benchmarks.md §2.2, §3.a-b).

On disk: a folder of validation JPEGs and ``val_map.txt``, one line per image,
``<relative image path><whitespace><integer label>``. Sample ``i`` is the ``i``-th line whose
image file exists; lines whose file is missing are skipped, as the reference harness skips them,
listed in ``missing`` and reported with a :class:`~.base.DatasetWarning` giving their count and
first names (the accuracy script does not skip, so indices only agree with it when every file
exists).

Preprocessing is the reference ``pre_process_vgg``, bit for bit with OpenCV: BGR→RGB, resize so the
short side is ``int(100·224/87.5) = 256`` with ``INTER_AREA``, centre-crop 224×224, float32,
subtract the RGB means (123.68, 116.78, 103.94), and NCHW (ONNX) or NHWC (TF) layout.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Optional, Union

import numpy as np

from ..errors import UsageError
from ._image import ImageDatasetBase, cv2_module, read_bgr
from .base import DatasetError, DatasetWarning, check_layout, missing_files_message

__all__ = [
    "ImagenetDataset",
    "resize_with_aspectratio",
    "center_crop",
    "pre_process_vgg",
    "vgg_crop",
    "vgg_finish",
    "parse_val_map",
    "IMAGENET_MEANS_RGB",
]

#: Per-channel means subtracted by ``pre_process_vgg``, in RGB order.
IMAGENET_MEANS_RGB = (123.68, 116.78, 103.94)

#: Bump when ``pre_process_vgg`` or what the cache keeps of it changes in a way its parameters do
#: not show (invalidates caches). 2: the cache keeps the uint8 RGB crop, not the float32 sample.
_VGG_VERSION = 2


def resize_with_aspectratio(
    img: np.ndarray, out_height: int, out_width: int, scale: float = 87.5, interpolation: Optional[int] = None
) -> np.ndarray:
    """Resize ``img`` (H×W[×C]) so its short side becomes ``int(100·out/scale)``, keeping the aspect ratio.

    For ``out = 224`` that side is 256. A portrait image (height > width) gets width
    ``int(100·out_width/scale)`` and height ``int(new_height·h/w)``; otherwise height
    ``int(100·out_height/scale)`` and width ``int(new_width·w/h)``. ``interpolation`` is an OpenCV
    flag (default ``cv2.INTER_LINEAR``; ``pre_process_vgg`` uses ``cv2.INTER_AREA``).
    Example: 500×375 (w×h) → 341×256.
    """
    cv2 = cv2_module()
    if interpolation is None:
        interpolation = cv2.INTER_LINEAR
    height, width = img.shape[:2]
    short_height = int(100.0 * out_height / scale)
    short_width = int(100.0 * out_width / scale)
    if height > width:
        new_width = short_width
        new_height = int(short_height * height / width)  # integer product first: exact for whole results
    else:
        new_height = short_height
        new_width = int(short_width * width / height)
    return cv2.resize(img, (new_width, new_height), interpolation=interpolation)


def center_crop(img: np.ndarray, out_height: int, out_width: int) -> np.ndarray:
    """The centre ``out_height``×``out_width`` window of ``img`` (a view).

    Offsets as in the reference: ``left = int((w − out_width)/2)``, ``right = int((w + out_width)/2)``,
    ``top = int((h − out_height)/2)``, ``bottom = int((h + out_height)/2)``. Example: a 341×256 (w×h)
    image is cropped at left 58, top 16.
    """
    height, width = img.shape[:2]
    left = int((width - out_width) / 2)
    right = int((width + out_width) / 2)
    top = int((height - out_height) / 2)
    bottom = int((height + out_height) / 2)
    return img[top:bottom, left:right]


def vgg_crop(img_bgr: np.ndarray, dims: tuple[int, int] = (224, 224)) -> np.ndarray:
    """The geometric half of ``pre_process_vgg``: the RGB uint8 ``H×W×3`` crop of one image as
    ``cv2.imread`` returns it (BGR uint8, H×W×3, or a grey H×W array).

    The reference converts BGR→RGB on the full image and then resizes; ``INTER_AREA`` treats each
    channel alone, so resizing first and converting only the crop gives the same bytes for a
    fraction of the work. This is what the preprocessing cache keeps (a quarter of the float32
    sample's size); :func:`vgg_finish` turns it into the model input.
    """
    cv2 = cv2_module()
    if img_bgr.ndim == 2:  # never from cv2.imread, but accept a grey array
        img_bgr = cv2.cvtColor(img_bgr, cv2.COLOR_GRAY2BGR)
    out_height, out_width = int(dims[0]), int(dims[1])
    resized = resize_with_aspectratio(img_bgr, out_height, out_width, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(np.ascontiguousarray(center_crop(resized, out_height, out_width)), cv2.COLOR_BGR2RGB)


_MEANS = np.array(IMAGENET_MEANS_RGB, dtype=np.float32)


def vgg_finish(crop_rgb: np.ndarray, layout: str = "NCHW", out: Optional[np.ndarray] = None) -> np.ndarray:
    """The numeric half of ``pre_process_vgg``: float32, RGB means subtracted, in ``layout``.

    ``crop_rgb`` is a uint8 ``H×W×3`` RGB crop (from :func:`vgg_crop`). With ``out`` (float32,
    ``[3, H, W]`` or ``[H, W, 3]``) the result is written there -- a row of the loaded-sample
    array -- in the one pass that converts, subtracts and transposes.
    """
    check_layout(layout)
    height, width = crop_rgb.shape[:2]
    if out is None:
        out = np.empty((3, height, width) if layout == "NCHW" else (height, width, 3), dtype=np.float32)
    # uint8 -> float32 is exact, so converting inside the subtraction is bit-identical to
    # astype(float32) followed by -= means (and to the reference), without the temporaries
    if layout == "NCHW":  # one contiguous plane per channel: ~10x faster than a strided transpose
        for channel, plane in enumerate(cv2_module().split(np.ascontiguousarray(crop_rgb))):
            np.subtract(plane, _MEANS[channel], out=out[channel], dtype=np.float32)
    else:
        np.subtract(crop_rgb, _MEANS, out=out, dtype=np.float32)
    return out


def pre_process_vgg(
    img_bgr: np.ndarray, layout: str = "NCHW", dims: tuple[int, int] = (224, 224), out: Optional[np.ndarray] = None
) -> np.ndarray:
    """The ResNet50 input of one image as ``cv2.imread`` returns it (BGR uint8, H×W×3).

    Returns float32 ``[3, H, W]`` for ``layout="NCHW"`` or ``[H, W, 3]`` for ``"NHWC"``
    (``dims = (H, W)``, default 224×224), RGB, mean-subtracted, not scaled (spec §3.b): the
    bytes of the reference function. With ``out`` (that shape, float32) the result is written
    there. Equal to ``vgg_finish(vgg_crop(img_bgr, dims), layout, out)``.
    """
    check_layout(layout)
    return vgg_finish(vgg_crop(img_bgr, dims), layout, out)


def parse_val_map(path: Union[str, os.PathLike]) -> list[tuple[str, int, int]]:
    """Read ``val_map.txt``: a list of ``(relative image path, label, line number)``.

    Each line is split on runs of whitespace into exactly two fields, the second an integer.
    Blank lines are ignored. Raises :class:`DatasetError` naming the file and line otherwise.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(
            f"ImageNet list file {path} does not exist "
            "(expected val_map.txt with lines '<relative image path> <integer label>')",
            path=path,
        )
    entries = []
    try:
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as error:
                    raise DatasetError(
                        f"{path}:{number}: not UTF-8 text ({error.reason}); "
                        "expected '<relative image path> <integer label>'",
                        path=path,
                        line=number,
                    ) from None
                entry = _parse_line(path, number, line)
                if entry is not None:
                    entries.append(entry)
    except OSError as error:
        raise DatasetError(f"cannot read ImageNet list file {path}: {error.strerror or error}", path=path) from None
    return entries


def _parse_line(path: Path, number: int, line: str) -> Optional[tuple[str, int, int]]:
    fields = line.split()
    if not fields:
        return None
    if len(fields) != 2:
        raise DatasetError(
            f"{path}:{number}: expected '<relative image path> <integer label>' (two fields), "
            f"got {len(fields)} field{'s' if len(fields) != 1 else ''}: {line.strip()!r}",
            path=path,
            line=number,
        )
    name, label = fields
    try:
        value = int(label)
    except ValueError:
        raise DatasetError(
            f"{path}:{number}: expected an integer label after {name!r}, got {label!r}", path=path, line=number
        ) from None
    return name, value, number


class _Listing:
    """Existence checks by one directory listing per folder (fast on 50 000 files)."""

    def __init__(self, root: Path):
        self._root = root
        self._names: dict[Path, frozenset[str]] = {}

    def exists(self, relative: str) -> bool:
        path = self._root / relative
        folder = path.parent
        names = self._names.get(folder)
        if names is None:
            try:
                names = frozenset(os.listdir(folder))
            except OSError:
                names = frozenset()
            self._names[folder] = names
        return path.name in names or path.exists()


class ImagenetDataset(ImageDatasetBase):
    """The ImageNet validation images of ``root`` listed in ``val_map.txt`` (spec §3.a-b).

    ``val_map`` defaults to ``root/val_map.txt``; ``layout`` is ``"NCHW"`` (ONNX, default) or
    ``"NHWC"``; ``cache_dir`` keeps preprocessed samples as ``.npy`` files (``None``: no cache);
    ``count`` keeps only the first ``count`` images found (accuracy testing only).

    Attributes: ``labels`` (int64, one per sample), ``paths`` (absolute image paths),
    ``relative_paths`` (as written in the list file), ``missing`` (listed images not found, in list
    order) and ``skipped`` (their number), ``notices`` (the warning about them, for reports),
    ``list_file``. ``preprocessed(i)`` is the float32 model input of sample ``i``.
    """

    #: The reference harness's dataset key (also the cache directory's prefix).
    key = "imagenet"

    def __init__(
        self,
        root: Union[str, os.PathLike],
        *,
        val_map: Union[str, os.PathLike, None] = None,
        layout: str = "NCHW",
        cache_dir: Union[str, os.PathLike, None] = None,
        count: Optional[int] = None,
    ):
        self.root = Path(root)
        self.layout = check_layout(layout)
        if count is not None and int(count) < 1:
            raise UsageError(f"count must be at least 1 (or None for all images), got {count!r}")
        if not self.root.is_dir():
            raise DatasetError(f"ImageNet folder {self.root} does not exist or is not a folder", path=self.root)
        self.list_file = Path(val_map) if val_map is not None else self.root / "val_map.txt"
        self.dims = (224, 224)

        listing = _Listing(self.root)
        relative: list[str] = []
        labels: list[int] = []
        missing: list[str] = []
        listed = 0
        for name, label, _number in parse_val_map(self.list_file):
            listed += 1
            if not listing.exists(name):
                missing.append(name)
                continue
            relative.append(name)
            labels.append(label)
            if count is not None and len(relative) >= int(count):
                break
        if not relative:
            raise DatasetError(
                f"no images found: none of the {len(missing)} images listed in {self.list_file} exists under {self.root}",
                path=self.list_file,
            )
        self.relative_paths = relative
        self.paths = [self.root / name for name in relative]
        self.labels = np.asarray(labels, dtype=np.int64)
        self.skipped = len(missing)
        self.missing = tuple(missing)
        self.notices: tuple[str, ...] = ()
        if missing:
            read_all = count is None or len(relative) < int(count)
            self.notices = (missing_files_message(missing, listed, self.list_file, self.root, read_all=read_all),)
            warnings.warn(self.notices[0], DatasetWarning, stacklevel=2)
        self._open_cache(cache_dir)

    @property
    def sample_dtype(self) -> np.dtype:
        return np.dtype(np.float32)

    def preprocessing_params(self) -> dict:
        """Every parameter of the preprocessing; their fingerprint names the cache directory."""
        return {
            "function": "pre_process_vgg",
            "version": _VGG_VERSION,
            "dims": list(self.dims),
            "short_side_scale": 87.5,
            "interpolation": "INTER_AREA",
            "colour": "RGB",
            "means": list(IMAGENET_MEANS_RGB),
            "dtype": "float32",
            "cached": "uint8 RGB crop",
        }

    def label(self, index: int) -> int:
        """The ground-truth class (0..999) of sample ``index``."""
        return int(self.labels[self._check(index)])

    def preprocessed(self, index: int) -> np.ndarray:
        """The model input of sample ``index`` (from the cache when there is one)."""
        out = np.empty(self.sample_shape, dtype=np.float32)
        self.preprocessed_into(index, out)
        self.flush_cache()
        return out

    def preprocessed_into(self, index: int, out: np.ndarray) -> None:
        """Write the model input of sample ``index`` into ``out`` (a loaded-sample row).

        With a cache, the uint8 RGB crop is read from it (or computed and written to it) and
        finished into ``out``: the cache holds a quarter of the bytes of the float32 sample, and
        the finishing step is exact and cheap. The crop is written by the cache's writer thread:
        :meth:`flush_cache` waits for it (``DatasetQSL`` does after each load).
        """
        index = self._check(index)
        if self._cache is None:
            self._compute(index, out)
            return
        crop = np.empty((*self.dims, 3), dtype=np.uint8)
        relative = self.relative_paths[index]
        if not self._cache.read_into(relative, crop):
            crop = vgg_crop(read_bgr(self.paths[index]), self.dims)
            self._cache.put(relative, crop, background=True)
        vgg_finish(crop, self.layout, out)

    def _compute(self, index: int, out: Optional[np.ndarray] = None) -> np.ndarray:
        return pre_process_vgg(read_bgr(self.paths[index]), self.layout, self.dims, out=out)
