"""The one safe pickle reader (edgeperf.datasets.pickles): the allow-list, and skipping payloads."""

from __future__ import annotations

import builtins
import collections
import io
import os
import pickle

import numpy as np
import pytest

from edgeperf.datasets import pickles
from edgeperf.datasets.pickles import SkippedArray, load_pickle

VOLUME = np.arange(4 * 16 * 128 * 128, dtype=np.float32).reshape(4, 16, 128, 128)  # 4 MiB
PROPS = collections.OrderedDict(
    crop_bbox=[[0, 10], [1, 11], [2, 12]],
    size_after_cropping=np.array([10, 10, 10]),
    spacing=(1.0, 1.0, 1.0),
    name="BraTS19_x",
)


def _case(tmp_path, protocol: int):
    path = tmp_path / f"case-{protocol}.pkl"
    with open(path, "wb") as f:
        pickle.dump([VOLUME, PROPS], f, protocol=protocol)
    return path


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_a_full_load_gives_the_arrays_and_containers_back(tmp_path, protocol):
    data, props = load_pickle(_case(tmp_path, protocol))
    assert isinstance(data, np.ndarray) and np.array_equal(data, VOLUME)
    assert props["crop_bbox"] == PROPS["crop_bbox"] and props["name"] == "BraTS19_x"
    assert np.array_equal(props["size_after_cropping"], [10, 10, 10])


@pytest.mark.parametrize("protocol", [4, 5])
def test_skipping_reads_the_properties_but_not_the_volume(tmp_path, monkeypatch, protocol):
    path = _case(tmp_path, protocol)
    read = []

    class Counting(io.FileIO):
        def read(self, size=-1):
            out = super().read(size)
            read.append(len(out))
            return out

        def readinto(self, buffer):
            n = super().readinto(buffer)
            read.append(n)
            return n

    def counting_open(file, mode="r", *args, **kwargs):
        assert mode == "rb"
        return io.BufferedReader(Counting(os.fspath(file), "r"), buffer_size=8192)

    monkeypatch.setattr(pickles, "open", counting_open, raising=False)
    data, props = load_pickle(path, skip_over=1 << 20)
    assert isinstance(data, SkippedArray)
    assert (data.shape, data.dtype) == (VOLUME.shape, VOLUME.dtype)
    assert props["crop_bbox"] == PROPS["crop_bbox"]
    assert np.array_equal(props["size_after_cropping"], [10, 10, 10])  # small arrays are read
    assert sum(read) < 64 * 1024 < VOLUME.nbytes  # the 4 MiB payload was seeked over


def test_protocol_2_text_payloads_load_when_skipping(tmp_path):
    data, props = load_pickle(_case(tmp_path, 2), skip_over=1 << 20)
    # Protocol 2 carries bytes as latin-1 text through _codecs.encode: not skippable, so read.
    assert np.array_equal(getattr(data, "shape", None), VOLUME.shape)
    assert props["name"] == "BraTS19_x"


class _Evil:
    def __reduce__(self):
        return (os.getcwd, ())


@pytest.mark.parametrize("skip_over", [None, 1 << 20])
def test_globals_outside_the_allow_list_are_refused(tmp_path, skip_over):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps([1, _Evil()], protocol=4))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        load_pickle(path, skip_over=skip_over)


@pytest.mark.parametrize("skip_over", [None, 1 << 20])
def test_object_arrays_are_refused_when_skipping_and_globals_when_not(tmp_path, skip_over):
    path = tmp_path / "objects.pkl"
    path.write_bytes(pickle.dumps(np.array([builtins.len], dtype=object), protocol=4))
    with pytest.raises(pickle.UnpicklingError):
        load_pickle(path, skip_over=skip_over)
