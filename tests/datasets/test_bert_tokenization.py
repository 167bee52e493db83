"""BERT WordPiece tokenisation of the SQuAD dataset (spec benchmarks.md §8.b step 2).

Pieces computed by hand on the fixture vocabulary (punctuation, accents, unknown words, CJK,
control characters, special tokens, the 100-character limit, Greek final sigma), and a
differential check of :class:`WordPieceTokenizer` (``tokenizers`` underneath) against a small
independent Python transcription of the reference BertTokenizer on random text.
"""

from __future__ import annotations

import random
import unicodedata

import numpy as np
import pytest

pytest.importorskip("tokenizers")

from edgeperf.datasets.base import DatasetError  # noqa: E402
from edgeperf.datasets.squad import whitespace_doc_tokens  # noqa: E402
from edgeperf.datasets.wordpiece import WordPieceTokenizer, basic_tokenize, read_vocab  # noqa: E402
from squad_fixtures import SQUAD_VOCAB, write_vocab  # noqa: E402


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory) -> WordPieceTokenizer:
    return WordPieceTokenizer.from_file(write_vocab(tmp_path_factory.mktemp("vocab") / "vocab.txt"))


HAND = [
    ("Hello, World!", ["hello", ",", "world", "!"]),
    ("(NFL)", ["(", "nfl", ")"]),
    ("24–10", ["24", "–", "10"]),  # en dash: Unicode Pd punctuation
    ("Señor Smith's", ["senor", "smith", "'", "s"]),
    ("Crème Brûlée", ["creme", "br", "##ul", "##ee"]),
    ("CAFÉ", ["cafe"]),
    ("Zürich", ["[UNK]"]),  # "zurich" is not in the vocabulary, nor are its pieces
    ("unaffable", ["un", "##aff", "##able"]),
    ("Lovelace Hopper", ["love", "##lace", "hop", "##per"]),
    ("worlds", ["world", "##s"]),
    ("hello\tworld\nhello\u00a0world\u202fhello", ["hello", "world", "hello", "world", "hello"]),
    ("te\u00ada te\x00a", ["tea", "tea"]),  # soft hyphen (Cf) and NUL are dropped
    ("the中文the", ["the", "中", "文", "the"]),  # CJK ideographs become words of their own
    ("ΣΑΣ", ["σας"]),  # str.lower: final sigma at the end of a word
    ("ΑΣ.", ["ας", "."]),
    ("hello [SEP] world", ["hello", "[SEP]", "world"]),  # special tokens are kept whole
    ("[sep]", ["[", "[UNK]", "]"]),
    ("love" + "lace" * 24, ["love"] + ["##lace"] * 24),  # exactly 100 characters
    ("love" + "lace" * 24 + "s", ["[UNK]"]),  # 101 characters: longer than a word may be
    ("", []),
    (" \t\n ", []),
]


@pytest.mark.parametrize("text, pieces", HAND)
def test_hand_computed_pieces(tokenizer, text, pieces):
    assert tokenizer.tokenize(text) == pieces


def test_ids_are_vocabulary_lines(tokenizer):
    ids = tokenizer.encode(["Hello, World!"])[0]
    assert ids.dtype == np.int64
    assert ids.tolist() == [SQUAD_VOCAB.index(t) for t in ("hello", ",", "world", "!")]
    assert tokenizer.vocab["[CLS]"] == 2 and tokenizer.vocab["[SEP]"] == 3 and tokenizer.vocab["[UNK]"] == 1


def test_basic_tokenize():
    assert basic_tokenize("Steve Smith's (1895-1943).") == [
        "steve",
        "smith",
        "'",
        "s",
        "(",
        "1895",
        "-",
        "1943",
        ")",
        ".",
    ]
    assert basic_tokenize("Ünïcödé\u3000x") == ["unicode", "x"]  # ideographic space is Zs
    assert basic_tokenize("a^b`c$") == ["a", "^", "b", "`", "c", "$"]  # ASCII symbols count as punctuation


def test_encode_words_tokenises_each_word_and_keeps_its_index(tokenizer):
    words = ["Señor", "Smith's", "\u0301", "and\u00a0tea.", "ΣΑΣ"]
    (ids, owner), (empty_ids, empty_owner) = tokenizer.encode_words([words, []])
    pieces = [tokenizer.id_to_token[i] for i in ids.tolist()]
    assert pieces == ["senor", "smith", "'", "s", "and", "tea", ".", "σας"]
    assert owner.tolist() == [0, 1, 1, 1, 3, 3, 3, 4]  # the lone combining accent gives no piece
    assert empty_ids.size == 0 and empty_owner.size == 0


def test_whitespace_doc_tokens():
    tokens, offsets = whitespace_doc_tokens(" The\tcafé\u202fis\u00a0open.\n")
    assert tokens == ["The", "café", "is\u00a0open."]
    # ' '  T  h  e  \t  c  a  f  é  U+202F  i  s  nbsp  o  p  e  n  .  \n
    assert offsets == [-1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2]


# -- differential check against an independent transcription of the reference ----------------


def _reference_tokenize(text: str, vocab: dict[str, int]) -> list[str]:
    """transformers' BertTokenizer(do_lower_case=True).tokenize, transcribed from spec §8.b."""
    out: list[str] = []
    for chunk in _split_specials(text):
        if chunk in ("[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"):
            out.append(chunk)
            continue
        for word in _reference_basic(chunk):
            out.extend(_reference_wordpiece(word, vocab))
    return out


def _split_specials(text: str) -> list[str]:
    import re

    return [p for p in re.split(r"(\[UNK\]|\[SEP\]|\[PAD\]|\[CLS\]|\[MASK\])", text) if p]


def _reference_basic(text: str) -> list[str]:
    kept = ""
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\x00\ufffd" or (cat[0] == "C" and ch not in "\t\n\r"):
            continue
        if ch in " \t\n\r" or cat == "Zs":
            kept += " "
        elif 0x4E00 <= ord(ch) <= 0x9FFF or 0x3400 <= ord(ch) <= 0x4DBF or 0xF900 <= ord(ch) <= 0xFAFF:
            kept += " " + ch + " "
        else:
            kept += ch
    words = []
    for token in kept.split():
        token = unicodedata.normalize("NFD", token.lower())
        token = "".join(ch for ch in token if unicodedata.category(ch) != "Mn")
        current = ""
        for ch in token:
            o = ord(ch)
            if (
                (33 <= o <= 47)
                or (58 <= o <= 64)
                or (91 <= o <= 96)
                or (123 <= o <= 126)
                or unicodedata.category(ch)[0] == "P"
            ):
                if current:
                    words.append(current)
                words.append(ch)
                current = ""
            else:
                current += ch
        if current:
            words.append(current)
    return words


def _reference_wordpiece(word: str, vocab: dict[str, int]) -> list[str]:
    if len(word) > 100:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                break
            end -= 1
        if end == start:
            return ["[UNK]"]
        pieces.append(piece)
        start = end
    return pieces


_ALPHABET = (
    [
        "hello",
        "world",
        "worlds",
        "un",
        "aff",
        "able",
        "unaffable",
        "lace",
        "love",
        "hop",
        "per",
        "the",
        "café",
        "CAFÉ",
        "Señor",
        "crème",
        "brûlée",
        "Zürich",
        "Ünïcödé",
        "ΣΑΣ",
        "Σ",
        "ς",
        "ας",
        "中",
        "文",
        "[SEP]",
        "[CLS]",
        "[sep]",
        "50",
        "24–10",
        "1998",
    ]
    + list(".,()?!'–-:;\"^`$@#&*~/\\|")
    + [
        " ",
        "  ",
        "\t",
        "\n",
        "\r",
        "\u00a0",
        "\u202f",
        "\u3000",
        "\u2028",
        "\x00",
        "\x0b",
        "\u00ad",
        "\u200b",
        "\ufffd",
        "\u0378",
        "\u061d",
        "\u0301",
        "\u0308",
        "é",
        "ñ",
        "İ",
        "ß",
        "ǅ",
        "ﬁ",
        "Ω",
        "K",
        "\u0130",
        "\U0001f600",
        "\ue000",
    ]
)


def test_matches_an_independent_reference_on_random_text(tokenizer):
    rng = random.Random(20211005)
    for _ in range(3000):
        text = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 12)))
        assert tokenizer.tokenize(text) == _reference_tokenize(text, tokenizer.vocab), repr(text)


def test_encode_words_matches_word_by_word_tokenisation(tokenizer):
    rng = random.Random(7)
    for _ in range(300):
        words = [
            "".join(rng.choice(_ALPHABET[:40]) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(0, 8))
        ]
        words = [w for w in words if w.strip()]
        ((ids, owner),) = tokenizer.encode_words([words])
        expected_pieces, expected_owner = [], []
        for index, word in enumerate(words):
            pieces = _reference_tokenize(word, tokenizer.vocab)
            expected_pieces += pieces
            expected_owner += [index] * len(pieces)
        assert [tokenizer.id_to_token[i] for i in ids.tolist()] == expected_pieces, words
        assert owner.tolist() == expected_owner, words


# -- vocabulary files ---------------------------------------------------------------------------


def test_read_vocab_ids_are_line_numbers(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nworld\nhello\n", encoding="utf-8")
    vocab = read_vocab(path)
    assert vocab == {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "hello": 6, "world": 5}


def test_missing_vocab_file(tmp_path):
    with pytest.raises(DatasetError) as info:
        read_vocab(tmp_path / "vocab.txt")
    assert str(tmp_path / "vocab.txt") in str(info.value) and "not found" in str(info.value)
    assert "WordPiece vocabulary" in str(info.value)
    assert info.value.path == str(tmp_path / "vocab.txt")


@pytest.mark.parametrize(
    "content, says",
    [
        (b"", "is empty"),
        (b"[PAD]\nhello\n[CLS]\n", "has no [UNK], [SEP] line"),
        (b"[UNK]\n[CLS]\n[SEP]\ncaf\xe9\n", "is not UTF-8"),
    ],
)
def test_unusable_vocab_file(tmp_path, content, says):
    path = tmp_path / "vocab.txt"
    path.write_bytes(content)
    with pytest.raises(DatasetError) as info:
        read_vocab(path)
    assert str(path) in str(info.value) and says in str(info.value)
