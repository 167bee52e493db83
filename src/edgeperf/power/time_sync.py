"""Clock checks before a session and before each run (power.md §7.2).

* NTP: ask the configured server (NTPv4, ``host`` or ``host:port``); the check passes when
  \\|offset\\| < 200 ms. Uses the ``ntplib`` package (the ``power`` extra), imported only here.
* Remote: t1 = local time, r = the director's ``time`` reply, t2 = local time; passes when
  max(\\|t1 - r\\|, \\|t2 - r\\|) <= 200 ms.

edgeperf never sets the system clock (the official tools run ``ntpdate -b`` as root): a failed
check ends the run with :class:`TimeSyncError` and says how far off the clock is.
"""

from __future__ import annotations

import time
from typing import Callable

from ..errors import EdgeperfError

__all__ = ["CRITICAL_DIFFERENCE_MS", "TimeSyncError", "check_ntp", "check_remote", "parse_ntp_server"]

CRITICAL_DIFFERENCE_MS = 200


class TimeSyncError(EdgeperfError):
    """The clock is not synchronised (or the NTP server cannot be asked)."""


def parse_ntp_server(text: str) -> tuple[str, int]:
    """``"host"`` or ``"host:port"`` (port 123 by default)."""
    host, sep, port = text.rpartition(":")
    if not sep:
        return text, 123
    if not port.isdigit() or not host:
        raise TimeSyncError(f"NTP server {text!r}: expected HOST or HOST:PORT")
    return host, int(port)


def check_ntp(server: str, *, timeout: float = 2.0) -> tuple[float, float]:
    """(offset s, delay s) from ``server``; TimeSyncError when unreachable or |offset| >= 200 ms."""
    try:
        import ntplib  # type: ignore[import-untyped]
    except ImportError:
        raise TimeSyncError(
            "the NTP check needs the ntplib package: pip install 'edgeperf[power]' "
            "(or skip the check with its --skip-time-sync option, recorded in the results)"
        ) from None
    host, port = parse_ntp_server(server)
    try:
        response = ntplib.NTPClient().request(host, version=4, port=port, timeout=timeout)
    except (ntplib.NTPException, OSError) as exc:
        raise TimeSyncError(f"NTP server {server} did not answer ({exc}); the clock cannot be checked") from None
    offset_ms = response.offset * 1000
    if not abs(offset_ms) < CRITICAL_DIFFERENCE_MS:
        raise TimeSyncError(
            f"the clock is {offset_ms:.3f} ms off NTP server {server} "
            f"(at most {CRITICAL_DIFFERENCE_MS} ms allowed); synchronise it and retry"
        )
    return response.offset, response.delay


def check_remote(get_remote_time: Callable[[], float]) -> tuple[float, float]:
    """(dt1 ms, dt2 ms) between this clock and the director's; TimeSyncError beyond 200 ms."""
    t1 = time.time()
    remote = get_remote_time()
    t2 = time.time()
    dt1, dt2 = 1000 * (t1 - remote), 1000 * (t2 - remote)
    if max(abs(dt1), abs(dt2)) > CRITICAL_DIFFERENCE_MS:
        raise TimeSyncError(
            f"the director's clock differs from this one by {dt1:.3f}..{dt2:.3f} ms "
            f"(at most {CRITICAL_DIFFERENCE_MS} ms allowed)"
        )
    return dt1, dt2
