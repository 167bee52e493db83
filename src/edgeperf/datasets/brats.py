"""BraTS 2019 for 3D-UNet: the reference's preprocessed layout, and preprocessing from raw NIfTI
(spec benchmarks.md §6.a-b, §6.g).

**The layout read** (what the reference ``preprocess.py`` writes)::

    <root>/preprocessed_data/preprocessed_files.pkl   pickled list of case names
    <root>/preprocessed_data/<case>.pkl               pickled [data, properties]
    <root>/raw_data/nnUNet_raw_data/Task043_BraTS2019/labelsTr/<case>.nii.gz   (accuracy only)

``<root>`` may also be the ``preprocessed_data`` folder itself (labels are then looked for in
``../raw_data/...`` and ``labelsTr/`` beside it). **Sample index i is the i-th name in
preprocessed_files.pkl.** ``data`` is float32 ``[4, 224, 224, 160]``: the channels T1, T1ce, T2,
FLAIR (nnU-Net's ``_0000`` … ``_0003``), then the spatial axes in **SimpleITK order (z, y, x)**,
the order the model takes. nibabel reads the same files as (x, y, z); everything here that reads
NIfTI with nibabel transposes to (z, y, x) first.

**Preprocessing** (``preprocess_case``, nnU-Net's ``preprocess_test_case`` with the plans of the
MLPerf model, written from the spec): stack the four modalities → crop to the bounding box of the
voxels non-zero in any modality (holes filled) → NaN to 0 → (no resampling: BraTS is 1 mm
isotropic; another spacing is refused) → per modality, inside the mask, ``(x − mean) /
(std + 1e-8)`` with float32 numpy mean/std, 0 outside → zero-pad every spatial axis to the patch
(224, 224, 160), ``before = (patch − size) // 2``. ``preprocess_brats`` does that for a whole data
set (BraTS download or nnU-Net ``Task043`` folder) and writes the layout above, labels included
(BraTS labels {0,1,2,4} → nnU-Net {0,2,1,3}).

The pickles are read with a restricted unpickler (numpy arrays, numpy scalars, ``OrderedDict`` and
builtin containers only), so a pickle that would run anything else is refused with a
:class:`DatasetError` instead of being executed. NIfTI needs nibabel (the ``medical`` extra),
imported only when a NIfTI file is read or written.
"""

from __future__ import annotations

import collections
import os
import pickle
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np

from .base import DatasetError
from .pickles import load_pickle

__all__ = [
    "BratsDataset",
    "PATCH_SIZE",
    "MODALITIES",
    "NUM_CHANNELS",
    "BRATS_TO_NNUNET",
    "CASE_LIST",
    "LABELS_SUBDIR",
    "read_pickle",
    "write_pickle",
    "read_nifti_zyx",
    "nonzero_mask",
    "bbox_of_mask",
    "crop_to_nonzero",
    "normalize_nonzero",
    "pad_to_patch",
    "unpad",
    "preprocess_case",
    "remap_brats_labels",
    "find_raw_cases",
    "preprocess_brats",
]

PathLike = Union[str, os.PathLike]

#: The padded patch the MLPerf model takes, spatial axes in SimpleITK order (z, y, x).
PATCH_SIZE = (224, 224, 160)
#: BraTS modality file suffixes in channel order (nnU-Net ``_0000`` … ``_0003``).
MODALITIES = ("t1", "t1ce", "t2", "flair")
NUM_CHANNELS = len(MODALITIES)
#: BraTS segmentation labels → nnU-Net labels (Task043 conversion).
BRATS_TO_NNUNET = {0: 0, 1: 2, 2: 1, 4: 3}
#: The ordered case list inside the preprocessed folder.
CASE_LIST = "preprocessed_files.pkl"
#: Where the nnU-Net labels live, relative to the ``build`` folder.
LABELS_SUBDIR = Path("raw_data", "nnUNet_raw_data", "Task043_BraTS2019", "labelsTr")
#: The reference pipeline's normalisation epsilon.
_EPS = 1e-8
_NIFTI_HINT = "pip install 'edgeperf[medical]' (nibabel)"


# ----------------------------------------------------------------------------------- pickles


def read_pickle(path: PathLike, what: str = "pickle") -> Any:
    """Unpickle ``path`` allowing only numpy arrays/scalars and plain containers.

    Raises :class:`DatasetError` naming the file when it is missing, unreadable, or not such a pickle.
    """
    path = Path(path)
    try:
        return load_pickle(path)
    except FileNotFoundError:
        raise DatasetError(f"{what} {path} does not exist", path=path) from None
    except IsADirectoryError:
        raise DatasetError(f"{what} {path} is a directory, not a pickle file", path=path) from None
    except OSError as e:
        raise DatasetError(f"cannot read {what} {path}: {e.strerror or e}", path=path) from None
    except Exception as e:  # UnpicklingError, EOFError, ValueError, ... from a bad file
        raise DatasetError(f"{what} {path} is not a readable pickle ({type(e).__name__}: {e})", path=path) from None


def write_pickle(path: PathLike, obj: Any) -> Path:
    """Pickle ``obj`` to ``path`` atomically (protocol 4, as Python 3.8 writes by default)."""
    from .._atomic import atomic_open

    with atomic_open(path, "wb") as f:
        pickle.dump(obj, f, protocol=4)
    return Path(path)


# ------------------------------------------------------------------------------------ NIfTI


def _nibabel():
    try:
        import nibabel
    except ImportError as e:
        raise DatasetError(
            f"reading BraTS NIfTI files needs nibabel, which is not installed ({e}); install it with: {_NIFTI_HINT}"
        ) from None
    return nibabel


def read_nifti_zyx(path: PathLike) -> tuple[np.ndarray, dict]:
    """One NIfTI volume as SimpleITK's ``GetArrayFromImage`` gives it: axes (z, y, x).

    nibabel returns the stored voxel grid as (x, y, z); this transposes it (a view). The dict has
    the geometry as SimpleITK reports it: ``spacing`` (x, y, z), ``origin`` and ``direction``
    (LPS, row-major 3×3).
    """
    nib = _nibabel()
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"NIfTI file {path} does not exist", path=path)
    try:
        image = nib.load(str(path))
        array = np.asanyarray(image.dataobj)
    except Exception as e:
        raise DatasetError(f"cannot read NIfTI file {path}: {type(e).__name__}: {e}", path=path) from None
    if array.ndim != 3:
        raise DatasetError(
            f"NIfTI file {path} holds a {array.ndim}-D array {list(array.shape)}; expected one 3-D volume", path=path
        )
    affine = np.asarray(image.affine, dtype=np.float64)
    zooms = np.asarray(image.header.get_zooms()[:3], dtype=np.float64)
    flip = np.array([-1.0, -1.0, 1.0])  # RAS (nibabel) → LPS (ITK)
    direction = (affine[:3, :3] / np.where(zooms == 0, 1.0, zooms)) * flip[:, None]
    geometry = {
        "spacing": tuple(float(z) for z in zooms),
        "origin": tuple(float(o) for o in affine[:3, 3] * flip),
        "direction": tuple(float(d) for d in direction.reshape(-1)),
        "affine": affine,
    }
    return array.transpose(2, 1, 0), geometry


def _write_nifti_like(path: Path, volume_zyx: np.ndarray, affine: np.ndarray) -> None:
    nib = _nibabel()
    from .._atomic import atomic_open

    image = nib.Nifti1Image(np.ascontiguousarray(volume_zyx.transpose(2, 1, 0)), affine)
    image.set_data_dtype(volume_zyx.dtype)
    data = image.to_bytes()
    if path.name.endswith(".gz"):
        import gzip

        data = gzip.compress(data, compresslevel=1)
    with atomic_open(path, "wb") as f:
        f.write(data)


# ---------------------------------------------------------------------------- preprocessing


def nonzero_mask(data: np.ndarray) -> np.ndarray:
    """Voxels non-zero in any channel of ``data`` [C, z, y, x], with holes filled (bool [z, y, x])."""
    from scipy.ndimage import binary_fill_holes

    mask = np.any(data != 0, axis=0)
    return binary_fill_holes(mask)


def bbox_of_mask(mask: np.ndarray) -> list[list[int]]:
    """``[[z0, z1], [y0, y1], [x0, x1]]`` (end exclusive) of the True voxels (the whole volume if none)."""
    bbox = []
    for axis in range(mask.ndim):
        others = tuple(a for a in range(mask.ndim) if a != axis)
        hits = np.flatnonzero(np.any(mask, axis=others))
        bbox.append([int(hits[0]), int(hits[-1]) + 1] if hits.size else [0, int(mask.shape[axis])])
    return bbox


def _bbox_slices(bbox: Sequence[Sequence[int]]) -> tuple[slice, ...]:
    return tuple(slice(int(lo), int(hi)) for lo, hi in bbox)


def crop_to_nonzero(data: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[list[int]]]:
    """Crop ``data`` [C, z, y, x] to the non-zero bounding box: (cropped data, cropped mask, bbox)."""
    mask = nonzero_mask(data)
    bbox = bbox_of_mask(mask)
    region = _bbox_slices(bbox)
    return data[(slice(None),) + region], mask[region], bbox


def normalize_nonzero(data: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per channel: ``(x − mean) / (std + 1e-8)`` inside ``mask`` (float32 mean and population std
    over the masked voxels), 0 outside. Returns a new float32 array."""
    out = np.zeros(data.shape, dtype=np.float32)
    for c in range(data.shape[0]):
        channel = np.asarray(data[c], dtype=np.float32)
        values = channel[mask]
        if values.size == 0:
            continue
        mean = values.mean()
        std = values.std()
        out[c][mask] = (values - mean) / (std + np.float32(_EPS))
    return out


def pad_to_patch(data: np.ndarray, patch: Sequence[int]) -> tuple[np.ndarray, tuple[int, ...]]:
    """Zero-pad the spatial axes of ``data`` [C, z, y, x] to ``patch`` (never crops):
    ``before = (patch − size) // 2``, the rest after. Returns the padded array and ``before``."""
    spatial = data.shape[1:]
    target = [max(int(p), int(s)) for p, s in zip(patch, spatial)]
    before = tuple((t - s) // 2 for t, s in zip(target, spatial))
    pads = [(0, 0)] + [(b, t - s - b) for b, t, s in zip(before, target, spatial)]
    return np.pad(data, pads, mode="constant", constant_values=0), before


def unpad(volume: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """The ``size`` (z, y, x) centre of a padded ``volume`` [..., z, y, x] (the inverse of
    :func:`pad_to_patch`; a view)."""
    padded = volume.shape[-3:]
    region = tuple(slice((p - r) // 2, (p - r) // 2 + r) for p, r in zip(padded, size))
    return volume[(Ellipsis,) + region]


def preprocess_case(
    image_files: Sequence[PathLike],
    patch_size: Sequence[int] = PATCH_SIZE,
    *,
    target_spacing: Sequence[float] = (1.0, 1.0, 1.0),
) -> tuple[np.ndarray, dict]:
    """The model input of one case from its four modality files (T1, T1ce, T2, FLAIR):
    float32 [4, *patch_size] (z, y, x) and the properties the accuracy script needs.

    Raises :class:`DatasetError` for a missing or unreadable file, modalities of different
    shapes, a spacing other than ``target_spacing`` (z, y, x; resampling is not implemented:
    BraTS is 1 mm isotropic), or a cropped volume larger than the patch.
    """
    if len(image_files) != NUM_CHANNELS:
        raise DatasetError(
            f"a BraTS case needs {NUM_CHANNELS} modality files ({', '.join(MODALITIES)}), got {len(image_files)}"
        )
    volumes, geometry = [], None
    for path in image_files:
        volume, geo = read_nifti_zyx(path)
        if volumes and volume.shape != volumes[0].shape:
            raise DatasetError(
                f"{path}: volume shape (z, y, x) {list(volume.shape)} differs from {list(volumes[0].shape)} of {image_files[0]}",
                path=path,
            )
        volumes.append(volume)
        geometry = geometry or geo
    data = np.stack([np.asarray(v, dtype=np.float32) for v in volumes])
    del volumes
    spacing_zyx = tuple(reversed(geometry["spacing"]))
    if not np.allclose(spacing_zyx, target_spacing, rtol=0, atol=1e-5):
        raise DatasetError(
            f"{image_files[0]}: voxel spacing (z, y, x) {list(spacing_zyx)} mm differs from the model's "
            f"{list(target_spacing)} mm; resampling is not implemented (BraTS 2019 is 1 mm isotropic)",
            path=image_files[0],
        )
    original_size = data.shape[1:]
    cropped, mask, bbox = crop_to_nonzero(data)
    del data
    cropped = np.where(np.isnan(cropped), np.float32(0), cropped)
    normalized = normalize_nonzero(cropped, mask)
    size_after_cropping = tuple(int(s) for s in normalized.shape[1:])
    if any(s > p for s, p in zip(size_after_cropping, patch_size)):
        raise DatasetError(
            f"{image_files[0]}: the brain's bounding box (z, y, x) {list(size_after_cropping)} does not fit "
            f"the model's patch {list(patch_size)}",
            path=image_files[0],
        )
    padded, _ = pad_to_patch(normalized, patch_size)
    properties = collections.OrderedDict(
        original_size_of_raw_data=np.array(original_size),
        original_spacing=np.array(spacing_zyx),
        list_of_data_files=[str(p) for p in image_files],
        seg_file=None,
        itk_origin=geometry["origin"],
        itk_spacing=geometry["spacing"],
        itk_direction=geometry["direction"],
        crop_bbox=bbox,
        size_after_cropping=size_after_cropping,
        size_after_resampling=size_after_cropping,
        spacing_after_resampling=np.array(spacing_zyx),
        use_nonzero_mask_for_norm=collections.OrderedDict((c, True) for c in range(NUM_CHANNELS)),
    )
    return np.ascontiguousarray(padded, dtype=np.float32), properties


def remap_brats_labels(seg: np.ndarray, path: PathLike = "<segmentation>") -> np.ndarray:
    """BraTS labels {0, 1, 2, 4} → nnU-Net labels {0, 2, 1, 3} as uint8; any other value is an error."""
    values = np.unique(seg)
    bad = [v for v in values.tolist() if v not in BRATS_TO_NNUNET]
    if bad:
        raise DatasetError(f"{path}: segmentation holds label(s) {bad}; BraTS labels are 0, 1, 2 and 4", path=path)
    lut = np.zeros(5, dtype=np.uint8)
    for brats, nnunet in BRATS_TO_NNUNET.items():
        lut[brats] = nnunet
    return lut[np.asarray(seg).astype(np.intp)]


def find_raw_cases(raw_root: PathLike) -> dict[str, dict[str, Path]]:
    """Case name → its files, for a BraTS 2019 download or an nnU-Net ``Task043`` folder.

    * BraTS: ``<raw_root>[/MICCAI_BraTS_2019_Data_Training]/{HGG,LGG}/<patient>/<patient>_{t1,t1ce,t2,flair,seg}.nii.gz``;
      the case is ``<HGG|LGG>__<patient>`` and its labels are BraTS labels (``"seg"``).
    * nnU-Net: ``<raw_root>/imagesTr/<case>_000{0..3}.nii.gz`` and ``labelsTr/<case>.nii.gz``
      (nnU-Net labels, ``"label"``).

    Each value maps ``t1``, ``t1ce``, ``t2``, ``flair`` (channel order) and ``seg`` or ``label``
    (when present) to paths. Cases are sorted by name.
    """
    root = Path(raw_root)
    if not root.is_dir():
        raise DatasetError(f"raw BraTS folder {root} does not exist", path=root)
    cases: dict[str, dict[str, Path]] = {}
    if (root / "imagesTr").is_dir():
        for image in sorted((root / "imagesTr").glob("*_0000.nii.gz")):
            case = image.name[: -len("_0000.nii.gz")]
            files = {m: root / "imagesTr" / f"{case}_{k:04d}.nii.gz" for k, m in enumerate(MODALITIES)}
            label = root / "labelsTr" / f"{case}.nii.gz"
            if label.is_file():
                files["label"] = label
            cases[case] = files
        return cases
    base = root / "MICCAI_BraTS_2019_Data_Training" if (root / "MICCAI_BraTS_2019_Data_Training").is_dir() else root
    for grade in ("HGG", "LGG"):
        folder = base / grade
        if not folder.is_dir():
            continue
        for patient in sorted(p for p in folder.iterdir() if p.is_dir()):
            files = {m: patient / f"{patient.name}_{m}.nii.gz" for m in MODALITIES}
            seg = patient / f"{patient.name}_seg.nii.gz"
            if seg.is_file():
                files["seg"] = seg
            cases[f"{grade}__{patient.name}"] = files
    if not cases:
        raise DatasetError(
            f"no BraTS cases under {root}: expected HGG/ and LGG/ patient folders "
            "(MICCAI_BraTS_2019_Data_Training) or an nnU-Net imagesTr/ folder",
            path=root,
        )
    return dict(sorted(cases.items()))


def _read_case_names(source: Union[PathLike, Iterable[str]]) -> list[str]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except OSError as e:
            raise DatasetError(f"cannot read the case list {path}: {e.strerror or e}", path=path) from None
    return [str(c) for c in source]


def preprocess_brats(
    raw_root: PathLike,
    out_root: PathLike,
    *,
    cases: Union[PathLike, Iterable[str], None] = None,
    patch_size: Sequence[int] = PATCH_SIZE,
    labels: bool = True,
    progress=None,
) -> Path:
    """Preprocess a raw BraTS data set into the reference layout under ``out_root``.

    ``cases`` is a case list (a file with one name per line, such as the reference's
    ``folds/fold1_validation.txt``, or names); default: every case found, sorted. Writes
    ``out_root/preprocessed_data/<case>.pkl`` (``[data, properties]``), ``preprocessed_files.pkl``
    (the names in ``cases`` order: sample i is the i-th) and, with ``labels``, the nnU-Net labels
    to ``out_root/raw_data/nnUNet_raw_data/Task043_BraTS2019/labelsTr/<case>.nii.gz``.
    ``progress(done, total)`` is called after each case. Returns ``out_root``.
    """
    found = find_raw_cases(raw_root)
    names = list(found) if cases is None else _read_case_names(cases)
    missing = [n for n in names if n not in found]
    if missing:
        raise DatasetError(
            f"case(s) {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''} not found under {raw_root}",
            path=raw_root,
        )
    out = Path(out_root)
    pre_dir = out / "preprocessed_data"
    label_dir = out / LABELS_SUBDIR
    for done, name in enumerate(names, start=1):
        files = found[name]
        absent = [str(files[m]) for m in MODALITIES if not files[m].is_file()]
        if absent:
            raise DatasetError(f"case {name}: missing modality file(s) {', '.join(absent)}", path=absent[0])
        data, properties = preprocess_case([files[m] for m in MODALITIES], patch_size)
        write_pickle(pre_dir / f"{name}.pkl", [data, properties])
        del data
        if labels and ("seg" in files or "label" in files):
            source = files.get("seg", files.get("label"))
            seg, geo = read_nifti_zyx(source)
            seg = remap_brats_labels(seg, source) if "seg" in files else np.asarray(seg).astype(np.uint8)
            _write_nifti_like(label_dir / f"{name}.nii.gz", seg, geo["affine"])
        if progress is not None:
            progress(done, len(names))
    write_pickle(pre_dir / CASE_LIST, list(names))
    return out


# ---------------------------------------------------------------------------------- dataset


def locate(root: PathLike) -> tuple[Path, Optional[Path]]:
    """``(preprocessed folder, labels folder or None)`` of a BraTS data set root (see the module doc)."""
    root = Path(root)
    if (root / CASE_LIST).is_file():
        pre = root
        candidates = [root.parent / LABELS_SUBDIR, root / "labelsTr", root / LABELS_SUBDIR]
    elif (root / "preprocessed_data" / CASE_LIST).is_file():
        pre = root / "preprocessed_data"
        candidates = [root / LABELS_SUBDIR, root / "labelsTr"]
    else:
        if not root.exists():
            raise DatasetError(f"BraTS data set folder {root} does not exist", path=root)
        raise DatasetError(
            f"BraTS data set folder {root}: no {CASE_LIST} in it or in {root / 'preprocessed_data'} "
            "(expected the reference's preprocessed layout: preprocessed_data/preprocessed_files.pkl and one "
            "<case>.pkl per case; make it from the raw data with `edgeperf dataset prepare brats <raw> <out>`)",
            path=root / "preprocessed_data" / CASE_LIST,
        )
    labels = next((c for c in candidates if c.is_dir()), None)
    return pre, labels


def read_case_list(preprocessed_dir: PathLike) -> list[str]:
    """The ordered case names of ``preprocessed_files.pkl`` (DatasetError if it is not a list of names)."""
    path = Path(preprocessed_dir) / CASE_LIST
    names = read_pickle(path, "BraTS case list")
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise DatasetError(
            f"BraTS case list {path} must be a pickled list of case names (str), got {type(names).__name__}", path=path
        )
    if not names:
        raise DatasetError(f"BraTS case list {path} is empty", path=path)
    return list(names)


class BratsDataset:
    """The preprocessed BraTS cases in the reference's order (a :class:`~edgeperf.datasets.Dataset`).

    ``BratsDataset(root, patch_size=(224, 224, 160), count=None)``; ``count`` keeps the first
    ``count`` cases. ``preprocessed(i)`` is float32 ``[4, *patch_size]`` (z, y, x) — a volume of
    any other shape is a :class:`DatasetError` naming its file and the expected shape.
    ``patch_size`` may be changed before samples are loaded (the 3D-UNet benchmark sets it to its
    model's input size; ``patch_source`` says where it came from, for messages).
    """

    name = "brats"

    def __init__(self, root: PathLike, *, patch_size: Sequence[int] = PATCH_SIZE, count: Optional[int] = None):
        self.root = Path(root)
        self.preprocessed_dir, self.labels_dir = locate(self.root)
        cases = read_case_list(self.preprocessed_dir)
        if count is not None:
            if int(count) < 1:
                raise DatasetError(f"count must be at least 1, got {count!r}")
            cases = cases[: int(count)]
        missing = [c for c in cases if not self.case_path_of(c).is_file()]
        if missing:
            first = self.case_path_of(missing[0])
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise DatasetError(f"BraTS case file {first} does not exist{more}; {CASE_LIST} lists it", path=first)
        self.cases = cases
        self.patch_size = tuple(int(p) for p in patch_size)
        self.patch_source = "the reference's padded patch"

    def __len__(self) -> int:
        return len(self.cases)

    def case_path_of(self, case: str) -> Path:
        return self.preprocessed_dir / f"{case}.pkl"

    def case_path(self, index: int) -> Path:
        """The pickle of sample ``index``."""
        return self.case_path_of(self.cases[index])

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """``(4, z, y, x)`` of every preprocessed sample."""
        return (NUM_CHANNELS, *self.patch_size)

    def read_case(self, index: int) -> tuple[np.ndarray, dict]:
        """``(data, properties)`` of sample ``index`` as stored (data checked for shape)."""
        path = self.case_path(index)
        content = read_pickle(path, "BraTS case file")
        if not isinstance(content, (list, tuple)) or len(content) != 2 or not isinstance(content[1], dict):
            raise DatasetError(
                f"BraTS case file {path} must hold the list [data, properties], got {type(content).__name__}", path=path
            )
        data, properties = content
        expected = self.sample_shape
        if not isinstance(data, np.ndarray) or data.shape != expected:
            got = f"{data.dtype}{list(data.shape)}" if isinstance(data, np.ndarray) else type(data).__name__
            raise DatasetError(
                f"BraTS case file {path}: the volume is {got}, expected float32 {list(expected)} "
                f"(4 modalities × padded (z, y, x) = {'×'.join(map(str, self.patch_size))}, {self.patch_source})",
                path=path,
            )
        if not np.issubdtype(data.dtype, np.floating):
            raise DatasetError(
                f"BraTS case file {path}: the volume has dtype {data.dtype}, expected float32", path=path
            )
        return data, properties

    def preprocessed(self, index: int) -> np.ndarray:
        """The model input of sample ``index``: float32 [4, z, y, x], C-contiguous."""
        data, _ = self.read_case(index)
        return np.ascontiguousarray(data, dtype=np.float32)

    def properties(self, index: int) -> dict:
        """The properties dict stored with sample ``index`` (crop bbox, sizes, geometry)."""
        return self.read_case(index)[1]

    def label_path(self, index: int) -> Path:
        """The nnU-Net label file of sample ``index`` (DatasetError if there is no labels folder)."""
        if self.labels_dir is None:
            raise DatasetError(
                f"no labels folder for the BraTS data set {self.root} "
                f"(expected {self.root / LABELS_SUBDIR} or labelsTr/ beside {CASE_LIST})",
                path=self.root / LABELS_SUBDIR,
            )
        return self.labels_dir / f"{self.cases[index]}.nii.gz"

    def labels(self, index: int) -> np.ndarray:
        """The ground truth of sample ``index`` (nnU-Net labels 0-3), axes (z, y, x), full size."""
        volume, _ = read_nifti_zyx(self.label_path(index))
        return volume

    def label_patch(self, index: int) -> np.ndarray:
        """The ground truth cropped and padded exactly like the model input: uint8 [z, y, x] of the patch."""
        properties = self.properties(index)
        cropped = np.asarray(self.labels(index))[_bbox_slices(properties["crop_bbox"])]
        padded, _ = pad_to_patch(cropped[None].astype(np.uint8), self.patch_size)
        return padded[0]
