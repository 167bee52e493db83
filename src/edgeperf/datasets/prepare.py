"""The reference's data preparation steps, for ``edgeperf dataset prepare NAME``.

* LibriSpeech: FLAC to 16-bit WAV plus the manifest ``dev-clean-wav.json`` (the reference's
  ``utils/convert_librispeech.py``; spec benchmarks.md §7.a).
* COCO: resize every validation image and rescale the annotations (the reference's
  ``tools/upscale_coco/upscale_coco.py``, e.g. 1200x1200 for SSD-ResNet34; spec §5.a).
* SQuAD: check the vocabulary and the dev set against what BERT-Large expects (spec §8.a).
* BraTS: :func:`edgeperf.datasets.brats.preprocess_brats` (spec §6.a-b).

Each raises :class:`DatasetError` naming the file and what was expected.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from .base import DatasetError

Progress = Optional[Callable[[int, int], None]]

#: The official uncased BERT vocabulary: 30 522 tokens, these at these ids (spec §8.a).
BERT_VOCAB_SIZE = 30522
BERT_SPECIAL_IDS = {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103}
SQUAD_DEV_QUESTIONS = 10570
SQUAD_DEV_ARTICLES = 48


# ------------------------------------------------------------------------------------ LibriSpeech
def prepare_librispeech(
    source: str | os.PathLike, out: str | os.PathLike, *, progress: Progress = None, max_files: int | None = None
) -> Path:
    """Convert ``source`` (``LibriSpeech/dev-clean``: ``<spk>/<chap>/*.flac`` and ``*.trans.txt``) into
    ``out/dev-clean-wav/<spk>/<chap>/<id>.wav`` and ``out/dev-clean-wav.json``; return the manifest.

    Utterances are in (speaker, chapter, id) order; WAVs keep the 16 kHz rate, 16-bit PCM; the
    transcript is lower-cased and stripped, as the reference does.
    """
    try:
        import soundfile
    except ImportError as e:
        raise DatasetError(f"LibriSpeech preparation needs soundfile ({e}); pip install 'edgeperf[speech]'") from None
    src, out = Path(source), Path(out)
    if not src.is_dir():
        raise DatasetError(
            f"LibriSpeech folder {src} does not exist (expected LibriSpeech/dev-clean from "
            "dev-clean.tar.gz: <speaker>/<chapter>/*.flac and *.trans.txt)",
            path=src,
        )
    utterances = []
    for trans in sorted(src.rglob("*.trans.txt")):
        for n, line in enumerate(trans.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            uid, _, text = line.partition(" ")
            if not text.strip():
                raise DatasetError(f"{trans}:{n}: expected '<utterance-id> TRANSCRIPT'", path=trans, line=n)
            utterances.append((trans.parent, uid, text))
    if not utterances:
        raise DatasetError(f"{src}: no *.trans.txt files (expected LibriSpeech/dev-clean)", path=src)
    utterances.sort(key=lambda u: tuple(int(p) if p.isdigit() else p for p in u[1].split("-")))
    if max_files is not None:
        utterances = utterances[:max_files]
    wav_root = out / "dev-clean-wav"
    manifest = []
    for done, (folder, uid, text) in enumerate(utterances, 1):
        flac = folder / f"{uid}.flac"
        if not flac.is_file():
            raise DatasetError(f"{flac}: missing (listed in {folder.name}'s transcript file)", path=flac)
        rel = flac.parent.relative_to(src)
        wav = wav_root / rel / f"{uid}.wav"
        wav.parent.mkdir(parents=True, exist_ok=True)
        try:
            data, rate = soundfile.read(str(flac), dtype="int16")
        except RuntimeError as e:
            raise DatasetError(f"{flac}: cannot decode FLAC ({e})", path=flac) from None
        tmp = wav.with_name(f".{wav.name}.tmp")
        soundfile.write(str(tmp), data, rate, subtype="PCM_16", format="WAV")
        os.replace(tmp, wav)
        frames = int(data.shape[0])
        seconds = frames / rate
        fname = f"dev-clean-wav/{rel.as_posix()}/{uid}.wav"
        manifest.append(
            {
                "files": [
                    {
                        "channels": 1 if data.ndim == 1 else int(data.shape[1]),
                        "sample_rate": float(rate),
                        "bitrate": 16,
                        "duration": seconds,
                        "num_samples": frames,
                        "encoding": "Signed Integer PCM",
                        "silent": frames == 0,
                        "fname": fname,
                        "speed": 1,
                    }
                ],
                "original_duration": seconds,
                "original_num_samples": frames,
                "transcript": text.strip().lower(),
            }
        )
        if progress is not None:
            progress(done, len(utterances))
    path = out / "dev-clean-wav.json"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


# ------------------------------------------------------------------------------------------- COCO
def prepare_coco(
    source: str | os.PathLike,
    out: str | os.PathLike,
    size: tuple[int, int] = (1200, 1200),
    *,
    fmt: str = "png",
    progress: Progress = None,
) -> Path:
    """Resize ``source/val2017`` images to ``size`` (width, height) into ``out/val2017`` and write
    ``out/annotations/instances_val2017.json`` with boxes, areas and image sizes rescaled.

    As the reference: OpenCV INTER_LINEAR, grey images made 3-channel, the file extension replaced
    by ``fmt`` (PNG by default: JPEG re-encoding costs up to 0.5 mAP, spec §5.a).
    """
    import cv2

    src, out = Path(source), Path(out)
    ann_in = src / "annotations" / "instances_val2017.json"
    try:
        dataset = json.loads(ann_in.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(
            f"{ann_in}: not found (expected COCO's annotations/instances_val2017.json)", path=ann_in
        ) from None
    except json.JSONDecodeError as e:
        raise DatasetError(f"{ann_in}:{e.lineno}: not valid JSON ({e.msg})", path=ann_in, line=e.lineno) from None
    images = {img["id"]: img for img in dataset.get("images", [])}
    for ann in dataset.get("annotations", []):
        img = images.get(ann.get("image_id"))
        if img is None:
            raise DatasetError(
                f"{ann_in}: annotation {ann.get('id')} names image {ann.get('image_id')}, which is not in 'images'",
                path=ann_in,
            )
        sx, sy = size[0] / img["width"], size[1] / img["height"]
        x, y, w, h = ann["bbox"]
        ann["bbox"] = [x * sx, y * sy, w * sx, h * sy]
        ann["area"] = ann["area"] * sx * sy
    img_out = out / "val2017"
    img_out.mkdir(parents=True, exist_ok=True)
    total = len(images)
    for done, img in enumerate(images.values(), 1):
        path = src / "val2017" / img["file_name"]
        image = cv2.imread(str(path))
        if image is None:
            raise DatasetError(f"{path}: missing or not an image", path=path)
        if image.ndim < 3 or image.shape[2] != 3:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
        image = cv2.resize(image, tuple(size), interpolation=cv2.INTER_LINEAR)
        name = img["file_name"][:-3] + fmt
        if not cv2.imwrite(str(img_out / name), image):
            raise DatasetError(f"{img_out / name}: cannot write the resized image", path=img_out / name)
        img["file_name"], img["width"], img["height"] = name, size[0], size[1]
        if progress is not None:
            progress(done, total)
    dataset["images"] = list(images.values())
    ann_out = out / "annotations" / "instances_val2017.json"
    ann_out.parent.mkdir(parents=True, exist_ok=True)
    tmp = ann_out.with_name(f".{ann_out.name}.tmp")
    tmp.write_text(json.dumps(dataset), encoding="utf-8")
    os.replace(tmp, ann_out)
    return out


# ------------------------------------------------------------------------------------------ SQuAD
@dataclass
class SquadCheck:
    """What the SQuAD check found: problems (the data cannot be used) and notes (it can, but ...)."""

    vocab: Path
    dev: Path
    vocab_size: int = 0
    questions: int = 0
    articles: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_squad(folder: str | os.PathLike) -> SquadCheck:
    """Check ``folder/vocab.txt`` (or the reference's ``bert_tf_v1_1_large_fp32_384_v2/vocab.txt``) and
    ``folder/dev-v1.1.json`` against the official BERT-Large vocabulary and SQuAD v1.1 dev set."""
    root = Path(folder)
    vocab = next(
        (p for p in (root / "vocab.txt", root / "bert_tf_v1_1_large_fp32_384_v2" / "vocab.txt") if p.is_file()),
        root / "vocab.txt",
    )
    dev = root / "dev-v1.1.json"
    result = SquadCheck(vocab, dev)
    try:
        tokens = vocab.read_text(encoding="utf-8").split("\n")
    except FileNotFoundError:
        result.problems.append(f"{vocab}: not found (edgeperf fetch bert-99 downloads it)")
        tokens = []
    except UnicodeDecodeError as e:
        result.problems.append(f"{vocab}: not UTF-8 text ({e.reason} at byte {e.start})")
        tokens = []
    if tokens and tokens[-1] == "":
        tokens.pop()
    result.vocab_size = len(tokens)
    if tokens:
        if len(tokens) != BERT_VOCAB_SIZE:
            result.problems.append(
                f"{vocab}: {len(tokens)} tokens, expected {BERT_VOCAB_SIZE} (the uncased "
                "BERT-Large vocabulary the model was trained with)"
            )
        for token, wanted in BERT_SPECIAL_IDS.items():
            found = tokens.index(token) if token in tokens else None
            if found != wanted:
                result.problems.append(
                    f"{vocab}: {token} at line {None if found is None else found + 1}, "
                    f"expected line {wanted + 1} (id {wanted})"
                )
        upper = sum(1 for t in tokens[1000:2000] if t != t.lower())
        if upper:
            result.problems.append(f"{vocab}: has upper-case tokens; expected the uncased vocabulary")
    try:
        data = json.loads(dev.read_text(encoding="utf-8"))
    except FileNotFoundError:
        result.problems.append(f"{dev}: not found (edgeperf fetch squad downloads it)")
        return result
    except json.JSONDecodeError as e:
        result.problems.append(f"{dev}:{e.lineno}: not valid JSON ({e.msg})")
        return result
    if not isinstance(data, dict) or data.get("version") != "1.1" or not isinstance(data.get("data"), list):
        result.problems.append(f'{dev}: expected SQuAD v1.1 JSON ({{"version": "1.1", "data": [...]}})')
        return result
    result.articles = len(data["data"])
    result.questions = sum(len(p.get("qas", [])) for a in data["data"] for p in a.get("paragraphs", []))
    if (result.questions, result.articles) != (SQUAD_DEV_QUESTIONS, SQUAD_DEV_ARTICLES):
        result.notes.append(
            f"{dev}: {result.questions} questions in {result.articles} articles; the official dev "
            f"set has {SQUAD_DEV_QUESTIONS} in {SQUAD_DEV_ARTICLES} (fine for a test, not for a "
            "submission)"
        )
    return result
