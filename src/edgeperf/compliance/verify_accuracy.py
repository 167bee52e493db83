"""TEST01 accuracy verification: ``verify_accuracy.txt``, the baseline fallback, and a diff report.

The official check (spec submission.md §6.1, ``verify_accuracy.py`` in its default JSON mode)
compares the responses a performance-mode run logged for its sampled samples with the responses
of the submission's accuracy run, by ``qsl_idx``:

* the accuracy log's records make a map qsl_idx → data; repeated qsl_idx are counted
  (``num_acc_log_duplicate_keys``) and so are repeats with different data
  (``num_acc_log_data_mismatch``); the first record of a qsl_idx is kept;
* each performance-log record is decoded with ``--dtype`` (``byte`` = int8 by default, or
  float32, int32, int64); if its qsl_idx is in the map (``num_perf_log_qsl_idx_match``) the two
  arrays are compared — by size when either is empty, otherwise **only their first element** —
  and a difference counts in ``num_perf_log_data_mismatch``; else it counts in
  ``num_missing_qsl_idxs``. Either way the map entry is then replaced by the performance record
  (so a qsl_idx sampled twice is compared the second time with its first performance record);
* ``TEST FAIL`` if ``num_perf_log_data_mismatch > 0``, else ``TEST PASS`` (v1.1), each followed
  by an empty line.

The logs are streamed (never loaded whole): the performance log is read twice and the accuracy
log once, keeping the accuracy-mode bytes of the sampled samples only.

On top of the official counts, :class:`AccuracyVerification` lists every sampled response whose
bytes differ at all from the accuracy run's (the official element-0 test misses differences
further in), with the first differing byte, how many bytes differ and, when the benchmark's
response dtype is known, the largest absolute difference: :meth:`AccuracyVerification.report_lines`.

When responses differ (a non-deterministic SUT), the official procedure (TEST01 README, part III)
scores both sides with the benchmark's accuracy script: the accuracy-run records of the sampled
qsl_idx ("baseline", :func:`baseline_records`) and the performance-run records. Their outputs
become ``baseline_accuracy.txt`` and ``compliance_accuracy.txt``, and ``verify_accuracy.txt`` gets
five more lines: TEST PASS if the compliance score is at least 99 % (99.9 % for ``-99.9``
benchmarks) of the baseline's. The official ``verify_accuracy_baseline.py`` handles bert only;
edgeperf applies the same rule and lines to every benchmark (:func:`compare_with_baseline`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from .._atomic import atomic_write
from ..loadgen.logs.accuracy import AccuracyLog, iter_accuracy_log
from ..loadgen.logs.readers import LogFormatError, TruncatedLogError
from ..errors import UsageError

__all__ = [
    "OFFICIAL_DTYPES",
    "RESPONSE_DTYPES",
    "COUNTERS",
    "SampleDifference",
    "AccuracyVerification",
    "BaselineComparison",
    "verify_test01_accuracy",
    "baseline_records",
    "write_baseline_log",
    "compare_with_baseline",
    "response_dtype",
    "default_dtype",
]

#: ``--dtype`` choices of the official script.
OFFICIAL_DTYPES = {"byte": np.int8, "float32": np.float32, "int32": np.int32, "int64": np.int64}

#: The element type of each benchmark family's response bytes (spec benchmarks.md), for the report.
RESPONSE_DTYPES = {
    "resnet50": "float32",
    "ssd-mobilenet": "float32",
    "ssd-resnet34": "float32",
    "bert": "float32",
    "dlrm": "float32",
    "rnnt": "int64",
    "3d-unet": "float16",
}

#: The counters of ``verify_accuracy.txt``, in the order printed.
COUNTERS = (
    "num_acc_log_entries",
    "num_acc_log_duplicate_keys",
    "num_acc_log_data_mismatch",
    "num_perf_log_entries",
    "num_perf_log_qsl_idx_match",
    "num_perf_log_data_mismatch",
    "num_missing_qsl_idxs",
)

#: Keep the accuracy-mode bytes of sampled samples up to this total for the byte-level report;
#: beyond it only a digest is kept (the report then says "differs" without offsets).
DETAIL_BUDGET_BYTES = 512 << 20

_HEADER = [
    "Verifying accuracy. This might take a while...",
    "Reading accuracy mode results...",
    "Reading performance mode results...",
]


def default_dtype(benchmark: str | None) -> str:
    """The official ``--dtype`` that decodes a benchmark's responses, ``byte`` if none fits."""
    name = response_dtype(benchmark)
    return name if name in OFFICIAL_DTYPES else "byte"


def response_dtype(benchmark: str | None) -> str | None:
    """The response element type of a benchmark (``resnet50`` → ``float32``), None if unknown."""
    if not benchmark:
        return None
    from .audit import benchmark_family

    try:
        return RESPONSE_DTYPES.get(benchmark_family(benchmark))
    except KeyError:
        return None


@dataclass
class SampleDifference:
    """One sampled response whose bytes differ from the accuracy run's for the same qsl_idx.

    ``first_byte`` is the first differing byte offset (the shorter length when one is a prefix of
    the other); ``bytes_differing`` counts differing bytes over the common length; with a known
    element dtype, ``first_element`` / ``performance_value`` / ``accuracy_value`` name the first
    differing element and ``max_abs_diff`` the largest absolute difference (same sizes only).
    ``official`` says whether the official element-0 check counted it. ``detailed`` is False when
    only digests were kept (very large responses), so the offsets are unknown.
    """

    seq_id: int
    qsl_idx: int
    performance_bytes: int
    accuracy_bytes: int
    first_byte: int | None = None
    bytes_differing: int | None = None
    dtype: str | None = None
    first_element: int | None = None
    performance_value: Any = None
    accuracy_value: Any = None
    max_abs_diff: float | None = None
    official: bool = False
    detailed: bool = True
    repeat: bool = False  # the qsl_idx was sampled before in this log (the official check compares with that)


@dataclass
class BaselineComparison:
    """The part III fallback: accuracy of the sampled samples in both runs."""

    baseline_lines: list[str]
    compliance_lines: list[str]
    baseline_score: str
    compliance_score: str
    match_percent: float
    threshold_percent: str
    passed: bool
    notes: list[str] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        """What ``verify_accuracy_baseline.py`` appends to ``verify_accuracy.txt``."""
        return [
            "Verifying accuracy via baseline comparison...",
            f"baseline accuracy: {self.baseline_score} (100.00%)",
            f"compliance accuracy: {self.compliance_score} ({self.match_percent:.2f}%)",
            f"threshold accuracy: {float(self.threshold_percent)}%",
            "TEST PASS" if self.passed else "TEST FAIL",
        ]


@dataclass
class AccuracyVerification:
    """The outcome of TEST01's accuracy check.

    ``lines`` is ``verify_accuracy.txt`` line by line (the official counts and verdict, then the
    baseline lines if a baseline comparison was made); ``passed`` is what the checker sees: some
    line contains ``TEST PASS``; ``official_passed`` is the verdict of the counts alone.
    """

    counts: dict[str, int]
    official_passed: bool
    dtype: str
    differences: list[SampleDifference]
    compared: int
    response_dtype: str | None = None
    baseline: BaselineComparison | None = None
    reference_path: str | None = None
    test_path: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        out = list(_HEADER)
        out += [f"{name} = {self.counts[name]}" for name in COUNTERS]
        out += ["TEST PASS" if self.official_passed else "TEST FAIL", ""]
        if self.baseline is not None:
            out += self.baseline.lines
        return out

    @property
    def passed(self) -> bool:
        return any("TEST PASS" in line for line in self.lines)

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)

    def write(self, path: str | os.PathLike) -> Path:
        """Write ``verify_accuracy.txt`` (atomically) and return its path."""
        return atomic_write(path, self.text)

    def report_lines(self, limit: int = 20) -> list[str]:
        """A readable account of what differed and by how much (not part of the official file)."""
        c = self.counts
        n_diff = len(self.differences)
        verdict = "PASS" if self.passed else "FAIL"
        lines = [
            f"TEST01 accuracy {verdict}: {c['num_perf_log_entries']} sampled responses, {self.compared} with an "
            f"accuracy-mode response for the same qsl_idx; {n_diff} {'differs in its' if n_diff == 1 else 'differ in their'} bytes "
            f"(num_perf_log_data_mismatch = {c['num_perf_log_data_mismatch']}: the official check decodes the data "
            f"as {self.dtype} and compares only the first element)."
        ]
        if c["num_missing_qsl_idxs"]:
            lines.append(f"  {c['num_missing_qsl_idxs']} sampled responses have a qsl_idx that the accuracy log lacks.")
        if c["num_acc_log_duplicate_keys"]:
            lines.append(
                f"  The accuracy log repeats {c['num_acc_log_duplicate_keys']} qsl_idx "
                f"({c['num_acc_log_data_mismatch']} with different data); the first record of each counts."
            )
        if c["num_perf_log_entries"] == 0:
            lines.append(
                "  The performance run logged no responses, so nothing was compared (did TEST01's audit.config apply?)."
            )
        if n_diff:
            repeats = sum(1 for d in self.differences if not d.official and d.repeat)
            equal_first = sum(1 for d in self.differences if not d.official and not d.repeat)
            if repeats or equal_first:
                parts = []
                if equal_first:
                    parts.append(f"{equal_first} with an equal first element")
                if repeats:
                    parts.append(f"{repeats} repeating a qsl_idx sampled earlier (compared with that earlier response)")
                lines.append(f"  Not counted by the official check: {'; '.join(parts)}.")
            unit = f" ({self.response_dtype})" if self.response_dtype else ""
            lines.append(
                f"  {'seq_id':>8} {'qsl_idx':>8} {'bytes perf/acc':>15} {'1st diff byte':>13} "
                f"{'bytes differing':>15} {'max |diff|' + unit:>20}  first differing element: perf vs acc"
            )
            for d in self.differences[:limit]:
                lines.append(_difference_row(d))
            if n_diff > limit:
                lines.append(f"  … and {n_diff - limit} more differing responses.")
        if self.baseline is not None:
            b = self.baseline
            lines.append(
                f"  Baseline comparison: accuracy {b.compliance_score} on the performance-run responses vs "
                f"{b.baseline_score} on the accuracy-run responses of the same samples = {b.match_percent:.2f}% "
                f"(needs {float(b.threshold_percent)}%): {'PASS' if b.passed else 'FAIL'}."
            )
            lines += [f"  {note}" for note in b.notes]
        elif not self.official_passed:
            lines.append(
                "  Give the benchmark and its dataset to compare the accuracy of both sets of responses "
                "(the official fallback for non-deterministic systems)."
            )
        lines += [f"  {note}" for note in self.notes]
        return lines


def _show(value: Any) -> str:
    return f"{value:.8g}" if isinstance(value, float) else repr(value)


def _difference_row(d: SampleDifference) -> str:
    sizes = f"{d.performance_bytes}/{d.accuracy_bytes}"
    if not d.detailed:
        return f"  {d.seq_id:>8} {d.qsl_idx:>8} {sizes:>15} {'?':>13} {'?':>15} {'?':>20}  (too large to keep; digests differ)"
    first = "-" if d.first_byte is None else str(d.first_byte)
    count = "-" if d.bytes_differing is None else str(d.bytes_differing)
    biggest = "-" if d.max_abs_diff is None else f"{d.max_abs_diff:.6g}"
    element = ""
    if d.first_element is not None:
        element = f"[{d.first_element}] {_show(d.performance_value)} vs {_show(d.accuracy_value)}"
    elif d.performance_bytes != d.accuracy_bytes:
        element = "sizes differ"
    return f"  {d.seq_id:>8} {d.qsl_idx:>8} {sizes:>15} {first:>13} {count:>15} {biggest:>20}  {element}"


# ------------------------------------------------------------------------------------- reading


def _records(path: str) -> Iterator[tuple[int, int, str]]:
    """Records of a complete log; a truncated one is refused with a clear message."""
    try:
        yield from iter_accuracy_log(path)
    except TruncatedLogError as exc:
        raise TruncatedLogError(
            path,
            exc.where,
            "this accuracy log was truncated for publication (truncate_accuracy_log.py); TEST01 needs the "
            "complete log of the run",
        ) from None


def _decode(hex_text: str, path: str, seq_id: int, qsl_idx: int) -> bytes:
    try:
        return bytes.fromhex(hex_text)
    except ValueError:
        raise LogFormatError(
            path, f"seq_id {seq_id} (qsl_idx {qsl_idx})", "data is not an even number of hex digits"
        ) from None


def _element_count(nbytes: int, dtype, path: str, seq_id: int, qsl_idx: int) -> int:
    """How many ``dtype`` elements the official ``np.frombuffer`` sees (it refuses a partial one)."""
    size = np.dtype(dtype).itemsize
    if nbytes % size:
        raise LogFormatError(
            path,
            f"seq_id {seq_id} (qsl_idx {qsl_idx})",
            f"{nbytes} data bytes are not a whole number of {np.dtype(dtype).name} values "
            f"(the official script would stop here); choose another dtype, e.g. byte",
        )
    return nbytes // size


@dataclass
class _Ref:
    """What is kept of the accuracy-mode record of a sampled qsl_idx."""

    seq_id: int
    size: int
    digest: bytes
    head: bytes  # the first 8 bytes: element 0 in any official dtype
    data: bytes | None  # None beyond the detail budget


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def verify_test01_accuracy(
    reference_log: str | os.PathLike,
    test_log: str | os.PathLike,
    *,
    dtype: str = "byte",
    benchmark: str | None = None,
    response_dtype_name: str | None = None,
) -> AccuracyVerification:
    """Compare a TEST01 performance run's accuracy log with the submission's accuracy-run log.

    ``reference_log`` is ``results/.../accuracy/mlperf_log_accuracy.json``, ``test_log`` the
    compliance run's. ``dtype`` is the official ``--dtype``; ``benchmark`` (or
    ``response_dtype_name``) gives the element type for the report's value differences.
    Raises :class:`~edgeperf.loadgen.logs.readers.LogFormatError` for a malformed or truncated log.
    """
    if dtype not in OFFICIAL_DTYPES:
        raise UsageError(f"dtype must be one of {', '.join(OFFICIAL_DTYPES)}, not {dtype!r}")
    official_dtype = OFFICIAL_DTYPES[dtype]
    itemsize = np.dtype(official_dtype).itemsize
    ref_path, test_path = os.fspath(reference_log), os.fspath(test_log)
    elem_name = response_dtype_name or response_dtype(benchmark)
    elem = np.dtype(elem_name).newbyteorder("<") if elem_name else None

    # Pass 1: which qsl_idx were sampled.
    sampled = {q for _, q, _ in _records(test_path)}

    # Pass 2: the accuracy log.
    counts = dict.fromkeys(COUNTERS, 0)
    first_digest: dict[int, bytes] = {}  # every qsl_idx: digest of its first record's text
    refs: dict[int, _Ref] = {}
    kept = 0
    for seq_id, qsl_idx, hex_text in _records(ref_path):
        counts["num_acc_log_entries"] += 1
        text_digest = _digest(hex_text.encode("ascii", "replace"))
        if qsl_idx in first_digest:
            counts["num_acc_log_duplicate_keys"] += 1
            if first_digest[qsl_idx] != text_digest:
                counts["num_acc_log_data_mismatch"] += 1
            continue
        first_digest[qsl_idx] = text_digest
        if qsl_idx in sampled:
            data = _decode(hex_text, ref_path, seq_id, qsl_idx)
            keep = kept + len(data) <= DETAIL_BUDGET_BYTES
            kept += len(data) if keep else 0
            refs[qsl_idx] = _Ref(seq_id, len(data), _digest(data), data[:8], data if keep else None)
    del first_digest

    # Pass 3: the performance log, with the official map semantics.
    # current[qsl] = (size, first element source): the accuracy record until a performance record replaces it.
    current: dict[int, tuple[int, Any]] = {}
    differences: list[SampleDifference] = []
    compared = 0
    notes: list[str] = []
    for seq_id, qsl_idx, hex_text in _records(test_path):
        counts["num_perf_log_entries"] += 1
        data = _decode(hex_text, test_path, seq_id, qsl_idx)
        size = _element_count(len(data), official_dtype, test_path, seq_id, qsl_idx)
        first = np.frombuffer(data[:itemsize], official_dtype)[0] if size else None
        official_mismatch = False
        repeat = qsl_idx in current  # sampled before in this log: the official check compares with that
        if repeat or qsl_idx in refs:
            counts["num_perf_log_qsl_idx_match"] += 1
            if repeat:
                other_size, other_first = current[qsl_idx]
            else:
                ref = refs[qsl_idx]
                other_size = _element_count(ref.size, official_dtype, ref_path, ref.seq_id, qsl_idx)
                other_first = np.frombuffer(ref.head[:itemsize], official_dtype)[0] if other_size else None
            if size == 0 or other_size == 0:
                official_mismatch = size != other_size
            else:
                official_mismatch = bool(first != other_first)
            if official_mismatch:
                counts["num_perf_log_data_mismatch"] += 1
        else:
            counts["num_missing_qsl_idxs"] += 1
        current[qsl_idx] = (size, first)

        ref = refs.get(qsl_idx)
        if ref is not None:
            compared += 1
            if ref.size != len(data) or ref.digest != _digest(data):
                diff = _describe(seq_id, qsl_idx, data, ref, elem, official_mismatch)
                diff.repeat = repeat
                differences.append(diff)
            elif official_mismatch and repeat:
                notes.append(
                    f"seq_id {seq_id} (qsl_idx {qsl_idx}): identical to the accuracy run, yet the official "
                    f"check counts a mismatch: it compares with an earlier, different response for this qsl_idx."
                )
            elif official_mismatch:
                notes.append(
                    f"seq_id {seq_id} (qsl_idx {qsl_idx}): identical bytes, yet the official check counts a "
                    f"mismatch (its first {dtype} element is NaN, which never equals itself)."
                )

    official_passed = counts["num_perf_log_data_mismatch"] == 0
    return AccuracyVerification(
        counts=counts,
        official_passed=official_passed,
        dtype=dtype,
        differences=differences,
        compared=compared,
        response_dtype=elem.name if elem is not None else None,
        reference_path=ref_path,
        test_path=test_path,
        notes=notes,
    )


def _describe(seq_id: int, qsl_idx: int, data: bytes, ref: _Ref, elem, official: bool) -> SampleDifference:
    d = SampleDifference(
        seq_id=seq_id, qsl_idx=qsl_idx, performance_bytes=len(data), accuracy_bytes=ref.size, official=official
    )
    if ref.data is None:
        d.detailed = False
        return d
    a = np.frombuffer(data, np.uint8)
    b = np.frombuffer(ref.data, np.uint8)
    n = min(len(a), len(b))
    neq = np.flatnonzero(a[:n] != b[:n])
    d.bytes_differing = int(len(neq))
    d.first_byte = int(neq[0]) if len(neq) else n
    if elem is not None and len(data) == ref.size and len(data) % elem.itemsize == 0 and len(data):
        x = np.frombuffer(data, elem)
        y = np.frombuffer(ref.data, elem)
        per_element = np.any(a.reshape(len(x), -1) != b.reshape(len(y), -1), axis=1)
        diff_at = np.flatnonzero(per_element)
        d.dtype = elem.name
        if len(diff_at):
            i = int(diff_at[0])
            d.first_element = i
            d.performance_value = x[i].item()
            d.accuracy_value = y[i].item()
        with np.errstate(all="ignore"):
            delta = np.abs(x.astype(np.float64) - y.astype(np.float64))
        finite = delta[np.isfinite(delta)]
        d.max_abs_diff = float(finite.max()) if len(finite) else float("nan")
    return d


# ------------------------------------------------------------------------------------- baseline


def baseline_records(reference_log: str | os.PathLike, test_log: str | os.PathLike) -> list[tuple[int, int, str]]:
    """The accuracy-run records of the sampled qsl_idx, as ``create_accuracy_baseline.py`` picks them.

    For every qsl_idx of the performance log in sorted order (a qsl_idx sampled twice appears
    twice), every accuracy-run record with that qsl_idx, in file order. Returns
    ``(seq_id, qsl_idx, data_hex)`` tuples.
    """
    ref_path, test_path = os.fspath(reference_log), os.fspath(test_log)
    wanted = Counter(q for _, q, _ in _records(test_path))
    found: dict[int, list[tuple[int, int, str]]] = {}
    for rec in _records(ref_path):
        if rec[1] in wanted:
            found.setdefault(rec[1], []).append(rec)
    out: list[tuple[int, int, str]] = []
    for qsl_idx in sorted(wanted):
        out += found.get(qsl_idx, []) * wanted[qsl_idx]
    return out


def write_baseline_log(records: list[tuple[int, int, str]], path: str | os.PathLike) -> Path:
    """Write baseline records as an accuracy log (edgeperf's layout, which every evaluator reads)."""
    with AccuracyLog(path) as log:
        for seq_id, qsl_idx, hex_text in records:
            log.append(seq_id, qsl_idx, bytes.fromhex(hex_text))
    return Path(path)


def _score_text(result) -> str:
    """The score as the baseline lines print it: the f1 text for SQuAD (as the official), else the value."""
    line = getattr(result, "official_line", "") or ""
    if '"f1": ' in line:
        start = line.find('"f1": ') + 6
        return line[start : line.find("}", start)]
    return repr(float(result.value))


def compare_with_baseline(
    reference_log: str | os.PathLike,
    test_log: str | os.PathLike,
    evaluate: Callable[[Path], Any],
    fraction: float,
) -> BaselineComparison:
    """Score the baseline and the performance-run responses with ``evaluate`` and compare them.

    ``evaluate(log_path)`` returns an :class:`~edgeperf.accuracy.base.AccuracyResult`;
    ``fraction`` is the benchmark's quality fraction (0.99 or 0.999), giving the 99 % / 99.9 %
    threshold. The match is ``100 × (1 − (baseline − compliance) / baseline)``, passing at or
    above the threshold, as in ``verify_accuracy_baseline.py``.
    """
    threshold = f"{fraction * 100:g}"
    records = baseline_records(reference_log, test_log)
    with tempfile.TemporaryDirectory(prefix="edgeperf-test01-") as tmp:
        baseline_path = write_baseline_log(records, Path(tmp) / "mlperf_log_accuracy_baseline.json")
        baseline = evaluate(baseline_path)
    compliance = evaluate(Path(os.fspath(test_log)))
    b_text, c_text = _score_text(baseline), _score_text(compliance)
    b, c = float(b_text), float(c_text)
    notes = []
    if b == 0:
        match = 100.0 if c >= b else 0.0
        notes.append(
            "The baseline scores 0, so the official ratio is undefined (it would divide by zero); "
            "edgeperf passes when the compliance score is not lower."
        )
    else:
        match = 100.0 * (1 - (b - c) / b)
    return BaselineComparison(
        baseline_lines=list(baseline.lines),
        compliance_lines=list(compliance.lines),
        baseline_score=b_text,
        compliance_score=c_text,
        match_percent=match,
        threshold_percent=threshold,
        passed=not match < float(threshold),
        notes=notes,
    )
