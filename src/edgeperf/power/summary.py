"""``client.json`` / ``server.json``: the session summaries both sides write (power.md §5.2).

Keys in order: version ("1.0"), timezone (minus the local UTC offset), modules, sources (SHA-1 of
every ``.py`` of edgeperf's ``power`` package -- never power-dev's, so check.py's source checks
1-2 fail for edgeperf runs, as they must), messages, uuid, session_name, results (SHA-1 of the
session files), phases; the server adds ptd_messages, ptd_config and ``debug: true`` for shortened
settle times. edgeperf adds one key of its own, ``edgeperf``: the tool, whether the analyzer was
the simulator, how time was synchronised (``"skipped"`` when the NTP check was switched off) and
the options that make a run non-standard.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from typing import Any

__all__ = ["SessionSummary", "hash_dir", "package_sources", "sha1_file"]

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def sha1_file(path: str | os.PathLike) -> str:
    """SHA-1 hex of the raw bytes of a file."""
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def hash_dir(root: str | os.PathLike) -> dict[str, str]:
    """relative path (``/``-separated, sorted) -> SHA-1 for every file under ``root``."""
    out = {}
    root = os.fspath(root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            full = os.path.join(dirpath, name)
            out[os.path.relpath(full, root).replace(os.sep, "/")] = sha1_file(full)
    return dict(sorted(out.items()))


def package_sources() -> dict[str, dict[str, str]]:
    """{"sources": {relpath: sha1} of this package's .py files, "modules": loaded edgeperf.power modules}."""
    sources = {}
    for dirpath, dirnames, filenames in os.walk(PACKAGE_DIR):
        dirnames[:] = sorted(d for d in dirnames if d not in ("__pycache__", ".mypy_cache", ".pytest_cache"))
        for name in sorted(filenames):
            if name.endswith(".py"):
                full = os.path.join(dirpath, name)
                sources[os.path.relpath(full, PACKAGE_DIR).replace(os.sep, "/")] = sha1_file(full)
    modules = {}
    for name, mod in sorted(sys.modules.items()):
        path = getattr(mod, "__file__", None)
        if name.startswith("edgeperf.power.") and path:
            modules[name] = os.path.relpath(path, PACKAGE_DIR).replace(os.sep, "/")
    return {"sources": dict(sorted(sources.items())), "modules": modules}


class SessionSummary:
    """What one side records during a session, then writes as JSON."""

    def __init__(self) -> None:
        self.timezone = -time.localtime().tm_gmtoff
        self.messages: list[dict[str, Any]] = []
        self.phases: dict[str, list[list[float]]] = {"ranging": [], "testing": []}
        self.client_uuid: str | None = None
        self.server_uuid: str | None = None
        self.session_name: str | None = None
        self.results: dict[str, str] = {}
        self.ptd_messages: list[dict[str, str]] | None = None
        self.ptd_config: dict[str, Any] | None = None
        self.debug = False
        self.edgeperf: dict[str, Any] = {"tool": "edgeperf"}

    def message(self, cmd: str, cmd_time: float, reply: str | None, reply_time: float) -> None:
        self.messages.append({"cmd": cmd, "cmd_time": cmd_time, "reply": reply, "reply_time": reply_time})

    def phase(self, mode: str, n: int) -> None:
        """Record phase ``n`` (0..3) of ``mode`` now: [wall, monotonic]; a repeat overwrites."""
        entries = self.phases[mode]
        pair = [time.time(), time.monotonic()]
        if len(entries) == n:
            entries.append(pair)
        elif len(entries) > n:
            entries[n] = pair

    def to_json(self) -> dict[str, Any]:
        src = package_sources()
        out: dict[str, Any] = {
            "version": "1.0",
            "timezone": self.timezone,
            "modules": src["modules"],
            "sources": src["sources"],
            "messages": self.messages,
            "uuid": {"client": self.client_uuid, "server": self.server_uuid},
            "session_name": self.session_name,
            "results": self.results,
            "phases": self.phases,
        }
        if self.ptd_messages is not None:
            out["ptd_messages"] = self.ptd_messages
        if self.ptd_config:
            out["ptd_config"] = self.ptd_config
        if self.debug:
            out["debug"] = True
        out["edgeperf"] = self.edgeperf
        return out

    def save(self, path: str | os.PathLike) -> None:
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            json.dump(self.to_json(), f, indent=4)
