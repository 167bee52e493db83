"""DatasetQSL: the QSL protocol over a dataset, load/unload, batches (spec loadgen.md §2.1-2.3, benchmarks.md §2.1)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from harness import log_settings
from vision_fixtures import IMAGENET_LABELS, make_imagenet

from edgeperf.datasets import Dataset, DatasetError, DatasetQSL, ImagenetDataset
from edgeperf.loadgen.api import QuerySampleLibrary, QuerySampleResponse
from edgeperf.loadgen.engine import query_samples_complete, start_test
from edgeperf.loadgen.enums import TestMode, TestScenario
from edgeperf.loadgen.logs.accuracy import read_accuracy_log
from edgeperf.loadgen.settings import TestSettings


class CountingDataset:
    """Sample i is a 2×3 float32 array filled with i; counts preprocessing calls."""

    name = "counting"

    def __init__(self, n=10, shape=(2, 3), dtype=np.float32):
        self.n, self.shape, self.dtype = n, shape, dtype
        self.calls: list[int] = []

    def __len__(self):
        return self.n

    def preprocessed(self, index):
        self.calls.append(index)
        return np.full(self.shape, index, dtype=self.dtype)


def test_satisfies_both_protocols():
    dataset = CountingDataset()
    qsl = DatasetQSL(dataset, 4)
    assert isinstance(dataset, Dataset)
    assert isinstance(qsl, QuerySampleLibrary)
    assert qsl.name == "counting" and qsl.total_sample_count == 10 and qsl.performance_sample_count == 4
    assert DatasetQSL(dataset, 4, name="my-qsl").name == "my-qsl"


def test_load_stacks_batches_and_loads_duplicates_once():
    dataset = CountingDataset()
    qsl = DatasetQSL(dataset, 4)
    qsl.load_samples_to_ram([3, 1, 3, 7, 1])  # MultiStream padding repeats indices
    assert sorted(dataset.calls) == [1, 3, 7] and qsl.loaded_count == 3
    batch = qsl.get_batch([7, 3, 3, 1])
    assert batch.shape == (4, 2, 3) and batch.dtype == np.float32
    assert batch[:, 0, 0].tolist() == [7, 3, 3, 1]
    assert qsl.get(7).shape == (2, 3) and qsl.get(7)[0, 0] == 7
    assert qsl.sample_shape == (2, 3) and qsl.sample_dtype == np.float32
    qsl.load_samples_to_ram([3, 7])  # already loaded: nothing preprocessed again
    assert sorted(dataset.calls) == [1, 3, 7]
    # numpy index arrays work too, and a caller's buffer can be reused
    out = np.empty((2, 2, 3), np.float32)
    result = qsl.get_batch(np.array([1, 7], dtype=np.int32), out=out)
    assert result is out and out[:, 0, 0].tolist() == [1, 7]


def test_unload_reload_and_growth():
    dataset = CountingDataset()
    qsl = DatasetQSL(dataset, 4)
    qsl.load_samples_to_ram([0, 1])
    qsl.load_samples_to_ram([2, 3, 4])  # grows the slab, keeps 0 and 1
    assert qsl.get_batch([0, 1, 2, 3, 4])[:, 0, 0].tolist() == [0, 1, 2, 3, 4]
    qsl.unload_samples_from_ram([1, 1, 9])  # duplicates and never-loaded indices are ignored
    assert not qsl.is_loaded(1) and qsl.is_loaded(0) and qsl.loaded_count == 4
    with pytest.raises(KeyError, match="sample 1 of counting is not loaded"):
        qsl.get_batch([0, 1])
    qsl.load_samples_to_ram([5])  # reuses the freed row
    assert qsl.get_batch([5, 4, 0])[:, 0, 0].tolist() == [5, 4, 0]
    qsl.unload_samples_from_ram(range(10))
    assert qsl.loaded_count == 0 and qsl.sample_shape == (2, 3)  # the slab is kept for the next load
    qsl.load_samples_to_ram([9])
    assert qsl.get(9)[0, 0] == 9
    qsl.release_memory()
    assert qsl.loaded_count == 0 and qsl.sample_shape is None  # memory given back


def test_indices_out_of_range_are_rejected():
    qsl = DatasetQSL(CountingDataset(), 4)
    with pytest.raises(IndexError, match="QSL index 10 out of range"):
        qsl.load_samples_to_ram([0, 10])
    with pytest.raises(IndexError):
        qsl.get(-1)
    with pytest.raises(ValueError):
        DatasetQSL(CountingDataset(), 0)


def test_progress_callback_reports_each_sample():
    calls = []
    qsl = DatasetQSL(CountingDataset(), 4, progress=lambda done, total: calls.append((done, total)))
    qsl.load_samples_to_ram([4, 2, 2, 0])
    assert calls == [(1, 3), (2, 3), (3, 3)]
    qsl.load_samples_to_ram([4])
    assert calls == [(1, 3), (2, 3), (3, 3)]  # nothing new to load: no call


def test_worker_threads_give_the_same_result():
    single = DatasetQSL(CountingDataset(n=50), 50)
    threaded = DatasetQSL(CountingDataset(n=50), 50, workers=4)
    single.load_samples_to_ram(range(50))
    threaded.load_samples_to_ram(range(50))
    np.testing.assert_array_equal(single.get_batch(range(50)), threaded.get_batch(range(50)))


class RaggedDataset(CountingDataset):
    def preprocessed(self, index):
        return np.zeros((index + 1,), np.float32)


def test_samples_of_different_shapes_are_a_clear_error():
    qsl = DatasetQSL(RaggedDataset(), 4)
    with pytest.raises(DatasetError, match="sample 1 preprocessed to float32\\[2\\]"):
        qsl.load_samples_to_ram([0, 1])


def test_errors_from_the_dataset_propagate_and_keep_earlier_samples():
    class Failing(CountingDataset):
        def preprocessed(self, index):
            if index == 2:
                raise DatasetError("image file x.jpg is corrupt", path="x.jpg")
            return super().preprocessed(index)

    qsl = DatasetQSL(Failing(), 4)
    with pytest.raises(DatasetError, match="x.jpg"):
        qsl.load_samples_to_ram([0, 1, 2, 3])
    assert qsl.is_loaded(0) and qsl.is_loaded(1) and not qsl.is_loaded(2)


def test_imagenet_qsl_matches_the_dataset(tmp_path):
    dataset = ImagenetDataset(make_imagenet(tmp_path))
    qsl = DatasetQSL(dataset, 1024)
    qsl.load_samples_to_ram([4, 0, 2])
    batch = qsl.get_batch([0, 2, 4, 0])
    assert batch.shape == (4, 3, 224, 224) and batch.dtype == np.float32
    for row, index in enumerate([0, 2, 4, 0]):
        np.testing.assert_array_equal(batch[row], dataset.preprocessed(index))


class LabelSUT:
    """Answers each sample with the ImageNet label its batch row holds (oracle via the dataset)."""

    name = "LabelSUT"

    def __init__(self, qsl, dataset):
        self.qsl, self.dataset = qsl, dataset

    def issue_query(self, samples):
        batch = self.qsl.get_batch([s.index for s in samples])
        assert batch.shape[1:] == (3, 224, 224)
        responses = [QuerySampleResponse(s.id, np.float32(self.dataset.labels[s.index]).tobytes(), 4) for s in samples]
        query_samples_complete(responses)

    def flush_queries(self):
        pass


def test_loadgen_accuracy_run_over_the_imagenet_qsl(tmp_path):
    dataset = ImagenetDataset(make_imagenet(tmp_path / "data"))
    qsl = DatasetQSL(dataset, 1024)
    settings = TestSettings(scenario=TestScenario.Offline, mode=TestMode.AccuracyOnly)
    start_test(LabelSUT(qsl, dataset), qsl, settings, log_settings(tmp_path / "logs"), audit_config=None)
    records = read_accuracy_log(tmp_path / "logs" / "mlperf_log_accuracy.json")
    decoded = {r["qsl_idx"]: int(np.frombuffer(bytes.fromhex(r["data"]), np.float32)[0]) for r in records}
    assert decoded == dict(enumerate(IMAGENET_LABELS))
    assert qsl.loaded_count == 0  # LoadGen unloaded what it loaded


def test_empty_batches():
    qsl = DatasetQSL(CountingDataset(), 4)
    with pytest.raises(KeyError):
        qsl.get_batch([])
    qsl.load_samples_to_ram([])
    qsl.load_samples_to_ram([2])
    assert qsl.get_batch([]).shape == (0, 2, 3)


operations = st.lists(
    st.tuples(st.sampled_from(["load", "unload"]), st.lists(st.integers(0, 19), max_size=12)), max_size=25
)


@settings(max_examples=150, deadline=None)
@given(operations, st.lists(st.integers(0, 19), min_size=1, max_size=8))
def test_any_sequence_of_loads_and_unloads_matches_a_simple_model(ops, probe):
    dataset = CountingDataset(n=20)
    qsl = DatasetQSL(dataset, 8)
    loaded: set[int] = set()
    preprocessed = 0
    for op, indices in ops:
        if op == "load":
            qsl.load_samples_to_ram(indices)
            preprocessed += len(set(indices) - loaded)  # each newly loaded sample exactly once
            loaded |= set(indices)
        else:
            qsl.unload_samples_from_ram(indices)
            loaded -= set(indices)
        assert qsl.loaded_count == len(loaded)
        assert len(dataset.calls) == preprocessed
    if loaded:
        order = sorted(loaded) + [min(loaded)]
        assert qsl.get_batch(order)[:, 0, 0].tolist() == order
    if any(i not in loaded for i in probe):
        with pytest.raises(KeyError):
            qsl.get_batch(probe)
    else:
        assert qsl.get_batch(probe)[:, 1, 2].tolist() == probe


def test_consecutive_rows_come_back_as_a_view_others_as_a_copy():
    qsl = DatasetQSL(CountingDataset(n=10), performance_sample_count=10)
    qsl.load_samples_to_ram(range(10))  # rows 0..9 in index order
    view = qsl.get_batch([3, 4, 5])
    assert view.base is not None and np.array_equal(view[:, 0, 0], [3, 4, 5])
    copy = qsl.get_batch([5, 3])
    assert not np.shares_memory(copy, view) and np.array_equal(copy[:, 0, 0], [5, 3])
    scratch = np.empty((4, 2, 3), np.float32)
    gathered = qsl.get_batch([7, 1, 7], scratch=scratch)
    assert np.shares_memory(gathered, scratch) and np.array_equal(gathered[:, 0, 0], [7, 1, 7])
    assert not np.shares_memory(qsl.get_batch([1, 2], scratch=scratch), scratch)  # consecutive: the slab view


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 39), min_size=1, max_size=300), st.integers(1, 9))
def test_batch_plan_is_a_permutation_cut_into_consecutive_runs(query, batch):
    qsl = DatasetQSL(CountingDataset(n=40), performance_sample_count=40)
    qsl.load_samples_to_ram(range(0, 40, 1))
    indices = np.array(query)
    order, starts = qsl.batch_plan(indices, batch)
    assert sorted(order.tolist()) == list(range(len(query)))
    assert starts[0] == 0 and (np.diff(starts) > 0).all()
    bounds = np.append(starts, len(query))
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        piece = indices[order[lo:hi]]
        assert 1 <= hi - lo <= batch
        assert (np.diff(piece) == 1).all()  # rows of one piece are consecutive: get_batch returns a view
        assert qsl.get_batch(piece).base is not None


def test_batch_plan_puts_most_of_a_large_offline_query_in_full_views():
    qsl = DatasetQSL(CountingDataset(n=1000, shape=(1,)), performance_sample_count=500)
    rng = np.random.default_rng(0)
    loaded = rng.choice(1000, 500, replace=False)
    qsl.load_samples_to_ram(loaded)
    query = rng.choice(loaded, 20000)  # LoadGen draws Offline samples with replacement
    order, starts = qsl.batch_plan(query, 32)
    sizes = np.diff(np.append(starts, len(query)))
    assert sizes[sizes == 32].sum() / len(query) > 0.6  # the rest is merged and gathered by the SUT
