"""Performance verification of TEST01, TEST04 and TEST05: ``verify_performance.txt``.

This re-does what the official v1.1 verify scripts do (spec submission.md §6, loadgen.md §12.1
"Parsers that depend on this file"), so the file is byte for byte what they write:

* each summary is scanned line by line; a line starting with ``Scenario`` sets the scenario, and
  then the scenario's headline line gives the score, the text after the first ``": "``, kept as
  text (``Samples per second: 51997.7`` → ``51997.7``):

  ============  ==============================
  SingleStream  ``90th percentile latency``
  MultiStream   ``Samples per query`` (v1.1)
  Server        ``Scheduled samples per second``
  Offline       ``Samples per second``
  ============  ==============================

* a line ``Result is : INVALID`` stops TEST01/TEST05 with "TEST FAIL: … results are invalid"
  (TEST04 runs are short and INVALID by design, so TEST04 does not look); a footer line
  ``N ERROR…`` adds a ``WARNING:`` line; the TEST04 scan stops at the
  ``performance_issue_unique``/``performance_issue_same`` line (so it never sees the footer);
* the scores must come from the same scenario;
* thresholds (strict on both sides, in the scripts' float arithmetic): TEST01 ±10 %, TEST05
  ±5 %, both ±20 % when the reference is SingleStream with a 90th percentile latency of at most
  200 000 ns; TEST04 passes when B is within ±10 % (±20 % as above, on A's latency) of A *or*
  slower than A (adding "Note: TEST04-B is significantly slower than TEST04-A"), and fails only
  when B is significantly faster (which suggests caching).

When an official script stops early it prints its message to stderr, which ``run_verification.py``
does not tee into the file: the file then holds only what was printed before. The message is in
:attr:`PerformanceVerification.stopped`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .._atomic import atomic_write
from ..loadgen.logs.readers import LogFormatError
from ..errors import UsageError

__all__ = [
    "PerformanceVerification",
    "SCORE_LINES",
    "TEST01_THRESHOLD",
    "TEST04_THRESHOLD",
    "TEST05_THRESHOLD",
    "SHORT_LATENCY_THRESHOLD",
    "SHORT_LATENCY_NS",
    "verify_test01_performance",
    "verify_test04_performance",
    "verify_test05_performance",
    "verify_performance_lines",
]

#: The line prefix whose value is the score, per scenario.
SCORE_LINES = {
    "SingleStream": "90th percentile latency",
    "MultiStream": "Samples per query",
    "Server": "Scheduled samples per second",
    "Offline": "Samples per second",
}

TEST01_THRESHOLD = 0.10
TEST04_THRESHOLD = 0.10
TEST05_THRESHOLD = 0.05
#: The relaxed threshold for SingleStream references at or below SHORT_LATENCY_NS.
SHORT_LATENCY_THRESHOLD = 0.20
SHORT_LATENCY_NS = 200000

PASS = "TEST PASS"
FAIL = "TEST FAIL: Test score invalid"
SLOWER_NOTE = "Note: TEST04-B is significantly slower than TEST04-A"
MISMATCH = "Test and reference scenarios do not match!"

_ERROR_LINE = re.compile(r"\d+ ERROR")


@dataclass
class PerformanceVerification:
    """The outcome of one performance verification.

    Attributes:
        test: ``"TEST01"``, ``"TEST04"`` or ``"TEST05"``.
        lines: ``verify_performance.txt`` line by line (what the official script prints on stdout).
        passed: a line contains ``TEST PASS`` (what ``run_verification.py`` and the checker test).
        scenario: the reference's scenario ('' if its summary names none).
        reference_score, test_score: the scores as printed (None if the script stopped before).
        threshold: the relative threshold applied (None if it stopped before).
        stopped: the message the official script exits with when it stops early, else None.
        reference_path, test_path: the two summaries (for TEST04: A and B).
    """

    test: str
    lines: list[str]
    passed: bool
    scenario: str
    reference_score: str | None = None
    test_score: str | None = None
    threshold: float | None = None
    stopped: str | None = None
    reference_path: str | None = None
    test_path: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The file's content: every line followed by ``\\n``."""
        return "".join(line + "\n" for line in self.lines)

    def write(self, path: str | os.PathLike) -> Path:
        """Write ``verify_performance.txt`` (atomically) and return its path."""
        return atomic_write(path, self.text)

    def explain(self) -> str:
        """One sentence on the verdict, for people."""
        if self.stopped:
            return f"{self.test} performance: {self.stopped}"
        ref, test = _number(self.reference_score), _number(self.test_score)
        names = ("TEST04-A", "TEST04-B") if self.test == "TEST04" else ("reference", "test")
        rel = f"{(test - ref) / ref * 100:+.2f}%" if ref else "n/a"
        lower_better = self.scenario == "SingleStream"
        unit = "latency" if lower_better else "throughput"
        verdict = "PASS" if self.passed else "FAIL"
        text = (
            f"{self.test} performance {verdict}: {names[1]} {unit} {self.test_score} vs {names[0]} "
            f"{self.reference_score} ({rel}; allowed ±{self.threshold * 100:g}%, bounds exclusive)"
        )
        if self.test == "TEST04" and not self.passed:
            text += "; TEST04-B (one sample repeated) is significantly faster than TEST04-A, which suggests caching"
        elif self.test == "TEST04" and SLOWER_NOTE in self.lines:
            text += "; TEST04-B is slower than TEST04-A, which is allowed"
        return text


def _number(text: str | None) -> float:
    try:
        return float(text) if text is not None else 0.0
    except ValueError:
        return 0.0


class _Stop(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _read_lines(path: str | os.PathLike) -> list[str]:
    with open(os.fspath(path), encoding="utf-8", errors="replace") as f:  # universal newlines, as the scripts
        return f.readlines()


def _value(line: str, path: str | None, number: int) -> str:
    parts = line.split(": ", 1)
    if len(parts) < 2:
        raise LogFormatError(path, f"line {number}", f'expected "label: value", found {line.rstrip()!r}')
    return parts[1].strip()


def _scan(
    lines: Iterable[str],
    path: str | None,
    out: list[str],
    *,
    who: str,
    invalid_stops: str | None = None,
    settings_key: str | None = None,
    settings_message: str | None = None,
) -> tuple[str, str | None]:
    """One summary, as the official loop reads it: ``(scenario, score or None)``."""
    mode, score = "", None
    for number, line in enumerate(lines, start=1):
        if line.startswith("Scenario"):
            mode = _value(line, path, number)
            continue
        prefix = SCORE_LINES.get(mode)
        if prefix is not None and line.startswith(prefix):
            score = _value(line, path, number)
            continue
        if invalid_stops is not None and line.startswith("Result is"):
            if _value(line, path, number) == "INVALID":
                raise _Stop(invalid_stops)
        if _ERROR_LINE.match(line):
            out.append(f"WARNING: {line.split(' ', 1)[0].strip()} ERROR reported in {who} results")
        if settings_key is not None and line.startswith(settings_key):
            if _value(line, path, number) == "false":
                raise _Stop(settings_message or "")
            break
    return mode, score


def _float(score: str | None, path: str | None, what: str) -> float:
    if score is None:
        return 0.0  # the scripts start from the integer 0
    try:
        return float(score)
    except ValueError:
        raise LogFormatError(path, what, f"the score {score!r} is not a number") from None


def verify_performance_lines(
    test: str,
    reference_lines: Iterable[str],
    test_lines: Iterable[str],
    *,
    reference_path: str | None = None,
    test_path: str | None = None,
) -> PerformanceVerification:
    """Verify from summary lines (``test`` is ``TEST01``, ``TEST04`` or ``TEST05``); see the module doc."""
    kind = test.upper()
    if kind not in ("TEST01", "TEST04", "TEST05"):
        raise UsageError(f"no performance verification for {test!r}; expected TEST01, TEST04 or TEST05")
    out = ["Verifying performance."]
    result = PerformanceVerification(
        test=kind, lines=out, passed=False, scenario="", reference_path=reference_path, test_path=test_path
    )
    try:
        if kind == "TEST04":
            ref_mode, ref_score = _scan(
                reference_lines,
                reference_path,
                out,
                who="TEST04-A",
                settings_key="performance_issue_unique",
                settings_message="TEST FAIL: Invalid test settings in TEST04-A summary.",
            )
            result.scenario = ref_mode
            test_mode, test_score = _scan(
                test_lines,
                test_path,
                out,
                who="TEST04-B",
                settings_key="performance_issue_same",
                settings_message="TEST FAIL: Invalid test settings in TEST04-B summary.",
            )
        else:
            ref_mode, ref_score = _scan(
                reference_lines,
                reference_path,
                out,
                who="reference",
                invalid_stops="TEST FAIL: Reference results are invalid",
            )
            result.scenario = ref_mode
            test_mode, test_score = _scan(
                test_lines, test_path, out, who="test", invalid_stops="TEST FAIL: Test results are invalid"
            )
        if test_mode != ref_mode:
            raise _Stop(MISMATCH)
    except _Stop as stop:
        result.stopped = stop.message
        return result

    names = ("TEST04-A score", "TEST04-B score") if kind == "TEST04" else ("reference score", "test score")
    out.append(f"{names[0]} = {0 if ref_score is None else ref_score}")
    out.append(f"{names[1]} = {0 if test_score is None else test_score}")
    result.reference_score = "0" if ref_score is None else ref_score
    result.test_score = "0" if test_score is None else test_score
    ref = _float(ref_score, reference_path, "reference score")
    got = _float(test_score, test_path, "test score")

    threshold = {"TEST01": TEST01_THRESHOLD, "TEST04": TEST04_THRESHOLD, "TEST05": TEST05_THRESHOLD}[kind]
    if ref_mode == "SingleStream" and ref <= SHORT_LATENCY_NS:
        threshold = SHORT_LATENCY_THRESHOLD
    result.threshold = threshold

    # The scripts' own expressions, so the float rounding at the bounds is theirs too.
    within = got < ref * (1 + threshold) and got > ref * (1 - threshold)
    if within:
        out.append(PASS)
    elif kind == "TEST04" and got > ref and test_mode == "SingleStream":
        out += [PASS, SLOWER_NOTE]
    elif kind == "TEST04" and got < ref and test_mode != "SingleStream":
        out += [PASS, SLOWER_NOTE]
    else:
        out.append(FAIL)
    result.passed = any(PASS in line for line in out)
    return result


def _verify_files(test: str, reference: str | os.PathLike, other: str | os.PathLike) -> PerformanceVerification:
    ref_path, test_path = os.fspath(reference), os.fspath(other)
    return verify_performance_lines(
        test, _read_lines(ref_path), _read_lines(test_path), reference_path=ref_path, test_path=test_path
    )


def verify_test01_performance(
    reference_summary: str | os.PathLike, test_summary: str | os.PathLike
) -> PerformanceVerification:
    """TEST01: the compliance run's summary against the submission's performance summary (±10 %)."""
    return _verify_files("TEST01", reference_summary, test_summary)


def verify_test05_performance(
    reference_summary: str | os.PathLike, test_summary: str | os.PathLike
) -> PerformanceVerification:
    """TEST05: the alternate-seed run's summary against the submission's performance summary (±5 %)."""
    return _verify_files("TEST05", reference_summary, test_summary)


def verify_test04_performance(
    test04a_summary: str | os.PathLike, test04b_summary: str | os.PathLike
) -> PerformanceVerification:
    """TEST04: TEST04-B (one sample repeated) against TEST04-A (unique samples)."""
    return _verify_files("TEST04", test04a_summary, test04b_summary)
