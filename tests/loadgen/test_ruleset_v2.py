"""Ruleset v2.0: settings defaults, records and summary lines as the r2.0 LoadGen writes them.

Every expected value here is written from the r2.0 sources (``loadgen/test_settings.h`` for the
defaults and types, ``test_settings_internal.cc`` for FromConfig and the requested/effective
records, ``loadgen.cc`` ``PerformanceSummary::LogSummary``/``LogDetail``/``EarlyStopping`` for
the summary and result records; spec loadgen.md §15.1-15.2), never from edgeperf's output.
"""

from __future__ import annotations

import math

import pytest
from harness import ImmediateSUT, RecordingQSL, log_settings

from edgeperf.loadgen.effective import compute_effective, requested_records
from edgeperf.loadgen.engine import start_test
from edgeperf.loadgen.enums import TestMode, TestScenario
from edgeperf.loadgen.logs.readers import read_detail_log
from edgeperf.loadgen.settings import TestSettings


def min_queries_for_early_stopping(p: float, confidence: float = 0.99) -> int:
    """h(1) + 1 from the definition (binomial CDF), independent of edgeperf's solver: the
    smallest h with P(at most 1 over-latency query among h + 1) < 1 - confidence, plus 1."""
    h = 1
    while True:
        n = h + 1
        cdf = p**n + n * (1 - p) * p ** (n - 1)
        if cdf < 1 - confidence:
            return h + 1
        h += 1


def run(tmp_path, **fields):
    s = TestSettings(min_duration_ms=0, **fields)
    s.ruleset = "v2.0"  # chosen after construction, as a harness does
    start_test(ImmediateSUT(), RecordingQSL(64, 64), s, log_settings(tmp_path), audit_config=None)
    summary = (tmp_path / "mlperf_log_summary.txt").read_text().splitlines()
    detail_text = (tmp_path / "mlperf_log_detail.txt").read_text()
    return summary, read_detail_log(tmp_path / "mlperf_log_detail.txt"), detail_text


def result_keys(detail_text: str) -> list[str]:
    """Keys of the records r2.0's PerformanceSummary::LogDetail writes, in file order."""
    import json

    keys = [json.loads(line[len(":::MLLOG ") :])["key"] for line in detail_text.splitlines()]
    start = keys.index("result_validity")
    return keys[start : keys.index("result_99.90_percentile_latency_ns") + 1]


# ------------------------------------------------------------------------------ defaults


def test_v2_multistream_defaults_follow_r2_test_settings():
    s = TestSettings()
    assert (s.multi_stream_samples_per_query, s.multi_stream_target_latency_percentile) == (4, 0.9)
    s.ruleset = "v2.0"
    # r2.0 test_settings.h: samples_per_query = 8, target_latency_percentile = 0.99
    assert (s.multi_stream_samples_per_query, s.multi_stream_target_latency_percentile) == (8, 0.99)
    assert TestSettings(ruleset="v2.0").multi_stream_samples_per_query == 8
    s.ruleset = "v1.1"
    assert (s.multi_stream_samples_per_query, s.multi_stream_target_latency_percentile) == (4, 0.9)


def test_a_value_the_user_set_survives_the_ruleset_choice():
    s = TestSettings(multi_stream_samples_per_query=4)
    s.multi_stream_target_latency_percentile = 0.9
    s.ruleset = "v2.0"
    assert (s.multi_stream_samples_per_query, s.multi_stream_target_latency_percentile) == (4, 0.9)
    assert not s.is_default("multi_stream_samples_per_query")
    t = TestSettings(ruleset="v2.0")
    assert t.is_default("multi_stream_samples_per_query")
    with pytest.raises(ValueError, match="ruleset"):
        t.ruleset = "v3.0"


def test_v2_effective_multistream_uses_the_v2_defaults():
    s = TestSettings(scenario=TestScenario.MultiStream, ruleset="v2.0")
    eff, errors = compute_effective(s, 64)
    assert errors == []
    assert eff.samples_per_query == 8 and eff.target_latency_percentile == 0.99
    assert eff.min_sample_count == 100 * 8  # min_query_count default 100 x 8
    assert eff.target_qps == 1e9 / 8e6 and eff.max_async_queries == 1


def test_v2_expected_latency_hints_are_doubles():
    ss = requested_records(TestSettings(ruleset="v2.0"))
    assert ss[2] == ("requested_single_stream_expected_latency_ns", 1e6)
    assert isinstance(ss[2][1], float)
    ms = requested_records(TestSettings(scenario=TestScenario.MultiStream, ruleset="v2.0"))
    assert ms[2:5] == [
        ("requested_multi_stream_expected_latency_ns", 8e6),
        ("requested_multi_stream_target_latency_percentile", 0.99),
        ("requested_multi_stream_samples_per_query", 8),
    ]
    assert isinstance(ms[2][1], float) and isinstance(ms[4][1], int)
    # v1.1 keeps its uint64
    v11 = requested_records(TestSettings())
    assert v11[2] == ("requested_single_stream_expected_latency_ns", 1_000_000) and isinstance(v11[2][1], int)


def test_v2_double_hint_printed_as_cpp_prints_a_double(tmp_path):
    # A double goes through ostream << double (%g): 1e+06, where r1.1's uint64 gave 1000000.
    _, _, text = run(tmp_path, min_query_count=70)
    line = next(x for x in text.splitlines() if '"requested_single_stream_expected_latency_ns"' in x)
    assert '"value": 1e+06,' in line


# ------------------------------------------------------------------------------ config keys


def test_v2_config_reads_doubles_and_drops_the_v11_multistream_keys(tmp_path):
    conf = tmp_path / "user.conf"
    conf.write_text(
        "*.SingleStream.target_latency = 0.5\n"
        "*.MultiStream.samples_per_query = 6\n"
        "*.MultiStream.target_qps = 40\n"
        "*.MultiStream.target_latency = 0.25\n"
    )
    v2 = TestSettings(ruleset="v2.0")
    assert v2.from_config(conf, "resnet50", "SingleStream") == 0
    assert v2.single_stream_expected_latency_ns == 500_000.0  # strtod(0.5) * 1e6
    assert v2.multi_stream_expected_latency_ns == 250_000.0
    assert v2.multi_stream_samples_per_query == 6
    assert v2.multi_stream_target_qps == 10.0  # not read by r2.0
    assert any("target_qps" in w.message for w in v2.config_warnings)
    v11 = TestSettings()
    assert v11.from_config(conf, "resnet50", "SingleStream") == 0
    assert v11.single_stream_expected_latency_ns == 0  # strtoull("0.5") = 0, times 1e6
    assert v11.multi_stream_target_qps == 40.0


# ------------------------------------------------------------------------------ summaries


def test_v2_multistream_short_run_is_invalid_for_want_of_queries(tmp_path):
    need = min_queries_for_early_stopping(0.99)
    assert need == 662
    summary, detail, text = run(
        tmp_path,
        scenario=TestScenario.MultiStream,
        min_query_count=100,
        max_query_count=100,
        multi_stream_expected_latency_ns=1000,
    )
    i = summary.index("Result is : INVALID")
    assert summary[i - 1].startswith("99th percentile latency (ns) : ")
    assert summary[i + 1 : i + 4] == [
        "  Min duration satisfied : Yes",
        "  Min queries satisfied : Yes",
        "  Early stopping satisfied: NO",
    ]
    j = summary.index("Early Stopping Result:")
    assert summary[j + 1 : j + 3] == [
        " * Only processed 100 queries.",
        f" * Need to process at least {need} queries for early stopping.",
    ]
    assert detail["effective_samples_per_query"] == 8
    assert detail["generated_samples_per_query"] == 8
    assert detail["early_stopping_met"] is False


def test_v2_multistream_summary_has_only_the_per_query_block(tmp_path):
    summary, detail, text = run(
        tmp_path,
        scenario=TestScenario.MultiStream,
        min_query_count=700,
        max_query_count=700,
        multi_stream_expected_latency_ns=1000,
    )
    assert "Result is : VALID" in summary
    k = summary.index("Additional Stats")
    block = summary[k + 2 : summary.index("Test Parameters Used") - 1]
    assert block[0] == "Per-query latency:  "  # two trailing spaces, as r2.0 prints it
    labels = [line.split(":")[0].rstrip() for line in block[1:10]]
    assert labels == ["Min latency (ns)", "Max latency (ns)", "Mean latency (ns)"] + [
        f"{p} percentile latency (ns)" for p in ("50.00", "90.00", "95.00", "97.00", "99.00", "99.90")
    ]
    assert block[10:] == [""]  # and no "Per-sample latency:" block after it
    assert not any("Per-sample" in line for line in summary)
    assert int(block[1].split(":")[1]) == detail["result_min_query_latency_ns"]
    assert result_keys(text) == [
        "result_validity",
        "result_min_duration_met",
        "result_min_queries_met",
        "early_stopping_met",
        "early_stopping_result",
        "result_query_count",
        "result_min_query_latency_ns",
        "result_max_query_latency_ns",
        "result_mean_query_latency_ns",
        "result_50.00_percentile_per_query_latency_ns",
        "result_90.00_percentile_per_query_latency_ns",
        "result_95.00_percentile_per_query_latency_ns",
        "result_97.00_percentile_per_query_latency_ns",
        "result_99.00_percentile_per_query_latency_ns",
        "result_99.90_percentile_per_query_latency_ns",
        "early_stopping_latency_ms",
        "result_min_latency_ns",
        "result_max_latency_ns",
        "result_mean_latency_ns",
        "result_50.00_percentile_latency_ns",
        "result_90.00_percentile_latency_ns",
        "result_95.00_percentile_latency_ns",
        "result_97.00_percentile_latency_ns",
        "result_99.00_percentile_latency_ns",
        "result_99.90_percentile_latency_ns",
    ]


def test_v2_single_stream_records_in_r2_order(tmp_path):
    summary, detail, text = run(tmp_path, min_query_count=70, max_query_count=70)
    assert result_keys(text)[:10] == [
        "result_validity",
        "result_min_duration_met",
        "result_min_queries_met",
        "early_stopping_met",
        "early_stopping_result",
        "result_query_count",
        "result_qps_with_loadgen_overhead",
        "result_qps_without_loadgen_overhead",
        "early_stopping_latency_ss",
        "early_stopping_latency_ms",
    ]
    assert detail["result_query_count"] == 70
    need90 = min_queries_for_early_stopping(0.9)
    assert need90 == 64
    j = summary.index("Early Stopping Result:")
    assert summary[j + 1] == f" * Processed at least {need90} queries (70)."


def test_v2_offline_reports_early_stopping_as_met(tmp_path):
    summary, detail, text = run(tmp_path, scenario=TestScenario.Offline, min_query_count=64)
    i = summary.index("  Min queries satisfied : Yes")
    assert summary[i + 1] == "  Early stopping satisfied: Yes"
    assert "Early Stopping Result:" not in summary  # r2.0 prints that block for SS/MS/Server only
    assert result_keys(text)[:6] == [
        "result_validity",
        "result_min_duration_met",
        "result_min_queries_met",
        "early_stopping_met",
        "early_stopping_result",
        "result_query_count",
    ]
    assert detail["early_stopping_met"] is True
    assert detail["early_stopping_result"] == ""
    assert detail["result_query_count"] == 1  # Offline issues one query


def test_v11_offline_has_no_early_stopping(tmp_path):
    s = TestSettings(
        scenario=TestScenario.Offline, min_duration_ms=0, min_query_count=64, mode=TestMode.PerformanceOnly
    )
    start_test(ImmediateSUT(), RecordingQSL(64, 64), s, log_settings(tmp_path), audit_config=None)
    summary = (tmp_path / "mlperf_log_summary.txt").read_text()
    assert "Early stopping" not in summary
    assert "early_stopping_met" not in read_detail_log(tmp_path / "mlperf_log_detail.txt")


def test_reference_helper_matches_the_closed_form_seed():
    # t = 0: ceil(ln(1 - c) / ln p) passes with no failure at all; h(1) must exceed it.
    for p in (0.9, 0.95, 0.99):
        seed = math.ceil(math.log(0.01) / math.log(p))
        assert min_queries_for_early_stopping(p) - 1 > seed


# ------------------------------------------------------------------------------ sample choice
#
# r2.0 GenerateQueries builds, in this order, from the sample RNG: the accuracy-mode sampler
# (a shuffle, AccuracyOnly only), the "unique" sampler (a shuffle), and -- new in r2.0, always,
# whether or not sample_concatenate_permutation is on -- the equal-issue sampler:
# ceil(min_queries / len(L)) successive shuffles of [0, len(L)). Only then are samples drawn.
# The expected sequences below are composed from those rules with the RNG primitives (verified
# against real v1.1 logs elsewhere), independently of queries.py.

from edgeperf.loadgen import rng  # noqa: E402
from edgeperf.loadgen.queries import generate_loadable_sets, generate_queries  # noqa: E402


def _loaded(eff, total):
    return generate_loadable_sets(
        total, eff.performance_sample_count, eff.qsl_rng_seed, eff.scenario, eff.samples_per_query
    )[0]


def _expected_single_stream(eff, L, count, min_queries, equal_issue_used=False):
    words = rng.MT19937Words(eff.sample_index_rng_seed)
    rng.shuffle(words, list(range(len(L))))  # the unique sampler
    order, blocks = list(range(len(L))), []
    for _ in range(0, min_queries, len(L)):  # the equal-issue sampler
        rng.shuffle(words, order)
        blocks.extend(order)
    if equal_issue_used:
        return [int(L[blocks[i % len(blocks)]]) for i in range(count)]
    return [int(L[rng.uniform_int(words, 0, len(L) - 1)]) for _ in range(count)]


def test_v2_sample_choice_consumes_the_equal_issue_shuffles():
    s = TestSettings(min_duration_ms=0, min_query_count=300, sample_index_rng_seed=12345, qsl_rng_seed=7)
    for ruleset in ("v1.1", "v2.0"):
        s.ruleset = ruleset
        eff, _ = compute_effective(s, 20)
        loaded = _loaded(eff, 50)
        gen = generate_queries(eff, loaded, TestMode.PerformanceOnly)
        min_queries = 300 if ruleset == "v2.0" else 0  # v1.1 has no equal-issue sampler
        expected = _expected_single_stream(eff, loaded.indices, gen.count, min_queries)
        assert gen.sample_indices.tolist() == expected, ruleset


def test_v2_concatenated_permutations_for_single_stream():
    s = TestSettings(min_duration_ms=1000, sample_index_rng_seed=99, sample_concatenate_permutation=True)
    # ignored under v1.1
    assert compute_effective(s, 64)[0].min_query_count == 100
    s.ruleset = "v2.0"
    eff, _ = compute_effective(s, 64)
    # max(100, 2 * 1 s * 1000 qps) = 2000, then up past a multiple of the QSL's count: 2000 + 64 - 16
    assert eff.min_query_count == 2048 and eff.sample_concatenate_permutation
    assert compute_effective(s, 50)[0].min_query_count == 2050  # already a multiple: a whole 50 more
    eff, _ = compute_effective(
        TestSettings(
            min_duration_ms=0,
            min_query_count=40,
            ruleset="v2.0",
            sample_concatenate_permutation=True,
            sample_index_rng_seed=5,
        ),
        20,
    )
    assert eff.min_query_count == 40 + 20  # 40 is a multiple of 20
    loaded = _loaded(eff, 20)
    gen = generate_queries(eff, loaded, TestMode.PerformanceOnly)
    expected = _expected_single_stream(eff, loaded.indices, gen.count, 60, equal_issue_used=True)
    assert gen.sample_indices.tolist() == expected
    for k in range(gen.count // 20):  # every block of 20 queries issues each loaded sample once
        assert sorted(gen.sample_indices[20 * k : 20 * (k + 1)].tolist()) == sorted(loaded.indices.tolist())


def test_v2_concatenated_permutations_for_offline():
    s = TestSettings(
        scenario=TestScenario.Offline,
        min_duration_ms=0,
        min_query_count=90,
        ruleset="v2.0",
        sample_concatenate_permutation=True,
        sample_index_rng_seed=3,
    )
    eff, _ = compute_effective(s, 20)
    loaded = _loaded(eff, 50)
    gen = generate_queries(eff, loaded, TestMode.PerformanceOnly)
    assert gen.count == 1 and gen.samples_per_query == 100  # 90 padded to whole copies of the 20
    assert gen.logged_samples_per_query == 90  # r2.0 logs the setting, not the padded size
    words = rng.MT19937Words(3)
    rng.shuffle(words, list(range(20)))  # unique sampler
    rng.shuffle(words, list(range(20)))  # equal-issue sampler: min_queries is 1 for Offline
    expected = []
    for _ in range(5):
        block = list(loaded.indices)
        rng.shuffle(words, block)
        expected.extend(int(x) for x in block)
    assert gen.sample_indices.tolist() == expected


def test_v2_config_key_sample_concatenate_permutation(tmp_path):
    conf = tmp_path / "mlperf.conf"
    conf.write_text("3d-unet.*.sample_concatenate_permutation = 1\nbert.*.sample_concatenate_permutation = 2\n")
    on = TestSettings(ruleset="v2.0")
    on.from_config(conf, "3d-unet", "SingleStream")
    assert on.sample_concatenate_permutation is True
    two = TestSettings(ruleset="v2.0")
    two.from_config(conf, "bert", "SingleStream")
    assert two.sample_concatenate_permutation is False  # r2.0: (val == 1) ? true : false
    v11 = TestSettings()
    v11.from_config(conf, "3d-unet", "SingleStream")
    assert v11.sample_concatenate_permutation is False
    assert any("sample_concatenate_permutation" in w.message for w in v11.config_warnings)
