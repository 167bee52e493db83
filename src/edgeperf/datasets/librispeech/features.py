"""The RNN-T reference's filterbank features, in numpy (spec benchmarks.md §7.b).

:class:`FilterbankFeatures` is the reference's ``FilterbankFeatures`` with the ``[input_eval]``
settings of ``rnnt.toml``: float32 ``[240, T]`` with ``T = ceil(ceil(L/160)/3)`` for ``L`` samples.
librosa is imported only to build the mel filterbank, the first time one is needed.
"""

from __future__ import annotations

import threading
from typing import Optional

import numpy as np

from ..base import DatasetError
from .text import SPEECH_EXTRA

__all__ = ["SAMPLE_RATE", "feature_length", "mel_filterbank", "FilterbankFeatures"]

SAMPLE_RATE = 16000


def feature_length(num_samples: int, hop_length: int = 160, frame_splicing: int = 3) -> int:
    """Frames after splicing, ``ceil(ceil(L / hop) / splicing)`` (220 for L = 105 440)."""
    frames = (int(num_samples) + hop_length - 1) // hop_length
    return (frames + frame_splicing - 1) // frame_splicing


_MEL_LOCK = threading.Lock()
_MEL_CACHE: dict[tuple, np.ndarray] = {}


def mel_filterbank(
    sample_rate: int = SAMPLE_RATE, n_fft: int = 512, n_mels: int = 80, fmin: float = 0.0, fmax: Optional[float] = None
) -> np.ndarray:
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
                raise DatasetError(
                    f"RNN-T features need librosa for the mel filterbank ({e}); install it with: {SPEECH_EXTRA}"
                ) from None
            fb = np.asarray(
                mel(
                    sr=sample_rate,
                    n_fft=n_fft,
                    n_mels=n_mels,
                    fmin=fmin,
                    fmax=fmax if fmax is not None else sample_rate / 2,
                ),
                dtype=np.float32,
            )
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
        window[left : left + self.win_length] = hann
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
            raise ValueError(
                f"a waveform of {x.shape[0]} samples is too short for the reflect-padded STFT "
                f"(more than {self.n_fft // 2} needed)"
            )
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
        power += np.float32(self.dither**2)
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
