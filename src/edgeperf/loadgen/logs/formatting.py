"""Number, value and line formatting shared by all LoadGen logs (spec loadgen.md §1, §12).

Everything here is a pure function; the log writers call them on their background thread, never
on the LoadGen hot path.
"""

from __future__ import annotations

import enum
import json
import math
import time

import numpy as np

__all__ = [
    "fmt_g6",
    "fmt_fixed2",
    "fmt_fixed0",
    "fmt_time_ms",
    "encode_value",
    "mllog_line",
    "power_timestamp",
    "test_datetime",
    "percentile_label",
]


def fmt_g6(x: float) -> str:
    """C++ default ``ostream << double`` (= ``printf("%g")``, 6 significant digits), §1.

    ``272250.0 -> '272250'``, ``1327.2245610868376 -> '1327.22'``, ``1234567.0 -> '1.23457e+06'``.
    Infinities and NaN print as C does: ``inf``, ``-inf``, ``nan``.
    """
    return "%g" % x


def fmt_fixed2(x: float) -> str:
    """Fixed notation with two decimals (``std::fixed << setprecision(2)``), §1."""
    return "%.2f" % x


def fmt_fixed0(x: float) -> str:
    """Fixed notation without decimals (``std::fixed << setprecision(0)``), §1."""
    return "%.0f" % x


def fmt_time_ms(ns: int) -> str:
    """The detail log's ``time_ms``: whole ms, a dot, then the remaining ns on 6 digits (§12.2).

    A negative duration (a record stamped before the log origin) is written as ``-`` followed by
    the formatting of its magnitude, so the printed number still equals ``ns / 1e6``.
    """
    if ns < 0:
        return "-" + fmt_time_ms(-ns)
    return "%d.%06d" % divmod(ns, 1_000_000)


def _json_string(s: str) -> str:
    # Fast path: printable text without quote or backslash needs no escaping (the usual case).
    if s.isprintable() and '"' not in s and "\\" not in s:
        return '"' + s + '"'
    return json.dumps(s, ensure_ascii=False)


def encode_value(v: object) -> str:
    """Encode a detail-log ``value`` exactly as the official LoadGen prints it (§12.2).

    - ``str``: a JSON string; everything that JSON requires is escaped, non-ASCII is left as is.
      (The C++ LoadGen only adds quotes; on every record of the v1.1 logs the two agree.)
    - ``bool`` / ``numpy.bool_``: ``true`` / ``false``.
    - ``int`` / numpy integers: decimal.
    - ``float`` / numpy floats: %g6, so an integral double prints like an integer (``272301``).
      Deviation from C++: ``inf``, ``-inf`` and ``nan`` are encoded as the JSON *strings*
      ``"inf"``, ``"-inf"``, ``"nan"`` so the line stays valid JSON (C++ would write a bare
      ``inf``, which the official parser rejects).
    - ``list`` / ``tuple`` / ``numpy.ndarray`` (1-D): ``[a,b,c]`` with no spaces.
    - ``dict``: ``{"k":v,...}`` with no spaces and keys sorted; keys must be strings.
    - ``enum.Enum``: its ``value`` encoded by these rules (the enums of ``loadgen.enums`` carry the
      official spelling as their value, §2.7).

    Anything else raises ``TypeError``.
    """
    t = type(v)  # fast paths for the plain Python types that make up almost every record
    if t is int:
        return str(v)
    if t is str:
        return _json_string(v)
    if t is float and math.isfinite(v):
        return "%g" % v
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        x = float(v)
        if math.isfinite(x):
            return "%g" % x
        return '"%g"' % x
    if isinstance(v, str):
        return _json_string(v)
    if isinstance(v, np.ndarray):
        if v.ndim != 1:
            raise TypeError(f"only 1-D arrays can be logged, got shape {v.shape}")
        if v.dtype.kind in "iu":
            return "[" + ",".join(map(str, v.tolist())) + "]"
        return "[" + ",".join(encode_value(x) for x in v.tolist()) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(encode_value(x) for x in v) + "]"
    if isinstance(v, dict):
        for k in v:
            if not isinstance(k, str):
                raise TypeError(f"dict keys must be str to be logged, got {type(k).__name__}")
        return "{" + ",".join(_json_string(k) + ":" + encode_value(v[k]) for k in sorted(v)) + "}"
    if isinstance(v, enum.Enum):
        return encode_value(v.value)
    raise TypeError(f"cannot encode a {type(v).__name__} as a detail-log value")


def mllog_line(
    key: str,
    value: object,
    time_ns: int,
    is_error: bool,
    is_warning: bool,
    file: str,
    line_no: int,
    pid: int,
    tid: int,
) -> str:
    """One ``:::MLLOG`` record of ``mlperf_log_detail.txt`` without the trailing newline (§12.2).

    ``time_ns`` is the record's time relative to the log origin (printed by ``fmt_time_ms``).
    """
    return (
        ':::MLLOG {"key": %s, "value": %s, "time_ms": %s, "namespace": "mlperf::logging", '
        '"event_type": "POINT_IN_TIME", "metadata": {"is_error": %s, "is_warning": %s, '
        '"file": %s, "line_no": %d, "pid": %d, "tid": %d}}'
        % (
            _json_string(key),
            encode_value(value),
            fmt_time_ms(time_ns),
            "true" if is_error else "false",
            "true" if is_warning else "false",
            _json_string(file),
            line_no,
            pid,
            tid,
        )
    )


def power_timestamp(epoch_ns: int) -> str:
    """UTC wall-clock time as ``MM-DD-YYYY HH:MM:SS.mmm`` (``power_begin``/``power_end``, §12.2)."""
    seconds, rest_ns = divmod(epoch_ns, 1_000_000_000)
    return time.strftime("%m-%d-%Y %H:%M:%S", time.gmtime(seconds)) + ".%03d" % (rest_ns // 1_000_000)


def test_datetime(epoch_s: float) -> str:
    """*Local* time as ``YYYY-MM-DDTHH:MM:SSZ`` (``test_datetime``, §12.2; the ``Z`` is literal)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.localtime(math.floor(epoch_s)))


test_datetime.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def percentile_label(p: float) -> str:
    """The percentile as it appears in keys and summary labels: fixed2 of ``p * 100`` (§12.1)."""
    return fmt_fixed2(p * 100)
