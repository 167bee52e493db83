"""System description JSON (``systems/<system>.json``): validation and a machine-filled template.

The field lists are the checker's (:attr:`RoundRules.system_required_fields`, spec submission.md
§3.1); the value rules are §3.2 plus the rules' "meaningful response" fields, which must not be
left empty or as a ``TODO`` placeholder.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any, Mapping

from ..rules import V1_1, RoundRules
from ...errors import EdgeperfError

__all__ = [
    "SystemJsonError",
    "TODO_PREFIX",
    "MEANINGFUL_FIELDS",
    "validate_system_json",
    "unknown_fields",
    "empty_meaningful_fields",
    "load_system_json",
    "machine_system_json",
]

TODO_PREFIX = "TODO"

#: Fields the submission rules say need a meaningful response (the others may be blank).
MEANINGFUL_FIELDS = (
    "submitter",
    "division",
    "system_type",
    "status",
    "system_name",
    "number_of_nodes",
    "host_processors_per_node",
    "host_processor_model_name",
    "host_processor_core_count",
    "host_memory_capacity",
    "host_storage_type",
    "host_storage_capacity",
    "accelerators_per_node",
    "accelerator_model_name",
    "accelerator_memory_configuration",
    "accelerator_memory_capacity",
    "framework",
    "other_software_stack",
    "operating_system",
)
_INT_FIELDS = ("number_of_nodes", "host_processors_per_node")
_INT_OR_EMPTY_FIELDS = ("accelerators_per_node",)


class SystemJsonError(EdgeperfError, ValueError):
    """A system JSON that a submission cannot use; ``problems`` lists every problem."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = list(problems)
        if len(self.problems) == 1:  # one problem, one line
            super().__init__(f"{source}: {self.problems[0]}")
            return
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s) in the system description:\n{lines}")


def _is_todo(value: Any) -> bool:
    return isinstance(value, str) and value.strip().upper().startswith(TODO_PREFIX)


def validate_system_json(
    data: Any,
    *,
    division: str | None = None,
    submitter: str | None = None,
    rules: RoundRules = V1_1,
) -> list[str]:
    """Every problem of a system description, in one list (empty when it is usable).

    Missing required keys, ``TODO`` placeholders, a bad ``status`` or
    ``system_type``, non-string model names, non-integer node/processor counts, and a
    ``division``/``submitter`` that differs from the tree's (when given).
    """
    if not isinstance(data, Mapping):
        return [f"the system description must be a JSON object, not {type(data).__name__}"]
    problems: list[str] = []
    missing = [k for k in rules.system_required_fields if k not in data]
    if missing:
        problems.append(f"missing required field(s): {', '.join(missing)}")
    for key in rules.system_required_fields + rules.system_power_fields:
        if key in data and _is_todo(data[key]):
            problems.append(f"{key}: still a placeholder ({data[key]!r})")
    status = data.get("status")
    if (
        "status" in data
        and not _is_todo(status)
        and (not isinstance(status, str) or status.lower() not in rules.statuses)
    ):
        problems.append(f"status: {status!r} is not one of {', '.join(rules.statuses)}")
    stype = data.get("system_type")
    if "system_type" in data and not _is_todo(stype) and stype not in rules.system_types():
        problems.append(f"system_type: {stype!r} is not one of {', '.join(rules.system_types())}")
    for key in rules.system_string_fields:
        if key in data and not isinstance(data[key], str):
            problems.append(f"{key}: must be a string, not {type(data[key]).__name__}")
    for key in _INT_FIELDS + _INT_OR_EMPTY_FIELDS:
        value = data.get(key)
        if key not in data or _is_todo(value) or (key in _INT_OR_EMPTY_FIELDS and value == ""):
            continue
        try:
            int(value)
        except (TypeError, ValueError):
            problems.append(f"{key}: {value!r} is not an integer")
    if division is not None and "division" in data and not _is_todo(data["division"]) and data["division"] != division:
        problems.append(f"division: {data['division']!r} differs from the division {division!r} (case-sensitive)")
    if (
        submitter is not None
        and "submitter" in data
        and not _is_todo(data["submitter"])
        and (not isinstance(data["submitter"], str) or data["submitter"].lower() != submitter.lower())
    ):
        problems.append(f"submitter: {data['submitter']!r} differs from the submitter {submitter!r}")
    return problems


def empty_meaningful_fields(data: Mapping) -> list[str]:
    """Fields the rules want a meaningful response for that are empty (the checker accepts them,
    and real v1.1 files have some; :func:`build_submission` warns)."""
    return [
        k
        for k in MEANINGFUL_FIELDS
        if k in data and (data[k] is None or (isinstance(data[k], str) and not data[k].strip()))
    ]


def unknown_fields(data: Mapping, rules: RoundRules = V1_1) -> list[str]:
    """Keys the checker does not know (it warns ``field X is unknown`` for each)."""
    known = set(rules.system_required_fields) | set(rules.system_power_fields)
    return [k for k in data if k not in known]


def load_system_json(path: str | os.PathLike, **kw) -> dict:
    """Read and validate a system JSON; :class:`SystemJsonError` listing every problem."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SystemJsonError(str(path), ["file not found"]) from None
    except IsADirectoryError:
        raise SystemJsonError(str(path), ["is a folder; expected the system description JSON file"]) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SystemJsonError(str(path), [f"not valid JSON: {exc}"]) from None
    problems = validate_system_json(data, **kw)
    if problems:
        raise SystemJsonError(str(path), problems)
    return data


# -- the machine-filled template --------------------------------------------------------------


def _memory(nbytes: int | None) -> str:
    if not nbytes:
        return f"{TODO_PREFIX}: host memory capacity (pip install 'edgeperf[sysinfo]' to detect it)"
    return f"{nbytes / 1e9:.0f} GB"


def _operating_system() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return f"{line.split('=', 1)[1].strip().strip(chr(34))} (kernel {platform.release()})"
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}".strip() or f"{TODO_PREFIX}: operating system"


def _version(module: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return None


def machine_system_json(division: str | None = None, submitter: str | None = None) -> dict:
    """A system description with what this machine tells; ``"TODO: …"`` where a person must fill in.

    :func:`validate_system_json` flags every ``TODO`` value, so the file cannot go into a tree
    unedited.
    """
    from .machine import accelerator_fields, detect

    todo = TODO_PREFIX + ": "
    facts = detect()
    sockets = facts.sockets
    cores = facts.physical_cores // sockets if facts.physical_cores and sockets else facts.physical_cores
    ort = _version("onnxruntime")
    torch = _version("torch")
    framework = ", ".join(f for f in (ort and f"ONNX Runtime {ort}", torch and f"PyTorch {torch}") if f)
    edgeperf_version = _version("edgeperf") or "unknown"
    others = [f"Python {platform.python_version()}", f"edgeperf {edgeperf_version}"]
    numpy_v = _version("numpy")
    if numpy_v:
        others.append(f"NumPy {numpy_v}")
    data = {
        "division": division or todo + "closed or open",
        "submitter": submitter or todo + "your organization",
        "status": todo + "available, preview or rdi",
        "system_name": todo + "a name for this system",
        "system_type": "edge",
        "number_of_nodes": 1,
        "host_processor_model_name": facts.cpu_model or todo + "CPU model",
        "host_processors_per_node": sockets if sockets is not None else todo + "number of CPU sockets",
        "host_processor_core_count": cores if cores is not None else todo + "cores per CPU",
        "host_processor_frequency": facts.cpu_frequency or "",
        "host_processor_caches": facts.cpu_caches or "",
        "host_processor_interconnect": "",
        "host_memory_capacity": _memory(facts.memory_bytes),
        "host_memory_configuration": "",
        "host_storage_capacity": todo + "storage capacity, e.g. 512 GB",
        "host_storage_type": todo + "storage type, e.g. NVMe SSD",
        "host_networking": "",
        "host_networking_topology": "",
        **accelerator_fields(facts),
        "accelerator_frequency": "",
        "accelerator_host_interconnect": "",
        "accelerator_interconnect": "",
        "accelerator_interconnect_topology": "",
        "accelerator_on-chip_memories": "",
        "framework": framework or todo + "inference framework and version",
        "other_software_stack": ", ".join(others),
        "operating_system": _operating_system(),
        "cooling": "",
        "hw_notes": "",
        "sw_notes": f"edgeperf {edgeperf_version} (independent implementation) on {sys.implementation.name}",
    }
    missing = [k for k in V1_1.system_required_fields if k not in data]
    assert not missing, missing  # the template covers every required field
    return data
