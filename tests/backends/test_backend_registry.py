"""The backend registry, the interface's data types, and lazy imports of the heavy libraries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgeperf.backends import (
    DEFAULT_BACKEND,
    Backend,
    BackendConfigError,
    BackendError,
    BackendUnavailableError,
    Mismatch,
    ModelMismatchError,
    ModelSignature,
    TensorSpec,
    available_backends,
    check_signature,
    compare_signatures,
    get_backend,
    register_backend,
)
from edgeperf.backends import registry


class EchoBackend(Backend):
    """A minimal third-party backend: returns its single input as its single output."""

    name = "echo"

    def __init__(self, scale: float = 1.0):
        self.scale = scale

    def load(self, model_path, signature):
        self.model = str(model_path)
        self.signature = self.model_signature = signature

    def predict(self, feeds, outputs=None):
        names = self._output_names(outputs)
        self._check_feeds(feeds)
        (x,) = feeds.values()
        return {n: x * self.scale for n in names}


ECHO_SIG = ModelSignature(
    inputs=(TensorSpec("x", "float32", ("N", 2)),), outputs=(TensorSpec("y", "float32", ("N", 2)),)
)


@pytest.fixture
def clean_registry(monkeypatch):
    monkeypatch.setattr(registry, "_registry", dict(registry._registry))
    monkeypatch.setattr(registry, "_entry_points", lambda: {})


def test_importing_the_package_imports_no_heavy_library():
    code = (
        "import sys, edgeperf.backends, edgeperf.backends.onnxruntime_backend, edgeperf.backends.torch_backend, "
        "edgeperf.testing, edgeperf.testing.oracle, edgeperf.testing.onnx_standins; "
        "print(sorted(m for m in ('onnxruntime', 'torch', 'onnx') if m in sys.modules))"
    )
    src = str(Path(registry.__file__).parents[2])
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": src}
    )
    assert out.stdout.strip() == "[]"


def test_builtin_names_and_default():
    assert DEFAULT_BACKEND == "onnxruntime"
    assert {"onnxruntime", "torch"} <= set(available_backends())


def test_default_backend_is_onnxruntime():
    pytest.importorskip("onnxruntime")
    backend = get_backend(threads=1)
    assert backend.name == "onnxruntime" and backend.threads == 1
    assert "not loaded" in repr(backend)


def test_unknown_backend_and_unknown_option_list_the_valid_ones():
    with pytest.raises(BackendConfigError, match=r"unknown backend 'kserve'; known backends: .*onnxruntime.*torch"):
        get_backend("kserve")
    pytest.importorskip("onnxruntime")
    with pytest.raises(
        BackendConfigError, match=r"unknown option\(s\) 'thread'; its options are: threads, providers, inter_op_threads"
    ):
        get_backend("onnxruntime", thread=4)


@pytest.mark.parametrize("name, module, extra", [("onnxruntime", "onnxruntime", "vision"), ("torch", "torch", "torch")])
def test_missing_library_names_the_extra_to_install(monkeypatch, name, module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import <module>` raise ImportError
    with pytest.raises(BackendUnavailableError) as info:
        get_backend(name)
    assert isinstance(info.value, ImportError) and isinstance(info.value, BackendError)
    assert f"needs the {module} package" in str(info.value)
    assert f"pip install 'edgeperf[{extra}]'" in str(info.value)


def test_register_a_backend_class_or_a_module_path(clean_registry):
    register_backend("echo", EchoBackend)
    backend = get_backend("echo", scale=2.0)
    backend.load("anything://model", ECHO_SIG)
    out = backend.predict({"x": np.ones((3, 2), np.float32)})
    assert out["y"].tolist() == [[2.0, 2.0]] * 3
    with pytest.raises(BackendConfigError, match="already registered"):
        register_backend("echo", EchoBackend)
    register_backend("echo", f"{__name__}:EchoBackend", replace=True)
    assert isinstance(get_backend("echo"), EchoBackend)
    with pytest.raises(BackendConfigError, match=r"unknown option\(s\) 'scal'; its options are: scale"):
        get_backend("echo", scal=1)
    register_backend("broken", f"{__name__}:NoSuchThing")
    with pytest.raises(BackendConfigError, match="has no attribute 'NoSuchThing'"):
        get_backend("broken")
    with pytest.raises(BackendConfigError, match="factory must be callable"):
        register_backend("bad", "not-a-path")


def test_entry_point_backends_are_found(monkeypatch, clean_registry):
    class EP:
        name = "remote"

        def load(self):
            return EchoBackend

    monkeypatch.setattr(registry, "_entry_points", lambda: {"remote": EP()})
    assert "remote" in available_backends()
    assert isinstance(get_backend("remote"), EchoBackend)


def test_backend_is_a_context_manager_and_close_unloads(clean_registry):
    with EchoBackend() as backend:
        backend.load("m", ECHO_SIG)
        assert backend.signature is ECHO_SIG
    assert backend.signature is None


# -- TensorSpec, ModelSignature, signature comparison ---------------------------------------------


def test_tensor_spec_normalises_dtypes_and_checks_dims():
    assert TensorSpec("a", np.float32, (1, 2)).dtype == "float32"
    assert TensorSpec("a", "float32", [None, "N", 3]).shape == (None, "N", 3)
    for ambiguous in ("float", "f4", "int", "flaot32"):
        with pytest.raises(ValueError, match="dtype must be a numpy dtype name such as 'float32'"):
            TensorSpec("a", ambiguous, ())
    with pytest.raises(ValueError, match=r"got 'float' \(numpy reads it as 'float64'\)"):
        TensorSpec("a", "float", ())
    assert TensorSpec("a", np.dtype("uint8"), (np.int64(3),)).shape == (3,)
    assert TensorSpec("a", "bfloat16", ()).dtype == "bfloat16"  # no numpy type: kept verbatim
    assert TensorSpec("a", "seq(tensor(float))", ()).dtype == "seq(tensor(float))"
    assert TensorSpec("a", "float16", ("N", 4)).describe() == "float16[N,4]"
    assert TensorSpec("a", "int64", (None,)).describe() == "int64[?]"
    for bad in [(-1,), (1.5,), (True,)]:
        with pytest.raises(ValueError, match="each dimension must be"):
            TensorSpec("a", "float32", bad)
    with pytest.raises(ValueError, match="non-empty string"):
        TensorSpec("", "float32", ())


def test_signature_lookup_and_duplicates():
    sig = ECHO_SIG
    assert sig.input_names == ("x",) and sig.output_names == ("y",)
    assert sig.output("y").shape == ("N", 2)
    with pytest.raises(KeyError):
        sig.input("nope")
    with pytest.raises(ValueError, match="duplicate output names: y"):
        ModelSignature(sig.inputs, sig.outputs * 2)
    assert "inputs: 'x' float32[N,2]; outputs: 'y' float32[N,2]" == sig.describe()


def test_compare_signatures_rules():
    want = ModelSignature(
        inputs=(TensorSpec("a", "float32", ("N", 3)),),
        outputs=(TensorSpec("o", "int64", ("N",)),),
    )
    # Extra outputs are fine; dynamic on either side matches; fixed against fixed must agree.
    found = ModelSignature(
        inputs=(TensorSpec("a", "float32", (1, None)),),
        outputs=(TensorSpec("extra", "float32", ()), TensorSpec("o", "int64", (7,))),
    )
    assert compare_signatures(want, found) == []
    found = ModelSignature(
        inputs=(TensorSpec("a", "float32", ("N", 4)), TensorSpec("b", "int64", ("N",))),
        outputs=(TensorSpec("o", "float64", ("N", 1)),),
    )
    ms = compare_signatures(want, found)
    assert [(m.kind, m.tensor, m.what) for m in ms] == [
        ("input", "a", "dim 1"),
        ("input", "b", "presence"),
        ("output", "o", "dtype"),
        ("output", "o", "rank"),
    ]
    with pytest.raises(ModelMismatchError) as info:
        check_signature("remote://model", want, found)
    assert (
        str(info.value).splitlines()[0]
        == "model 'remote://model' does not match the expected signature (4 mismatches):"
    )
    assert str(Mismatch("input", "a", "dim 1", "3", "4")) == "input 'a': dim 1: expected 3, found 4"
    assert str(ModelMismatchError("m", [Mismatch("model", "forward", "x", "1", "2")])).startswith(
        "model 'm' does not match the expected signature (1 mismatch):"
    )
