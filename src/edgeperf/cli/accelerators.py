"""``--providers``: onnxruntime execution providers (with their options) from one command-line value.

Syntax: providers in priority order separated by ``;``, each ``NAME`` or ``NAME:key=value,key=value``.
NAME is onnxruntime's own (``CUDAExecutionProvider``) or a short alias (``cuda``, ``tensorrt``,
``cpu``, ...). Values stay strings, as onnxruntime's provider options take them. Example::

    --providers "tensorrt:trt_fp16_enable=True,trt_engine_cache_enable=True;cuda:device_id=0;cpu"
"""

from __future__ import annotations

from ..errors import UsageError

from typing import Union

ALIASES = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "trt": "TensorrtExecutionProvider",
    "rocm": "ROCMExecutionProvider",
    "migraphx": "MIGraphXExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "dml": "DmlExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
}

Provider = Union[str, tuple[str, dict[str, str]]]


def parse_providers(text: str) -> list[Provider]:
    """``"tensorrt:trt_fp16_enable=True;cpu"`` -> ``[("TensorrtExecutionProvider", {...}), "CPUExecutionProvider"]``.

    Raises ValueError naming the part that is not ``NAME`` or ``NAME:key=value,...``.
    """
    out: list[Provider] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        name, sep, opts = part.partition(":")
        name = ALIASES.get(name.strip().lower(), name.strip())
        if not name:
            raise UsageError(f"--providers: {part!r} has no provider name (expected NAME or NAME:key=value,...)")
        if not sep:
            out.append(name)
            continue
        options: dict[str, str] = {}
        for item in (i.strip() for i in opts.split(",")):
            key, eq, value = item.partition("=")
            if not eq or not key.strip():
                raise UsageError(f"--providers: in {part!r}, {item!r} is not key=value")
            options[key.strip()] = value.strip()
        out.append((name, options))
    if not out:
        raise UsageError("--providers: no provider given (expected e.g. 'cuda;cpu')")
    return out
