"""Copies of the real v1.1 fixture tree for mutation tests, and small editing helpers.

Only the submitters a test names are copied (symlinks kept as links); the copy is made writable,
since the fixture files are read-only.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

from fixture_paths import FIXTURES

ALIBABA = "closed/Alibaba"
KRAI = "closed/Krai"
OCTOML = "open/OctoML"
EDGECORTIX_OPEN = "open/Edgecortix"

# Alibaba T4 SingleStream: the scenario most mutations touch
T4 = "closed/Alibaba/results/T4x1_TRT"
T4_SS = f"{T4}/ssd-mobilenet/SingleStream"
T4_OFF = f"{T4}/ssd-mobilenet/Offline"
SS_DETAIL_REL = f"{T4_SS}/performance/run_1/mlperf_log_detail.txt"
T4_SYS = "closed/Alibaba/systems/T4x1_TRT.json"
T4_MEAS_SS = "closed/Alibaba/measurements/T4x1_TRT/ssd-mobilenet/SingleStream"
T4_COMP_SS = "closed/Alibaba/compliance/T4x1_TRT/ssd-mobilenet/SingleStream"
XAVIER = "closed/Krai/results/xavier-power.0-fan.cool-tflite-v2.5.0-ruy/resnet50"
OCTO_AWS = "open/OctoML/results/aws-m5zn.6xlarge-tvm/resnet50/offline"


def copy_tree(dest: Path, *submitters: str) -> Path:
    """Copy ``division/submitter`` directories of the fixture into ``dest``; return ``dest``."""
    for sub in submitters:
        shutil.copytree(FIXTURES / sub, dest / sub, symlinks=True)
    for dirpath, dirnames, filenames in os.walk(dest):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            if not os.path.islink(p):
                os.chmod(p, os.stat(p).st_mode | stat.S_IWUSR)
    os.chmod(dest, os.stat(dest).st_mode | stat.S_IWUSR)
    return dest


def replace_in(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace text that must be there (so a mutation cannot silently do nothing)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def set_detail_value(path: Path, key: str, value, *, metadata: dict | None = None) -> None:
    """Set the value of the first ``:::MLLOG`` record with ``key`` (which must exist)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    for i, line in enumerate(lines):
        if line.startswith(":::MLLOG"):
            rec = json.loads(line[len(":::MLLOG") :])
            if rec["key"] == key:
                rec["value"] = value
                if metadata:
                    rec["metadata"].update(metadata)
                lines[i] = ":::MLLOG " + json.dumps(rec)
                path.write_text("\n".join(lines), encoding="utf-8")
                return
    raise AssertionError(f"{key} not in {path}")


def drop_detail_key(path: Path, key: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    keep = [l for l in lines if not (l.startswith(":::MLLOG") and json.loads(l[8:])["key"] == key)]
    assert len(keep) < len(lines), f"{key} not in {path}"
    path.write_text("\n".join(keep), encoding="utf-8")


def append_detail_error(path: Path, message: str) -> None:
    rec = {
        "key": "error_runtime",
        "value": message,
        "time_ms": 1.0,
        "namespace": "mlperf::logging",
        "event_type": "POINT_IN_TIME",
        "metadata": {"is_error": True, "is_warning": False, "file": "x.cc", "line_no": 1, "pid": 1, "tid": 1},
    }
    with open(path, "a", encoding="utf-8") as f:
        f.write(":::MLLOG " + json.dumps(rec) + "\n")


def edit_json(path: Path, fn) -> None:
    obj = json.loads(path.read_text(encoding="utf-8"))
    fn(obj)
    path.write_text(json.dumps(obj, indent=2), encoding="utf-8")


def rename(root: Path, old: str, new: str) -> None:
    os.rename(root / old, root / new)
