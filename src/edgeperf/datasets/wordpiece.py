"""The reference's BERT tokenizer for SQuAD v1.1 (spec benchmarks.md §8.a): basic tokenisation and
WordPiece over the uncased vocabulary.

Tokenisation is the reference's BERT tokenizer (transformers ``BertTokenizer``, uncased): clean
control characters, pad CJK ideographs with spaces, split on whitespace, lower-case, strip
accents (NFD, drop Mn), split punctuation, then greedy longest-match WordPiece with ``##``
continuations and ``[UNK]`` for a word that cannot be matched or is longer than 100 characters.
It runs in the ``tokenizers`` library (``BertNormalizer``, ``BertPreTokenizer``, ``WordPiece``;
the ``language`` extra, imported on first use). Where that library's text normalisation differs
from the reference's Python string handling — the context-dependent Greek final sigma that
Python's ``str.lower`` applies, and characters the two Unicode tables classify differently —
:class:`WordPieceTokenizer` notices it per character and does that text's basic tokenisation in
Python (:func:`basic_tokenize`, the reference's ``BasicTokenizer``), still matching WordPieces
with ``tokenizers``. The output is the reference's either way.
"""

from __future__ import annotations

import os
import threading
import unicodedata
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from ..errors import MissingExtraError, UsageError
from .base import DatasetError

__all__ = [
    "MAX_CHARS_PER_WORD",
    "SPECIAL_TOKENS",
    "REQUIRED_TOKENS",
    "basic_tokenize",
    "read_vocab",
    "WordPieceTokenizer",
]

#: transformers' ``WordpieceTokenizer`` default (Google's tokenization.py uses 200).
MAX_CHARS_PER_WORD = 100
#: Tokens that transformers' ``BertTokenizer.tokenize`` never splits (found verbatim in the text).
SPECIAL_TOKENS = ("[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]")
#: Tokens the features need from the vocabulary.
REQUIRED_TOKENS = ("[UNK]", "[CLS]", "[SEP]")


# -- the reference's BasicTokenizer, in Python ----------------------------------------------------


def _is_whitespace(char: str) -> bool:
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def _is_control(char: str) -> bool:
    if char in "\t\n\r":
        return False
    return unicodedata.category(char).startswith("C")


def _is_punctuation(char: str) -> bool:
    cp = ord(char)
    # Every non-letter/number ASCII character counts ("^", "$", "`" are not Unicode P*).
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def _is_cjk(char: str) -> bool:
    cp = ord(char)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def basic_tokenize(text: str, lower: bool = True) -> list[str]:
    """The reference ``BasicTokenizer(do_lower_case=True).tokenize(text)``, in Python.

    Drops NUL, U+FFFD and control characters (category C*, except tab/CR/LF), turns whitespace
    (space, tab, CR, LF, Zs) into spaces, pads CJK ideographs with spaces, splits on whitespace,
    lower-cases each token with ``str.lower`` and strips accents (NFD, drop Mn), then splits off
    every punctuation character (ASCII symbols and Unicode P*) as a token of its own.
    ``basic_tokenize("Hello, Café!") == ["hello", ",", "cafe", "!"]``.
    """
    cleaned = []
    for char in text:
        cp = ord(char)
        if cp == 0 or cp == 0xFFFD or _is_control(char):
            continue
        if _is_whitespace(char):
            cleaned.append(" ")
        elif cp >= 0x2E80 and _is_cjk(char):
            cleaned.append(f" {char} ")
        else:
            cleaned.append(char)
    out: list[str] = []
    for token in "".join(cleaned).split():
        if lower:
            token = token.lower()
            token = "".join(c for c in unicodedata.normalize("NFD", token) if unicodedata.category(c) != "Mn")
        start = 0
        for i, char in enumerate(token):
            if _is_punctuation(char):
                if i > start:
                    out.append(token[start:i])
                out.append(char)
                start = i + 1
        if start < len(token):
            out.append(token[start:])
    return out


def _split_special(text: str) -> list[tuple[str, bool]]:
    """``text`` cut around verbatim special tokens: ``[(piece, is_special), ...]``."""
    pieces: list[tuple[str, bool]] = [(text, False)]
    for special in SPECIAL_TOKENS:
        if special not in text:
            continue
        nxt: list[tuple[str, bool]] = []
        for piece, is_special in pieces:
            if is_special or special not in piece:
                nxt.append((piece, is_special))
                continue
            parts = piece.split(special)
            for k, part in enumerate(parts):
                if part:
                    nxt.append((part, False))
                if k < len(parts) - 1:
                    nxt.append((special, True))
        pieces = nxt
    return pieces


def _basic_words(text: str) -> list[str]:
    """Special tokens kept whole, everything else through :func:`basic_tokenize`."""
    words: list[str] = []
    for piece, is_special in _split_special(text):
        if is_special:
            words.append(piece)
        else:
            words.extend(basic_tokenize(piece))
    return words


# -- vocabulary and WordPiece --------------------------------------------------------------------


def read_vocab(path: Union[str, os.PathLike]) -> dict[str, int]:
    """``vocab.txt`` as ``{token: id}`` with id = line number (a repeated token keeps its last line).

    Lines are read as transformers reads them (UTF-8, line end removed). Raises
    :class:`DatasetError` naming the file if it is missing, unreadable, not UTF-8, empty, or lacks
    one of ``[UNK]``, ``[CLS]``, ``[SEP]``.
    """
    path = Path(path)
    expected = "the uncased BERT WordPiece vocabulary, one token per line (30 522 lines for BERT-Large)"
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.readlines()
    except FileNotFoundError:
        raise DatasetError(f"vocabulary file {path} not found: expected {expected}", path=path) from None
    except IsADirectoryError:
        raise DatasetError(f"vocabulary file {path} is a directory: expected {expected}", path=path) from None
    except PermissionError:
        raise DatasetError(f"vocabulary file {path} is not readable (permission denied)", path=path) from None
    except UnicodeDecodeError as error:
        raise DatasetError(
            f"vocabulary file {path} is not UTF-8 text ({error.reason} at byte {error.start}): expected {expected}",
            path=path,
        ) from None
    vocab = {line.rstrip("\n"): index for index, line in enumerate(lines)}
    missing = [t for t in REQUIRED_TOKENS if t not in vocab]
    if not lines or missing:
        what = "is empty" if not lines else f"has no {', '.join(missing)} line"
        raise DatasetError(
            f"vocabulary file {path} {what}: expected {expected}, including [UNK], [CLS] and [SEP]", path=path
        )
    return vocab


def _tokenizers():
    try:
        import tokenizers
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise MissingExtraError(
            "the SQuAD dataset needs the tokenizers package for WordPiece tokenisation: "
            "pip install 'edgeperf[language]' (or tokenizers)"
        ) from error
    return tokenizers


class WordPieceTokenizer:
    """The reference BERT tokenizer (uncased WordPiece over ``vocab``), running in ``tokenizers``.

    ``tokenize(text)`` gives the WordPiece strings, ``encode(texts)`` their ids, and
    ``encode_words(word_lists)`` the ids of each word of each list tokenised on its own plus, per
    piece, the index of the word it came from (how the reference tokenises a context).
    See the module docstring for how exactness with the reference is kept.
    """

    def __init__(self, vocab: dict[str, int], *, max_chars_per_word: int = MAX_CHARS_PER_WORD):
        missing = [t for t in REQUIRED_TOKENS if t not in vocab]
        if missing:
            raise UsageError(f"the vocabulary has no {', '.join(missing)}")
        tk = _tokenizers()
        from tokenizers import normalizers, pre_tokenizers
        from tokenizers.models import WordPiece

        self.vocab = dict(vocab)
        size = max(self.vocab.values()) + 1
        self.id_to_token: list[str] = [""] * size
        for token, index in self.vocab.items():
            self.id_to_token[index] = token
        self.max_chars_per_word = int(max_chars_per_word)

        def model():
            return WordPiece(
                self.vocab,
                unk_token="[UNK]",
                continuing_subword_prefix="##",
                max_input_chars_per_word=self.max_chars_per_word,
            )

        self._normalizer = normalizers.BertNormalizer(
            clean_text=True, handle_chinese_chars=True, strip_accents=True, lowercase=True
        )
        self._pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        full = tk.Tokenizer(model())
        full.normalizer = self._normalizer
        full.pre_tokenizer = self._pre_tokenizer
        full.add_special_tokens([t for t in SPECIAL_TOKENS if t in self.vocab])
        self._full = full
        self._pieces = tk.Tokenizer(model())  # WordPiece only: for words split in Python
        self._verdicts: dict[str, bool] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: Union[str, os.PathLike], **kw) -> "WordPieceTokenizer":
        """A tokenizer over the vocabulary in ``path`` (see :func:`read_vocab`)."""
        return cls(read_vocab(path), **kw)

    # -- routing between tokenizers' normaliser and the Python BasicTokenizer ------------------

    def _library_basic(self, text: str) -> list[str]:
        return [w for w, _ in self._pre_tokenizer.pre_tokenize_str(self._normalizer.normalize_str(text))]

    def _diverges(self, char: str) -> bool:
        """Whether ``tokenizers``' normalisation of ``char`` may differ from the reference's."""
        verdict = self._verdicts.get(char)
        if verdict is None:
            if char == "\u03a3":  # Σ: str.lower picks σ or ς from the context, the library always σ
                verdict = True
            else:
                verdict = any(
                    basic_tokenize(probe) != self._library_basic(probe)
                    for probe in (char, f"a{char}b", f"A{char}", f"{char}A", f"1{char}1")
                )
            with self._lock:
                self._verdicts[char] = verdict
        return verdict

    def _needs_python(self, text: str) -> bool:
        if text.isascii():
            return False
        return any(self._diverges(c) for c in set(text) if ord(c) > 127)

    # -- tokenisation --------------------------------------------------------------------------

    def basic_tokenize(self, text: str) -> list[str]:
        """The reference ``BasicTokenizer`` (uncased) output for ``text`` (see :func:`basic_tokenize`)."""
        return basic_tokenize(text)

    def encode(self, texts: Sequence[str]) -> list[np.ndarray]:
        """WordPiece ids (int64) of each text, as the reference's ``tokenizer.tokenize`` then ids."""
        texts = list(texts)
        out: list[Optional[np.ndarray]] = [None] * len(texts)
        fast: list[int] = []
        slow: list[int] = []
        for i, text in enumerate(texts):
            (slow if self._needs_python(text) else fast).append(i)
        if fast:
            for i, enc in zip(fast, self._full.encode_batch([texts[i] for i in fast], add_special_tokens=False)):
                out[i] = np.asarray(enc.ids, dtype=np.int64)
        if slow:
            words = [_basic_words(texts[i]) for i in slow]
            for i, enc in zip(slow, self._pieces.encode_batch(words, is_pretokenized=True, add_special_tokens=False)):
                out[i] = np.asarray(enc.ids, dtype=np.int64)
        return out  # type: ignore[return-value]

    def encode_words(self, word_lists: Sequence[Sequence[str]]) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each list: ``(ids, word_index)``, every word WordPiece-tokenised on its own.

        ``word_index[k]`` is the position in the list of the word piece ``k`` came from (the
        reference's ``tok_to_orig_index``); a word that tokenises to nothing has no pieces.
        """
        word_lists = [list(w) for w in word_lists]
        out: list[Optional[tuple[np.ndarray, np.ndarray]]] = [None] * len(word_lists)
        fast: list[int] = []
        slow: list[int] = []
        for i, words in enumerate(word_lists):
            (slow if self._needs_python(" ".join(words)) else fast).append(i)
        if fast:
            batch = [word_lists[i] if word_lists[i] else [""] for i in fast]
            for i, enc in zip(fast, self._full.encode_batch(batch, is_pretokenized=True, add_special_tokens=False)):
                ids = np.asarray(enc.ids, dtype=np.int64)
                index = np.asarray([-1 if w is None else w for w in enc.word_ids], dtype=np.int64)
                out[i] = (ids, index)
        for i in slow:
            basic: list[str] = []
            owner: list[int] = []
            for w, word in enumerate(word_lists[i]):
                pieces = _basic_words(word)
                basic.extend(pieces)
                owner.extend([w] * len(pieces))
            if basic:
                enc = self._pieces.encode(basic, is_pretokenized=True, add_special_tokens=False)
                ids = np.asarray(enc.ids, dtype=np.int64)
                index = np.asarray([owner[w] for w in enc.word_ids], dtype=np.int64)
            else:
                ids = np.zeros(0, np.int64)
                index = np.zeros(0, np.int64)
            out[i] = (ids, index)
        return out  # type: ignore[return-value]

    def tokenize(self, text: str) -> list[str]:
        """The WordPiece strings of ``text``: ``tokenize("unaffable!") == ["un", "##aff", "##able", "!"]``."""
        return [self.id_to_token[i] for i in self.encode([text])[0].tolist()]
