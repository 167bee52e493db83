"""The submission system: tree layout, checker (rules per round) and the final results table.

The checker (spec submission.md §2-5, §10.2; power.md §8, §10.2)::

    from edgeperf.submission import check_tree, write_summary_csv
    report = check_tree("path/to/tree", version="v1.1")     # or CheckOptions(...)
    print(report.verdict().line)
    write_summary_csv(report.rows, "summary.csv")

Names are imported lazily, so ``import edgeperf.submission.report`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "check_tree": "walk",
    "CheckOptions": "context",
    "CheckReport": "results",
    "ScenarioResult": "results",
    "Verdict": "results",
    "Finding": "findings",
    "Severity": "findings",
    "Scope": "findings",
    "RoundRules": "rules",
    "AccuracyRule": "rules",
    "RULES": "rules",
    "get_rules": "rules",
    "SUMMARY_COLUMNS": "summary_csv",
    "SummaryRow": "summary_csv",
    "format_summary_csv": "summary_csv",
    "read_summary_csv": "summary_csv",
    "write_summary_csv": "summary_csv",
    "report_to_json": "json_report",
    "write_json_report": "json_report",
    "JSON_FORMAT_VERSION": "json_report",
    "render_text_report": "text_report",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'edgeperf.submission' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
