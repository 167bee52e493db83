"""The detail-log rules shared by the accuracy and performance checks (spec §5.6 step 4).

A detail log is read once and scanned for the records the checks use (``scan_detail_bytes``); every
``:::MLLOG`` line must be valid JSON (a bad line makes the run
invalid). A record with ``metadata.is_error`` makes the run invalid, unless
``--submission-exceptions`` is given and every error is "Loadgen built with uncommitted changes!".
"""

from __future__ import annotations

from ..context import CheckContext
from ..findings import Reporter, Severity
from ..readers import DetailLogRecords, LogFormatError, scan_detail_bytes
from ..rules import RoundRules

__all__ = ["detail_keys", "read_detail", "check_detail_errors"]

# Keys the performance (spec §5.6) and power (§5.7) checks read besides the round's result, latency
# and seed keys. A lookup of any other key raises LookupError (DetailFacts), so a check that starts
# reading a new key fails the tests until the key is added here.
_OTHER_KEYS = (
    "result_validity",
    "effective_scenario",
    "effective_performance_sample_count",
    "effective_min_query_count",
    "effective_samples_per_query",
    "effective_min_duration_ms",
    "result_qps_without_loadgen_overhead",
    "result_qps_with_loadgen_overhead",
    "generated_query_count",
    "generated_samples_per_query",
    "power_begin",
    "power_end",
)


def detail_keys(rules: RoundRules) -> frozenset[str]:
    """Every detail-log key a check of ``rules`` reads: the only records the scanner decodes."""
    keys = set(_OTHER_KEYS) | set(rules.result_key.values()) | set(rules.p99_key.values())
    keys |= {rules.p99_key_default} | {key for _, key in rules.seed_keys}
    return frozenset(keys)


def read_detail(
    ctx: CheckContext, rep: Reporter, path: str, severity: Severity, check: str, keys: frozenset[str] = frozenset()
) -> DetailLogRecords | None:
    """The log's facts (``keys``, errors, warnings), or None after a finding of ``severity`` (missing or malformed)."""
    tree = ctx.tree
    if not tree.is_file(path):
        d = path.rsplit("/", 1)[0]
        rep.add(
            severity,
            f"{check}.detail_missing",
            "mlperf_log_detail.txt is missing" + tree.case_hint(d, "mlperf_log_detail.txt"),
            file=path,
            expected="file present",
            found="missing",
        )
        return None
    try:
        return scan_detail_bytes(tree.read_bytes(path), path, keys)
    except LogFormatError as exc:
        rep.add(
            severity,
            f"{check}.detail_malformed",
            f"line {exc.where}: {exc.message}",
            file=path,
            expected="valid JSON after every :::MLLOG marker",
            found=f"line {exc.where}: {exc.message}",
        )
    except OSError as exc:
        rep.add(
            severity,
            f"{check}.detail_unreadable",
            f"cannot be read: {exc.strerror or exc}",
            file=path,
            expected="a readable file",
            found=str(exc.strerror or exc),
        )
    return None


def check_detail_errors(
    ctx: CheckContext, rep: Reporter, log: DetailLogRecords, path: str, severity: Severity, check: str
) -> bool:
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
        rep.add(
            sev,
            f"{check}.detail_error",
            f"LoadGen logged an error: {rec.get('key')}: {value}{note}",
            file=path,
            expected="no is_error records",
            found=value,
        )
    return excepted or not relevant
