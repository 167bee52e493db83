"""The stand-in ONNX models: official I/O names, dtypes and shapes, in onnxruntime, batch 1 and 4."""

from __future__ import annotations


import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx  # noqa: E402

from edgeperf.backends import get_backend  # noqa: E402
from edgeperf.testing import onnx_standins as S  # noqa: E402

UNET_SHAPE = (4, 8, 6, 4)


def _feeds(sig, batch):
    rng = np.random.default_rng(1)
    feeds = {}
    for spec in sig.inputs:
        shape = tuple(batch if not isinstance(d, int) else d for d in spec.shape)
        if spec.dtype == "uint8":
            feeds[spec.name] = rng.integers(0, 256, shape, dtype=np.uint8)
        elif spec.dtype == "int64":
            feeds[spec.name] = rng.integers(0, 2, shape, dtype=np.int64)
        else:
            feeds[spec.name] = rng.standard_normal(shape, dtype=np.float32)
    return feeds


def _expected_shape(spec, batch):
    return tuple(batch if not isinstance(d, int) else d for d in spec.shape)


CASES = {
    "resnet50": (S.resnet50_standin, S.RESNET50_SIGNATURE, (1, 4)),
    "ssd-mobilenet": (S.ssd_mobilenet_standin, S.SSD_MOBILENET_SIGNATURE, (1, 4)),
    "ssd-resnet34": (S.ssd_resnet34_standin, S.SSD_RESNET34_SIGNATURE, (1,)),
    "3d-unet": (lambda p: S.unet3d_standin(p, UNET_SHAPE), S.unet3d_signature(UNET_SHAPE), (1,)),
    "bert": (S.bert_standin, S.bert_signature(), (1, 4)),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("standins")
    return {name: build(d / f"{name}.onnx") for name, (build, _, _) in CASES.items()}


@pytest.mark.parametrize("name", CASES)
def test_standin_is_a_valid_model_with_the_official_io(built, name):
    _, sig, _ = CASES[name]
    model = onnx.load(str(built[name]))
    onnx.checker.check_model(model)
    assert model.ir_version == S.IR_VERSION
    assert [o.version for o in model.opset_import if o.domain == ""] == [S.OPSET]
    assert [i.name for i in model.graph.input] == list(sig.input_names)
    assert set(sig.output_names) <= {o.name for o in model.graph.output}


@pytest.mark.parametrize("name, batch", [(n, b) for n, (_, _, batches) in CASES.items() for b in batches])
def test_standin_runs_with_the_official_output_names_dtypes_shapes(built, name, batch):
    _, sig, _ = CASES[name]
    with get_backend("onnxruntime", threads=1) as backend:
        backend.load(built[name], sig)
        out = backend.predict(_feeds(sig, batch))
    assert list(out) == list(sig.output_names)
    for spec in sig.outputs:
        assert out[spec.name].dtype == np.dtype(spec.dtype), spec.name
        assert out[spec.name].shape == _expected_shape(spec, batch), spec.name


def test_fixed_batch_model_rejects_batch_4_with_a_clear_error(built):
    from edgeperf.backends import PredictError

    with get_backend() as backend:
        backend.load(built["ssd-resnet34"], S.SSD_RESNET34_SIGNATURE)
        with pytest.raises(
            PredictError, match=r"input 'image': shape \[4, 3, 1200, 1200\], expected float32\[1,3,1200,1200\]"
        ):
            backend.predict({"image": np.zeros((4, 3, 1200, 1200), np.float32)})


def test_resnet50_standin_values(tmp_path):
    bias = np.zeros(1001, np.float32)
    bias[66] = 1000.0
    path = S.resnet50_standin(tmp_path / "r.onnx", bias=bias)
    with get_backend() as backend:
        backend.load(path, S.RESNET50_SIGNATURE)
        x = np.random.default_rng(0).random((3, 3, 224, 224), dtype=np.float32)
        out = backend.predict({"input_tensor:0": x})
    assert out["ArgMax:0"].tolist() == [66, 66, 66]
    np.testing.assert_allclose(out["softmax_tensor:0"].sum(axis=1), 1.0, rtol=1e-5)
    # Without a dominant bias, the class follows the per-channel means through the weights.
    w = np.random.default_rng(0).normal(0, 1, (3, 1001)).astype(np.float32)
    path = S.resnet50_standin(tmp_path / "r2.onnx", weights=w)
    with get_backend() as backend:
        backend.load(path, S.RESNET50_SIGNATURE)
        out = backend.predict({"input_tensor:0": x})
    assert out["ArgMax:0"].tolist() == np.argmax(x.mean(axis=(2, 3)) @ w, axis=1).tolist()


def test_ssd_mobilenet_standin_broadcasts_its_detections(tmp_path):
    boxes = [[0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.9, 0.95]]
    path = S.ssd_mobilenet_standin(tmp_path / "s.onnx", boxes=boxes, scores=[0.8, 0.6], classes=[3, 90], num=1)
    with get_backend() as backend:
        backend.load(path, S.SSD_MOBILENET_SIGNATURE)
        out = backend.predict({"image_tensor:0": np.zeros((2, 300, 300, 3), np.uint8)})
    assert out["num_detections:0"].tolist() == [1.0, 1.0]
    for i in range(2):
        np.testing.assert_allclose(out["detection_boxes:0"][i, :2], np.array(boxes, np.float32))
        assert not out["detection_boxes:0"][i, 2:].any()
        np.testing.assert_allclose(out["detection_scores:0"][i, :2], [0.8, 0.6])
        assert out["detection_classes:0"][i, :3].tolist() == [3.0, 90.0, 0.0]


def test_ssd_resnet34_standin_defaults_are_descending_and_cross_the_cutoff(built):
    with get_backend() as backend:
        backend.load(built["ssd-resnet34"], S.SSD_RESNET34_SIGNATURE)
        out = backend.predict({"image": np.zeros((1, 3, 1200, 1200), np.float32)})
    scores = out["scores"][0, :3]
    assert list(scores) == sorted(scores, reverse=True) and scores[0] > 0.5 > scores[-1]
    assert out["labels"][0, :3].tolist() == [1, 17, 80] and not out["labels"][0, 3:].any()
    assert np.all(out["bboxes"][0, :3, 2] > out["bboxes"][0, :3, 0])  # x first: xmax > xmin


def test_standin_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match=r"scores: 1 rows, but the boxes have 2"):
        S.ssd_mobilenet_standin(tmp_path / "x.onnx", boxes=[[0, 0, 1, 1]] * 2, scores=[0.5], classes=[1, 2])
    with pytest.raises(ValueError, match=r"boxes must have shape \[k, 4\]"):
        S.ssd_resnet34_standin(tmp_path / "x.onnx", bboxes=[0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"weights must have shape \[3, 1001\]"):
        S.resnet50_standin(tmp_path / "x.onnx", weights=np.zeros((3, 1000)))
    with pytest.raises(ValueError, match=r"shape must be \(C, D, H, W\)"):
        S.unet3d_standin(tmp_path / "x.onnx", (4, 1, 8, 8))
    assert not (tmp_path / "x.onnx").exists()


def test_unet_extra_output_is_declared_first_and_ignored(built):
    sig = S.unet3d_signature(UNET_SHAPE)
    with get_backend() as backend:
        backend.load(built["3d-unet"], sig)
        assert backend.model_signature.output_names == (S.UNET3D_EXTRA_OUTPUT, "output")
        x = np.random.default_rng(2).standard_normal((1, *UNET_SHAPE), dtype=np.float32)
        out = backend.predict({"input": x})
    assert list(out) == ["output"]
    w = np.random.default_rng(0).normal(0, 1, (4, 4)).astype(np.float32)
    np.testing.assert_allclose(out["output"][0], np.einsum("ck,kdhw->cdhw", w, x[0]), rtol=1e-4, atol=1e-4)


def test_bert_standin_depends_on_every_input_and_masks_padding(built):
    sig = S.bert_signature()
    ids = np.zeros((1, 384), np.int64)
    ids[0, :5] = [101, 2054, 2003, 102, 1037]
    mask = np.zeros_like(ids)
    mask[0, :5] = 1
    seg = np.zeros_like(ids)
    seg[0, 4] = 1
    with get_backend() as backend:
        backend.load(built["bert"], sig)
        out = backend.predict({"input_ids": ids, "input_mask": mask, "segment_ids": seg})
    start = out["output_start_logits"][0]
    np.testing.assert_allclose(start[:5], 0.001 * ids[0, :5] + 0.5 * seg[0, :5], rtol=1e-6)
    assert np.all(start[5:] == -10000.0)
    np.testing.assert_allclose(out["output_end_logits"][0, :5], -0.001 * ids[0, :5] + 0.25 * seg[0, :5], rtol=1e-6)


def test_standin_is_written_atomically_and_returns_the_path(tmp_path):
    target = tmp_path / "sub" / "bert.onnx"
    assert S.bert_standin(target, seq_len=8) == target
    assert [p.name for p in target.parent.iterdir()] == ["bert.onnx"]


@pytest.mark.parametrize("width", [8, 64])
def test_resnet50_shaped_builds_and_runs_one_batch(tmp_path, width):
    path = S.resnet50_shaped(tmp_path / "r50.onnx", seed=3, width=width)
    with get_backend("onnxruntime") as backend:
        backend.load(path, S.RESNET50_SIGNATURE)
        out = backend.predict({"input_tensor:0": np.random.default_rng(0).random((1, 3, 224, 224), dtype=np.float32)})
    assert out["ArgMax:0"].shape == (1,) and out["softmax_tensor:0"].shape == (1, 1001)
    assert np.isfinite(out["softmax_tensor:0"]).all()
    model = onnx.load(str(path), load_external_data=False)
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    assert len(convs) == 1 + 3 * 16 + 4  # stem, three per bottleneck block, four projections
    if width == 64:
        params = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
        assert 25_000_000 < params < 26_000_000


def test_resnet50_shaped_is_deterministic_per_seed(tmp_path):
    a = S.resnet50_shaped(tmp_path / "a.onnx", seed=1, width=4).read_bytes()
    b = S.resnet50_shaped(tmp_path / "b.onnx", seed=1, width=4).read_bytes()
    c = S.resnet50_shaped(tmp_path / "c.onnx", seed=2, width=4).read_bytes()
    assert a == b != c
