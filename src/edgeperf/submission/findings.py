"""What the checker reports: a :class:`Finding` per problem, each with one :class:`Severity`.

The severities are those of the v1.1 checker (spec submission.md §5.3):

- ``FATAL``: an entry of the result map above one scenario run becomes NoResults (a system, a
  model, a missing measurement directory); the submission fails.
- ``DROP``: one scenario's result is not recorded (NoResults); the submission fails.
- ``SOFT``: v1.1 logs an ERROR but keeps the result (it may only change the ``errors`` or
  ``compilance`` CSV columns). ``--strict`` turns the ones marked ``strict`` into ``DROP``.
- ``WARN`` / ``INFO``: log only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Finding", "Reporter", "Scope", "Severity"]


class Severity(str, enum.Enum):
    """How much a finding counts (see the module docstring)."""

    FATAL = "fatal"
    DROP = "drop"
    SOFT = "soft"
    WARN = "warn"
    INFO = "info"

    @property
    def invalidates(self) -> bool:
        """True when the finding makes something NoResults (FATAL, DROP)."""
        return self in (Severity.FATAL, Severity.DROP)

    @property
    def level(self) -> str:
        """The log level the v1.1 checker uses for it: ERROR, WARNING or INFO."""
        return {"fatal": "ERROR", "drop": "ERROR", "soft": "ERROR", "warn": "WARNING"}.get(self.value, "INFO")


@dataclass(frozen=True)
class Scope:
    """Where in the tree a finding belongs; unset parts are None."""

    division: str | None = None
    submitter: str | None = None
    system: str | None = None
    benchmark: str | None = None
    scenario: str | None = None

    def child(self, **parts: str) -> "Scope":
        return Scope(**{**self.__dict__, **parts})

    @property
    def location(self) -> str:
        """The result-map key of this scope (``closed/Org/results/sys/bench/scenario`` or shorter)."""
        parts = [self.division, self.submitter]
        if self.system is not None:
            parts += ["results", self.system, self.benchmark, self.scenario]
        return "/".join(p for p in parts if p is not None)


class _Unset:
    """The "not given" marker of expected/found; one instance, kept one through pickling (worker processes)."""

    def __repr__(self) -> str:
        return "<unset>"

    def __reduce__(self) -> str:
        return "_UNSET"


_UNSET: Any = _Unset()


@dataclass(frozen=True)
class Finding:
    """One problem: its severity, the check that found it, the file, expected against found."""

    severity: Severity
    check: str  # dotted id, e.g. "performance.seed"
    message: str
    scope: Scope
    file: str | None = None  # path relative to the tree root, forward slashes
    expected: Any = _UNSET
    found: Any = _UNSET
    strict: bool = False  # a v1.1 SOFT check that --strict enforces
    promoted: bool = False  # True when --strict turned it from SOFT into DROP

    @property
    def has_expected(self) -> bool:
        return self.expected is not _UNSET

    @property
    def has_found(self) -> bool:
        return self.found is not _UNSET

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (see ``json_report``)."""
        d: dict[str, Any] = {
            "severity": self.severity.value,
            "level": self.severity.level,
            "invalidates": self.severity.invalidates,
            "check": self.check,
            "message": self.message,
            "file": self.file,
            "location": self.scope.location,
            "division": self.scope.division,
            "submitter": self.scope.submitter,
            "system": self.scope.system,
            "benchmark": self.scope.benchmark,
            "scenario": self.scope.scenario,
        }
        if self.has_expected:
            d["expected"] = _jsonable(self.expected)
        if self.has_found:
            d["found"] = _jsonable(self.found)
        if self.strict:
            d["strict_check"] = True
        if self.promoted:
            d["promoted_by_strict"] = True
        return d


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (list, tuple, set, frozenset)):
        items = sorted(v) if isinstance(v, (set, frozenset)) else v
        return [_jsonable(x) for x in items]
    return str(v)


@dataclass
class Reporter:
    """Adds findings for one scope to a shared list; ``strict`` promotes strict SOFT findings."""

    sink: list[Finding]
    scope: Scope
    strict: bool = False
    _invalidating: list[int] = field(default_factory=lambda: [0])  # shared counter across children

    def child(self, **parts: str) -> "Reporter":
        return Reporter(self.sink, self.scope.child(**parts), self.strict, self._invalidating)

    @property
    def invalidating_count(self) -> int:
        """How many FATAL/DROP findings this reporter and its relatives have added so far."""
        return self._invalidating[0]

    def add(
        self,
        severity: Severity,
        check: str,
        message: str,
        *,
        file: str | None = None,
        expected: Any = _UNSET,
        found: Any = _UNSET,
        strict: bool = False,
    ) -> Finding:
        promoted = False
        if strict and self.strict and severity is Severity.SOFT:
            severity, promoted = Severity.DROP, True
        f = Finding(severity, check, message, self.scope, file, expected, found, strict, promoted)
        self.sink.append(f)
        if severity.invalidates:
            self._invalidating[0] += 1
        return f

    def fatal(self, check: str, message: str, **kw: Any) -> Finding:
        return self.add(Severity.FATAL, check, message, **kw)

    def drop(self, check: str, message: str, **kw: Any) -> Finding:
        return self.add(Severity.DROP, check, message, **kw)

    def soft(self, check: str, message: str, **kw: Any) -> Finding:
        return self.add(Severity.SOFT, check, message, **kw)

    def warn(self, check: str, message: str, **kw: Any) -> Finding:
        return self.add(Severity.WARN, check, message, **kw)

    def info(self, check: str, message: str, **kw: Any) -> Finding:
        return self.add(Severity.INFO, check, message, **kw)
