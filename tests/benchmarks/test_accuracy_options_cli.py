"""``edgeperf accuracy`` exposes the official accuracy scripts' options (issue 10 item 5).

Expected lines follow the official r1.1 scripts: accuracy-imagenet.py (``--dtype``, ``--verbose``),
accuracy-coco.py (``--use-inv-map``, ``--remove-48-empty-images``), accuracy-squad.py
(``--output_dtype``, ``--max_examples``) and the RNN-T accuracy_eval.py (``--output_dtype``).
"""

from __future__ import annotations

import numpy as np
import pytest

from vision_fixtures import (
    coco_detections,
    write_accuracy_log,
    COCO_ANNOTATIONS,
    COCO_CATEGORIES,
    COCO_EMPTY_IMAGE_ID,
    COCO_IMAGES,
    IMAGENET_LABELS,
)


# -- ImageNet --------------------------------------------------------------------------------------


def test_imagenet_dtype(cli, tmp_path, imagenet_dir):
    records = [(i, np.int32(label).tobytes()) for i, label in enumerate(IMAGENET_LABELS)]
    log = write_accuracy_log(tmp_path / "int32.json", records)
    result = cli("accuracy", "resnet50", "--log", log, "--dataset", imagenet_dir, "--dtype", "int32")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["accuracy=100.000%, good=5, total=5"]
    # the official default, float32, reads those 4 bytes as a tiny float: int() gives 0 everywhere
    default = cli("accuracy", "resnet50", "--log", log, "--dataset", imagenet_dir)
    assert default.output.splitlines() == ["accuracy=0.000%, good=0, total=5"]


def test_imagenet_verbose(cli, tmp_path, imagenet_dir):
    names = [line.split()[0] for line in (imagenet_dir / "val_map.txt").read_text().splitlines()]
    labels = list(IMAGENET_LABELS)
    labels[3] = 7
    records = [(i, np.float32(label).tobytes()) for i, label in enumerate(labels)]
    records.append((0, np.float32(labels[0]).tobytes()))  # a duplicate
    log = write_accuracy_log(tmp_path / "verbose.json", records)
    result = cli("accuracy", "resnet50", "--log", log, "--dataset", imagenet_dir, "--verbose")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{names[3]}, expected: {IMAGENET_LABELS[3]}, found 7",
        "accuracy=80.000%, good=4, total=5",
        "found and ignored 1 dupes",
    ]


# -- COCO ------------------------------------------------------------------------------------------


def test_coco_inverse_map_can_be_set_either_way(cli, tmp_path, coco_dir):
    # ssd-resnet34 maps labels by default; a log already in COCO ids is scored with --no-inv-map
    coco_ids = [(i, coco_detections(i, image, contiguous=False)) for i, image in enumerate(COCO_IMAGES)]
    log = write_accuracy_log(tmp_path / "coco-ids.json", coco_ids)
    result = cli("accuracy", "ssd-resnet34", "--log", log, "--dataset", coco_dir, "--no-inv-map")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "mAP=100.000%"
    # ssd-mobilenet does not by default; contiguous labels need --use-inv-map
    contiguous = [(i, coco_detections(i, image, contiguous=True)) for i, image in enumerate(COCO_IMAGES)]
    log = write_accuracy_log(tmp_path / "contiguous.json", contiguous)
    result = cli("accuracy", "ssd-mobilenet", "--log", log, "--dataset", coco_dir, "--use-inv-map")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "mAP=100.000%"
    wrong = cli("accuracy", "ssd-mobilenet", "--log", log, "--dataset", coco_dir)
    assert wrong.output.splitlines()[-1] != "mAP=100.000%"


def test_coco_remove_48_empty_images(cli, tmp_path, coco_dir):
    # indices count only the annotated images, in the official script's order: per category the
    # images of its annotations, then list(set(...)) of those ids
    ids = [a["image_id"] for c in COCO_CATEGORIES for a in COCO_ANNOTATIONS if a["category_id"] == c["id"]]
    by_id = {image["id"]: image for image in COCO_IMAGES}
    annotated = [by_id[i] for i in list(set(ids))]
    assert COCO_EMPTY_IMAGE_ID not in by_id or all(im["id"] != COCO_EMPTY_IMAGE_ID for im in annotated)
    records = [(i, coco_detections(i, image, contiguous=False)) for i, image in enumerate(annotated)]
    log = write_accuracy_log(tmp_path / "no-empty.json", records)
    result = cli("accuracy", "ssd-mobilenet", "--log", log, "--dataset", coco_dir, "--remove-48-empty-images")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "mAP=100.000%"


# -- options a benchmark's script does not have -----------------------------------------------------


def test_an_option_of_another_script_is_refused_in_one_line(cli, tmp_path, imagenet_dir):
    log = write_accuracy_log(tmp_path / "x.json", [(0, np.float32(1).tobytes())])
    result = cli("accuracy", "resnet50", "--log", log, "--dataset", imagenet_dir, "--max_examples", "3")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "--max_examples" in lines[0] and "resnet50" in lines[0] and "bert" in lines[0]
    result = cli("accuracy", "ssd-mobilenet", "--log", log, "--dataset", imagenet_dir, "--dtype", "int32")
    assert result.exit_code == 2 and "--dtype" in result.output and "resnet50" in result.output


def test_help_documents_the_deliberate_differences(cli):
    text = " ".join(cli("accuracy", "--help").output.split())
    for flag in (
        "--dtype",
        "--output_dtype",
        "--max_examples",
        "--use-inv-map",
        "--remove-48-empty-images",
        "--verbose",
    ):
        assert flag in text
    assert "N-1" in text  # the official --max_examples quirk
    assert "8 bytes" in text  # the official RNN-T int32


# -- RNN-T -------------------------------------------------------------------------------------------


def test_rnnt_output_dtype_int32_is_four_bytes(cli, tmp_path):
    pytest.importorskip("soundfile")
    pytest.importorskip("unidecode")
    from audio_fixtures import TRANSCRIPTS, make_librispeech

    from edgeperf.datasets.librispeech import transcript_indices

    speech = make_librispeech(tmp_path)
    records = [(i, np.asarray(transcript_indices(t), np.int32).tobytes()) for i, t in enumerate(TRANSCRIPTS)]
    log = write_accuracy_log(tmp_path / "int32.json", records)
    result = cli("accuracy", "rnnt", "--log", log, "--dataset", speech, "--output_dtype", "int32")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "Word Error Rate: 0.0%, accuracy=100.0%"


# -- BERT ----------------------------------------------------------------------------------------------


def test_bert_float16_logits_and_max_examples(cli, tmp_path):
    pytest.importorskip("tokenizers")
    from squad_fixtures import make_squad, oracle_logits

    from edgeperf.datasets.squad import SquadDataset

    squad = make_squad(tmp_path / "data")
    ds = SquadDataset(squad)
    payloads = []
    for f, (start, end) in enumerate(oracle_logits(ds)):
        if int(ds.features.example_index[f]) >= 5:  # questions 6.. get no answer at all
            start, end = np.zeros_like(start), np.zeros_like(end)
        payloads.append(np.stack([start, end], axis=-1).astype("<f2").tobytes())
    log = write_accuracy_log(tmp_path / "fp16.json", list(enumerate(payloads)))
    perfect = '{"exact_match": 100.0, "f1": 100.0}'
    result = cli(
        "accuracy", "bert-99", "--log", log, "--dataset", squad, "--output_dtype", "float16", "--max_examples", "5"
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == perfect
    everything = cli("accuracy", "bert-99", "--log", log, "--dataset", squad, "--output_dtype", "float16")
    assert everything.exit_code == 0, everything.output
    assert everything.output.splitlines()[-1] != perfect
