"""COCO 2017 validation set for SSD-MobileNet-v1 and SSD-ResNet34 (spec benchmarks.md §2.2, §4.a-b, §5.a-b).

On disk: ``root/val2017/<file_name>`` and ``root/annotations/instances_val2017.json``. The upscaled
copies made by the reference ``upscale_coco.py`` have the same layout (PNG files, ``file_name``,
``width`` and ``height`` rewritten in the JSON) and are read the same way.

Sample ``i`` is the ``i``-th entry of the JSON ``images`` array whose file exists — every image,
including those without annotations (the ONNX profiles keep all 5 000). Missing files are skipped,
as the reference harness skips them, listed in ``missing`` (``skipped`` is their number) and reported
with a :class:`~.base.DatasetWarning` giving their count and first names; the accuracy script maps
``qsl_idx`` to ``images[qsl_idx]``, so indices only agree with it when every file exists.

Preprocessing (``maybe_resize`` then):

* ``"ssd-mobilenet"`` (key ``coco-300``): float32 → RGB → 300×300 ``INTER_LINEAR`` → uint8 by
  truncation, NHWC.
* ``"ssd-resnet34"`` (key ``coco-1200``): float32 → RGB → 1200×1200 ``INTER_LINEAR`` → ``x/255``,
  minus mean (0.485, 0.456, 0.406), divided by std (0.229, 0.224, 0.225), NCHW float32.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from ..errors import UsageError
from ._image import ImageDatasetBase, cv2_module, read_bgr
from .base import DatasetError, DatasetWarning, check_layout, missing_files_message

__all__ = [
    "CocoDataset",
    "CocoGroundTruth",
    "maybe_resize",
    "pre_process_coco_mobilenet",
    "pre_process_coco_resnet34",
    "COCO_PREPROCESSING",
    "RESNET34_MEAN_RGB",
    "RESNET34_STD_RGB",
]

#: ImageNet statistics used by ``pre_process_coco_resnet34`` on ``x/255``, RGB order.
RESNET34_MEAN_RGB = (0.485, 0.456, 0.406)
RESNET34_STD_RGB = (0.229, 0.224, 0.225)

#: Bump when a COCO preprocessing changes in a way its parameters do not show (invalidates caches).
_COCO_VERSION = 1


@dataclass(frozen=True)
class _Preprocessing:
    key: str
    image_size: tuple[int, int]
    layout: str
    dtype: str


#: The two preprocessings: dataset key, default (height, width), default layout, output dtype.
COCO_PREPROCESSING = {
    "ssd-mobilenet": _Preprocessing("coco-300", (300, 300), "NHWC", "uint8"),
    "ssd-resnet34": _Preprocessing("coco-1200", (1200, 1200), "NCHW", "float32"),
}


def maybe_resize(img: np.ndarray, dims: Optional[tuple[int, ...]]) -> np.ndarray:
    """The reference ``maybe_resize``: float32 first, grey→RGB, BGR→RGB, plain resize to ``dims``.

    ``dims`` is ``(height, width[, channels])`` or ``None`` (no resize). The resize is
    ``cv2.INTER_LINEAR`` on the float32 image, with no aspect-ratio preservation and no letterbox.
    """
    cv2 = cv2_module()
    image = np.asarray(img, dtype=np.float32)
    if image.ndim < 3 or image.shape[2] != 3:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    if dims is not None:
        height, width = int(dims[0]), int(dims[1])
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    return image


def pre_process_coco_mobilenet(
    img_bgr: np.ndarray, dims: tuple[int, int] = (300, 300), layout: str = "NHWC", out: Optional[np.ndarray] = None
) -> np.ndarray:
    """SSD-MobileNet input of one BGR image: uint8 RGB ``[H, W, 3]`` (or ``[3, H, W]`` for NCHW).

    The float32 resize result is cast to uint8 by truncation (numpy cast, not rounding), spec §4.b.
    With ``out`` the result is written there (cast and transposed in one pass).
    """
    check_layout(layout)
    sample = maybe_resize(img_bgr, dims)
    if layout == "NCHW":
        sample = sample.transpose(2, 0, 1)
    if out is None:
        out = np.empty(sample.shape, dtype=np.uint8)
    np.copyto(out, sample, casting="unsafe")  # the same truncating cast as astype(np.uint8)
    return out


_ROWS_PER_BLOCK = 32  # 32 rows x 1200 x 3 float32 = 460 KB


def pre_process_coco_resnet34(
    img_bgr: np.ndarray, dims: tuple[int, int] = (1200, 1200), layout: str = "NCHW", out: Optional[np.ndarray] = None
) -> np.ndarray:
    """SSD-ResNet34 input of one BGR image: float32 RGB ``[3, H, W]`` (or ``[H, W, 3]`` for NHWC).

    ``(x/255 − mean)/std`` per RGB channel, computed in float32 in that order (spec §5.b). The
    steps run in place on the resized image, the last one writing the (transposed) result into
    ``out`` when given: the same float32 operations, without three 17 MB temporaries.
    """
    check_layout(layout)
    sample = maybe_resize(img_bgr, dims)  # a fresh float32 array: safe to work in place
    mean = np.array(RESNET34_MEAN_RGB, dtype=np.float32)
    std = np.array(RESNET34_STD_RGB, dtype=np.float32)
    h, w = sample.shape[:2]
    nchw = layout == "NCHW"
    if out is None:
        out = np.empty((3, h, w) if nchw else (h, w, 3), dtype=np.float32)
    # Blocks of rows small enough to stay in the CPU cache while the three steps run over them and
    # the last one writes them (transposed for NCHW) into ``out``: one pass over memory instead of
    # five, 19 -> 12 ms for a 1200x1200 image, the same float32 operations in the same order.
    std_b = std.reshape(3, 1, 1) if nchw else std
    for top in range(0, h, _ROWS_PER_BLOCK):
        block = sample[top : top + _ROWS_PER_BLOCK]
        np.divide(block, np.float32(255.0), out=block)
        np.subtract(block, mean, out=block)
        if nchw:
            np.divide(block.transpose(2, 0, 1), std_b, out=out[:, top : top + _ROWS_PER_BLOCK])
        else:
            np.divide(block, std_b, out=out[top : top + _ROWS_PER_BLOCK])
    return out


_FUNCTIONS = {"ssd-mobilenet": pre_process_coco_mobilenet, "ssd-resnet34": pre_process_coco_resnet34}


@dataclass(frozen=True)
class CocoGroundTruth:
    """The annotations of one image: ``boxes`` float64 ``[k, 4]`` as COCO ``[x, y, width, height]``
    in pixels of the annotated size, ``category_ids`` int64 ``[k]`` (COCO ids, 1..90 with gaps),
    ``iscrowd`` bool ``[k]``, ``annotation_ids`` int64 ``[k]``."""

    boxes: np.ndarray
    category_ids: np.ndarray
    iscrowd: np.ndarray
    annotation_ids: np.ndarray


class CocoDataset(ImageDatasetBase):
    """The COCO 2017 validation images of ``root`` in annotation-file order (spec §4.a, §5.a).

    ``preprocess`` is ``"ssd-mobilenet"`` (default size 300×300, NHWC uint8) or ``"ssd-resnet34"``
    (1200×1200, NCHW float32); ``image_size`` ``(height, width)`` and ``layout`` override the
    defaults. ``annotations`` defaults to ``root/annotations/instances_val2017.json``, images are
    read from ``root/val2017/``. ``cache_dir`` keeps preprocessed samples as ``.npy`` (``None``: no
    cache; mind the size at 1200×1200: 17 MB per image). ``count`` keeps the first ``count`` images
    found.

    Per sample: ``image_id(i)``, ``image_size(i)`` (original ``(height, width)`` from the JSON, used
    to de-normalise boxes), ``file_name(i)``, ``ground_truth(i)``; vectors ``image_ids`` and
    ``image_sizes``; ``categories`` (JSON order), ``category_ids``, ``inv_map``; ``skipped``.
    """

    def __init__(
        self,
        root: Union[str, os.PathLike],
        *,
        preprocess: str = "ssd-mobilenet",
        image_size: Optional[tuple[int, int]] = None,
        layout: Optional[str] = None,
        cache_dir: Union[str, os.PathLike, None] = None,
        count: Optional[int] = None,
        annotations: Union[str, os.PathLike, None] = None,
        image_dir: str = "val2017",
    ):
        if preprocess not in COCO_PREPROCESSING:
            raise DatasetError(
                f"unknown COCO preprocessing {preprocess!r}: expected one of {', '.join(COCO_PREPROCESSING)}"
            )
        if count is not None and int(count) < 1:
            raise UsageError(f"count must be at least 1 (or None for all images), got {count!r}")
        spec = COCO_PREPROCESSING[preprocess]
        self.preprocess = preprocess
        dims = tuple(int(v) for v in (image_size if image_size is not None else spec.image_size))
        if len(dims) != 2 or min(dims) < 1:
            raise UsageError(f"image_size must be (height, width) with positive values, got {image_size!r}")
        self.dims = (dims[0], dims[1])
        self.layout = check_layout(layout if layout is not None else spec.layout)
        self._dtype = np.dtype(spec.dtype)
        height, width = self.dims
        key = f"coco-{height}" if height == width else f"coco-{height}x{width}"
        self.key = key if self.dims == spec.image_size else f"{key}-{preprocess}"

        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetError(f"COCO folder {self.root} does not exist or is not a folder", path=self.root)
        self.image_dir = image_dir
        self.annotations_path = (
            Path(annotations) if annotations is not None else self.root / "annotations" / "instances_val2017.json"
        )
        document = _load_json(self.annotations_path)
        images = _images(document, self.annotations_path)
        self.categories: list[dict[str, Any]] = _categories(document, self.annotations_path)
        self.category_ids = np.asarray([c["id"] for c in self.categories], dtype=np.int64)
        ground_truth = _group_annotations(document, self.annotations_path)

        folder = self.root / image_dir
        try:
            present = frozenset(os.listdir(folder))
        except OSError:
            present = frozenset()  # a missing image folder: every image counts as missing
        kept: list[dict[str, Any]] = []
        missing: list[str] = []
        listed = 0
        for image in images:
            name = image["file_name"]
            listed += 1
            if name in present or (folder / name).exists():
                kept.append(image)
                if count is not None and len(kept) >= int(count):
                    break
            else:
                missing.append(name)
        if not kept:
            raise DatasetError(
                f"no images found: none of the {len(missing)} images listed in {self.annotations_path} exists in {folder}",
                path=self.annotations_path,
            )
        self.missing = tuple(missing)
        self.skipped = len(missing)
        self.notices: tuple[str, ...] = ()
        if missing:
            read_all = count is None or len(kept) < int(count)
            self.notices = (missing_files_message(missing, listed, self.annotations_path, folder, read_all=read_all),)
            warnings.warn(self.notices[0], DatasetWarning, stacklevel=2)
        self.file_names = [image["file_name"] for image in kept]
        self.relative_paths = [f"{image_dir}/{name}" for name in self.file_names]
        self.paths = [folder / name for name in self.file_names]
        self.image_ids = np.asarray([image["id"] for image in kept], dtype=np.int64)
        self.image_sizes = np.asarray([(image["height"], image["width"]) for image in kept], dtype=np.int64)
        kept_ids = set(self.image_ids.tolist())
        self._ground_truth = {k: v for k, v in ground_truth.items() if k in kept_ids}

        self._open_cache(cache_dir)

    # -- Dataset protocol ------------------------------------------------------------------------

    # -- metadata --------------------------------------------------------------------------------

    @property
    def sample_dtype(self) -> np.dtype:
        """``uint8`` for SSD-MobileNet, ``float32`` for SSD-ResNet34."""
        return self._dtype

    @property
    def inv_map(self) -> np.ndarray:
        """``[0] + category ids`` in JSON order: contiguous label (1..80) → COCO category id."""
        return np.concatenate([np.zeros(1, dtype=np.int64), self.category_ids])

    def preprocessing_params(self) -> dict:
        """Every parameter of the preprocessing; their fingerprint names the cache directory."""
        params: dict[str, Any] = {
            "function": _FUNCTIONS[self.preprocess].__name__,
            "version": _COCO_VERSION,
            "dims": list(self.dims),
            "resize": "float32 INTER_LINEAR",
            "colour": "RGB",
            "dtype": self._dtype.name,
        }
        if self.preprocess == "ssd-resnet34":
            params.update(scale=255.0, mean=list(RESNET34_MEAN_RGB), std=list(RESNET34_STD_RGB))
        else:
            params.update(cast="truncate")
        return params

    def image_id(self, index: int) -> int:
        """The COCO image id of sample ``index``."""
        return int(self.image_ids[self._check(index)])

    def image_size(self, index: int) -> tuple[int, int]:
        """``(height, width)`` of sample ``index`` as the annotation file gives it."""
        height, width = self.image_sizes[self._check(index)]
        return int(height), int(width)

    def file_name(self, index: int) -> str:
        """The file name of sample ``index`` inside the image folder (``000000397133.jpg``)."""
        return self.file_names[self._check(index)]

    def ground_truth(self, index: int) -> CocoGroundTruth:
        """The annotations of sample ``index`` (empty arrays for an image without any)."""
        return self._ground_truth.get(self.image_id(index), _EMPTY_TRUTH)

    # -- internals -------------------------------------------------------------------------------

    def preprocessed_into(self, index: int, out: np.ndarray) -> None:
        """Write the model input of sample ``index`` into ``out`` (a loaded-sample row): read from
        the cache straight into it, or computed into it and then written to the cache."""
        index = self._check(index)
        if self._cache is not None and self._cache.read_into(self.relative_paths[index], out):
            return
        self._compute(index, out)
        if self._cache is not None:
            self._cache.put(self.relative_paths[index], out)

    def _compute(self, index: int, out: Optional[np.ndarray] = None) -> np.ndarray:
        return _FUNCTIONS[self.preprocess](read_bgr(self.paths[index]), self.dims, self.layout, out=out)


_EMPTY_TRUTH = CocoGroundTruth(
    boxes=np.zeros((0, 4), dtype=np.float64),
    category_ids=np.zeros(0, dtype=np.int64),
    iscrowd=np.zeros(0, dtype=bool),
    annotation_ids=np.zeros(0, dtype=np.int64),
)


def _load_json(path: Path) -> Any:
    if not path.is_file():
        raise DatasetError(
            f"COCO annotation file {path} does not exist (expected annotations/instances_val2017.json "
            "from annotations_trainval2017.zip)",
            path=path,
        )
    try:
        with open(path, "rb") as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise DatasetError(
            f"{path}:{error.lineno}: not valid JSON ({error.msg} at column {error.colno})", path=path, line=error.lineno
        ) from None
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path}: not valid JSON text ({error.reason} at byte {error.start})", path=path) from None
    except OSError as error:
        raise DatasetError(f"cannot read COCO annotation file {path}: {error.strerror or error}", path=path) from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_or(value: Any, default: int) -> int:
    return value if _is_int(value) else default


def _images(document: Any, path: Path) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        raise DatasetError(
            f"{path}: expected a JSON object with an 'images' list, got {type(document).__name__}", path=path
        )
    images = document.get("images")
    if not isinstance(images, list):
        what = "has no 'images' key" if images is None else f"has 'images' of type {type(images).__name__}"
        raise DatasetError(f"{path}: {what}; expected a list of images (id, file_name, height, width)", path=path)
    for k, image in enumerate(images):
        if not isinstance(image, dict):
            raise DatasetError(f"{path}: images[{k}] is {type(image).__name__}, expected an object", path=path)
        problems = [f for f in ("id", "height", "width") if not _is_int(image.get(f))]
        if not isinstance(image.get("file_name"), str) or not image.get("file_name"):
            problems.insert(0, "file_name")
        if problems:
            raise DatasetError(
                f"{path}: images[{k}] lacks a valid {', '.join(repr(p) for p in problems)} "
                "(expected integer id, height, width and a file_name string)",
                path=path,
            )
        if image["height"] < 1 or image["width"] < 1:
            raise DatasetError(f"{path}: images[{k}] (id {image['id']}) has a non-positive height or width", path=path)
    return images


def _list_field(document: dict, key: str, path: Path) -> list:
    value = document.get(key, [])
    if not isinstance(value, list):
        raise DatasetError(f"{path}: '{key}' is {type(value).__name__}, expected a list", path=path)
    return value


def _categories(document: dict, path: Path) -> list[dict[str, Any]]:
    categories = _list_field(document, "categories", path)
    for k, category in enumerate(categories):
        if not isinstance(category, dict) or not _is_int(category.get("id")):
            raise DatasetError(f"{path}: categories[{k}] lacks an integer 'id'", path=path)
    return [dict(category) for category in categories]


def _group_annotations(document: dict, path: Path) -> dict[int, CocoGroundTruth]:
    grouped: dict[int, list[tuple[list[float], int, bool, int]]] = {}
    for k, annotation in enumerate(_list_field(document, "annotations", path)):
        if not isinstance(annotation, dict):
            raise DatasetError(
                f"{path}: annotations[{k}] is {type(annotation).__name__}, expected an object", path=path
            )
        bbox = annotation.get("bbox")
        if (
            not _is_int(annotation.get("image_id"))
            or not _is_int(annotation.get("category_id"))
            or not isinstance(bbox, list)
            or len(bbox) != 4
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox)
        ):
            raise DatasetError(
                f"{path}: annotations[{k}] is malformed: expected integer image_id and category_id "
                "and bbox [x, y, width, height]",
                path=path,
            )
        grouped.setdefault(annotation["image_id"], []).append(
            (bbox, annotation["category_id"], bool(annotation.get("iscrowd", 0)), _int_or(annotation.get("id"), -1))
        )
    truth = {}
    for image_id, rows in grouped.items():
        truth[image_id] = CocoGroundTruth(
            boxes=np.asarray([r[0] for r in rows], dtype=np.float64).reshape(-1, 4),
            category_ids=np.asarray([r[1] for r in rows], dtype=np.int64),
            iscrowd=np.asarray([r[2] for r in rows], dtype=bool),
            annotation_ids=np.asarray([r[3] for r in rows], dtype=np.int64),
        )
    return truth
