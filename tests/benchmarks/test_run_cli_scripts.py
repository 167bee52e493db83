"""Issue 15 items 2, 3, 5, 7 and 8 on ``edgeperf run``: --json, reference-harness aliases, quick mode
labelled "not compliant" everywhere, the accuracy run's report.html, --providers and --device.

The resnet50 stand-in answers ImageNet label 1 for every image; the fixture's labels are known
(``vision_fixtures``), so the accuracy figure and PASS/FAIL are computed here independently.
"""

from __future__ import annotations

import json
import re

import pytest

from conftest import resnet50_args
from edgeperf.cli.accelerators import parse_providers

TARGET_TOP1 = 0.99 * 76.46  # spec benchmarks.md §1.3


def _labels(imagenet_dir):
    return [int(line.split()[1]) for line in (imagenet_dir / "val_map.txt").read_text().splitlines() if line.strip()]


def test_accuracy_alias_json_and_report(cli, models, imagenet_dir, fast_conf, tmp_path):
    out = tmp_path / "acc"
    doc_path = tmp_path / "run.json"
    result = cli(
        *resnet50_args(
            "run", models["resnet50-label1"], imagenet_dir, fast_conf, out, "Offline", "--accuracy", "--json", doc_path
        )
    )
    assert result.exit_code == 0, result.output
    labels = _labels(imagenet_dir)
    expected = 100.0 * sum(1 for lb in labels if lb == 1) / len(labels)
    doc = json.loads(doc_path.read_text())
    assert (doc["format"], doc["format_version"]) == ("edgeperf-run", 1)
    assert doc["mode"] == "AccuracyOnly"  # --accuracy is --mode accuracy
    assert doc["performance"] is None
    acc = doc["accuracy"]
    assert acc["value"] == pytest.approx(expected, abs=1e-3)
    assert acc["target"] == pytest.approx(TARGET_TOP1)
    assert acc["passed"] is (expected >= TARGET_TOP1)
    assert acc["missing_samples"] == 0 and acc["expected_samples"] == len(labels)
    assert doc["compliant"] is True and doc["quick"] is False
    assert "FAIL" in result.output and "missing samples: 0" in result.output
    page = (out / "report.html").read_text()
    assert "no result" not in page
    assert 'id="accuracy"' in page and ">FAIL<" in page
    assert "Missing samples: <span>0</span>" in page
    assert f"&gt;= {round(TARGET_TOP1, 4):g}%" in page


def test_accuracy_report_counts_missing_samples(cli, models, imagenet_dir, fast_conf, tmp_path):
    """Remove entries from the accuracy log and rebuild the summary: the missing ones are counted."""
    from edgeperf.benchmarks.registry import get_benchmark
    from edgeperf.benchmarks.runner import accuracy_summary

    out = tmp_path / "acc"
    args = resnet50_args("run", models["resnet50"], imagenet_dir, fast_conf, out, "SingleStream", "--mode", "accuracy")
    assert cli(*args).exit_code == 0
    log = out / "mlperf_log_accuracy.json"
    entries = json.loads(log.read_text())
    log.write_text(json.dumps(entries[:-2]))
    bench = get_benchmark("resnet50")
    from types import SimpleNamespace

    summary = accuracy_summary(bench, SimpleNamespace(value=80.0, official_line="x"), log, len(entries))
    assert summary["missing_samples"] == 2 and summary["passed"] is True


def test_quick_mode_is_labelled_not_compliant_everywhere(cli, models, imagenet_dir, fast_conf, tmp_path):
    out = tmp_path / "quick"
    doc_path = tmp_path / "q.json"
    quick = ("--duration", "0.3", "--count", "3", "--max-batchsize", "1", "--json", doc_path)
    result = cli(*resnet50_args("run", models["resnet50"], imagenet_dir, fast_conf, out, "SingleStream", *quick))
    assert result.exit_code == 0, result.output
    assert "NOT COMPLIANT" in result.output
    doc = json.loads(doc_path.read_text())
    assert doc["compliant"] is False and any("NOT COMPLIANT" in n for n in doc["notes"])
    assert "NOT COMPLIANT" in (out / "report.html").read_text()
    # --duration sets min and max duration as the reference's --time does; --count limits the QSL
    summary = (out / "mlperf_log_summary.txt").read_text()
    assert re.search(r"^min_duration \(ms\): 300$", summary, re.M)
    assert re.search(r"^max_duration \(ms\): 300$", summary, re.M)
    assert doc["performance"]["valid"] in (True, False)


def test_providers_parsing():
    assert parse_providers("tensorrt:trt_fp16_enable=True,trt_max_workspace_size=2147483648;cuda:device_id=0;cpu") == [
        ("TensorrtExecutionProvider", {"trt_fp16_enable": "True", "trt_max_workspace_size": "2147483648"}),
        ("CUDAExecutionProvider", {"device_id": "0"}),
        "CPUExecutionProvider",
    ]
    with pytest.raises(ValueError, match="'device_id' is not key=value"):
        parse_providers("cuda:device_id")


def test_providers_cpu_runs_and_unavailable_gpu_is_one_clear_line(cli, models, imagenet_dir, fast_conf, tmp_path):
    ok = cli(
        *resnet50_args(
            "run", models["resnet50"], imagenet_dir, fast_conf, tmp_path / "cpu", "SingleStream", "--providers", "cpu"
        )
    )
    assert ok.exit_code == 0, ok.output
    import onnxruntime

    if "TensorrtExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has TensorRT")
    bad = cli(
        *resnet50_args(
            "run",
            models["resnet50"],
            imagenet_dir,
            fast_conf,
            tmp_path / "trt",
            "SingleStream",
            "--providers",
            "tensorrt:trt_fp16_enable=True",
        )
    )
    assert bad.exit_code == 2
    assert "TensorrtExecutionProvider" in bad.output and "Traceback" not in bad.output


def test_device_needs_the_torch_backend(cli, models, imagenet_dir, fast_conf, tmp_path):
    bad = cli(
        *resnet50_args(
            "run", models["resnet50"], imagenet_dir, fast_conf, tmp_path / "d", "SingleStream", "--device", "cuda"
        )
    )
    assert bad.exit_code == 2
    assert "--device applies to the torch backend" in bad.output


def test_compliance_run_takes_device_and_providers_too(cli, models, imagenet_dir, fast_conf, tmp_path):
    bad = cli(
        *resnet50_args(
            ("compliance", "run", "TEST01"),
            models["resnet50"],
            imagenet_dir,
            fast_conf,
            tmp_path / "t",
            "SingleStream",
            "--device",
            "cpu",
        )
    )
    assert bad.exit_code == 2 and "--device applies to the torch backend" in bad.output
    bad = cli(
        *resnet50_args(
            ("compliance", "run", "TEST01"),
            models["resnet50"],
            imagenet_dir,
            fast_conf,
            tmp_path / "t",
            "SingleStream",
            "--providers",
            "cuda:x",
        )
    )
    assert bad.exit_code == 2 and "'x' is not key=value" in bad.output


def test_compliance_run_next_command_is_never_wrapped(models, imagenet_dir, fast_conf, tmp_path):
    """Off a terminal at 80 columns the command to type next stays on one line (issue 15 item 1)."""
    from typer.testing import CliRunner

    from edgeperf.cli.main import build_app

    out = tmp_path / "a-rather-long-folder-name-for-the-compliance-test-output" / "TEST05"
    r = CliRunner().invoke(
        build_app(),
        [
            str(a)
            for a in resnet50_args(("compliance", "run", "TEST05"), models["resnet50"], imagenet_dir, fast_conf, out)
        ],
        env={"COLUMNS": "80"},
    )
    assert r.exit_code == 0, r.output
    (line,) = [ln for ln in r.output.splitlines() if ln.startswith("Next: edgeperf compliance verify")]
    assert line.endswith(f"--compliance {out}")
