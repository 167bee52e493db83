"""COCO val layout, index mapping, metadata and the two SSD preprocessings (spec §2.2, §4.a-b, §5.a-b, §4.g)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from vision_fixtures import (
    COCO_ANNOTATIONS,
    COCO_CATEGORIES,
    COCO_EMPTY_IMAGE_ID,
    COCO_IMAGES,
    make_coco,
    make_upscaled_coco,
)

from edgeperf.datasets import CocoDataset, maybe_resize, pre_process_coco_mobilenet, pre_process_coco_resnet34
from edgeperf.datasets.base import DatasetWarning

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


@pytest.fixture(scope="module")
def coco(tmp_path_factory):
    return make_coco(tmp_path_factory.mktemp("coco"))


def straightforward_resize(path, size):
    """maybe_resize written out: float32 first, BGR→RGB, INTER_LINEAR to size×size."""
    bgr = cv2.imread(str(path)).astype(np.float32)
    rgb = np.ascontiguousarray(bgr[:, :, ::-1])
    return cv2.resize(rgb, (size, size), interpolation=cv2.INTER_LINEAR)


def test_images_in_json_order_including_the_one_without_annotations(coco):
    dataset = CocoDataset(coco)
    assert len(dataset) == 4 and dataset.skipped == 0 and dataset.name == "coco-300"
    assert dataset.image_ids.tolist() == [m["id"] for m in COCO_IMAGES]  # JSON order, not sorted
    assert COCO_EMPTY_IMAGE_ID in dataset.image_ids.tolist()
    assert [dataset.image_id(i) for i in range(4)] == [397133, 37777, 252219, 87038]
    assert [dataset.image_size(i) for i in range(4)] == [(480, 640), (640, 480), (320, 320), (375, 500)]
    assert dataset.image_sizes.dtype == np.int64 and dataset.image_sizes.tolist()[1] == [640, 480]
    assert dataset.file_name(0) == "000000397133.jpg"
    assert dataset.image_path(3) == coco / "val2017" / "000000087038.jpg"
    # the JSON sizes are the real image sizes (height, width)
    for i in range(4):
        assert cv2.imread(str(dataset.image_path(i))).shape[:2] == dataset.image_size(i)


def test_categories_and_inv_map(coco):
    dataset = CocoDataset(coco)
    assert [c["id"] for c in dataset.categories] == [1, 3, 13, 90]
    assert dataset.categories[2]["name"] == "stop sign"
    assert dataset.category_ids.tolist() == [c["id"] for c in COCO_CATEGORIES]
    assert dataset.inv_map.tolist() == [0, 1, 3, 13, 90]


def test_ground_truth_per_image(coco):
    dataset = CocoDataset(coco)
    truth = dataset.ground_truth(1)
    expected = [a for a in COCO_ANNOTATIONS if a["image_id"] == 37777]
    np.testing.assert_array_equal(truth.boxes, [a["bbox"] for a in expected])
    assert truth.category_ids.tolist() == [3, 13] and truth.annotation_ids.tolist() == [1003, 1004]
    assert not truth.iscrowd.any()
    empty = dataset.ground_truth(2)
    assert empty.boxes.shape == (0, 4) and empty.category_ids.size == 0


def test_fixture_json_has_the_fields_pycocotools_needs(coco):
    document = json.loads((coco / "annotations" / "instances_val2017.json").read_text())
    assert set(document) == {"info", "licenses", "images", "annotations", "categories"}
    for a in document["annotations"]:
        assert {"id", "image_id", "category_id", "bbox", "area", "iscrowd"} <= set(a)
    pycocotools = pytest.importorskip("pycocotools.coco")
    gt = pycocotools.COCO(str(coco / "annotations" / "instances_val2017.json"))
    assert sorted(gt.getImgIds()) == sorted(m["id"] for m in COCO_IMAGES)
    assert gt.getAnnIds(imgIds=[COCO_EMPTY_IMAGE_ID]) == []


def test_mobilenet_preprocessing_is_exact(coco):
    dataset = CocoDataset(coco, preprocess="ssd-mobilenet")
    for i in range(len(dataset)):
        got = dataset.preprocessed(i)
        assert got.shape == (300, 300, 3) and got.dtype == np.uint8
        resized = straightforward_resize(dataset.image_path(i), 300)
        np.testing.assert_array_equal(got, resized.astype(np.uint8))
    # truncation, not rounding, and resizing the float32 image (not the uint8 one) both matter
    first = dataset.preprocessed(0)
    resized = straightforward_resize(dataset.image_path(0), 300)
    assert np.any(np.rint(resized).astype(np.uint8) != first)
    uint8_first = cv2.resize(np.ascontiguousarray(cv2.imread(str(dataset.image_path(0)))[:, :, ::-1]), (300, 300))
    assert np.any(uint8_first != first)


def test_mobilenet_channel_order_is_rgb():
    bgr = np.zeros((50, 60, 3), np.uint8)
    bgr[..., 0] = 255  # blue
    out = pre_process_coco_mobilenet(bgr, (300, 300))
    assert np.all(out[..., 2] == 255) and np.all(out[..., :2] == 0)


def test_resnet34_preprocessing_is_exact_at_1200(coco):
    dataset = CocoDataset(coco, preprocess="ssd-resnet34", count=1)
    assert dataset.name == "coco-1200" and len(dataset) == 1
    got = dataset.preprocessed(0)
    assert got.shape == (3, 1200, 1200) and got.dtype == np.float32
    resized = straightforward_resize(dataset.image_path(0), 1200)
    expected = ((resized / np.float32(255) - MEAN) / STD).transpose(2, 0, 1)
    np.testing.assert_array_equal(got, expected)


def test_resnet34_normalisation_values():
    white = np.full((8, 8, 3), 255, np.uint8)
    out = pre_process_coco_resnet34(white, (4, 4))
    assert out.shape == (3, 4, 4)
    for c in range(3):
        assert np.all(out[c] == (np.float32(1) - MEAN[c]) / STD[c])


def test_maybe_resize_accepts_a_grey_array():
    grey = np.full((10, 20), 77, np.uint8)
    out = maybe_resize(grey, (5, 5, 3))
    assert out.shape == (5, 5, 3) and out.dtype == np.float32 and np.all(out == 77)


def test_layout_and_size_overrides(coco):
    nchw = CocoDataset(coco, layout="NCHW", count=1)
    nhwc = CocoDataset(coco, count=1)
    assert nchw.preprocessed(0).shape == (3, 300, 300)
    np.testing.assert_array_equal(nchw.preprocessed(0), nhwc.preprocessed(0).transpose(2, 0, 1))
    small = CocoDataset(coco, preprocess="ssd-resnet34", image_size=(64, 48), count=1)
    assert small.preprocessed(0).shape == (3, 64, 48) and small.name == "coco-64x48-ssd-resnet34"


def test_missing_image_is_skipped_and_indices_shift(tmp_path):
    root = make_coco(tmp_path)
    (root / "val2017" / "000000037777.jpg").unlink()
    with pytest.warns(DatasetWarning, match="1 of the 4 images"):
        dataset = CocoDataset(root)
    assert len(dataset) == 3 and dataset.skipped == 1
    assert dataset.image_ids.tolist() == [397133, 252219, 87038]
    assert dataset.image_size(1) == (320, 320)
    assert dataset.ground_truth(2).category_ids.tolist() == [1, 3]
    with pytest.warns(DatasetWarning, match="1 of the first 3 images"):
        assert CocoDataset(root, count=2).image_ids.tolist() == [397133, 252219]


def test_upscaled_png_layout(tmp_path):
    source = make_coco(tmp_path)
    root = make_upscaled_coco(tmp_path, (300, 300), source=source)
    dataset = CocoDataset(root)
    assert len(dataset) == 4 and dataset.file_name(0) == "000000397133.png"
    assert dataset.image_sizes.tolist() == [[300, 300]] * 4  # rewritten sizes
    box = dataset.ground_truth(0).boxes[0]
    np.testing.assert_allclose(box, [100 * 300 / 640, 50 * 300 / 480, 120 * 300 / 640, 300 * 300 / 480])
    # a 300×300 image resized to 300×300 is unchanged: the sample is the PNG's pixels in RGB
    png = cv2.imread(str(dataset.image_path(0)))
    np.testing.assert_array_equal(dataset.preprocessed(0), png[:, :, ::-1])


def test_fixture_is_deterministic(tmp_path):
    a = make_coco(tmp_path / "a")
    b = make_coco(tmp_path / "b")
    for m in COCO_IMAGES:
        assert (a / "val2017" / m["file_name"]).read_bytes() == (b / "val2017" / m["file_name"]).read_bytes()
    name = "annotations/instances_val2017.json"
    assert (a / name).read_bytes() == (b / name).read_bytes()
