"""SUTs that run a model: a direct one for SingleStream, a batching worker pool for the rest.

Both take a *runner*: any callable ``runner(indices: np.ndarray) -> Sequence[bytes]`` that turns a
batch of QSL indices into one response per sample. The benchmark layer builds it from the dataset,
the backend and the postprocessing, so this module knows nothing about models.
"""

from __future__ import annotations

import queue
import threading
from typing import Callable, Sequence

import numpy as np

from ..loadgen.api import QuerySample
from ..loadgen.engine import abort_test, complete_arrays
from ..errors import UsageError

Runner = Callable[[np.ndarray], Sequence[bytes]]
#: ``planner(indices, batch_size) -> (order, starts)``: how to order and cut a large query into
#: batches (``DatasetQSL.batch_plan``: runs of consecutive loaded rows, passed to the model as views).
Planner = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]


class _FailedBatch(RuntimeError):
    """A runner failure, kept to be raised from the next issue_query call."""


class _ArraySUT:
    """The object form of ``issue_query`` for SUTs that work on arrays.

    LoadGen calls ``issue_query_arrays`` whenever a SUT has it; ``issue_query`` makes these SUTs
    complete :class:`~edgeperf.loadgen.SystemUnderTest` implementations for any other caller.
    """

    issue_query_arrays: Callable[[np.ndarray, np.ndarray], None]  # defined by each subclass

    def issue_query(self, samples: Sequence[QuerySample]) -> None:
        """Issue ``samples`` (objects with ``id`` and ``index``) as the two arrays."""
        n = len(samples)
        self.issue_query_arrays(
            np.fromiter((s.id for s in samples), np.int64, n), np.fromiter((s.index for s in samples), np.int64, n)
        )


class DirectSUT(_ArraySUT):
    """Runs each query synchronously inside ``issue_query`` (SingleStream: one query at a time)."""

    def __init__(self, runner: Runner, name: str = "edgeperf-direct", max_batch: int = 32):
        self.name = name
        self._runner = runner
        self._max_batch = max_batch

    def issue_query_arrays(self, ids: np.ndarray, indices: np.ndarray) -> None:
        for lo in range(0, len(ids), self._max_batch):
            hi = lo + self._max_batch
            complete_arrays(ids[lo:hi], self._runner(indices[lo:hi]))

    def flush_queries(self) -> None:
        """Nothing is buffered."""


class WorkerPoolSUT(_ArraySUT):
    """A pool of worker threads that batch samples across queries (Offline, Server, MultiStream).

    Each worker takes up to ``batch_size`` queued samples at once (never waiting to fill a batch:
    latency matters in Server), runs them, and completes them through the vectorised completion
    call. A runner exception aborts the test through ``abort_test``, so LoadGen ends it with the
    error instead of waiting for answers that will never come. With a ``planner``, a query larger
    than a batch (Offline) is reordered and cut as the planner says; pieces shorter than a batch
    are merged by the workers as before.
    """

    def __init__(
        self,
        runner: Runner,
        *,
        workers: int = 1,
        batch_size: int = 32,
        name: str = "edgeperf-pool",
        planner: Planner | None = None,
    ):
        if workers < 1 or batch_size < 1:
            raise UsageError("workers and batch_size must be at least 1")
        self.name = name
        self._runner = runner
        self._planner = planner
        self._batch_size = batch_size
        self._queue: queue.Queue = queue.Queue()
        self._error: BaseException | None = None
        self._stop = False
        self._threads = [
            threading.Thread(target=self._work, daemon=True, name=f"edgeperf-worker-{i}") for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    def issue_query_arrays(self, ids: np.ndarray, indices: np.ndarray) -> None:
        self._raise_if_failed()
        bs = self._batch_size
        if self._planner is not None and len(ids) > bs:
            # A query's samples may complete in any order: cut it where the planner says (batches
            # of consecutive loaded rows, which reach the model without a copy).
            order, starts = self._planner(indices, bs)
            ids, indices = ids[order], indices[order]
            bounds = np.append(starts, len(ids)).tolist()
            pieces = list(zip(bounds[:-1], bounds[1:]))
            # full batches first, then the short pieces, which the workers merge with each other
            # (never splitting a full batch, which would lose its contiguity)
            for lo, hi in [p for p in pieces if p[1] - p[0] == bs] + [p for p in pieces if p[1] - p[0] != bs]:
                self._queue.put((ids[lo:hi], indices[lo:hi]))
            return
        for lo in range(0, len(ids), bs):
            self._queue.put((ids[lo : lo + bs], indices[lo : lo + bs]))

    def flush_queries(self) -> None:
        self._raise_if_failed()

    def close(self) -> None:
        """Stop the workers once the queue is drained."""
        self._stop = True
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout=10)

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise _FailedBatch(f"the model runner failed: {self._error!r}") from self._error

    def _take_batch(self):
        """Block for one item, then greedily merge queued items up to the batch size."""
        first = self._queue.get()
        if first is None:
            return None
        ids, indices = [first[0]], [first[1]]
        size = len(first[0])
        while size < self._batch_size:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)
                break
            room = self._batch_size - size
            if len(item[0]) > room:
                self._queue.put((item[0][room:], item[1][room:]))
                item = (item[0][:room], item[1][:room])
            ids.append(item[0])
            indices.append(item[1])
            size += len(item[0])
        if len(ids) == 1:
            return ids[0], indices[0]
        return np.concatenate(ids), np.concatenate(indices)

    def _work(self) -> None:
        while True:
            batch = self._take_batch()
            if batch is None:
                return
            if self._error is not None:
                continue  # drain without running once failed
            ids, indices = batch
            try:
                responses = self._runner(indices)
            except Exception as exc:
                self._error = exc
                abort_test(f"the model runner failed on samples {indices[:8].tolist()}: {exc!r}")
                continue
            complete_arrays(ids, responses)
