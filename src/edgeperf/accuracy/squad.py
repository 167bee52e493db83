"""SQuAD v1.1 EM/F1 of BERT, as ``accuracy-squad.py`` and ``evaluate-v1.1.py`` compute it.

Spec benchmarks.md §8.d–§8.e. The reference walks the accuracy log, decodes each record as float32
``[384, 2]`` (start and end logits interleaved; ``output_transposed``: ``[2, 384]``), pads short
records to 384 rows with -10000, and attaches them to the feature of their ``qsl_idx`` (a later
record of the same feature replaces an earlier one). Then, per question (``write_predictions``,
n-best 20, max answer length 30):

1. over the question's features that have logits: the 20 highest start and the 20 highest end
   positions (stable descending sort); every pair (start-major) is kept when both positions lie
   inside the feature's context part (``token_to_orig_map``), the start position has its
   maximal context in this feature, ``end >= start`` and the answer is at most 30 pieces long;
2. the pairs are sorted by start + end logit, descending (stable);
3. walking them, the WordPieces of the span are joined (``" ##"`` and ``"##"`` removed, whitespace
   collapsed), the original context tokens of the span are joined with spaces, and
   :func:`get_final_text` projects the first onto the second; the first 20 distinct texts form the
   n-best list, and the answer is its first entry (``"empty"`` when nothing is valid).

``evaluate-v1.1.py`` then normalises answers (lower-case, drop ``string.punctuation``, drop the
words a/an/the, collapse whitespace) and scores exact match and token F1 against each ground truth,
keeping the best, averaged over **every** question of the file ×100. The official line is
``json.dumps({"exact_match": EM, "f1": F1})`` — double quotes, full float precision, e.g.
``{"exact_match": 83.17880794701986, "f1": 90.40121712891282}``.

What ``squad`` must provide (a :class:`edgeperf.datasets.squad.SquadDataset` does): ``examples``
(``qas_id`` and ``doc_tokens`` per question), ``features`` (arrays ``example_index``,
``token_to_orig``, ``max_context``, ``n_tokens``, ``input_ids``; ``len``), ``id_to_token``,
``basic_tokenize(text)`` (the reference ``BasicTokenizer``, uncased), ``document`` (the parsed
JSON) and ``json_path``. This module never tokenises a data set itself.

Choices where the reference is hostile, each an :class:`AccuracyError` naming the log, seq_id and
qsl_idx instead of a traceback: a qsl_idx outside the features; data that is not whole values of
the dtype, not whole ``(start, end)`` pairs, or longer than ``max_seq_length`` rows. A question
without any ground-truth answer (``max()`` of nothing in the reference) is refused naming its id.

``max_examples`` scores only the first N questions and divides by N (the reference's
``--max_examples`` divides by N but scores N − 1, a quirk not kept). Predictions are written as
JSON (``indent=4``) only when ``output_file`` is given; the ``Writing predictions to:`` line is
printed then.
"""

from __future__ import annotations

import json
import os
import re
import string
from collections import Counter
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

from edgeperf.loadgen.logs.accuracy import iter_accuracy_log

from .._atomic import atomic_write
from .base import AccuracyError, AccuracyResult, register
from ..errors import UsageError

__all__ = [
    "N_BEST_SIZE",
    "MAX_ANSWER_LENGTH",
    "PAD_LOGIT",
    "DTYPES",
    "normalize_answer",
    "exact_match_score",
    "f1_score",
    "squad_v11_scores",
    "get_final_text",
    "best_indexes",
    "read_logits",
    "predict_answers",
    "evaluate_squad",
]

N_BEST_SIZE = 20
MAX_ANSWER_LENGTH = 30
#: What the reference pads a short record's logits with.
PAD_LOGIT = -10000.0
#: ``--output_dtype`` choices of the reference (little-endian).
DTYPES = {
    "int8": "<i1",
    "int16": "<i2",
    "int32": "<i4",
    "int64": "<i8",
    "float16": "<f2",
    "float32": "<f4",
    "float64": "<f8",
}

# -- evaluate-v1.1.py ----------------------------------------------------------------------------

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """Lower-case, drop ASCII punctuation, drop the words a/an/the, collapse whitespace."""
    text = text.lower()
    text = "".join(c for c in text if c not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match_score(prediction: str, ground_truth: str) -> bool:
    """Whether the two normalise to the same string."""
    return normalize_answer(prediction) == normalize_answer(ground_truth)


def f1_score(prediction: str, ground_truth: str) -> float:
    """Token-overlap F1 of the normalised strings (multiset intersection; 0 with no overlap)."""
    predicted = normalize_answer(prediction).split()
    truth = normalize_answer(ground_truth).split()
    same = sum((Counter(predicted) & Counter(truth)).values())
    if same == 0:
        return 0
    precision = 1.0 * same / len(predicted)
    recall = 1.0 * same / len(truth)
    return (2 * precision * recall) / (precision + recall)


def squad_v11_scores(
    document: Mapping[str, Any],
    predictions: Mapping[str, str],
    *,
    max_questions: Optional[int] = None,
    path: str | os.PathLike | None = None,
) -> dict[str, float]:
    """``evaluate-v1.1.py``'s ``evaluate``: ``{"exact_match": EM, "f1": F1}``, both ×100.

    Sums in file order, each question's best over its ground truths; questions without a
    prediction score 0 but count. ``max_questions`` stops after that many questions.
    """
    exact = f1 = 0.0
    total = 0
    for article in document["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                if max_questions is not None and total >= max_questions:
                    break
                total += 1
                if qa["id"] not in predictions:
                    continue
                truths = [answer["text"] for answer in qa["answers"]]
                if not truths:
                    raise AccuracyError(
                        path,
                        f"question {qa['id']}",
                        "has no ground-truth answer (SQuAD v1.1 gives every question at least one)",
                    )
                prediction = predictions[qa["id"]]
                exact += max(exact_match_score(prediction, t) for t in truths)
                f1 += max(f1_score(prediction, t) for t in truths)
    if total == 0:
        return {"exact_match": 0.0, "f1": 0.0}
    return {"exact_match": 100.0 * exact / total, "f1": 100.0 * f1 / total}


# -- accuracy-squad.py ---------------------------------------------------------------------------


def _strip_spaces(text: str) -> tuple[str, list[int]]:
    """``text`` without spaces, and for each kept character its position in ``text``."""
    kept = [(i, c) for i, c in enumerate(text) if c != " "]
    return "".join(c for _, c in kept), [i for i, _ in kept]


def get_final_text(pred_text: str, orig_text: str, basic_tokenize: Callable[[str], list[str]]) -> str:
    """Project the normalised prediction ``pred_text`` back onto the original span ``orig_text``.

    ``orig_text`` is basic-tokenised (lower-cased, accents stripped, punctuation split) and joined
    with spaces; ``pred_text`` is looked for in it. If found, and both strings have the same
    length once spaces are removed, characters are aligned one to one and the matching slice of
    ``orig_text`` is returned (``"steve smith"`` in ``"Steve Smith's"`` → ``"Steve Smith"``);
    otherwise ``orig_text`` is returned whole.
    """
    tok_text = " ".join(basic_tokenize(orig_text))
    start = tok_text.find(pred_text)
    if start == -1:
        return orig_text
    end = start + len(pred_text) - 1
    orig_ns, orig_ns_to_s = _strip_spaces(orig_text)
    tok_ns, tok_ns_to_s = _strip_spaces(tok_text)
    if len(orig_ns) != len(tok_ns):
        return orig_text
    tok_s_to_ns = {s: ns for ns, s in enumerate(tok_ns_to_s)}
    ns_start = tok_s_to_ns.get(start)
    if ns_start is None or ns_start >= len(orig_ns_to_s):
        return orig_text
    ns_end = tok_s_to_ns.get(end)
    if ns_end is None or ns_end >= len(orig_ns_to_s):
        return orig_text
    return orig_text[orig_ns_to_s[ns_start] : orig_ns_to_s[ns_end] + 1]


def best_indexes(logits: np.ndarray, n_best_size: int = N_BEST_SIZE) -> list[int]:
    """Positions of the ``n_best_size`` largest logits, largest first, ties in position order."""
    values = np.asarray(logits, dtype=np.float64)
    if np.isfinite(values).all():
        return np.argsort(-values, kind="stable")[:n_best_size].tolist()
    # NaN: Python's sorted, exactly as the reference (its order with NaN is not a total order)
    ranked = sorted(enumerate(values.tolist()), key=lambda item: item[1], reverse=True)
    return [index for index, _ in ranked[:n_best_size]]


def read_logits(
    log_path: str | os.PathLike,
    n_features: int,
    *,
    dtype: str = "float32",
    transposed: bool = False,
    max_seq_length: int = 384,
) -> tuple[dict[int, tuple[np.ndarray, np.ndarray]], int]:
    """Each feature's ``(start, end)`` logits (float64 ``[max_seq_length]``) from an accuracy log.

    Returns the dict (keyed by qsl_idx; a later record of a feature replaces an earlier one) and
    the number of records read. Raises :class:`AccuracyError` for a record it cannot decode.
    """
    try:
        np_dtype = np.dtype(DTYPES[dtype])
    except KeyError:
        raise UsageError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}") from None
    log_name = os.fspath(log_path)
    results: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    records = 0
    for seq_id, qsl_idx, data_hex in iter_accuracy_log(log_path):
        records += 1
        where = f"seq_id {seq_id} (qsl_idx {qsl_idx})"
        if not 0 <= qsl_idx < n_features:
            raise AccuracyError(log_name, where, f"qsl_idx is outside the data set's {n_features} features")
        data = bytes.fromhex(data_hex)
        if len(data) % np_dtype.itemsize:
            raise AccuracyError(
                log_name,
                where,
                f"{len(data)} data bytes are not a whole number of {dtype} values (wrong output dtype?)",
            )
        values = np.frombuffer(data, np_dtype)
        if values.size % 2:
            raise AccuracyError(log_name, where, f"{values.size} {dtype} values are not whole (start, end) logit pairs")
        rows = values.size // 2
        if rows > max_seq_length:
            raise AccuracyError(
                log_name,
                where,
                f"{rows} (start, end) logit pairs, more than the {max_seq_length} positions of a feature",
            )
        logits = values.reshape(2, -1).T if transposed else values.reshape(-1, 2)
        start = np.full(max_seq_length, PAD_LOGIT)
        end = np.full(max_seq_length, PAD_LOGIT)
        start[:rows] = logits[:, 0]
        end[:rows] = logits[:, 1]
        results[qsl_idx] = (start, end)
    return results, records


def _clean_join(pieces: Sequence[str]) -> str:
    text = " ".join(pieces).replace(" ##", "").replace("##", "")
    return " ".join(text.strip().split())


def predict_answers(
    squad,
    logits: Mapping[int, tuple[np.ndarray, np.ndarray]],
    *,
    n_best_size: int = N_BEST_SIZE,
    max_answer_length: int = MAX_ANSWER_LENGTH,
    max_examples: Optional[int] = None,
) -> dict[str, str]:
    """The reference's ``write_predictions``: question id → predicted answer text."""
    features = squad.features
    id_to_token = squad.id_to_token
    basic = squad.basic_tokenize
    by_example: dict[int, list[int]] = {}
    for f, e in enumerate(features.example_index.tolist()):
        by_example.setdefault(e, []).append(f)
    predictions: dict[str, str] = {}
    for e, example in enumerate(squad.examples):
        if max_examples is not None and e >= max_examples:
            break
        candidates: list[tuple[float, int, int, int]] = []  # (score, feature, start, end)
        for f in by_example.get(e, ()):
            result = logits.get(f)
            if result is None:
                continue
            start_logits, end_logits = result
            starts = np.asarray(best_indexes(start_logits, n_best_size))
            ends = np.asarray(best_indexes(end_logits, n_best_size))
            n_tokens = int(features.n_tokens[f])
            in_context = features.token_to_orig[f] >= 0
            s = np.repeat(starts, len(ends))  # start-major, as the reference's nested loops
            t = np.tile(ends, len(starts))
            ok = (s < n_tokens) & (t < n_tokens)
            ok &= in_context[s] & in_context[t] & features.max_context[f][s]
            ok &= (t >= s) & (t - s + 1 <= max_answer_length)
            for a, b in zip(s[ok].tolist(), t[ok].tolist()):
                candidates.append((float(start_logits[a]) + float(end_logits[b]), f, a, b))
        candidates.sort(key=lambda c: c[0], reverse=True)  # stable, as sorted(..., reverse=True)
        # The answer is the first n-best entry, i.e. the text of the best candidate: the later
        # entries (distinct texts, up to n_best_size) never change it, so they are not built.
        best: Optional[str] = None
        if candidates and n_best_size > 0:
            _, f, a, b = candidates[0]
            pieces = [id_to_token[i] for i in features.input_ids[f, a : b + 1].tolist()]
            first, last = int(features.token_to_orig[f, a]), int(features.token_to_orig[f, b])
            orig_text = " ".join(example.doc_tokens[first : last + 1])
            best = get_final_text(_clean_join(pieces), orig_text, basic)
        predictions[example.qas_id] = "empty" if best is None else best
    return predictions


@register("squad_f1")
def evaluate_squad(
    log_path: str | os.PathLike,
    squad,
    *,
    output_dtype: str = "float32",
    output_transposed: bool = False,
    output_file: str | os.PathLike | None = None,
    max_examples: Optional[int] = None,
    n_best_size: int = N_BEST_SIZE,
    max_answer_length: int = MAX_ANSWER_LENGTH,
) -> AccuracyResult:
    """EM and F1 of a BERT accuracy log, printing what ``accuracy-squad.py`` prints.

    Args:
        log_path: ``mlperf_log_accuracy.json`` (complete, not truncated).
        squad: the data set (see the module docstring), e.g.
            ``edgeperf.datasets.squad.SquadDataset(root)`` — its features must be the ones the
            run used (same vocabulary and settings), since qsl_idx indexes them.
        output_dtype, output_transposed: how the records encode the logits (the reference's
            ``--output_dtype``, ``--output_transposed``).
        output_file: also write the predictions JSON there.
        max_examples: score only the first N questions.

    Returns an :class:`AccuracyResult`, metric ``"squad_f1"``, value = F1 (percent), with
    ``details`` ``exact_match``, ``f1``, ``questions``, ``predicted``, ``features_with_logits``,
    ``records``.
    """
    features = squad.features
    lines = ["Reading examples..."]
    lines.append("Loading LoadGen logs...")
    logits, records = read_logits(
        log_path,
        len(features),
        dtype=output_dtype,
        transposed=output_transposed,
        max_seq_length=int(features.input_ids.shape[1]),
    )
    predictions = predict_answers(
        squad, logits, n_best_size=n_best_size, max_answer_length=max_answer_length, max_examples=max_examples
    )
    if output_file is not None:
        lines.append(f"Writing predictions to: {os.fspath(output_file)}")
        atomic_write(output_file, (json.dumps(predictions, indent=4) + "\n").encode("utf-8"))
    lines.append("Evaluating predictions...")
    scores = squad_v11_scores(
        squad.document, predictions, max_questions=max_examples, path=getattr(squad, "json_path", None)
    )
    official = json.dumps(scores)
    lines.append(official)
    questions = len(squad.examples) if max_examples is None else min(max_examples, len(squad.examples))
    notes = []
    version = squad.document.get("version") if isinstance(squad.document, dict) else None
    if version != "1.1":
        notes.append(f"Evaluation expects v-1.1, but got dataset with v-{version}")  # stderr in the reference
    return AccuracyResult(
        metric="squad_f1",
        value=float(scores["f1"]),
        exact=float(scores["f1"]),
        official_line=official,
        lines=lines,
        details={
            "exact_match": scores["exact_match"],
            "f1": scores["f1"],
            "questions": questions,
            "predicted": len(predictions),
            "features_with_logits": len(logits),
            "records": records,
        },
        notes=notes,
    )
