"""What every accuracy evaluator returns, the evaluator registry, and ``accuracy.txt`` writing.

An evaluator re-does what one official v1.1 accuracy script does (spec benchmarks.md §3.e, §4.e,
…) and returns an :class:`AccuracyResult`. Evaluators print nothing themselves: everything the
official script would print on stdout is in ``AccuracyResult.lines``, in order, so a caller can
echo it or write ``accuracy.txt`` (the stdout of the official script, spec submission.md §2.3)
with :func:`write_accuracy_txt`. The ``hash=`` line is *not* written here: the truncation step
(``truncate_accuracy_log.py`` or edgeperf's submission builder) appends it.
"""

from __future__ import annotations

import os

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .._atomic import atomic_write
from ..errors import EdgeperfError

__all__ = [
    "AccuracyError",
    "AccuracyResult",
    "EVALUATORS",
    "register",
    "write_accuracy_txt",
]


class AccuracyError(EdgeperfError, ValueError):
    """Input an accuracy evaluator cannot score: names the file and where in it (record, line).

    ``str()`` reads ``<path>:<where>: <message>``, e.g.
    ``out/mlperf_log_accuracy.json:seq_id 7 (qsl_idx 12): empty data …``.
    """

    def __init__(self, path: str | os.PathLike | None, where: str, message: str) -> None:
        self.path = None if path is None else os.fspath(path)
        self.where = where
        self.message = message
        prefix = self.path or "<input>"
        super().__init__(f"{prefix}:{where}: {message}" if where else f"{prefix}: {message}")


@dataclass
class AccuracyResult:
    """The outcome of one accuracy evaluation.

    Attributes:
        metric: the registry key of the metric (``"top1"``, ``"coco_map"``, …).
        value: the number the submission checker compares with the target, in its unit
            (top-1 percent, mAP percent, …), parsed from the printed official line — i.e. already
            rounded the way the checker sees it (``accuracy=76.042%`` → ``76.042``).
        exact: the same number before rounding for printing.
        official_line: the line the checker's regex picks up (``accuracy=…``, ``mAP=…``).
        lines: everything the official script prints on stdout, in order, without line ends.
        details: metric-specific counts (``good``, ``total``, ``dupes``, COCO ``stats``, …).
        notes: why edgeperf departed from the reference (where the reference would crash), if it did.
    """

    metric: str
    value: float
    exact: float
    official_line: str
    lines: list[str]
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The official script's stdout: each line followed by ``\\n``."""
        return "".join(line + "\n" for line in self.lines)


#: Metric name → evaluator. Every evaluator takes the accuracy log path first and the ground
#: truth location second (``val_map.txt`` for top-1, the COCO root for COCO mAP, …), then
#: keyword options, and returns an :class:`AccuracyResult`.
EVALUATORS: dict[str, Callable[..., AccuracyResult]] = {}


def register(metric: str) -> Callable[[Callable[..., AccuracyResult]], Callable[..., AccuracyResult]]:
    """Decorator: add an evaluator to :data:`EVALUATORS` under ``metric``."""

    def deco(fn: Callable[..., AccuracyResult]) -> Callable[..., AccuracyResult]:
        if metric in EVALUATORS and EVALUATORS[metric] is not fn:
            raise ValueError(f"an accuracy evaluator is already registered for {metric!r}")
        EVALUATORS[metric] = fn
        return fn

    return deco


def write_accuracy_txt(result: AccuracyResult | Iterable[str], path: str | os.PathLike) -> Path:
    """Write ``accuracy.txt``: the official script's stdout, byte for byte (``\\n`` line ends, UTF-8).

    ``result`` is an :class:`AccuracyResult` or the lines themselves. The file is written to a
    temporary file beside ``path`` and renamed over it, so a failure never leaves half a file.
    Returns the path.
    """
    lines = result.lines if isinstance(result, AccuracyResult) else list(result)
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    return atomic_write(path, data)


def _printed_value(line: str) -> float:
    """The number in an official ``name=<num>%…`` line (``accuracy=76.042%, …`` → 76.042)."""
    head = line.split("=", 1)[1]
    num = head.split("%", 1)[0]
    return float(num)
