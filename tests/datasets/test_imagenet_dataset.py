"""ImageNet val layout, index mapping and pre_process_vgg (spec benchmarks.md §2.2, §3.a-b, §3.g)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vision_fixtures import (
    IMAGENET_GRAY_INDEX,
    IMAGENET_GRAY_VALUE,
    IMAGENET_LABELS,
    IMAGENET_SIZES,
    imagenet_file_name,
    make_imagenet,
)

from edgeperf.datasets import ImagenetDataset, center_crop, pre_process_vgg, resize_with_aspectratio
from edgeperf.datasets.imagenet import vgg_crop, vgg_finish
from edgeperf.datasets.base import DatasetWarning

MEANS = np.array([123.68, 116.78, 103.94], dtype=np.float32)


@pytest.fixture(scope="module")
def imagenet(tmp_path_factory):
    return make_imagenet(tmp_path_factory.mktemp("in"))


def straightforward_vgg(path, resized_wh, left, top):
    """pre_process_vgg written out by hand for one known geometry (independent of the module)."""
    bgr = cv2.imread(str(path))
    rgb = np.ascontiguousarray(bgr[:, :, ::-1])
    resized = cv2.resize(rgb, resized_wh, interpolation=cv2.INTER_AREA)
    crop = resized[top : top + 224, left : left + 224].astype(np.float32)
    return (crop - MEANS).transpose(2, 0, 1)


# Spec §2.2: 500×375 → 341×256, crop left 58 top 16; the others worked out by the same formulas.
GEOMETRY = {
    0: ((341, 256), 58, 16),  # 500×375
    1: ((256, 341), 16, 58),  # 375×500 portrait: int(256·500/375) = 341
    2: ((256, 256), 16, 16),  # 224×224
    3: ((341, 256), 58, 16),  # 640×480: int(256·640/480) = 341
}


@pytest.mark.parametrize("index", sorted(GEOMETRY))
def test_preprocessing_matches_a_straightforward_opencv_computation(imagenet, index):
    dataset = ImagenetDataset(imagenet)
    wh, left, top = GEOMETRY[index]
    expected = straightforward_vgg(dataset.paths[index], wh, left, top)
    got = dataset.preprocessed(index)
    assert got.shape == (3, 224, 224) and got.dtype == np.float32 and got.flags.c_contiguous
    np.testing.assert_array_equal(got, expected)


def test_resize_and_crop_geometry_of_the_spec_example():
    img = np.zeros((375, 500, 3), dtype=np.uint8)  # h×w
    resized = resize_with_aspectratio(img, 224, 224, interpolation=cv2.INTER_AREA)
    assert resized.shape[:2] == (256, 341)
    marked = np.arange(256 * 341).reshape(256, 341)
    crop = center_crop(marked, 224, 224)
    assert crop.shape == (224, 224) and crop[0, 0] == marked[16, 58]


@pytest.mark.parametrize(
    "h, w, expected",
    [
        (375, 500, (256, 341)),
        (500, 375, (341, 256)),
        (480, 640, (256, 341)),
        (100, 100, (256, 256)),
        (333, 500, (256, 384)),
        (500, 333, (384, 256)),
        (256, 512, (256, 512)),
        (768, 512, (384, 256)),
    ],
)
def test_resize_uses_the_integer_size_formulas(h, w, expected):
    out = resize_with_aspectratio(np.zeros((h, w, 3), np.uint8), 224, 224)
    # the formulas written out: short side int(100*224/87.5) = 256, the long side truncated
    short = int(100.0 * 224 / 87.5)
    want = (int(short * h / w), short) if h > w else (short, int(short * w / h))
    assert out.shape[:2] == want == expected


@pytest.mark.parametrize("h, w", [(256, 341), (341, 256), (257, 300), (256, 256), (300, 225)])
def test_center_crop_always_yields_the_requested_size(h, w):
    crop = center_crop(np.zeros((h, w)), 224, 224)
    assert crop.shape == (224, 224)


def test_uniform_grey_gives_exact_channel_values(imagenet):
    # spec §3.g: R=G=B=123 → 123-123.68, 123-116.78, 123-103.94 computed in float32
    expected = np.float32(123) - MEANS
    assert expected.tolist() == pytest.approx([-0.68, 6.22, 19.06], abs=1e-5)
    grey = np.full((375, 500, 3), 123, np.uint8)
    out = pre_process_vgg(grey, "NCHW")
    for c in range(3):
        assert np.all(out[c] == expected[c])
    # the fixture's single-channel grayscale JPEG decodes to exactly 123 and gives the same values
    dataset = ImagenetDataset(imagenet)
    path = dataset.paths[IMAGENET_GRAY_INDEX]
    assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED).ndim == 2
    assert np.all(cv2.imread(str(path)) == IMAGENET_GRAY_VALUE)
    sample = dataset.preprocessed(IMAGENET_GRAY_INDEX)
    for c in range(3):
        assert np.all(sample[c] == expected[c])


def test_channel_order_is_rgb():
    bgr = np.zeros((224, 224, 3), np.uint8)
    bgr[..., 2] = 200  # red in OpenCV's BGR order
    out = pre_process_vgg(bgr, "NCHW")
    assert np.all(out[0] == np.float32(200) - MEANS[0])
    assert np.all(out[1] == -MEANS[1]) and np.all(out[2] == -MEANS[2])


def test_nhwc_is_the_transpose_of_nchw(imagenet):
    nchw = ImagenetDataset(imagenet).preprocessed(0)
    nhwc = ImagenetDataset(imagenet, layout="NHWC").preprocessed(0)
    assert nhwc.shape == (224, 224, 3) and nhwc.dtype == np.float32
    np.testing.assert_array_equal(nhwc, nchw.transpose(1, 2, 0))


def test_labels_paths_and_order(imagenet):
    dataset = ImagenetDataset(imagenet)
    assert len(dataset) == 5 and dataset.name == "imagenet" and dataset.skipped == 0
    assert dataset.labels.dtype == np.int64 and dataset.labels.tolist() == list(IMAGENET_LABELS)
    assert [p.name for p in dataset.paths] == [imagenet_file_name(k) for k in range(1, 6)]
    assert dataset.label(3) == 817 and dataset.image_path(0) == imagenet / "ILSVRC2012_val_00000001.JPEG"
    assert [cv2.imread(str(p)).shape[1::-1] for p in dataset.paths] == list(IMAGENET_SIZES)


def test_missing_files_are_skipped_and_counted(tmp_path):
    root = make_imagenet(tmp_path, missing=(1,))
    with pytest.warns(DatasetWarning, match="1 of the 5 images"):
        dataset = ImagenetDataset(root)
    assert len(dataset) == 4 and dataset.skipped == 1
    assert dataset.labels.tolist() == [65, 230, 817, 13]
    assert [p.name for p in dataset.paths] == [imagenet_file_name(k) for k in (1, 3, 4, 5)]
    # sample 1 is now the third listed image (the 224×224 one)
    np.testing.assert_array_equal(
        dataset.preprocessed(1), straightforward_vgg(root / imagenet_file_name(3), (256, 256), 16, 16)
    )


def test_count_keeps_the_first_images_found(tmp_path):
    root = make_imagenet(tmp_path, missing=(0,))
    with pytest.warns(DatasetWarning, match="1 of the first 3 images"):
        dataset = ImagenetDataset(root, count=2)
    assert len(dataset) == 2 and dataset.labels.tolist() == [970, 230] and dataset.skipped == 1


def test_val_map_elsewhere_with_tabs_blank_lines_and_subfolders(tmp_path):
    root = make_imagenet(tmp_path)
    sub = root / "val"
    sub.mkdir()
    (root / imagenet_file_name(2)).rename(sub / imagenet_file_name(2))
    listing = tmp_path / "list.txt"
    listing.write_text(f"\n{imagenet_file_name(1)}\t65\r\n  val/{imagenet_file_name(2)}   970  \n\n")
    dataset = ImagenetDataset(root, val_map=listing)
    assert len(dataset) == 2 and dataset.labels.tolist() == [65, 970]
    assert dataset.paths[1] == sub / imagenet_file_name(2)
    assert dataset.preprocessed(1).shape == (3, 224, 224)


def test_index_out_of_range(imagenet):
    dataset = ImagenetDataset(imagenet)
    with pytest.raises(IndexError):
        dataset.preprocessed(5)
    with pytest.raises(IndexError):
        dataset.preprocessed(-1)


def test_fixture_is_deterministic(tmp_path):
    a = make_imagenet(tmp_path / "a")
    b = make_imagenet(tmp_path / "b")
    for k in range(1, 6):
        assert (a / imagenet_file_name(k)).read_bytes() == (b / imagenet_file_name(k)).read_bytes()
    assert (a / "val_map.txt").read_text() == (b / "val_map.txt").read_text()


def reference_order_vgg(bgr, layout):
    """The reference's order of steps: BGR->RGB on the whole image, resize, crop, astype, -=, transpose."""
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    crop = center_crop(resize_with_aspectratio(rgb, 224, 224, interpolation=cv2.INTER_AREA), 224, 224)
    ref = crop.astype(np.float32)
    ref -= MEANS
    return np.ascontiguousarray(ref.transpose(2, 0, 1)) if layout == "NCHW" else ref


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 900),
    w=st.integers(1, 900),
    seed=st.integers(0, 2**32 - 1),
    layout=st.sampled_from(["NCHW", "NHWC"]),
)
def test_resizing_before_the_colour_conversion_gives_the_reference_bytes(h, w, seed, layout):
    # INTER_AREA weighs each channel alone, so resizing BGR and converting only the crop must give
    # the reference's bytes for every geometry: down- and up-scaling, integer and fractional factors
    bgr = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    crop = vgg_crop(bgr)
    assert crop.shape == (224, 224, 3) and crop.dtype == np.uint8
    got = vgg_finish(crop, layout)
    assert got.tobytes() == reference_order_vgg(bgr, layout).tobytes()
    assert pre_process_vgg(bgr, layout).tobytes() == got.tobytes()
