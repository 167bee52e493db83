"""The on-disk cache of preprocessed samples (spec benchmarks.md §2.1)."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from vision_fixtures import make_coco, make_imagenet

import edgeperf.datasets.imagenet as imagenet_module
import edgeperf.datasets.cache as cache_module
from edgeperf.datasets import CocoDataset, DatasetError, ImagenetDataset, PreprocessCache
from edgeperf.datasets.cache import fingerprint


@pytest.fixture()
def imagenet(tmp_path):
    return make_imagenet(tmp_path / "data")


@pytest.fixture()
def count_imread(monkeypatch):
    """Counts cv2.imread calls (the datasets look it up on the cv2 module at call time)."""
    calls = []
    real = cv2.imread

    def counting(path, *args):
        calls.append(path)
        return real(path, *args)

    monkeypatch.setattr(cv2, "imread", counting)
    return calls


def forbid_imread(monkeypatch):
    def fail(*_args):
        raise AssertionError("cv2.imread called although the cache holds the sample")

    monkeypatch.setattr(cv2, "imread", fail)


def test_layout_of_the_cache_directory(imagenet, tmp_path):
    cache = tmp_path / "cache"
    dataset = ImagenetDataset(imagenet, cache_dir=cache)
    dataset.preprocessed(0)
    folders = os.listdir(cache)
    assert len(folders) == 1 and folders[0].startswith("imagenet-")
    assert dataset.cache_directory == cache / folders[0] / "NCHW"
    files = sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file())
    assert files == [f"{folders[0]}/NCHW/ILSVRC2012_val_00000001.JPEG.npy"]


MEANS_CHW = np.array([123.68, 116.78, 103.94], np.float32).reshape(3, 1, 1)


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_the_imagenet_cache_keeps_the_uint8_crop_and_both_layouts_come_back_exact(imagenet, tmp_path, layout):
    cache = tmp_path / "cache"
    uncached = [ImagenetDataset(imagenet, layout=layout).preprocessed(i) for i in range(3)]
    first = ImagenetDataset(imagenet, layout=layout, cache_dir=cache)
    for i, want in enumerate(uncached):
        np.testing.assert_array_equal(first.preprocessed(i), want)
    files = sorted(first.cache_directory.rglob("*.npy"))
    assert len(files) == 3
    for file in files:  # 224*224*3 bytes + the .npy header: a quarter of the float32 sample
        assert np.load(file).dtype == np.uint8 and np.load(file).shape == (224, 224, 3)
        assert file.stat().st_size < 224 * 224 * 3 + 256
    second = ImagenetDataset(imagenet, layout=layout, cache_dir=cache)
    for i, want in enumerate(uncached):
        got = second.preprocessed(i)
        assert got.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


def test_second_construction_reads_the_npy_without_decoding(imagenet, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = ImagenetDataset(imagenet, cache_dir=cache)
    expected = [first.preprocessed(i) for i in range(len(first))]
    forbid_imread(monkeypatch)
    second = ImagenetDataset(imagenet, cache_dir=cache)
    for i, want in enumerate(expected):
        got = second.preprocessed(i)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, want)
    # and the cached values are exactly the uncached ones
    monkeypatch.undo()
    np.testing.assert_array_equal(ImagenetDataset(imagenet).preprocessed(3), expected[3])


def test_coco_cache_reuse(tmp_path, monkeypatch):
    root = make_coco(tmp_path / "data")
    cache = tmp_path / "cache"
    want = CocoDataset(root, cache_dir=cache).preprocessed(2)
    assert (
        cache
        / CocoDataset(root, cache_dir=cache).cache_directory.relative_to(cache)
        / "val2017"
        / "000000252219.jpg.npy"
    ).is_file()
    forbid_imread(monkeypatch)
    got = CocoDataset(root, cache_dir=cache).preprocessed(2)
    assert got.dtype == np.uint8 and got.shape == (300, 300, 3)
    np.testing.assert_array_equal(got, want)


def test_changed_preprocessing_does_not_reuse_stale_files(imagenet, tmp_path, monkeypatch, count_imread):
    cache = tmp_path / "cache"
    ImagenetDataset(imagenet, cache_dir=cache).preprocessed(0)
    assert len(count_imread) == 1
    ImagenetDataset(imagenet, cache_dir=cache, layout="NHWC").preprocessed(0)  # another layout
    assert len(count_imread) == 2
    (key_dir,) = cache.iterdir()  # both layouts side by side, as in the reference
    assert sorted(os.listdir(key_dir)) == ["NCHW", "NHWC"]
    monkeypatch.setattr(imagenet_module, "_VGG_VERSION", imagenet_module._VGG_VERSION + 1)  # code changed
    changed = ImagenetDataset(imagenet, cache_dir=cache)
    changed.preprocessed(0)
    assert len(count_imread) == 3
    assert len(os.listdir(cache)) == 2  # imagenet-<old>, imagenet-<new>
    monkeypatch.setattr(imagenet_module, "_VGG_VERSION", imagenet_module._VGG_VERSION - 1)
    ImagenetDataset(imagenet, cache_dir=cache).preprocessed(0)  # the old directory is found again
    assert len(count_imread) == 3


def test_coco_preprocessings_and_sizes_have_their_own_directories(tmp_path):
    root = make_coco(tmp_path / "data")
    cache = tmp_path / "cache"
    dirs = {
        CocoDataset(root, cache_dir=cache).cache_directory,
        CocoDataset(root, cache_dir=cache, image_size=(320, 320)).cache_directory,
        CocoDataset(root, cache_dir=cache, preprocess="ssd-resnet34", image_size=(300, 300)).cache_directory,
        CocoDataset(root, cache_dir=cache, preprocess="ssd-resnet34").cache_directory,
    }
    assert len(dirs) == 4
    assert CocoDataset(root, cache_dir=cache, preprocess="ssd-resnet34").cache_directory.parent.name.startswith(
        "coco-1200-"
    )


def test_fingerprint_is_stable_and_sensitive():
    params = {"means": [123.68, 116.78, 103.94], "dims": [224, 224]}
    assert fingerprint(params) == fingerprint(dict(reversed(list(params.items()))))
    assert fingerprint(params) != fingerprint({**params, "means": [123.68, 116.78, 103.95]})
    assert len(fingerprint(params)) == 10 and int(fingerprint(params), 16) >= 0


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "wrong shape", "wrong dtype"])
def test_a_corrupt_cache_file_is_recreated(imagenet, tmp_path, count_imread, damage):
    cache = tmp_path / "cache"
    dataset = ImagenetDataset(imagenet, cache_dir=cache)
    want = dataset.preprocessed(1)
    path = next(cache.rglob("*.npy"))
    if damage == "garbage":
        path.write_bytes(b"not a numpy file at all")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "wrong shape":
        np.save(path, np.zeros((3, 10, 10), np.uint8))
    else:
        np.save(path, np.load(path).astype(np.int16))  # the crop's shape, another dtype
    got = ImagenetDataset(imagenet, cache_dir=cache).preprocessed(1)
    np.testing.assert_array_equal(got, want)
    assert len(count_imread) == 2  # decoded again
    repaired = np.load(path)  # and the file repaired: the uint8 RGB crop behind ``want``
    assert repaired.dtype == np.uint8 and repaired.shape == (224, 224, 3)
    np.testing.assert_array_equal(repaired.transpose(2, 0, 1).astype(np.float32) - MEANS_CHW, want)


@pytest.mark.parametrize(
    "array",
    [
        np.arange(24, dtype=np.float32).reshape(2, 3, 4),
        np.arange(150, dtype=np.uint8).reshape(5, 10, 3),
        np.zeros((0, 3), np.int16),
        np.arange(6, dtype=">i4"),
        np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4)),
        np.arange(40, dtype=np.float32).reshape(5, 8)[:, ::2],  # not contiguous
    ],
)
def test_cache_files_are_byte_identical_to_np_save(tmp_path, array):
    cache = PreprocessCache(tmp_path / "cache", "k", "NCHW", {})
    cache.put("a/b.jpg", array)
    saved = tmp_path / "np.npy"
    np.save(saved, np.ascontiguousarray(array))
    assert cache.path_for("a/b.jpg").read_bytes() == saved.read_bytes()
    out = np.empty(array.shape, array.dtype)
    assert cache.read_into("a/b.jpg", out) and np.array_equal(out, array)


def test_writes_are_atomic_and_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    cache = PreprocessCache(tmp_path / "cache", "test", "NHWC", {"a": 1})
    cache.get("sub/x.jpg", lambda: np.arange(6, dtype=np.int16))
    leftovers = [p.name for p in cache.directory.rglob("*") if p.is_file()]
    assert leftovers == ["x.jpg.npy"]

    def broken_save(handle, *_args, **_kwargs):
        handle.write(b"\x93NUMPY partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_module, "_write_npy", broken_save)
    with pytest.raises(DatasetError, match=r"y\.jpg\.npy: No space left on device") as caught:
        cache.get("sub/y.jpg", lambda: np.zeros(3))
    assert caught.value.path.endswith("y.jpg.npy")
    assert [p.name for p in cache.directory.rglob("*") if p.is_file()] == ["x.jpg.npy"]


def test_relative_paths_cannot_escape_the_cache(tmp_path):
    cache = PreprocessCache(tmp_path / "cache", "k", "NCHW", {})
    path = cache.path_for("../../etc/x.jpg")
    assert cache.directory in path.parents


def test_no_cache_dir_writes_nothing(imagenet, tmp_path):
    before = sorted(p for p in tmp_path.rglob("*"))
    dataset = ImagenetDataset(imagenet)
    dataset.preprocessed(0)
    assert dataset.cache_directory is None
    assert sorted(p for p in tmp_path.rglob("*")) == before
