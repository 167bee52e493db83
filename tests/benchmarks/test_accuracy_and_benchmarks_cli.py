"""``edgeperf accuracy`` prints the official line for a log; ``edgeperf benchmarks`` lists the three
vision benchmarks with their quality targets (spec benchmarks.md §3.e, §4.e, §5.e)."""

from __future__ import annotations

import numpy as np

from vision_fixtures import coco_detections, write_accuracy_log, COCO_IMAGES, IMAGENET_LABELS


def test_accuracy_imagenet_line(cli, tmp_path, imagenet_dir):
    labels = list(IMAGENET_LABELS)
    labels[3] = 0  # one wrong
    records = [(i, np.float32(label).tobytes()) for i, label in enumerate(labels)]
    records.append((3, np.float32(IMAGENET_LABELS[3]).tobytes()))  # a duplicate: ignored, first kept
    log = write_accuracy_log(tmp_path / "mlperf_log_accuracy.json", records)
    result = cli("accuracy", "resnet50", "--log", log, "--dataset", imagenet_dir)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["accuracy=80.000%, good=4, total=5"]


def test_accuracy_ssd_mobilenet_and_resnet34_lines(cli, tmp_path, coco_dir):
    for benchmark, contiguous in (("ssd-mobilenet", False), ("ssd-resnet34", True)):
        records = [(i, coco_detections(i, image, contiguous)) for i, image in enumerate(COCO_IMAGES)]
        log = write_accuracy_log(tmp_path / f"{benchmark}.json", records)
        out = tmp_path / f"{benchmark}-accuracy.txt"
        result = cli("accuracy", benchmark, "--log", log, "--dataset", coco_dir, "--output", out)
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[-1] == "mAP=100.000%"
        # pycocotools' 12-line table precedes it, as the reference script prints it
        assert sum(line.startswith(" Average Precision") for line in lines) == 6
        assert sum(line.startswith(" Average Recall") for line in lines) == 6
        assert out.read_text().splitlines() == lines


def test_accuracy_contiguous_labels_need_the_inverse_map(cli, tmp_path, coco_dir):
    """A SSD-ResNet34 log (labels 1..4) scored as SSD-MobileNet (COCO ids) is not perfect."""
    records = [(i, coco_detections(i, image, True)) for i, image in enumerate(COCO_IMAGES)]
    log = write_accuracy_log(tmp_path / "contiguous.json", records)
    result = cli("accuracy", "ssd-mobilenet", "--log", log, "--dataset", coco_dir)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] != "mAP=100.000%"


def test_accuracy_errors(cli, tmp_path, imagenet_dir):
    result = cli("accuracy", "resnet50", "--log", tmp_path / "missing.json", "--dataset", imagenet_dir)
    assert result.exit_code != 0
    assert "missing.json" in result.output and "Traceback" not in result.output
    result = cli("accuracy", "resnet5", "--log", tmp_path / "missing.json", "--dataset", imagenet_dir)
    assert result.exit_code != 0
    assert "unknown benchmark 'resnet5'; known benchmarks: " in result.output
    known = result.output.split("known benchmarks: ")[1].strip().split(", ")
    assert {"resnet50", "ssd-mobilenet", "ssd-resnet34"} <= set(known) and known == sorted(known)
    bad = tmp_path / "bad.json"
    bad.write_text('[\n{ "seq_id" : 0, "qsl_idx" : 9, "data" : "0000803F" }\n]\n')
    result = cli("accuracy", "resnet50", "--log", bad, "--dataset", imagenet_dir)
    assert result.exit_code != 0
    assert "qsl_idx 9" in result.output and "Traceback" not in result.output


def test_benchmarks_lists_the_three_with_their_targets(cli):
    result = cli("benchmarks")
    assert result.exit_code == 0, result.output
    # off a terminal: one tab-separated line per benchmark (issue 15: nothing cut)
    rows = {
        name: next(line for line in result.output.splitlines() if line.split("\t")[0] == name)
        for name in ("resnet50", "ssd-mobilenet", "ssd-resnet34")
    }
    assert "75.6954" in rows["resnet50"] and "top1" in rows["resnet50"]
    assert "21.78" in rows["ssd-mobilenet"] and "coco_map" in rows["ssd-mobilenet"]
    assert "19.8" in rows["ssd-resnet34"] and "coco_map" in rows["ssd-resnet34"]
    assert "15 ms" in rows["resnet50"] and "10 ms" in rows["ssd-mobilenet"] and "100 ms" in rows["ssd-resnet34"]
    assert "1024" in rows["resnet50"] and "256" in rows["ssd-mobilenet"] and "64" in rows["ssd-resnet34"]
    for row in rows.values():
        assert "SingleStream" in row and "Offline" in row
