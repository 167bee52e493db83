"""The cache's background writer (edgeperf.datasets._writer) and background puts."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from vision_fixtures import make_imagenet

import edgeperf.datasets.cache as cache_module
from edgeperf.datasets import DatasetError, DatasetQSL, ImagenetDataset, PreprocessCache
from edgeperf.datasets._writer import BackgroundWriter


def test_writes_happen_in_order_and_flush_waits_for_all():
    written = []

    def slow_write(path, array):
        time.sleep(0.002)
        written.append((path, int(array[0])))

    writer = BackgroundWriter(slow_write)
    for i in range(50):
        writer.submit(f"p{i}", np.array([i]))
    writer.flush()
    assert written == [(f"p{i}", i) for i in range(50)]


def test_the_first_error_is_raised_by_flush_and_later_writes_still_happen():
    written = []

    def write(path, array):
        if path in ("bad1", "bad2"):
            raise DatasetError(f"cannot write {path}")
        written.append(path)

    writer = BackgroundWriter(write)
    for path in ("a", "bad1", "b", "bad2", "c"):
        writer.submit(path, np.zeros(1))
    with pytest.raises(DatasetError, match="cannot write bad1"):
        writer.flush()
    assert written == ["a", "b", "c"]
    writer.flush()  # reported once


def test_submit_raises_an_earlier_error_so_a_load_stops_early():
    writer = BackgroundWriter(lambda path, array: (_ for _ in ()).throw(OSError(28, "No space left", path)))
    writer.submit("x", np.zeros(1))
    deadline = time.monotonic() + 10
    with pytest.raises(OSError, match="No space left"):
        while time.monotonic() < deadline:
            writer.submit("y", np.zeros(1))
            time.sleep(0.001)


def test_submit_blocks_beyond_the_pending_bytes():
    release = threading.Event()
    writer = BackgroundWriter(lambda path, array: release.wait(10), max_pending_bytes=3000)
    writer.submit("a", np.zeros(1000, np.uint8))  # taken by the writer, which now waits
    writer.submit("b", np.zeros(1000, np.uint8))
    writer.submit("c", np.zeros(1000, np.uint8))
    blocked = threading.Thread(target=writer.submit, args=("d", np.zeros(1000, np.uint8)))
    blocked.start()
    blocked.join(0.2)
    assert blocked.is_alive()  # 3,000 bytes waiting already
    release.set()
    blocked.join(10)
    assert not blocked.is_alive()
    writer.flush()


def test_the_thread_ends_when_idle_and_comes_back():
    writer = BackgroundWriter(lambda path, array: None)
    writer.submit("a", np.zeros(1))
    writer.flush()
    deadline = time.monotonic() + 10
    while writer._thread is not None and time.monotonic() < deadline:
        time.sleep(0.001)
    assert writer._thread is None
    writer.submit("b", np.zeros(1))
    writer.flush()


def test_background_put_gives_the_same_file(tmp_path):
    cache = PreprocessCache(tmp_path / "cache", "k", "NCHW", {})
    array = np.arange(300, dtype=np.uint8).reshape(10, 10, 3)
    cache.put("a/b.jpg", array, background=True)
    cache.put("a/c.jpg", array, background=False)
    cache.flush()
    assert cache.path_for("a/b.jpg").read_bytes() == cache.path_for("a/c.jpg").read_bytes()
    np.testing.assert_array_equal(np.load(cache.path_for("a/b.jpg")), array)


def test_a_failed_background_write_fails_the_load_and_leaves_no_file(tmp_path, monkeypatch):
    root = make_imagenet(tmp_path / "data")
    ds = ImagenetDataset(root, cache_dir=tmp_path / "cache")

    def full_disk(handle, array):
        handle.write(b"\x93NUMPY partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_module, "_write_npy", full_disk)
    qsl = DatasetQSL(ds, len(ds), workers=2)
    with pytest.raises(DatasetError, match=r"\.npy: No space left on device") as caught:
        qsl.load_samples_to_ram(range(len(ds)))
    assert str(tmp_path / "cache") in caught.value.path
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("workers", [1, 2])
def test_the_cache_is_complete_when_a_load_returns(tmp_path, workers):
    root = make_imagenet(tmp_path / "data")
    ds = ImagenetDataset(root, cache_dir=tmp_path / "cache")
    DatasetQSL(ds, len(ds), workers=workers).load_samples_to_ram(range(len(ds)))
    files = sorted(ds.cache_directory.rglob("*.npy"))
    assert len(files) == len(ds)
    assert all(np.load(f).shape == (224, 224, 3) for f in files)
