"""Issue 15 item 9: ``edgeperf datasets`` and ``edgeperf dataset prepare librispeech|coco|squad``.

Tiny inputs in the real formats (FLAC + trans.txt, COCO JSON + JPEGs, a 30 522-line vocabulary)
are built here; the expected outputs follow from the reference's rules (spec benchmarks.md §5.a,
§7.a, §8.a), computed independently.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from edgeperf.cli.main import build_command


def cli(*args):
    return CliRunner().invoke(build_command(), [str(a) for a in args])


def test_datasets_lists_layout_source_and_commands_for_every_benchmark(tmp_path):
    from edgeperf.benchmarks.registry import all_benchmarks

    r = cli("datasets", "--json", tmp_path / "d.json")
    assert r.exit_code == 0
    doc = json.loads((tmp_path / "d.json").read_text())
    assert (doc["format"], doc["format_version"]) == ("edgeperf-datasets", 1)
    covered = {b for d in doc["datasets"] for b in d["benchmarks"]}
    assert covered == {b.name for b in all_benchmarks()}
    assert "val_map.txt" in r.output and "dev-clean-wav.json" in r.output
    assert "edgeperf dataset prepare brats" in r.output and "edgeperf fetch librispeech" in r.output
    assert "http://www.openslr.org/resources/12/dev-clean.tar.gz" in r.output


def _flac_tree(root, utterances):
    sf = pytest.importorskip("soundfile")
    by_chapter = {}
    for uid, samples, text in utterances:
        spk, chap, _ = uid.split("-")
        folder = root / spk / chap
        folder.mkdir(parents=True, exist_ok=True)
        sf.write(str(folder / f"{uid}.flac"), samples, 16000, subtype="PCM_16", format="FLAC")
        by_chapter.setdefault(folder / f"{spk}-{chap}.trans.txt", []).append(f"{uid} {text}")
    for path, lines in by_chapter.items():
        path.write_text("\n".join(lines) + "\n")


def test_prepare_librispeech_writes_wavs_and_the_manifest(tmp_path):
    sf = pytest.importorskip("soundfile")
    rng = np.random.default_rng(0)
    a = (rng.integers(-3000, 3000, 16000 * 2)).astype(np.int16)  # 2.0 s
    b = (rng.integers(-3000, 3000, 8000)).astype(np.int16)  # 0.5 s
    src = tmp_path / "LibriSpeech" / "dev-clean"
    _flac_tree(src, [("84-121123-0001", b, "GO DO YOU HEAR"), ("84-121123-0000", a, "  HELLO WORLD ")])
    r = cli("dataset", "prepare", "librispeech", src, tmp_path / "out")
    assert r.exit_code == 0, r.output
    manifest = json.loads((tmp_path / "out" / "dev-clean-wav.json").read_text())
    assert [m["files"][0]["fname"] for m in manifest] == [
        "dev-clean-wav/84/121123/84-121123-0000.wav",
        "dev-clean-wav/84/121123/84-121123-0001.wav",
    ]
    first = manifest[0]
    assert first["transcript"] == "hello world"
    assert first["original_num_samples"] == 32000 and first["original_duration"] == pytest.approx(2.0)
    f = first["files"][0]
    assert (f["channels"], f["sample_rate"], f["bitrate"], f["encoding"], f["speed"]) == (
        1,
        16000.0,
        16,
        "Signed Integer PCM",
        1,
    )
    data, rate = sf.read(str(tmp_path / "out" / f["fname"]), dtype="int16")
    info = sf.info(str(tmp_path / "out" / f["fname"]))
    assert rate == 16000 and info.format == "WAV" and info.subtype == "PCM_16"
    assert np.array_equal(data, a)  # lossless
    # the result is what `edgeperf run rnnt --dataset` reads
    from edgeperf.datasets.librispeech import LibrispeechDataset

    ds = LibrispeechDataset(tmp_path / "out")
    assert len(ds) == 2 and ds.transcript(1) == "go do you hear"


def test_prepare_librispeech_errors_are_one_line(tmp_path):
    r = cli("dataset", "prepare", "librispeech", tmp_path / "nowhere", tmp_path / "out")
    assert r.exit_code == 2 and "does not exist" in r.output and "Traceback" not in r.output


def test_prepare_coco_resizes_images_and_rescales_annotations(tmp_path):
    cv2 = pytest.importorskip("cv2")
    src = tmp_path / "coco"
    (src / "val2017").mkdir(parents=True)
    (src / "annotations").mkdir()
    img = np.zeros((40, 60, 3), np.uint8)
    img[:, :30] = (0, 0, 255)
    cv2.imwrite(str(src / "val2017" / "000000000001.jpg"), img)
    gray = np.full((20, 20), 128, np.uint8)
    cv2.imwrite(str(src / "val2017" / "000000000002.jpg"), gray)
    ann = {
        "info": {},
        "categories": [{"id": 1, "name": "x"}],
        "images": [
            {"id": 1, "file_name": "000000000001.jpg", "width": 60, "height": 40},
            {"id": 2, "file_name": "000000000002.jpg", "width": 20, "height": 20},
        ],
        "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "bbox": [6, 4, 30, 20], "area": 600, "iscrowd": 0}],
    }
    (src / "annotations" / "instances_val2017.json").write_text(json.dumps(ann))
    r = cli("dataset", "prepare", "coco", src, tmp_path / "out", "--size", "120")
    assert r.exit_code == 0, r.output
    out = json.loads((tmp_path / "out" / "annotations" / "instances_val2017.json").read_text())
    assert [i["file_name"] for i in out["images"]] == ["000000000001.png", "000000000002.png"]
    assert all((i["width"], i["height"]) == (120, 120) for i in out["images"])
    (a,) = out["annotations"]
    assert a["bbox"] == pytest.approx([6 * 2, 4 * 3, 30 * 2, 20 * 3]) and a["area"] == pytest.approx(600 * 2 * 3)
    resized = cv2.imread(str(tmp_path / "out" / "val2017" / "000000000001.png"))
    expected = cv2.resize(
        cv2.imread(str(src / "val2017" / "000000000001.jpg")), (120, 120), interpolation=cv2.INTER_LINEAR
    )
    assert np.array_equal(resized, expected)
    assert cv2.imread(str(tmp_path / "out" / "val2017" / "000000000002.png")).shape == (120, 120, 3)


def _vocab(n=30522, specials=True):
    tokens = [f"tok{i}" for i in range(n)]
    if specials:
        tokens[0], tokens[100], tokens[101], tokens[102], tokens[103] = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
    return "\n".join(tokens) + "\n"


def _squad(questions=3):
    qas = [{"id": str(i), "question": "q?", "answers": [{"text": "a", "answer_start": 0}]} for i in range(questions)]
    return json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": "a b", "qas": qas}]}]})


def test_prepare_squad_checks_the_vocabulary(tmp_path):
    (tmp_path / "vocab.txt").write_text(_vocab())
    (tmp_path / "dev-v1.1.json").write_text(_squad())
    r = cli("dataset", "prepare", "squad", tmp_path)
    assert r.exit_code == 0, r.output
    assert "30522 tokens" in r.output and "3 questions in 1 articles" in r.output
    assert "the official dev set has 10570 in 48" in r.output
    (tmp_path / "vocab.txt").write_text(_vocab(n=30000))
    r = cli("dataset", "prepare", "squad", tmp_path)
    assert r.exit_code == 1 and "30000 tokens, expected 30522" in r.output
    (tmp_path / "vocab.txt").write_text(_vocab(specials=False))
    r = cli("dataset", "prepare", "squad", tmp_path)
    assert r.exit_code == 1 and "[CLS] at line None, expected line 102 (id 101)" in r.output
