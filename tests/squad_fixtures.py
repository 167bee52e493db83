"""A tiny SQuAD v1.1 data set and BERT vocabulary for tests (spec benchmarks.md §8.g).

:func:`make_squad` writes ``<dir>/squad/dev-v1.1.json`` and ``<dir>/squad/vocab.txt``:

* article 0, paragraph 0: the Super Bowl 50 paragraph (parentheses, an en dash score ``24–10``);
* article 0, paragraph 1: accents (``café``, ``Señor``, ``crème brûlée``), an unknown word
  (``Zürich`` → ``[UNK]``), a possessive (``Smith's``), a tab, a newline, a no-break space inside a
  whitespace token and a narrow no-break space (U+202F) between two;
* article 1, paragraph 0: a context of about 560 WordPieces, so each question has three doc spans
  at max_seq_length 384, with answers early (span 0 only), in the middle (in all three spans,
  with its maximal context in span 1) and late (span 2 only), plus a question longer than 64 pieces.

The vocabulary holds the special tokens, punctuation, every word of the text (some only as
``##`` pieces: ``br ##ul ##ee``, ``love ##lace``, ``hop ##per``) and a few extra words for
tokeniser tests; ids are line numbers.

:func:`oracle_logits` gives, for every feature of a :class:`~edgeperf.datasets.squad.SquadDataset`
of this data, start/end logits that peak (+10) at the ground-truth answer's first and last
WordPiece wherever the feature contains it, 0 elsewhere: the accuracy script must score it 100/100.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping, Optional, Sequence, Union

import numpy as np

PathLike = Union[str, os.PathLike]

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PUNCTUATION = [".", ",", "(", ")", "?", "!", "'", "–", "-", ":", ";", "[", "]"]
WORDS = """
super bowl 50 was an american football game to determine the champion of national league nfl for
2015 season conference afc denver broncos defeated nfc carolina panthers 24 10 earn their third
title which team represented at what final score
cafe senor smith s opened in 1998 serving creme br and tea its owner is who owns dessert does serve
city did open
river flows past mill red blue green quiet wide stone wooden old new lighthouse keeper ada love
harbor master grace hop final bridge built by alan turing really a
hello world un 中 文 σας ας σ ασ
""".split()
PIECES = ["##ul", "##ee", "##lace", "##per", "##s", "##aff", "##able"]
#: The vocabulary, one token per line (id = position).
SQUAD_VOCAB: list[str] = SPECIALS + PUNCTUATION + list(dict.fromkeys(WORDS)) + PIECES

SUPER_BOWL = (
    "Super Bowl 50 was an American football game to determine the champion of the National Football League "
    "(NFL) for the 2015 season. The American Football Conference (AFC) champion Denver Broncos defeated the "
    "National Football Conference (NFC) champion Carolina Panthers 24–10 to earn their third Super Bowl title."
)
CAFE = (
    "The café Señor Smith's opened in Zürich in 1998,\tserving crème brûlée and\u00a0tea.\n"
    "Its owner\u202fis Señor Smith."
)

_ADJECTIVES = ("red", "blue", "green", "quiet", "wide")
_NOUNS = ("stone", "wooden", "old", "new")


def _long_context() -> str:
    sentences = []
    for i in range(60):
        sentences.append(f"The {_ADJECTIVES[i % 5]} river flows past the {_NOUNS[(i // 5) % 4]} mill.")
    sentences[3] = "The lighthouse keeper was Ada Lovelace."
    sentences[33] = "The harbor master was Grace Hopper."
    sentences[58] = "The final bridge was built by Alan Turing."
    return " ".join(sentences)


LONG_CONTEXT = _long_context()
LONG_QUESTION = "Who " + " ".join(["really"] * 70) + " built the final bridge?"


def _qa(qas_id: str, question: str, context: str, *answers: str, occurrence: int = 0) -> dict:
    out = []
    for text in answers:
        start = -1
        for _ in range(occurrence + 1):
            start = context.index(text, start + 1)
        out.append({"answer_start": start, "text": text})
    return {"answers": out, "question": question, "id": qas_id}


SQUAD_DOCUMENT = {
    "version": "1.1",
    "data": [
        {
            "title": "Super_Bowl_50",
            "paragraphs": [
                {
                    "context": SUPER_BOWL,
                    "qas": [
                        _qa(
                            "q-afc",
                            "Which NFL team represented the AFC at Super Bowl 50?",
                            SUPER_BOWL,
                            "Denver Broncos",
                            "Denver Broncos",
                            "Denver",
                        ),
                        _qa(
                            "q-nfc",
                            "Which NFL team represented the NFC at Super Bowl 50?",
                            SUPER_BOWL,
                            "Carolina Panthers",
                        ),
                        _qa("q-score", "What was the final score of Super Bowl 50?", SUPER_BOWL, "24–10"),
                    ],
                },
                {
                    "context": CAFE,
                    "qas": [
                        _qa("q-owner", "Who owns the café?", CAFE, "Señor Smith"),
                        _qa("q-dessert", "What dessert does the café serve?", CAFE, "crème brûlée"),
                        _qa("q-city", "In which city did the café open?", CAFE, "Zürich"),
                    ],
                },
            ],
        },
        {
            "title": "Long_river",
            "paragraphs": [
                {
                    "context": LONG_CONTEXT,
                    "qas": [
                        _qa("q-keeper", "Who was the lighthouse keeper?", LONG_CONTEXT, "Ada Lovelace"),
                        _qa("q-harbor", "Who was the harbor master?", LONG_CONTEXT, "Grace Hopper"),
                        _qa("q-bridge", "Who built the final bridge?", LONG_CONTEXT, "Alan Turing"),
                        _qa("q-long", LONG_QUESTION, LONG_CONTEXT, "Alan Turing"),
                    ],
                },
            ],
        },
    ],
}

#: Question ids in file order.
QUESTION_IDS = [qa["id"] for article in SQUAD_DOCUMENT["data"] for p in article["paragraphs"] for qa in p["qas"]]


def write_vocab(path: PathLike, tokens: Sequence[str] = SQUAD_VOCAB) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(t + "\n" for t in tokens), encoding="utf-8")
    return path


def make_squad(
    directory: PathLike, name: str = "squad", document: Optional[dict] = None, vocab: Sequence[str] = SQUAD_VOCAB
) -> Path:
    """Write ``<directory>/<name>/dev-v1.1.json`` and ``vocab.txt``; return the folder."""
    folder = Path(directory) / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dev-v1.1.json").write_text(
        json.dumps(document or SQUAD_DOCUMENT, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    write_vocab(folder / "vocab.txt", vocab)
    return folder


# -- oracle logits ------------------------------------------------------------------------------


def answer_piece_span(dataset, example_index: int, text: str, answer_start: int) -> tuple[int, int]:
    """The answer's first and last WordPiece in the paragraph's piece sequence, as the reference's
    training code finds it (character span → whitespace tokens → pieces, then the piece sub-span
    whose text equals the tokenised answer)."""
    example = dataset.examples[example_index]
    first_word = example.char_to_word_offset[answer_start]
    last_word = example.char_to_word_offset[answer_start + len(text) - 1]
    ((ids, owner),) = dataset.tokenizer.encode_words([example.doc_tokens])
    owner = owner.tolist()
    start = owner.index(first_word)
    end = len(owner) - 1 - owner[::-1].index(last_word)
    pieces = [dataset.id_to_token[i] for i in ids.tolist()]
    wanted = " ".join(dataset.tokenizer.tokenize(text))
    for s in range(start, end + 1):
        for e in range(end, s - 1, -1):
            if " ".join(pieces[s : e + 1]) == wanted:
                return s, e
    return start, end


def oracle_logits(
    dataset, overrides: Optional[Mapping[str, tuple[str, int]]] = None, peak: float = 10.0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per feature: float32 start and end logits ``[max_seq_length]`` peaking at the answer.

    The answer of a question is its first ground truth, or ``overrides[qas_id] = (text, start)``.
    A feature gets the peaks only where it holds both ends of the answer; every other value is 0.
    """
    overrides = overrides or {}
    features = dataset.features
    spans: dict[int, tuple[int, int]] = {}
    out = []
    seq = features.max_seq_length
    for f in range(len(features)):
        e = int(features.example_index[f])
        if e not in spans:
            example = dataset.examples[e]
            text, start = overrides.get(example.qas_id, example.answers[0])
            spans[e] = answer_piece_span(dataset, e, text, start)
        first, last = spans[e]
        start_logits = np.zeros(seq, np.float32)
        end_logits = np.zeros(seq, np.float32)
        doc_offset = int(np.flatnonzero(features.token_to_orig[f] >= 0)[0])
        span_start = _span_start(dataset, f)
        n_span = int(np.count_nonzero(features.token_to_orig[f] >= 0))
        if span_start <= first and last < span_start + n_span:
            start_logits[doc_offset + first - span_start] = peak
            end_logits[doc_offset + last - span_start] = peak
        out.append((start_logits, end_logits))
    return out


def _span_start(dataset, f: int) -> int:
    """Index, in the paragraph's pieces, of feature ``f``'s first context piece."""
    features = dataset.features
    e = int(features.example_index[f])
    first = f
    while first > 0 and int(features.example_index[first - 1]) == e:
        first -= 1
    query_len = int(np.flatnonzero(features.token_to_orig[first] >= 0)[0]) - 2
    max_tokens = features.max_seq_length - query_len - 3
    start = 0
    for _ in range(int(features.doc_span_index[f])):
        start += min(max_tokens, 128)
    return start


def interleaved(start: np.ndarray, end: np.ndarray) -> bytes:
    """The reference response bytes: float32 ``[n, 2]`` (start, end per position)."""
    return np.stack([np.asarray(start, "<f4"), np.asarray(end, "<f4")], axis=-1).tobytes()


def write_accuracy_log(path: PathLike, payloads: Sequence[bytes], order: Optional[Sequence[int]] = None) -> Path:
    """An ``mlperf_log_accuracy.json`` with one record per feature (in ``order``, default 0..n-1)."""
    order = list(range(len(payloads))) if order is None else list(order)
    records = [{"seq_id": k, "qsl_idx": int(i), "data": payloads[i].hex().upper()} for k, i in enumerate(order)]
    path = Path(path)
    path.write_text(json.dumps(records), encoding="utf-8")
    return path
