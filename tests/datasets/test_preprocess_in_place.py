"""Preprocessing straight into the loaded-sample array (issue 16): same bytes as the plain path,
threads, the cache read into place, and the failure rules of a parallel load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from vision_fixtures import make_coco, make_imagenet

from edgeperf.datasets import CocoDataset, DatasetError, DatasetQSL, ImagenetDataset
from edgeperf.datasets.cache import PreprocessCache


def _datasets(tmp_path):
    root = make_imagenet(tmp_path / "in")
    coco = make_coco(tmp_path / "co")
    return [
        ImagenetDataset(root, layout="NCHW"),
        ImagenetDataset(root, layout="NHWC"),
        CocoDataset(coco, preprocess="ssd-mobilenet"),
        CocoDataset(coco, preprocess="ssd-mobilenet", layout="NCHW"),
        CocoDataset(coco, preprocess="ssd-resnet34"),
        CocoDataset(coco, preprocess="ssd-resnet34", layout="NHWC"),
    ]


def test_preprocessed_into_writes_exactly_what_preprocessed_returns(tmp_path):
    for ds in _datasets(tmp_path):
        for i in range(len(ds)):
            ref = ds.preprocessed(i)
            out = np.full(ds.sample_shape, 77, dtype=ds.sample_dtype)
            ds.preprocessed_into(i, out)
            assert out.dtype == ref.dtype and out.tobytes() == ref.tobytes(), (ds.name, ds.layout, i)


@pytest.mark.parametrize("workers", [1, 3])
def test_qsl_load_in_place_with_threads_and_a_cache_equals_the_plain_load(tmp_path, workers):
    root = make_imagenet(tmp_path / "in")
    plain = ImagenetDataset(root)
    expected = np.stack([plain.preprocessed(i) for i in range(len(plain))])
    progress = []
    for run in ("first", "cached"):
        ds = ImagenetDataset(root, cache_dir=tmp_path / "cache")
        qsl = DatasetQSL(ds, len(ds), workers=workers, progress=lambda d, t: progress.append((d, t)))
        qsl.load_samples_to_ram(range(len(ds)))
        got = qsl.get_batch(np.arange(len(ds)))
        assert got.tobytes() == expected.tobytes(), run
        assert progress[-1] == (len(ds), len(ds))
        progress.clear()
    assert len(list((tmp_path / "cache").rglob("*.npy"))) == len(plain)


def test_cache_read_into_rejects_other_shapes_and_truncated_files(tmp_path):
    cache = PreprocessCache(tmp_path, "k", "NCHW", {"p": 1})
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    cache.put("x/a.jpg", a)
    out = np.zeros_like(a)
    assert cache.read_into("x/a.jpg", out) and np.array_equal(out, a)
    assert not cache.read_into("x/a.jpg", np.zeros((3, 2, 4), np.float32))
    assert not cache.read_into("x/a.jpg", np.zeros((2, 3, 4), np.float64))
    assert not cache.read_into("missing.jpg", out)
    path = cache.path_for("x/a.jpg")
    path.write_bytes(path.read_bytes()[:-4])
    assert not cache.read_into("x/a.jpg", out)
    path.write_bytes(b"junk")
    assert not cache.read_into("x/a.jpg", out)


class _Rows:
    """Eight samples of shape (2,), each filled with its index; counts the computations, and
    sample ``fail_at`` (if any) is a corrupt image."""

    name = "rows"
    sample_shape = (2,)
    sample_dtype = np.dtype(np.float32)

    def __init__(self, fail_at=None):
        self.fail_at = fail_at
        self.computed = 0

    def __len__(self):
        return 8

    def preprocessed(self, index):
        out = np.empty(2, np.float32)
        self.preprocessed_into(index, out)
        return out

    def preprocessed_into(self, index, out):
        if index == self.fail_at:
            raise DatasetError("image file five.jpg is corrupt", path="five.jpg")
        self.computed += 1
        out[:] = index


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failure_in_a_parallel_load_is_raised_and_frees_the_rows(workers):
    qsl = DatasetQSL(_Rows(fail_at=5), 8, workers=workers)
    with pytest.raises(DatasetError, match="five.jpg"):
        qsl.load_samples_to_ram(range(8))
    assert not qsl.is_loaded(5)
    loaded = [i for i in range(8) if qsl.is_loaded(i)]
    assert loaded and all(qsl.get(i)[0] == i for i in loaded)
    qsl.load_samples_to_ram([0, 1, 2, 3, 4, 6, 7])  # the freed rows are reused, the slab does not grow
    assert qsl._slab.shape[0] == 8 and all(qsl.get(i)[0] == i for i in (0, 1, 2, 3, 4, 6, 7))


def test_the_one_pass_arithmetic_matches_the_reference_step_by_step(tmp_path):
    """The reference's own sequence of numpy steps (astype, -=, /=, transpose copy), written out
    here, gives the same bytes as the fused in-place versions."""
    import cv2

    from edgeperf.datasets.coco import RESNET34_MEAN_RGB, RESNET34_STD_RGB, maybe_resize
    from edgeperf.datasets.imagenet import IMAGENET_MEANS_RGB, center_crop, resize_with_aspectratio

    root = make_imagenet(tmp_path / "in")
    ds = ImagenetDataset(root)
    for i in range(len(ds)):
        img = cv2.imread(str(ds.image_path(i)))
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        crop = center_crop(resize_with_aspectratio(rgb, 224, 224, interpolation=cv2.INTER_AREA), 224, 224)
        ref = crop.astype(np.float32)
        ref -= np.array(IMAGENET_MEANS_RGB, dtype=np.float32)
        ref = np.ascontiguousarray(ref.transpose(2, 0, 1))
        assert ds.preprocessed(i).tobytes() == ref.tobytes()
    coco = CocoDataset(make_coco(tmp_path / "co"), preprocess="ssd-resnet34")
    for i in range(len(coco)):
        img = maybe_resize(cv2.imread(str(coco.image_path(i))), (1200, 1200))
        ref = img / np.float32(255.0)
        ref -= np.array(RESNET34_MEAN_RGB, dtype=np.float32)
        ref /= np.array(RESNET34_STD_RGB, dtype=np.float32)
        ref = np.ascontiguousarray(ref.transpose(2, 0, 1))
        assert coco.preprocessed(i).tobytes() == ref.tobytes()


def _vma_flags(array: np.ndarray) -> dict:
    """The /proc/self/smaps fields of the mapping that holds the middle of ``array``'s bytes."""
    address = array.__array_interface__["data"][0] + array.nbytes // 2
    fields: dict = {}
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0]
        if "-" in head and ":" not in head:
            start, end = (int(x, 16) for x in head.split("-"))
            inside = start <= address < end
        elif inside and ":" in head:
            fields[head.rstrip(":")] = " ".join(line.split()[1:])
    return fields


@pytest.mark.parametrize(
    "shape, dtype", [((3, 8), np.float32), ((20, 3, 224, 224), np.float32), ((5, 1 << 20), np.uint8)]
)
def test_allocate_slab_gives_a_writable_array_of_the_shape(shape, dtype):
    from edgeperf.datasets.base import allocate_slab

    slab = allocate_slab(shape, dtype)
    assert slab.shape == shape and slab.dtype == np.dtype(dtype) and slab.flags.c_contiguous and slab.flags.writeable
    slab[...] = 7
    slab[-1].flat[-1] = 9
    assert slab.sum(dtype=np.float64) == 7 * slab.size + 2


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux /proc/self/smaps")
def test_a_large_slab_is_not_advised_into_huge_pages():
    from edgeperf.datasets.base import allocate_slab

    mode = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    slab = allocate_slab((20, 3, 224, 224), np.float32)
    flags = _vma_flags(slab)
    assert "hg" not in flags.get("VmFlags", "")  # numpy's np.empty would carry MADV_HUGEPAGE ("hg")
    if mode.exists() and "[madvise]" in mode.read_text():
        reference = np.empty((20, 3, 224, 224), np.float32)
        assert "hg" in _vma_flags(reference).get("VmFlags", "") or not np._core.multiarray._get_madvise_hugepage()


def test_a_fully_unloaded_slab_is_kept_for_the_next_set():
    # LoadGen's accuracy pass: load a set, run it, unload it, load the next set
    qsl = DatasetQSL(_Rows(), 4)
    qsl.load_samples_to_ram([0, 1, 2, 3])
    slab = qsl._slab
    qsl.unload_samples_from_ram([0, 1, 2, 3])
    assert qsl.loaded_count == 0 and not qsl.is_loaded(0)
    with pytest.raises(KeyError, match="not loaded"):
        qsl.get(0)
    qsl.load_samples_to_ram([4, 5, 6, 7])
    assert qsl._slab is slab  # the same memory, not a new allocation
    assert [qsl.get(i)[0] for i in (4, 5, 6, 7)] == [4, 5, 6, 7]
    assert [int(r) for r in qsl._rows([4, 5, 6, 7])] == [0, 1, 2, 3]  # handed out in order again
    qsl.unload_samples_from_ram([4, 5, 6, 7])
    qsl.load_samples_to_ram(range(6))  # larger, nothing in use: a new slab of the new size
    assert qsl._slab is not slab and qsl._slab.shape[0] == 6
    assert [qsl.get(i)[0] for i in range(6)] == [0, 1, 2, 3, 4, 5]


def test_release_memory_unloads_everything_and_drops_the_slab():
    data = _Rows()
    qsl = DatasetQSL(data, 4)
    qsl.load_samples_to_ram([1, 2])
    qsl.release_memory()
    assert qsl._slab is None and qsl.loaded_count == 0
    with pytest.raises(KeyError, match="not loaded"):
        qsl.get(1)
    qsl.load_samples_to_ram([2, 3])  # and loading again works, computing the samples anew
    assert data.computed == 4 and qsl.get(3)[0] == 3
