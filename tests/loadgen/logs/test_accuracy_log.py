"""AccuracyLog writer and the streaming reader (spec §12.3), checked against real v1.1 logs."""

from __future__ import annotations

import io
import json
import threading

import numpy as np
import pytest
from fixture_paths import require_fixtures

from edgeperf.loadgen.logs import (
    TRUNCATION_MARKER,
    TruncatedLogError,
    AccuracyLog,
    LogFormatError,
    iter_accuracy_log,
    read_accuracy_log,
)
from edgeperf.loadgen.logs import accuracy as accuracy_module


FIX = require_fixtures()
ALIBABA_SS_ACC = FIX / "closed/Alibaba/results/T4x1_TRT/ssd-mobilenet/SingleStream/accuracy/mlperf_log_accuracy.json"
ALIBABA_SS_PERF = (
    FIX / "closed/Alibaba/results/T4x1_TRT/ssd-mobilenet/SingleStream/performance/run_1/mlperf_log_accuracy.json"
)
# The only complete (not truncated) non-empty logs of the subset:
EDGECORTIX_FULL = (
    FIX
    / "closed/Edgecortix/compliance/edgecortix-DNA_F_SERIES/resnet50/SingleStream/run/performance/run_1/mlperf_log_accuracy.json"
)
CTUNING_FULL = (
    FIX / "closed/cTuning/results/rpi4-tvm-fp32/resnet50/singlestream/performance/run_1/mlperf_log_accuracy.json"
)
KRAI_TRUNCATED = (
    FIX / "closed/Krai/results/firefly-tflite-v2.5.0-ruy/resnet50/offline/accuracy/mlperf_log_accuracy.json"
)


def _write(path, records):
    with AccuracyLog(path) as log:
        for seq_id, qsl_idx, hex_data in records:
            log.append(seq_id, qsl_idx, bytes.fromhex(hex_data))


# -- writer ------------------------------------------------------------------------------------


def test_empty_log(tmp_path):
    AccuracyLog(tmp_path / "a.json").close()
    assert (tmp_path / "a.json").read_bytes() == b"[\n]\n"
    assert ALIBABA_SS_PERF.read_bytes() == b"[\n]\n"  # what LoadGen left in a performance run


def test_layout_of_spec_section_12_3(tmp_path):
    with AccuracyLog(tmp_path / "a.json") as log:
        log.append(0, 4497, b"\x00\x88\x8c\x45")
        log.append(7, 3, b"")
    assert (tmp_path / "a.json").read_bytes() == (
        b'[\n{ "seq_id" : 0, "qsl_idx" : 4497, "data" : "00888C45" },'
        b'\n{ "seq_id" : 7, "qsl_idx" : 3, "data" : "" }\n]\n'
    )


@pytest.mark.parametrize("path", [EDGECORTIX_FULL, CTUNING_FULL], ids=["edgecortix", "ctuning"])
def test_rewriting_complete_real_logs_is_byte_identical(tmp_path, path):
    records = list(iter_accuracy_log(path))
    assert len(records) > 100
    out = tmp_path / "mlperf_log_accuracy.json"
    _write(out, records)
    assert out.read_bytes() == path.read_bytes()


def test_rewriting_the_truncated_alibaba_log_matches_both_kept_ends(tmp_path):
    """The published Alibaba SingleStream accuracy log keeps only 4096 bytes at each end.

    Rewriting its complete records must reproduce the head up to the last complete record and
    the tail from the first complete record, byte for byte.
    """
    original = ALIBABA_SS_ACC.read_text(encoding="ascii")
    head, tail = original.split(TRUNCATION_MARKER)
    records = list(iter_accuracy_log(ALIBABA_SS_ACC, allow_truncated=True))
    # §12.3 / Appendix B: the first record
    assert records[0][:2] == (0, 4497)
    assert records[0][2].startswith("00888C45") and records[0][2].endswith("0000803F")
    assert records[-1][:2] == (4999, 4617)
    out = tmp_path / "mlperf_log_accuracy.json"
    _write(out, records)
    written = out.read_text(encoding="ascii")
    kept_head = head[: head.rindex("}") + 1]
    kept_tail = tail[tail.index("{") :]
    assert written.startswith(kept_head)
    assert written.endswith(kept_tail)
    assert written.endswith('" }\n]\n')
    # and nothing else: the records in between are exactly one ",\n" apart
    assert written == kept_head + ",\n" + kept_tail


def test_hex_is_uppercase_and_encoded_in_bounded_slices(tmp_path, monkeypatch):
    sizes = []
    real = accuracy_module.binascii.hexlify

    def spy(data):
        sizes.append(len(data))
        return real(data)

    monkeypatch.setattr(accuracy_module.binascii, "hexlify", spy)
    big = np.random.default_rng(1).integers(0, 256, size=3 * (1 << 20) + 5, dtype=np.uint8)
    with AccuracyLog(tmp_path / "a.json") as log:
        log.append(1, 2, big)
    assert max(sizes) <= 1 << 20 and sum(sizes) == big.nbytes and len(sizes) == 4
    ((seq, idx, data),) = list(iter_accuracy_log(tmp_path / "a.json"))
    assert (seq, idx) == (1, 2)
    assert data == big.tobytes().hex().upper()


def test_any_buffer_is_accepted(tmp_path):
    arr = np.array([1.0, -2.5], dtype=np.float32)
    with AccuracyLog(tmp_path / "a.json") as log:
        log.append(0, 0, arr)
        log.append(1, 1, memoryview(b"\xab\xcd"))
        log.append(2, 2, bytearray(b"\x01"))
        log.append(3, 3, np.arange(4, dtype=np.int16).reshape(2, 2))
    got = [d for _, _, d in iter_accuracy_log(tmp_path / "a.json")]
    assert got == [arr.tobytes().hex().upper(), "ABCD", "01", np.arange(4, dtype=np.int16).tobytes().hex().upper()]


def test_concurrent_appends_give_valid_json(tmp_path):
    path = tmp_path / "a.json"
    log = AccuracyLog(path)

    def worker(t):
        for j in range(500):
            log.append(t * 1000 + j, j, bytes([t, j % 256]) * 50)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    doc = json.loads(path.read_text())
    assert len(doc) == 4000 == log.record_count
    assert {r["seq_id"] for r in doc} == {t * 1000 + j for t in range(8) for j in range(500)}
    assert all(r["data"] == (bytes([r["seq_id"] // 1000, r["qsl_idx"] % 256]) * 50).hex().upper() for r in doc)


def test_append_after_close_raises_and_close_is_idempotent(tmp_path):
    log = AccuracyLog(tmp_path / "a.json")
    log.close()
    log.close()
    with pytest.raises(ValueError):
        log.append(0, 0, b"")
    assert (tmp_path / "a.json").read_bytes() == b"[\n]\n"


def test_writer_on_a_binary_stream():
    stream = io.BytesIO()
    log = AccuracyLog(stream)
    log.append(5, 6, b"\xff")
    log.close()
    assert not stream.closed
    assert stream.getvalue() == b'[\n{ "seq_id" : 5, "qsl_idx" : 6, "data" : "FF" }\n]\n'


# -- reader ------------------------------------------------------------------------------------


def test_reader_refuses_a_truncated_log_unless_asked(tmp_path):
    with pytest.raises(LogFormatError, match="truncated") as info:
        list(iter_accuracy_log(ALIBABA_SS_ACC))
    assert str(ALIBABA_SS_ACC) in str(info.value)


@pytest.mark.parametrize("streamed", [False, True])
def test_a_truncated_log_is_refused_with_its_own_type(tmp_path, monkeypatch, streamed):
    """Callers tell a truncated log from a malformed one by type (TruncatedLogError), not by text,
    whether the file is read whole (small) or scanned in chunks."""
    chunk_size = 64
    if streamed:
        monkeypatch.setattr(accuracy_module, "_SMALL_FILE", 0)
    head = '[\n{ "seq_id" : 0, "qsl_idx" : 3, "data" : "0A" },\n{ "seq_id" : 1, "qsl_idx" : 4, "data" : "0B" }'
    path = tmp_path / "mlperf_log_accuracy.json"
    path.write_text(head + TRUNCATION_MARKER + '{ "seq_id" : 9, "qsl_idx" : 2, "data" : "0C" }\n]\n')
    with pytest.raises(TruncatedLogError):
        list(iter_accuracy_log(path, chunk_size=chunk_size))
    malformed = tmp_path / "malformed.json"
    malformed.write_text(head + ' "oops" ]\n')
    with pytest.raises(LogFormatError) as info:
        list(iter_accuracy_log(malformed, chunk_size=chunk_size))
    assert not isinstance(info.value, TruncatedLogError)


def test_reader_reads_the_krai_json_dump_layout():
    """Krai's logs are json.dump(indent=2, sort_keys=True): other spacing and key order."""
    text = KRAI_TRUNCATED.read_text()
    assert text.startswith('[\n  {\n    "data": "0000D243",\n    "qsl_idx": 45777,\n    "seq_id": 0\n  },')
    records = read_accuracy_log(KRAI_TRUNCATED, allow_truncated=True)
    assert records[0] == {"seq_id": 0, "qsl_idx": 45777, "data": "0000D243"}
    assert records[1] == {"seq_id": 1, "qsl_idx": 7598, "data": "0080F143"}
    assert records[-1] == {"seq_id": 49999, "qsl_idx": 37055, "data": "0080A043"}
    # every complete object of both kept ends, no more
    head, tail = text.split(TRUNCATION_MARKER)
    expected = head.count("}") + tail[tail.index("{") :].count("}")
    assert len(records) == expected


def test_reader_matches_json_on_every_real_log():
    checked = 0
    for path in sorted(FIX.rglob("mlperf_log_accuracy.json")):
        text = path.read_text()
        if TRUNCATION_MARKER in text:
            continue
        assert read_accuracy_log(path) == json.loads(text), path
        checked += 1
    assert checked >= 20


def test_streaming_reader_on_a_large_file(tmp_path):
    path = tmp_path / "big.json"
    rng = np.random.default_rng(7)
    payloads = [rng.integers(0, 256, size=n, dtype=np.uint8).tobytes() for n in (3, 0, 2 * (1 << 20) + 1, 17, 700_000)]
    with AccuracyLog(path) as log:
        for i, p in enumerate(payloads):
            log.append(i, 100 + i, p)
    assert path.stat().st_size > 1 << 20  # takes the streaming path
    got = list(iter_accuracy_log(path, chunk_size=4096))
    assert got == [(i, 100 + i, p.hex().upper()) for i, p in enumerate(payloads)]


def test_streaming_reader_accepts_other_spacing_and_key_order(tmp_path):
    records = [{"data": "AB" * (300_000 + i), "qsl_idx": i, "seq_id": 10 - i} for i in range(4)]
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(records, indent=3, sort_keys=True) + "\n\n")
    assert path.stat().st_size > 1 << 20
    got = read_accuracy_log(path)
    assert got == [{"seq_id": r["seq_id"], "qsl_idx": r["qsl_idx"], "data": r["data"]} for r in records]


def test_escaped_quotes_inside_strings_do_not_end_a_record(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('[{"note": "a \\"}\\" b\\\\", "seq_id": 1, "qsl_idx": 2, "data": "0A"}]')
    assert list(iter_accuracy_log(path)) == [(1, 2, "0A")]


def test_small_odd_files_fall_back_to_json(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('[{"seq_id": 1, "qsl_idx": 2, "data": "0A", "extra": {"nested": [1]}}]')
    assert list(iter_accuracy_log(path)) == [(1, 2, "0A")]


@pytest.mark.parametrize(
    "text, match",
    [
        ('[\n{ "seq_id" : 0, "qsl_idx" : 1, "data" : "00" }', "ends|expected"),
        ('{"seq_id": 0}', "start|array"),
        ('[{"seq_id": 0, "qsl_idx": 1}]', '"data"'),
        ('[{"seq_id": "0", "qsl_idx": 1, "data": "00"}]', "integer"),
        ('[\n{ "seq_id" : 0, "qsl_idx" : 1, "data" : "00" }\n]\nx', "after"),
    ],
)
def test_malformed_logs_raise_log_format_error_naming_the_file(tmp_path, text, match):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(LogFormatError, match=match) as info:
        list(iter_accuracy_log(path))
    assert str(path) in str(info.value)
