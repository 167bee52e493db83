"""Top-1 accuracy of ResNet50-v1.5 on ImageNet, as ``tools/accuracy-imagenet.py`` computes it.

Spec benchmarks.md §3.d–§3.e. The reference reads ``val_map.txt`` into a list of
``(name, label)`` by line order (no check that the images exist), walks the accuracy log keeping
only the first record of each ``qsl_idx``, decodes each record's bytes with the label dtype
(float32 by default; int32/int64 for harnesses that write integers), takes ``int()`` of the first
value as the prediction and prints::

    accuracy={100*good/total:.3f}%, good={good}, total={total}

With ``verbose`` it also prints ``<image>, expected: <label>, found <prediction>`` for every
mismatch (in log order, before the result line) and ``found and ignored <n> dupes`` after it.

Where the reference crashes with a traceback, edgeperf raises :class:`AccuracyError` naming the
file and the place instead:

* a record with empty data, data whose length is not a multiple of the dtype size, or a
  non-finite float prediction (seq_id and qsl_idx named);
* a ``qsl_idx`` outside ``val_map.txt`` (the reference's IndexError; a negative index, which the
  reference would silently read from the end of the list, is refused too);
* a ``val_map.txt`` line without two fields or with a non-integer label (line number named).
  Blank lines at the very end of ``val_map.txt`` are ignored (they shift no index).

One case is scored instead of refused: a log without any record (the reference divides by zero)
gives ``accuracy=0.000%, good=0, total=0``, preceded by an ``edgeperf:`` note line.
"""

from __future__ import annotations

import math
import os
import struct

from edgeperf.loadgen.logs.accuracy import iter_accuracy_log

from .base import AccuracyError, AccuracyResult, _printed_value, register
from ..errors import UsageError

__all__ = ["evaluate_imagenet", "read_val_map", "DTYPES"]

#: ``--dtype`` choices of the reference script → little-endian struct format.
DTYPES = {"float32": "<f", "int32": "<i", "int64": "<q"}

EMPTY_LOG_NOTE = (
    "edgeperf: the accuracy log has no records; reporting accuracy 0 (the reference script divides by zero here)"
)


def read_val_map(path: str | os.PathLike) -> list[tuple[str, int]]:
    """``val_map.txt`` as ``[(image_name, label), …]`` in line order (spec §3.e).

    Each line is stripped and split on whitespace; the first two fields are the name and the
    integer label. Raises :class:`AccuracyError` naming the line for anything else; trailing
    blank lines are ignored.
    """
    entries: list[tuple[str, int]] = []
    blank_at: int | None = None
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            cols = line.strip().split()
            if not cols:
                if blank_at is None:
                    blank_at = lineno
                continue
            if blank_at is not None:
                raise AccuracyError(
                    path, f"line {blank_at}", "blank line inside the list (it would shift every later sample index)"
                )
            if len(cols) < 2:
                raise AccuracyError(path, f"line {lineno}", f"expected '<image name> <label>', found {line.strip()!r}")
            try:
                label = int(cols[1])
            except ValueError:
                raise AccuracyError(path, f"line {lineno}", f"label {cols[1]!r} is not an integer") from None
            entries.append((cols[0], label))
    return entries


@register("top1")
def evaluate_imagenet(
    log_path: str | os.PathLike,
    val_map_path: str | os.PathLike,
    *,
    dtype: str = "float32",
    verbose: bool = False,
) -> AccuracyResult:
    """Top-1 accuracy of an ImageNet accuracy log, exactly as ``accuracy-imagenet.py`` prints it.

    Args:
        log_path: ``mlperf_log_accuracy.json`` (complete, not truncated).
        val_map_path: the ``val_map.txt`` of the dataset (``<name> <label>`` per line).
        dtype: how each record's bytes encode the predicted label: ``"float32"`` (the reference
            harness), ``"int32"`` or ``"int64"``.
        verbose: also produce the reference's ``--verbose`` lines.

    Returns an :class:`AccuracyResult` with metric ``"top1"``, value in percent and
    ``details`` ``good``, ``total``, ``dupes``, ``records``. Raises :class:`AccuracyError` (see the
    module docstring) or ``LogFormatError`` for a malformed log.
    """
    try:
        fmt = DTYPES[dtype]
    except KeyError:
        raise UsageError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}") from None
    size = struct.calcsize(fmt)
    unpack = struct.Struct(fmt).unpack_from
    is_float = dtype == "float32"

    val_map = read_val_map(val_map_path)
    n_labels = len(val_map)
    log_name = os.fspath(log_path)

    lines: list[str] = []
    seen: set[int] = set()
    good = 0
    records = 0
    for seq_id, qsl_idx, data_hex in iter_accuracy_log(log_path):
        records += 1
        if qsl_idx in seen:
            continue
        seen.add(qsl_idx)
        where = f"seq_id {seq_id} (qsl_idx {qsl_idx})"
        if not 0 <= qsl_idx < n_labels:
            raise AccuracyError(log_name, where, f"qsl_idx is outside {os.fspath(val_map_path)} ({n_labels} images)")
        data = bytes.fromhex(data_hex)
        if not data:
            raise AccuracyError(log_name, where, "empty data: no predicted label")
        if len(data) % size:
            raise AccuracyError(
                log_name, where, f"{len(data)} data bytes are not a whole number of {dtype} values (wrong --dtype?)"
            )
        raw = unpack(data)[0]
        if is_float and not math.isfinite(raw):
            raise AccuracyError(log_name, where, f"predicted label is {raw}")
        found = int(raw)
        name, label = val_map[qsl_idx]
        if found == label:
            good += 1
        elif verbose:
            lines.append(f"{name}, expected: {label}, found {found}")

    total = len(seen)
    notes: list[str] = []
    if total:
        exact = 100.0 * good / total
    else:
        exact = 0.0
        notes.append(EMPTY_LOG_NOTE)
        lines.append(EMPTY_LOG_NOTE)
    official = f"accuracy={exact:.3f}%, good={good}, total={total}"
    lines.append(official)
    dupes = records - total
    if verbose:
        lines.append(f"found and ignored {dupes} dupes")
    return AccuracyResult(
        metric="top1",
        value=_printed_value(official),
        exact=exact,
        official_line=official,
        lines=lines,
        details={"good": good, "total": total, "dupes": dupes, "records": records},
        notes=notes,
    )
