"""Data sets on disk → preprocessed samples → a LoadGen QSL (spec benchmarks.md §2-§5).

One module per data-set format. Each dataset reads its real on-disk layout, maps QSL indices to
files in the reference order, exposes its ground truth, and preprocesses a sample exactly as the
v1.1 reference harness does (optionally through an on-disk ``.npy`` cache, :mod:`.cache`).
:class:`DatasetQSL` wraps any dataset as the query sample library LoadGen drives.

OpenCV (the ``vision`` extra) is imported only when an image is read or resized, so importing this
package needs only numpy.
"""

from .base import LAYOUTS, Dataset, DatasetError, DatasetQSL, ProgressCallback
from .cache import PreprocessCache
from .coco import (
    CocoDataset,
    CocoGroundTruth,
    maybe_resize,
    pre_process_coco_mobilenet,
    pre_process_coco_resnet34,
)
from .imagenet import ImagenetDataset, center_crop, parse_val_map, pre_process_vgg, resize_with_aspectratio

__all__ = [
    "LAYOUTS",
    "Dataset",
    "DatasetError",
    "DatasetQSL",
    "ProgressCallback",
    "PreprocessCache",
    "ImagenetDataset",
    "resize_with_aspectratio",
    "center_crop",
    "pre_process_vgg",
    "parse_val_map",
    "CocoDataset",
    "CocoGroundTruth",
    "maybe_resize",
    "pre_process_coco_mobilenet",
    "pre_process_coco_resnet34",
]
