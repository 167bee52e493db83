"""A SUT spread over a Ray cluster: model replicas in Ray actors, samples in Ray's object store.

* Each replica is an actor that loads the model itself (the model file's bytes travel once through
  the object store, so the file need not exist on the other nodes) with a local backend.
* When LoadGen loads a set of samples, :class:`RaySampleQSL` stacks them into one array, puts it in
  the object store once, and hands the reference to every replica; a replica reads it without a
  copy (numpy arrays in the object store are zero-copy and read-only). A query then sends only the
  samples' QSL indices and their rows in that array, never the sample data.
* Queries are cut into batches and sent to the replica with the fewest batches in flight; one
  completion thread waits on the results and answers LoadGen through the vectorised
  :func:`~edgeperf.loadgen.engine.complete_arrays`.
* A replica that dies (its node lost, its process killed) ends the test through
  :func:`~edgeperf.loadgen.engine.abort_test` with the replica and the cause, so LoadGen closes
  every log instead of waiting for answers that will never come.

Ray is imported when a :class:`RaySUT` is created, never when this module is imported.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import EdgeperfError
from ..loadgen.api import QuerySample
from ..loadgen.engine import abort_test, complete_arrays

__all__ = ["RayOptions", "RaySUT", "RaySampleQSL", "RaySutError"]

_INSTALL_HINT = "pip install 'edgeperf[ray]'"


class RaySutError(EdgeperfError, RuntimeError):
    """The Ray cluster cannot be reached, or a replica cannot load the model."""


@dataclass(frozen=True)
class RayOptions:
    """``address``: ``"auto"`` (a running cluster on this machine), ``"HOST:PORT"`` (a cluster's
    head), or ``"local"`` (start a one-node Ray just for this run); ``replicas``: model replicas;
    ``cpus_per_replica``: CPUs Ray reserves for each; ``backend`` and ``threads``: how each replica
    runs the model; ``node_ip_address``: this machine's address as the cluster sees it (default:
    Ray's own choice)."""

    address: str = "auto"
    replicas: int = 1
    cpus_per_replica: float = 1.0
    backend: str = "onnxruntime"
    threads: int | None = None
    node_ip_address: str | None = None


def _import_ray():
    try:
        import ray
    except ImportError as e:
        raise RaySutError(
            f"the Ray SUT needs Ray, which is not installed ({e}); install it with: {_INSTALL_HINT}"
        ) from e
    return ray


class _Replica:
    """One model replica (becomes a Ray actor class through ``ray.remote``)."""

    def __init__(self, bench, model_bytes: bytes, model_suffix: str, backend: str, threads: int | None):
        from ..backends import get_backend

        self._bench = bench
        fd, path = tempfile.mkstemp(suffix=model_suffix, prefix="edgeperf-replica-")
        with os.fdopen(fd, "wb") as f:
            f.write(model_bytes)
        self._model_path = path
        self._backend = get_backend(backend, threads=threads)
        self._backend.load(path, self._bench.signature)
        self._input = self._bench.input_name()
        self._outputs = list(self._bench.requested_outputs)
        self._samples: np.ndarray | None = None

    def describe(self) -> dict:
        import ray

        return {"pid": os.getpid(), "node": ray.get_runtime_context().get_node_id()}

    def set_samples(self, samples: np.ndarray) -> int:
        self._samples = samples
        return int(samples.shape[0])

    def run(self, indices: np.ndarray, rows: np.ndarray) -> list:
        if self._samples is None:
            raise RaySutError("a Ray replica received a batch before any samples were published to it")
        batch = np.take(self._samples, rows, axis=0)
        outputs = self._backend.predict({self._input: batch}, self._outputs)
        return [bytes(r) for r in self._bench.postprocess(outputs, indices)]

    def close(self) -> None:
        self._backend.close()
        try:
            os.unlink(self._model_path)
        except OSError:
            pass


class RaySUT:
    """LoadGen's SUT over model replicas in Ray actors (see the module's docstring).

    ``bench`` is the benchmark's definition (``edgeperf.benchmarks.BenchmarkDefinition``: signature,
    input name, requested outputs, postprocessing); it travels to each replica with the actor's
    arguments, so this layer never imports the benchmark registry.
    """

    def __init__(
        self, bench, model: str | os.PathLike, options: RayOptions, *, batch_size: int = 32, name: str = "edgeperf-ray"
    ):
        if options.replicas < 1:
            raise RaySutError(f"--replicas must be at least 1, got {options.replicas}")
        if batch_size < 1:
            raise RaySutError(f"the batch size must be at least 1, got {batch_size}")
        model_path = Path(model)
        if not model_path.is_file():
            raise RaySutError(f"model file '{model_path}' does not exist or is not a file")
        ray = self._ray = _import_ray()
        self.name = name
        self._batch = int(batch_size)
        self._started_ray = False
        if not ray.is_initialized():
            extra = {"_node_ip_address": options.node_ip_address} if options.node_ip_address else {}
            try:
                if options.address == "local":
                    ray.init(
                        address="local", include_dashboard=False, logging_level="ERROR", log_to_driver=False, **extra
                    )
                else:
                    ray.init(address=options.address, logging_level="ERROR", log_to_driver=False, **extra)
            except Exception as exc:  # ConnectionError, a refused or unknown address
                raise RaySutError(f"cannot connect to the Ray cluster at {options.address!r}: {exc}") from None
            self._started_ray = True
        actor_class = ray.remote(_Replica)
        model_ref = ray.put(model_path.read_bytes())
        self._actors = [
            actor_class.options(num_cpus=options.cpus_per_replica, scheduling_strategy="SPREAD", max_restarts=0).remote(
                bench, model_ref, model_path.suffix, options.backend, options.threads
            )
            for _ in range(options.replicas)
        ]
        try:
            self.replicas = ray.get([a.describe.remote() for a in self._actors], timeout=300)
        except Exception as exc:
            self._kill_actors()
            raise RaySutError(f"a Ray replica could not load '{model_path}': {_cause(exc)}") from None
        self._rows: np.ndarray | None = None
        self._in_flight = [0] * len(self._actors)
        self._pending: dict[Any, tuple[np.ndarray, int]] = {}
        self._lock = threading.Condition()
        self._failed: str | None = None
        self._stop = False
        self._waiter = threading.Thread(target=self._complete_loop, name="edgeperf-ray-completion", daemon=True)
        self._waiter.start()

    # -- the samples ------------------------------------------------------------------------------

    def publish_samples(self, indices: np.ndarray, samples: np.ndarray, total: int) -> None:
        """Put ``samples`` (the loaded samples of ``indices``, stacked) in the object store once and
        give every replica the reference; wait until each has it."""
        ray = self._ray
        rows = np.full(total, -1, dtype=np.int64)
        rows[indices] = np.arange(len(indices), dtype=np.int64)
        ref = ray.put(samples)
        try:
            ray.get([a.set_samples.remote(ref) for a in self._actors])
        except Exception as exc:
            raise RaySutError(f"a Ray replica failed while receiving the samples: {_cause(exc)}") from None
        self._rows = rows

    # -- the SUT protocol ----------------------------------------------------------------------------

    def issue_query(self, samples: Sequence[QuerySample]) -> None:
        """Issue ``samples`` (objects with ``id`` and ``index``) as the two arrays."""
        n = len(samples)
        self.issue_query_arrays(
            np.fromiter((s.id for s in samples), np.int64, n), np.fromiter((s.index for s in samples), np.int64, n)
        )

    def issue_query_arrays(self, ids: np.ndarray, indices: np.ndarray) -> None:
        if self._failed is not None:  # LoadGen stops issuing once the SUT raises
            raise RaySutError(self._failed)
        rows_of = self._rows
        if rows_of is None:
            abort_test("the Ray SUT received a query before any samples were loaded")
            return
        for lo in range(0, len(ids), self._batch):
            batch_ids = np.asarray(ids[lo : lo + self._batch])
            batch_indices = np.asarray(indices[lo : lo + self._batch], dtype=np.int64)
            with self._lock:
                k = min(range(len(self._actors)), key=self._in_flight.__getitem__)
                ref = self._actors[k].run.remote(batch_indices, rows_of[batch_indices])
                self._in_flight[k] += 1
                self._pending[ref] = (batch_ids, k)
                self._lock.notify()

    def flush_queries(self) -> None:
        """Nothing is buffered: every batch is sent when its query arrives."""

    def close(self) -> None:
        """Stop the completion thread, release the replicas and, if this SUT started Ray, Ray."""
        with self._lock:
            self._stop = True
            self._lock.notify()
        self._waiter.join(timeout=10)
        self._kill_actors()
        if self._started_ray:
            self._ray.shutdown()

    # -- internals ----------------------------------------------------------------------------------

    def _kill_actors(self) -> None:
        for actor in self._actors:
            try:
                self._ray.kill(actor)
            except Exception:  # an actor that already died is fine
                pass

    def _complete_loop(self) -> None:
        ray = self._ray
        while True:
            with self._lock:
                while not self._pending and not self._stop:
                    self._lock.wait()
                if self._stop:
                    return
                refs = list(self._pending)
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0.005, fetch_local=True)
            for ref in ready:
                with self._lock:
                    ids, k = self._pending.pop(ref)
                    self._in_flight[k] -= 1
                try:
                    responses = ray.get(ref)
                except Exception as exc:
                    self._fail(k, exc)
                    continue
                complete_arrays(ids, responses)

    def _fail(self, k: int, exc: BaseException) -> None:
        if self._failed is not None:
            return
        where = self.replicas[k] if k < len(self.replicas) else {}
        self._failed = f"Ray replica {k} (pid {where.get('pid', '?')}) failed: {_cause(exc)}"
        abort_test(self._failed)


class RaySampleQSL:
    """A QSL that publishes every loaded set to a :class:`RaySUT`'s replicas.

    It wraps the benchmark's own QSL (which preprocesses and keeps the samples) and, after each
    load, stacks the loaded samples with its ``get_batch`` and calls ``sut.publish_samples``.
    """

    def __init__(self, qsl, sut: RaySUT):
        if not hasattr(qsl, "get_batch"):
            raise RaySutError(
                f"the Ray SUT needs a QSL that stacks samples into one array (get_batch); {qsl.name} has none "
                f"(use the ray backend with the vision benchmarks)"
            )
        self._qsl = qsl
        self._sut = sut
        self._loaded: set[int] = set()

    @property
    def name(self) -> str:
        return self._qsl.name

    @property
    def total_sample_count(self) -> int:
        return self._qsl.total_sample_count

    @property
    def performance_sample_count(self) -> int:
        return self._qsl.performance_sample_count

    def load_samples_to_ram(self, indices: Sequence[int]) -> None:
        self._qsl.load_samples_to_ram(indices)
        self._loaded.update(int(i) for i in indices)
        self._publish()

    def unload_samples_from_ram(self, indices: Sequence[int]) -> None:
        self._qsl.unload_samples_from_ram(indices)
        self._loaded.difference_update(int(i) for i in indices)

    def get_batch(self, indices):
        return self._qsl.get_batch(indices)

    def _publish(self) -> None:
        loaded = np.fromiter(sorted(self._loaded), dtype=np.int64, count=len(self._loaded))
        self._sut.publish_samples(loaded, self._qsl.get_batch(loaded), self.total_sample_count)


def _cause(exc: BaseException) -> str:
    """A one-line cause from a Ray error (whose text can run to a whole remote traceback)."""
    text = str(exc).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    if type(exc).__name__ in ("RayActorError", "ActorDiedError", "ActorUnavailableError"):
        return f"the replica died ({lines[0] if lines else type(exc).__name__})"
    return lines[-1] if lines else type(exc).__name__
