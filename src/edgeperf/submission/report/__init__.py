"""The final results table: ``summary.csv`` → the official sheets and the results-page tables.

Two products are made from the checker's ``summary.csv`` (spec submission.md §8–9):

* the official final report, as ``generate-final-report.py`` r1.1 makes it — one sheet per
  division and suite plus power sheets, global ``1.1-NNN`` ids, the official column order and
  units (:func:`build_final_report`, written by :func:`render_xlsx`);
* the results tables as the MLPerf results page shows them, one per suite, division and
  category, with power tables (:func:`build_results_tables`), as one self-contained HTML page,
  Markdown and CSV.

:func:`write_report` does everything for ``edgeperf report``::

    from edgeperf.submission.report import write_report
    out = write_report("summary.csv", "report/", formats=("xlsx", "html"))

Only the stdlib is needed, except openpyxl for xlsx (the ``submission`` extra).
"""

from __future__ import annotations

from .final import FinalReport, PivotRow, PivotSheet, ReportEntry, build_final_report
from .output import (
    FORMATS,
    HTML_FILE,
    MARKDOWN_FILE,
    XLSX_FILE,
    ReportOutput,
    parse_formats,
    render_report,
    write_report,
)
from .render import csv_name, render_csv, render_html, render_markdown, report_note
from .summary import SUMMARY_COLUMNS, Summary, SummaryError, SummaryRow, parse_summary, read_summary
from .tables import ResultColumn, ResultsRow, ResultsTable, build_results_tables
from .xlsx import render_xlsx

__all__ = [
    "FORMATS",
    "HTML_FILE",
    "MARKDOWN_FILE",
    "XLSX_FILE",
    "SUMMARY_COLUMNS",
    "FinalReport",
    "PivotRow",
    "PivotSheet",
    "ReportEntry",
    "ReportOutput",
    "ResultColumn",
    "ResultsRow",
    "ResultsTable",
    "Summary",
    "SummaryError",
    "SummaryRow",
    "build_final_report",
    "build_results_tables",
    "csv_name",
    "parse_formats",
    "parse_summary",
    "read_summary",
    "render_csv",
    "render_html",
    "render_markdown",
    "render_report",
    "render_xlsx",
    "report_note",
    "write_report",
]
