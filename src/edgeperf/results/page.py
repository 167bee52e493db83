"""The results page's data: each stored tree's tables, built as ``edgeperf report`` builds them.

A tree's stored summary rows go through the same code as ``edgeperf report``
(:func:`~edgeperf.submission.report.build_final_report` then
:func:`~edgeperf.submission.report.build_results_tables`), so ids, values, units, blank counts
and column order are those of the official sheets. The page then shows one table per division
and category (the suites' tables merged, with the system type as a filter) and the power tables
on their own tab. Each row also carries its perf per watt, from the power table of the same
system (see :func:`perf_per_joule`).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ..submission.report import (
    SUMMARY_COLUMNS,
    ResultsTable,
    SummaryError,
    build_final_report,
    build_results_tables,
    parse_summary,
)
from ..submission.report.final import column_sort_key
from ..submission.report.tables import CATEGORY_TITLES, DIVISION_TITLES
from .errors import ResultsError
from .links import LinkMode, details_href
from .store import Store, TreeRecord

__all__ = ["PAGE_FORMAT", "PAGE_FORMAT_VERSION", "build_page_data", "tree_tables", "perf_per_joule"]

PAGE_FORMAT = "edgeperf-results-page"
PAGE_FORMAT_VERSION = 1
PERF_PER_WATT_LABEL = "Perf per watt (inferences/J)"


def perf_per_joule(scenario: str, performance: float | None, power: float | None) -> float | None:
    """Inferences per joule, the page's perf per watt.

    Offline and Server: samples (queries) per second divided by watts. SingleStream: the power
    metric is the energy of one query in joules, so 1 / J. MultiStream: 1 / (J per stream).
    None when either value is missing or the power is not positive.
    """
    if power is None or power <= 0:
        return None
    if scenario in ("Offline", "Server"):
        return None if performance is None else performance / power
    return 1.0 / power


def _summary_text(cells: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for row in cells:
        writer.writerow(json.loads(row))
    return out.getvalue()


def tree_tables(store: Store, tree: TreeRecord) -> tuple[list[ResultsTable], dict[str, tuple[str, str, str]]]:
    """The report's results tables of one stored tree, and each id's (division, submitter, platform)."""
    cells = store.summary_cells(tree.id)
    if not cells:
        return [], {}
    try:
        summary = parse_summary(_summary_text(cells), f"{tree.name} ({tree.round}, stored summary)")
    except SummaryError as exc:
        raise ResultsError(str(exc)) from None
    final = build_final_report(summary)
    places = {e.id: (e.category, e.submitter, e.platform) for e in final.entries}
    return build_results_tables(final), places


def _merge(tables: list[ResultsTable]) -> tuple[list[tuple[str, str, str]], list[tuple[Any, str, dict]]]:
    """One division/category/power group's suite tables as one: the union of columns in the
    official order, rows by id, each row with its system type(s)."""
    columns = sorted({(c.model, c.scenario, c.units) for t in tables for c in t.columns}, key=column_sort_key)
    rows: dict[str, tuple[Any, list[str], dict]] = {}
    for t in tables:
        keys = [(c.model, c.scenario, c.units) for c in t.columns]
        for row in t.rows:
            entry = rows.setdefault(row.id, (row, [], {}))
            entry[1].append(t.suite)
            entry[2].update({k: v for k, v in zip(keys, row.values) if v is not None})
    ordered = [(row, ",".join(suites), values) for row, suites, values in (rows[i] for i in sorted(rows))]
    return columns, ordered


def _column(model: str, scenario: str, units: str) -> dict[str, Any]:
    from ..submission.report.tables import ResultColumn

    c = ResultColumn(model, scenario, units)
    return {
        "model": model,
        "scenario": scenario,
        "units": units,
        "benchmark": c.benchmark,
        "measure": c.measure,
        "label": c.label,
        "power": c.power,
    }


def _tree_data(store: Store, tree: TreeRecord, links: LinkMode) -> dict[str, Any]:
    tables, places = tree_tables(store, tree)
    system_ids = {(s["division"], s["submitter"], s["platform"]): s["id"] for s in store.systems(tree.id)}
    # Power values of each id, for perf per watt in the performance tables' compare view.
    power_of: dict[tuple[str, str, str], float] = {}
    for t in tables:
        if t.power:
            for row in t.rows:
                for c, v in zip(t.columns, row.values):
                    if c.power and v is not None:
                        power_of[(row.id, c.model, c.scenario)] = v
    groups: dict[tuple[str, str, bool], list[ResultsTable]] = {}
    for t in tables:
        groups.setdefault((t.division, t.category, t.power), []).append(t)
    out_tables = []
    for (division, category, power), group in sorted(
        groups.items(), key=lambda g: (("closed", "open").index(g[0][0]), g[0][2], list(CATEGORY_TITLES).index(g[0][1]))
    ):
        columns, rows = _merge(group)
        out_rows = []
        for row, suites, values in rows:
            place = places[row.id]
            sid = system_ids.get(place)
            code = links.tree_href(tree.id, tree.root, tree.links_base, f"{place[0]}/{place[1]}/code", directory=True)
            vals = [values.get(c) for c in columns]
            ppw = [
                None
                if c[2] in ("Watts", "Joules", "Joules/Stream")
                else perf_per_joule(c[1], v, power_of.get((row.id, c[0], c[1])))
                for c, v in zip(columns, vals)
            ]
            out_rows.append(
                {
                    "id": row.id,
                    "submitter": row.submitter,
                    "system": row.system,
                    "processor": row.processor,
                    "processor_count": row.processor_count,
                    "accelerator": row.accelerator,
                    "accelerator_count": row.accelerator_count,
                    "software": row.software,
                    "model_used": row.model_used,
                    "notes": row.notes,
                    "suite": suites,
                    "division": place[0],
                    "platform": place[2],
                    "details": details_href(tree.id, sid) if sid is not None else None,
                    "code": code,
                    "values": vals,
                    "perf_per_watt": ppw,
                }
            )
        title = DIVISION_TITLES[division] + (" power" if power else "") + " — " + CATEGORY_TITLES[category]
        key = f"{division}-{category}" + ("-power" if power else "")
        out_tables.append(
            {
                "key": key,
                "division": division,
                "category": category,
                "power": power,
                "title": title,
                "open": division == "open",
                "columns": [_column(*c) for c in columns],
                "rows": out_rows,
            }
        )
    return {
        "id": tree.id,
        "name": tree.name,
        "round": tree.round,
        "root": tree.root,
        "ingested_at": tree.ingested_at,
        "verdict": tree.verdict,
        "verdict_line": tree.verdict_line,
        "results": tree.result_count,
        "no_results": tree.no_result_count,
        "errors": tree.error_count,
        "warnings": tree.warning_count,
        "tables": out_tables,
    }


def build_page_data(store: Store, links: LinkMode, tree_ids: list[int] | None = None) -> dict[str, Any]:
    """The page's JSON document: every (chosen) tree with its tables.

    Format ``edgeperf-results-page`` version 1: ``{"format", "format_version", "perf_per_watt_label",
    "trees": [{"id", "name", "round", "root", "ingested_at", "verdict", "verdict_line", "results",
    "no_results", "errors", "warnings", "tables": [{"key", "division", "category", "power", "title",
    "open", "columns": [{"model", "scenario", "units", "benchmark", "measure", "label", "power"}],
    "rows": [{"id", "submitter", "system", "processor", "processor_count", "accelerator",
    "accelerator_count", "software", "model_used", "notes", "suite", "division", "platform",
    "details", "code", "values", "perf_per_watt"}]}]}]}``.
    """
    trees = store.trees()
    if tree_ids is not None:
        trees = [t for t in trees if t.id in set(tree_ids)]
    return {
        "format": PAGE_FORMAT,
        "format_version": PAGE_FORMAT_VERSION,
        "perf_per_watt_label": PERF_PER_WATT_LABEL,
        "trees": [_tree_data(store, t, links) for t in trees],
    }
