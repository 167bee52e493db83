"""Building a submission tree from edgeperf runs (spec submission.md §2-3, §7.1).

* :func:`build_submission`: ``<runs>/<benchmark>/<scenario>/{performance,accuracy,TEST*}`` →
  ``<division>/<submitter>/{systems,code,results,measurements,compliance}``, verified and truncated.
* :func:`truncate_tree`: the official ``truncate_accuracy_log.py`` (hash line + 4 KiB head/tail).
* :func:`validate_system_json`, :func:`machine_system_json`: the system description.
"""

from __future__ import annotations

from .builder import (
    DEFAULT_IMPLEMENTATION,
    BuildError,
    BuildResult,
    ScenarioRuns,
    build_submission,
    discover_runs,
    model_folder,
)
from .system_json import (
    SystemJsonError,
    empty_meaningful_fields,
    load_system_json,
    machine_system_json,
    unknown_fields,
    validate_system_json,
)
from .truncation import TruncationReport, accuracy_log_hash, truncate_accuracy_dir, truncate_tree

__all__ = [
    "DEFAULT_IMPLEMENTATION",
    "BuildError",
    "BuildResult",
    "ScenarioRuns",
    "build_submission",
    "discover_runs",
    "model_folder",
    "SystemJsonError",
    "empty_meaningful_fields",
    "load_system_json",
    "machine_system_json",
    "unknown_fields",
    "validate_system_json",
    "TruncationReport",
    "accuracy_log_hash",
    "truncate_accuracy_dir",
    "truncate_tree",
]
