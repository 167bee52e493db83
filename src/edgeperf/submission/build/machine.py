"""What this machine can tell about itself, for the system description template.

The facts come from maintained libraries, each optional and imported only when asked
(``pip install 'edgeperf[sysinfo]'``): py-cpuinfo (CPU model, frequency, caches), psutil
(physical cores, memory) and NVML through nvidia-ml-py's ``pynvml`` (NVIDIA GPUs: count, model,
memory). Whatever a library cannot tell, or is missing, is left for a person to fill in. The
number of CPU sockets is the one fact none of them reports; it is read from the kernel's CPU list
(``/proc/cpuinfo`` physical ids) on Linux only, and left to fill in elsewhere.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class MachineFacts:
    """Detected facts; None where unknown."""

    cpu_model: str | None = None
    cpu_frequency: str | None = None
    cpu_caches: str | None = None
    sockets: int | None = None
    physical_cores: int | None = None  # all sockets together
    memory_bytes: int | None = None
    accelerators: list[tuple[str, int | None]] = field(default_factory=list)  # (model, memory bytes)
    sources: list[str] = field(default_factory=list)  # the libraries that answered


def _size(nbytes: int) -> str:
    """Decimal gigabytes, as published system descriptions write them: ``25276203008`` -> ``25 GB``."""
    gb = nbytes / 1e9
    return f"{gb:.0f} GB" if gb >= 10 else f"{gb:.1f} GB"


def _cpuinfo(facts: MachineFacts) -> None:
    try:
        import cpuinfo
    except ImportError:
        return
    try:
        info = cpuinfo.get_cpu_info()
    except Exception:  # py-cpuinfo runs helper processes; any failure just means "unknown"
        return
    facts.sources.append("py-cpuinfo")
    facts.cpu_model = info.get("brand_raw") or None
    facts.cpu_frequency = info.get("hz_advertised_friendly") or None
    caches = [
        f"{name} {_cache(info.get(key))}"
        for name, key in (("L2", "l2_cache_size"), ("L3", "l3_cache_size"))
        if info.get(key)
    ]
    facts.cpu_caches = ", ".join(caches) or None


def _cache(value) -> str:
    if isinstance(value, int):
        return f"{value // 1024 // 1024} MiB" if value >= 1 << 20 else f"{value // 1024} KiB"
    return str(value)


def _psutil(facts: MachineFacts) -> None:
    try:
        import psutil
    except ImportError:
        return
    facts.sources.append("psutil")
    facts.physical_cores = psutil.cpu_count(logical=False) or None
    facts.memory_bytes = int(psutil.virtual_memory().total)
    if facts.cpu_frequency is None:
        freq = psutil.cpu_freq()
        if freq is not None and freq.max:
            facts.cpu_frequency = f"{freq.max / 1000:.2f} GHz"


def _nvml(facts: MachineFacts) -> None:
    try:
        import pynvml
    except ImportError:
        return
    try:
        pynvml.nvmlInit()
    except Exception:  # no driver, no GPU: NVMLError_LibraryNotFound / DriverNotLoaded
        return
    try:
        facts.sources.append("pynvml")
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            name = pynvml.nvmlDeviceGetName(handle)
            name = name.decode() if isinstance(name, bytes) else str(name)
            try:
                memory = int(pynvml.nvmlDeviceGetMemoryInfo(handle).total)
            except Exception:
                memory = None
            facts.accelerators.append((name, memory))
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass


def _linux_sockets() -> int | None:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    ids = {line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("physical id")}
    return len(ids) or None


def detect() -> MachineFacts:
    """Every fact the installed libraries give (none of them is required)."""
    facts = MachineFacts()
    _cpuinfo(facts)
    _psutil(facts)
    _nvml(facts)
    facts.sockets = _linux_sockets()
    if facts.cpu_model is None:
        facts.cpu_model = platform.processor() or None
    if facts.physical_cores is None:
        facts.physical_cores = os.cpu_count()
    return facts


def accelerator_fields(facts: MachineFacts) -> dict[str, object]:
    """The ``accelerator_*`` fields: the GPUs NVML found (one model, or each model named)."""
    if not facts.accelerators:
        return {
            "accelerators_per_node": 0,
            "accelerator_model_name": "-",
            "accelerator_memory_capacity": "-",
            "accelerator_memory_configuration": "-",
        }
    names = sorted({name for name, _ in facts.accelerators})
    memories = sorted({m for _, m in facts.accelerators if m})
    return {
        "accelerators_per_node": len(facts.accelerators),
        "accelerator_model_name": " / ".join(names),
        "accelerator_memory_capacity": " / ".join(_size(m) for m in memories)
        if memories
        else "TODO: accelerator memory",
        "accelerator_memory_configuration": "TODO: accelerator memory type, e.g. HBM3",
    }
