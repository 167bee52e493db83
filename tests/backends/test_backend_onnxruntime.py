"""The onnxruntime backend: loading, signature checks, file errors, predict, options, threads."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from edgeperf.backends import (  # noqa: E402
    BackendConfigError,
    ModelFileError,
    ModelMismatchError,
    ModelSignature,
    PredictError,
    TensorSpec,
    get_backend,
)
from edgeperf.backends.onnxruntime_backend import OnnxRuntimeBackend, ort_type_to_dtype  # noqa: E402
from edgeperf.testing import onnx_standins as S  # noqa: E402


@pytest.fixture(scope="module")
def resnet(tmp_path_factory):
    return S.resnet50_standin(tmp_path_factory.mktemp("ort") / "resnet50_standin.onnx")


@pytest.fixture(scope="module")
def ssd(tmp_path_factory):
    return S.ssd_mobilenet_standin(tmp_path_factory.mktemp("ort") / "ssd_standin.onnx")


def _images(n, seed=0):
    return np.random.default_rng(seed).random((n, 3, 224, 224), dtype=np.float32)


def test_load_records_both_signatures(resnet):
    with OnnxRuntimeBackend() as backend:
        assert backend.name == "onnxruntime"
        backend.load(resnet, S.RESNET50_SIGNATURE)
        assert backend.signature == S.RESNET50_SIGNATURE
        assert backend.model == str(resnet)
        assert backend.model_signature.input("input_tensor:0") == TensorSpec(
            "input_tensor:0", "float32", ("N", 3, 224, 224)
        )
        assert backend.model_signature.output("ArgMax:0").dtype == "int64"


def test_every_mismatch_is_listed_in_one_error_naming_the_file(resnet):
    wrong = ModelSignature(
        inputs=(TensorSpec("input:0", "float32", ("N", 3, 224, 224)),),  # wrong input name
        outputs=(
            TensorSpec("ArgMax:0", "int32", ("N",)),  # wrong dtype
            TensorSpec("softmax_tensor:0", "float32", ("N", 1001, 1)),  # wrong rank
            TensorSpec("logits:0", "float32", ("N", 1001)),  # missing output
        ),
    )
    with OnnxRuntimeBackend() as backend, pytest.raises(ModelMismatchError) as info:
        backend.load(resnet, wrong)
    e = info.value
    text = str(e)
    assert e.model == str(resnet) and str(resnet) in text
    assert "(5 mismatches)" in text
    found = {(m.kind, m.tensor, m.what) for m in e.mismatches}
    assert found == {
        ("input", "input:0", "presence"),
        ("input", "input_tensor:0", "presence"),  # required by the model, not fed by the signature
        ("output", "ArgMax:0", "dtype"),
        ("output", "softmax_tensor:0", "rank"),
        ("output", "logits:0", "presence"),
    }
    assert "output 'ArgMax:0': dtype: expected int32, found int64" in text
    assert "output 'softmax_tensor:0': rank: expected 3 float32[N,1001,1], found 2 float32[N,1001]" in text
    assert (
        "input 'input:0': presence: expected input float32[N,3,224,224], found no such input (the model's inputs: 'input_tensor:0' float32[N,3,224,224])"
        in text
    )
    assert backend.signature is None  # nothing half-loaded


def test_fixed_dimension_mismatch_and_dynamic_dimensions(resnet):
    sig = ModelSignature(
        inputs=(TensorSpec("input_tensor:0", "float32", (None, 3, 299, 299)),),
        outputs=(TensorSpec("ArgMax:0", "int64", (None,)),),
    )
    with OnnxRuntimeBackend() as backend, pytest.raises(ModelMismatchError) as info:
        backend.load(resnet, sig)
    assert [(m.tensor, m.what) for m in info.value.mismatches] == [
        ("input_tensor:0", "dim 2"),
        ("input_tensor:0", "dim 3"),
    ]
    assert "dim 2: expected 299 in float32[?,3,299,299], found 224 in float32[N,3,224,224]" in str(info.value)
    # A signature may fix a dimension the model leaves dynamic, and name dynamic ones as it likes.
    ok = ModelSignature(
        inputs=(TensorSpec("input_tensor:0", "float32", (8, 3, 224, 224)),),
        outputs=(TensorSpec("ArgMax:0", "int64", ("batch",)),),
    )
    with OnnxRuntimeBackend() as backend:
        backend.load(resnet, ok)


def test_missing_file_directory_and_garbage_each_give_one_clear_error(tmp_path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"this is not a protobuf \x00\xff" * 10)
    cases = [
        (tmp_path / "nope.onnx", "no such file"),
        (tmp_path, "not a regular file"),
        (garbage, "onnxruntime cannot load it"),
    ]
    for path, reason in cases:
        with pytest.raises(ModelFileError) as info:
            OnnxRuntimeBackend().load(path, S.RESNET50_SIGNATURE)
        assert info.value.path == str(path)
        assert str(info.value).startswith(f"model file '{path}': {reason}")


def test_predict_only_the_requested_outputs(resnet):
    with OnnxRuntimeBackend() as backend:
        backend.load(resnet, S.RESNET50_SIGNATURE)
        x = _images(2)
        only = backend.predict({"input_tensor:0": x}, outputs=["ArgMax:0"])
        assert list(only) == ["ArgMax:0"]
        both = backend.predict({"input_tensor:0": x})
        assert list(both) == ["ArgMax:0", "softmax_tensor:0"]
        np.testing.assert_array_equal(only["ArgMax:0"], both["ArgMax:0"])
        reordered = backend.predict({"input_tensor:0": x}, outputs=["softmax_tensor:0", "ArgMax:0"])
        assert list(reordered) == ["softmax_tensor:0", "ArgMax:0"]


def test_predict_rejects_unknown_outputs_and_bad_feeds_clearly(resnet):
    with OnnxRuntimeBackend() as backend:
        backend.load(resnet, S.RESNET50_SIGNATURE)
        with pytest.raises(
            PredictError,
            match=r"unknown output name\(s\) 'Softmax:0'; the signature's outputs are 'ArgMax:0', 'softmax_tensor:0'",
        ):
            backend.predict({"input_tensor:0": _images(1)}, outputs=["Softmax:0"])
        with pytest.raises(
            PredictError,
            match=r"input 'input_tensor:0' is missing \(expected float32\[N,3,224,224\]\); 'x' is not an input",
        ):
            backend.predict({"x": _images(1)})
        with pytest.raises(PredictError, match=r"input 'input_tensor:0': dtype float64, expected float32"):
            backend.predict({"input_tensor:0": _images(1).astype(np.float64)})
        with pytest.raises(PredictError, match=r"shape \[3, 224, 224\], expected rank 4"):
            backend.predict({"input_tensor:0": _images(1)[0]})
        with pytest.raises(PredictError, match=r"must be a numpy array, got list"):
            backend.predict({"input_tensor:0": [[0.0]]})


def test_predict_before_load_and_after_close(resnet):
    backend = OnnxRuntimeBackend()
    with pytest.raises(PredictError, match="before load"):
        backend.predict({"input_tensor:0": _images(1)})
    backend.load(resnet, S.RESNET50_SIGNATURE)
    backend.close()
    backend.close()
    with pytest.raises(PredictError, match="after close"):
        backend.predict({"input_tensor:0": _images(1)})


def test_session_options_for_benchmarking(resnet):
    with OnnxRuntimeBackend(threads=2, inter_op_threads=1) as backend:
        backend.load(resnet, S.RESNET50_SIGNATURE)
        so = backend.session.get_session_options()
    assert so.intra_op_num_threads == 2
    assert so.inter_op_num_threads == 1
    assert so.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    assert so.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL


@pytest.mark.parametrize("bad", [-1, 1.5, "4", True])
def test_bad_thread_counts_are_config_errors(bad):
    with pytest.raises(BackendConfigError, match="threads must be an int >= 0"):
        OnnxRuntimeBackend(threads=bad)


def test_providers(resnet):
    with pytest.raises(BackendConfigError) as info:
        OnnxRuntimeBackend(providers=["NoSuchExecutionProvider", "CPUExecutionProvider"])
    text = str(info.value)
    assert "'NoSuchExecutionProvider' not available" in text
    assert "available: " in text and "CPUExecutionProvider" in text
    with OnnxRuntimeBackend(providers=[("CPUExecutionProvider", {})]) as backend:
        backend.load(resnet, S.RESNET50_SIGNATURE)
        assert backend.session.get_providers() == ["CPUExecutionProvider"]
    with OnnxRuntimeBackend() as backend:  # default: CPU on a CPU-only build
        backend.load(resnet, S.RESNET50_SIGNATURE)
        assert "CPUExecutionProvider" in backend.session.get_providers()


def test_concurrent_predict_calls_agree_with_sequential_ones(ssd, resnet):
    with get_backend("onnxruntime", threads=1) as backend:
        backend.load(resnet, S.RESNET50_SIGNATURE)
        batches = [_images(2, seed=i) for i in range(16)]
        expected = [backend.predict({"input_tensor:0": b})["softmax_tensor:0"] for b in batches]
        barrier = threading.Barrier(8)

        def run(i):
            if i < 8:
                barrier.wait()
            return backend.predict({"input_tensor:0": batches[i]})["softmax_tensor:0"]

        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(run, range(16)))
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(e, g)


def test_runtime_failure_is_a_predict_error_naming_the_model(tmp_path):
    # A signature that leaves the batch dynamic while the model fixes it at 1: the feed check
    # lets batch 2 through, onnxruntime refuses it.
    path = S.ssd_resnet34_standin(tmp_path / "ssd_r34.onnx")
    sig = ModelSignature(
        inputs=(TensorSpec("image", "float32", ("N", 3, 1200, 1200)),), outputs=S.SSD_RESNET34_SIGNATURE.outputs
    )
    with OnnxRuntimeBackend() as backend:
        backend.load(path, sig)
        assert backend.model_signature.input("image").shape[0] == 1
        with pytest.raises(PredictError, match=rf"model '{path}': onnxruntime failed: "):
            backend.predict({"image": np.zeros((2, 3, 1200, 1200), np.float32)})


def test_ort_type_names():
    assert ort_type_to_dtype("tensor(float)") == "float32"
    assert ort_type_to_dtype("tensor(int64)") == "int64"
    assert ort_type_to_dtype("tensor(uint8)") == "uint8"
    assert ort_type_to_dtype("tensor(float16)") == "float16"
    assert ort_type_to_dtype("seq(tensor(float))") == "seq(tensor(float))"


class _FallingBackOrt:
    """onnxruntime as seen on a GPU build without a GPU: every session ends up on the CPU only."""

    def __getattr__(self, name):
        return getattr(ort, name)

    def InferenceSession(self, path, sess_options=None, providers=None):
        return ort.InferenceSession(path, sess_options=sess_options, providers=["CPUExecutionProvider"])


def test_a_provider_that_silently_falls_back_is_an_error_only_when_asked_for(resnet, monkeypatch):
    extra = [p for p in ort.get_available_providers() if p != "CPUExecutionProvider"]
    if not extra:
        pytest.skip("this onnxruntime build has only the CPU provider")
    backend = OnnxRuntimeBackend(providers=[extra[0], "CPUExecutionProvider"])
    backend._ort = _FallingBackOrt()
    with pytest.raises(
        BackendConfigError,
        match=rf"{extra[0]} failed to start for model '{resnet}' \(session runs on: CPUExecutionProvider\)",
    ):
        backend.load(resnet, S.RESNET50_SIGNATURE)
    monkeypatch.setattr(
        "edgeperf.backends.onnxruntime_backend._default_providers", lambda available: [extra[0], "CPUExecutionProvider"]
    )
    backend = OnnxRuntimeBackend()
    backend._ort = _FallingBackOrt()
    backend.load(resnet, S.RESNET50_SIGNATURE)
    assert backend.session.get_providers() == ["CPUExecutionProvider"]


def test_default_providers_prefer_a_gpu():
    from edgeperf.backends.onnxruntime_backend import _default_providers

    assert _default_providers(["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    assert _default_providers(["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]) == [
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
    ]
