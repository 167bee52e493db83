"""LoadGen log files (spec loadgen.md §12): formatting, the four writers, and readers.

- ``formatting``: number/value formats of §1 and the ``:::MLLOG`` line of §12.2;
- ``DetailLog``: ``mlperf_log_detail.txt``, written by a background thread (the hot path only queues);
- ``SummaryLog`` / ``summary_footer``: ``mlperf_log_summary.txt`` container and footer (§12.1);
- ``AccuracyLog`` / ``iter_accuracy_log``: ``mlperf_log_accuracy.json`` streaming writer and reader (§12.3);
- ``TraceLog``: ``mlperf_log_trace.json`` (§12.4), empty when tracing is off;
- ``open_log_files``: the file names and their creation (§2.6);
- ``read_detail_log`` / ``read_summary_log``: readers for edgeperf's and official logs.
"""

from .accuracy import TRUNCATION_MARKER, AccuracyLog, iter_accuracy_log, read_accuracy_log
from .detail import DetailLog, Listener
from .files import LogFileOpenError, LogFilePaths, log_file_paths, open_log_files
from .formatting import (
    encode_value,
    fmt_fixed0,
    fmt_fixed2,
    fmt_g6,
    fmt_time_ms,
    mllog_line,
    percentile_label,
    power_timestamp,
    test_datetime,
)
from .readers import (
    DetailLogRecords,
    LogFormatError,
    TruncatedLogError,
    parse_detail_lines,
    parse_summary_lines,
    read_detail_log,
    read_summary_log,
)
from .summary import SummaryLog, parse_summary_footer, summary_footer
from .trace import TraceLog

__all__ = [
    "AccuracyLog",
    "DetailLog",
    "DetailLogRecords",
    "Listener",
    "LogFileOpenError",
    "LogFilePaths",
    "LogFormatError",
    "SummaryLog",
    "TruncatedLogError",
    "TRUNCATION_MARKER",
    "TraceLog",
    "encode_value",
    "fmt_fixed0",
    "fmt_fixed2",
    "fmt_g6",
    "fmt_time_ms",
    "iter_accuracy_log",
    "log_file_paths",
    "mllog_line",
    "open_log_files",
    "parse_detail_lines",
    "parse_summary_footer",
    "parse_summary_lines",
    "percentile_label",
    "power_timestamp",
    "read_accuracy_log",
    "read_detail_log",
    "read_summary_log",
    "summary_footer",
    "test_datetime",
]
