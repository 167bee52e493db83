"""A simulated SUT and QSL: realistic latencies without a model, for tests and experiments.

Service times follow a log-normal body with a small heavy tail (an occasional slow sample), the
shape real accelerators show. Work is done by a pool of worker threads that pull batches of
samples from a queue, sleep for the simulated service time, and complete the batch through the
vectorised completion API.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from dataclasses import dataclass

import numpy as np

from ..loadgen.engine import complete_arrays


@dataclass(frozen=True)
class LatencyModel:
    """Per-batch service time: ``base + per_sample * n`` scaled by a log-normal factor.

    ``tail_probability`` of the batches take ``tail_factor`` times longer.
    """

    base_s: float = 0.0008
    per_sample_s: float = 0.0002
    sigma: float = 0.15
    tail_probability: float = 0.01
    tail_factor: float = 3.0

    def sample(self, n: int, rng: np.random.Generator) -> float:
        """Seconds to serve a batch of ``n`` samples."""
        t = (self.base_s + self.per_sample_s * n) * math.exp(rng.normal(0.0, self.sigma) - self.sigma**2 / 2)
        if rng.random() < self.tail_probability:
            t *= self.tail_factor
        return t


class SimulatedSUT:
    """A SUT with ``workers`` threads serving batches of up to ``max_batch`` samples.

    Response bytes are the sample's QSL index as little-endian int32, so accuracy logs are
    meaningful and checkable.
    """

    def __init__(self, model: LatencyModel | None = None, *, workers: int = 2, max_batch: int = 32, seed: int = 0):
        self.name = "edgeperf-simulated-SUT"
        self.model = model or LatencyModel()
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._workers = [
            threading.Thread(
                target=self._work, args=(np.random.default_rng(seed + i),), daemon=True, name=f"sim-sut-{i}"
            )
            for i in range(workers)
        ]
        for w in self._workers:
            w.start()

    def issue_query_arrays(self, ids: np.ndarray, indices: np.ndarray) -> None:
        """Queue the samples in batches of at most ``max_batch``."""
        for lo in range(0, len(ids), self.max_batch):
            self._queue.put((ids[lo : lo + self.max_batch], indices[lo : lo + self.max_batch]))

    def issue_query(self, samples) -> None:
        ids = np.fromiter((s.id for s in samples), dtype=np.int64, count=len(samples))
        indices = np.fromiter((s.index for s in samples), dtype=np.int64, count=len(samples))
        self.issue_query_arrays(ids, indices)

    def flush_queries(self) -> None:
        """Nothing is held back, so there is nothing to flush."""

    def close(self) -> None:
        """Stop the worker threads."""
        for _ in self._workers:
            self._queue.put(None)
        for w in self._workers:
            w.join(timeout=5)

    def _work(self, rng: np.random.Generator) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            ids, indices = item
            time.sleep(self.model.sample(len(ids), rng))
            complete_arrays(ids, _IndexBytes(indices))


class _IndexBytes:
    """Response bytes built only for the samples LoadGen actually logs."""

    def __init__(self, indices: np.ndarray):
        self._indices = indices

    def __getitem__(self, i: int) -> bytes:
        return int(self._indices[i]).to_bytes(4, "little", signed=True)


class SimulatedQSL:
    """A QSL of ``total`` samples that keeps nothing in memory."""

    def __init__(self, total: int = 1024, performance: int = 256, name: str = "edgeperf-simulated-QSL"):
        self.name = name
        self.total_sample_count = total
        self.performance_sample_count = performance
        self.loaded: set[int] = set()

    def load_samples_to_ram(self, indices) -> None:
        self.loaded.update(indices)

    def unload_samples_from_ram(self, indices) -> None:
        self.loaded.difference_update(indices)
