"""The remote backend's pieces that need no server: options, URLs, KServe v2 types, metadata."""

from __future__ import annotations

import pytest

pytest.importorskip("tritonclient.http")

from edgeperf.backends import available_backends, get_backend  # noqa: E402
from edgeperf.backends.base import ModelSignature, TensorSpec, compare_signatures  # noqa: E402
from edgeperf.backends.errors import BackendConfigError  # noqa: E402
from edgeperf.backends.remote import RemoteBackend, _signature_from_metadata, dtype_to_kserve, kserve_to_dtype  # noqa: E402


def test_remote_is_a_plugin_through_the_entry_point_group():
    from edgeperf.backends.registry import _entry_points

    assert "remote" in _entry_points()  # not a built-in: pyproject's edgeperf.backends group
    assert "remote" in available_backends()
    assert isinstance(get_backend("remote", url="127.0.0.1:8000"), RemoteBackend)


@pytest.mark.parametrize(
    "url, address",
    [
        ("127.0.0.1:8000", "127.0.0.1:8000"),
        ("http://127.0.0.1:8001", "127.0.0.1:8001"),
        ("grpc://localhost:9000/", "localhost:9000"),
    ],
)
def test_urls_accepted(url, address):
    assert RemoteBackend(url).address == address


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("", "--url is required"),
        ("127.0.0.1", "host:port"),
        ("127.0.0.1:0", "1-65535"),
        ("127.0.0.1:70000", "1-65535"),
        ("ftp://127.0.0.1:21", "scheme"),
        ("http://127.0.0.1:8000/v2/models", "without a path"),
    ],
)
def test_bad_urls_are_one_clear_error(url, fragment):
    with pytest.raises(BackendConfigError, match=fragment):
        RemoteBackend(url)


@pytest.mark.parametrize(
    "options, fragment",
    [
        ({"protocol": "websocket"}, "protocol must be one of http, grpc"),
        ({"timeout": 0}, "timeout must be a positive number"),
        ({"timeout": float("inf")}, "timeout must be a positive number"),
        ({"timeout": float("nan")}, "timeout must be a positive number"),
        ({"ready_timeout": -1}, "ready_timeout must be a positive number"),
        ({"threads": 4}, "--threads and --providers configure a local model"),
    ],
)
def test_bad_options_are_refused(options, fragment):
    with pytest.raises(BackendConfigError, match=fragment):
        RemoteBackend("127.0.0.1:8000", **options)


def test_kserve_datatypes_follow_the_protocol_table():
    # KServe v2 "Tensor Data Types": BOOL, UINT8..UINT64, INT8..INT64, FP16, FP32, FP64, BYTES.
    pairs = {
        "BOOL": "bool",
        "UINT8": "uint8",
        "INT32": "int32",
        "INT64": "int64",
        "FP16": "float16",
        "FP32": "float32",
        "FP64": "float64",
        "BYTES": "object",
    }
    for kserve, numpy_name in pairs.items():
        assert kserve_to_dtype(kserve) == numpy_name
        assert dtype_to_kserve(numpy_name) == kserve
    assert kserve_to_dtype("BF16") == "BF16"  # no numpy type: kept, so the signature check reports it
    with pytest.raises(BackendConfigError, match="no KServe v2 data type"):
        dtype_to_kserve("complex64")


def test_metadata_becomes_a_signature_with_dynamic_dimensions():
    meta = {
        "name": "resnet",
        "inputs": [{"name": "input_tensor:0", "datatype": "FP32", "shape": [-1, 3, 224, 224]}],
        "outputs": [{"name": "ArgMax:0", "datatype": "INT64", "shape": [-1]}],
    }
    sig = _signature_from_metadata(meta)
    assert sig == ModelSignature(
        [TensorSpec("input_tensor:0", "float32", (None, 3, 224, 224))], [TensorSpec("ArgMax:0", "int64", (None,))]
    )
    wrong = _signature_from_metadata(
        {"inputs": [{"name": "input_tensor:0", "datatype": "FP16", "shape": [-1, 3, 224, 224]}], "outputs": []}
    )
    problems = compare_signatures(sig, wrong)
    assert [(m.tensor, m.what) for m in problems] == [("input_tensor:0", "dtype"), ("ArgMax:0", "presence")]
