"""Word error rate of RNN-T on LibriSpeech, as the reference ``accuracy_eval.py`` computes it.

Spec benchmarks.md §7.d–§7.e, §1.3. Every record of the accuracy log counts (no de-duplication):
its data is decoded as native integers (``int64`` by default, the ``--output_dtype`` choices of the
reference), each index mapped to its character of the 28-label set (0 space, 1..26 a-z,
27 apostrophe), giving the hypothesis; the reference is the manifest transcript of the record's
``qsl_idx``. Both are split on whitespace; the word-level Levenshtein distances are summed over
all records and divided by the summed reference word counts (a corpus-level WER, not a mean of
per-utterance rates). The script prints::

    Dataset loaded with 4.36 hours. Filtered 1.02 hours. Number of samples: 2513
    Word Error Rate: 7.452253714852645%, accuracy=92.54774628514735%

the first line from the reference QSL it builds to read the manifest, the second with Python's
default float formatting of ``wer * 100`` and ``(1 - wer) * 100`` (that expression, not
``100 - wer * 100``: the last digit can differ, and the real v1.1 line
``accuracy=92.55000112742113%`` is the former). Zero reference words give ``inf%`` and
``-inf%``, as the reference prints.

Where the reference crashes with a traceback, edgeperf raises :class:`AccuracyError` naming the
log and the record: a ``qsl_idx`` outside the manifest, data that is not a whole number of
integers, or an index that is not a label (the blank, 28, or anything else).
"""

from __future__ import annotations

import array
import os
from typing import Iterable, Mapping, Optional, Sequence, Union

from edgeperf.loadgen.logs.accuracy import iter_accuracy_log

from .base import AccuracyError, AccuracyResult, _printed_value, register
from ..errors import UsageError

__all__ = ["LABELS", "OUTPUT_DTYPES", "evaluate_wer", "word_error_rate", "levenshtein", "decode_labels", "wer_line"]

#: The 28 labels of ``rnnt.toml`` (index 0 space, 1..26 a-z, 27 apostrophe); no blank.
LABELS: tuple[str, ...] = (" ",) + tuple("abcdefghijklmnopqrstuvwxyz") + ("'",)

#: ``--output_dtype`` choices of the reference → ``array`` type code (native byte order). The
#: reference maps "int32" to ``'l'``, a C long: 8 bytes on 64-bit Linux, so it cannot decode a log
#: of real 4-byte indices. edgeperf deliberately reads "int32" as 4 bytes (``'i'``).
OUTPUT_DTYPES = {"int8": "b", "int16": "h", "int32": "i", "int64": "q"}

References = Union[str, os.PathLike, Sequence[Union[str, Sequence[int]]], Mapping[int, Union[str, Sequence[int]]]]


def levenshtein(a: Sequence, b: Sequence) -> int:
    """Edit distance between two sequences (insertion, deletion, substitution each cost 1)."""
    if len(a) > len(b):
        a, b = b, a
    previous = list(range(len(a) + 1))
    for i, item_b in enumerate(b, 1):
        current = [i] + [0] * len(a)
        for j, item_a in enumerate(a, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (item_a != item_b))
        previous = current
    return previous[-1]


def word_error_rate(hypotheses: Sequence[str], references: Sequence[str]) -> tuple[float, int, int]:
    """``(wer, word errors, reference words)`` over all pairs; ``wer`` is ``inf`` without reference words."""
    if len(hypotheses) != len(references):
        raise UsageError(f"{len(hypotheses)} hypotheses but {len(references)} references")
    errors = words = 0
    for hyp, ref in zip(hypotheses, references):
        ref_words = ref.split()
        words += len(ref_words)
        errors += levenshtein(hyp.split(), ref_words)
    return (errors / words if words else float("inf")), errors, words


def wer_line(wer: float) -> str:
    """The official line for ``wer`` (a fraction), with Python's default float formatting."""
    return f"Word Error Rate: {wer * 100}%, accuracy={(1 - wer) * 100}%"


def decode_labels(indices: Iterable[int], labels: Sequence[str] = LABELS) -> str:
    """Label indices → text; ``KeyError`` for an index that is not a label."""
    table = dict(enumerate(labels))
    return "".join(table[i] for i in indices)


def _manifest_references(location: Union[str, os.PathLike]) -> tuple[list[str], str]:
    """The reference transcripts and QSL line of a dataset folder or manifest file."""
    from ..datasets.librispeech import find_manifest, read_manifest

    manifest_path, data_dir = find_manifest(location)
    manifest = read_manifest(manifest_path, data_dir)
    return [e.transcript for e in manifest.entries], manifest.summary_line()


@register("wer")
def evaluate_wer(
    log_path: Union[str, os.PathLike],
    references: References,
    *,
    output_dtype: str = "int64",
    labels: Sequence[str] = LABELS,
    preamble: Optional[Sequence[str]] = None,
) -> AccuracyResult:
    """Score an RNN-T accuracy log exactly as ``accuracy_eval.py`` does.

    Args:
        log_path: ``mlperf_log_accuracy.json``.
        references: the LibriSpeech dataset folder or manifest file (its transcripts are read and
            normalised as the reference does, and its QSL line becomes the preamble), or the
            reference transcripts themselves by QSL index: strings, or label-index lists.
        output_dtype: how the data encodes indices (``int64``, the reference SUT's; or ``int8``,
            ``int16``, ``int32`` as the reference's ``--output_dtype``; ``int32`` is 4 bytes here,
            where the reference reads a C long, see :data:`OUTPUT_DTYPES`).
        labels: the label set (index → character).
        preamble: lines printed before the WER line (default: the QSL line when ``references``
            is a path, else none).

    Returns an :class:`AccuracyResult` with metric ``"wer"`` whose ``value`` is the accuracy,
    ``(1 - wer) * 100``, and ``details`` ``wer``, ``errors``, ``words``, ``records``.
    """
    try:
        code = OUTPUT_DTYPES[output_dtype]
    except KeyError:
        raise UsageError(f"output_dtype must be one of {', '.join(OUTPUT_DTYPES)}, not {output_dtype!r}") from None
    itemsize = array.array(code).itemsize
    if isinstance(references, (str, os.PathLike)):
        ref_texts, qsl_line = _manifest_references(references)
        refs: Mapping[int, str] | Sequence[str] = ref_texts
        if preamble is None:
            preamble = [qsl_line]
    else:
        refs = references
    preamble = list(preamble or ())
    n_refs = len(refs)
    log_name = os.fspath(log_path)

    hypotheses: list[str] = []
    ref_strings: list[str] = []
    for seq_id, qsl_idx, data_hex in iter_accuracy_log(log_path):
        where = f"seq_id {seq_id} (qsl_idx {qsl_idx})"
        if isinstance(refs, Mapping):
            if qsl_idx not in refs:
                raise AccuracyError(log_name, where, "qsl_idx has no reference transcript")
            ref = refs[qsl_idx]
        else:
            if not 0 <= qsl_idx < n_refs:
                raise AccuracyError(
                    log_name, where, f"qsl_idx is outside the manifest ({n_refs} utterances of at most 15 s)"
                )
            ref = refs[qsl_idx]
        data = bytes.fromhex(data_hex)
        if len(data) % itemsize:
            raise AccuracyError(
                log_name,
                where,
                f"{len(data)} data bytes are not a whole number of {output_dtype} values ({itemsize} bytes each)",
            )
        values = array.array(code, data).tolist()
        try:
            hypotheses.append(decode_labels(values, labels))
        except KeyError as e:
            raise AccuracyError(
                log_name,
                where,
                f"label index {e.args[0]} is not one of the {len(labels)} labels "
                f"(0..{len(labels) - 1}; the blank {len(labels)} is never emitted)",
            ) from None
        ref_strings.append(ref if isinstance(ref, str) else decode_labels(ref, labels))

    wer, errors, words = word_error_rate(hypotheses, ref_strings)
    official = wer_line(wer)
    exact = (1 - wer) * 100
    return AccuracyResult(
        metric="wer",
        value=_printed_value(official),
        exact=exact,
        official_line=official,
        lines=preamble + [official],
        details={"wer": wer, "errors": errors, "words": words, "records": len(hypotheses)},
    )
