"""Every user-caused dataset problem is one DatasetError naming the file (and line) — DESIGN conventions."""

from __future__ import annotations

import json

import pytest

from vision_fixtures import imagenet_file_name, make_coco, make_imagenet

from edgeperf.datasets import CocoDataset, DatasetError, ImagenetDataset


def test_dataset_error_is_a_value_error():
    assert issubclass(DatasetError, ValueError)


# ------------------------------------------------------------------------------------- ImageNet


def test_missing_imagenet_folder(tmp_path):
    with pytest.raises(DatasetError, match="ImageNet folder .*nowhere does not exist") as caught:
        ImagenetDataset(tmp_path / "nowhere")
    assert caught.value.path == str(tmp_path / "nowhere")


def test_missing_val_map(tmp_path):
    root = make_imagenet(tmp_path)
    (root / "val_map.txt").unlink()
    with pytest.raises(DatasetError, match=r"val_map\.txt does not exist.*<relative image path> <integer label>"):
        ImagenetDataset(root)


@pytest.mark.parametrize(
    "line, message",
    [
        (
            "ILSVRC2012_val_00000002.JPEG",
            r"val_map\.txt:2: expected '<relative image path> <integer label>' \(two fields\), got 1 field",
        ),
        (
            "ILSVRC2012_val_00000002.JPEG 970 extra",
            r"val_map\.txt:2: .*got 3 fields: 'ILSVRC2012_val_00000002.JPEG 970 extra'",
        ),
        (
            "ILSVRC2012_val_00000002.JPEG nine",
            r"val_map\.txt:2: expected an integer label after 'ILSVRC2012_val_00000002.JPEG', got 'nine'",
        ),
    ],
)
def test_malformed_val_map_line_names_file_and_line(tmp_path, line, message):
    root = make_imagenet(tmp_path)
    lines = (root / "val_map.txt").read_text().splitlines()
    lines[1] = line
    (root / "val_map.txt").write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=message) as caught:
        ImagenetDataset(root)
    assert caught.value.line == 2 and caught.value.path == str(root / "val_map.txt")


def test_val_map_that_is_not_text(tmp_path):
    root = make_imagenet(tmp_path)
    (root / "val_map.txt").write_bytes(b"ILSVRC2012_val_00000001.JPEG 65\n\xff\xfe\x00binary\n")
    with pytest.raises(DatasetError, match=r"val_map\.txt:2: not UTF-8 text"):
        ImagenetDataset(root)


def test_no_listed_image_exists(tmp_path):
    root = make_imagenet(tmp_path, missing=range(5))
    with pytest.raises(DatasetError, match=r"no images found: none of the 5 images listed in .*val_map\.txt exists"):
        ImagenetDataset(root)


@pytest.mark.parametrize("content", [b"", b"this is not a jpeg", b"\xff\xd8\xff\xe0 truncated"])
def test_corrupt_image_names_the_file(tmp_path, content):
    root = make_imagenet(tmp_path)
    (root / imagenet_file_name(2)).write_bytes(content)
    dataset = ImagenetDataset(root)
    with pytest.raises(DatasetError, match=r"image file .*ILSVRC2012_val_00000002\.JPEG is corrupt") as caught:
        dataset.preprocessed(1)
    assert caught.value.path.endswith(imagenet_file_name(2))


def test_image_removed_after_opening(tmp_path):
    root = make_imagenet(tmp_path)
    dataset = ImagenetDataset(root)
    (root / imagenet_file_name(1)).unlink()
    with pytest.raises(DatasetError, match=r"ILSVRC2012_val_00000001\.JPEG is missing"):
        dataset.preprocessed(0)


def test_unknown_layout(tmp_path):
    with pytest.raises(DatasetError, match="unknown layout 'CHW'"):
        ImagenetDataset(make_imagenet(tmp_path), layout="CHW")


# ----------------------------------------------------------------------------------------- COCO


def annotations_of(root):
    return root / "annotations" / "instances_val2017.json"


def test_missing_coco_folder(tmp_path):
    with pytest.raises(DatasetError, match="COCO folder .*nowhere does not exist"):
        CocoDataset(tmp_path / "nowhere")


def test_missing_annotations(tmp_path):
    root = make_coco(tmp_path)
    annotations_of(root).unlink()
    with pytest.raises(DatasetError, match=r"instances_val2017\.json does not exist"):
        CocoDataset(root)


def test_annotations_not_json(tmp_path):
    root = make_coco(tmp_path)
    annotations_of(root).write_text('{"images": [\n  {"id": 1,\n  oops\n]}')
    with pytest.raises(DatasetError, match=r"instances_val2017\.json:3: not valid JSON") as caught:
        CocoDataset(root)
    assert caught.value.line == 3


@pytest.mark.parametrize(
    "document, message",
    [
        ({"annotations": []}, r"instances_val2017\.json: has no 'images' key"),
        ({"images": {}}, r"instances_val2017\.json: has 'images' of type dict"),
        ([1, 2], r"instances_val2017\.json: expected a JSON object"),
        ({"images": [{"id": 1, "height": 2, "width": 3}]}, r"images\[0\] lacks a valid 'file_name'"),
        (
            {"images": [{"id": 1, "file_name": "a.jpg", "height": "2", "width": 3}]},
            r"images\[0\] lacks a valid 'height'",
        ),
        ({"images": [], "annotations": {}}, r"'annotations' is dict, expected a list"),
        ({"images": [], "annotations": [{"image_id": 1, "category_id": 2}]}, r"annotations\[0\] is malformed"),
        ({"images": [], "categories": [{"name": "x"}]}, r"categories\[0\] lacks an integer 'id'"),
    ],
)
def test_malformed_annotations(tmp_path, document, message):
    root = make_coco(tmp_path)
    annotations_of(root).write_text(json.dumps(document))
    with pytest.raises(DatasetError, match=message) as caught:
        CocoDataset(root)
    assert caught.value.path == str(annotations_of(root))


def test_no_coco_image_exists(tmp_path):
    root = make_coco(tmp_path)
    for p in (root / "val2017").iterdir():
        p.unlink()
    with pytest.raises(DatasetError, match=r"none of the 4 images listed in .*instances_val2017\.json exists"):
        CocoDataset(root)


def test_corrupt_coco_image(tmp_path):
    root = make_coco(tmp_path)
    (root / "val2017" / "000000252219.jpg").write_bytes(b"\x89PNG broken")
    dataset = CocoDataset(root, preprocess="ssd-resnet34", image_size=(32, 32))
    with pytest.raises(DatasetError, match=r"000000252219\.jpg is corrupt"):
        dataset.preprocessed(2)


def test_unknown_preprocessing(tmp_path):
    with pytest.raises(DatasetError, match="unknown COCO preprocessing 'yolo'"):
        CocoDataset(make_coco(tmp_path), preprocess="yolo")
