"""The detail log's opening records: version, build and file hashes (spec §12.2 item 1).

edgeperf is not the C++ LoadGen, so it does not pretend to be: the version string keeps the
official shape (``"1.1 @ <rev>"``, which nothing checks) with edgeperf's own version as the
revision, and the hashes are those of edgeperf's LoadGen sources.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
from pathlib import Path

from .. import __version__

LOADGEN_VERSION = "1.1"


@functools.lru_cache(maxsize=1)
def version_records() -> tuple[tuple[str, object], ...]:
    """The version/build records, computed once per process."""
    here = Path(__file__).resolve().parent
    sources = sorted(p for p in here.rglob("*") if p.is_file() and p.suffix in {".py", ".conf"})
    hashes = {"/" + p.relative_to(here).as_posix(): hashlib.sha1(p.read_bytes()).hexdigest() for p in sources}
    built = _dt.datetime.fromtimestamp(Path(__file__).stat().st_mtime)
    built_utc = _dt.datetime.fromtimestamp(Path(__file__).stat().st_mtime, tz=_dt.timezone.utc)
    return (
        ("loadgen_version", f"{LOADGEN_VERSION} @ edgeperf-{__version__}"),
        ("loadgen_build_date_local", built.isoformat(timespec="microseconds")),
        ("loadgen_build_date_utc", built_utc.replace(tzinfo=None).isoformat(timespec="microseconds")),
        ("loadgen_git_commit_date", "NA"),
        ("loadgen_git_log_message", "NA"),
        ("loadgen_git_status_message", "NA"),
        ("loadgen_file_sha1", hashes),
    )


CONTENTION_COUNTERS = (
    "logger_swap_request_slots_retry_count",
    "logger_swap_request_slots_retry_retry_count",
    "logger_swap_request_slots_retry_reencounter_count",
    "logger_start_reading_entries_retry_count",
    "logger_tls_total_log_cas_fail_count",
    "logger_tls_total_swap_buffers_slot_retry_count",
)
