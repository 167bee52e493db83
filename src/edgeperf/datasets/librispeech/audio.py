"""LibriSpeech audio as the RNN-T reference reads it (spec benchmarks.md §7.a).

Audio is read with soundfile (imported when first needed) as float32 (int16 / 32768), averaged
over channels if there are several, never resampled or trimmed; a file whose rate is not
16 000 Hz is refused. Where a manifest's WAV file is missing, its FLAC original stands in for it
(``<id>.flac`` beside it, or ``LibriSpeech/dev-clean/<spk>/<chap>/<id>.flac``): both decode to the
same 16-bit samples.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

import numpy as np

from ..base import DatasetError
from .features import SAMPLE_RATE, FilterbankFeatures
from .text import SPEECH_EXTRA

__all__ = ["read_audio", "check_audio_header", "flac_alternatives"]


def _soundfile():
    try:
        import soundfile
    except ImportError as e:  # also raised when the libsndfile library is missing
        raise DatasetError(
            f"reading LibriSpeech audio needs the soundfile package ({e}); install it with: {SPEECH_EXTRA}"
        ) from None
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
                raise DatasetError(
                    f"{path}: sample rate {rate} Hz, expected {sample_rate} Hz (the reference "
                    "does not resample LibriSpeech; convert the file to 16 kHz)",
                    path=path,
                )
            samples = f.read(dtype="float32", always_2d=True)
    except DatasetError:
        raise
    except Exception as e:  # soundfile.LibsndfileError, RuntimeError, OSError ...
        raise DatasetError(
            f"{path}: cannot read the audio ({type(e).__name__}: {e}); expected 16 kHz WAV or FLAC", path=path
        ) from None
    waveform = samples[:, 0] if samples.shape[1] == 1 else samples.mean(axis=1, dtype=np.float32)
    if waveform.shape[0] <= FilterbankFeatures.n_fft // 2:
        raise DatasetError(
            f"{path}: {waveform.shape[0]} samples; the reference's STFT needs more than "
            f"{FilterbankFeatures.n_fft // 2} (about 16 ms)",
            path=path,
        )
    return np.ascontiguousarray(waveform, dtype=np.float32)


def check_audio_header(path: Path, sample_rate: int = SAMPLE_RATE) -> None:
    """Refuse a file whose header is unreadable or whose rate is not ``sample_rate`` (cheap: header only)."""
    sf = _soundfile()
    try:
        rate = sf.info(str(path)).samplerate
    except Exception as e:
        raise DatasetError(
            f"{path}: cannot read the audio ({type(e).__name__}: {e}); expected 16 kHz WAV or FLAC", path=path
        ) from None
    if rate != sample_rate:
        raise DatasetError(
            f"{path}: sample rate {rate} Hz, expected {sample_rate} Hz (the reference does not "
            "resample LibriSpeech; convert the file to 16 kHz)",
            path=path,
        )


def flac_alternatives(data_dir: Path, fname: str) -> list[Path]:
    """Where the FLAC original of a manifest WAV may be: beside it, or in the LibriSpeech tree."""
    rel = Path(fname)
    out = [data_dir / rel.with_suffix(".flac")]
    parts = rel.parts
    if len(parts) >= 2 and parts[0].endswith("-wav"):
        out.append(data_dir / "LibriSpeech" / parts[0][: -len("-wav")] / Path(*parts[1:]).with_suffix(".flac"))
    return [p for p in out if p != data_dir / rel]
