"""The detail-log rules shared by the accuracy and performance checks (spec §5.6 step 4).

A detail log is read once; every ``:::MLLOG`` line must be valid JSON (a bad line makes the run
invalid). A record with ``metadata.is_error`` makes the run invalid, unless
``--submission-exceptions`` is given and every error is "Loadgen built with uncommitted changes!".
"""

from __future__ import annotations

from ..context import CheckContext
from ..findings import Reporter, Severity
from ..readers import DetailLogRecords, LogFormatError, parse_detail_bytes

__all__ = ["read_detail", "check_detail_errors"]


def read_detail(ctx: CheckContext, rep: Reporter, path: str, severity: Severity, check: str) -> DetailLogRecords | None:
    """The parsed log, or None after a finding of ``severity`` (missing or malformed)."""
    tree = ctx.tree
    if not tree.is_file(path):
        d = path.rsplit("/", 1)[0]
        rep.add(severity, f"{check}.detail_missing", "mlperf_log_detail.txt is missing" +
                tree.case_hint(d, "mlperf_log_detail.txt"), file=path, expected="file present", found="missing")
        return None
    try:
        return parse_detail_bytes(tree.read_bytes(path), path)
    except LogFormatError as exc:
        rep.add(severity, f"{check}.detail_malformed", f"line {exc.where}: {exc.message}", file=path,
                expected="valid JSON after every :::MLLOG marker", found=f"line {exc.where}: {exc.message}")
    except OSError as exc:
        rep.add(severity, f"{check}.detail_unreadable", f"cannot be read: {exc.strerror or exc}", file=path,
                expected="a readable file", found=str(exc.strerror or exc))
    return None


def check_detail_errors(ctx: CheckContext, rep: Reporter, log: DetailLogRecords, path: str,
                        severity: Severity, check: str) -> bool:
    """True when the log has no error that invalidates; adds one finding per error record."""
    errors = log.errors()
    if not errors:
        return True
    rules = ctx.rules
    values = [str(e.get("value")) for e in errors]
    ignorable = [v for v in values if any(s in v for s in rules.ignore_detail_errors)]
    relevant = [v for v in values if v not in ignorable]
    excepted = ctx.options.submission_exceptions and all(rules.uncommitted_changes_error in v for v in relevant)
    sev = Severity.SOFT if excepted else severity
    for rec, value in zip(errors, values):
        if value in ignorable:
            continue
        note = " (accepted: --submission-exceptions)" if excepted else ""
        rep.add(sev, f"{check}.detail_error", f"LoadGen logged an error: {rec.get('key')}: {value}{note}",
                file=path, expected="no is_error records", found=value)
    return excepted or not relevant
