"""RNN-T filterbank features (spec benchmarks.md §7.b) against two independent computations.

* a straightforward numpy/librosa one, written frame by frame from the spec (explicit loops, no
  shared code with ``FilterbankFeatures``);
* the reference's own tensor operations as the spec describes them, with ``torch.stft``
  (symmetric Hann window, centre reflect padding), float32 throughout.

Both must agree with edgeperf's features; shapes, the per-feature normalisation and the frame count
rule ``T = ceil(ceil(L/160)/3)`` are checked on their own too.
"""

from __future__ import annotations

import numpy as np
import pytest

from audio_fixtures import CLIPS, KEPT_POSITIONS, clip_signal
from edgeperf.datasets.librispeech import FilterbankFeatures, feature_length

librosa = pytest.importorskip("librosa")


def _waveform(k: int) -> np.ndarray:
    return clip_signal(CLIPS[k]).astype(np.float32) / np.float32(32768.0)


def _by_hand(x: np.ndarray) -> np.ndarray:
    """The spec's ten steps, one frame at a time; float64 after the float32 pre-emphasis.

    The pre-emphasis stays in float32, the waveform's type in the reference: in bands where a
    synthetic clip has no energy at all, the power is the 1e-10 dither floor plus rounding noise
    of the same order, so a float64 pre-emphasis moves those log values by up to ~5e-3.
    """
    length = len(x)
    emphasised = np.concatenate(([x[0]], x[1:] - np.float32(0.97) * x[:-1])).astype(np.float64)
    padded = np.pad(emphasised, 256, mode="reflect")
    window = np.zeros(512)
    n = np.arange(320)
    window[96:416] = 0.5 - 0.5 * np.cos(2 * np.pi * n / 319)  # symmetric Hann, centred
    frames = 1 + length // 160
    power = np.empty((257, frames))
    for t in range(frames):
        spectrum = np.fft.rfft(padded[160 * t : 160 * t + 512] * window)
        power[:, t] = spectrum.real**2 + spectrum.imag**2 + 1e-10
    fb = librosa.filters.mel(sr=16000, n_fft=512, n_mels=80, fmin=0, fmax=8000).astype(np.float64)
    logmel = np.log(fb @ power + 1e-20)
    spliced = []
    for t in range(0, frames, 3):
        column = []
        for k in range(3):
            column.append(logmel[:, t + k] if t + k < frames else np.zeros(80))
        spliced.append(np.concatenate(column))
    feats = np.stack(spliced, axis=1)
    T = int(np.ceil(np.ceil(length / 160) / 3))
    valid = feats[:, :T]
    mean = valid.mean(axis=1, keepdims=True)
    std = valid.std(axis=1, ddof=1, keepdims=True) + 1e-5
    return (valid - mean) / std


def _reference_torch(x: np.ndarray) -> np.ndarray:
    """The reference featurizer's tensor operations (spec §7.b) with torch, float32."""
    torch = pytest.importorskip("torch")
    w = torch.from_numpy(x)[None]
    seq_len = (w.shape[1] + 159) // 160
    seq_len = (seq_len + 2) // 3
    w = torch.cat((w[:, :1], w[:, 1:] - 0.97 * w[:, :-1]), dim=1)
    spec = torch.stft(
        w,
        n_fft=512,
        hop_length=160,
        win_length=320,
        center=True,
        pad_mode="reflect",
        window=torch.hann_window(320, periodic=False),
        return_complex=True,
    )
    power = spec.real.pow(2) + spec.imag.pow(2)
    power = power + 1e-5**2
    fb = torch.tensor(librosa.filters.mel(sr=16000, n_fft=512, n_mels=80, fmin=0, fmax=8000), dtype=torch.float)
    y = torch.log(torch.matmul(fb, power) + 1e-20)
    seq = [y]
    for n in (1, 2):
        tmp = torch.zeros_like(y)
        tmp[:, :, :-n] = y[:, :, n:]
        seq.append(tmp)
    y = torch.cat(seq, dim=1)[:, :, ::3]
    mean = y[:, :, :seq_len].mean(dim=2, keepdim=True)
    std = y[:, :, :seq_len].std(dim=2, keepdim=True) + 1e-5
    y = (y - mean) / std
    return y[0, :, :seq_len].numpy()


@pytest.fixture(scope="module")
def featurizer():
    return FilterbankFeatures()


@pytest.mark.parametrize("k", KEPT_POSITIONS)
def test_features_match_a_by_hand_computation(featurizer, k):
    x = _waveform(k)
    got = featurizer(x)
    want = _by_hand(x)
    assert got.dtype == np.float32
    assert got.shape == want.shape == (240, feature_length(len(x)))
    # float32 rounding in near-empty bands of the clean clips moves a few values by up to ~8e-3
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-2)
    assert np.abs(got - want).mean() < 2e-4
    if CLIPS[k].kind == "mixed":
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)


@pytest.mark.parametrize("k", KEPT_POSITIONS)
def test_features_match_the_reference_tensor_ops(featurizer, k):
    """edgeperf is as close to torch's float32 result as the float64 by-hand computation is.

    The clean tone and chirp clips have mel bands holding nothing but the 1e-10 dither floor and
    rounding noise, where torch's float32 FFT moves the normalised values by up to ~0.015 from
    the exact ones; the noisy clips agree to 1e-4.
    """
    x = _waveform(k)
    got = featurizer(x)
    want = _reference_torch(x)
    exact = _by_hand(x)
    assert got.shape == want.shape
    ours, theirs = np.abs(got - want), np.abs(exact - want)
    assert ours.max() <= 1.5 * theirs.max() + 2e-5
    assert ours.mean() <= 1.5 * theirs.mean() + 1e-6
    assert ours.mean() < 5e-4
    if CLIPS[k].kind == "mixed":
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)


def test_window_and_filterbank_are_the_references(featurizer):
    torch = pytest.importorskip("torch")
    window = featurizer.window
    assert window.shape == (512,) and window.dtype == np.float32
    assert not window[:96].any() and not window[416:].any()
    reference = torch.hann_window(320, periodic=False).numpy()
    np.testing.assert_allclose(window[96:416], reference, rtol=0, atol=1e-7)
    assert np.count_nonzero(window[96:416] != reference) < 64  # float32 cos: a last-bit difference at most
    fb = librosa.filters.mel(sr=16000, n_fft=512, n_mels=80, fmin=0, fmax=8000)
    assert featurizer.fb.shape == (80, 257)
    np.testing.assert_array_equal(featurizer.fb, fb)


@pytest.mark.parametrize(
    ("num_samples", "stft_frames", "frames"),
    [(32000, 201, 67), (105440, 660, 220), (48000, 301, 100), (19744, 124, 42), (16000, 101, 34), (257, 2, 1)],
)
def test_frame_counts(featurizer, num_samples, stft_frames, frames):
    # 48000 samples: 301 STFT frames splice to 101, one more than T = 100, and are truncated
    assert 1 + num_samples // 160 == stft_frames
    assert feature_length(num_samples) == frames
    x = np.random.default_rng(num_samples).standard_normal(num_samples).astype(np.float32) * 0.1
    assert featurizer.power_spectrum(x).shape == (257, stft_frames)
    assert featurizer(x).shape == (240, frames)


def test_per_feature_normalisation_and_determinism(featurizer):
    x = _waveform(1)  # 32000 samples: 67 frames
    feats = featurizer(x)
    assert feats.shape == (240, 67)
    np.testing.assert_allclose(feats.mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(feats.std(axis=1, ddof=1), 1.0, atol=1e-3)
    assert np.array_equal(featurizer(x), feats)  # no random dither
    assert np.array_equal(FilterbankFeatures()(x.copy()), feats)


def test_splicing_stacks_three_frames_with_zeros_past_the_end(featurizer):
    """Before normalisation: feature block k of output frame t is log-mel frame 3t + k."""
    x = _waveform(4)  # 19744 samples: 124 STFT frames, 42 spliced frames
    logmel = np.log(featurizer.fb @ featurizer.power_spectrum(x) + np.float32(1e-20))
    assert logmel.shape == (80, 124)
    # undo the normalisation with the statistics of the by-hand splice
    spliced = np.zeros((240, 42), np.float32)
    for t in range(42):
        for k in range(3):
            if 3 * t + k < 124:
                spliced[80 * k : 80 * (k + 1), t] = logmel[:, 3 * t + k]
    assert not spliced[80:, 41].any()  # frame 41 = STFT frame 123 only: blocks 1 and 2 are zero
    mean = spliced.mean(axis=1, keepdims=True)
    std = spliced.std(axis=1, ddof=1, keepdims=True) + 1e-5
    np.testing.assert_allclose(featurizer(x), (spliced - mean) / std, rtol=0, atol=1e-4)


def test_too_short_a_waveform_is_refused(featurizer):
    with pytest.raises(ValueError, match="too short"):
        featurizer(np.zeros(256, np.float32))
