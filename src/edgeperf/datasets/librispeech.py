"""LibriSpeech dev-clean for RNN-T: manifest, audio, transcripts and filterbank features (spec benchmarks.md §7.a-b).

On disk (the reference layout): a dataset folder holding the manifest ``dev-clean-wav.json`` (a
JSON list, one entry per utterance: ``files[0].fname`` relative to the folder, ``original_duration``
in seconds, lower-case ``transcript``) and the audio it names, ``dev-clean-wav/<spk>/<chap>/<id>.wav``.
Where a WAV file is missing, the same utterance as FLAC is used instead (``<id>.flac`` beside it,
or the original ``LibriSpeech/dev-clean/<spk>/<chap>/<id>.flac``): both decode to the same 16-bit
samples. ``--dataset`` may name the folder or the manifest file itself.

Sample ``i`` is the ``i``-th manifest entry whose ``original_duration`` is at most 15 s (2 513 of
2 703 on the real dev-clean), in manifest order. Transcripts are normalised as the reference's
``Manifest`` does (``english_cleaners``, then characters outside the label set dropped) and kept as
label indices (``0`` space, ``1..26`` a-z, ``27`` apostrophe).

Audio is read with soundfile as float32 (int16 / 32768), averaged over channels if there are
several, never resampled or trimmed; a file whose rate is not 16 000 Hz is refused.
:class:`FilterbankFeatures` is the reference's ``FilterbankFeatures`` with the ``[input_eval]``
settings, in numpy: float32 ``[240, T]`` with ``T = ceil(ceil(L/160)/3)``.
:class:`AudioQSL` keeps the loaded waveforms (variable length) per QSL index, as the reference
``AudioQSLInMemory`` does; features are computed from them at inference time, inside the timed
region, as the reference SUT does.

soundfile (audio) and librosa (the mel filterbank only) are imported when first needed.
"""

from __future__ import annotations

import json
import math
import os
import re
import string
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

import numpy as np

from .base import DatasetError, QSLBase

__all__ = [
    "LABELS",
    "SAMPLE_RATE",
    "MAX_DURATION_S",
    "MANIFEST_NAME",
    "ManifestEntry",
    "Manifest",
    "read_manifest",
    "find_manifest",
    "normalize_transcript",
    "transcript_indices",
    "english_cleaners",
    "read_audio",
    "FilterbankFeatures",
    "feature_length",
    "LibrispeechDataset",
    "AudioQSL",
]

#: The reference's label set (``rnnt.toml`` ``[labels]``): index 0 space, 1..26 a-z, 27 apostrophe.
#: The model's blank (index 28) is not a label.
LABELS: tuple[str, ...] = (" ",) + tuple(string.ascii_lowercase) + ("'",)
SAMPLE_RATE = 16000
#: Utterances longer than this (``original_duration`` strictly greater) are not part of the QSL.
MAX_DURATION_S = 15.0
#: The manifest file name the reference ships and its scripts use.
MANIFEST_NAME = "dev-clean-wav.json"

_SPEECH_EXTRA = "pip install 'edgeperf[speech]'"

# --------------------------------------------------------------------------------------------
# Transcript normalisation (reference ``english_cleaners`` + ``normalize_string``)

_ABBREVIATIONS = [
    (re.compile(rf"\b{short}\.", re.IGNORECASE), full)
    for short, full in [
        ("mrs", "misess"), ("mr", "mister"), ("dr", "doctor"), ("st", "saint"), ("co", "company"),
        ("jr", "junior"), ("maj", "major"), ("gen", "general"), ("drs", "doctors"), ("rev", "reverend"),
        ("lt", "lieutenant"), ("hon", "honorable"), ("sgt", "sergeant"), ("capt", "captain"),
        ("esq", "esquire"), ("ltd", "limited"), ("col", "colonel"), ("ft", "fort"),
    ]
]

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ("", "thousand", "million", "billion", "trillion", "quadrillion", "quintillion", "sextillion",
           "septillion", "octillion", "nonillion", "decillion")
_ORDINAL_WORDS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                  "nine": "ninth", "twelve": "twelfth"}


def _below_hundred(n: int) -> str:
    if n < 20:
        return _ONES[n]
    tens, units = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[units]}" if units else "")


def _cardinal(n: int, andword: str = "") -> str:
    """English words for ``n >= 0`` in inflect's wording (``and`` after hundreds only if asked)."""
    if n == 0:
        return "zero"
    if n >= 1000 ** len(_SCALES):
        return " ".join(_ONES[int(d)] for d in str(n))
    groups = []
    scale = 0
    while n:
        n, chunk = divmod(n, 1000)
        if chunk:
            hundreds, rest = divmod(chunk, 100)
            words = []
            if hundreds:
                words.append(f"{_ONES[hundreds]} hundred")
                if rest and andword:
                    words.append(andword)
            if rest:
                words.append(_below_hundred(rest))
            text = " ".join(words) + (f" {_SCALES[scale]}" if scale else "")
            groups.append((scale, chunk, text))
        scale += 1
    groups.reverse()
    parts = [text for _, _, text in groups]
    last_scale, last_chunk, _ = groups[-1]
    if andword and len(groups) > 1 and last_scale == 0 and last_chunk < 100:
        return ", ".join(parts[:-1]) + f" {andword} " + parts[-1]
    return ", ".join(parts)


def _ordinal(words: str) -> str:
    head, sep, last = words.rpartition(" ")
    stem, hyphen, unit = last.rpartition("-")
    word = unit if hyphen else last
    if word in _ORDINAL_WORDS:
        word = _ORDINAL_WORDS[word]
    elif word.endswith("y"):
        word = word[:-1] + "ieth"
    else:
        word += "th"
    return head + sep + (stem + hyphen if hyphen else "") + word


def _digit_pairs(digits: str) -> str:
    """inflect's ``group=2, zero='oh'`` reading: 1905 → nineteen oh five."""
    words = []
    for i in range(0, len(digits) - 1, 2):
        tens, units = int(digits[i]), int(digits[i + 1])
        if tens:
            words.append(_below_hundred(10 * tens + units))
        elif units:
            words.append(f"oh {_ONES[units]}")
        else:
            words.append("oh oh")
    if len(digits) % 2:
        words.append(_ONES[int(digits[-1])])
    return " ".join(words)


def _expand_number(m: re.Match) -> str:
    digits = m.group(0)
    if digits[0] == "0":
        return " ".join(_ONES[int(d)] for d in digits)  # inflect group=1: digit by digit
    num = int(digits)
    if 1000 < num < 3000:
        if num == 2000:
            return "two thousand"
        if 2000 < num < 2010:
            return "two thousand " + _cardinal(num % 100)
        if num % 100 == 0:
            return _cardinal(num // 100) + " hundred"
        return _digit_pairs(digits)
    return _cardinal(num)


def _expand_dollars(m: re.Match) -> str:
    match = m.group(1)
    parts = match.split(".")
    if len(parts) > 2:
        return match + " dollars"
    dollars = int(parts[0].replace(",", "")) if parts[0].replace(",", "") else 0
    cents = int(parts[1].replace(",", "")) if len(parts) > 1 and parts[1].replace(",", "") else 0
    if dollars and cents:
        return f"{dollars} {'dollar' if dollars == 1 else 'dollars'}, {cents} {'cent' if cents == 1 else 'cents'}"
    if dollars:
        return f"{dollars} {'dollar' if dollars == 1 else 'dollars'}"
    if cents:
        return f"{cents} {'cent' if cents == 1 else 'cents'}"
    return "zero dollars"


def _expand_ordinal(m: re.Match) -> str:
    return _ordinal(_cardinal(int(m.group(1)), andword="and"))


_NUMBER_RULES = [
    (re.compile(r"([0-9][0-9,]+[0-9])"), lambda m: m.group(1).replace(",", "")),
    (re.compile(r"£([0-9,]*[0-9]+)"), r"\1 pounds"),
    (re.compile(r"\$([0-9.,]*[0-9]+)"), _expand_dollars),
    (re.compile(r"([0-9]+\.[0-9]+)"), lambda m: m.group(1).replace(".", " point ")),
    (re.compile(r"([0-9]+)(?:st|nd|rd|th)"), _expand_ordinal),
    (re.compile(r"[0-9]+"), _expand_number),
]


def _to_ascii(text: str) -> str:
    try:
        from unidecode import unidecode  # what the reference uses, where installed
    except ImportError:
        decomposed = unicodedata.normalize("NFKD", text)
        return "".join(c for c in decomposed if ord(c) < 128)
    return unidecode(text)


def _punctuation_table(labels: Sequence[str]) -> dict:
    punctuation = string.punctuation.replace("+", "").replace("&", "")
    for label in labels:
        punctuation = punctuation.replace(label, "")
    return str.maketrans(punctuation, " " * len(punctuation))


def english_cleaners(text: str, labels: Sequence[str] = LABELS) -> str:
    """The reference's ``english_cleaners`` with its punctuation table for ``labels``.

    ASCII transliteration, lower case, numbers and currency to words, abbreviations expanded
    (``dr.`` → ``doctor``), punctuation not in the label set to spaces, ``&`` → `` and ``,
    ``+`` → `` plus ``, runs of whitespace to one space.
    """
    text = _to_ascii(text).lower()
    for pattern, repl in _NUMBER_RULES:
        text = pattern.sub(repl, text)
    for pattern, full in _ABBREVIATIONS:
        text = pattern.sub(full, text)
    text = text.translate(_punctuation_table(labels))
    text = text.replace("&", " and ").replace("+", " plus ")
    return re.sub(r"\s+", " ", text)


def normalize_transcript(text: str, labels: Sequence[str] = LABELS) -> str:
    """A manifest transcript as the reference's ``Manifest(normalize=True)`` keeps it.

    ``english_cleaners``, stripped, then every character outside ``labels`` dropped.
    Example: ``"dr. smith paid $5 & left"`` → ``"doctor smith paid five dollars and left"``.
    """
    allowed = set(labels)
    return "".join(c for c in english_cleaners(text, labels).strip() if c in allowed)


def transcript_indices(text: str, labels: Sequence[str] = LABELS) -> list[int]:
    """Label indices of a (normalised) transcript; characters outside ``labels`` are dropped."""
    index = {c: i for i, c in enumerate(labels)}
    return [index[c] for c in text if c in index]


# --------------------------------------------------------------------------------------------
# The manifest


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
class Manifest:
    """A manifest filtered to utterances of at most ``max_duration`` seconds, in file order."""

    path: Path
    data_dir: Path
    entries: tuple[ManifestEntry, ...]
    duration_s: float  # total original_duration of the kept entries
    filtered_duration_s: float  # total original_duration of the dropped entries
    max_duration: float = MAX_DURATION_S

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


def read_manifest(path: Union[str, os.PathLike], data_dir: Union[str, os.PathLike, None] = None, *,
                  max_duration: float = MAX_DURATION_S, labels: Sequence[str] = LABELS) -> Manifest:
    """Parse a reference manifest (spec §7.a) and keep the utterances of at most ``max_duration`` s.

    ``data_dir`` (default: the manifest's folder) is what ``fname`` is relative to. Raises
    :class:`DatasetError` naming the file, the entry and the key for a malformed manifest. The
    audio files are not looked at here.
    """
    path = Path(path)
    data_dir = Path(data_dir) if data_dir is not None else path.parent
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(f"manifest not found: {path} (expected the reference's {MANIFEST_NAME})", path=path) from None
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"{path}: cannot read the manifest: {e}", path=path) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}:{e.lineno}: not valid JSON ({e.msg}, column {e.colno}); "
                           "expected the reference manifest, a JSON list of utterances", path=path, line=e.lineno) from None
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a JSON list of utterances, found a JSON {type(data).__name__}", path=path)
    kept: list[ManifestEntry] = []
    duration = filtered = 0.0
    for position, item in enumerate(data):
        where = f"entry {position}"
        if not isinstance(item, dict):
            raise DatasetError(f"{path}: {where}: expected an object, found {type(item).__name__}", path=path)
        for key in ("files", "original_duration", "transcript"):
            if key not in item:
                raise DatasetError(f"{path}: {where}: missing key {key!r} (each entry needs 'files', "
                                   "'original_duration' and 'transcript')", path=path)
        seconds = _number(item["original_duration"], path, where, "original_duration")
        if seconds > max_duration:
            filtered += seconds
            continue
        files = item["files"]
        if not isinstance(files, list) or not files or not isinstance(files[0], dict):
            raise DatasetError(f"{path}: {where}: 'files' must be a non-empty list of objects with 'fname'", path=path)
        fname = files[0].get("fname")
        if not isinstance(fname, str) or not fname:
            raise DatasetError(f"{path}: {where}: files[0].fname must be a non-empty string, found {fname!r}", path=path)
        transcript = item["transcript"]
        if not isinstance(transcript, str):
            raise DatasetError(f"{path}: {where}: 'transcript' must be a string, found {transcript!r}", path=path)
        num_samples = item.get("original_num_samples")
        kept.append(ManifestEntry(
            position=position,
            fname=fname,
            duration=seconds,
            transcript=normalize_transcript(transcript, labels),
            num_samples=num_samples if isinstance(num_samples, int) and not isinstance(num_samples, bool) else None,
        ))
        duration += seconds
    return Manifest(path=path, data_dir=data_dir, entries=tuple(kept), duration_s=duration,
                    filtered_duration_s=filtered, max_duration=max_duration)


def find_manifest(root: Union[str, os.PathLike]) -> tuple[Path, Path]:
    """``(manifest path, dataset folder)`` for ``--dataset``: the manifest file itself, or a folder
    holding ``dev-clean-wav.json`` (or exactly one ``*.json``)."""
    root = Path(root)
    if root.is_file():
        return root, root.parent
    if not root.is_dir():
        raise DatasetError(f"dataset not found: {root} (expected a folder holding {MANIFEST_NAME} and "
                           "dev-clean-wav/, or the manifest file)", path=root)
    default = root / MANIFEST_NAME
    if default.is_file():
        return default, root
    candidates = sorted(p for p in root.glob("*.json") if p.is_file())
    if len(candidates) == 1:
        return candidates[0], root
    found = ", ".join(p.name for p in candidates) or "none"
    raise DatasetError(f"{root}: no manifest {MANIFEST_NAME} (JSON files found: {found}); pass the manifest "
                       "file itself as --dataset", path=root)


# --------------------------------------------------------------------------------------------
# Audio


def _soundfile():
    try:
        import soundfile
    except ImportError as e:  # also raised when the libsndfile library is missing
        raise DatasetError(f"reading LibriSpeech audio needs the soundfile package ({e}); install it with: "
                           f"{_SPEECH_EXTRA}") from None
    return soundfile


def read_audio(path: Union[str, os.PathLike], sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A WAV/FLAC file as a float32 waveform (int16 / 32768), channel-averaged, not resampled.

    Raises :class:`DatasetError` naming the file if it is missing or unreadable, not at
    ``sample_rate`` Hz, or too short for the reference's STFT (at least 257 samples).
    """
    sf = _soundfile()
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"audio file not found: {path}", path=path)
    try:
        with sf.SoundFile(str(path)) as f:
            rate = f.samplerate
            if rate != sample_rate:
                raise DatasetError(f"{path}: sample rate {rate} Hz, expected {sample_rate} Hz (the reference "
                                   "does not resample LibriSpeech; convert the file to 16 kHz)", path=path)
            samples = f.read(dtype="float32", always_2d=True)
    except DatasetError:
        raise
    except Exception as e:  # soundfile.LibsndfileError, RuntimeError, OSError ...
        raise DatasetError(f"{path}: cannot read the audio ({type(e).__name__}: {e}); expected 16 kHz WAV or FLAC",
                           path=path) from None
    waveform = samples[:, 0] if samples.shape[1] == 1 else samples.mean(axis=1, dtype=np.float32)
    if waveform.shape[0] <= FilterbankFeatures.n_fft // 2:
        raise DatasetError(f"{path}: {waveform.shape[0]} samples; the reference's STFT needs more than "
                           f"{FilterbankFeatures.n_fft // 2} (about 16 ms)", path=path)
    return np.ascontiguousarray(waveform, dtype=np.float32)


def _check_header(path: Path, sample_rate: int = SAMPLE_RATE) -> None:
    """Refuse a file whose header is unreadable or whose rate is not ``sample_rate`` (cheap: header only)."""
    sf = _soundfile()
    try:
        rate = sf.info(str(path)).samplerate
    except Exception as e:
        raise DatasetError(f"{path}: cannot read the audio ({type(e).__name__}: {e}); expected 16 kHz WAV or FLAC",
                           path=path) from None
    if rate != sample_rate:
        raise DatasetError(f"{path}: sample rate {rate} Hz, expected {sample_rate} Hz (the reference does not "
                           "resample LibriSpeech; convert the file to 16 kHz)", path=path)


# --------------------------------------------------------------------------------------------
# Features


def feature_length(num_samples: int, hop_length: int = 160, frame_splicing: int = 3) -> int:
    """Frames after splicing, ``ceil(ceil(L / hop) / splicing)`` (220 for L = 105 440)."""
    frames = (int(num_samples) + hop_length - 1) // hop_length
    return (frames + frame_splicing - 1) // frame_splicing


_MEL_LOCK = threading.Lock()
_MEL_CACHE: dict[tuple, np.ndarray] = {}


def mel_filterbank(sample_rate: int = SAMPLE_RATE, n_fft: int = 512, n_mels: int = 80,
                   fmin: float = 0.0, fmax: Optional[float] = None) -> np.ndarray:
    """librosa's Slaney mel matrix, float32 ``[n_mels, n_fft//2 + 1]``, as the reference builds it
    (``librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax)`` with the default Slaney scale and area
    normalisation). Cached per argument set."""
    key = (sample_rate, n_fft, n_mels, float(fmin), None if fmax is None else float(fmax))
    with _MEL_LOCK:
        fb = _MEL_CACHE.get(key)
        if fb is None:
            try:
                from librosa.filters import mel
            except ImportError as e:
                raise DatasetError(f"RNN-T features need librosa for the mel filterbank ({e}); install it with: "
                                   f"{_SPEECH_EXTRA}") from None
            fb = np.asarray(mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin,
                                fmax=fmax if fmax is not None else sample_rate / 2), dtype=np.float32)
            fb.setflags(write=False)
            _MEL_CACHE[key] = fb
    return fb


class FilterbankFeatures:
    """The reference ``FilterbankFeatures`` (``[input_eval]`` of ``rnnt.toml``), for one utterance.

    Called on a waveform, returns float32 ``[240, T]``: pre-emphasis 0.97; STFT with n_fft 512, hop 160,
    a symmetric 320-sample Hann window centred in the 512 frame, centre reflect-padding by 256
    (``1 + L//160`` frames); power ``re² + im²`` plus dither² (1e-10, the deterministic dither); the
    80-band Slaney mel matrix; ``log(x + 1e-20)``; frames ``t, t+1, t+2`` stacked (zeros past the
    end) keeping every third; per-feature mean and unbiased std over the first ``T`` frames (std +
    1e-5); truncated to ``T`` frames.

    Arithmetic follows the reference's float32 tensors, except the FFT itself, which runs in
    float64. Against the reference's float32 ``torch.stft`` the normalised features agree to about
    1e-4 on real (noisy) audio; in a band holding nothing but the 1e-10 dither floor (possible in
    clean synthetic audio) float32 rounding moves values by up to ~1e-2, on both sides equally far
    from the exact value. The mel projection sums only the filterbank's non-zeros (no BLAS call).
    """

    sample_rate = SAMPLE_RATE
    n_fft = 512
    hop_length = 160
    win_length = 320
    n_mels = 80
    frame_splicing = 3
    preemph = 0.97
    dither = 1e-5
    log_zero_guard = 1e-20
    std_guard = 1e-5

    def __init__(self) -> None:
        self.fb = mel_filterbank(self.sample_rate, self.n_fft, self.n_mels, 0.0, self.sample_rate / 2)
        # torch.hann_window(320, periodic=False), computed as torch does, in float32
        phase = np.arange(self.win_length, dtype=np.float32) * np.float32(2.0 * np.pi / (self.win_length - 1))
        hann = np.cos(phase) * np.float32(-0.5) + np.float32(0.5)
        window = np.zeros(self.n_fft, dtype=np.float32)
        left = (self.n_fft - self.win_length) // 2
        window[left:left + self.win_length] = hann
        self.window = window
        # The mel matrix is ~98 % zeros (each FFT bin feeds at most two triangles); projecting
        # through its non-zeros avoids a BLAS call, whose worker threads can cost tens of
        # milliseconds per utterance on a busy machine.
        rows, cols = np.nonzero(self.fb)
        self._fb_cols = cols
        self._fb_vals = self.fb[rows, cols][:, None]
        self._fb_starts = np.searchsorted(rows, np.arange(self.fb.shape[0]))
        self._fb_dense = len(np.unique(rows)) != self.fb.shape[0]  # an empty filter: reduceat cannot skip it

    @property
    def features(self) -> int:
        """Features per output frame (240)."""
        return self.n_mels * self.frame_splicing

    def output_length(self, num_samples: int) -> int:
        return feature_length(num_samples, self.hop_length, self.frame_splicing)

    def power_spectrum(self, waveform: np.ndarray) -> np.ndarray:
        """Pre-emphasis, STFT and power (with the dither² floor): float32 ``[257, 1 + L//160]``."""
        x = np.asarray(waveform, dtype=np.float32).reshape(-1)
        if x.shape[0] <= self.n_fft // 2:
            raise ValueError(f"a waveform of {x.shape[0]} samples is too short for the reflect-padded STFT "
                             f"(more than {self.n_fft // 2} needed)")
        y = np.empty_like(x)
        y[0] = x[0]
        np.subtract(x[1:], np.float32(self.preemph) * x[:-1], out=y[1:])
        pad = self.n_fft // 2
        padded = np.pad(y, pad, mode="reflect")
        n_frames = 1 + (padded.shape[0] - self.n_fft) // self.hop_length
        frames = np.lib.stride_tricks.sliding_window_view(padded, self.n_fft)[:: self.hop_length][:n_frames]
        windowed = frames * self.window  # float32, as the reference multiplies frame and window
        spectrum = np.fft.rfft(windowed.astype(np.float64), axis=1)
        real = spectrum.real.astype(np.float32)
        imag = spectrum.imag.astype(np.float32)
        power = real * real + imag * imag
        power += np.float32(self.dither ** 2)
        return np.ascontiguousarray(power.T)

    def mel(self, power: np.ndarray) -> np.ndarray:
        """``fb · power``: float32 ``[80, frames]`` from the power spectrum ``[257, frames]``."""
        if self._fb_dense:
            return self.fb @ power
        return np.add.reduceat(self._fb_vals * power[self._fb_cols], self._fb_starts, axis=0)

    def __call__(self, waveform: np.ndarray) -> np.ndarray:
        x = np.asarray(waveform, dtype=np.float32).reshape(-1)
        length = self.output_length(x.shape[0])
        mel = self.mel(self.power_spectrum(x))  # [80, frames], float32
        logmel = np.log(mel + np.float32(self.log_zero_guard))
        n_mels, frames = logmel.shape
        spliced_frames = (frames + self.frame_splicing - 1) // self.frame_splicing
        out = np.zeros((n_mels * self.frame_splicing, spliced_frames), dtype=np.float32)
        for k in range(self.frame_splicing):
            shifted = logmel[:, k :: self.frame_splicing]  # frame 3t + k, missing past the end
            out[k * n_mels : (k + 1) * n_mels, : shifted.shape[1]] = shifted
        valid = out[:, :length]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = valid.mean(axis=1, dtype=np.float64)
            std = valid.std(axis=1, ddof=1, dtype=np.float64) if length > 1 else np.full(len(valid), np.nan)
        mean = mean.astype(np.float32)[:, None]
        std = (std.astype(np.float32) + np.float32(self.std_guard))[:, None]
        return np.ascontiguousarray((valid - mean) / std, dtype=np.float32)


# --------------------------------------------------------------------------------------------
# The dataset and its QSL


def _flac_alternatives(data_dir: Path, fname: str) -> list[Path]:
    """Where the FLAC original of a manifest WAV may be: beside it, or in the LibriSpeech tree."""
    rel = Path(fname)
    out = [data_dir / rel.with_suffix(".flac")]
    parts = rel.parts
    if len(parts) >= 2 and parts[0].endswith("-wav"):
        out.append(data_dir / "LibriSpeech" / parts[0][: -len("-wav")] / Path(*parts[1:]).with_suffix(".flac"))
    return [p for p in out if p != data_dir / rel]


class LibrispeechDataset:
    """LibriSpeech dev-clean as the reference QSL sees it (spec §7.a).

    ``root`` is the dataset folder (holding ``dev-clean-wav.json``) or the manifest file. Sample
    ``i`` is the ``i``-th utterance of at most 15 s; ``count`` keeps only the first ``count``.
    Every kept utterance's audio must exist (WAV as named, or its FLAC original) with a readable
    16 kHz header: a missing file, an unreadable header or another rate is a :class:`DatasetError`
    naming the file, at construction, before anything runs. Contents are checked when read.
    """

    name = "librispeech"

    def __init__(self, root: Union[str, os.PathLike], *, count: Optional[int] = None,
                 max_duration: float = MAX_DURATION_S, check_files: bool = True):
        manifest_path, data_dir = find_manifest(root)
        self.manifest = read_manifest(manifest_path, data_dir, max_duration=max_duration)
        entries = self.manifest.entries
        if count is not None:
            if int(count) < 1:
                raise DatasetError(f"count must be at least 1, got {count!r}")
            entries = entries[: int(count)]
        self.entries: tuple[ManifestEntry, ...] = entries
        self.paths: list[Path] = [self._locate(e, check_files) for e in entries]
        self._featurizer: Optional[FilterbankFeatures] = None
        self._lock = threading.Lock()

    def _locate(self, entry: ManifestEntry, check: bool) -> Path:
        data_dir = self.manifest.data_dir
        path = data_dir / entry.fname
        if not check:
            return path
        if not path.is_file():
            for alt in _flac_alternatives(data_dir, entry.fname):
                if alt.is_file():
                    path = alt
                    break
            else:
                tried = ", ".join(str(p) for p in _flac_alternatives(data_dir, entry.fname))
                raise DatasetError(
                    f"audio file not found: {path} (manifest {self.manifest.path}, entry {entry.position}"
                    + (f"; also tried {tried}" if tried else "") + ")",
                    path=path,
                )
        _check_header(path)
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

    def __init__(self, dataset: LibrispeechDataset, performance_sample_count: int, *,
                 name: Optional[str] = None, workers: int = 1):
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
            raise KeyError(f"sample {index} of {self._name} is not loaded (LoadGen loads samples before issuing them)") from None
