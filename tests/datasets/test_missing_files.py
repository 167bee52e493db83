"""Images listed but missing on disk are reported, not dropped without a word (issue 10 item 6).

The reference harnesses (``python/imagenet.py``, ``python/coco.py`` of the r1.1 vision reference)
skip a listed image whose file does not exist and count it; edgeperf skips it the same way and
warns with the count and the first names, and the run report shows the count.
"""

from __future__ import annotations

import warnings

import pytest

pytest.importorskip("cv2")

from vision_fixtures import imagenet_file_name, make_coco, make_imagenet  # noqa: E402

from edgeperf.datasets import CocoDataset, ImagenetDataset  # noqa: E402
from edgeperf.datasets.base import DatasetWarning  # noqa: E402
from edgeperf.report.data import RunData  # noqa: E402
from edgeperf.report.html import render_report  # noqa: E402

TWELVE = (65, 970, 230, 817, 13, 1, 2, 3, 4, 5, 6, 7)


def test_one_missing_imagenet_image_is_named_and_counted(tmp_path):
    root = make_imagenet(tmp_path, labels=TWELVE, missing=(2,))
    with pytest.warns(DatasetWarning) as caught:
        dataset = ImagenetDataset(root)
    assert len(dataset) == 11 and dataset.skipped == 1
    assert dataset.missing == (imagenet_file_name(3),)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith(f"1 of the 12 images listed in {root / 'val_map.txt'} is missing from {root}")
    assert message.endswith(imagenet_file_name(3))
    assert dataset.notices == (message,)


def test_many_missing_images_show_the_first_five(tmp_path):
    missing = (0, 2, 4, 6, 8, 10, 11)
    root = make_imagenet(tmp_path, labels=TWELVE, missing=missing)
    with pytest.warns(DatasetWarning) as caught:
        dataset = ImagenetDataset(root)
    assert len(dataset) == 5 and dataset.skipped == 7
    message = str(caught[0].message)
    assert message.startswith("7 of the 12 images listed in")
    first_five = ", ".join(imagenet_file_name(k + 1) for k in missing[:5])
    assert message.endswith(f"{first_five}, and 2 more")
    assert imagenet_file_name(11) not in message


def test_no_warning_when_every_image_exists(tmp_path):
    root = make_imagenet(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dataset = ImagenetDataset(root)
    assert dataset.missing == () and dataset.notices == ()


def test_a_missing_coco_image_is_named_and_counted(tmp_path):
    root = make_coco(tmp_path)
    (root / "val2017" / "000000037777.jpg").unlink()
    with pytest.warns(DatasetWarning) as caught:
        dataset = CocoDataset(root)
    assert len(dataset) == 3 and dataset.missing == ("000000037777.jpg",)
    message = str(caught[0].message)
    assert message.startswith("1 of the 4 images listed in") and message.endswith("000000037777.jpg")


def test_the_report_page_shows_the_count():
    note = "1 of the 12 images listed in val_map.txt is missing from /data and was skipped: x.JPEG"
    run = RunData(scenario="Offline", mode="AccuracyOnly", summary={}).with_dataset_notes([note])
    html = render_report(run)
    assert 'id="dataset"' in html and "1 of the 12 images listed in val_map.txt is missing" in html
    assert 'id="dataset"' not in render_report(RunData(scenario="Offline", mode="AccuracyOnly", summary={}))
