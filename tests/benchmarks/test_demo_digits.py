"""The shipped demo-digits benchmark: its files, its recorded accuracy, its evaluator, its data set."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from edgeperf.benchmarks.demo_digits import DATA_DIR, demo_dataset_path, demo_model_path, demo_model_record
from edgeperf.benchmarks.registry import get_benchmark
from edgeperf.datasets.base import DatasetError


def test_shipped_files_match_the_hashes_recorded_beside_them():
    record = json.loads((DATA_DIR / "model.json").read_text())
    for name, digest in record["sha256"].items():
        assert hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest() == digest, name
    assert (DATA_DIR / "model.onnx").stat().st_size < 100_000  # a small committed file


def test_recorded_accuracy_is_the_onnx_models_top1_on_the_shipped_held_out_images():
    ort = pytest.importorskip("onnxruntime")
    with np.load(DATA_DIR / "digits.npz") as data:
        images, labels = data["images"], data["labels"]
    sess = ort.InferenceSession(str(demo_model_path()), providers=["CPUExecutionProvider"])
    pred = sess.run(["label"], {"input": (images.astype(np.float32) / 16.0)[:, None]})[0]
    accuracy = 100.0 * np.mean(pred == labels)
    record = demo_model_record()
    assert record["held_out_accuracy"] == round(accuracy, 3)
    assert record["held_out_images"] == len(labels) >= 1024  # the resnet class's performance set


def test_quality_target_is_99_percent_of_the_recorded_accuracy():
    bench = get_benchmark("demo-digits")
    record = demo_model_record()
    assert bench.quality.metric == "top1" and bench.quality.fraction == 0.99
    assert bench.quality.threshold == pytest.approx(0.99 * record["held_out_accuracy"])
    assert bench.division == "open" and bench.checker_model == "resnet"


def test_val_map_lists_the_npz_labels_in_order():
    with np.load(DATA_DIR / "digits.npz") as data:
        labels = data["labels"].tolist()
    lines = (DATA_DIR / "val_map.txt").read_text().splitlines()
    assert [int(line.split()[1]) for line in lines] == labels


def test_shipped_images_are_the_held_out_part_of_the_training_scripts_split():
    pytest.importorskip("sklearn")
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "tools" / "train_demo_model.py"
    spec = importlib.util.spec_from_file_location("train_demo_model", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x_train, x_test, y_train, y_test = module.split()
    with np.load(DATA_DIR / "digits.npz") as data:
        assert np.array_equal(data["images"], x_test) and np.array_equal(data["labels"], y_test)
    assert len(x_train) + len(x_test) == 1797  # scikit-learn's digits, split without overlap


def _accuracy_log(path, records):
    entries = [
        {"seq_id": i, "qsl_idx": q, "data": np.array([p], "<f4").tobytes().hex().upper()}
        for i, (q, p) in enumerate(records)
    ]
    path.write_text(json.dumps(entries))
    return path


def test_evaluator_prints_the_imagenet_style_line(tmp_path):
    bench = get_benchmark("demo-digits")
    labels = [int(line.split()[1]) for line in (DATA_DIR / "val_map.txt").read_text().splitlines()]
    wrong = (labels[2] + 1) % 10
    log = _accuracy_log(
        tmp_path / "mlperf_log_accuracy.json",
        [(0, labels[0]), (1, labels[1]), (2, wrong), (3, labels[3]), (0, labels[0])],
    )
    result = bench.evaluate(log, demo_dataset_path())
    assert result.official_line == "accuracy=75.000%, good=3, total=4"
    assert result.value == 75.0


def test_postprocess_writes_one_float32_label_per_sample():
    bench = get_benchmark("demo-digits")
    out = bench.postprocess({"label": np.array([7, 0, 9], dtype=np.int64)}, np.array([10, 11, 12]))
    assert [np.frombuffer(b, "<f4").tolist() for b in out] == [[7.0], [0.0], [9.0]]


def test_dataset_preprocessing_and_errors(tmp_path):
    bench = get_benchmark("demo-digits")
    data = bench.open_dataset(demo_dataset_path(), layout="NCHW", count=5)
    assert len(data) == 5
    with np.load(DATA_DIR / "digits.npz") as raw:
        first = raw["images"][0]
    sample = data.preprocessed(0)
    assert sample.shape == (1, 8, 8) and sample.dtype == np.float32
    assert np.array_equal(sample[0], first.astype(np.float32) / 16)
    with pytest.raises(DatasetError, match="digits.npz: not found"):
        bench.open_dataset(tmp_path, layout="NCHW")
    (tmp_path / "digits.npz").write_bytes(b"not an archive")
    with pytest.raises(DatasetError, match="not a digits archive"):
        bench.open_dataset(tmp_path, layout="NCHW")
