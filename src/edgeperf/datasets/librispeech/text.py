"""Transcript text rules of the RNN-T reference (spec benchmarks.md §7.a): ``english_cleaners``
and the manifest's ``normalize_string``.

Steps, in the reference's order: ASCII transliteration with ``unidecode`` (the reference pins
1.1.1, and so does edgeperf's ``speech`` extra: later releases transliterate some characters
differently), lower case, numbers and currency to words (:mod:`.numbers`), abbreviations
(``dr.`` → ``doctor``), punctuation outside the label set to spaces, ``&`` → `` and ``,
``+`` → `` plus ``, runs of whitespace to one space; then stripped, and every character outside
the labels dropped.

There is no fallback transliteration: without unidecode, ``“don’t”`` or ``£40`` would lose
characters the reference keeps, so a missing unidecode is an error naming the extra to install.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from typing import Callable, Sequence

from ..base import DatasetError
from .numbers import TranscriptError, normalize_numbers

__all__ = [
    "LABELS",
    "SPEECH_EXTRA",
    "TranscriptError",
    "english_cleaners",
    "normalize_transcript",
    "transcript_indices",
    "to_ascii",
]

#: The reference's label set (``rnnt.toml`` ``[labels]``): index 0 space, 1..26 a-z, 27 apostrophe.
#: The model's blank (index 28) is not a label.
LABELS: tuple[str, ...] = (" ",) + tuple(string.ascii_lowercase) + ("'",)

#: How to install what the speech benchmark needs.
SPEECH_EXTRA = "pip install 'edgeperf[speech]'"

_ABBREVIATIONS = [
    (re.compile(rf"\b{short}\.", re.IGNORECASE), full)
    for short, full in [
        ("mrs", "misess"),
        ("mr", "mister"),
        ("dr", "doctor"),
        ("st", "saint"),
        ("co", "company"),
        ("jr", "junior"),
        ("maj", "major"),
        ("gen", "general"),
        ("drs", "doctors"),
        ("rev", "reverend"),
        ("lt", "lieutenant"),
        ("hon", "honorable"),
        ("sgt", "sergeant"),
        ("capt", "captain"),
        ("esq", "esquire"),
        ("ltd", "limited"),
        ("col", "colonel"),
        ("ft", "fort"),
    ]
]
_WHITESPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _unidecode() -> Callable[[str], str]:
    try:
        from unidecode import unidecode
    except ImportError:
        raise DatasetError(
            "RNN-T transcripts need the unidecode package (the reference's ASCII transliteration); "
            f"install it with: {SPEECH_EXTRA}"
        ) from None
    return unidecode


def to_ascii(text: str) -> str:
    """``unidecode(text)``; raises :class:`DatasetError` naming the extra when unidecode is missing."""
    return _unidecode()(text)


@lru_cache(maxsize=8)
def _punctuation_table(labels: tuple[str, ...]) -> dict:
    punctuation = string.punctuation.replace("+", "").replace("&", "")
    for label in labels:
        punctuation = punctuation.replace(label, "")
    return str.maketrans(punctuation, " " * len(punctuation))


def english_cleaners(text: str, labels: Sequence[str] = LABELS) -> str:
    """The reference's ``english_cleaners`` with its punctuation table for ``labels`` (module docstring).

    Raises :class:`TranscriptError` where the reference's number rules fail (``$1,.50``).
    """
    text = normalize_numbers(to_ascii(text).lower())
    for pattern, full in _ABBREVIATIONS:
        text = pattern.sub(full, text)
    text = text.translate(_punctuation_table(tuple(labels)))
    text = text.replace("&", " and ").replace("+", " plus ")
    return _WHITESPACE.sub(" ", text)


def normalize_transcript(text: str, labels: Sequence[str] = LABELS) -> str:
    """A manifest transcript as the reference's ``Manifest(normalize=True)`` keeps it.

    ``english_cleaners``, stripped, then every character outside ``labels`` dropped. Example:
    ``"dr. smith paid $5 & left"`` → ``"doctor smith paid five dollars and left"``. Raises
    :class:`TranscriptError` for a transcript the reference cannot normalise (it drops those).
    """
    allowed = set(labels)
    return "".join(c for c in english_cleaners(text, labels).strip() if c in allowed)


def transcript_indices(text: str, labels: Sequence[str] = LABELS) -> list[int]:
    """Label indices of a (normalised) transcript; characters outside ``labels`` are dropped."""
    index = {c: i for i, c in enumerate(labels)}
    return [index[c] for c in text if c in index]
