"""The official final report (``generate-final-report.py`` r1.1, spec submission.md §8) as data.

:func:`build_final_report` applies the official transformations to a :class:`Summary` — renamed
columns, fixed values, ``p#``/``a#``, the Details hyperlink, the Unique ID, the code-point sort and
the global ``1.1-NNN`` ids — and pivots the rows into one :class:`PivotSheet` per division and
suite, plus a power sheet where systems measured power. Writing the sheets to a workbook is
:mod:`.xlsx`'s job; the results-page tables (:mod:`.tables`) are built from the same entries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .summary import (
    DIVISIONS,
    MODEL_ORDER,
    POWER_UNITS,
    SCENARIO_ORDER,
    SUITES,
    UNITS_ORDER,
    Summary,
    SummaryRow,
)

__all__ = [
    "OFFICIAL_DETAILS_BASE",
    "UNIQUE_ID",
    "CLOSED_INDEX",
    "OPEN_INDEX",
    "ReportEntry",
    "PivotRow",
    "PivotSheet",
    "FinalReport",
    "build_final_report",
    "cell_mean",
]

#: Where the official report's Details links point (the private submission repository).
OFFICIAL_DETAILS_BASE = "https://github.com/mlcommons/submissions_inference_1_1/tree/master"
#: The round prefix of the public ids.
ID_PREFIX = "1.1"
UNIQUE_ID = "Unique ID (e.g. for Audit)"
CLOSED_INDEX: tuple[str, ...] = (
    "ID",
    UNIQUE_ID,
    "Submitter",
    "Availability",
    "System",
    "Processor",
    "p#",
    "Accelerator",
    "a#",
    "Software",
    "Notes",
    "Details",
)
OPEN_INDEX: tuple[str, ...] = CLOSED_INDEX[:-1] + ("UsedModel", "Details")
#: Names of the four column-header levels (level 0, the values level, has none).
COLUMN_LEVELS: tuple[str | None, ...] = (None, "Model", "Scenario", "Units")


@dataclass(frozen=True)
class ReportEntry:
    """One summary row after the official transformations, with its public id."""

    row: SummaryRow
    id: str
    unique_id: str
    submitter: str
    availability: str
    category: str
    """The division (the official tool renames Division to Category)."""
    suite: str
    """SystemType as written (``datacenter,edge`` matches no sheet)."""
    system: str
    platform: str
    processor: str
    processors: int
    accelerator: str
    accelerators: int | None
    """None where the official table shows a blank (a count of 0)."""
    software: str
    notes: str
    used_model: str
    model: str
    """MLPerf model class (the official tool renames MlperfModel to Model)."""
    scenario: str
    units: str
    result: float
    has_power: bool

    @property
    def details_formula(self) -> str:
        """The official Details cell: a HYPERLINK formula to the system's results folder."""
        url = f"{OFFICIAL_DETAILS_BASE}/{self.category}/{self.submitter}/results/{self.platform}"
        return f'=HYPERLINK("{_formula_text(url)}","details")'

    def index_values(self, division: str) -> tuple[object, ...]:
        """The row-index cells of this entry in a sheet of ``division`` (see CLOSED/OPEN_INDEX)."""
        head = (
            self.id,
            self.unique_id,
            self.submitter,
            self.availability,
            self.system,
            self.processor,
            self.processors,
            self.accelerator,
            "" if self.accelerators is None else self.accelerators,
            self.software,
            self.notes,
        )
        if division == "open":
            return head + (self.used_model, self.details_formula)
        return head + (self.details_formula,)


@dataclass(frozen=True)
class PivotRow:
    """One row of a sheet: its index cells and one value (or None) per result column."""

    index: tuple[object, ...]
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class PivotSheet:
    """One official sheet: ``"<division>,<suite>"`` or ``"<division>,<suite>,power"``."""

    name: str
    division: str
    suite: str
    power: bool
    index_names: tuple[str, ...]
    columns: tuple[tuple[str, str, str], ...]
    """(Model, Scenario, Units) of each result column, in the official order."""
    rows: tuple[PivotRow, ...]


@dataclass(frozen=True)
class FinalReport:
    """The transformed entries (sorted, with ids) and the official sheets made from them."""

    source: str
    entries: tuple[ReportEntry, ...]
    sheets: tuple[PivotSheet, ...]
    warnings: tuple[str, ...] = ()


def build_final_report(summary: Summary) -> FinalReport:
    """Reproduce generate-final-report.py r1.1 on a parsed summary (spec §8.1–8.2)."""
    entries = _entries(summary.rows)
    sheets = []
    for division in DIVISIONS:
        for suite in SUITES:
            for power in (False, True):
                sheet = _pivot(entries, division, suite, power)
                if sheet is not None:
                    sheets.append(sheet)
    return FinalReport(source=summary.path, entries=tuple(entries), sheets=tuple(sheets), warnings=summary.warnings)


def _entries(rows: tuple[SummaryRow, ...]) -> list[ReportEntry]:
    prepared = []
    for row in rows:
        division = row["Division"]
        unique = f"{row['SystemType']}/{division}/{row['Organization']}/{row['Platform']}"
        if division == "open":
            unique += f"/{row['Model']}"
        availability = row["Availability"]
        if availability == "on-premise":
            availability = "available"
        prepared.append((row, unique, availability))
    # Category, Suite, Availability, Submitter, Unique ID: code-point order, stable.
    prepared.sort(key=lambda p: (p[0]["Division"], p[0]["SystemType"], p[2], p[0]["Organization"], p[1]))
    ids: dict[str, str] = {}
    entries = []
    for row, unique, availability in prepared:
        if unique not in ids:
            ids[unique] = f"{ID_PREFIX}-{len(ids) + 1:03d}"
        accelerator = row["accelerator_model_name"]
        entries.append(
            ReportEntry(
                row=row,
                id=ids[unique],
                unique_id=unique,
                submitter=row["Organization"],
                availability=availability,
                category=row["Division"],
                suite=row["SystemType"],
                system=row["SystemName"],
                platform=row["Platform"],
                processor=row["host_processor_model_name"],
                processors=row.processors,
                accelerator="" if accelerator == "-" else accelerator,
                accelerators=row.accelerators or None,
                software=row["framework"],
                notes=row["notes"],
                used_model=row["Model"],
                model=row["MlperfModel"],
                scenario=row["Scenario"],
                units=row["Units"],
                result=row.result,
                has_power=row.has_power,
            )
        )
    return entries


def column_sort_key(column: tuple[str, str, str]) -> tuple[int, int, int]:
    """Official column order: Model, then Scenario, then Units, each in its fixed list."""
    model, scenario, units = column
    return MODEL_ORDER.index(model), SCENARIO_ORDER.index(scenario), UNITS_ORDER.index(units)


def index_sort_key(index: tuple[object, ...]) -> tuple[tuple[int, object], ...]:
    """pandas' order of index tuples: level by level, numbers before text in a mixed level."""
    return tuple((0, v) if isinstance(v, (int, float)) else (1, str(v)) for v in index)


def _pivot(entries: list[ReportEntry], division: str, suite: str, power: bool) -> PivotSheet | None:
    if power:
        chosen = [e for e in entries if e.category == division and e.suite == suite and e.has_power]
    else:
        chosen = [e for e in entries if e.category == division and e.suite == suite and e.units not in POWER_UNITS]
    if not chosen:
        return None
    cells: dict[tuple[object, ...], dict[tuple[str, str, str], list[float]]] = {}
    for e in chosen:
        cells.setdefault(e.index_values(division), {}).setdefault((e.model, e.scenario, e.units), []).append(e.result)
    columns = sorted({c for values in cells.values() for c in values}, key=column_sort_key)
    rows = []
    for index in sorted(cells, key=index_sort_key):
        values = cells[index]
        rows.append(PivotRow(index=index, values=tuple(cell_mean(values.get(c)) for c in columns)))
    name = f"{division},{suite}" + (",power" if power else "")
    return PivotSheet(
        name=name,
        division=division,
        suite=suite,
        power=power,
        index_names=OPEN_INDEX if division == "open" else CLOSED_INDEX,
        columns=tuple(columns),
        rows=tuple(rows),
    )


def cell_mean(values: list[float] | None) -> float | None:
    """The pivot's aggregation: the mean where several rows land in one cell."""
    if not values:
        return None
    return values[0] if len(values) == 1 else math.fsum(values) / len(values)


def _formula_text(text: str) -> str:
    """Double the quotes of a string inside a formula (the official tool does not, and breaks)."""
    return text.replace('"', '""')
