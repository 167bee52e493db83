"""Rules as data (spec §5.2), files_diff (§5.10), and the tolerant readers (§4, §10.2)."""

from __future__ import annotations

import os

import pytest

from edgeperf.loadgen.logs.readers import LogFormatError
from edgeperf.submission.readers import TreeFileError, parse_detail_bytes, parse_json_object, scan_accuracy_txt
from edgeperf.submission.rules import RULES, V1_0, V1_1, get_rules
from edgeperf.submission.tree import Tree, files_diff


@pytest.mark.parametrize(
    "name,cls",
    [
        ("resnet50", "resnet"),
        ("resnet", "resnet"),
        ("ssd-mobilenet", "ssd-small"),
        ("ssd-resnet34", "ssd-large"),
        ("efficientnet-lite0-non-quantized", "resnet"),
        ("mobilenet-v3-large-minimalistic", "resnet"),
        ("mobilenetv2", "resnet"),
        ("ssdlite-mobilenet-v2", "ssd-small"),
        ("yolo-v3", "ssd-small"),
        ("faster-rcnn", "ssd-small"),
        ("bert-99.9", "bert-99.9"),
        ("gpt-j", "gpt-j"),
    ],
)
def test_model_class_resolution(name, cls):
    assert V1_1.mlperf_model(name) == cls


def test_accuracy_targets_are_the_python_products():
    t = {m: r.target for m, r in V1_1.accuracy.items()}
    assert t["resnet"] == 76.46 * 0.99 and t["rnnt"] == (100 - 7.452) * 0.99
    assert t["3d-unet-99.9"] == 0.853 * 0.999 and t["dlrm-99"] == 80.25 * 0.99
    assert round(t["bert-99"], 5) == 89.96526 and set(t) == set(V1_1.models)


def test_scenario_tables_per_system_type():
    assert V1_1.required_scenarios("edge", "resnet") == ("SingleStream", "Offline")
    assert V1_1.optional_scenarios("edge", "resnet") == ()  # no MultiStream in v1.1
    assert V1_1.required_scenarios("datacenter", "ssd-small") is None
    assert V1_1.required_scenarios("edge", "dlrm-99") is None and V1_1.required_scenarios("edge", "bert-99.9") is None
    assert V1_1.required_scenarios("datacenter", "resnet") == ("Offline",)
    assert V1_1.optional_scenarios("datacenter", "resnet") == ("Server",)
    assert V1_1.required_scenarios("edge,datacenter", "bert-99.9") == ("Offline",)
    assert V1_1.optional_scenarios("datacenter,edge", "3d-unet-99") == ()
    assert set(V1_1.system_types()) == {"datacenter", "edge", "datacenter,edge", "edge,datacenter"}


def test_v1_0_differs_in_seeds_and_multistream_only():
    assert V1_0.seeds["qsl_rng_seed"] == 7322528924094909334
    assert V1_1.seeds == {
        "qsl_rng_seed": 1624344308455410291,
        "sample_index_rng_seed": 517984244576520566,
        "schedule_rng_seed": 10051496985653635065,
    }
    assert V1_0.optional_scenarios("edge", "ssd-small") == ("MultiStream",)
    assert V1_0.min_query_count[("resnet", "MultiStream")] == 270336
    assert ("resnet", "MultiStream") not in V1_1.min_query_count
    assert V1_0.accuracy == V1_1.accuracy and V1_0.required_scenarios("edge", "resnet") == ("SingleStream", "Offline")
    assert set(RULES) == {"v1.0", "v1.1"} and get_rules("v1.1") is V1_1
    with pytest.raises(ValueError, match="v1.1"):
        get_rules("v0.5")


def test_v1_1_minimums_and_limits():
    assert (
        V1_1.min_performance_sample_count["bert-99"] == 10833 and V1_1.min_performance_sample_count["3d-unet-99"] == 16
    )
    assert V1_1.latency_constraint_ns[("resnet", "Server")] == 15_000_000
    assert (
        V1_1.min_query_count[("dlrm-99", "Server")] == 270336
        and ("dlrm-99", "SingleStream") not in V1_1.min_query_count
    )
    assert (V1_1.offline_min_samples_per_query, V1_1.min_duration_ms, V1_1.max_accuracy_log_bytes) == (
        24576,
        600000,
        10240,
    )
    assert len(V1_1.system_required_fields) == 33 and len(V1_1.system_power_fields) == 14


def test_extra_model_mapping_returns_a_copy():
    r = V1_1.with_model_mapping({"my-net": "resnet"})
    assert r.mlperf_model("my-net") == "resnet" and V1_1.mlperf_model("my-net") == "my-net"


@pytest.mark.parametrize(
    "actual,required,optional,expected",
    [
        ([], ["a"], [], []),  # empty actual: nothing reported
        (["a"], [], [], []),
        (["a", "b", "mlperf_log_trace.json"], ["a", "b"], [], []),  # trace/results.json ignored
        (["a", "b", "c"], ["a", "b"], [], ["c"]),  # more than required: the extras
        (["a"], ["a", "b"], [], ["b"]),  # fewer: the missing
        (["a", "x"], ["a", "b"], [], ["b"]),  # equal counts: only missing reported
        (["a", "b", "opt"], ["a", "b"], ["opt"], []),  # optional removed first
    ],
)
def test_files_diff_semantics(actual, required, optional, expected):
    assert files_diff(actual, required, optional) == expected


@pytest.mark.parametrize(
    "cls,line,value",
    [
        ("resnet", "accuracy=76.064%, good=38032, total=50000", "76.064"),
        ("ssd-small", "mAP=22.914%", "22.914"),
        ("rnnt", "Word Error Rate: 7.44%, accuracy=92.5590%", "92.5590"),
        ("bert-99", '{"exact_match": 83.018, "f1": 90.254}', "90.254"),
        ("dlrm-99", "AUC=80.185%, accuracy=96.608%, good=1, total=2, queries=3", "80.185"),
        ("3d-unet-99", "Accuracy: mean = 0.85403, whole tumor = 0.9142", "0.85403"),
    ],
)
def test_accuracy_line_patterns(cls, line, value):
    text = f"header\r\n{line}\r\nhash={'a' * 64}\r\n"
    assert scan_accuracy_txt(text, V1_1.accuracy[cls], V1_1.hash_pattern) == (value, "a" * 64)


def test_accuracy_scan_keeps_the_last_value_until_both_are_found():
    rule = V1_1.accuracy["resnet"]
    text = "accuracy=1.0%\naccuracy=2.0%\nhash=abc\naccuracy=3.0%\n"
    assert scan_accuracy_txt(text, rule, V1_1.hash_pattern) == ("2.0", "abc")
    assert scan_accuracy_txt("accuracy=5%\nhash=abc \n", rule, V1_1.hash_pattern) == ("5", None)  # trailing space
    assert scan_accuracy_txt("  accuracy=5%\n", rule, V1_1.hash_pattern) == (None, None)  # match from line start


def test_json_object_reader_tolerates_a_bom_and_names_the_file():
    assert parse_json_object(b'\xef\xbb\xbf{"a": 1}', "s.json") == {"a": 1}
    with pytest.raises(TreeFileError, match="s.json: invalid JSON"):
        parse_json_object(b'{"a": ', "s.json")
    with pytest.raises(TreeFileError, match="expected a JSON object"):
        parse_json_object(b"[]", "s.json")
    with pytest.raises(TreeFileError, match="UTF-8"):
        parse_json_object(b'{"a": "\xff"}', "s.json")


def test_detail_reader_accepts_crlf_and_rejects_bad_lines():
    line = ':::MLLOG {"key": "result_validity", "value": "VALID", "metadata": {"is_error": false}}'
    log = parse_detail_bytes(f"noise\r\n{line}\r\n".encode(), "d.txt")
    assert log["result_validity"] == "VALID" and log.line_numbers == [2]
    with pytest.raises(LogFormatError) as e:
        parse_detail_bytes(f'{line}\n:::MLLOG {{"key": "x"'.encode(), "d.txt")
    assert e.value.where == "2" and e.value.path == "d.txt"
    with pytest.raises(LogFormatError, match="UTF-8"):
        parse_detail_bytes(b":::MLLOG \xff\n", "d.txt")


def test_tree_listing_follows_symlinks_sorts_and_counts_reads(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "link")
    os.symlink(tmp_path / "gone", tmp_path / "broken")
    (tmp_path / "f.txt").write_text("xy")
    t = Tree(tmp_path)
    assert t.list_dirs("") == ["a", "b", "link", "real"]
    assert t.list_files("") == ["f.txt"]
    assert t.list_dirs("missing") == [] and t.list_files("f.txt") == []
    assert t.read_bytes("f.txt") == b"xy" and t.read_bytes("f.txt") == b"xy"
    assert t.stats.bytes_read == 4 and t.stats.read_more_than_once() == ["f.txt"]
    assert "found 'F.TXT'" not in t.case_hint("", "f.txt")
    (tmp_path / "Accuracy.txt").write_text("")
    assert t.case_hint("", "accuracy.txt") == ""  # a directory is listed once per run: later changes are not seen
    assert Tree(tmp_path).case_hint("", "accuracy.txt") == " (found 'Accuracy.txt'; names are case-sensitive)"
    assert t.stats.listings[""] == 1 and t.stats.listed_more_than_once() == []


@pytest.mark.parametrize(
    "body",
    [
        '{"key": "k", "value": 1}',
        '  {"key": "k", "value": 1}  ',
        '{"key": "k", "value": 1}\t',
        '{"key": "k", "value": [1,',
        '{"key": "k", "value": 1} {"key": "k", "value": 2}',
        '{"key": "k"}',
        "[1, 2]",
        '{"key": 3, "value": 1}',
        '{"key": "k", "value": NaN}',
        '\ufeff{"key": "k", "value": 1}',
        '{"key": "k", "value": "a\\u00e9"}',
        "",
        '{"key": "k", "value": 1}\x0c',
        '{"key": "k", "value": tru}',
    ],
)
def test_fast_detail_parser_accepts_exactly_what_the_reference_reader_accepts(body):
    from edgeperf.loadgen.logs.readers import parse_detail_lines

    data = f"first line\n:::MLLOG {body}\n"
    try:
        ref = parse_detail_lines(data.split("\n"), "d.txt")
    except LogFormatError as exc:
        with pytest.raises(LogFormatError) as mine:
            parse_detail_bytes(data.encode(), "d.txt")
        assert (mine.value.where, mine.value.message) == (exc.where, exc.message) == ("2", exc.message)
    else:
        mine = parse_detail_bytes(data.encode(), "d.txt")
        assert mine.records == ref.records and mine.line_numbers == ref.line_numbers == [2]
