"""The results tables as the MLPerf results page shows them (spec submission.md §8.3).

One :class:`ResultsTable` per suite, division and availability category, and a power table
beside it where systems measured power. Each row is one system (one system and model in open):
ID, Submitter, System, Processor and count, Accelerator and count, Software, then one column per
benchmark and scenario with its unit, then Details (the system description JSON) and Code (the
submitter's code folder). Open tables add Model used and Notes. Power tables follow each
performance column with its power column: System power (W) for Server and Offline, energy per
query (J) for SingleStream and energy per stream (J) for MultiStream.

Values, ids and the blanking of counts are exactly those of the official sheets (:mod:`.final`);
only the layout differs.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from .final import FinalReport, ReportEntry, cell_mean, column_sort_key
from .summary import CATEGORIES, DIVISIONS, POWER_UNITS, SUITES

__all__ = [
    "BENCHMARK_TITLES",
    "CATEGORY_TITLES",
    "MEASURES",
    "ResultColumn",
    "ResultsRow",
    "ResultsTable",
    "build_results_tables",
]

#: How the results page names each MLPerf model class.
BENCHMARK_TITLES: dict[str, str] = {
    "resnet": "ResNet50-v1.5",
    "ssd-small": "SSD-MobileNets-v1",
    "ssd-large": "SSD-ResNet34",
    "3d-unet-99": "3D-UNet-99",
    "3d-unet-99.9": "3D-UNet-99.9",
    "rnnt": "RNN-T",
    "bert-99": "BERT-99",
    "bert-99.9": "BERT-99.9",
    "dlrm-99": "DLRM-99",
    "dlrm-99.9": "DLRM-99.9",
}
CATEGORY_TITLES: dict[str, str] = {
    "available": "Available",
    "preview": "Preview",
    "rdi": "Research, Development, or Internal (RDI)",
}
DIVISION_TITLES = {"closed": "Closed", "open": "Open"}
SUITE_TITLES = {"datacenter": "Datacenter", "edge": "Edge"}
#: The column heading of each unit: performance units as the official sheets write them, power
#: units as the results page names the measurement.
MEASURES: dict[str, str] = {
    "Latency (ms)": "Latency (ms)",
    "Streams": "Streams",
    "Samples/s": "Samples/s",
    "Queries/s": "Queries/s",
    "Watts": "System power (W)",
    "Joules": "Energy per query (J)",
    "Joules/Stream": "Energy per stream (J)",
}


@dataclass(frozen=True)
class ResultColumn:
    """One benchmark-and-scenario column of a results table."""

    model: str
    scenario: str
    units: str
    """The unit as in summary.csv (``Latency (ms)``, ``Samples/s``, ``Watts``, ``Joules``, …)."""

    @property
    def benchmark(self) -> str:
        return BENCHMARK_TITLES[self.model]

    @property
    def measure(self) -> str:
        """What the column holds, with its unit: ``Latency (ms)``, ``System power (W)``, …"""
        return MEASURES[self.units]

    @property
    def power(self) -> bool:
        return self.units in POWER_UNITS

    @property
    def label(self) -> str:
        """The flat heading used in CSV and Markdown: benchmark, scenario, measure with unit."""
        return f"{self.benchmark} {self.scenario} {self.measure}"


@dataclass(frozen=True)
class ResultsRow:
    """One system (open: one system and model) of a results table."""

    id: str
    submitter: str
    system: str
    processor: str
    processor_count: int
    accelerator: str
    accelerator_count: int | None
    software: str
    model_used: str
    notes: str
    details_url: str
    code_url: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class ResultsTable:
    """The results table of one suite, division and category (``power``: the power table)."""

    suite: str
    division: str
    category: str
    power: bool
    columns: tuple[ResultColumn, ...]
    rows: tuple[ResultsRow, ...]

    @property
    def key(self) -> str:
        """A short unique name: ``edge-closed-available`` or ``edge-closed-available-power``."""
        return f"{self.suite}-{self.division}-{self.category}" + ("-power" if self.power else "")

    @property
    def suite_title(self) -> str:
        """``Edge`` or ``Datacenter``."""
        return SUITE_TITLES[self.suite]

    @property
    def section_title(self) -> str:
        """The table's heading within its suite: ``Closed — Available``, ``Closed power — Available``."""
        division = DIVISION_TITLES[self.division] + (" power" if self.power else "")
        return f"{division} — {CATEGORY_TITLES[self.category]}"

    @property
    def title(self) -> str:
        """``Edge — Closed — Available``."""
        return f"{self.suite_title} — {self.section_title}"

    @property
    def open(self) -> bool:
        return self.division == "open"

    @property
    def leading(self) -> tuple[str, ...]:
        """Headings of the columns before the results."""
        head = (
            "ID",
            "Submitter",
            "System",
            "Processor",
            "Processor count",
            "Accelerator",
            "Accelerator count",
            "Software",
        )
        return head + (("Model used",) if self.open else ())

    @property
    def trailing(self) -> tuple[str, ...]:
        """Headings of the columns after the results."""
        return ("Details", "Code") + (("Notes",) if self.open else ())

    @property
    def header(self) -> tuple[str, ...]:
        """Every heading, flat, in order."""
        return self.leading + tuple(c.label for c in self.columns) + self.trailing

    def leading_cells(self, row: ResultsRow) -> tuple[object, ...]:
        cells = (
            row.id,
            row.submitter,
            row.system,
            row.processor,
            row.processor_count,
            row.accelerator,
            "" if row.accelerator_count is None else row.accelerator_count,
            row.software,
        )
        return cells + ((row.model_used,) if self.open else ())

    def trailing_notes(self, row: ResultsRow) -> tuple[str, ...]:
        return (row.notes,) if self.open else ()


def tree_url(links_base: str, *parts: str) -> str:
    """A link into the submission tree: ``links_base`` (a URL or path, "" for tree-relative)
    followed by the percent-encoded parts."""
    path = "/".join(urllib.parse.quote(p, safe="") for p in parts)
    if not links_base:
        return path
    return links_base.rstrip("/") + "/" + path


def build_results_tables(report: FinalReport, links_base: str = "") -> list[ResultsTable]:
    """Every non-empty results table, ordered suite, division, performance before power, category.

    ``links_base`` prefixes the Details and Code links (for example
    ``https://github.com/mlcommons/inference_results_v1.1/tree/main``); without it the links are
    paths relative to the root of the submission tree.
    """
    tables = []
    for suite in SUITES:
        in_suite = [e for e in report.entries if suite in e.row.suites]
        for division in DIVISIONS:
            for power in (False, True):
                for category in CATEGORIES:
                    chosen = [
                        e
                        for e in in_suite
                        if e.category == division
                        and e.row.category == category
                        and (e.has_power if power else e.units not in POWER_UNITS)
                    ]
                    if chosen:
                        tables.append(_table(chosen, suite, division, category, power, links_base))
    return tables


def _table(
    entries: list[ReportEntry], suite: str, division: str, category: str, power: bool, links_base: str
) -> ResultsTable:
    columns = sorted({(e.model, e.scenario, e.units) for e in entries}, key=column_sort_key)
    by_id: dict[str, tuple[ReportEntry, dict[tuple[str, str, str], list[float]]]] = {}
    for e in entries:
        _, cells = by_id.setdefault(e.id, (e, {}))
        cells.setdefault((e.model, e.scenario, e.units), []).append(e.result)
    rows = []
    for e, cells in by_id.values():  # entries come sorted, so ids ascend
        values = tuple(cell_mean(cells.get(c)) for c in columns)
        rows.append(
            ResultsRow(
                id=e.id,
                submitter=e.submitter,
                system=e.system,
                processor=e.processor,
                processor_count=e.processors,
                accelerator=e.accelerator,
                accelerator_count=e.accelerators,
                software=e.software,
                model_used=e.used_model,
                notes=e.notes,
                details_url=tree_url(links_base, e.category, e.submitter, "systems", e.platform + ".json"),
                code_url=tree_url(links_base, e.category, e.submitter, "code"),
                values=values,
            )
        )
    return ResultsTable(
        suite=suite,
        division=division,
        category=category,
        power=power,
        columns=tuple(ResultColumn(*c) for c in columns),
        rows=tuple(rows),
    )
