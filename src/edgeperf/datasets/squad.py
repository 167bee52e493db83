"""SQuAD v1.1 dev set for BERT-Large: examples, WordPiece features and a QSL (spec benchmarks.md §8.a-b).

On disk: ``dev-v1.1.json`` (the SQuAD v1.1 dev set) and ``vocab.txt`` (the uncased BERT vocabulary,
one token per line, id = line number). :class:`SquadDataset` accepts a folder holding both (the
vocabulary may also be in ``bert_tf_v1_1_large_fp32_384_v2/vocab.txt``, the reference's
``build/data`` layout), or the JSON file itself with the vocabulary beside it.

Examples are the questions in file order (article → paragraph → question). Each is turned into one
or more *features* by the reference's sliding-window logic, and **sample index i is the i-th
feature** (10 833 on the real dev set):

* the context is split into whitespace tokens (space, tab, CR, LF and U+202F);
* the question is WordPiece-tokenised and cut to ``max_query_length`` (64) pieces; each context
  token is WordPiece-tokenised on its own, remembering which context token each piece came from;
* doc spans of at most ``max_seq_length − len(query) − 3`` pieces start at 0 and advance by
  ``min(length, doc_stride)`` (128) until one reaches the end;
* a feature is ``[CLS] query [SEP] span [SEP]``, segment ids 0 up to the first ``[SEP]`` and 1
  after, input mask 1 on real tokens, everything zero-padded to ``max_seq_length`` (384);
  ``token_to_orig`` maps each span position to its context token and ``max_context`` marks the
  positions whose span gives them the most context (``min(left, right) + 0.01·span length``,
  the first span winning ties); ``unique_id`` counts from 1 000 000 000.

Tokenisation is the reference's BERT tokenizer, in :mod:`edgeperf.datasets.wordpiece`.

Features live in preallocated numpy arrays (:class:`SquadFeatures`), not one object per feature;
:meth:`SquadFeatures.feature` builds the reference's per-feature view (tokens, dict maps) on
demand. :class:`SquadQSL` hands batches of the three int64 model inputs to the SUT.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

import numpy as np

from .base import DatasetError, QSLBase
from .wordpiece import MAX_CHARS_PER_WORD, WordPieceTokenizer, basic_tokenize, read_vocab
from ..errors import UsageError

__all__ = [
    "SQUAD_JSON",
    "VOCAB_TXT",
    "VOCAB_SUBDIR",
    "MAX_SEQ_LENGTH",
    "DOC_STRIDE",
    "MAX_QUERY_LENGTH",
    "MAX_CHARS_PER_WORD",
    "FIRST_UNIQUE_ID",
    "INPUT_NAMES",
    "basic_tokenize",
    "whitespace_doc_tokens",
    "read_vocab",
    "WordPieceTokenizer",
    "SquadExample",
    "SquadFeature",
    "SquadFeatures",
    "read_squad_examples",
    "convert_examples_to_features",
    "SquadDataset",
    "SquadQSL",
]

SQUAD_JSON = "dev-v1.1.json"
VOCAB_TXT = "vocab.txt"
#: Where the reference's ``build/data`` keeps the vocabulary (with the model files).
VOCAB_SUBDIR = "bert_tf_v1_1_large_fp32_384_v2"
MAX_SEQ_LENGTH = 384
DOC_STRIDE = 128
MAX_QUERY_LENGTH = 64
FIRST_UNIQUE_ID = 1_000_000_000
#: The model inputs of one feature, in the order of :meth:`SquadQSL.get_batch`'s dict.
INPUT_NAMES = ("input_ids", "input_mask", "segment_ids")


def _is_doc_whitespace(char: str) -> bool:
    return char in " \t\r\n" or char == "\u202f"


def whitespace_doc_tokens(context: str) -> tuple[list[str], list[int]]:
    """The reference's context split: ``(doc_tokens, char_to_word_offset)``.

    A token starts after whitespace (space, tab, CR, LF, U+202F); ``char_to_word_offset[c]`` is
    the index of the token character ``c`` belongs to (for whitespace: the token before it, -1
    before the first token).
    """
    tokens: list[str] = []
    offsets: list[int] = []
    previous_white = True
    for char in context:
        if _is_doc_whitespace(char):
            previous_white = True
        else:
            if previous_white:
                tokens.append(char)
            else:
                tokens[-1] += char
            previous_white = False
        offsets.append(len(tokens) - 1)
    return tokens, offsets


# -- examples ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SquadExample:
    """One question of the data set (the reference's ``SquadExample``, evaluation fields).

    ``doc_tokens`` and ``char_to_word_offset`` are shared by the questions of one paragraph
    (``paragraph_index`` counts paragraphs over the whole file). ``answers`` holds the ground
    truth as ``(text, answer_start)`` pairs (``answer_start`` -1 where the file has none).
    """

    qas_id: str
    question_text: str
    doc_tokens: tuple[str, ...]
    char_to_word_offset: tuple[int, ...]
    answers: tuple[tuple[str, int], ...]
    paragraph_index: int
    context: str

    @property
    def answer_texts(self) -> list[str]:
        """The ground-truth answer texts, as ``evaluate-v1.1.py`` reads them."""
        return [text for text, _ in self.answers]


def _describe(value) -> str:
    kind = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value))
    if kind is None:
        kind = "a number" if isinstance(value, (int, float)) else type(value).__name__
    return kind


def _field(path: Path, where: str, obj, key: str, kind: type, what: str):
    """``obj[key]``, checked to be a ``kind``; a :class:`DatasetError` naming the place otherwise."""
    expected = "SQuAD v1.1 JSON (data → paragraphs → context, qas → id, question, answers)"
    if not isinstance(obj, dict):
        raise DatasetError(f"{path}: {where}: expected an object, found {_describe(obj)} ({expected})", path=path)
    if key not in obj:
        raise DatasetError(f'{path}: {where}: missing "{key}" ({what}; {expected})', path=path)
    value = obj[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        kind_name = {list: "a list", str: "a string", int: "an integer"}[kind]
        raise DatasetError(
            f'{path}: {where}: "{key}" must be {kind_name} ({what}), found {_describe(value)}', path=path
        )
    return value


def load_squad_json(path: Union[str, os.PathLike]) -> dict:
    """The parsed SQuAD JSON file; :class:`DatasetError` naming the file (and line) if it is unusable."""
    path = Path(path)
    expected = "the SQuAD v1.1 dev set (dev-v1.1.json)"
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except FileNotFoundError:
        raise DatasetError(f"{path} not found: expected {expected}", path=path) from None
    except IsADirectoryError:
        raise DatasetError(f"{path} is a directory: expected {expected}", path=path) from None
    except PermissionError:
        raise DatasetError(f"{path} is not readable (permission denied)", path=path) from None
    except UnicodeDecodeError as error:
        raise DatasetError(
            f"{path} is not UTF-8 text ({error.reason} at byte {error.start}): expected {expected}", path=path
        ) from None
    except json.JSONDecodeError as error:
        raise DatasetError(
            f"{path}:{error.lineno}:{error.colno}: not valid JSON ({error.msg}): expected {expected}",
            path=path,
            line=error.lineno,
        ) from None
    _field(path, "top level", document, "data", list, "the list of articles")
    return document


def read_squad_examples(document: dict, path: Union[str, os.PathLike] = "<squad json>") -> list[SquadExample]:
    """The questions of a parsed SQuAD JSON document, in file order, as :class:`SquadExample`.

    Every field the evaluation reads is checked; a missing or mistyped one raises
    :class:`DatasetError` naming its place (``data[0].paragraphs[1].qas[2]``).
    """
    path = Path(path)
    examples: list[SquadExample] = []
    paragraph_index = 0
    for a, article in enumerate(_field(path, "top level", document, "data", list, "the list of articles")):
        paragraphs = _field(path, f"data[{a}]", article, "paragraphs", list, "the article's paragraphs")
        for p, paragraph in enumerate(paragraphs):
            where = f"data[{a}].paragraphs[{p}]"
            context = _field(path, where, paragraph, "context", str, "the paragraph text")
            qas = _field(path, where, paragraph, "qas", list, "the paragraph's questions")
            doc_tokens, offsets = whitespace_doc_tokens(context)
            doc_tokens_t, offsets_t = tuple(doc_tokens), tuple(offsets)
            for q, qa in enumerate(qas):
                qwhere = f"{where}.qas[{q}]"
                qas_id = _field(path, qwhere, qa, "id", str, "the question id")
                question = _field(path, qwhere, qa, "question", str, "the question text")
                answers = []
                for k, answer in enumerate(_field(path, qwhere, qa, "answers", list, "the ground-truth answers")):
                    awhere = f"{qwhere}.answers[{k}]"
                    text = _field(path, awhere, answer, "text", str, "the answer text")
                    start = (
                        _field(path, awhere, answer, "answer_start", int, "the answer's character offset")
                        if isinstance(answer, dict) and "answer_start" in answer
                        else -1
                    )
                    answers.append((text, start))
                examples.append(
                    SquadExample(qas_id, question, doc_tokens_t, offsets_t, tuple(answers), paragraph_index, context)
                )
            paragraph_index += 1
    return examples


# -- features ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SquadFeature:
    """One feature in the reference's form (built on demand by :meth:`SquadFeatures.feature`)."""

    unique_id: int
    example_index: int
    doc_span_index: int
    tokens: list[str]
    token_to_orig_map: dict[int, int]
    token_is_max_context: dict[int, bool]
    input_ids: np.ndarray
    input_mask: np.ndarray
    segment_ids: np.ndarray


@dataclass
class SquadFeatures:
    """Every feature of a data set, as arrays (row f = feature f = QSL sample f).

    ``input_ids``, ``input_mask``, ``segment_ids``: int64 ``[F, max_seq_length]``, the model inputs;
    ``token_to_orig``: int32 ``[F, max_seq_length]``, the context token of each span position, -1
    elsewhere (the reference's ``token_to_orig_map``); ``max_context``: bool, the reference's
    ``token_is_max_context`` (False off the span); ``n_tokens``: the unpadded length;
    ``example_index``, ``doc_span_index``, ``unique_id``: per feature.
    """

    input_ids: np.ndarray
    input_mask: np.ndarray
    segment_ids: np.ndarray
    token_to_orig: np.ndarray
    max_context: np.ndarray
    n_tokens: np.ndarray
    example_index: np.ndarray
    doc_span_index: np.ndarray
    unique_id: np.ndarray
    id_to_token: Sequence[str]

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])

    @property
    def max_seq_length(self) -> int:
        return int(self.input_ids.shape[1])

    def tokens(self, f: int) -> list[str]:
        """The feature's WordPiece strings, ``[CLS]`` to the last ``[SEP]`` (no padding)."""
        return [self.id_to_token[i] for i in self.input_ids[f, : self.n_tokens[f]].tolist()]

    def feature(self, f: int) -> SquadFeature:
        """Feature ``f`` as the reference's ``InputFeatures`` (lists and dicts)."""
        positions = np.flatnonzero(self.token_to_orig[f] >= 0).tolist()
        return SquadFeature(
            unique_id=int(self.unique_id[f]),
            example_index=int(self.example_index[f]),
            doc_span_index=int(self.doc_span_index[f]),
            tokens=self.tokens(f),
            token_to_orig_map={p: int(self.token_to_orig[f, p]) for p in positions},
            token_is_max_context={p: bool(self.max_context[f, p]) for p in positions},
            input_ids=self.input_ids[f],
            input_mask=self.input_mask[f],
            segment_ids=self.segment_ids[f],
        )

    def truncated(self, count: int) -> "SquadFeatures":
        """The first ``count`` features (views, no copy)."""
        n = max(0, min(int(count), len(self)))
        return SquadFeatures(*(getattr(self, name)[:n] for name in _ARRAY_FIELDS), id_to_token=self.id_to_token)


_ARRAY_FIELDS = (
    "input_ids",
    "input_mask",
    "segment_ids",
    "token_to_orig",
    "max_context",
    "n_tokens",
    "example_index",
    "doc_span_index",
    "unique_id",
)


def _doc_spans(n_doc: int, max_tokens_for_doc: int, doc_stride: int) -> list[tuple[int, int]]:
    """The reference's sliding window: ``[(start, length), ...]``."""
    spans = []
    start = 0
    while start < n_doc:
        length = min(n_doc - start, max_tokens_for_doc)
        spans.append((start, length))
        if start + length == n_doc:
            break
        start += min(length, doc_stride)
    return spans


def _best_spans(spans: list[tuple[int, int]], n_doc: int) -> np.ndarray:
    """For each doc piece, the span giving it the most context (first span on ties)."""
    positions = np.arange(n_doc)
    best_score = np.full(n_doc, -np.inf)
    best = np.full(n_doc, -1, dtype=np.int64)
    for index, (start, length) in enumerate(spans):
        end = start + length - 1
        inside = slice(start, end + 1)
        p = positions[inside]
        # min(left, right) + 0.01 * length, in float64 as the reference's Python floats
        score = np.minimum(p - start, end - p) + 0.01 * length
        better = score > best_score[inside]
        best_score[inside] = np.where(better, score, best_score[inside])
        best[inside] = np.where(better, index, best[inside])
    return best


def convert_examples_to_features(
    examples: Sequence[SquadExample],
    tokenizer: WordPieceTokenizer,
    *,
    max_seq_length: int = MAX_SEQ_LENGTH,
    doc_stride: int = DOC_STRIDE,
    max_query_length: int = MAX_QUERY_LENGTH,
    max_features: Optional[int] = None,
) -> SquadFeatures:
    """The reference's ``convert_examples_to_features`` (evaluation mode), into arrays.

    With ``max_features``, stops after that many features (the first ones; used for
    ``--max-samples``). Each paragraph's context is tokenised once for all its questions.
    """
    if max_seq_length - max_query_length - 3 < 1:
        raise UsageError(
            f"max_seq_length {max_seq_length} leaves no room for the context after a "
            f"{max_query_length}-piece question, [CLS] and two [SEP]"
        )
    if doc_stride < 1:
        raise UsageError(f"doc_stride must be at least 1, got {doc_stride}")
    limit = None if max_features is None else max(0, int(max_features))

    # Spans first (cheap), so the arrays are allocated once.
    plan: list[tuple[int, np.ndarray, list[tuple[int, int]]]] = []  # (example, query ids, spans)
    total = 0
    paragraphs: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    batch = 512
    for first in range(0, len(examples), batch):
        if limit is not None and total >= limit:
            break
        chunk = examples[first : first + batch]
        queries = tokenizer.encode([e.question_text for e in chunk])
        todo = sorted({e.paragraph_index for e in chunk if e.paragraph_index not in paragraphs})
        by_index = {e.paragraph_index: e for e in chunk}
        for index, encoded in zip(todo, tokenizer.encode_words([by_index[i].doc_tokens for i in todo])):
            paragraphs[index] = encoded
        for offset, (example, query) in enumerate(zip(chunk, queries)):
            if limit is not None and total >= limit:
                break
            query = query[:max_query_length]
            doc_ids, _ = paragraphs[example.paragraph_index]
            spans = _doc_spans(len(doc_ids), max_seq_length - len(query) - 3, doc_stride)
            if limit is not None:
                spans = spans[: limit - total]
            plan.append((first + offset, query, spans))
            total += len(spans)

    cls_id, sep_id = tokenizer.vocab["[CLS]"], tokenizer.vocab["[SEP]"]
    input_ids = np.zeros((total, max_seq_length), np.int64)
    input_mask = np.zeros((total, max_seq_length), np.int64)
    segment_ids = np.zeros((total, max_seq_length), np.int64)
    token_to_orig = np.full((total, max_seq_length), -1, np.int32)
    max_context = np.zeros((total, max_seq_length), bool)
    n_tokens = np.zeros(total, np.int32)
    example_index = np.zeros(total, np.int32)
    doc_span_index = np.zeros(total, np.int32)

    f = 0
    for e, query, spans in plan:
        doc_ids, word_index = paragraphs[examples[e].paragraph_index]
        all_spans = _doc_spans(len(doc_ids), max_seq_length - len(query) - 3, doc_stride)
        best = _best_spans(all_spans, len(doc_ids))
        offset = len(query) + 2
        for s, (start, length) in enumerate(spans):
            row = input_ids[f]
            row[0] = cls_id
            row[1 : offset - 1] = query
            row[offset - 1] = sep_id
            row[offset : offset + length] = doc_ids[start : start + length]
            row[offset + length] = sep_id
            end = offset + length + 1
            input_mask[f, :end] = 1
            segment_ids[f, offset:end] = 1
            token_to_orig[f, offset : offset + length] = word_index[start : start + length]
            max_context[f, offset : offset + length] = best[start : start + length] == s
            n_tokens[f] = end
            example_index[f] = e
            doc_span_index[f] = s
            f += 1
    unique_id = FIRST_UNIQUE_ID + np.arange(total, dtype=np.int64)
    return SquadFeatures(
        input_ids,
        input_mask,
        segment_ids,
        token_to_orig,
        max_context,
        n_tokens,
        example_index,
        doc_span_index,
        unique_id,
        id_to_token=tokenizer.id_to_token,
    )


# -- the dataset ---------------------------------------------------------------------------------


def locate_squad_files(
    root: Union[str, os.PathLike], vocab_file: Union[str, os.PathLike, None] = None
) -> tuple[Path, Path]:
    """``(dev-v1.1.json, vocab.txt)`` for a dataset folder (or the JSON file itself).

    The vocabulary is ``vocab_file`` when given, else the first of ``<folder>/vocab.txt`` and
    ``<folder>/bert_tf_v1_1_large_fp32_384_v2/vocab.txt`` that exists. Raises
    :class:`DatasetError` naming what is missing and where it was looked for.
    """
    root = Path(root)
    if not root.exists():
        raise DatasetError(
            f"SQuAD dataset folder {root} does not exist: expected a folder holding {SQUAD_JSON} and {VOCAB_TXT}",
            path=root,
        )
    if root.is_file():
        json_path, folder = root, root.parent
    else:
        json_path, folder = root / SQUAD_JSON, root
        if not json_path.is_file():
            raise DatasetError(
                f"{json_path} not found: expected the SQuAD v1.1 dev set ({SQUAD_JSON}) in {root}", path=json_path
            )
    if vocab_file is not None:
        return json_path, Path(vocab_file)
    candidates = [folder / VOCAB_TXT, folder / VOCAB_SUBDIR / VOCAB_TXT]
    for candidate in candidates:
        if candidate.is_file():
            return json_path, candidate
    raise DatasetError(
        f"vocabulary file {candidates[0]} not found (nor {candidates[1]}): expected the uncased BERT "
        f"WordPiece vocabulary ({VOCAB_TXT}, one token per line) beside {json_path.name}",
        path=candidates[0],
    )


class SquadDataset:
    """The SQuAD v1.1 dev set as BERT features; sample ``i`` is feature ``i`` (spec §8.a-b).

    ``SquadDataset(root)`` reads ``dev-v1.1.json`` and ``vocab.txt`` (see :func:`locate_squad_files`),
    tokenises and builds every feature. ``count`` keeps only the first ``count`` features (the
    examples stay complete, for scoring). ``examples`` are the questions, ``features`` the
    :class:`SquadFeatures`, ``document`` the parsed JSON (what ``evaluate-v1.1.py`` scores against),
    ``tokenizer`` the :class:`WordPieceTokenizer`. ``len(dataset)`` is the number of features.
    """

    name = "squad-v1.1"

    def __init__(
        self,
        root: Union[str, os.PathLike],
        *,
        vocab_file: Union[str, os.PathLike, None] = None,
        count: Optional[int] = None,
        max_seq_length: int = MAX_SEQ_LENGTH,
        doc_stride: int = DOC_STRIDE,
        max_query_length: int = MAX_QUERY_LENGTH,
        max_chars_per_word: int = MAX_CHARS_PER_WORD,
    ):
        if count is not None and int(count) < 1:
            raise UsageError(f"count must be at least 1, got {count!r}")
        self.root = Path(root)
        self.json_path, self.vocab_path = locate_squad_files(root, vocab_file)
        self.tokenizer = WordPieceTokenizer.from_file(self.vocab_path, max_chars_per_word=max_chars_per_word)
        self.document = load_squad_json(self.json_path)
        self.version = self.document.get("version")
        self.examples = read_squad_examples(self.document, self.json_path)
        self.max_seq_length = int(max_seq_length)
        self.features = convert_examples_to_features(
            self.examples,
            self.tokenizer,
            max_seq_length=max_seq_length,
            doc_stride=doc_stride,
            max_query_length=max_query_length,
            max_features=count,
        )
        if len(self.features) == 0:
            raise DatasetError(
                f"{self.json_path} gives no features: it has {len(self.examples)} questions and no "
                "paragraph with any text; expected the SQuAD v1.1 dev set",
                path=self.json_path,
            )

    def __len__(self) -> int:
        return len(self.features)

    @property
    def id_to_token(self) -> Sequence[str]:
        return self.tokenizer.id_to_token

    def basic_tokenize(self, text: str) -> list[str]:
        """The reference ``BasicTokenizer`` (uncased), used by the accuracy script's ``get_final_text``."""
        return basic_tokenize(text)

    def sample(self, index: int) -> dict[str, np.ndarray]:
        """The three model inputs of feature ``index`` (int64 ``[max_seq_length]`` each)."""
        f = self.features
        return {"input_ids": f.input_ids[index], "input_mask": f.input_mask[index], "segment_ids": f.segment_ids[index]}

    def preprocessed(self, index: int) -> np.ndarray:
        """Feature ``index`` as one int64 ``[3, max_seq_length]`` array (input ids, mask, segment ids)."""
        f = self.features
        return np.stack([f.input_ids[index], f.input_mask[index], f.segment_ids[index]])

    def qsl(self, performance_sample_count: Optional[int] = None, *, name: Optional[str] = None) -> "SquadQSL":
        """A :class:`SquadQSL` over this dataset (performance count: every feature by default)."""
        count = len(self) if performance_sample_count is None else performance_sample_count
        return SquadQSL(self, count, name=name)


class SquadQSL(QSLBase):
    """A LoadGen query sample library over a :class:`SquadDataset` (spec loadgen.md §2.1-2.3).

    Every feature is already in memory as the dataset's arrays (as in the reference, whose load
    and unload do nothing), so loading only marks samples as usable; ``get_batch(indices)`` is one
    numpy ``take`` per input: ``{"input_ids", "input_mask", "segment_ids"}``, int64 ``[N, 384]``.
    Asking for a sample that is not loaded is a ``KeyError``, as with :class:`DatasetQSL`.
    """

    def __init__(self, dataset: SquadDataset, performance_sample_count: int, *, name: Optional[str] = None):
        count = int(performance_sample_count)
        if count < 1:
            raise UsageError(f"performance_sample_count must be at least 1, got {performance_sample_count!r}")
        self.dataset = dataset
        self._name = name or f"{dataset.name}-QSL"
        self._total = len(dataset)
        self._performance = count
        f = dataset.features
        self._inputs = {"input_ids": f.input_ids, "input_mask": f.input_mask, "segment_ids": f.segment_ids}
        self._loaded = np.zeros(self._total, dtype=np.int32)  # load count per sample
        self._lock = threading.Lock()

    @property
    def loaded_count(self) -> int:
        return int(np.count_nonzero(self._loaded))

    def _checked(self, indices: Iterable[int]) -> np.ndarray:
        array = np.asarray(indices, dtype=np.int64).reshape(-1)
        if array.size and (array.min() < 0 or array.max() >= self._total):
            bad = array[(array < 0) | (array >= self._total)][0]
            raise IndexError(f"QSL index {int(bad)} out of range: {self._name} has {self._total} samples")
        return array

    def load_samples_to_ram(self, indices: Sequence[int]) -> None:
        wanted = np.unique(self._checked(indices))
        with self._lock:
            self._loaded[wanted] = 1

    def unload_samples_from_ram(self, indices: Sequence[int]) -> None:
        wanted = np.unique(self._checked(indices))
        with self._lock:
            self._loaded[wanted] = 0

    def is_loaded(self, index: int) -> bool:
        return 0 <= index < self._total and bool(self._loaded[index])

    def get_batch(self, indices: Union[Sequence[int], np.ndarray]) -> dict[str, np.ndarray]:
        """The three inputs of the loaded samples ``indices``, stacked: int64 ``[N, max_seq_length]`` each."""
        wanted = self._checked(indices)
        if wanted.size and not self._loaded[wanted].all():
            missing = int(wanted[self._loaded[wanted] == 0][0])
            raise KeyError(
                f"sample {missing} of {self._name} is not loaded (LoadGen loads samples before issuing them)"
            )
        return {name: np.take(array, wanted, axis=0) for name, array in self._inputs.items()}
