"""The LibriSpeech dataset and its query sample library for RNN-T (spec benchmarks.md §7.a).

Sample ``i`` is the ``i``-th manifest entry the reference keeps (see :mod:`.manifest`).
:class:`AudioQSL` keeps the loaded waveforms (variable length) per QSL index, as the reference
``AudioQSLInMemory`` does; features are computed from them at inference time, inside the timed
region, as the reference SUT does.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

import numpy as np

from ..base import DatasetError, QSLBase
from .audio import check_audio_header, flac_alternatives, read_audio
from .features import FilterbankFeatures
from .manifest import MAX_DURATION_S, ManifestEntry, find_manifest, read_manifest

__all__ = ["LibrispeechDataset", "AudioQSL"]


class LibrispeechDataset:
    """LibriSpeech dev-clean as the reference QSL sees it (spec §7.a).

    ``root`` is the dataset folder (holding ``dev-clean-wav.json``) or the manifest file. Sample
    ``i`` is the ``i``-th utterance of at most 15 s; ``count`` keeps only the first ``count``.
    Every kept utterance's audio must exist (WAV as named, or its FLAC original) with a readable
    16 kHz header: a missing file, an unreadable header or another rate is a :class:`DatasetError`
    naming the file, at construction, before anything runs. Contents are checked when read.
    """

    name = "librispeech"

    def __init__(
        self,
        root: Union[str, os.PathLike],
        *,
        count: Optional[int] = None,
        max_duration: float = MAX_DURATION_S,
        check_files: bool = True,
    ):
        manifest_path, data_dir = find_manifest(root)
        self.manifest = read_manifest(manifest_path, data_dir, max_duration=max_duration)
        entries = self.manifest.entries
        if count is not None:
            if int(count) < 1:
                raise DatasetError(f"count must be at least 1, got {count!r}")
            entries = entries[: int(count)]
        self.entries: tuple[ManifestEntry, ...] = entries
        #: The warnings about utterances dropped for their transcripts, for reports.
        self.notices: tuple[str, ...] = tuple(d.message(self.manifest.path) for d in self.manifest.dropped)
        self.paths: list[Path] = [self._locate(e, check_files) for e in entries]
        self._featurizer: Optional[FilterbankFeatures] = None
        self._lock = threading.Lock()

    def _locate(self, entry: ManifestEntry, check: bool) -> Path:
        data_dir = self.manifest.data_dir
        path = data_dir / entry.fname
        if not check:
            return path
        if not path.is_file():
            for alt in flac_alternatives(data_dir, entry.fname):
                if alt.is_file():
                    path = alt
                    break
            else:
                tried = ", ".join(str(p) for p in flac_alternatives(data_dir, entry.fname))
                raise DatasetError(
                    f"audio file not found: {path} (manifest {self.manifest.path}, entry {entry.position}"
                    + (f"; also tried {tried}" if tried else "")
                    + ")",
                    path=path,
                )
        check_audio_header(path)
        return path

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def summary_line(self) -> str:
        """``Dataset loaded with … hours. Filtered … hours. Number of samples: …`` (whole manifest)."""
        return self.manifest.summary_line()

    def transcript(self, index: int) -> str:
        """The normalised reference transcript of sample ``index``."""
        return self.entries[index].transcript

    def transcript_indices(self, index: int) -> list[int]:
        """The reference transcript of sample ``index`` as label indices."""
        return self.entries[index].indices

    def waveform(self, index: int) -> np.ndarray:
        """The float32 waveform of sample ``index`` (read from disk every call)."""
        return read_audio(self.paths[index])

    @property
    def featurizer(self) -> FilterbankFeatures:
        with self._lock:
            if self._featurizer is None:
                self._featurizer = FilterbankFeatures()
            return self._featurizer

    def preprocessed(self, index: int) -> np.ndarray:
        """The model input of sample ``index``: its features, float32 ``[240, T]``."""
        return self.featurizer(self.waveform(index))


class AudioQSL(QSLBase):
    """A LoadGen QSL keeping the waveforms of loaded samples in memory (variable lengths).

    ``get(index)`` returns the loaded waveform (float32, 1-D; do not modify it). Loading a sample
    twice keeps one copy; unloading one that is not loaded is ignored. ``workers > 1`` reads that
    many files at once on threads.
    """

    def __init__(
        self,
        dataset: LibrispeechDataset,
        performance_sample_count: int,
        *,
        name: Optional[str] = None,
        workers: int = 1,
    ):
        count = int(performance_sample_count)
        if count < 1:
            raise ValueError(f"performance_sample_count must be at least 1, got {performance_sample_count!r}")
        self.dataset = dataset
        self._name = name or dataset.name
        self._total = len(dataset)
        self._performance = count
        self._workers = max(1, int(workers))
        self._samples: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    def _checked(self, indices: Iterable[int]) -> list[int]:
        out = [int(i) for i in np.asarray(indices, dtype=np.int64).reshape(-1)]
        for i in out:
            if not 0 <= i < self._total:
                raise IndexError(f"QSL index {i} out of range: {self._name} has {self._total} samples")
        return out

    def load_samples_to_ram(self, indices: Sequence[int]) -> None:
        wanted = self._checked(indices)
        with self._lock:
            new = sorted({i for i in wanted if i not in self._samples})
            if not new:
                return
            if self._workers == 1 or len(new) == 1:
                loaded = [self.dataset.waveform(i) for i in new]
            else:
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(self._workers, thread_name_prefix="edgeperf-audio") as pool:
                    loaded = list(pool.map(self.dataset.waveform, new))
            self._samples.update(zip(new, loaded))

    def unload_samples_from_ram(self, indices: Sequence[int]) -> None:
        wanted = self._checked(indices)
        with self._lock:
            for i in wanted:
                self._samples.pop(i, None)

    @property
    def loaded_count(self) -> int:
        return len(self._samples)

    def is_loaded(self, index: int) -> bool:
        return index in self._samples

    def get(self, index: int) -> np.ndarray:
        """The waveform of a loaded sample."""
        try:
            return self._samples[int(index)]
        except KeyError:
            raise KeyError(
                f"sample {index} of {self._name} is not loaded (LoadGen loads samples before issuing them)"
            ) from None
