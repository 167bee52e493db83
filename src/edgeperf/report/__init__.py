"""A run's report: ``report.html`` beside the logs, with the summary values and plots.

- `RunData` (``report.data``): what a report shows, built from a finished series
  (`RunData.from_series`, with `series_arrays`) or from a log directory (`RunData.from_log_dir`);
- ``report.plots``: latency histogram, latency CDF and throughput PNGs (matplotlib, imported lazily);
- `write_report` (``report.html``): the self-contained page, written atomically.

Importing this package needs only numpy; matplotlib (``pip install 'edgeperf[report]'``) is
imported when a plot is drawn.
"""

from .data import ReportError, RunData, series_arrays, series_query_latencies
from .html import REPORT_FILE, TRADEMARK_NOTE, render_report, report_from_log_dir, write_report

__all__ = [
    "REPORT_FILE",
    "TRADEMARK_NOTE",
    "ReportError",
    "RunData",
    "render_report",
    "report_from_log_dir",
    "series_arrays",
    "series_query_latencies",
    "write_report",
]
