"""LibriSpeech dev-clean for RNN-T: transcripts, manifest, audio, features and the QSL (spec benchmarks.md §7.a-b).

One module per job:

* :mod:`.numbers` and :mod:`.text`: the reference's transcript normalisation (``english_cleaners``
  with unidecode 1.1.1 and its number rules) and the label indices;
* :mod:`.manifest`: the reference manifest, the 15 s filter, utterances dropped for their
  transcript, and the sample order;
* :mod:`.audio`: 16 kHz WAV/FLAC reading (soundfile);
* :mod:`.features`: the reference's filterbank features in numpy (librosa for the mel matrix);
* :mod:`.qsl`: :class:`LibrispeechDataset` and :class:`AudioQSL`.

``--dataset`` may name the folder holding ``dev-clean-wav.json`` or the manifest file itself.
soundfile, librosa and unidecode (the ``speech`` extra) are imported when first needed.
"""

from .audio import read_audio
from .features import SAMPLE_RATE, FilterbankFeatures, feature_length, mel_filterbank
from .manifest import (
    MANIFEST_NAME,
    MAX_DURATION_S,
    DroppedUtterance,
    Manifest,
    ManifestEntry,
    find_manifest,
    read_manifest,
)
from .numbers import TranscriptError, normalize_numbers
from .qsl import AudioQSL, LibrispeechDataset
from .text import LABELS, SPEECH_EXTRA, english_cleaners, normalize_transcript, transcript_indices

__all__ = [
    "LABELS",
    "SAMPLE_RATE",
    "MAX_DURATION_S",
    "MANIFEST_NAME",
    "SPEECH_EXTRA",
    "ManifestEntry",
    "DroppedUtterance",
    "Manifest",
    "TranscriptError",
    "read_manifest",
    "find_manifest",
    "normalize_numbers",
    "normalize_transcript",
    "transcript_indices",
    "english_cleaners",
    "read_audio",
    "FilterbankFeatures",
    "feature_length",
    "mel_filterbank",
    "LibrispeechDataset",
    "AudioQSL",
]
