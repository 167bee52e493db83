"""OracleBackend: outputs computed in Python (ground truth looked up by input content)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from edgeperf.backends import Backend, ModelMismatchError, ModelSignature, PredictError, TensorSpec
from edgeperf.testing.onnx_standins import RESNET50_SIGNATURE, bert_signature
from edgeperf.testing.oracle import OracleBackend, content_key


def _images(n, seed=0):
    return np.random.default_rng(seed).random((n, 3, 224, 224), dtype=np.float32)


def test_content_key_depends_on_bytes_dtype_and_shape():
    a = np.arange(6, dtype=np.float32)
    assert content_key(a) == content_key(a.copy()) == content_key(np.asfortranarray(a))
    assert content_key(a) != content_key(a.reshape(2, 3))
    assert content_key(a) != content_key(a.astype(np.float64))
    b = a.copy()
    b[3] += 1e-6
    assert content_key(a) != content_key(b)
    assert content_key(np.zeros((0, 3))) != content_key(np.zeros((3, 0)))


def test_table_oracle_returns_ground_truth_by_content():
    images = _images(6)
    labels = [5, 0, 999, 17, 3, 42]
    table = {content_key(img): {"ArgMax:0": np.int64(lab + 1)} for img, lab in zip(images, labels)}
    backend = OracleBackend.from_table(RESNET50_SIGNATURE, "input_tensor:0", table)
    assert isinstance(backend, Backend) and backend.name == "oracle"
    backend.load("resnet50_v1.onnx", RESNET50_SIGNATURE)  # nothing is read
    batch = images[[3, 0, 5]]
    out = backend.predict({"input_tensor:0": batch}, outputs=["ArgMax:0"])
    assert out["ArgMax:0"].tolist() == [18, 6, 43] and out["ArgMax:0"].dtype == np.int64
    assert (backend.calls, backend.samples) == (1, 3)


def test_unknown_sample_and_missing_output_are_clear_errors():
    images = _images(2)
    table = {content_key(images[0]): {"ArgMax:0": np.int64(1)}}
    backend = OracleBackend.from_table(RESNET50_SIGNATURE, "input_tensor:0", table)
    backend.load("m", RESNET50_SIGNATURE)
    with pytest.raises(
        PredictError, match=r"sample 1 of the batch: LookupError: no oracle entry for this 'input_tensor:0' sample"
    ):
        backend.predict({"input_tensor:0": images}, outputs=["ArgMax:0"])
    with pytest.raises(
        ModelMismatchError, match=r"output 'softmax_tensor:0': presence: .* not produced \(it returned: 'ArgMax:0'\)"
    ):
        backend.predict({"input_tensor:0": images[:1]})
    with_default = OracleBackend.from_table(
        RESNET50_SIGNATURE, "input_tensor:0", table, default={"ArgMax:0": np.int64(0)}
    )
    with_default.load("m", RESNET50_SIGNATURE)
    assert with_default.predict({"input_tensor:0": images}, outputs=["ArgMax:0"])["ArgMax:0"].tolist() == [1, 0]
    with pytest.raises(ValueError, match="key_input 'image' is not an input"):
        OracleBackend.from_table(RESNET50_SIGNATURE, "image", table)


def test_outputs_of_the_oracle_function_are_checked_against_the_signature():
    sig = ModelSignature(
        (TensorSpec("x", "float32", ("N", 2)),),
        (TensorSpec("y", "int64", ("N",)), TensorSpec("z", "float32", ("N", 3))),
    )

    def wrong(feeds):
        n = len(feeds["x"])
        return {"y": np.zeros(n, np.int32), "z": np.zeros((n + 1, 4), np.float32)}

    backend = OracleBackend(sig, wrong)
    backend.load("m", sig)
    with pytest.raises(ModelMismatchError) as info:
        backend.predict({"x": np.zeros((2, 2), np.float32)})
    assert [(m.tensor, m.what) for m in info.value.mismatches] == [("y", "dtype"), ("z", "dim 1"), ("z", "batch size")]


def test_load_checks_the_signature_it_is_given():
    backend = OracleBackend(RESNET50_SIGNATURE, lambda feeds: {})
    with pytest.raises(ModelMismatchError, match=r"model 'oracle\(x.onnx\)' .*\n  - input 'input_ids'"):
        backend.load("x.onnx", bert_signature())


def test_per_sample_oracle_with_several_inputs():
    sig = bert_signature(seq_len=8)

    def answer(sample):  # the "right" span: logits peak at the first and last unmasked positions
        n = int(sample["input_mask"].sum())
        start = np.full(8, -1.0, np.float32)
        end = np.full(8, -1.0, np.float32)
        start[0] = end[n - 1] = 1.0
        return {"output_start_logits": start, "output_end_logits": end}

    backend = OracleBackend.per_sample(sig, answer)
    backend.load("bert.onnx", sig)
    mask = np.array([[1] * 3 + [0] * 5, [1] * 8], np.int64)
    out = backend.predict(
        {"input_ids": np.ones((2, 8), np.int64), "input_mask": mask, "segment_ids": np.zeros((2, 8), np.int64)}
    )
    assert out["output_end_logits"].argmax(axis=1).tolist() == [2, 7]
    assert out["output_start_logits"].shape == (2, 8)


def test_oracle_calls_are_serialised_unless_thread_safe():
    active = []
    peak = []
    lock = threading.Lock()

    def slow(feeds):
        with lock:
            active.append(1)
            peak.append(len(active))
        threading.Event().wait(0.01)
        with lock:
            active.pop()
        return {"ArgMax:0": np.zeros(len(feeds["input_tensor:0"]), np.int64)}

    for thread_safe, expect_serial in ((False, True), (True, False)):
        peak.clear()
        backend = OracleBackend(RESNET50_SIGNATURE, slow, thread_safe=thread_safe)
        backend.load("m", RESNET50_SIGNATURE)
        barrier = threading.Barrier(4)

        def call(_, backend=backend, barrier=barrier):
            barrier.wait()
            return backend.predict({"input_tensor:0": _images(1)}, outputs=["ArgMax:0"])

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(call, range(4)))
        assert (max(peak) == 1) == expect_serial
        assert backend.calls == 4
