"""Numbers for people to read (stdlib only): no float noise such as ``75.69539999999999``."""

from __future__ import annotations

import math


def num(value: float | int | None, decimals: int = 4) -> str:
    """At most ``decimals`` decimals, trailing zeros dropped; ints stay ints; None is ``-``.

    ``75.69539999999999`` -> ``75.6954``; ``27.825416666666673`` (decimals=3) -> ``27.825``.
    """
    if value is None:
        return "-"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def sig(value: float | int | None, digits: int = 4) -> str:
    """About ``digits`` significant digits, never in exponent form, for measured quantities.

    ``27.825416666666673`` -> ``27.83``; ``2.2692211502651807`` -> ``2.269``; ``0.0123456`` ->
    ``0.01235``; ``123456.7`` -> ``123456.7`` (at least the integer part, one decimal when >= 1000).
    """
    if value is None:
        return "-"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not math.isfinite(value) or value == 0:
        return num(value)
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(1 if abs(value) >= 1000 else 0, digits - 1 - magnitude)
    return num(value, decimals)
