"""The dataset protocol, the dataset error, and a QSL over any dataset (spec benchmarks.md §1.1, §2.1).

A *dataset* knows its files on disk and how to turn sample ``i`` into the model's input array
(``preprocessed(i)``); ground truth is exposed per dataset (``ImagenetDataset.labels``,
``CocoDataset.ground_truth(i)``, ...). :class:`DatasetQSL` turns any dataset into the query sample
library that LoadGen drives: it keeps the preprocessed arrays of the loaded samples in memory and
hands batches of them to the SUT.

Loaded samples live in one preallocated array (a "slab", one row per loaded sample) with an index
table from QSL index to row, so :meth:`DatasetQSL.get_batch` is a single numpy ``take`` — no
Python loop over samples and no per-sample objects on the hot path.
"""

from __future__ import annotations

import itertools
import mmap
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from os import PathLike
from typing import Any, Callable, Iterable, Optional, Protocol, Sequence, Union, runtime_checkable

import numpy as np

from ..errors import EdgeperfError, UsageError
from ._allocator import keep_freed_heap

__all__ = [
    "DatasetError",
    "DatasetWarning",
    "missing_files_message",
    "Dataset",
    "DatasetQSL",
    "ProgressCallback",
    "check_layout",
    "LAYOUTS",
    "allocate_slab",
]

#: Slabs at least this large come from an anonymous mapping (see :func:`allocate_slab`).
_SLAB_MAPPING_MIN_BYTES = 4 << 20


def allocate_slab(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised, writable array of ``shape``/``dtype`` for loaded samples.

    numpy advises the kernel to back every large array with transparent huge pages; where the
    kernel's THP ``defrag`` setting is ``madvise`` (a common default) the first touch of each
    huge page then waits for memory compaction. Filling a fresh slab measured about 1 ms per
    602 KB ImageNet sample that way against 0.3 ms in ordinary pages (a quarter of the sample's
    preprocessing), so a large slab is an anonymous mapping without that advice. The samples
    are copied out whole, so huge pages would save little later.
    """
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes < _SLAB_MAPPING_MIN_BYTES or not hasattr(mmap, "MAP_ANONYMOUS"):
        return np.empty(shape, dtype=dtype)
    region = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    return np.frombuffer(region, dtype=dtype).reshape(shape)


#: The two memory layouts of an image tensor: channels first (ONNX) or channels last (TF).
LAYOUTS = ("NCHW", "NHWC")

#: ``progress(done, total)``: called while :meth:`DatasetQSL.load_samples_to_ram` works.
ProgressCallback = Callable[[int, int], None]


class DatasetError(EdgeperfError, ValueError):
    """A problem with a data set on disk that the user can fix (missing or malformed file).

    The message names the file (and line, where there is one) and says what was expected.
    ``path`` and ``line`` carry the same facts for programs; either may be ``None``.
    """

    def __init__(self, message: str, *, path: Union[str, PathLike, None] = None, line: Optional[int] = None):
        super().__init__(message)
        self.path = None if path is None else str(path)
        self.line = line


def missing_files_message(
    missing: Sequence[str], listed: int, list_file, folder, what: str = "images", shown: int = 5, read_all: bool = True
) -> str:
    """The warning for files a list names but the disk lacks: how many, the first ``shown`` names,
    and what skipping them does to the sample indices (the reference harness skips them too).
    ``read_all=False``: only the first ``listed`` entries were read (a sample count was reached)."""
    names = ", ".join(missing[:shown]) + (f", and {len(missing) - shown} more" if len(missing) > shown else "")
    verb = "is" if len(missing) == 1 else "are"
    which = "the" if read_all else "the first"
    return (
        f"{len(missing)} of {which} {listed} {what} listed in {list_file} {verb} missing from {folder} and "
        f"{'was' if len(missing) == 1 else 'were'} skipped, as the reference harness skips them, so later "
        f"samples move up; the accuracy script does not skip them: {names}"
    )


class DatasetWarning(UserWarning):
    """Something in a data set that edgeperf handles as the reference does, but the user should know
    (an image listed but missing, an utterance dropped): the message names the files concerned."""


def check_layout(layout: str) -> str:
    """Return ``layout`` if it is ``"NCHW"`` or ``"NHWC"``; raise :class:`DatasetError` otherwise."""
    if layout not in LAYOUTS:
        raise DatasetError(f"unknown layout {layout!r}: expected one of {', '.join(LAYOUTS)}")
    return layout


@runtime_checkable
class Dataset(Protocol):
    """What :class:`DatasetQSL` needs from a data set.

    ``name`` is a short key (``"imagenet"``, ``"coco-300"``, ...), ``len(dataset)`` the number of
    samples (QSL indices ``0 .. len-1``), and ``preprocessed(i)`` the model input of sample ``i``
    without a batch axis. Ground truth is not part of the protocol: each dataset exposes its own.
    """

    @property
    def name(self) -> str: ...

    def __len__(self) -> int: ...

    def preprocessed(self, index: int) -> np.ndarray: ...


class QSLBase:
    """The QSL protocol's three read-only members, shared by every dataset's QSL.

    Subclasses set ``_name``, ``_total`` and ``_performance`` in their ``__init__``.
    """

    _name: str
    _total: int
    _performance: int

    @property
    def name(self) -> str:
        return self._name

    @property
    def total_sample_count(self) -> int:
        return self._total

    @property
    def performance_sample_count(self) -> int:
        return self._performance


class DatasetQSL(QSLBase):
    """A LoadGen query sample library over a :class:`Dataset` (spec loadgen.md §2.1-2.3).

    ``load_samples_to_ram(indices)`` preprocesses (or reads from the dataset's cache) each sample
    not already loaded and keeps it in memory; repeated indices in one call or across calls (the
    padding of a MultiStream loadable set) are loaded once. ``unload_samples_from_ram(indices)``
    forgets them; unloading a sample that is not loaded is ignored.

    ``progress(done, total)`` is called during a load (never printed here); ``workers > 1``
    preprocesses that many samples at once on threads (OpenCV releases the GIL).

    Every sample of one dataset must preprocess to the same shape and dtype (true for the vision
    data sets); a sample that does not raises :class:`DatasetError` when it is loaded.
    """

    def __init__(
        self,
        dataset: Dataset,
        performance_sample_count: int,
        *,
        name: Optional[str] = None,
        progress: Optional[ProgressCallback] = None,
        workers: int = 1,
    ):
        count = int(performance_sample_count)
        if count < 1:
            raise UsageError(f"performance_sample_count must be at least 1, got {performance_sample_count!r}")
        if int(workers) < 1:
            raise UsageError(f"workers must be at least 1, got {workers!r}")
        self.dataset = dataset
        self._name = str(name) if name is not None else str(dataset.name)
        self._total = len(dataset)
        self._performance = count
        self._progress = progress
        self._workers = int(workers)
        self._lock = threading.Lock()
        self._row = np.full(self._total, -1, dtype=np.intp)  # QSL index -> slab row, -1 if not loaded
        self._slab: Optional[np.ndarray] = None
        self._free: list[int] = []  # slab rows not in use, reused before the slab grows

    # -- the QSL protocol ------------------------------------------------------------------------

    def load_samples_to_ram(self, indices: Sequence[int]) -> None:
        """Preprocess and keep every sample of ``indices`` that is not loaded yet.

        The first call raises glibc's heap trim threshold for the process (see
        :mod:`edgeperf.datasets._allocator`; ``EDGEPERF_KEEP_MALLOC_DEFAULTS=1`` opts out), so
        the decoders' per-sample buffers are reused instead of faulted in again for each sample.
        """
        keep_freed_heap()
        wanted = self._checked(indices)
        with self._lock:
            new = [int(i) for i in np.unique(wanted) if self._row[i] < 0]
            total = len(new)
            if total == 0:
                return
            if self._writes_in_place():
                self._load_in_place(new)
                return
            for done, (index, array) in enumerate(self._preprocess_all(new), start=1):
                self._store(index, np.asarray(array), total - done + 1)
                if self._progress is not None:
                    self._progress(done, total)

    def _writes_in_place(self) -> bool:
        """True for a dataset that can preprocess into a given row and declares its sample shape and dtype."""
        ds = self.dataset
        return (
            callable(getattr(ds, "preprocessed_into", None))
            and getattr(ds, "sample_shape", None) is not None
            and getattr(ds, "sample_dtype", None) is not None
        )

    def _load_in_place(self, new: list[int]) -> None:
        """Reserve a slab row per sample and have the dataset write each sample into its row.

        ``workers`` threads run at once (OpenCV and numpy release the GIL); at most a few tasks per
        worker are in flight, so nothing piles up. A sample is marked loaded once its row is
        written; after a failure the samples already written stay loaded, the others' rows are
        freed, and the first error is raised.
        """
        # The in-place members are optional (checked by _writes_in_place), so not on the Dataset protocol.
        ds: Any = self.dataset
        shape = tuple(ds.sample_shape)
        dtype = np.dtype(ds.sample_dtype)
        rows = self._reserve(len(new), shape, dtype)
        slab, total = self._slab, len(new)
        work = iter(zip(new, rows))
        done = 0
        error: Optional[BaseException] = None
        if self._workers == 1:
            for index, row in work:
                try:
                    ds.preprocessed_into(index, slab[row])
                except BaseException as exc:
                    error = exc
                    self._free.append(row)
                    break
                self._row[index] = row
                done += 1
                if self._progress is not None:
                    self._progress(done, total)
        else:
            with ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="edgeperf-preprocess") as pool:
                running = {}
                for index, row in itertools.islice(work, 4 * self._workers):
                    running[pool.submit(ds.preprocessed_into, index, slab[row])] = (index, row)
                while running:
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        index, row = running.pop(future)
                        if future.exception() is not None:
                            error = error or future.exception()
                            self._free.append(row)
                            continue
                        self._row[index] = row
                        done += 1
                        if self._progress is not None:
                            self._progress(done, total)
                        if error is None:
                            nxt = next(work, None)
                            if nxt is not None:
                                running[pool.submit(ds.preprocessed_into, nxt[0], slab[nxt[1]])] = nxt
        flush = getattr(ds, "flush_cache", None)
        if callable(flush):  # cache files written in the background are on disk when the load returns
            try:
                flush()
            except BaseException as exc:
                error = error or exc
        if error is not None:
            for _, row in work:  # never started
                self._free.append(row)
            raise error

    def _reserve(self, count: int, shape: tuple[int, ...], dtype: np.dtype) -> list[int]:
        """``count`` free slab rows for samples of ``shape``/``dtype``, growing the slab once if needed."""
        slab = self._slab
        if slab is not None and (slab.shape[1:] != shape or slab.dtype != dtype):
            raise DatasetError(
                f"{self._name}: samples are {dtype}{list(shape)}, but loaded samples are "
                f"{slab.dtype}{list(slab.shape[1:])}; a DatasetQSL needs every sample to have the same shape and dtype"
            )
        if slab is None:
            self._slab = allocate_slab((count,) + shape, dtype)
            self._free = list(range(count - 1, -1, -1))
        elif len(self._free) == slab.shape[0] and slab.shape[0] < count:  # none in use: nothing to keep
            self._slab = allocate_slab((count,) + shape, dtype)
            self._free = list(range(count - 1, -1, -1))
        elif len(self._free) < count:
            missing = count - len(self._free)
            grown = allocate_slab((slab.shape[0] + missing,) + shape, dtype)
            grown[: slab.shape[0]] = slab
            self._free = list(range(grown.shape[0] - 1, slab.shape[0] - 1, -1)) + self._free
            self._slab = grown
        return [self._free.pop() for _ in range(count)]

    def unload_samples_from_ram(self, indices: Sequence[int]) -> None:
        """Forget the samples of ``indices``; ones not loaded are ignored.

        When nothing is left loaded the slab stays, for the next load: LoadGen's accuracy pass
        loads one set after another, and a fresh slab would cost its first-touch page faults
        again (~0.3 ms per ImageNet sample, most of a cached load). :meth:`release_memory`
        gives it back; so does dropping the QSL.
        """
        wanted = self._checked(indices)
        with self._lock:
            for index in np.unique(wanted):
                row = int(self._row[index])
                if row >= 0:
                    self._row[index] = -1
                    self._free.append(row)
            if self._slab is not None and len(self._free) == self._slab.shape[0]:
                self._free = list(range(self._slab.shape[0] - 1, -1, -1))  # rows handed out 0, 1, 2, ... again

    def release_memory(self) -> None:
        """Unload every sample and give the loaded-sample array's memory back."""
        with self._lock:
            self._row[:] = -1
            self._slab, self._free = None, []

    # -- access for the SUT ----------------------------------------------------------------------

    @property
    def loaded_count(self) -> int:
        """How many distinct samples are in memory now."""
        return int(np.count_nonzero(self._row >= 0))

    def is_loaded(self, index: int) -> bool:
        """Whether sample ``index`` is in memory."""
        return 0 <= index < self._total and self._row[index] >= 0

    def get(self, index: int) -> np.ndarray:
        """The preprocessed array of one loaded sample (no batch axis; do not modify it)."""
        rows = self._rows([index])
        return self._slab[rows[0]]

    def get_batch(
        self,
        indices: Union[Sequence[int], np.ndarray],
        out: Optional[np.ndarray] = None,
        scratch: Optional[np.ndarray] = None,
    ) -> np.ndarray:
        """The loaded samples of ``indices`` stacked along a new first (batch) axis.

        Samples in consecutive slab rows come back as a read-only-by-contract view of the slab (no
        copy); others are copied by one numpy ``take`` into a fresh array, or into ``out`` when given
        (it must have shape ``(len(indices), *sample_shape)`` and the samples' dtype). ``scratch``
        (the samples' dtype and shape, at least ``len(indices)`` rows) is gathered into when a copy is
        needed, so a worker reuses one buffer instead of faulting in a fresh one per batch.
        """
        rows = self._rows(indices)
        slab = self._slab
        if slab is None:
            raise KeyError(f"no sample of {self._name} is loaded (LoadGen loads samples before issuing them)")
        n = len(rows)
        if out is None and n and rows[-1] - rows[0] == n - 1 and (n == 1 or bool((np.diff(rows) == 1).all())):
            # consecutive slab rows: a view, no copy (batch_plan orders Offline queries to get these)
            return slab[rows[0] : rows[0] + n]
        if (
            out is None
            and scratch is not None
            and scratch.shape[0] >= n
            and scratch.shape[1:] == slab.shape[1:]
            and scratch.dtype == slab.dtype
        ):
            out = scratch[:n]
        return np.take(slab, rows, axis=0, out=out)

    def batch_plan(self, indices: Union[Sequence[int], np.ndarray], batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """An order of a query's samples in which most batches are consecutive slab rows.

        Returns ``(order, starts)``: ``indices[order]`` cut at ``starts`` (ascending, first 0) gives
        batches of at most ``batch_size`` samples, each a run of consecutive slab rows, so that
        :meth:`get_batch` hands it to the model as a view instead of gathering 32 copies. A sample
        repeated in the query (LoadGen draws Offline samples with replacement) goes to a later
        "round": round k holds the (k+1)-th occurrence of every row, in row order. Pieces shorter
        than a batch are left for the SUT to merge (and gather).
        """
        rows = self._rows(indices)
        n = len(rows)
        if n == 0:
            return np.arange(0), np.zeros(1, dtype=np.intp)[:0]
        order = np.argsort(rows, kind="stable")
        ranked = rows[order]
        new_row = np.empty(n, dtype=bool)
        new_row[0] = True
        new_row[1:] = ranked[1:] != ranked[:-1]
        group_start = np.flatnonzero(new_row)
        occurrence = np.arange(n) - np.repeat(group_start, np.diff(np.append(group_start, n)))
        order = order[np.lexsort((ranked, occurrence))]
        planned = rows[order]
        run_start = np.empty(n, dtype=bool)
        run_start[0] = True
        run_start[1:] = planned[1:] != planned[:-1] + 1
        starts_of_runs = np.flatnonzero(run_start)
        offset = np.arange(n) - np.repeat(starts_of_runs, np.diff(np.append(starts_of_runs, n)))
        return order, np.flatnonzero(offset % batch_size == 0)

    @property
    def sample_shape(self) -> Optional[tuple[int, ...]]:
        """Shape of one preprocessed sample, once something has been loaded (else ``None``)."""
        return None if self._slab is None else tuple(self._slab.shape[1:])

    @property
    def sample_dtype(self) -> Optional[np.dtype]:
        """dtype of the preprocessed samples, once something has been loaded (else ``None``)."""
        return None if self._slab is None else self._slab.dtype

    # -- internals -------------------------------------------------------------------------------

    def _checked(self, indices: Iterable[int]) -> np.ndarray:
        array = np.asarray(indices, dtype=np.int64).reshape(-1)
        if array.size and (array.min() < 0 or array.max() >= self._total):
            bad = array[(array < 0) | (array >= self._total)][0]
            raise IndexError(f"QSL index {int(bad)} out of range: {self._name} has {self._total} samples")
        return array

    def _rows(self, indices: Union[Sequence[int], np.ndarray]) -> np.ndarray:
        wanted = self._checked(indices)
        rows = self._row[wanted]
        if rows.size and rows.min() < 0:
            missing = int(wanted[rows < 0][0])
            raise KeyError(
                f"sample {missing} of {self._name} is not loaded (LoadGen loads samples before issuing them)"
            )
        return rows

    def _preprocess_all(self, indices: list[int]):
        if self._workers == 1 or len(indices) == 1:
            for index in indices:
                yield index, self.dataset.preprocessed(index)
            return
        with ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="edgeperf-preprocess") as pool:
            # map keeps the order and re-raises the first error in this thread
            yield from zip(indices, pool.map(self.dataset.preprocessed, indices))

    def _store(self, index: int, array: np.ndarray, remaining: int) -> None:
        """Copy one sample into a free slab row; ``remaining`` rows (this one included) are coming."""
        slab = self._slab
        if slab is None:
            slab = allocate_slab((remaining,) + array.shape, array.dtype)
            self._free = list(range(remaining - 1, -1, -1))  # pop() hands out rows 0, 1, 2, ...
        elif array.shape != slab.shape[1:] or array.dtype != slab.dtype:
            raise DatasetError(
                f"{self._name}: sample {index} preprocessed to {array.dtype}{list(array.shape)}, "
                f"but loaded samples are {slab.dtype}{list(slab.shape[1:])}; "
                "a DatasetQSL needs every sample to have the same shape and dtype"
            )
        elif not self._free:
            # grow once for everything still to come in this load, keeping the rows in use
            grown = allocate_slab((slab.shape[0] + remaining,) + slab.shape[1:], slab.dtype)
            grown[: slab.shape[0]] = slab
            self._free = list(range(grown.shape[0] - 1, slab.shape[0] - 1, -1))
            slab = grown
        row = self._free.pop()
        slab[row] = array
        self._slab = slab
        self._row[index] = row
