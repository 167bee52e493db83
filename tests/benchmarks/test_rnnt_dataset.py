"""LibriSpeech dev-clean loading for RNN-T (spec benchmarks.md §7.a, §7.g): the manifest, the 15 s
filter and index mapping, transcript normalisation, WAV/FLAC audio, the QSL, and the errors a user
can cause (each naming the file and what was expected)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("soundfile")

from audio_fixtures import (  # noqa: E402
    CLIPS,
    KEPT_POSITIONS,
    SUMMARY_LINE,
    TRANSCRIPTS,
    clip_path,
    clip_signal,
    make_librispeech,
    manifest_entry,
)
from edgeperf.datasets.base import DatasetError  # noqa: E402
from edgeperf.datasets.librispeech import (  # noqa: E402
    LABELS,
    AudioQSL,
    LibrispeechDataset,
    english_cleaners,
    find_manifest,
    normalize_transcript,
    read_audio,
    read_manifest,
    transcript_indices,
)


@pytest.fixture(scope="module")
def speech_dir(tmp_path_factory) -> Path:
    return make_librispeech(tmp_path_factory.mktemp("speech"))


def _write_manifest(folder: Path, entries) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dev-clean-wav.json"
    path.write_text(entries if isinstance(entries, str) else json.dumps(entries))
    return path


# -- the manifest --------------------------------------------------------------------------------


def test_utterances_over_15_s_are_dropped_and_indices_follow_the_manifest(speech_dir):
    ds = LibrispeechDataset(speech_dir)
    assert len(ds) == 4
    assert [e.position for e in ds.entries] == list(KEPT_POSITIONS)
    assert [ds.transcript(i) for i in range(4)] == list(TRANSCRIPTS)
    assert [p.name for p in ds.paths] == [Path(clip_path(CLIPS[k])).name for k in KEPT_POSITIONS]
    assert ds.paths[3].suffix == ".flac"  # the manifest may name FLAC files too
    assert ds.summary_line == SUMMARY_LINE
    manifest = ds.manifest
    assert manifest.duration_s == pytest.approx(1 + 2 + 3 + 1.234)
    assert manifest.filtered_duration_s == pytest.approx(15.5)


def test_duration_filter_is_strictly_greater_than_15_s(tmp_path):
    entries = [manifest_entry(CLIPS[0]) for _ in range(3)]
    entries[0]["original_duration"] = 15.0
    entries[1]["original_duration"] = 15.000001
    entries[2]["original_duration"] = 14.995
    manifest = read_manifest(_write_manifest(tmp_path, entries))
    assert [e.position for e in manifest.entries] == [0, 2]


def test_summary_line_rounds_hours_to_two_places(tmp_path):
    """The line the reference QSL prints: 4.36 h kept and 1.02 h filtered on the real dev-clean."""
    entries = [manifest_entry(CLIPS[0]) for _ in range(1048)]
    for entry in entries[:1047]:
        entry["original_duration"] = 15.0  # 4.3625 h
    entries[1047]["original_duration"] = 3672.0  # 1.02 h, filtered
    manifest = read_manifest(_write_manifest(tmp_path, entries))
    assert manifest.summary_line() == "Dataset loaded with 4.36 hours. Filtered 1.02 hours. Number of samples: 1047"


def test_dataset_may_be_named_by_its_manifest_file(speech_dir):
    ds = LibrispeechDataset(speech_dir / "dev-clean-wav.json")
    assert len(ds) == 4 and ds.paths[0].is_file()
    assert find_manifest(speech_dir) == (speech_dir / "dev-clean-wav.json", speech_dir)


def test_count_keeps_the_first_samples(speech_dir):
    ds = LibrispeechDataset(speech_dir, count=2)
    assert len(ds) == 2 and ds.transcript(1) == TRANSCRIPTS[1]
    assert ds.summary_line == SUMMARY_LINE  # the whole manifest, as the accuracy script reads it


# -- transcripts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("dr. smith paid $5 & left", "doctor smith paid five dollars and left"),
        ("HE SAID 'NO' TO MR. JONES", "he said 'no' to mister jones"),
        (
            "it cost $3.50 in 1984, not 2005",
            "it cost three dollars fifty cents in nineteen eighty four not two thousand five",
        ),
        ("the 21st of 1,200 men - 007 + co.", "the twenty first of twelve hundred men zero zero seven plus company"),
        ("café  déjà-vu!", "cafe deja vu"),
        ("1900 and 1905 or 2019", "nineteen hundred and nineteen oh five or twenty nineteen"),
        ("101st street, 3.14 miles", "one hundred and first street three point fourteen miles"),
    ],
)
def test_transcript_normalisation(raw, normalised):
    assert normalize_transcript(raw) == normalised


def test_labels_and_indices():
    assert LABELS[0] == " " and LABELS[1] == "a" and LABELS[26] == "z" and LABELS[27] == "'" and len(LABELS) == 28
    assert transcript_indices("hi") == [8, 9]
    assert transcript_indices("it's a") == [9, 20, 27, 19, 0, 1]
    assert english_cleaners("A  +  B") == "a plus b"


# -- audio ---------------------------------------------------------------------------------------


def test_audio_is_float32_int16_over_32768(speech_dir):
    ds = LibrispeechDataset(speech_dir)
    for i, k in enumerate(KEPT_POSITIONS):
        wave = ds.waveform(i)
        assert wave.dtype == np.float32 and wave.ndim == 1
        np.testing.assert_array_equal(wave, clip_signal(CLIPS[k]).astype(np.float32) / 32768)


def test_flac_originals_stand_in_for_missing_wavs(tmp_path):
    root = make_librispeech(tmp_path, librispeech_flac=(1,))
    ds = LibrispeechDataset(root)
    assert ds.paths[1] == root / "LibriSpeech/dev-clean/2277/149896/2277-149896-0001.flac"
    np.testing.assert_array_equal(ds.waveform(1), clip_signal(CLIPS[1]).astype(np.float32) / 32768)


def test_stereo_is_averaged(tmp_path):
    import soundfile as sf

    left = clip_signal(CLIPS[0])
    right = (left // 2).astype(np.int16)
    sf.write(str(tmp_path / "stereo.wav"), np.stack([left, right], axis=1), 16000, subtype="PCM_16")
    wave = read_audio(tmp_path / "stereo.wav")
    np.testing.assert_allclose(wave, (left.astype(np.float32) + right.astype(np.float32)) / 2 / 32768, atol=1e-7)


# -- the QSL -------------------------------------------------------------------------------------


def test_audio_qsl_keeps_variable_length_waveforms(speech_dir):
    ds = LibrispeechDataset(speech_dir)
    qsl = AudioQSL(ds, 4, name="rnnt-QSL")
    assert (qsl.name, qsl.total_sample_count, qsl.performance_sample_count) == ("rnnt-QSL", 4, 4)
    qsl.load_samples_to_ram([3, 0, 0, 2])
    assert qsl.loaded_count == 3 and qsl.is_loaded(0) and not qsl.is_loaded(1)
    assert [qsl.get(i).shape[0] for i in (0, 2, 3)] == [16000, 48000, 19744]
    first = qsl.get(0)
    qsl.load_samples_to_ram([0])
    assert qsl.get(0) is first  # loaded once
    qsl.unload_samples_from_ram([0, 1])
    assert qsl.loaded_count == 2
    with pytest.raises(KeyError, match="sample 0 of rnnt-QSL is not loaded"):
        qsl.get(0)
    with pytest.raises(IndexError, match="QSL index 4 out of range"):
        qsl.load_samples_to_ram([4])
    threaded = AudioQSL(ds, 4, workers=3)
    threaded.load_samples_to_ram(range(4))
    assert all(np.array_equal(threaded.get(i), ds.waveform(i)) for i in range(4))


# -- errors --------------------------------------------------------------------------------------


def test_missing_audio_names_the_file_and_the_entry(tmp_path):
    root = make_librispeech(tmp_path, missing=(3,))
    with pytest.raises(DatasetError) as info:
        LibrispeechDataset(root)
    message = str(info.value)
    assert message.startswith(f"audio file not found: {root / clip_path(CLIPS[3])}")
    assert "entry 3" in message and "dev-clean-wav.json" in message
    assert "LibriSpeech/dev-clean/2412/153948/2412-153948-0000.flac" in message  # what else was tried
    assert info.value.path == str(root / clip_path(CLIPS[3]))
    # the filtered-out clip may be missing: it is never read
    LibrispeechDataset(make_librispeech(tmp_path, name="other", missing=(2,)))


def test_wrong_sample_rate_names_the_file_and_16000(tmp_path):
    root = make_librispeech(tmp_path, rates={1: 8000})
    with pytest.raises(DatasetError) as info:
        LibrispeechDataset(root)  # headers are checked up front, before anything runs
    message = str(info.value)
    assert message.startswith(f"{root / clip_path(CLIPS[1])}: sample rate 8000 Hz, expected 16000 Hz")
    # and again when the audio itself is read (a file replaced after the dataset was opened)
    ds = LibrispeechDataset(root, check_files=False)
    with pytest.raises(DatasetError, match="sample rate 8000 Hz, expected 16000 Hz"):
        ds.waveform(1)
    with pytest.raises(DatasetError, match="expected 16000 Hz"):
        AudioQSL(ds, 4).load_samples_to_ram([0, 1])


def test_unreadable_and_too_short_audio(tmp_path):
    root = make_librispeech(tmp_path)
    target = root / clip_path(CLIPS[0])
    target.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(DatasetError) as info:
        LibrispeechDataset(root)
    assert str(info.value).startswith(f"{target}: cannot read the audio")
    assert "expected 16 kHz WAV or FLAC" in str(info.value)
    with pytest.raises(DatasetError, match="cannot read the audio"):
        read_audio(target)

    import soundfile as sf

    sf.write(str(target), np.zeros(200, np.int16), 16000, subtype="PCM_16")
    ds = LibrispeechDataset(root)
    with pytest.raises(DatasetError, match=r"200 samples; the reference's STFT needs more than 256"):
        ds.waveform(0)
    with pytest.raises(DatasetError, match="audio file not found"):
        read_audio(tmp_path / "nothing.wav")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[{", r"dev-clean-wav\.json:1: not valid JSON"),
        ('{"files": []}', "expected a JSON list of utterances, found a JSON dict"),
        ("[1]", "entry 0: expected an object, found int"),
        ('[{"files": [], "transcript": "a"}]', "entry 0: missing key 'original_duration'"),
        ('[{"files": [], "original_duration": 1.0, "transcript": "a"}]', "entry 0: 'files' must be a non-empty list"),
        (
            '[{"files": [{"fname": 3}], "original_duration": 1.0, "transcript": "a"}]',
            r"files\[0\]\.fname must be a non-empty string",
        ),
        (
            '[{"files": [{"fname": "a.wav"}], "original_duration": "long", "transcript": "a"}]',
            "'original_duration' must be a number of seconds, found 'long'",
        ),
        (
            '[{"files": [{"fname": "a.wav"}], "original_duration": 1.0, "transcript": 5}]',
            "'transcript' must be a string",
        ),
    ],
)
def test_malformed_manifests(tmp_path, content, expected):
    path = _write_manifest(tmp_path / "ds", content)
    with pytest.raises(DatasetError, match=expected) as info:
        LibrispeechDataset(tmp_path / "ds")
    assert str(path) in str(info.value)


def test_missing_manifest_and_folder(tmp_path):
    with pytest.raises(DatasetError, match=r"dataset not found: .*nowhere"):
        LibrispeechDataset(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"no manifest dev-clean-wav\.json \(JSON files found: none\)"):
        LibrispeechDataset(tmp_path / "empty")
