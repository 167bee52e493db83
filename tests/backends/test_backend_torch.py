"""The torch backend: TorchScript and pickled-module files, module objects, output mapping, checks."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

# TorchScript is deprecated in recent torch but is how many models ship; the tests still make some.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")

from edgeperf.backends import (  # noqa: E402
    BackendConfigError,
    ModelFileError,
    ModelMismatchError,
    ModelSignature,
    PredictError,
    TensorSpec,
    get_backend,
)
from edgeperf.backends.torch_backend import TorchBackend  # noqa: E402

CLASSIFIER_SIG = ModelSignature(
    inputs=(TensorSpec("input_tensor:0", "float32", ("N", 3, 8, 8)),),
    outputs=(TensorSpec("ArgMax:0", "int64", ("N",)), TensorSpec("softmax_tensor:0", "float32", ("N", 10))),
)


class Classifier(nn.Module):
    """Pool, linear, softmax, argmax: returns a tuple (argmax, softmax)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(3, 10)

    def forward(self, x):
        p = torch.softmax(self.fc(x.mean(dim=(2, 3))), dim=1)
        return torch.argmax(p, dim=1), p


class DictClassifier(Classifier):
    def forward(self, x):
        a, p = super().forward(x)
        return {"softmax_tensor:0": p, "ArgMax:0": a, "unused": p}


class WrongClassifier(Classifier):
    """Argmax as float32 (wrong dtype), softmax with an extra dimension (wrong rank)."""

    def forward(self, x):
        a, p = super().forward(x)
        return a.float(), p[:, :, None]


class ThreeInputs(nn.Module):
    """BERT-like: three int64 inputs → start and end logits."""

    def forward(self, input_ids, input_mask, segment_ids):
        x = input_ids.float() * input_mask.float()
        return x + segment_ids.float(), x - segment_ids.float()


BERT_SIG = ModelSignature(
    inputs=tuple(TensorSpec(n, "int64", ("N", 16)) for n in ("input_ids", "input_mask", "segment_ids")),
    outputs=tuple(TensorSpec(n, "float32", ("N", 16)) for n in ("output_start_logits", "output_end_logits")),
)


class DeepSupervision(nn.Module):
    """3D-UNet-like: full-resolution output first, then extra heads that must be ignored."""

    def forward(self, x):
        return x * 2, x[:, :, ::2, ::2, ::2], x[:, :, ::4, ::4, ::4]


UNET_SIG = ModelSignature(
    inputs=(TensorSpec("input", "float32", (1, 4, 8, 8, 8)),),
    outputs=(TensorSpec("output", "float32", (1, 4, 8, 8, 8)),),
)


def _x(n, seed=0):
    return np.random.default_rng(seed).random((n, 3, 8, 8), dtype=np.float32)


def _reference(x):
    with torch.no_grad():
        a, p = Classifier()(torch.from_numpy(x))
    return a.numpy(), p.numpy()


@pytest.mark.parametrize("module_cls", [Classifier, DictClassifier])
def test_load_module_maps_tuple_and_dict_outputs_by_name(module_cls):
    x = _x(4)
    with TorchBackend() as backend:
        backend.load_module(module_cls(), CLASSIFIER_SIG)
        assert backend.name == "torch" and backend.model == f"<{module_cls.__name__}>"
        out = backend.predict({"input_tensor:0": x})
    assert list(out) == ["ArgMax:0", "softmax_tensor:0"]
    a, p = _reference(x)
    np.testing.assert_array_equal(out["ArgMax:0"], a)
    np.testing.assert_allclose(out["softmax_tensor:0"], p, rtol=1e-6)
    assert out["ArgMax:0"].dtype == np.int64 and out["softmax_tensor:0"].dtype == np.float32


def test_predict_only_requested_outputs_and_inputs_passed_positionally():
    with TorchBackend() as backend:
        backend.load_module(Classifier(), CLASSIFIER_SIG)
        assert list(backend.predict({"input_tensor:0": _x(1)}, outputs=["ArgMax:0"])) == ["ArgMax:0"]
        with pytest.raises(PredictError, match=r"unknown output name\(s\) 'nope'"):
            backend.predict({"input_tensor:0": _x(1)}, outputs=["nope"])
    ids = np.arange(32, dtype=np.int64).reshape(2, 16)
    mask = np.ones_like(ids)
    seg = np.zeros_like(ids)
    seg[:, 8:] = 1
    with TorchBackend() as backend:
        backend.load_module(ThreeInputs(), BERT_SIG)
        out = backend.predict({"segment_ids": seg, "input_mask": mask, "input_ids": ids})  # feed order is irrelevant
    np.testing.assert_array_equal(out["output_start_logits"], ids + seg)
    np.testing.assert_array_equal(out["output_end_logits"], ids - seg)


def test_extra_trailing_outputs_are_ignored():
    x = np.random.default_rng(0).random((1, 4, 8, 8, 8), dtype=np.float32)
    with TorchBackend() as backend:
        backend.load_module(DeepSupervision(), UNET_SIG)
        out = backend.predict({"input": x})
    assert list(out) == ["output"]
    np.testing.assert_array_equal(out["output"], x * 2)


def test_dry_run_lists_every_mismatch_at_load():
    with pytest.raises(ModelMismatchError) as info:
        TorchBackend().load_module(WrongClassifier(), CLASSIFIER_SIG)
    text = str(info.value)
    assert "model '<WrongClassifier>'" in text and "(2 mismatches)" in text
    assert "output 'ArgMax:0': dtype: expected int64, found float32" in text
    assert "output 'softmax_tensor:0': rank: expected 2 float32[N,10], found 3 float32[1,10,1]" in text


def test_dry_run_reports_fixed_size_mismatches_and_missing_dict_keys():
    sig = ModelSignature(
        CLASSIFIER_SIG.inputs,
        (
            TensorSpec("ArgMax:0", "int64", ("N",)),
            TensorSpec("softmax_tensor:0", "float32", ("N", 1001)),
            TensorSpec("logits", "float32", ("N", 10)),
        ),
    )
    with pytest.raises(ModelMismatchError) as info:
        TorchBackend().load_module(DictClassifier(), sig)
    assert [(m.tensor, m.what) for m in info.value.mismatches] == [("logits", "presence")]
    assert "no such key (keys: 'softmax_tensor:0', 'ArgMax:0', 'unused')" in str(info.value)
    sig = ModelSignature(
        CLASSIFIER_SIG.inputs,
        (TensorSpec("ArgMax:0", "int64", ("N",)), TensorSpec("softmax_tensor:0", "float32", ("N", 1001))),
    )
    with pytest.raises(
        ModelMismatchError, match=r"softmax_tensor:0': dim 1: expected 1001 in float32\[N,1001\], found 10"
    ):
        TorchBackend().load_module(Classifier(), sig)


def test_too_few_outputs_and_wrong_argument_count():
    with pytest.raises(
        ModelMismatchError,
        match=r"forward': outputs: expected 3 tensors \(ArgMax:0, softmax_tensor:0, x\), found a single tensor",
    ):
        TorchBackend().load_module(
            nn.Identity(),
            ModelSignature(CLASSIFIER_SIG.inputs, CLASSIFIER_SIG.outputs + (TensorSpec("x", "float32", ()),)),
        )
    with pytest.raises(
        ModelMismatchError,
        match=r"positional arguments: expected 3 \(one per input: input_ids, input_mask, segment_ids\), found forward\(\) takes 1",
    ):
        TorchBackend().load_module(Classifier(), BERT_SIG)
    with pytest.raises(ModelMismatchError, match=r"positional arguments: expected 3 .* found forward\(\) takes 1"):
        TorchBackend().load_module(torch.jit.script(Classifier()), BERT_SIG)
    with TorchBackend() as backend:
        backend.load_module(DeepSupervision(), UNET_SIG)


def test_a_forward_pass_that_fails_in_the_dry_run_is_reported():
    sig = ModelSignature((TensorSpec("input_tensor:0", "float32", (1, 5, 8, 8)),), CLASSIFIER_SIG.outputs)
    with pytest.raises(ModelMismatchError) as info:
        TorchBackend().load_module(Classifier(), sig)
    (m,) = info.value.mismatches
    assert (m.kind, m.tensor, m.what) == ("model", "forward", "dry run on zeros")
    assert "'input_tensor:0' float32[1, 5, 8, 8]" in m.expected and m.found.startswith("RuntimeError: ")


def test_dynamic_dims_defer_the_check_to_the_first_predict():
    sig = ModelSignature((TensorSpec("input_tensor:0", "float32", ("N", 3, "H", "W")),), CLASSIFIER_SIG.outputs)
    backend = TorchBackend()
    backend.load_module(WrongClassifier(), sig)  # cannot run: H and W are unknown
    with pytest.raises(ModelMismatchError, match=r"\(2 mismatches\)"):
        backend.predict({"input_tensor:0": _x(2)})
    backend.load_module(Classifier(), sig)
    assert backend.predict({"input_tensor:0": _x(2)})["ArgMax:0"].shape == (2,)
    no_dry = TorchBackend(dry_run=False)
    no_dry.load_module(WrongClassifier(), CLASSIFIER_SIG)
    with pytest.raises(ModelMismatchError):
        no_dry.predict({"input_tensor:0": _x(1)})


@pytest.mark.slow
def test_torchscript_and_pickled_module_files(tmp_path):
    scripted = tmp_path / "classifier.torchscript"
    torch.jit.script(Classifier()).save(str(scripted))
    pickled = tmp_path / "classifier.pt"
    torch.save(Classifier(), pickled)
    x = _x(3)
    a, p = _reference(x)
    for path in (scripted, pickled):
        with get_backend("torch") as backend:
            backend.load(path, CLASSIFIER_SIG)
            assert backend.model == str(path)
            out = backend.predict({"input_tensor:0": x})
        np.testing.assert_array_equal(out["ArgMax:0"], a)
        np.testing.assert_allclose(out["softmax_tensor:0"], p, rtol=1e-6)
    with pytest.raises(ModelMismatchError, match=rf"model '{scripted}' .*\n.*dtype: expected int32, found int64"):
        TorchBackend().load(
            scripted,
            ModelSignature(CLASSIFIER_SIG.inputs, (TensorSpec("ArgMax:0", "int32", ("N",)), CLASSIFIER_SIG.outputs[1])),
        )


def test_exported_program_file(tmp_path):
    n = torch.export.Dim("N")
    exported = torch.export.export(Classifier(), (torch.zeros(2, 3, 8, 8),), dynamic_shapes=({0: n},))
    path = tmp_path / "classifier.pt2"
    torch.export.save(exported, str(path))
    x = _x(3)
    with TorchBackend() as backend:
        backend.load(path, CLASSIFIER_SIG)
        out = backend.predict({"input_tensor:0": x})
    np.testing.assert_array_equal(out["ArgMax:0"], _reference(x)[0])


def test_bad_model_files_give_one_clear_error(tmp_path):
    state = tmp_path / "weights.pth"
    torch.save(Classifier().state_dict(), state)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x80not a torch file" * 8)
    with pytest.raises(
        ModelFileError, match=rf"model file '{state}': holds a state dict, not a torch module; .*load_module"
    ):
        TorchBackend().load(state, CLASSIFIER_SIG)
    with pytest.raises(ModelFileError) as info:
        TorchBackend().load(garbage, CLASSIFIER_SIG)
    text = str(info.value)
    assert text.startswith(f"model file '{garbage}': torch cannot load it; tried as TorchScript (torch.jit.load): ")
    assert "; as an exported program (torch.export.load): " in text and "; as a pickled module (torch.load): " in text
    with pytest.raises(ModelFileError, match="no such file"):
        TorchBackend().load(tmp_path / "missing.pt", CLASSIFIER_SIG)


def test_options(monkeypatch):
    before = torch.get_num_threads()
    try:
        TorchBackend(threads=1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    for bad in (0, -2, 1.5, True):
        with pytest.raises(BackendConfigError, match="threads must be an int >= 1"):
            TorchBackend(threads=bad)
    with pytest.raises(BackendConfigError, match="bad device 'gpu0'"):
        TorchBackend(device="gpu0")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(BackendConfigError, match="sees no CUDA device"):
        TorchBackend(device="cuda:0")
    with pytest.raises(BackendConfigError, match="needs a torch.nn.Module, got function"):
        TorchBackend().load_module(lambda x: x, CLASSIFIER_SIG)


def test_feeds_are_checked_and_unusual_arrays_accepted():
    with TorchBackend() as backend:
        backend.load_module(Classifier(), CLASSIFIER_SIG)
        with pytest.raises(PredictError, match=r"input 'input_tensor:0': dtype float64, expected float32"):
            backend.predict({"input_tensor:0": _x(1).astype(np.float64)})
        x = np.asfortranarray(_x(2))
        x.flags.writeable = False
        out = backend.predict({"input_tensor:0": x})
    np.testing.assert_array_equal(out["ArgMax:0"], _reference(np.ascontiguousarray(x))[0])


def test_forward_failure_at_predict_is_a_predict_error():
    class Fails(Classifier):
        def forward(self, x):
            if x.shape[0] > 1:
                raise RuntimeError("batch too large")
            return super().forward(x)

    with TorchBackend() as backend:
        backend.load_module(Fails(), CLASSIFIER_SIG, name="fails")
        with pytest.raises(PredictError, match="model 'fails': torch forward failed: RuntimeError: batch too large"):
            backend.predict({"input_tensor:0": _x(2)})


def test_concurrent_predict_calls():
    with TorchBackend() as backend:
        backend.load_module(Classifier(), CLASSIFIER_SIG)
        batches = [_x(2, seed=i) for i in range(12)]
        with ThreadPoolExecutor(6) as pool:
            got = list(pool.map(lambda b: backend.predict({"input_tensor:0": b})["softmax_tensor:0"], batches))
    for b, g in zip(batches, got):
        np.testing.assert_allclose(g, _reference(b)[1], rtol=1e-6)
