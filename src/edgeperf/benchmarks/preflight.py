"""Checks a run does before any heavy work: option limits and config values a run cannot use.

The official LoadGen accepts ``target_qps = 0`` or ``nan`` in a config file and then divides by
it, and nothing stops a harness from asking for a million threads. edgeperf refuses these up
front with one line naming the file, line and key (or the option) and what is expected.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Iterable

from ..errors import EdgeperfError

__all__ = [
    "MAX_THREADS",
    "MAX_WORKERS",
    "PreflightError",
    "check_parallelism",
    "check_config_values",
    "check_input_file",
    "check_text_file",
]

#: Upper bounds of --threads and --workers. Each thread reserves its own stack and, in a
#: backend, its own scratch buffers: far more threads than cores only adds memory and
#: scheduling work (a value of millions once grew to 23 GB before the kernel killed it).
MAX_THREADS = 1024
MAX_WORKERS = 1024

_INT64_MAX = 2**63 - 1

#: Settings fields that LoadGen divides by, or turns into a query rate.
_RATE_FIELDS = {"offline_expected_qps", "server_target_qps", "multi_stream_target_qps"}


class PreflightError(EdgeperfError, ValueError):
    """An option or config value a run cannot use (a ValueError too, for older callers)."""


def check_parallelism(threads: int | None, workers: int | None) -> None:
    """Refuse --threads / --workers outside 1..the limit, explaining the limit."""
    cpus = os.cpu_count() or 1
    for option, value, limit in (("--threads", threads, MAX_THREADS), ("--workers", workers, MAX_WORKERS)):
        if value is None:
            continue
        if value < 1 or value > limit:
            raise PreflightError(
                f"{option} {value}: expected 1 to {limit} (this machine has {cpus} CPU(s); every thread costs "
                f"memory for its stack and buffers, so more than a few per CPU only slows a run down)"
            )


def check_config_values(paths: Iterable[tuple[str | os.PathLike, str]], scenario: str, ruleset: str = "v1.1") -> None:
    """Refuse a non-finite number, or a query rate that is not positive, in the config files.

    ``paths`` are ``(file, model)`` pairs as they are applied (user.conf with the benchmark's
    model name, audit.config with ``*``). Only the keys this scenario reads are checked.
    """
    from ..loadgen.config import plan_config, read_config_file

    for path, model in paths:
        parsed = read_config_file(path, ruleset=ruleset)
        assignments, _ = plan_config(parsed, model, scenario, ruleset=ruleset)
        for a in assignments:
            value = a.value
            where = f"{parsed.path}:{a.entry.line}: {a.entry.key} = {a.entry.value}"
            if isinstance(value, float) and not math.isfinite(value):
                raise PreflightError(f"{where}: expected a finite number")
            if a.field in _RATE_FIELDS and not value > 0:
                raise PreflightError(f"{where}: expected a number of queries per second above 0")
            if (
                isinstance(value, int) and not isinstance(value, bool) and not a.field.endswith("_seed")
            ):  # seeds are uint64
                # LoadGen keeps counts in 64-bit integers and durations in nanoseconds: larger
                # values wrap (a huge min_duration became -1, a run that ended at once, silently).
                limit = _INT64_MAX // 1_000_000 if a.field.endswith("_ms") else _INT64_MAX
                if value > limit:
                    raise PreflightError(
                        f"{where}: expected at most {limit} (a larger value wraps around "
                        "in LoadGen's 64-bit arithmetic)"
                    )


def check_input_file(path: str | os.PathLike, what: str) -> Path:
    """``path`` must be an existing regular file (not a folder): else one line saying so."""
    p = Path(path)
    if not p.exists():
        raise PreflightError(f"{what} {p}: no such file")
    if p.is_dir():
        raise PreflightError(f"{what} {p}: is a folder; expected a file")
    return p


def check_text_file(path: str | os.PathLike | None, what: str) -> None:
    """A config file given by the user must be UTF-8 text: a binary file would otherwise be
    reported line by line as its raw bytes. Missing files are left to the config reader."""
    if path is None or not Path(path).is_file():
        return
    raw = Path(path).read_bytes()
    bad = raw.find(b"\0")
    if bad < 0:
        try:
            raw.decode("utf-8")
            return
        except UnicodeDecodeError as exc:
            bad = exc.start
    raise PreflightError(f"{what} {path}: not a text file (byte {bad}); expected lines 'model.scenario.key = value'")
