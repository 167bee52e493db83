"""``summary.csv``: the official r1.1 checker's 27 columns (spec submission.md §5.11, §9).

One row per recorded result, plus a second row right after it for a result with power (Result =
the power metric, Units = Watts / Joules / Joules/Stream). Values are written as the official
checker writes them -- Python's ``str`` of the numbers, SystemName and the name fields wrapped in
double quotes by hand -- so on real trees the bytes are the official ones. Unlike the official
writer, a value that would corrupt the row (a ``"`` inside quotes, a comma in an unquoted field) is
escaped CSV-style; no v1.1 value needs it.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from typing import Any, Iterable

from .._atomic import atomic_write

__all__ = ["SUMMARY_COLUMNS", "SummaryRow", "format_summary_csv", "read_summary_csv", "write_summary_csv"]

SUMMARY_COLUMNS: tuple[str, ...] = (
    "Organization",
    "Availability",
    "Division",
    "SystemType",
    "SystemName",
    "Platform",
    "Model",
    "MlperfModel",
    "Scenario",
    "Result",
    "Accuracy",
    "number_of_nodes",
    "host_processor_model_name",
    "host_processors_per_node",
    "host_processor_core_count",
    "accelerator_model_name",
    "accelerators_per_node",
    "Location",
    "framework",
    "operating_system",
    "notes",
    "compilance",
    "errors",
    "version",
    "infered",
    "has_power",
    "Units",
)

#: Columns the official checker wraps in double quotes.
QUOTED_COLUMNS = frozenset(
    {"SystemName", "host_processor_model_name", "accelerator_model_name", "framework", "operating_system", "notes"}
)


@dataclass(frozen=True)
class SummaryRow:
    """One row; ``values`` maps each of :data:`SUMMARY_COLUMNS` to the raw value."""

    values: dict[str, Any]

    def __getitem__(self, column: str) -> Any:
        return self.values[column]

    def cells(self) -> list[str]:
        """The 27 cells as text, unquoted (what a CSV reader gives back)."""
        return [_text(self.values[c]) for c in SUMMARY_COLUMNS]

    def line(self) -> str:
        """The row as the official checker writes it (without the newline)."""
        out = []
        for col, cell in zip(SUMMARY_COLUMNS, self.cells()):
            if col in QUOTED_COLUMNS:
                out.append('"' + cell.replace('"', '""') + '"')
            elif any(ch in cell for ch in ',"\n\r'):
                out.append('"' + cell.replace('"', '""') + '"')
            else:
                out.append(cell)
        return ",".join(out)


def _text(v: Any) -> str:
    return str(v)  # str(float) == "{}".format(float): 313516.0, 2.63111, None -> "None"


def format_summary_csv(rows: Iterable[SummaryRow]) -> str:
    """The whole file: header line, then one line per row, ``\\n`` line ends."""
    return ",".join(SUMMARY_COLUMNS) + "\n" + "".join(r.line() + "\n" for r in rows)


def write_summary_csv(rows: Iterable[SummaryRow], path: str | os.PathLike) -> None:
    """Write summary.csv atomically (never half a file)."""
    atomic_write(path, format_summary_csv(rows))


def read_summary_csv(path_or_text: str | os.PathLike, *, is_text: bool = False) -> list[dict[str, str]]:
    """Rows of a summary.csv (official or edgeperf) as ``{column: text}`` dicts."""
    if is_text:
        text = str(path_or_text)
    else:
        with open(os.fspath(path_or_text), encoding="utf-8", newline="") as f:
            text = f.read()
    return list(csv.DictReader(io.StringIO(text, newline="")))
