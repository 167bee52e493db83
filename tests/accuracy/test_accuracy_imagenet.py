"""Top-1 evaluator against what tools/accuracy-imagenet.py prints (spec benchmarks.md §3.e, §3.g)."""

from __future__ import annotations

import json
import re
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeperf.accuracy import (
    EVALUATORS,
    AccuracyError,
    evaluate_imagenet,
    read_val_map,
    write_accuracy_txt,
)
from edgeperf.loadgen.logs import AccuracyLog, LogFormatError

# the submission checker's pattern for resnet (spec submission.md §4.3), applied with re.match
RESNET_PATTERN = re.compile(r"^accuracy=([\d\.]+).*")

NAMES = [f"ILSVRC2012_val_{i:08d}.JPEG" for i in range(1, 6)]
LABELS = [65, 970, 230, 809, 516]


@pytest.fixture
def val_map(tmp_path):
    path = tmp_path / "val_map.txt"
    path.write_text("".join(f"{n} {lab}\n" for n, lab in zip(NAMES, LABELS)))
    return path


def write_log(path, records, fmt="<f"):
    """records: (qsl_idx, value or raw bytes); seq ids are the positions."""
    with AccuracyLog(path) as log:
        for seq, (idx, value) in enumerate(records):
            data = value if isinstance(value, bytes) else struct.pack(fmt, value)
            log.append(seq, idx, data)
    return path


def checker_value(lines):
    """What the v1.1 checker extracts: the last line matching the pattern."""
    acc = None
    for line in lines:
        m = RESNET_PATTERN.match(line)
        if m:
            acc = m.group(1)
    return acc


def test_all_correct(tmp_path, val_map):
    log = write_log(tmp_path / "log.json", list(enumerate(LABELS)))
    res = evaluate_imagenet(log, val_map)
    assert res.lines == ["accuracy=100.000%, good=5, total=5"]
    assert res.official_line == res.lines[0]
    assert res.metric == "top1"
    assert res.value == 100.0 and res.exact == 100.0
    assert res.details == {"good": 5, "total": 5, "dupes": 0, "records": 5}
    assert res.notes == []
    assert checker_value(res.lines) == "100.000"


def test_spec_hex_example(tmp_path, val_map):
    # label 65 as float32 is "00008242" (spec §3.d); the reader also takes lower-case hex
    log = tmp_path / "log.json"
    log.write_text(
        json.dumps(
            [
                {"seq_id": 0, "qsl_idx": 0, "data": "00008242"},
                {"seq_id": 1, "qsl_idx": 1, "data": struct.pack("<f", 970).hex()},
            ]
        )
    )
    assert evaluate_imagenet(log, val_map).official_line == "accuracy=100.000%, good=2, total=2"


def test_duplicate_and_wrong_label(tmp_path, val_map):
    records = [(0, 65), (1, 970), (2, 231), (0, 1), (3, 809), (4, 516)]  # qsl 0 again: ignored
    log = write_log(tmp_path / "log.json", records)
    res = evaluate_imagenet(log, val_map)
    assert res.lines == ["accuracy=80.000%, good=4, total=5"]
    assert res.details == {"good": 4, "total": 5, "dupes": 1, "records": 6}
    assert res.value == 80.0

    verbose = evaluate_imagenet(log, val_map, verbose=True)
    assert verbose.lines == [
        "ILSVRC2012_val_00000003.JPEG, expected: 230, found 231",
        "accuracy=80.000%, good=4, total=5",
        "found and ignored 1 dupes",
    ]
    assert checker_value(verbose.lines) == "80.000"


def test_first_record_of_a_duplicate_wins(tmp_path, val_map):
    log = write_log(tmp_path / "log.json", [(0, 1), (0, 65)])
    assert evaluate_imagenet(log, val_map).official_line == "accuracy=0.000%, good=0, total=1"


def test_rounding_and_value(tmp_path, val_map):
    log = write_log(tmp_path / "log.json", [(0, 65), (1, 970), (2, 0)])
    res = evaluate_imagenet(log, val_map)
    assert res.official_line == "accuracy=66.667%, good=2, total=3"
    assert res.value == 66.667  # what the checker compares
    assert res.exact == pytest.approx(200 / 3)


@pytest.mark.parametrize("dtype, fmt", [("int32", "<i"), ("int64", "<q")])
def test_integer_dtypes(tmp_path, val_map, dtype, fmt):
    log = write_log(tmp_path / "log.json", list(enumerate(LABELS)), fmt=fmt)
    assert evaluate_imagenet(log, val_map, dtype=dtype).official_line == "accuracy=100.000%, good=5, total=5"
    # read as float32 the same bytes are tiny denormals / garbage: nothing matches
    if dtype == "int32":
        assert evaluate_imagenet(log, val_map).official_line == "accuracy=0.000%, good=0, total=5"


def test_only_first_value_counts_and_float_truncates(tmp_path, val_map):
    data = struct.pack("<3f", 65.9, 1.0, 2.0)  # int(65.9) == 65
    log = write_log(tmp_path / "log.json", [(0, data)])
    assert evaluate_imagenet(log, val_map).official_line == "accuracy=100.000%, good=1, total=1"


def test_unknown_dtype(tmp_path, val_map):
    log = write_log(tmp_path / "log.json", [(0, 65)])
    with pytest.raises(ValueError, match="dtype"):
        evaluate_imagenet(log, val_map, dtype="float16")


def test_empty_data_is_an_error_naming_the_record(tmp_path, val_map):
    log = write_log(tmp_path / "log.json", [(0, 65), (3, b"")])
    with pytest.raises(AccuracyError) as err:
        evaluate_imagenet(log, val_map)
    msg = str(err.value)
    assert str(log) in msg and "seq_id 1" in msg and "qsl_idx 3" in msg and "empty" in msg


def test_qsl_idx_beyond_val_map(tmp_path, val_map):
    log = write_log(tmp_path / "log.json", [(0, 65), (5, 1)])
    with pytest.raises(AccuracyError) as err:
        evaluate_imagenet(log, val_map)
    assert "seq_id 1" in str(err.value) and "val_map.txt" in str(err.value)


def test_wrong_data_size(tmp_path, val_map):
    log = write_log(tmp_path / "log.json", [(0, b"\x00\x00\x82\x42\x00")])
    with pytest.raises(AccuracyError, match="not a whole number of int64"):
        evaluate_imagenet(log, val_map, dtype="int64")


def test_nan_prediction(tmp_path, val_map):
    log = write_log(tmp_path / "log.json", [(0, float("nan"))])
    with pytest.raises(AccuracyError, match="seq_id 0"):
        evaluate_imagenet(log, val_map)


def test_empty_log_reports_zero_with_a_note(tmp_path, val_map):
    log = write_log(tmp_path / "log.json", [])
    assert log.read_text() == "[\n]\n"
    res = evaluate_imagenet(log, val_map)
    assert res.official_line == "accuracy=0.000%, good=0, total=0"
    assert res.lines[-1] == res.official_line
    assert res.lines[0].startswith("edgeperf: ") and res.notes == [res.lines[0]]
    assert res.value == 0.0
    assert checker_value(res.lines) == "0.000"


def test_truncated_log_is_refused(tmp_path, val_map):
    log = tmp_path / "log.json"
    text = (
        "[\n"
        + ",\n".join(f'{{ "seq_id" : {i}, "qsl_idx" : {i % 5}, "data" : "00008242" }}' for i in range(400))
        + "\n]\n"
    )
    log.write_text(text[:4096] + "\n\n...\n\n" + text[-4096:])
    with pytest.raises(LogFormatError, match="truncated"):
        evaluate_imagenet(log, val_map)


def test_val_map_parsing(tmp_path):
    path = tmp_path / "val_map.txt"
    path.write_text("a.JPEG 1\n  b.JPEG\t2  \nc.JPEG 3 extra\n\n\n")
    assert read_val_map(path) == [("a.JPEG", 1), ("b.JPEG", 2), ("c.JPEG", 3)]

    path.write_text("a.JPEG 1\n\nb.JPEG 2\n")
    with pytest.raises(AccuracyError, match="line 2.*blank"):
        read_val_map(path)
    path.write_text("a.JPEG 1\nb.JPEG\n")
    with pytest.raises(AccuracyError, match="line 2"):
        read_val_map(path)
    path.write_text("a.JPEG one\n")
    with pytest.raises(AccuracyError, match="line 1.*'one'"):
        read_val_map(path)


def test_val_map_images_need_not_exist(tmp_path, val_map):
    # only val_map.txt is next to the log: no image files at all
    assert not any(p.suffix == ".JPEG" for p in tmp_path.iterdir())
    log = write_log(tmp_path / "log.json", [(4, 516)])
    assert evaluate_imagenet(log, val_map).value == 100.0


def test_registry_and_accuracy_txt(tmp_path, val_map):
    assert EVALUATORS["top1"] is evaluate_imagenet
    log = write_log(tmp_path / "log.json", [(0, 65), (0, 65), (1, 1)])
    res = EVALUATORS["top1"](log, val_map, verbose=True)
    out = write_accuracy_txt(res, tmp_path / "accuracy.txt")
    assert out.read_bytes() == (
        b"ILSVRC2012_val_00000002.JPEG, expected: 970, found 1\n"
        b"accuracy=50.000%, good=1, total=2\n"
        b"found and ignored 1 dupes\n"
    )
    assert res.text == out.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".accuracy")] == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 999)), max_size=30))
def test_counts_match_a_plain_model(tmp_path, val_map, records):
    log = write_log(tmp_path / "prop.json", records, fmt="<i")
    first: dict[int, int] = {}
    for idx, pred in records:
        first.setdefault(idx, pred)
    good = sum(LABELS[i] == p for i, p in first.items())
    res = evaluate_imagenet(log, val_map, dtype="int32")
    assert res.details["good"] == good and res.details["total"] == len(first)
    assert res.details["dupes"] == len(records) - len(first)
    if first:
        assert res.official_line == f"accuracy={100 * good / len(first):.3f}%, good={good}, total={len(first)}"
        assert float(RESNET_PATTERN.match(res.official_line).group(1)) == res.value
