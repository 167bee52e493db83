"""The power client's and server's session descriptors, ``client.json`` and ``server.json``.

Only what the metric needs is interpreted here: ``timezone``, an integer number of seconds equal to
minus the machine's UTC offset (power.md §5.2, §7.3). The r1.1 checker adds the client's value to
LoadGen's power_begin/power_end and the server's to every spl.txt timestamp.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..errors import EdgeperfError

__all__ = ["REQUIRED_SESSION_KEYS", "SessionFileError", "read_session_json", "session_timezone"]

#: Keys both files have (power.md §5.2); power-dev's check.py requires them all.
REQUIRED_SESSION_KEYS = (
    "version",
    "timezone",
    "modules",
    "sources",
    "messages",
    "uuid",
    "session_name",
    "results",
    "phases",
)


class SessionFileError(EdgeperfError, ValueError):
    """A client.json / server.json that cannot be used; names the file and the field."""

    def __init__(self, path: str | os.PathLike | None, message: str) -> None:
        self.path = None if path is None else os.fspath(path)
        self.message = message
        super().__init__(f"{self.path or '<session json>'}: {message}")


def parse_session_json(data: bytes | str, path: str | os.PathLike | None = None) -> dict[str, Any]:
    """Parse the text of a session file; it must be a JSON object (a UTF-8 BOM is tolerated)."""
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig", errors="replace")
    try:
        obj = json.loads(data)
    except json.JSONDecodeError as exc:
        raise SessionFileError(path, f"invalid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise SessionFileError(path, f"expected a JSON object, found {type(obj).__name__}")
    return obj


def read_session_json(path: str | os.PathLike) -> dict[str, Any]:
    """Read ``client.json`` or ``server.json`` as a dict."""
    with open(os.fspath(path), "rb") as f:
        return parse_session_json(f.read(), path)


def session_timezone(obj: dict[str, Any], path: str | os.PathLike | None = None) -> int | float:
    """The ``timezone`` field in seconds (int, or a float); SessionFileError if absent or not a number."""
    if "timezone" not in obj:
        raise SessionFileError(path, 'field "timezone" is missing (expected seconds, e.g. 25200)')
    tz = obj["timezone"]
    if isinstance(tz, bool) or not isinstance(tz, (int, float)):
        raise SessionFileError(path, f'field "timezone" must be a number of seconds, found {tz!r}')
    return tz
