"""Tiny BraTS 2019 data sets for the 3D-UNet tests (spec benchmarks.md §6.g).

* :func:`make_raw_brats` writes ``<dir>/MICCAI_BraTS_2019_Data_Training/{HGG,LGG}/<patient>/``
  with ``<patient>_{t1,t1ce,t2,flair,seg}.nii.gz`` (nibabel, axes x, y, z as NIfTI stores them):
  a brain (an off-centre ellipsoid with a hole, zero background, so cropping and hole filling are
  exercised) and a tumour of nested spheres (edema 2 ⊃ necrosis 1 ⊃ enhancing 4). Case 2 has no
  enhancing tumour (the NaN rule), case 3 has no necrosis.
* :func:`make_preprocessed_brats` runs edgeperf's preprocessing on that into the reference layout
  (``<dir>/build/preprocessed_data/…``, ``<dir>/build/raw_data/.../labelsTr``) for a small patch.

Deterministic (seeded). ``SMALL_PATCH`` and ``SMALL_SHAPE_XYZ`` keep every volume tiny.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

#: (grade, patient, has necrosis, has enhancing tumour)
CASES = (
    ("HGG", "BraTS19_TEST_1", True, True),
    ("HGG", "BraTS19_TEST_2", True, False),
    ("LGG", "BraTS19_TEST_3", False, True),
)
CASE_NAMES = tuple(f"{g}__{p}" for g, p, _, _ in CASES)
#: Raw volume size as nibabel stores it (x, y, z); SimpleITK order (z, y, x) is (30, 36, 28).
SMALL_SHAPE_XYZ = (28, 36, 30)
#: Padded patch (z, y, x) for the small volumes.
SMALL_PATCH = (32, 32, 24)
MODALITY_SCALES = {"t1": 400.0, "t1ce": 900.0, "t2": 1500.0, "flair": 250.0}


def _grid(shape_zyx):
    return np.meshgrid(*(np.arange(n, dtype=np.float64) for n in shape_zyx), indexing="ij")


def case_volumes(index: int, shape_xyz: Sequence[int] = SMALL_SHAPE_XYZ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The modalities and BraTS segmentation of fixture case ``index``, axes (z, y, x)."""
    grade, patient, necrosis, enhancing = CASES[index]
    rng = np.random.default_rng(100 + index)
    shape = tuple(reversed(shape_xyz))
    z, y, x = _grid(shape)
    centre = np.array(shape) * np.array([0.45, 0.55, 0.5]) + index
    semi = np.array(shape) * np.array([0.36, 0.36, 0.35])
    brain = sum(((g - c) / s) ** 2 for g, c, s in zip((z, y, x), centre, semi)) <= 1.0
    hole = sum(((g - c) / s) ** 2 for g, c, s in zip((z, y, x), centre, semi * 0.15)) <= 1.0
    tissue = brain & ~hole
    t_centre = centre + np.array(shape) * np.array([0.08, -0.06, 0.05])
    r = np.sqrt(sum((g - c) ** 2 for g, c in zip((z, y, x), t_centre)))
    unit = min(shape) / 10.0
    seg = np.zeros(shape, np.uint8)
    seg[(r <= 2.2 * unit) & tissue] = 2
    if necrosis:
        seg[(r <= 1.4 * unit) & tissue] = 1
    if enhancing:
        seg[(r <= 0.8 * unit) & tissue] = 4
    volumes = {}
    for k, (name, scale) in enumerate(MODALITY_SCALES.items()):
        values = rng.normal(scale, scale * 0.2, shape) + 40.0 * seg * (k + 1)
        volumes[name] = np.where(tissue, np.clip(values, 1, 32000), 0).astype(np.int16)
    return volumes, seg


def _save(path: Path, volume_zyx: np.ndarray, affine: np.ndarray) -> None:
    import nibabel as nib

    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(np.ascontiguousarray(volume_zyx.transpose(2, 1, 0)), affine), str(path))


#: A typical BraTS affine: 1 mm voxels, flipped x and y (RAS → LPS), an offset origin.
AFFINE = np.array([[-1.0, 0, 0, 10.0], [0, -1.0, 0, 20.0], [0, 0, 1.0, -5.0], [0, 0, 0, 1.0]])


def make_raw_brats(directory, shape_xyz: Sequence[int] = SMALL_SHAPE_XYZ, count: int = len(CASES)) -> Path:
    """Write the first ``count`` fixture cases in the BraTS 2019 download layout; return the raw root."""
    root = Path(directory) / "MICCAI_BraTS_2019_Data_Training"
    for index in range(count):
        grade, patient, _, _ = CASES[index]
        volumes, seg = case_volumes(index, shape_xyz)
        folder = root / grade / patient
        for name, volume in volumes.items():
            _save(folder / f"{patient}_{name}.nii.gz", volume, AFFINE)
        _save(folder / f"{patient}_seg.nii.gz", seg, AFFINE)
    return root


def make_preprocessed_brats(
    directory, shape_xyz: Sequence[int] = SMALL_SHAPE_XYZ, patch: Sequence[int] = SMALL_PATCH, count: int = len(CASES)
) -> Path:
    """Raw fixture cases preprocessed into the reference layout; returns the ``build`` folder."""
    from edgeperf.datasets.brats import preprocess_brats

    directory = Path(directory)
    raw = make_raw_brats(directory / "raw", shape_xyz, count)
    return preprocess_brats(raw, directory / "build", cases=list(CASE_NAMES[:count]), patch_size=patch)


def one_hot(labels: np.ndarray, channels: int = 4, dtype=np.float32) -> np.ndarray:
    """Logits ``[channels, *labels.shape]`` with 1 in the channel of each voxel's label, 0 elsewhere."""
    out = np.zeros((channels, *labels.shape), dtype=dtype)
    for c in range(channels):
        out[c][labels == c] = 1
    return out


# ------------------------------------------------------------------------ expected DICE lines
#
# An independent re-statement of accuracy-brats.py (spec §6.e) for tests: predicted label
# patches in, the official line out.


def _dice(pred: np.ndarray, truth: np.ndarray) -> float:
    if not pred.any() and not truth.any():
        return float("nan")
    return 2.0 * float(np.logical_and(pred, truth).sum()) / float(pred.sum() + truth.sum())


def region_dice(prediction_full: np.ndarray, truth_full: np.ndarray) -> tuple[float, float, float]:
    """(whole, core, enhancing) DICE of two full-size nnU-Net label volumes."""
    return tuple(
        _dice(np.isin(prediction_full, labels), np.isin(truth_full, labels)) for labels in ((1, 2, 3), (2, 3), (3,))
    )


def expected_line(dataset, predicted_patches: dict[int, np.ndarray]) -> str:
    """The official line for predicted label patches (padded, z, y, x) of some dataset cases."""
    per_case = {}
    for index, patch in predicted_patches.items():
        props = dataset.properties(index)
        size = props["size_after_cropping"]
        start = [(p - s) // 2 for p, s in zip(patch.shape, size)]
        full = np.zeros(tuple(int(v) for v in props["original_size_of_raw_data"]), np.uint8)
        (z0, z1), (y0, y1), (x0, x1) = props["crop_bbox"]
        full[z0:z1, y0:y1, x0:x1] = patch[
            start[0] : start[0] + size[0], start[1] : start[1] + size[1], start[2] : start[2] + size[2]
        ]
        per_case[dataset.cases[index]] = region_dice(full, np.asarray(dataset.labels(index)))
    names = sorted(per_case)
    means = [float(f"{np.nanmean([per_case[n][k] for n in names]):.4f}") for k in range(3)]
    whole, core, enhancing = means
    return (
        f"Accuracy: mean = {(whole + core + enhancing) / 3:.5f}, whole tumor = {whole:.4f}, "
        f"tumor core = {core:.4f}, enhancing tumor = {enhancing:.4f}"
    )
