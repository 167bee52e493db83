"""Reading the checker's ``summary.csv`` (spec submission.md §5.11) for the results table.

The official ``generate-final-report.py`` reads the file with pandas and replaces every missing
value with "". edgeperf reads it with the stdlib ``csv`` module and reproduces what matters of
pandas' reading: the same strings count as missing (``N/A``, ``NA``, ``null``, … — so an
accelerator written ``N/A`` shows blank, as in the published table), blank lines are skipped,
and ``True``/``False`` are booleans. Unlike pandas it refuses what would give a wrong table: a
missing column, a row with the wrong number of fields, a Result that is not a number, an
unknown benchmark, scenario or unit. Each refusal is one :class:`SummaryError` naming the file,
the line and the column.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import EdgeperfError

from ..summary_csv import SUMMARY_COLUMNS  # the 27 columns, in the order the checker writes them

__all__ = [
    "SUMMARY_COLUMNS",
    "MODEL_ORDER",
    "SCENARIO_ORDER",
    "UNITS_ORDER",
    "POWER_UNITS",
    "CATEGORIES",
    "SummaryError",
    "SummaryRow",
    "Summary",
    "read_summary",
    "parse_summary",
]


#: MLPerf model classes in the official report's column order (spec §8.2).
MODEL_ORDER: tuple[str, ...] = (
    "resnet",
    "ssd-small",
    "ssd-large",
    "3d-unet-99",
    "3d-unet-99.9",
    "rnnt",
    "bert-99",
    "bert-99.9",
    "dlrm-99",
    "dlrm-99.9",
)
#: Scenarios in the official report's column order.
SCENARIO_ORDER: tuple[str, ...] = ("SingleStream", "MultiStream", "Server", "Offline")
#: Units in the official report's column order (spec §8.2, §9).
UNITS_ORDER: tuple[str, ...] = (
    "Latency (ms)",
    "Streams",
    "Samples/s",
    "Queries/s",
    "Joules",
    "Joules/Stream",
    "Watts",
)
#: Units of power rows; the performance sheets leave these rows out.
POWER_UNITS: frozenset[str] = frozenset({"Watts", "Joules", "Joules/Stream"})
#: Availability categories in results-page order (``on-premise`` counts as available).
CATEGORIES: tuple[str, ...] = ("available", "preview", "rdi")
DIVISIONS: tuple[str, ...] = ("closed", "open")
SUITES: tuple[str, ...] = ("datacenter", "edge")
_SYSTEM_TYPES = frozenset({"datacenter", "edge", "datacenter,edge", "edge,datacenter"})

# The strings pandas 1.5 (the version the official report was made with) reads as missing.
_NA_STRINGS = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "n/a",
        "nan",
        "null",
    }
)
_TRUE = frozenset({"True", "TRUE", "true"})
_FALSE = frozenset({"False", "FALSE", "false"})
_REQUIRED_TEXT = ("Organization", "Availability", "Division", "SystemType", "Platform", "Model")


class SummaryError(EdgeperfError, ValueError):
    """A summary CSV that cannot be turned into a results table: names the file, line and column."""

    def __init__(self, path: str, message: str, line: int | None = None, column: str | None = None):
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        where = path if line is None else f"{path}:{line}"
        what = f"column {column!r}: {message}" if column else message
        super().__init__(f"{where}: {what}")


@dataclass(frozen=True)
class SummaryRow:
    """One data row of ``summary.csv``, after pandas-style missing values became ""."""

    line: int
    """Line of the file where the row starts (the header is line 1)."""
    fields: dict[str, str] = field(repr=False)
    """Every column's text (missing values are "")."""
    result: float
    """The Result column: a performance value, or the power metric on a power row."""
    has_power: bool
    processors: int
    """host_processors_per_node × number_of_nodes (the report's ``p#``)."""
    accelerators: int
    """accelerators_per_node, 0 when empty (the report's ``a#`` before 0 becomes blank)."""

    def __getitem__(self, column: str) -> str:
        return self.fields[column]

    @property
    def division(self) -> str:
        return self.fields["Division"]

    @property
    def suites(self) -> tuple[str, ...]:
        """The suites this system belongs to (two for ``datacenter,edge``)."""
        return tuple(s for s in SUITES if s in self.fields["SystemType"].split(","))

    @property
    def category(self) -> str:
        """Availability, lowercased, with ``on-premise`` as ``available``."""
        value = self.fields["Availability"].lower()
        return "available" if value == "on-premise" else value


@dataclass(frozen=True)
class Summary:
    """A parsed ``summary.csv``: its rows and where it came from."""

    path: str
    rows: tuple[SummaryRow, ...]
    warnings: tuple[str, ...] = ()


def read_summary(path: str | os.PathLike) -> Summary:
    """Read and check a summary CSV; raise :class:`SummaryError` on anything malformed."""
    name = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise SummaryError(name, "no such file") from None
    except IsADirectoryError:
        raise SummaryError(name, "is a directory, not a summary CSV") from None
    except OSError as exc:
        raise SummaryError(name, f"cannot be read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SummaryError(name, f"is not UTF-8 text (byte {exc.start})", line=line) from None
    return parse_summary(text, name)


def parse_summary(text: str, path: str = "<summary>") -> Summary:
    """Parse the text of a summary CSV (``path`` only names it in messages)."""
    # Not strict: like pandas, tolerate a stray quote inside a field (the checker does not escape).
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    header_line = 1
    rows: list[SummaryRow] = []
    warnings: list[str] = []
    start = 1
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if not record:
                continue
            if header is None:
                header, header_line = record, line
                _check_header(header, path, line)
                continue
            if len(record) != len(header):
                hint = " (an unterminated quote?)" if start - line > 1 else ""
                raise SummaryError(
                    path, f"expected {len(header)} fields as in the header, found {len(record)}{hint}", line=line
                )
            fields = {name: ("" if value in _NA_STRINGS else value) for name, value in zip(header, record)}
            rows.append(_row(fields, path, line, warnings))
    except csv.Error as exc:
        raise SummaryError(path, f"malformed CSV ({exc})", line=start) from None
    if header is None:
        raise SummaryError(path, "is empty: expected the header row of a summary CSV", line=1)
    if not rows:
        raise SummaryError(path, "has a header but no result rows", line=header_line)
    return Summary(path=path, rows=tuple(rows), warnings=tuple(warnings))


def _check_header(header: list[str], path: str, line: int) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise SummaryError(path, "appears twice in the header", line=line, column=name)
        seen.add(name)
    missing = [c for c in SUMMARY_COLUMNS if c not in seen]
    if missing:
        listed = ", ".join(repr(c) for c in missing)
        hint = ""
        if "power" in seen and "Units" in missing:
            hint = " (this is the 26-column deadline-era format; re-run the checker for the r1.1 form)"
        raise SummaryError(
            path, f"the header lacks {len(missing)} of the 27 summary columns: {listed}{hint}", line=line
        )


def _row(fields: dict[str, str], path: str, line: int, warnings: list[str]) -> SummaryRow:
    def fail(column: str, message: str):
        raise SummaryError(path, message, line=line, column=column)

    for column in _REQUIRED_TEXT:
        if not fields[column]:
            fail(column, "is empty")
    _one_of(fields, "Division", DIVISIONS, fail)
    _one_of(fields, "MlperfModel", MODEL_ORDER, fail)
    _one_of(fields, "Scenario", SCENARIO_ORDER, fail)
    _one_of(fields, "Units", UNITS_ORDER, fail)
    if fields["SystemType"] not in _SYSTEM_TYPES:
        fail("SystemType", f"{fields['SystemType']!r} is not edge, datacenter or datacenter,edge")
    if "," in fields["SystemType"]:
        warnings.append(
            f"{path}:{line}: system type {fields['SystemType']!r} matches neither suite; the official "
            "report leaves such systems out of every sheet (the results tables show them in both suites)"
        )
    category = fields["Availability"].lower()
    if category not in CATEGORIES and category != "on-premise":
        fail("Availability", f"{fields['Availability']!r} is not available, preview or rdi")

    result = _number(fields["Result"], "Result", fail)
    has_power = fields["has_power"]
    if has_power not in _TRUE and has_power not in _FALSE:
        fail("has_power", f"{has_power!r} is not True or False")
    per_node = _integer(fields["host_processors_per_node"], "host_processors_per_node", fail)
    nodes = _integer(fields["number_of_nodes"], "number_of_nodes", fail)
    accel = fields["accelerators_per_node"]
    accelerators = 0 if accel == "" else _integer(accel, "accelerators_per_node", fail)
    return SummaryRow(
        line=line,
        fields=fields,
        result=result,
        has_power=has_power in _TRUE,
        processors=per_node * nodes,
        accelerators=accelerators,
    )


def _one_of(fields: dict[str, str], column: str, allowed: tuple[str, ...], fail) -> None:
    if fields[column] not in allowed:
        fail(column, f"{fields[column]!r} is not one of {', '.join(allowed)}")


def _number(text: str, column: str, fail) -> float:
    if text == "":
        fail(column, "is empty; expected a number")
    try:
        value = float(text)
    except ValueError:
        fail(column, f"{text!r} is not a number")
    if not math.isfinite(value):
        fail(column, f"{text!r} is not a finite number")
    return value


def _integer(text: str, column: str, fail) -> int:
    value = _number(text, column, fail)
    if value != int(value):
        fail(column, f"{text!r} is not a whole number")
    return int(value)
