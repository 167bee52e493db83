"""``edgeperf check --json``: the findings and results of a check run, machine-readable.

Format (``"format": "edgeperf-check"``, ``"format_version": 1``)::

    {
      "format": "edgeperf-check", "format_version": 1,
      "edgeperf_version": "0.1.0",
      "tree": "/abs/path", "ruleset": "v1.1",
      "options": {"submitter": null, "skip_compliance": false, "strict": false,
                  "submission_exceptions": false, "debug": false, "power_timezones": "r1.1"},
      "verdict": {"status": "pass" | "pass-with-errors" | "fail", "line": "...", "exit_code": 0,
                  "results": 28, "no_results": 0, "errors": 0, "warnings": 0,
                  "invalidating": 0},
      "results": [ {"location": "closed/Org/results/sys/bench/Offline", "division", "submitter",
                    "system", "benchmark", "model": "resnet", "scenario": "Offline",
                    "value": 12.266, "units": "Samples/s", "accuracy": "76.442",
                    "inferred": true, "compliance": 1, "errors": 0,
                    "power": null | {"value": 27.8, "units": "Watts", "average_watts": 27.8,
                                     "samples": 600, "duration_s": 600.137}} ],
      "no_results": ["closed/Org/results/sys/bench", ...],
      "findings": [ {"severity": "fatal" | "drop" | "soft" | "warn" | "info",
                     "level": "ERROR" | "WARNING" | "INFO", "invalidates": bool,
                     "check": "performance.seed", "message": "...", "file": "relative/path",
                     "location": "...", "division", "submitter", "system", "benchmark", "scenario",
                     "expected": ..., "found": ...,          # when known
                     "strict_check": true,                   # a SOFT check --strict enforces
                     "promoted_by_strict": true} ]           # it was enforced in this run
    }

Severities are those of spec submission.md §5.3 (see ``edgeperf.submission.findings``). Paths are
relative to ``tree``, with forward slashes. Numbers are JSON numbers (full precision).

History: format_version 1 (edgeperf 0.1.0) -- first version.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .. import __version__
from .._atomic import atomic_write
from .findings import Severity
from .results import CheckReport

__all__ = ["JSON_FORMAT", "JSON_FORMAT_VERSION", "report_to_json", "write_json_report"]

JSON_FORMAT = "edgeperf-check"
JSON_FORMAT_VERSION = 1


def _num(v: Any) -> Any:
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else (None if v is None else str(v))


def report_to_json(report: CheckReport) -> dict[str, Any]:
    """The JSON document (a dict) for a report; see the module docstring."""
    o = report.options
    v = report.verdict()
    results = []
    for r in report.results:
        p = r.power if r.has_power else None
        results.append(
            {
                "location": r.location,
                "division": r.division,
                "submitter": r.submitter,
                "system": r.system,
                "benchmark": r.benchmark,
                "model": r.mlperf_model,
                "scenario": r.scenario,
                "value": _num(r.value),
                "units": r.units,
                "accuracy": r.accuracy,
                "inferred": r.inferred,
                "compliance": r.compliance,
                "errors": r.errors,
                "power": None
                if p is None
                else {
                    "value": p.value,
                    "units": p.unit,
                    "average_watts": p.average_watts,
                    "samples": p.sample_count,
                    "duration_s": p.duration_s,
                },
            }
        )
    return {
        "format": JSON_FORMAT,
        "format_version": JSON_FORMAT_VERSION,
        "edgeperf_version": __version__,
        "tree": report.root,
        "ruleset": o.version,
        "options": {
            "submitter": o.submitter,
            "skip_compliance": o.skip_compliance,
            "strict": o.strict,
            "submission_exceptions": o.submission_exceptions,
            "debug": o.debug,
            "power_timezones": o.power_timezones,
        },
        "verdict": {
            "status": v.status,
            "line": v.line,
            "exit_code": v.exit_code,
            "results": len(results),
            "no_results": len(report.no_results),
            "errors": report.error_count,
            "warnings": report.warning_count,
            "invalidating": report.count(Severity.FATAL, Severity.DROP),
        },
        "results": results,
        "no_results": report.no_results,
        "findings": [f.as_dict() for f in report.findings],
    }


def write_json_report(report: CheckReport, path: str | os.PathLike) -> None:
    """Write the JSON document atomically (UTF-8, 2-space indent)."""
    atomic_write(path, json.dumps(report_to_json(report), indent=2, ensure_ascii=False) + "\n")
