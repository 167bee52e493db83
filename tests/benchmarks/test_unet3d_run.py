"""``edgeperf run 3d-unet-99`` end to end through the CLI (spec benchmarks.md §6, §10, §11).

The real chain runs on small volumes (patch 32×32×24): BraTS fixture → preprocessed layout →
BratsDataset/DatasetQSL → backend (an ONNX stand-in whose ``output`` is a channel permutation of
its input, so the expected line can be computed exactly here; or an oracle answering one-hot
logits of the ground truth) → float16 responses → LoadGen → accuracy log → DICE line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nibabel")
pytest.importorskip("scipy")

from brats_fixtures import SMALL_PATCH, expected_line, make_preprocessed_brats, one_hot  # noqa: E402
from conftest import LOG_FILES  # noqa: E402
from edgeperf.backends import register_backend  # noqa: E402
from edgeperf.benchmarks import get_benchmark  # noqa: E402
from edgeperf.datasets.brats import BratsDataset  # noqa: E402
from edgeperf.loadgen.enums import TestScenario  # noqa: E402
from edgeperf.testing.onnx_standins import resnet50_standin, unet3d_signature, unet3d_standin  # noqa: E402
from edgeperf.testing.oracle import OracleBackend, content_key  # noqa: E402

PERFECT = "Accuracy: mean = 1.00000, whole tumor = 1.0000, tumor core = 1.0000, enhancing tumor = 1.0000"
#: The stand-in's output channel c is input channel PERMUTATION[c] (an exact 1×1×1 convolution).
PERMUTATION = (3, 0, 2, 1)
RESPONSE_BYTES = 4 * 32 * 32 * 24 * 2


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Path:
    return make_preprocessed_brats(tmp_path_factory.mktemp("brats-run"))


@pytest.fixture(scope="module")
def ds(build) -> BratsDataset:
    return BratsDataset(build, patch_size=SMALL_PATCH)


@pytest.fixture(scope="module")
def unet_models(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("unet-models")
    weights = np.zeros((4, 4), np.float32)
    weights[np.arange(4), PERMUTATION] = 1.0
    return {
        "small": unet3d_standin(folder / "unet-small.onnx", shape=(4, *SMALL_PATCH), weights=weights),
        "other-patch": unet3d_standin(folder / "unet-32.onnx", shape=(4, 32, 32, 32)),
        "three-channels": unet3d_standin(folder / "unet-3ch.onnx", shape=(3, *SMALL_PATCH)),
        "resnet50": resnet50_standin(folder / "resnet50.onnx"),
    }


def _standin_line(ds: BratsDataset) -> str:
    """The line the permutation stand-in must give, computed from the preprocessed inputs."""
    predictions = {}
    for i in range(len(ds)):
        logits = ds.preprocessed(i)[list(PERMUTATION)].astype(np.float16)
        predictions[i] = np.argmax(logits, axis=0).astype(np.uint8)
    return expected_line(ds, predictions)


def _run(cli, out, model, dataset, scenario, mode, *extra):
    return cli(
        "run",
        "3d-unet-99",
        "--scenario",
        scenario,
        "--mode",
        mode,
        "--model",
        model,
        "--dataset",
        dataset,
        "--output",
        out,
        *extra,
    )


def _records(out: Path) -> list[dict]:
    return json.loads((out / "mlperf_log_accuracy.json").read_text())


@pytest.mark.parametrize("scenario", ["SingleStream", "Offline"])
def test_performance_mode(cli, tmp_path, build, unet_models, fast_conf, scenario):
    out = tmp_path / "out"
    result = _run(cli, out, unet_models["small"], build, scenario, "performance", "--user-conf", fast_conf)
    assert result.exit_code == 0, result.output
    for name in LOG_FILES:
        assert (out / name).is_file()
    summary = (out / "mlperf_log_summary.txt").read_text()
    assert f"Scenario : {scenario}" in summary and "Mode     : PerformanceOnly" in summary
    assert "SUT name : edgeperf-3d-unet-99-onnxruntime" in summary
    assert re.search(r"^Result is : (VALID|INVALID)$", summary, re.M)
    assert "Result is : " in result.output
    detail = (out / "mlperf_log_detail.txt").read_text()
    assert '"key": "effective_min_duration_ms", "value": 200' in detail
    assert '"key": "requested_performance_sample_count_override", "value": 16' in detail  # mlperf.conf 3d-unet
    assert _records(out) == [] and not (out / "accuracy.txt").exists()


@pytest.mark.parametrize("scenario", ["SingleStream", "Offline"])
def test_accuracy_mode(cli, tmp_path, build, ds, unet_models, fast_conf, scenario):
    out = tmp_path / "out"
    result = _run(cli, out, unet_models["small"], build, scenario, "accuracy", "--user-conf", fast_conf)
    assert result.exit_code == 0, result.output
    line = _standin_line(ds)
    assert line != PERFECT
    assert (out / "accuracy.txt").read_text() == line + "\n"
    assert line in result.output.splitlines()
    records = _records(out)
    assert sorted(r["qsl_idx"] for r in records) == [0, 1, 2]
    # the reference's response bytes: float16 logits of the `output` tensor, C order
    for r in records:
        expected = ds.preprocessed(r["qsl_idx"])[list(PERMUTATION)].astype(np.float16)
        assert len(r["data"]) == 2 * RESPONSE_BYTES
        assert bytes.fromhex(r["data"]) == expected.tobytes()


def test_submission_mode(cli, tmp_path, build, ds, unet_models, fast_conf):
    out = tmp_path / "out"
    result = _run(cli, out, unet_models["small"], build, "Offline", "submission", "--user-conf", fast_conf)
    assert result.exit_code == 0, result.output
    assert "Mode     : SubmissionRun" in (out / "mlperf_log_summary.txt").read_text()
    assert (out / "accuracy.txt").read_text() == _standin_line(ds) + "\n"


# -- oracle: perfect, then one perturbation -----------------------------------------------------


def _oracle(name: str, ds: BratsDataset, patches: dict[int, np.ndarray]) -> str:
    table = {content_key(ds.preprocessed(i)): {"output": one_hot(patches[i])} for i in patches}
    signature = unet3d_signature((4, *SMALL_PATCH))

    def factory(threads=None, providers=None):
        return OracleBackend.from_table(signature, "input", table)

    register_backend(name, factory, replace=True)
    return name


@pytest.mark.parametrize("scenario", ["SingleStream", "Offline"])
def test_oracle_is_perfect_and_one_perturbation_costs_exactly(cli, tmp_path, build, ds, unet_models, scenario):
    truth = {i: ds.label_patch(i) for i in range(len(ds))}
    backend = _oracle("test-oracle-unet3d", ds, truth)
    out = tmp_path / "perfect"
    result = _run(cli, out, unet_models["small"], build, scenario, "accuracy", "--backend", backend)
    assert result.exit_code == 0, result.output
    assert (out / "accuracy.txt").read_text() == PERFECT + "\n"
    assert PERFECT in result.output.splitlines()

    wrong = dict(truth)
    wrong[0] = truth[0].copy()
    wrong[0][wrong[0] == 3] = 2  # enhancing predicted as necrosis in case 0 only
    backend = _oracle("test-oracle-unet3d-wrong", ds, wrong)
    out = tmp_path / "perturbed"
    result = _run(cli, out, unet_models["small"], build, scenario, "accuracy", "--backend", backend)
    assert result.exit_code == 0, result.output
    line = "Accuracy: mean = 0.83333, whole tumor = 1.0000, tumor core = 1.0000, enhancing tumor = 0.5000"
    assert line == expected_line(ds, wrong)
    assert (out / "accuracy.txt").read_text() == line + "\n"


# -- the definitions ----------------------------------------------------------------------------


def test_definitions():
    for name, fraction, threshold in (("3d-unet-99", 0.99, 0.84447), ("3d-unet-99.9", 0.999, 0.852147)):
        b = get_benchmark(name)
        assert (b.config_model, b.checker_model, b.dataset_kind) == ("3d-unet", name, "brats")
        assert (b.qsl_total, b.qsl_performance_count, b.max_batch) == (67, 16, 1)
        assert b.quality.metric == "dice" and b.quality.fraction == fraction
        assert b.quality.threshold == pytest.approx(threshold, abs=1e-12)
        assert b.server_latency_ms == 10
        assert b.required_scenarios == (TestScenario.SingleStream, TestScenario.Offline)
        assert (
            b.signature.describe()
            == "inputs: 'input' float32[1,4,224,224,160]; outputs: 'output' float32[1,4,224,224,160]"
        )
        assert b.requested_outputs == ("output",)


def test_postprocess_reads_only_output_as_float16():
    b = get_benchmark("3d-unet-99")
    logits = np.arange(2 * 4 * 2 * 3 * 2, dtype=np.float32).reshape(2, 4, 2, 3, 2)
    responses = b.postprocess({"output": logits, "deep_supervision_1": np.zeros(1)}, np.array([5, 9]))
    assert [bytes(r) for r in responses] == [logits[0].astype("<f2").tobytes(), logits[1].astype("<f2").tobytes()]


def test_benchmarks_list(cli):
    result = cli("benchmarks")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if "3d-unet" in line]
    assert any(r.split("\t")[0] == "3d-unet-99" and "0.8445" in r and "67/16" in r and "10 ms" in r for r in rows), (
        result.output
    )
    assert any("3d-unet-99.9" in r and "0.8521" in r for r in rows), result.output


# -- errors -------------------------------------------------------------------------------------


def _message(result) -> list[str]:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines and lines[0].startswith("edgeperf: "), result.output
    return lines


def test_model_with_other_tensors(cli, tmp_path, build, unet_models):
    out = tmp_path / "out"
    text = "\n".join(_message(_run(cli, out, unet_models["resnet50"], build, "Offline", "performance")))
    assert "resnet50.onnx" in text and "does not match" in text
    assert "input 'input'" in text and "output 'output'" in text and "'input_tensor:0'" in text
    assert not out.exists()


def test_model_with_three_channels(cli, tmp_path, build, unet_models):
    out = tmp_path / "out"
    text = "\n".join(_message(_run(cli, out, unet_models["three-channels"], build, "Offline", "performance")))
    assert "unet-3ch.onnx" in text and "input 'input': dim 1: expected 4" in text and "found 3" in text
    assert not out.exists()


def test_volumes_of_another_size_than_the_model_input(cli, tmp_path, build, unet_models):
    out = tmp_path / "out"
    lines = _message(_run(cli, out, unet_models["other-patch"], build, "SingleStream", "performance"))
    assert len(lines) == 1
    assert "preprocessed_data/HGG__BraTS19_TEST_1.pkl" in lines[0]
    assert "the volume is float32[4, 32, 32, 24], expected float32 [4, 32, 32, 32]" in lines[0]
    assert "unet-32.onnx" in lines[0]
    assert not out.exists()


def test_missing_dataset(cli, tmp_path, unet_models):
    out = tmp_path / "out"
    lines = _message(_run(cli, out, unet_models["small"], tmp_path / "BraTS", "Offline", "performance"))
    assert lines == [f"edgeperf: BraTS data set folder {tmp_path / 'BraTS'} does not exist"]
    (tmp_path / "empty").mkdir()
    lines = _message(_run(cli, out, unet_models["small"], tmp_path / "empty", "Offline", "performance"))
    assert len(lines) == 1 and "preprocessed_files.pkl" in lines[0]
    assert not out.exists()


def test_accuracy_run_without_labels(cli, tmp_path, build, unet_models, fast_conf):
    import shutil

    copy = tmp_path / "build"
    shutil.copytree(build / "preprocessed_data", copy / "preprocessed_data")
    out = tmp_path / "out"
    lines = _message(_run(cli, out, unet_models["small"], copy, "Offline", "accuracy", "--user-conf", fast_conf))
    assert len(lines) == 1 and "no labels folder" in lines[0] and "labelsTr" in lines[0]
