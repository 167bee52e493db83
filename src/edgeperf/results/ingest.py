"""``edgeperf results ingest``: check a tree with the submission checker and store what it found.

The stored payload is everything the page needs, so the page never re-reads the tree for its
tables: the checker's summary rows, every result (valid or NoResults), every finding, and each
system description JSON. A fingerprint over the payload makes a repeated ingest of an unchanged
tree a no-op.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .. import __version__
from .errors import ResultsError
from .store import IngestOutcome, IngestPayload, Store

__all__ = ["build_payload", "ingest_tree", "MAX_SYSTEM_JSON_BYTES"]

#: A system description larger than this is not stored (real ones are a few kB).
MAX_SYSTEM_JSON_BYTES = 1 << 20


def _location_parts(location: str) -> dict[str, str | None]:
    # division/submitter/(results|measurements)/system/benchmark/scenario, or a prefix of it
    p = location.split("/")
    get = lambda i: p[i] if len(p) > i else None  # noqa: E731
    return {"division": get(0), "submitter": get(1), "platform": get(3), "benchmark": get(4), "scenario": get(5)}


def _system_json(root: str, division: str, submitter: str, platform: str) -> str:
    path = os.path.join(root, division, submitter, "systems", platform + ".json")
    try:
        if os.path.getsize(path) > MAX_SYSTEM_JSON_BYTES:
            return ""
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in (sorted(value, key=str) if isinstance(value, (set, frozenset)) else value)]
    return str(value)


def build_payload(report, *, name: str | None = None, links_base: str = "") -> IngestPayload:
    """The store's payload for a :class:`~edgeperf.submission.CheckReport`."""
    root = report.root
    results: list[dict[str, Any]] = []
    platforms: set[tuple[str, str, str]] = set()
    for location in sorted(report.entries):
        r = report.entries[location]
        if r is None:
            parts = _location_parts(location)
            results.append(
                {
                    "location": location,
                    "status": "no-result",
                    **parts,
                    "model": None,
                    "value": None,
                    "units": None,
                    "accuracy": None,
                    "inferred": None,
                    "compliance": None,
                    "errors": None,
                    "power_value": None,
                    "power_units": None,
                }
            )
        else:
            value = r.value if isinstance(r.value, (int, float)) else float(r.value)
            power = r.power if r.has_power else None
            results.append(
                {
                    "location": location,
                    "status": "valid",
                    "division": r.division,
                    "submitter": r.submitter,
                    "platform": r.system,
                    "benchmark": r.benchmark,
                    "model": r.mlperf_model,
                    "scenario": r.scenario,
                    "value": float(value),
                    "units": r.units,
                    "accuracy": r.accuracy,
                    "inferred": bool(r.inferred),
                    "compliance": int(r.compliance),
                    "errors": int(r.errors),
                    "power_value": None if power is None else float(power.value),
                    "power_units": None if power is None else power.unit,
                }
            )
        parts = _location_parts(location)
        if parts["platform"] and location.split("/")[2] == "results":
            division, submitter = location.split("/")[:2]
            platforms.add((division, submitter, parts["platform"]))
    systems = [
        {"division": d, "submitter": s, "platform": p, "description": _system_json(root, d, s, p)}
        for d, s, p in sorted(platforms)
    ]
    summary_cells = [json.dumps(row.cells(), ensure_ascii=False) for row in report.rows]
    findings = []
    for f in report.findings:
        findings.append(
            {
                "severity": f.severity.value,
                "check_id": f.check,
                "message": f.message,
                "file": f.file,
                "location": f.scope.location,
                "expected": json.dumps(_jsonable(f.expected), ensure_ascii=False) if f.has_expected else None,
                "found": json.dumps(_jsonable(f.found), ensure_ascii=False) if f.has_found else None,
            }
        )
    verdict = report.verdict()
    round_ = report.options.version
    label = name or os.path.basename(root.rstrip(os.sep)) or root
    content = {
        "root": root,
        "round": round_,
        "name": label,
        "links_base": links_base,
        "verdict": verdict.line,
        "systems": systems,
        "results": results,
        "summary": summary_cells,
        "findings": findings,
    }
    fingerprint = hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
    return IngestPayload(
        root=root,
        round=round_,
        name=label,
        links_base=links_base,
        fingerprint=fingerprint,
        verdict=verdict.status,
        verdict_line=verdict.line,
        result_count=len(report.results),
        no_result_count=len(report.no_results),
        error_count=report.error_count,
        warning_count=report.warning_count,
        edgeperf_version=__version__,
        systems=systems,
        results=results,
        summary_cells=summary_cells,
        findings=findings,
    )


def ingest_tree(
    store: Store, tree: str | os.PathLike, *, round: str = "v1.1", name: str | None = None, links_base: str = ""
) -> tuple[IngestOutcome, IngestPayload]:
    """Check ``tree`` with the ``round`` rules and store it; return the outcome and what was stored."""
    from ..submission import CheckOptions, check_tree

    if links_base and not links_base.startswith(("https://", "http://")):
        raise ResultsError(f"--links-base {links_base!r}: expected an http(s):// URL of the published tree")
    root = os.path.realpath(os.fspath(tree))
    if not os.path.isdir(root):
        raise ResultsError(f"{os.fspath(tree)}: not a directory (expected a submission tree)")
    try:
        options = CheckOptions(version=round)
        options.rules()
    except ValueError as exc:
        raise ResultsError(str(exc)) from None
    report = check_tree(root, options)
    if not report.entries:
        raise ResultsError(
            f"{os.fspath(tree)}: no results found (is this a submission tree with closed/ or open/ at its top?)"
        )
    payload = build_payload(report, name=name, links_base=links_base.rstrip("/"))
    return store.ingest(payload), payload
