"""Tiny LibriSpeech dev-clean layouts and RNN-T stand-ins for tests (spec benchmarks.md §7.g).

* :func:`make_librispeech` — ``<dir>/<name>/``: a few 16 kHz int16 clips (tones, chirps, noise) as
  WAV (one as FLAC) under ``dev-clean-wav/<spk>/<chap>/<spk>-<chap>-000k.<ext>`` and the
  manifest ``dev-clean-wav.json`` in the reference's format, including one clip longer than 15 s
  (dropped by the loader) and one transcript that needs normalising.
* :func:`small_rnnt` / :func:`write_checkpoint` — a small randomly initialised RNN-T with the
  reference structure (all layers, 240 features, 29 classes; narrow hidden sizes) and its
  checkpoint in the official format.

Everything is deterministic (seeded), so tests may rely on exact contents. The constants describe
what the builder writes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence, Union

import numpy as np

PathLike = Union[str, os.PathLike]


@dataclass(frozen=True)
class Clip:
    """One utterance of the fixture: its id, length in samples, signal kind, transcript, file type."""

    utt_id: str  # <spk>-<chap>-<utt>
    num_samples: int
    kind: str  # "tone", "chirp", "noise", "mixed"
    transcript: str  # as written into the manifest (lower case, as convert_librispeech.py writes it)
    ext: str = "wav"


#: Manifest order. Clip 2 is longer than 15 s and is filtered out; the others are samples 0..3.
CLIPS: tuple[Clip, ...] = (
    Clip("2277-149896-0000", 16000, "tone", "hello world"),
    Clip("2277-149896-0001", 32000, "chirp", "the quick brown fox jumps"),
    Clip("2277-149897-0000", 248000, "noise", "this one is far too long"),  # 15.5 s
    Clip("2412-153948-0000", 48000, "mixed", "dr. smith paid $5 & left"),  # 3 s: an extra STFT frame
    Clip("3752-4944-0000", 19744, "mixed", "it's a test", ext="flac"),  # 1.234 s, not a whole hop
)
#: The normalised transcripts of the kept clips, by QSL index.
TRANSCRIPTS: tuple[str, ...] = (
    "hello world",
    "the quick brown fox jumps",
    "doctor smith paid five dollars and left",
    "it's a test",
)
#: Manifest positions of the kept clips, by QSL index.
KEPT_POSITIONS: tuple[int, ...] = (0, 1, 3, 4)
SAMPLE_RATE = 16000
#: What the reference QSL prints for this manifest.
SUMMARY_LINE = "Dataset loaded with 0.00 hours. Filtered 0.00 hours. Number of samples: 4"


def clip_signal(clip: Clip, seed: int = 0) -> np.ndarray:
    """The int16 samples of a clip (deterministic)."""
    rng = np.random.default_rng(seed + int(clip.utt_id.replace("-", "")) % 100003)
    t = np.arange(clip.num_samples) / SAMPLE_RATE
    if clip.kind == "tone":
        x = 0.4 * np.sin(2 * np.pi * 440.0 * t) + 0.2 * np.sin(2 * np.pi * 1250.0 * t)
    elif clip.kind == "chirp":
        x = 0.5 * np.sin(2 * np.pi * (200.0 * t + 900.0 * t * t))
    elif clip.kind == "noise":
        x = 0.1 * rng.standard_normal(clip.num_samples)
    else:
        envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3.0 * t)
        x = 0.3 * envelope * np.sin(2 * np.pi * 310.0 * t) + 0.05 * rng.standard_normal(clip.num_samples)
    return np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)


def clip_path(clip: Clip, ext: Optional[str] = None) -> str:
    """The manifest ``fname`` of a clip: ``dev-clean-wav/<spk>/<chap>/<id>.<ext>``."""
    spk, chap, _ = clip.utt_id.split("-")
    return f"dev-clean-wav/{spk}/{chap}/{clip.utt_id}.{ext or clip.ext}"


def manifest_entry(clip: Clip, fname: Optional[str] = None, rate: int = SAMPLE_RATE) -> dict:
    """One manifest entry in the format of the reference's ``dev-clean-wav.json``."""
    duration = clip.num_samples / rate
    return {
        "transcript": clip.transcript,
        "files": [
            {
                "channels": 1,
                "sample_rate": float(rate),
                "bitrate": 16,
                "duration": duration,
                "num_samples": clip.num_samples,
                "encoding": "Signed Integer PCM",
                "silent": False,
                "fname": fname or clip_path(clip),
                "speed": 1,
            }
        ],
        "original_duration": duration,
        "original_num_samples": clip.num_samples,
    }


def make_librispeech(
    dir: PathLike,
    clips: Sequence[Clip] = CLIPS,
    *,
    name: str = "librispeech",
    rates: Mapping[int, int] = {},
    missing: Sequence[int] = (),
    librispeech_flac: Sequence[int] = (),
    seed: int = 0,
) -> Path:
    """Write a tiny dev-clean layout under ``dir/name`` and return that folder.

    ``rates`` gives clip k (manifest position) another sample rate in its file header; ``missing``
    leaves clip k's audio out; ``librispeech_flac`` stores clip k only as the original FLAC at
    ``LibriSpeech/dev-clean/<spk>/<chap>/<id>.flac`` while the manifest names the WAV.
    """
    import soundfile as sf

    root = Path(dir) / name
    entries = []
    for k, clip in enumerate(clips):
        fname = clip_path(clip)
        if k in librispeech_flac:
            fname = clip_path(clip, "wav")
            spk, chap, _ = clip.utt_id.split("-")
            target = root / "LibriSpeech" / "dev-clean" / spk / chap / f"{clip.utt_id}.flac"
        else:
            target = root / fname
        if k not in missing:
            target.parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(target), clip_signal(clip, seed), rates.get(k, SAMPLE_RATE), subtype="PCM_16")
        entries.append(manifest_entry(clip, fname))
    root.mkdir(parents=True, exist_ok=True)
    (root / "dev-clean-wav.json").write_text(json.dumps(entries, indent=2))
    return root


# -- RNN-T stand-ins --------------------------------------------------------------------------

#: Sizes of the small stand-in: every layer of the reference, narrow.
SMALL_SIZES = dict(encoder_hidden=32, pred_hidden=16, joint_hidden=24)


def small_rnnt(seed: int = 1, blank_bias: float = 2.0, weight_scale: float = 5.0):
    """A small randomly initialised RNN-T with the reference structure (240 features, 29 classes).

    PyTorch's default initialisation gives near-constant logits on such narrow layers, so every
    weight is multiplied by ``weight_scale``; ``blank_bias`` is added to the blank's output bias
    so that the decoder also moves on to the next frame. With the defaults the fixture clips
    decode to a few dozen to a few hundred symbols each; ``small_rnnt(2, 0.0)`` emits the maximum
    30 symbols at every frame.
    """
    import torch

    from edgeperf.models.rnnt import RNNTConfig, build_rnnt

    model = build_rnnt(RNNTConfig(**SMALL_SIZES), seed=seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "weight" in name:
                param.mul_(weight_scale)
        model.joint.net[3].bias[28] += blank_bias
    return model


def write_checkpoint(path: PathLike, model) -> Path:
    """Save ``model`` as the official checkpoint format (``{"state_dict": …}``, ``joint_net`` names)."""
    import torch

    from edgeperf.models.rnnt import official_checkpoint

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(official_checkpoint(model), path)
    return path
