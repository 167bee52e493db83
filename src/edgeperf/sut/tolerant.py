"""Samples that fail one by one, as remote and distributed SUTs see them.

A request to an inference server can time out, or the server can answer one batch with an error,
while the rest of the run is fine. :func:`error_tolerant` wraps a runner so that such a failure
is recorded in the detail log (``error_runtime``, with the samples and the cause) and its samples
are completed with an empty response, so LoadGen keeps its measurement going. Once more than
``max_errors`` batches have failed, the next failure ends the run: the wrapper raises
:class:`TooManySampleErrors`, which the SUT turns into an aborted test whose message gives the
count and the last cause. Every log stays closed and readable either way; a run with any recorded
error is invalid to the checker.
"""

from __future__ import annotations

import threading
from typing import Callable, Sequence

import numpy as np

from ..errors import EdgeperfError
from ..loadgen.engine import log_sut_error

__all__ = ["TooManySampleErrors", "error_tolerant"]

Runner = Callable[[np.ndarray], Sequence[bytes]]


class TooManySampleErrors(EdgeperfError, RuntimeError):
    """More batches failed than the run allows (``--max-errors``)."""


def error_tolerant(
    runner: Runner, max_errors: int, *, failures: tuple[type[BaseException], ...], describe: str = "the model"
) -> Runner:
    """``runner``, with up to ``max_errors`` failed batches (exceptions of the ``failures`` types)
    logged and answered with empty responses; the failure after that raises
    :class:`TooManySampleErrors`. Other exceptions pass through untouched (they are bugs)."""
    if isinstance(max_errors, bool) or not isinstance(max_errors, int) or max_errors < 0:
        raise ValueError(f"max_errors must be an int >= 0, got {max_errors!r}")
    lock = threading.Lock()
    count = 0

    def run(indices: np.ndarray) -> Sequence[bytes]:
        nonlocal count
        try:
            return runner(indices)
        except failures as exc:
            with lock:
                count += 1
                n = count
            shown = ", ".join(str(int(i)) for i in indices[:8]) + (", ..." if len(indices) > 8 else "")
            log_sut_error(f"{describe} failed on {len(indices)} sample(s) (QSL indices {shown}): {exc}")
            if n > max_errors:
                raise TooManySampleErrors(
                    f"{n} failed request(s), more than --max-errors {max_errors}; the last: {exc}"
                ) from exc
            return [b""] * len(indices)

    return run
