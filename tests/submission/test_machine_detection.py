"""Issue 15 item 8: the system JSON template detects accelerators (NVML) and CPU details through
psutil and py-cpuinfo. NVML is replaced by a stand-in module reporting two known GPUs."""

from __future__ import annotations

import sys
import types

import pytest

from edgeperf.submission.build import machine_system_json, validate_system_json
from edgeperf.submission.build import machine as m


def _fake_pynvml(names, memory):
    mod = types.ModuleType("pynvml")
    mod.nvmlInit = lambda: None
    mod.nvmlShutdown = lambda: None
    mod.nvmlDeviceGetCount = lambda: len(names)
    mod.nvmlDeviceGetHandleByIndex = lambda i: i
    mod.nvmlDeviceGetName = lambda h: names[h].encode()  # older bindings return bytes
    mod.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(total=memory)
    return mod


def test_gpus_from_nvml_fill_the_accelerator_fields(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml(["NVIDIA H200", "NVIDIA H200"], 150_754_820_096))
    d = machine_system_json("closed", "Acme")
    assert d["accelerators_per_node"] == 2
    assert d["accelerator_model_name"] == "NVIDIA H200"
    assert d["accelerator_memory_capacity"] == "151 GB"
    assert any(p.startswith("accelerator_memory_configuration") for p in validate_system_json(d))


def test_no_driver_means_no_accelerator(monkeypatch):
    mod = _fake_pynvml([], 0)

    def fail():
        raise RuntimeError("NVML Shared Library Not Found")

    mod.nvmlInit = fail
    monkeypatch.setitem(sys.modules, "pynvml", mod)
    d = machine_system_json()
    assert (d["accelerators_per_node"], d["accelerator_model_name"]) == (0, "-")


def test_cpu_and_memory_come_from_psutil_and_cpuinfo():
    psutil = pytest.importorskip("psutil")
    cpuinfo = pytest.importorskip("cpuinfo")
    facts = m.detect()
    assert {"psutil", "py-cpuinfo"} <= set(facts.sources)
    assert facts.physical_cores == psutil.cpu_count(logical=False)
    assert facts.cpu_model == cpuinfo.get_cpu_info()["brand_raw"]
    d = machine_system_json()
    assert d["host_memory_capacity"] == f"{psutil.virtual_memory().total / 1e9:.0f} GB"
    assert d["host_processor_model_name"] == facts.cpu_model


def test_missing_libraries_leave_fields_to_fill_in(monkeypatch):
    for name in ("psutil", "cpuinfo", "pynvml"):
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError
    d = machine_system_json()
    assert d["host_memory_capacity"].startswith("TODO")
    assert d["accelerators_per_node"] == 0
    assert any(p.startswith("host_memory_capacity") for p in validate_system_json(d))
