"""Query generation sizes and sample choices from spec loadgen.md §5.7 and §7."""

from __future__ import annotations

import numpy as np

from edgeperf.loadgen.effective import compute_effective
from edgeperf.loadgen.enums import TestMode, TestScenario
from edgeperf.loadgen.queries import generate_loadable_sets, generate_queries
from edgeperf.loadgen.settings import TestSettings

V11_SEEDS = dict(
    qsl_rng_seed=1624344308455410291, sample_index_rng_seed=517984244576520566, schedule_rng_seed=10051496985653635065
)


def _generate(scenario, mode=TestMode.PerformanceOnly, total=5000, psc=1024, **fields):
    s = TestSettings(scenario=scenario, mode=mode, min_duration_ms=600000, **V11_SEEDS)
    for k, v in fields.items():
        setattr(s, k, v)
    eff, problems = compute_effective(s, psc)
    assert problems == []
    sets = generate_loadable_sets(
        total, eff.performance_sample_count, eff.qsl_rng_seed, eff.scenario, eff.samples_per_query
    )
    return generate_queries(eff, sets[0], mode), sets


def test_single_stream_generation_matches_the_real_log():
    gen, sets = _generate(TestScenario.SingleStream, single_stream_expected_latency_ns=753452, min_query_count=1024)
    assert (gen.count, gen.duration_ns) == (1592671, 1200001150292)
    assert int(gen.sample_indices[446]) == 3849  # seq_id 446 of the Alibaba SingleStream run
    assert set(np.unique(gen.sample_indices)) <= set(sets[0].indices.tolist())


def test_offline_generation_matches_the_real_log():
    gen, _ = _generate(TestScenario.Offline, offline_expected_qps=4300, min_query_count=24576, total=50000, psc=1024)
    assert gen.count == 1
    assert gen.logged_samples_per_query == 2838000
    assert gen.duration_ns == 232558
    assert len(gen.sample_indices) == 2838000


def test_server_schedule_sizes_match_the_real_logs():
    for qps, count, duration in ((26, 270336, 10399595429279), (940, 563848, 600003291256)):
        gen, _ = _generate(TestScenario.Server, server_target_qps=qps, min_query_count=270336, total=50000, psc=1024)
        assert (gen.count, gen.duration_ns) == (count, duration)
        assert gen.deltas[0] == 0 and np.all(np.diff(gen.deltas) >= 0)


def test_accuracy_mode_issues_every_loaded_sample_once():
    gen, sets = _generate(TestScenario.Server, mode=TestMode.AccuracyOnly, server_target_qps=100)
    assert sorted(gen.sample_indices.tolist()) == sorted(sets[0].indices.tolist())


def test_multistream_queries_are_contiguous_windows_of_the_padded_set():
    gen, sets = _generate(
        TestScenario.MultiStream, multi_stream_samples_per_query=4, multi_stream_target_qps=20, min_query_count=100
    )
    loaded = sets[0].indices
    assert len(loaded) == 1024 + 3
    queries = gen.sample_indices.reshape(gen.count, 4)
    position = {int(v): i for i, v in enumerate(loaded[:1024])}
    for q in queries[:50]:
        start = position[int(q[0])]
        assert q.tolist() == loaded[start : start + 4].tolist()


def test_issue_same_repeats_one_sample_and_unique_uses_each_once():
    same, sets = _generate(TestScenario.SingleStream, performance_issue_same=True, performance_issue_same_index=3)
    assert set(same.sample_indices.tolist()) == {int(sets[0].indices[3])}
    assert same.count == 1024
    unique, sets = _generate(TestScenario.SingleStream, performance_issue_unique=True)
    assert sorted(unique.sample_indices.tolist()) == sorted(sets[0].indices.tolist())


def test_chunked_sample_draws_equal_one_long_run(monkeypatch):
    from edgeperf.loadgen import queries, rng

    monkeypatch.setattr(queries, "_SAMPLE_CHUNK", 1000)
    gen, sets = _generate(TestScenario.Server, server_target_qps=100, min_query_count=4500, total=2000, psc=700)
    words = rng.MT19937Words(V11_SEEDS["sample_index_rng_seed"])
    rng.shuffle(words, list(range(700)))  # the dist_unique construction shuffle comes first (§7 step 7)
    expected = sets[0].indices[rng.uniform_int_array(words, 0, 699, gen.count)]
    assert gen.sample_indices.dtype == np.int32
    assert np.array_equal(gen.sample_indices, expected)
