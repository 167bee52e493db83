"""The official final report as an xlsx workbook (openpyxl, imported lazily).

The layout follows what generate-final-report.py r1.1 (pandas + xlsxwriter) writes (spec §8.2):
four header rows (Result / Model / Scenario / Units, repeated labels merged), the index names in
row 5, data from row 6; index cells bold with thin borders; the Unique ID column hidden; result
columns (0-based 12 to 100) formatted ``#,##0.00``; alternating submitter groups shaded #efefef.

One deliberate difference: the official shading formula uses ``COUNTUNIQUE``, which exists only in
Google Sheets, so Excel and LibreOffice never shade. edgeperf writes an equivalent formula that
works in all three (``SUMPRODUCT(1/COUNTIF(...))`` counts the distinct submitters so far).
"""

from __future__ import annotations

import io

from .final import COLUMN_LEVELS, FinalReport, PivotSheet
from ...errors import MissingExtraError

__all__ = ["XLSX_MISSING", "render_xlsx", "require_openpyxl"]

XLSX_MISSING = "the xlsx format needs openpyxl; install it with: pip install 'edgeperf[submission]'"
_NUMBER_FORMAT = "#,##0.00"
_FIRST_FORMATTED, _LAST_FORMATTED = 12, 100  # 0-based columns given the number format
_HEADER_ROWS = len(COLUMN_LEVELS)
_SHADE_RANGE = "A6:CW201"
_SHADE_FORMULA = "MOD(SUMPRODUCT(1/COUNTIF($C$6:$C6,$C$6:$C6)),2)=0"


def require_openpyxl():
    """Import openpyxl, or raise ImportError with the install hint."""
    try:
        import openpyxl
    except ImportError as exc:
        raise MissingExtraError(XLSX_MISSING, name="openpyxl") from exc
    return openpyxl


def render_xlsx(report: FinalReport, description: str = "") -> bytes:
    """The workbook's bytes: one worksheet per :class:`PivotSheet`, in order."""
    openpyxl = require_openpyxl()
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.styles.differential import DifferentialStyle
    from openpyxl.formatting.rule import Rule

    thin = Side(style="thin", color="FF000000")
    styles = {
        "font": Font(name="Calibri", size=11, bold=True),
        "border": Border(left=thin, right=thin, top=thin, bottom=thin),
        "alignment": Alignment(horizontal="center", vertical="top"),
    }
    shade = DifferentialStyle(fill=PatternFill(bgColor="FFEFEFEF"))

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    if description:
        workbook.properties.description = description
    workbook.properties.creator = "edgeperf"
    for sheet in report.sheets:
        ws = workbook.create_sheet(sheet.name)
        _write_sheet(ws, sheet, styles)
        ws.column_dimensions["B"].hidden = True
        ws.column_dimensions["B"].width = 0
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.dimensions import ColumnDimension

        first = get_column_letter(_FIRST_FORMATTED + 1)
        dim = ColumnDimension(ws, index=first, min=_FIRST_FORMATTED + 1, max=_LAST_FORMATTED + 1, width=9.140625)
        dim.number_format = _NUMBER_FORMAT
        ws.column_dimensions[first] = dim
        rule = Rule(type="expression", dxf=shade, formula=[_SHADE_FORMULA])
        ws.conditional_formatting.add(_SHADE_RANGE, rule)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _styled(cell, value, styles) -> None:
    cell.value = value
    cell.font = styles["font"]
    cell.border = styles["border"]
    cell.alignment = styles["alignment"]


def _write_sheet(ws, sheet: PivotSheet, styles) -> None:
    n_index = len(sheet.index_names)
    first_value_col = n_index + 1  # 1-based
    # Column header: level names in the last index column, labels merged over repeated runs.
    labels = [("Result",) + column for column in sheet.columns]
    for level, name in enumerate(COLUMN_LEVELS):
        row = level + 1
        _styled(ws.cell(row=row, column=n_index), name, styles)
        for start, end in _runs([label[: level + 1] for label in labels]):
            for offset in range(start, end):
                value = labels[start][level] if offset == start else None
                _styled(ws.cell(row=row, column=first_value_col + offset), value, styles)
            if end - start > 1:
                ws.merge_cells(
                    start_row=row,
                    start_column=first_value_col + start,
                    end_row=row,
                    end_column=first_value_col + end - 1,
                )
    names_row = _HEADER_ROWS + 1
    for col, name in enumerate(sheet.index_names, start=1):
        _styled(ws.cell(row=names_row, column=col), name, styles)
    first_data_row = names_row + 1
    # Row index: each level's repeated runs (within its parent levels) merged, as pandas does.
    for level in range(n_index):
        keys = [row.index[: level + 1] for row in sheet.rows]
        for start, end in _runs(keys):
            for offset in range(start, end):
                value = sheet.rows[start].index[level] if offset == start else None
                _styled(ws.cell(row=first_data_row + offset, column=level + 1), value if value != "" else None, styles)
            if end - start > 1:
                ws.merge_cells(
                    start_row=first_data_row + start,
                    start_column=level + 1,
                    end_row=first_data_row + end - 1,
                    end_column=level + 1,
                )
    for r, row in enumerate(sheet.rows):
        for c, value in enumerate(row.values):
            if value is None:
                continue
            cell = ws.cell(row=first_data_row + r, column=first_value_col + c, value=value)
            if _FIRST_FORMATTED <= first_value_col + c - 1 <= _LAST_FORMATTED:
                cell.number_format = _NUMBER_FORMAT


def _runs(keys: list[tuple]) -> list[tuple[int, int]]:
    """[start, end) spans of consecutive equal keys."""
    spans = []
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            spans.append((start, i))
            start = i
    return spans
