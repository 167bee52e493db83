"""The RNN-T word error rate (spec benchmarks.md §7.e, §1.2-1.3): corpus-level WER over every log
record, the official line with Python's full float formatting, and errors naming the record."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from audio_fixtures import SUMMARY_LINE, TRANSCRIPTS, make_librispeech
from edgeperf.accuracy import EVALUATORS
from edgeperf.accuracy.base import AccuracyError
from edgeperf.accuracy.wer import LABELS, evaluate_wer, levenshtein, wer_line, word_error_rate
from edgeperf.datasets.librispeech import LABELS as DATASET_LABELS
from edgeperf.datasets.librispeech import transcript_indices


def _log(path: Path, records, dtype="<i8") -> Path:
    """An accuracy log from ``[(qsl_idx, label indices or raw bytes)]`` (spec §1.2 fixture writer)."""
    entries = []
    for seq_id, (qsl_idx, data) in enumerate(records):
        raw = data if isinstance(data, bytes) else np.asarray(data, dtype=dtype).tobytes()
        entries.append({"seq_id": seq_id, "qsl_idx": qsl_idx, "data": raw.hex().upper()})
    path.write_text(json.dumps(entries))
    return path


def _indices(text: str) -> list[int]:
    return transcript_indices(text)


@pytest.fixture(scope="module")
def speech_dir(tmp_path_factory) -> Path:
    return make_librispeech(tmp_path_factory.mktemp("speech-acc"))


def test_perfect_transcripts_score_zero_wer(tmp_path, speech_dir):
    log = _log(tmp_path / "log.json", [(i, _indices(t)) for i, t in enumerate(TRANSCRIPTS)])
    result = evaluate_wer(log, speech_dir)
    assert result.lines == [SUMMARY_LINE, "Word Error Rate: 0.0%, accuracy=100.0%"]
    assert result.official_line == "Word Error Rate: 0.0%, accuracy=100.0%"
    assert result.metric == "wer" and result.value == 100.0
    assert result.details == {"wer": 0.0, "errors": 0, "words": 17, "records": 4}
    assert EVALUATORS["wer"] is evaluate_wer


def test_one_substituted_word_in_five(tmp_path):
    log = _log(tmp_path / "log.json", [(0, _indices("the quick brown cat jumps"))])
    result = evaluate_wer(log, ["the quick brown fox jumps"])
    assert result.official_line == "Word Error Rate: 20.0%, accuracy=80.0%"


def test_corpus_level_not_a_mean_of_utterance_rates(tmp_path, speech_dir):
    # sample 0 "hello world": one word wrong (1/2); the other 15 words right: 1/17, not (1/2)/4
    records = [
        (0, _indices("hello there")),
        (1, _indices(TRANSCRIPTS[1])),
        (2, _indices(TRANSCRIPTS[2])),
        (3, _indices(TRANSCRIPTS[3])),
    ]
    result = evaluate_wer(_log(tmp_path / "log.json", records), speech_dir)
    assert result.official_line == f"Word Error Rate: {1 / 17 * 100}%, accuracy={(1 - 1 / 17) * 100}%"
    assert result.official_line == "Word Error Rate: 5.88235294117647%, accuracy=94.11764705882352%"


def test_every_record_counts_duplicates_included(tmp_path, speech_dir):
    records = [(0, _indices("hello")), (0, _indices("hello world")), (1, _indices(TRANSCRIPTS[1]))]
    result = evaluate_wer(_log(tmp_path / "log.json", records), speech_dir)
    assert result.details["words"] == 2 + 2 + 5 and result.details["errors"] == 1
    assert result.details["records"] == 3


def test_insertions_deletions_and_spacing(tmp_path):
    assert levenshtein("a b c".split(), "a c".split()) == 1
    assert levenshtein([], "x y z".split()) == 3
    assert levenshtein("kitten sitting".split(), "sitting kitten".split()) == 2
    assert word_error_rate(["a  b   c"], ["a b c"]) == (0.0, 0, 3)  # words are whitespace-split
    assert word_error_rate(["x"], [""]) == (float("inf"), 1, 0)
    # an empty hypothesis (empty response bytes) deletes every word
    log = _log(tmp_path / "log.json", [(0, b""), (1, _indices("quick brown fox jumps over"))])
    result = evaluate_wer(log, ["hello world", "the quick brown fox jumps"])
    assert result.details["errors"] == 2 + 2
    assert result.official_line == f"Word Error Rate: {4 / 7 * 100}%, accuracy={(1 - 4 / 7) * 100}%"


def test_the_official_line_uses_full_float_precision():
    # the real v1.1 line: 3304 errors in the 44 349 words of the 2 513 utterances; the accuracy is
    # (1 - wer) * 100, whose last digit differs from 100 - wer * 100 here
    wer = 3304 / 44349
    assert wer_line(wer) == "Word Error Rate: 7.449998872578862%, accuracy=92.55000112742113%"
    assert f"{100 - wer * 100}" == "92.55000112742114"
    assert wer_line(3305 / 44349) == "Word Error Rate: 7.452253714852645%, accuracy=92.54774628514735%"


def test_empty_log_and_no_reference_words(tmp_path):
    (tmp_path / "empty.json").write_text("[\n]\n")
    result = evaluate_wer(tmp_path / "empty.json", ["a"])
    assert result.official_line == "Word Error Rate: inf%, accuracy=-inf%"  # the reference's 0-word case
    assert result.value == float("-inf")


def test_the_reference_hex_example_and_other_dtypes(tmp_path):
    log = tmp_path / "log.json"
    log.write_text('[{"seq_id": 0, "qsl_idx": 0, "data": "08000000000000000900000000000000"}]')
    assert evaluate_wer(log, ["hi"]).official_line == "Word Error Rate: 0.0%, accuracy=100.0%"
    log16 = _log(tmp_path / "log16.json", [(0, _indices("hi there"))], dtype="<i2")
    assert evaluate_wer(log16, ["hi there"], output_dtype="int16").value == 100.0
    with pytest.raises(ValueError, match="output_dtype must be one of int8, int16, int32, int64"):
        evaluate_wer(log16, ["hi"], output_dtype="uint8")


def test_label_sets_agree():
    assert LABELS == DATASET_LABELS


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([(9, [1])], r"seq_id 0 \(qsl_idx 9\): qsl_idx is outside the manifest \(4 utterances"),
        ([(0, b"\x01\x02\x03")], r"3 data bytes are not a whole number of int64 values \(8 bytes each\)"),
        ([(1, [8, 28])], r"seq_id 0 \(qsl_idx 1\): label index 28 is not one of the 28 labels"),
        ([(1, [-1])], r"label index -1 is not one of the 28 labels"),
    ],
)
def test_bad_records_name_the_log_and_the_record(tmp_path, speech_dir, records, message):
    log = _log(tmp_path / "bad.json", records)
    with pytest.raises(AccuracyError, match=message) as info:
        evaluate_wer(log, speech_dir)
    assert str(info.value).startswith(str(log))


def test_the_submission_checker_reads_the_line():
    """The v1.1 checker's WER pattern finds the accuracy in edgeperf's line (and in the QSL line, nothing)."""
    import re

    from edgeperf.benchmarks import get_benchmark
    from edgeperf.submission.rules import _PATTERNS

    pattern = re.compile(_PATTERNS["WER"])
    line = wer_line(3304 / 44349)
    assert float(pattern.match(line).group(1)) == pytest.approx(92.55000112742113)
    assert pattern.match(SUMMARY_LINE) is None
    assert float(pattern.match(line).group(1)) >= get_benchmark("rnnt").quality.threshold
