"""``edgeperf run rnnt`` end to end through the CLI (spec benchmarks.md §7, §10-11).

The real chain runs: the LibriSpeech fixture (WAV and FLAC, one clip over 15 s) → manifest and
15 s filter → AudioQSL (waveforms) → reference filterbank features in the runner → the torch
backend with a small random RNN-T loaded from an official-format checkpoint → greedy decoding →
int64 responses → LoadGen logs → the WER evaluator → accuracy.txt.

Oracle runs replace the model with a backend that answers each utterance's ground-truth label
indices, looked up by the content of its *features*: the run must print a perfect WER, and one
wrong word must cost exactly one error in the corpus.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("soundfile")
pytest.importorskip("librosa")

from audio_fixtures import CLIPS, SUMMARY_LINE, TRANSCRIPTS, clip_path, make_librispeech, small_rnnt, write_checkpoint  # noqa: E402
from conftest import LOG_FILES  # noqa: E402
from edgeperf.accuracy.wer import decode_labels, word_error_rate  # noqa: E402
from edgeperf.backends import register_backend  # noqa: E402
from edgeperf.benchmarks import get_benchmark  # noqa: E402
from edgeperf.datasets.librispeech import LibrispeechDataset, transcript_indices  # noqa: E402
from edgeperf.models.rnnt import transcribe  # noqa: E402
from edgeperf.testing.oracle import OracleBackend, content_key  # noqa: E402

#: Short runs: a few queries of a model that takes ~1-200 ms per utterance.
RNNT_USER_CONF = """\
rnnt.*.min_duration = 100
rnnt.*.min_query_count = 8
rnnt.SingleStream.target_latency = 20
rnnt.Offline.target_qps = 40
"""
PERFECT = "Word Error Rate: 0.0%, accuracy=100.0%"
HEADLINES = {"SingleStream": "90th percentile latency (ns) : ", "Offline": "Samples per second: "}


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """The dataset, a small RNN-T checkpoint, its model and a user.conf."""
    root = tmp_path_factory.mktemp("rnnt-run")
    model = small_rnnt()
    conf = root / "user.conf"
    conf.write_text(RNNT_USER_CONF)
    return {
        "dataset": make_librispeech(root),
        "checkpoint": write_checkpoint(root / "rnnt.pt", model),
        "model": model,
        "conf": conf,
        "root": root,
    }


@pytest.fixture(scope="module")
def expected_tokens(speech) -> dict[int, list[int]]:
    """What the model answers for each sample, computed directly (features → transcribe)."""
    ds = LibrispeechDataset(speech["dataset"])
    return {i: transcribe(speech["model"], ds.preprocessed(i)) for i in range(len(ds))}


def _run(cli, speech, out, scenario, mode, *extra, dataset=None, model=None):
    # One intra-op thread: the decoder's tiny per-symbol ops only lose time to thread hand-offs,
    # badly so on a busy two-core machine.
    threads = () if "--threads" in extra else ("--threads", "1")
    return cli(
        "run",
        "rnnt",
        "--scenario",
        scenario,
        "--mode",
        mode,
        "--model",
        model or speech["checkpoint"],
        "--dataset",
        dataset or speech["dataset"],
        "--user-conf",
        speech["conf"],
        "--output",
        out,
        *threads,
        *extra,
    )


def _detail(out: Path) -> list[dict]:
    lines = (out / "mlperf_log_detail.txt").read_text().splitlines()
    return [json.loads(line.split(":::MLLOG ", 1)[1]) for line in lines if line.startswith(":::MLLOG ")]


def _detail_value(out: Path, key: str):
    return next(r["value"] for r in _detail(out) if r["key"] == key)


def _entries(out: Path) -> list[dict]:
    return json.loads((out / "mlperf_log_accuracy.json").read_text())


def _tokens(entry: dict) -> list[int]:
    return np.frombuffer(bytes.fromhex(entry["data"]), "<i8").tolist()


@pytest.mark.parametrize("scenario", ["SingleStream", "Offline"])
def test_performance_mode(cli, speech, tmp_path, scenario):
    out = tmp_path / "out"
    result = _run(cli, speech, out, scenario, "performance")
    assert result.exit_code == 0, result.output
    for name in LOG_FILES:
        assert (out / name).is_file(), name
    summary = (out / "mlperf_log_summary.txt").read_text()
    assert f"Scenario : {scenario}" in summary and "Mode     : PerformanceOnly" in summary
    assert "SUT name : edgeperf-rnnt-torch" in summary
    headline = next(line for line in summary.splitlines() if line.startswith(HEADLINES[scenario]))
    assert headline in result.output
    assert re.search(r"^Result is : (VALID|INVALID)$", summary, re.M)
    errors = [r["value"] for r in _detail(out) if r["metadata"]["is_error"]]
    assert [e for e in errors if not e.startswith("Ending early: Ran out of generated queries")] == []
    # mlperf.conf's rnnt.*.performance_sample_count_override (the QSL has only 4 samples)
    assert _detail_value(out, "effective_performance_sample_count") == 2513
    assert _detail_value(out, "requested_min_query_count") == 8
    assert _entries(out) == [] and not (out / "accuracy.txt").exists()
    assert (out / "report.html").is_file()


@pytest.mark.parametrize("scenario", ["SingleStream", "Offline"])
def test_accuracy_mode(cli, speech, expected_tokens, tmp_path, scenario):
    out = tmp_path / "out"
    result = _run(cli, speech, out, scenario, "accuracy")
    assert result.exit_code == 0, result.output
    entries = _entries(out)
    assert sorted(e["qsl_idx"] for e in entries) == [0, 1, 2, 3]
    # each response is the model's greedy transcript of the utterance, as int64
    for e in entries:
        assert _tokens(e) == expected_tokens[e["qsl_idx"]]
        assert len(e["data"]) == 16 * len(expected_tokens[e["qsl_idx"]])
    hypotheses = [decode_labels(expected_tokens[i]) for i in range(4)]
    wer = word_error_rate(hypotheses, list(TRANSCRIPTS))[0]
    official = f"Word Error Rate: {wer * 100}%, accuracy={(1 - wer) * 100}%"
    assert (out / "accuracy.txt").read_text() == f"{SUMMARY_LINE}\n{official}\n"
    assert official in result.output.splitlines()
    assert "Result is" not in result.output


def test_batch_size_workers_and_max_samples(cli, speech, expected_tokens, tmp_path):
    out = tmp_path / "out"
    result = _run(
        cli,
        speech,
        out,
        "Offline",
        "accuracy",
        "--batch-size",
        "3",
        "--workers",
        "2",
        "--threads",
        "1",
        "--max-samples",
        "3",
    )
    assert result.exit_code == 0, result.output
    entries = _entries(out)
    assert sorted(e["qsl_idx"] for e in entries) == [0, 1, 2]
    assert all(_tokens(e) == expected_tokens[e["qsl_idx"]] for e in entries)


# -- oracle runs --------------------------------------------------------------------------------


def _register_oracle(name: str, dataset: Path, transcripts: dict[int, str] | None = None) -> str:
    """A backend answering sample i's transcript (default: the ground truth) for sample i's features."""
    ds = LibrispeechDataset(dataset)
    transcripts = transcripts or {}
    table = {
        content_key(ds.preprocessed(i)): {
            "tokens": np.array(transcript_indices(transcripts.get(i, ds.transcript(i))), np.int64)
        }
        for i in range(len(ds))
    }
    signature = get_benchmark("rnnt").signature

    def factory(threads=None):
        return OracleBackend.from_table(signature, "features", table)

    register_backend(name, factory, replace=True)
    return name


@pytest.mark.parametrize("scenario", ["SingleStream", "Offline"])
def test_oracle_is_perfect_and_one_wrong_word_costs_one_error(cli, speech, tmp_path, scenario):
    backend = _register_oracle("test-oracle-rnnt", speech["dataset"])
    out = tmp_path / "perfect"
    result = _run(cli, speech, out, scenario, "accuracy", "--backend", backend)
    assert result.exit_code == 0, result.output
    assert (out / "accuracy.txt").read_text().splitlines() == [SUMMARY_LINE, PERFECT]
    assert PERFECT in result.output.splitlines()
    by_index = {e["qsl_idx"]: e["data"] for e in _entries(out)}
    assert by_index == {
        i: np.array(transcript_indices(t), "<i8").tobytes().hex().upper() for i, t in enumerate(TRANSCRIPTS)
    }

    wrong = _register_oracle("test-oracle-rnnt-wrong", speech["dataset"], {1: "the quick brown cat jumps"})
    out = tmp_path / "one-wrong"
    result = _run(cli, speech, out, scenario, "accuracy", "--backend", wrong)
    assert result.exit_code == 0, result.output
    # one substitution among the 17 reference words of the four kept utterances
    expected = f"Word Error Rate: {1 / 17 * 100}%, accuracy={(1 - 1 / 17) * 100}%"
    assert expected == "Word Error Rate: 5.88235294117647%, accuracy=94.11764705882352%"
    assert (out / "accuracy.txt").read_text().splitlines()[-1] == expected

    # edgeperf accuracy re-scores the log with the same lines
    rescored = cli("accuracy", "rnnt", "--log", out / "mlperf_log_accuracy.json", "--dataset", speech["dataset"])
    assert rescored.exit_code == 0, rescored.output
    assert rescored.output.splitlines() == [SUMMARY_LINE, expected]


# -- errors a user can cause --------------------------------------------------------------------


def _one_line_error(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


def test_missing_audio_file(cli, speech, tmp_path):
    dataset = make_librispeech(tmp_path, missing=(1,))
    out = tmp_path / "out"
    result = _run(cli, speech, out, "Offline", "accuracy", dataset=dataset)
    assert result.exit_code == 2
    line = _one_line_error(result)
    assert line.startswith(f"edgeperf: audio file not found: {dataset / clip_path(CLIPS[1])}")
    assert not out.exists()  # nothing half-written


def test_wrong_sample_rate(cli, speech, tmp_path):
    dataset = make_librispeech(tmp_path, rates={3: 22050})
    out = tmp_path / "out"
    result = _run(cli, speech, out, "SingleStream", "performance", dataset=dataset)
    assert result.exit_code == 2
    line = _one_line_error(result)
    assert line == (
        f"edgeperf: {dataset / clip_path(CLIPS[3])}: sample rate 22050 Hz, expected 16000 Hz "
        "(the reference does not resample LibriSpeech; convert the file to 16 kHz)"
    )
    assert not out.exists()


def test_model_errors(cli, speech, tmp_path):
    from edgeperf.models.rnnt import RNNTConfig, build_rnnt

    junk = tmp_path / "junk.pt"
    junk.write_text("not a checkpoint")
    result = _run(cli, speech, tmp_path / "a", "Offline", "performance", model=junk)
    assert result.exit_code == 2
    assert _one_line_error(result).startswith(f"edgeperf: model file '{junk}': torch cannot read it")

    narrow = write_checkpoint(
        tmp_path / "narrow.pt",
        build_rnnt(RNNTConfig(in_features=80, encoder_hidden=8, pred_hidden=8, joint_hidden=8), seed=0),
    )
    result = _run(cli, speech, tmp_path / "b", "Offline", "performance", model=narrow)
    assert result.exit_code == 2
    assert f"model '{narrow}' does not match the expected signature" in result.output
    assert "input features: expected 240 (80 mel bands x 3 spliced frames), found 80" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_listed_with_its_target(cli):
    result = cli("benchmarks")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.split("\t")[0] == "rnnt")
    assert "wer >= 91.6225%" in row and "1000 ms" in row and "2513/2513" in row
