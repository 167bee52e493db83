"""The RNN-T reference's manifest (spec benchmarks.md §7.a): which utterances are samples, in which order.

On disk (the reference layout): a dataset folder holding ``dev-clean-wav.json``, a JSON list with
one entry per utterance (``files[0].fname`` relative to the folder, ``original_duration`` in
seconds, ``transcript``), and the audio it names, ``dev-clean-wav/<spk>/<chap>/<id>.wav``.

Sample ``i`` is the ``i``-th entry whose ``original_duration`` is at most 15 s (2 513 of 2 703 on
the real dev-clean) and whose transcript the reference's normalisation can handle, in manifest
order. The reference drops an utterance whose transcript fails to normalise (for example one
holding ``$1,.50``) and counts its duration as filtered; every later sample index then moves up
by one. edgeperf does the same, and warns naming the utterance (:class:`DroppedUtterance`).
"""

from __future__ import annotations

import json
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

from ..base import DatasetError, DatasetWarning
from .text import LABELS, TranscriptError, normalize_transcript, transcript_indices

__all__ = [
    "MAX_DURATION_S",
    "MANIFEST_NAME",
    "ManifestEntry",
    "DroppedUtterance",
    "Manifest",
    "read_manifest",
    "find_manifest",
]

#: Utterances longer than this (``original_duration`` strictly greater) are not part of the QSL.
MAX_DURATION_S = 15.0
#: The manifest file name the reference ships and its scripts use.
MANIFEST_NAME = "dev-clean-wav.json"


@dataclass(frozen=True)
class ManifestEntry:
    """One kept utterance: where its audio is, how long it is, and its normalised transcript."""

    position: int  # index of the entry in the manifest's JSON list
    fname: str  # files[0].fname, relative to the dataset folder
    duration: float  # original_duration, seconds
    transcript: str  # normalised (see normalize_transcript)
    num_samples: Optional[int] = None  # original_num_samples, when given

    @property
    def indices(self) -> list[int]:
        """The transcript as label indices (what the accuracy script compares against)."""
        return transcript_indices(self.transcript)


@dataclass(frozen=True)
class DroppedUtterance:
    """An utterance short enough to be a sample but dropped because its transcript could not be
    normalised (as the reference drops it)."""

    position: int  # index of the entry in the manifest's JSON list
    fname: str
    transcript: str  # as written in the manifest
    reason: str

    def message(self, manifest: Path) -> str:
        """The warning: which utterance, why, and what it does to the sample indices."""
        return (
            f"{manifest}: entry {self.position} ({self.fname}) dropped, as the reference drops it: its "
            f"transcript {self.transcript!r} cannot be normalised ({self.reason}); later samples move up one index"
        )


@dataclass(frozen=True)
class Manifest:
    """A manifest filtered to utterances of at most ``max_duration`` seconds whose transcripts
    normalise, in file order. ``dropped`` lists the utterances dropped for their transcript."""

    path: Path
    data_dir: Path
    entries: tuple[ManifestEntry, ...]
    duration_s: float  # total original_duration of the kept entries
    filtered_duration_s: float  # total original_duration of the dropped entries (both reasons)
    max_duration: float = MAX_DURATION_S
    dropped: tuple[DroppedUtterance, ...] = ()

    def __len__(self) -> int:
        return len(self.entries)

    def summary_line(self) -> str:
        """What the reference QSL prints on construction (the accuracy script's first line)."""
        return (
            f"Dataset loaded with {self.duration_s / 3600:.2f} hours. "
            f"Filtered {self.filtered_duration_s / 3600:.2f} hours. Number of samples: {len(self.entries)}"
        )


def _number(value, path: Path, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DatasetError(f"{path}: {where}: {key!r} must be a number of seconds, found {value!r}", path=path)
    return float(value)


def read_manifest(
    path: Union[str, os.PathLike],
    data_dir: Union[str, os.PathLike, None] = None,
    *,
    max_duration: float = MAX_DURATION_S,
    labels: Sequence[str] = LABELS,
) -> Manifest:
    """Parse a reference manifest (spec §7.a) and keep the utterances of at most ``max_duration`` s.

    ``data_dir`` (default: the manifest's folder) is what ``fname`` is relative to. Raises
    :class:`DatasetError` naming the file, the entry and the key for a malformed manifest. An
    utterance whose transcript the reference cannot normalise is dropped, its duration counted as
    filtered, with a :class:`~edgeperf.datasets.base.DatasetWarning` naming it. The audio files are
    not looked at here.
    """
    path = Path(path)
    data_dir = Path(data_dir) if data_dir is not None else path.parent
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(
            f"manifest not found: {path} (expected the reference's {MANIFEST_NAME})", path=path
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"{path}: cannot read the manifest: {e}", path=path) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DatasetError(
            f"{path}:{e.lineno}: not valid JSON ({e.msg}, column {e.colno}); "
            "expected the reference manifest, a JSON list of utterances",
            path=path,
            line=e.lineno,
        ) from None
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a JSON list of utterances, found a JSON {type(data).__name__}", path=path)
    kept: list[ManifestEntry] = []
    dropped: list[DroppedUtterance] = []
    duration = filtered = 0.0
    for position, item in enumerate(data):
        where = f"entry {position}"
        if not isinstance(item, dict):
            raise DatasetError(f"{path}: {where}: expected an object, found {type(item).__name__}", path=path)
        for key in ("files", "original_duration", "transcript"):
            if key not in item:
                raise DatasetError(
                    f"{path}: {where}: missing key {key!r} (each entry needs 'files', "
                    "'original_duration' and 'transcript')",
                    path=path,
                )
        seconds = _number(item["original_duration"], path, where, "original_duration")
        if seconds > max_duration:
            filtered += seconds
            continue
        files = item["files"]
        if not isinstance(files, list) or not files or not isinstance(files[0], dict):
            raise DatasetError(f"{path}: {where}: 'files' must be a non-empty list of objects with 'fname'", path=path)
        fname = files[0].get("fname")
        if not isinstance(fname, str) or not fname:
            raise DatasetError(
                f"{path}: {where}: files[0].fname must be a non-empty string, found {fname!r}", path=path
            )
        transcript = item["transcript"]
        if not isinstance(transcript, str):
            raise DatasetError(f"{path}: {where}: 'transcript' must be a string, found {transcript!r}", path=path)
        try:
            normalised = normalize_transcript(transcript, labels)
        except TranscriptError as e:
            gone = DroppedUtterance(position=position, fname=fname, transcript=transcript, reason=str(e))
            warnings.warn(gone.message(path), DatasetWarning, stacklevel=2)
            dropped.append(gone)
            filtered += seconds
            continue
        num_samples = item.get("original_num_samples")
        kept.append(
            ManifestEntry(
                position=position,
                fname=fname,
                duration=seconds,
                transcript=normalised,
                num_samples=num_samples if isinstance(num_samples, int) and not isinstance(num_samples, bool) else None,
            )
        )
        duration += seconds
    return Manifest(
        path=path,
        data_dir=data_dir,
        entries=tuple(kept),
        duration_s=duration,
        filtered_duration_s=filtered,
        max_duration=max_duration,
        dropped=tuple(dropped),
    )


def find_manifest(root: Union[str, os.PathLike]) -> tuple[Path, Path]:
    """``(manifest path, dataset folder)`` for ``--dataset``: the manifest file itself, or a folder
    holding ``dev-clean-wav.json`` (or exactly one ``*.json``)."""
    root = Path(root)
    if root.is_file():
        return root, root.parent
    if not root.is_dir():
        raise DatasetError(
            f"dataset not found: {root} (expected a folder holding {MANIFEST_NAME} and "
            "dev-clean-wav/, or the manifest file)",
            path=root,
        )
    default = root / MANIFEST_NAME
    if default.is_file():
        return default, root
    candidates = sorted(p for p in root.glob("*.json") if p.is_file())
    if len(candidates) == 1:
        return candidates[0], root
    found = ", ".join(p.name for p in candidates) or "none"
    raise DatasetError(
        f"{root}: no manifest {MANIFEST_NAME} (JSON files found: {found}); pass the manifest file itself as --dataset",
        path=root,
    )
