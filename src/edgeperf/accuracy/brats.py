"""Mean DICE of 3D-UNet on BraTS 2019, as ``accuracy-brats.py`` computes it (spec benchmarks.md §6.d-e).

For each record of the accuracy log (one per case; ``qsl_idx`` = position in
``preprocessed_files.pkl``): decode the bytes with the output dtype (float16 by default), shape
them as the case's padded volume ``[4, z, y, x]`` (``[4, 224, 224, 160]``), cast to float16, cut
the padding off with the case's ``size_after_cropping`` (``before = (padded − size) // 2``), take
the argmax over the four channels (first maximum wins, NaN counts as the maximum, as numpy's
argmax) and put it back at the case's ``crop_bbox`` in a background volume of the original size.
Against the nnU-Net labels (``labelsTr/<case>.nii.gz``, read with nibabel and transposed to the
(z, y, x) order of the preprocessed data), per case and region — **whole tumor** labels {1, 2, 3},
**tumor core** {2, 3}, **enhancing tumor** {3} — DICE is ``2|P∩G| / (|P| + |G|)``, NaN when both
are empty, 0 when only the ground truth is. The ``mean`` row of the reference's ``summary.csv`` is
the NaN-ignoring mean over cases (cases in file-name order), each written with 4 decimals; the
script reads those rounded values back and prints::

    Accuracy: mean = {(whole + core + enhancing) / 3:.5f}, whole tumor = {whole:.4f}, tumor core = {core:.4f}, enhancing tumor = {enhancing:.4f}

The reference also writes each prediction as NIfTI and prints ``Done!`` after the line; edgeperf
scores in memory (no NIfTI is written) and returns the official line as the last line, which is
the only one the submission checker reads. ``summary_csv=`` writes the reference's summary.csv.

**Streaming.** One response is 64 MB (128 MB of hex), a full log 8.6 GB. The log is read in 4 MiB
chunks; each record's hex is decoded slice by slice straight into one preallocated buffer of the
record's size, so the hex text of a record is never held whole, and only one record is in memory
at a time. The case's properties are read (skipping the 128 MB volume inside its pickle) before
its data is decoded. Peak memory is about one decoded response plus the case's label volume.

Where the reference would stop with an assertion or a traceback, :class:`AccuracyError` names the
file and the record: a ``qsl_idx`` outside the case list, a record whose size does not fit the
case's volume (wrong ``output_dtype``?), a missing label file or one of another size, an empty
log. A log with fewer records than cases (``--max-samples``) scores the cases it has, and a
repeated ``qsl_idx`` (a MultiStream accuracy run pads its queries) keeps the first record; both
are recorded in ``notes``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

import numpy as np

from edgeperf.loadgen.logs.accuracy import iter_decoded_records
from edgeperf.loadgen.logs.readers import TruncatedLogError

from ..datasets.pickles import load_pickle
from .base import AccuracyError, AccuracyResult, register
from ..errors import UsageError

__all__ = [
    "evaluate_brats",
    "CaseInfo",
    "read_case_info",
    "segment",
    "case_dice",
    "format_accuracy_line",
    "REGIONS",
    "OUTPUT_DTYPES",
]

#: Region name → nnU-Net labels it is made of (BraTS: {1,2,4}, {1,4}, {4}).
REGIONS = {"whole tumor": (1, 2, 3), "tumor core": (2, 3), "enhancing tumor": (3,)}
#: ``--output_dtype`` choices of the reference script.
OUTPUT_DTYPES = ("int8", "int16", "int32", "int64", "float16", "float32", "float64")
_SKIP_OVER = 1 << 20  # pickle payloads larger than this are skipped when reading properties
_CASE_LIST = "preprocessed_files.pkl"
_TRUNCATED = 'the log was truncated ("..." inside it); 3D-UNet needs the complete accuracy log'
_LABELS_SUBDIR = Path("raw_data", "nnUNet_raw_data", "Task043_BraTS2019", "labelsTr")


# ------------------------------------------------------------------- case metadata (pickles)


def _load_metadata(path: Path, what: str) -> Any:
    try:
        return load_pickle(path, skip_over=_SKIP_OVER)
    except FileNotFoundError:
        raise AccuracyError(path, "", f"{what} does not exist") from None
    except OSError as e:
        raise AccuracyError(path, "", f"cannot read {what}: {e.strerror or e}") from None
    except Exception as e:  # UnpicklingError, EOFError, ValueError, ... from a bad file
        raise AccuracyError(path, "", f"{what} is not a readable pickle ({type(e).__name__}: {e})") from None


@dataclass(frozen=True)
class CaseInfo:
    """What scoring one case needs from its preprocessed pickle (all (z, y, x))."""

    name: str
    padded_shape: tuple[int, ...]  # (4, z, y, x) of the model input
    size_after_cropping: tuple[int, int, int]
    crop_bbox: tuple[tuple[int, int], ...]
    original_size: tuple[int, int, int]


def _ints(value: Any, n: int) -> tuple[int, ...]:
    flat = np.asarray(value).reshape(-1)
    if flat.size != n:
        raise ValueError(f"expected {n} values, got {flat.size}")
    return tuple(int(v) for v in flat)


def read_case_info(path: str | os.PathLike, name: Optional[str] = None) -> CaseInfo:
    """The :class:`CaseInfo` of one ``<case>.pkl`` (``[data, properties]``), without reading its volume."""
    path = Path(path)
    content = _load_metadata(path, "BraTS case file")
    try:
        data, props = content
        shape = tuple(int(s) for s in data.shape)
        if len(shape) != 4:
            raise ValueError(f"the volume has shape {list(shape)}, expected [4, z, y, x]")
        bbox = _ints(props["crop_bbox"], 6)
        return CaseInfo(
            name=name or path.name[: -len(".pkl")],
            padded_shape=shape,
            size_after_cropping=_ints(props["size_after_cropping"], 3),
            crop_bbox=((bbox[0], bbox[1]), (bbox[2], bbox[3]), (bbox[4], bbox[5])),
            original_size=_ints(props["original_size_of_raw_data"], 3),
        )
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        detail = f"missing property {e}" if isinstance(e, KeyError) else str(e)
        raise AccuracyError(
            path, "", f"not a [data, properties] case file as preprocess.py writes it: {detail}"
        ) from None


def _locate(root: Path, label_dir: Optional[os.PathLike]) -> tuple[Path, Optional[Path]]:
    if (root / _CASE_LIST).is_file():
        pre, candidates = root, [root.parent / _LABELS_SUBDIR, root / "labelsTr", root / _LABELS_SUBDIR]
    elif (root / "preprocessed_data" / _CASE_LIST).is_file():
        pre, candidates = root / "preprocessed_data", [root / _LABELS_SUBDIR, root / "labelsTr"]
    else:
        raise AccuracyError(
            root,
            "",
            f"no {_CASE_LIST} here or in preprocessed_data/ (expected the 3D-UNet reference's preprocessed layout)",
        )
    if label_dir is not None:
        return pre, Path(label_dir)
    return pre, next((c for c in candidates if c.is_dir()), None)


def _case_list(pre: Path) -> list[str]:
    names = _load_metadata(pre / _CASE_LIST, "BraTS case list")
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise AccuracyError(pre / _CASE_LIST, "", "must be a pickled list of case names")
    return list(names)


def _read_labels(path: Path) -> np.ndarray:
    try:
        import nibabel
    except ImportError as e:
        raise AccuracyError(
            path, "", f"reading the labels needs nibabel ({e}); install it with: pip install 'edgeperf[medical]'"
        ) from None
    if not path.is_file():
        raise AccuracyError(
            path, "", "label file does not exist (the nnU-Net labels of the case, labelsTr/<case>.nii.gz)"
        )
    try:
        volume = np.asanyarray(nibabel.load(str(path)).dataobj)
    except Exception as e:
        raise AccuracyError(path, "", f"cannot read the label file: {type(e).__name__}: {e}") from None
    if volume.ndim != 3:
        raise AccuracyError(path, "", f"label volume is {volume.ndim}-D {list(volume.shape)}, expected 3-D")
    return volume.transpose(2, 1, 0)  # nibabel (x, y, z) → SimpleITK (z, y, x)


# ---------------------------------------------------------------------------------- scoring


def segment(logits: np.ndarray, size_after_cropping: Sequence[int], *, slab: int = 8) -> np.ndarray:
    """Labels 0-3 (uint8, ``size_after_cropping``) of padded logits ``[4, z, y, x]``: unpad, then
    argmax over the channels (first maximum wins; NaN wins as in numpy), a few z-planes at a time."""
    padded = logits.shape[1:]
    size = tuple(int(s) for s in size_after_cropping)
    if any(r > p for r, p in zip(size, padded)):
        raise ValueError(f"size after cropping {list(size)} exceeds the padded volume {list(padded)}")
    before = [(p - r) // 2 for p, r in zip(padded, size)]
    view = logits[:, before[0] : before[0] + size[0], before[1] : before[1] + size[1], before[2] : before[2] + size[2]]
    out = np.empty(size, dtype=np.uint8)
    for z in range(0, size[0], slab):
        block = np.asarray(view[:, z : z + slab], dtype=np.float32)  # float16 → float32 is exact
        out[z : z + slab] = np.argmax(block, axis=0)
    return out


def case_dice(prediction: np.ndarray, labels: np.ndarray, crop_bbox: Sequence[Sequence[int]]) -> tuple[float, ...]:
    """DICE of each region in :data:`REGIONS` for one case.

    ``prediction`` holds the labels inside ``crop_bbox`` (background elsewhere), ``labels`` the
    full-size ground truth, both (z, y, x). NaN where prediction and ground truth are both empty.
    """
    region = tuple(slice(int(lo), int(hi)) for lo, hi in crop_bbox)
    inside = labels[region]
    scores = []
    for values in REGIONS.values():
        p = np.isin(prediction, values)
        g_inside = np.isin(inside, values)
        n_g = int(np.count_nonzero(np.isin(labels, values)))
        n_p = int(np.count_nonzero(p))
        if n_p == 0 and n_g == 0:
            scores.append(float("nan"))
            continue
        both = int(np.count_nonzero(p & g_inside))
        scores.append(2.0 * both / float(n_p + n_g))
    return tuple(scores)


def format_accuracy_line(whole: float, core: float, enhancing: float) -> str:
    """The official line from the three region means as summary.csv holds them (4 decimals)."""
    mean = (whole + core + enhancing) / 3
    return (
        f"Accuracy: mean = {mean:.5f}, whole tumor = {whole:.4f}, "
        f"tumor core = {core:.4f}, enhancing tumor = {enhancing:.4f}"
    )


def _nan_stat(fn, values: list[float]) -> float:
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0 or np.all(np.isnan(array)):
        return float("nan")
    return float(fn(array))


def _summary_rows(per_case: dict[str, tuple[float, ...]]) -> list[str]:
    names = sorted(per_case, key=lambda n: n + ".nii.gz")
    rows = ["casename," + ",".join(REGIONS)]
    rows += [name + "".join(f",{v:.4f}" for v in per_case[name]) for name in names]
    columns = [[per_case[n][k] for n in names] for k in range(len(REGIONS))]
    nan_is_1 = [[1.0 if np.isnan(v) else v for v in col] for col in columns]
    for label, fn, cols in (
        ("mean", np.nanmean, columns),
        ("median", np.nanmedian, columns),
        ("mean (nan is 1)", np.mean, nan_is_1),
        ("median (nan is 1)", np.median, nan_is_1),
    ):
        rows.append(label + "".join(f",{_nan_stat(fn, c):.4f}" for c in cols))
    return rows


def _complete_log_records(log_path, before_data, expected) -> Iterator[tuple[int, int, Optional[bytearray]]]:
    """The decoded records of the log; a truncated log is refused: DICE needs every case's output."""
    try:
        yield from iter_decoded_records(log_path, before_data=before_data, expected_nbytes=expected)
    except TruncatedLogError as exc:
        raise TruncatedLogError(exc.path, exc.where, _TRUNCATED) from None


@register("dice")
def evaluate_brats(
    log_path: str | os.PathLike,
    dataset_root: str | os.PathLike,
    *,
    output_dtype: str = "float16",
    label_dir: str | os.PathLike | None = None,
    summary_csv: str | os.PathLike | None = None,
    count: int | None = None,
) -> AccuracyResult:
    """Mean DICE of a 3D-UNet accuracy log, exactly as ``accuracy-brats.py`` prints it.

    Args:
        log_path: ``mlperf_log_accuracy.json`` (complete, not truncated).
        dataset_root: the BraTS data set (``build/`` with ``preprocessed_data/`` and
            ``raw_data/.../labelsTr/``, or the ``preprocessed_data`` folder itself).
        output_dtype: how the responses are encoded (the reference's ``--output_dtype``).
        label_dir: the nnU-Net label folder, if not found from ``dataset_root``.
        summary_csv: also write the reference's ``summary.csv`` here.
        count: only the first ``count`` cases of the list exist for this log (a run with
            ``--max-samples``); a ``qsl_idx`` beyond them is an error.

    Returns an :class:`AccuracyResult` with metric ``"dice"``, ``value`` the printed mean and
    ``details`` with the three region means, ``per_case`` DICE, ``cases``, ``records``, ``dupes``.
    """
    if output_dtype not in OUTPUT_DTYPES:
        raise UsageError(f"output_dtype must be one of {', '.join(OUTPUT_DTYPES)}, not {output_dtype!r}")
    dtype = np.dtype(output_dtype).newbyteorder("<")
    log_name = os.fspath(log_path)
    pre, labels_dir = _locate(Path(dataset_root), label_dir)
    names = _case_list(pre)
    if count is not None:
        if int(count) < 1:
            raise UsageError(f"count must be at least 1, got {count!r}")
        names = names[: int(count)]
    infos: dict[int, CaseInfo] = {}
    per_idx: dict[int, tuple[float, ...]] = {}
    if labels_dir is None:
        raise AccuracyError(
            Path(dataset_root),
            "",
            f"no labels folder (expected {Path(dataset_root) / _LABELS_SUBDIR} or labelsTr/ beside preprocessed_data)",
        )

    def info(qsl_idx: int) -> CaseInfo:
        if qsl_idx not in infos:
            if not 0 <= qsl_idx < len(names):
                raise AccuracyError(
                    log_name,
                    f"qsl_idx {qsl_idx}",
                    f"qsl_idx is outside {pre / _CASE_LIST} ({len(names)} cases{' used' if count is not None else ''})",
                )
            infos[qsl_idx] = read_case_info(pre / f"{names[qsl_idx]}.pkl", names[qsl_idx])
        return infos[qsl_idx]

    current: dict[str, Optional[int]] = {"qsl_idx": None}

    def before_data(qsl_idx: int) -> bool:
        current["qsl_idx"] = qsl_idx
        if qsl_idx in per_idx:
            return False  # a repeated record: its data is passed over undecoded
        info(qsl_idx)
        return True

    def expected() -> Optional[int]:
        q = current["qsl_idx"]
        if q is None or q in per_idx or q not in infos:
            return None
        return int(np.prod(infos[q].padded_shape)) * dtype.itemsize

    records = 0
    for seq_id, qsl_idx, data in _complete_log_records(log_path, before_data, expected):
        records += 1
        current["qsl_idx"] = None
        if qsl_idx in per_idx:
            continue
        case = info(qsl_idx)
        want = int(np.prod(case.padded_shape)) * dtype.itemsize
        if len(data) != want:
            raise AccuracyError(
                log_name,
                f"seq_id {seq_id} (qsl_idx {qsl_idx})",
                f"{len(data)} data bytes; case {case.name} needs {output_dtype} "
                f"{list(case.padded_shape)} = {want} bytes (wrong output dtype?)",
            )
        logits = np.frombuffer(data, dtype=dtype).reshape(case.padded_shape)
        if dtype != np.float16:
            logits = logits.astype(np.float16)
        try:
            prediction = segment(logits, case.size_after_cropping)
        except ValueError as e:
            raise AccuracyError(pre / f"{case.name}.pkl", "", str(e)) from None
        del logits, data
        label_path = labels_dir / f"{case.name}.nii.gz"
        gt = _read_labels(label_path)
        if tuple(gt.shape) != case.original_size:
            raise AccuracyError(
                label_path,
                "",
                f"label volume (z, y, x) is {list(gt.shape)}; the case's original size is {list(case.original_size)}",
            )
        per_idx[qsl_idx] = case_dice(prediction, gt, case.crop_bbox)
        del gt, prediction
    if not per_idx:
        raise AccuracyError(log_name, "", "the accuracy log has no records: nothing to score")

    notes: list[str] = []
    dupes = records - len(per_idx)
    if dupes:
        notes.append(
            f"edgeperf: {dupes} repeated qsl_idx record(s) ignored, the first of each kept "
            "(the reference asserts one record per case)"
        )
    if len(per_idx) != len(names):
        notes.append(
            f"edgeperf: the log has {len(per_idx)} of the {len(names)} cases in {_CASE_LIST}; "
            "scored those (the reference asserts all)"
        )
    per_case = {names[i]: scores for i, scores in per_idx.items()}
    rows = _summary_rows(per_case)
    mean_row = next(r for r in rows if r.startswith("mean,"))
    whole, core, enhancing = (float(v) for v in mean_row.split(",")[1:])
    official = format_accuracy_line(whole, core, enhancing)
    if summary_csv is not None:
        from .._atomic import atomic_write

        atomic_write(summary_csv, "".join(r + "\n" for r in rows))
    exact = (whole + core + enhancing) / 3
    return AccuracyResult(
        metric="dice",
        value=float(official.split("mean = ", 1)[1].split(",", 1)[0]),
        exact=exact,
        official_line=official,
        lines=[official],
        details={
            "whole tumor": whole,
            "tumor core": core,
            "enhancing tumor": enhancing,
            "per_case": per_case,
            "cases": len(per_case),
            "records": records,
            "dupes": dupes,
            "summary_csv": rows,
        },
        notes=notes,
    )
