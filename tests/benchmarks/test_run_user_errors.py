"""Errors a user of ``edgeperf run`` will hit: one clear message naming what is wrong, a non-zero
exit, no traceback, and nothing written to the output folder."""

from __future__ import annotations

from pathlib import Path

import pytest


def _run(cli, out: Path, *, benchmark="resnet50", model, dataset, user_conf=None, scenario="Offline"):
    args = ["run", benchmark, "--scenario", scenario, "--model", model, "--dataset", dataset, "--output", out]
    if user_conf is not None:
        args += ["--user-conf", user_conf]
    return cli(*args)


def _message(result) -> list[str]:
    assert result.exit_code not in (0, None), result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines and lines[0].startswith("edgeperf: "), result.output
    assert lines[0] in result.stderr.splitlines()  # on stderr, unwrapped
    return lines


def test_missing_model_file(cli, tmp_path, imagenet_dir):
    out = tmp_path / "out"
    result = _run(cli, out, model=tmp_path / "resnet50_v1.onnx", dataset=imagenet_dir)
    lines = _message(result)
    assert len(lines) == 1
    assert "resnet50_v1.onnx" in lines[0] and "no such file" in lines[0]
    assert not out.exists()


def test_model_with_other_tensors_names_them(cli, tmp_path, imagenet_dir, models):
    out = tmp_path / "out"
    result = _run(cli, out, model=models["ssd-mobilenet"], dataset=imagenet_dir)
    lines = _message(result)
    assert "ssd-mobilenet.onnx" in lines[0] and "does not match" in lines[0]
    text = "\n".join(lines)
    for name in ("input_tensor:0", "ArgMax:0", "image_tensor:0"):  # expected and found tensors
        assert f"'{name}'" in text
    assert "float32[?,3,224,224]" in text and "uint8[N,300,300,3]" in text
    assert not out.exists()


def test_model_with_wrong_dtype_names_tensor_and_dtypes(cli, tmp_path, coco_dir, models):
    """The ResNet34 stand-in (float32 NCHW 1200x1200) given to ssd-mobilenet (uint8 NHWC 300x300)."""
    out = tmp_path / "out"
    result = _run(cli, out, benchmark="ssd-mobilenet", model=models["ssd-resnet34"], dataset=coco_dir)
    text = "\n".join(_message(result))
    assert "'image_tensor:0'" in text and "'image'" in text and "'num_detections:0'" in text
    assert not out.exists()


def test_missing_dataset_folder(cli, tmp_path, models):
    out = tmp_path / "out"
    result = _run(cli, out, model=models["resnet50"], dataset=tmp_path / "ILSVRC2012_val")
    lines = _message(result)
    assert len(lines) == 1
    assert "ILSVRC2012_val" in lines[0] and "does not exist" in lines[0]
    assert not out.exists()


def test_dataset_folder_without_its_list_file(cli, tmp_path, models):
    out = tmp_path / "out"
    (tmp_path / "empty").mkdir()
    result = _run(cli, out, model=models["resnet50"], dataset=tmp_path / "empty")
    lines = _message(result)
    assert len(lines) == 1 and "val_map.txt" in lines[0]
    result = _run(cli, out, benchmark="ssd-mobilenet", model=models["ssd-mobilenet"], dataset=tmp_path / "empty")
    lines = _message(result)
    assert len(lines) == 1 and "instances_val2017.json" in lines[0]
    assert not out.exists()


def test_unknown_benchmark_lists_the_known_ones(cli, tmp_path, imagenet_dir, models):
    out = tmp_path / "out"
    result = _run(cli, out, benchmark="resnet-50", model=models["resnet50"], dataset=imagenet_dir)
    lines = _message(result)
    assert len(lines) == 1 and lines[0].startswith("edgeperf: unknown benchmark 'resnet-50'; known benchmarks: ")
    known = lines[0].split("known benchmarks: ")[1].split(", ")
    assert {"resnet50", "ssd-mobilenet", "ssd-resnet34"} <= set(known)
    assert not out.exists()


@pytest.mark.parametrize(
    "text, line, expected",
    [
        ("*.Offline.target_qps = 100\nresnet50.Offline.min_duration 5\n", 2, "'='"),
        ("# comment\n\n*.Offline.target_qps = fast\n", 3, "'fast'"),
    ],
    ids=["missing-equals", "not-a-number"],
)
def test_bad_user_conf_line_names_file_and_line(cli, tmp_path, imagenet_dir, models, text, line, expected):
    conf = tmp_path / "my-user.conf"
    conf.write_text(text)
    out = tmp_path / "out"
    result = _run(cli, out, model=models["resnet50"], dataset=imagenet_dir, user_conf=conf)
    lines = _message(result)
    assert f"my-user.conf:{line}:" in lines[0] and expected in lines[0]
    assert not out.exists()


def test_missing_user_conf(cli, tmp_path, imagenet_dir, models):
    out = tmp_path / "out"
    result = _run(cli, out, model=models["resnet50"], dataset=imagenet_dir, user_conf=tmp_path / "user.conf")
    lines = _message(result)
    assert len(lines) == 1 and "user.conf" in lines[0]
    assert not out.exists()


def test_unknown_backend_lists_the_known_ones(cli, tmp_path, imagenet_dir, models):
    out = tmp_path / "out"
    result = cli(
        "run",
        "resnet50",
        "--scenario",
        "Offline",
        "--model",
        models["resnet50"],
        "--dataset",
        imagenet_dir,
        "--output",
        out,
        "--backend",
        "tensorrt",
    )
    lines = _message(result)
    assert len(lines) == 1
    assert "unknown backend 'tensorrt'" in lines[0] and "onnxruntime" in lines[0] and "torch" in lines[0]
    assert not out.exists()
