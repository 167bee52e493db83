"""``edgeperf submission run`` for two benchmarks (ResNet50 and SSD-MobileNet), closed and open.

The models are oracles that answer each sample's ground truth (looked up by the content of the
preprocessed input, ``edgeperf.testing.oracle``), registered as one backend that picks its table
from the signature it is loaded with, so accuracy is 100% / full mAP and the checker's only
errors are those of the short runs (user.conf: min_duration 0, 16 queries).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("cv2")
pytest.importorskip("typer")
pytest.importorskip("pycocotools")

from edgeperf.backends import register_backend  # noqa: E402
from edgeperf.backends.base import Backend  # noqa: E402
from edgeperf.submission import Severity, check_tree  # noqa: E402
from edgeperf.submission.build import machine_system_json  # noqa: E402
from edgeperf.testing.oracle import OracleBackend, content_key  # noqa: E402
from vision_fixtures import make_coco, make_imagenet  # noqa: E402

FAST_CONF = """\
*.*.min_duration = 0
*.*.min_query_count = 16
*.SingleStream.target_latency = 1
*.Offline.target_qps = 200
"""
SHORT_RUN_ERRORS = {
    (bench, check, scenario)
    for bench in ("resnet50", "ssd-mobilenet")
    for check, scenario in (
        ("performance.min_query_count", "SingleStream"),
        ("performance.min_duration", "SingleStream"),
        ("performance.samples_per_query", "Offline"),
        ("performance.min_duration", "Offline"),
    )
}


def _imagenet_table(root) -> dict:
    from edgeperf.datasets.imagenet import ImagenetDataset

    ds = ImagenetDataset(root, layout="NCHW")
    return {content_key(ds.preprocessed(i)): {"ArgMax:0": np.int64(ds.label(i) + 1)} for i in range(len(ds))}


def _ssd_mobilenet_table(root) -> dict:
    from edgeperf.datasets.coco import CocoDataset

    ds = CocoDataset(root, preprocess="ssd-mobilenet")
    table = {}
    for i in range(len(ds)):
        gt = ds.ground_truth(i)
        height, width = ds.image_size(i)
        x, y, w, h = (gt.boxes[:, k] for k in range(4))
        k = len(gt.category_ids)
        boxes = np.zeros((100, 4), np.float32)
        boxes[:k] = np.stack(
            [y / height, x / width, (y + h) / height, (x + w) / width], axis=1
        )  # ymin, xmin, ymax, xmax
        scores = np.zeros(100, np.float32)
        scores[:k] = 0.9
        classes = np.zeros(100, np.float32)
        classes[:k] = gt.category_ids
        table[content_key(ds.preprocessed(i))] = {
            "num_detections:0": np.float32(k),
            "detection_boxes:0": boxes,
            "detection_scores:0": scores,
            "detection_classes:0": classes,
        }
    return table


class _SuiteOracle(Backend):
    """One backend name for both benchmarks: the oracle of the signature it is loaded with."""

    name = "suite-oracle"
    tables: dict = {}

    def __init__(self, threads=None, providers=None):
        self._oracle = None

    def load(self, model_path, signature):
        key_input = signature.inputs[0].name
        self._oracle = OracleBackend.from_table(signature, key_input, self.tables[key_input])
        self._oracle.load(model_path, signature)

    def predict(self, feeds, outputs=None):
        return self._oracle.predict(feeds, outputs)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("submission-two")
    imagenet, coco = make_imagenet(root), make_coco(root)
    _SuiteOracle.tables = {"input_tensor:0": _imagenet_table(imagenet), "image_tensor:0": _ssd_mobilenet_table(coco)}
    register_backend("suite-oracle", _SuiteOracle, replace=True)
    for name in ("resnet50.onnx", "ssd-mobilenet.onnx"):
        (root / name).write_bytes(b"oracle: not read")
    conf = root / "user.conf"
    conf.write_text(FAST_CONF)
    return {"root": root, "imagenet": imagenet, "coco": coco, "conf": conf}


def _cli():
    from typer.testing import CliRunner

    from edgeperf.cli import submission_cmd
    from edgeperf.cli.main import build_app

    app = build_app()
    if not any(getattr(g, "name", None) == "submission" for g in app.registered_groups):
        app.add_typer(submission_cmd.app, name="submission")
    return lambda *a: CliRunner().invoke(app, [str(x) for x in a], env={"COLUMNS": "200"})


@pytest.mark.parametrize("division", ["closed", "open"])
def test_two_benchmarks_tree(env, division):
    root = env["root"]
    system = machine_system_json(division, "Acme")
    system.update(status="available", system_name="Test box", host_storage_capacity="1 TB", host_storage_type="SSD")
    sys_json = root / f"{division}-box.json"
    sys_json.write_text(json.dumps(system))
    out = root / f"{division}-tree"
    r = _cli()(
        "submission",
        "run",
        "resnet50,ssd-mobilenet",
        "--scenarios",
        "SingleStream,Offline",
        "--model",
        f"resnet50={root / 'resnet50.onnx'},ssd-mobilenet={root / 'ssd-mobilenet.onnx'}",
        "--dataset",
        f"resnet50={env['imagenet']},ssd-mobilenet={env['coco']}",
        "--backend",
        "suite-oracle",
        "--system",
        sys_json,
        "--submitter",
        "Acme",
        "--division",
        division,
        "--user-conf",
        env["conf"],
        "--output",
        out,
    )
    assert r.exit_code == 0, r.output
    n = 24 if division == "closed" else 8
    assert f"[{n}/{n}] ssd-mobilenet Offline" in r.output
    report = check_tree(out)
    assert report.no_results == []
    got = sorted((x.benchmark, x.scenario, x.accuracy) for x in report.results)
    assert [(b, s) for b, s, _ in got] == [
        ("resnet50", "Offline"),
        ("resnet50", "SingleStream"),
        ("ssd-mobilenet", "Offline"),
        ("ssd-mobilenet", "SingleStream"),
    ]
    assert all(float(acc) >= 99 for _, _, acc in got), got
    for line in (f"{x.benchmark}/{x.scenario}: " for x in report.results):
        assert line in r.output  # every result with its compliance status
    seen = set()
    for f in report.findings:
        if f.severity is Severity.INFO:
            continue
        assert not f.severity.invalidates, f
        if f.check.startswith("compliance.verdict"):
            assert division == "closed" and f.file.endswith("/verify_performance.txt"), f
            continue
        parts = f.file.split("/")
        seen.add((parts[4], f.check, parts[5]))
    assert seen == SHORT_RUN_ERRORS
    if division == "closed":
        comp = out / "closed/Acme/compliance" / f"{division}-box"
        for bench in ("resnet50", "ssd-mobilenet"):
            for scenario in ("SingleStream", "Offline"):
                tests = sorted(p.name for p in (comp / bench / scenario).iterdir())
                assert tests == ["TEST01", "TEST04-A", "TEST04-B", "TEST05"]
                assert "TEST PASS" in (comp / bench / scenario / "TEST01/verify_accuracy.txt").read_text()
