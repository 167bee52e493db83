"""Shared set-up of the vision benchmark tests: tiny datasets, stand-in models, the CLI, user.conf.

Everything heavy (fixture images, ONNX stand-ins) is built once per session; each test writes its
own outputs under its ``tmp_path``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("cv2")
pytest.importorskip("typer")

from vision_fixtures import make_coco, make_imagenet  # noqa: E402

#: A user.conf that keeps every resnet50 run of the stand-in model well under a second: short
#: minimum duration, few queries, and targets near what a tiny model does on two cores.
FAST_USER_CONF = """\
# edgeperf tests: short runs of the tiny stand-in models
*.*.min_duration = 200
*.*.min_query_count = 16
*.SingleStream.target_latency = 1
*.MultiStream.target_qps = 100
*.MultiStream.samples_per_query = 4
*.Server.target_qps = 100
*.Server.target_latency = 50
*.Offline.target_qps = 200
"""

LOG_FILES = ("mlperf_log_summary.txt", "mlperf_log_detail.txt", "mlperf_log_accuracy.json", "mlperf_log_trace.json")


def resnet50_args(command, model, dataset, conf, out, scenario="SingleStream", *extra) -> list:
    """The command line of ``edgeperf <command…> resnet50`` on the test assets: ``command`` is
    ``"run"`` or a sequence such as ``("compliance", "run", "TEST01")``; ``extra`` follows."""
    head = [command] if isinstance(command, str) else list(command)
    return [
        *head,
        "resnet50",
        "--scenario",
        scenario,
        "--model",
        model,
        "--dataset",
        dataset,
        "--user-conf",
        conf,
        "--output",
        out,
        *extra,
    ]


@pytest.fixture(scope="session")
def data_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("vision-data")


@pytest.fixture(scope="session")
def imagenet_dir(data_root) -> Path:
    return make_imagenet(data_root)


@pytest.fixture(scope="session")
def coco_dir(data_root) -> Path:
    return make_coco(data_root)


@pytest.fixture(scope="session")
def models(data_root) -> dict[str, Path]:
    """The three stand-ins with their default (constant) outputs, plus a ResNet50 stand-in that
    answers ArgMax 2 (ImageNet label 1) for every image."""
    import numpy as np

    from edgeperf.testing.onnx_standins import resnet50_standin, ssd_mobilenet_standin, ssd_resnet34_standin

    folder = data_root / "models"
    bias = np.zeros(1001, np.float32)
    bias[2] = 1e6
    return {
        "resnet50": resnet50_standin(folder / "resnet50.onnx"),
        "resnet50-label1": resnet50_standin(folder / "resnet50-label1.onnx", bias=bias),
        "ssd-mobilenet": ssd_mobilenet_standin(folder / "ssd-mobilenet.onnx"),
        "ssd-resnet34": ssd_resnet34_standin(folder / "ssd-resnet34.onnx"),
    }


@pytest.fixture(scope="session")
def fast_conf(data_root) -> Path:
    path = data_root / "fast-user.conf"
    path.write_text(FAST_USER_CONF)
    return path
