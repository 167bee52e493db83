"""Error and diagnostic types of the LoadGen settings layer.

Two kinds of problem exist, mirroring the official LoadGen (spec loadgen.md §3.1, §4, §13.1):

* config-file problems (``error_invalid_config`` detail records): :class:`ConfigDiagnostic`
  holds one of them with the official message text *and* a human explanation;
  :class:`ConfigError` is raised by the strict loaders and carries the diagnostics;
  :class:`ConfigWarning` flags traps that the official parser accepts silently.
* test-settings problems (``error_invalid_test_settings`` detail records):
  :class:`SettingsError`, returned (not raised) by ``compute_effective`` because the official
  LoadGen logs them and carries on with the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from ..errors import EdgeperfError

__all__ = [
    "LoadgenError",
    "ConfigDiagnostic",
    "ConfigWarning",
    "ConfigError",
    "SettingsError",
]


class LoadgenError(EdgeperfError):
    """Base class of the exceptions raised by ``edgeperf.loadgen``."""


@dataclass(frozen=True)
class ConfigDiagnostic:
    """One config error, as the official LoadGen would report it plus an explanation.

    ``message`` is the official text, logged by the engine as an ``error_invalid_config``
    detail record (e.g. ``"expected 'key=value', line=3"``); ``expected`` says in plain
    words what the file should contain instead. ``line`` / ``line_text`` are ``None`` when
    the problem is not tied to one line (a file that cannot be opened).
    ``kind`` is one of ``"open"``, ``"syntax"``, ``"value"``, ``"mode"``.
    """

    file: str
    line: Optional[int]
    line_text: Optional[str]
    message: str
    expected: str
    kind: str

    key = "error_invalid_config"

    def describe(self) -> str:
        """Human-readable description naming file, line, line text and what was expected."""
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        text = f"{where}: {self.expected} (official LoadGen: {self.message!r})"
        if self.line is not None:
            text += f"\n    line {self.line}: {self.line_text!r}"
        return text


@dataclass(frozen=True)
class ConfigWarning:
    """A config line the official LoadGen accepts but which very likely does not do what
    its author meant (ignored silently, typo in the key name, key never read, …)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class ConfigError(LoadgenError, ValueError):
    """Raised by the strict config loaders when a config file is invalid.

    ``diagnostics`` lists every problem found (in file order); ``file``, ``line``,
    ``line_text``, ``expected`` and ``message`` repeat those of the first one for
    convenience. ``str()`` names the file, the line number, the offending line text and
    what was expected, for every diagnostic.
    """

    def __init__(self, diagnostics: Iterable[ConfigDiagnostic]):
        self.diagnostics = list(diagnostics)
        if not self.diagnostics:
            raise ValueError("ConfigError needs at least one diagnostic")
        first = self.diagnostics[0]
        self.file = first.file
        self.line = first.line
        self.line_text = first.line_text
        self.expected = first.expected
        self.message = first.message
        super().__init__(self._render())

    def _render(self) -> str:
        if len(self.diagnostics) == 1:
            return "invalid config: " + self.diagnostics[0].describe()
        parts = [f"invalid config: {len(self.diagnostics)} errors"]
        parts.extend(" * " + d.describe() for d in self.diagnostics)
        return "\n".join(parts)

    def __str__(self) -> str:
        return self._render()


class SettingsError(LoadgenError):
    """An invalid combination of test settings (official ``error_invalid_test_settings``).

    The official LoadGen logs these and continues the run with a fallback value, so
    ``compute_effective`` returns them instead of raising. ``message`` is the exact
    official text; ``key`` the detail-log key to use.
    """

    def __init__(self, message: str, key: str = "error_invalid_test_settings"):
        self.message = message
        self.key = key
        super().__init__(message)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SettingsError):
            return NotImplemented
        return (self.key, self.message) == (other.key, other.message)

    def __hash__(self) -> int:
        return hash((self.key, self.message))

    def __repr__(self) -> str:
        return f"SettingsError({self.message!r}, key={self.key!r})"
