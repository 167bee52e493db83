"""BraTS for 3D-UNet: preprocessing from raw NIfTI against an independent computation, the axis
order, the reference layout, and the errors a user hits (spec benchmarks.md §6.a-b, §6.g)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

nib = pytest.importorskip("nibabel")
pytest.importorskip("scipy")

from scipy.ndimage import binary_fill_holes  # noqa: E402

from brats_fixtures import (  # noqa: E402
    AFFINE,
    CASE_NAMES,
    CASES,
    SMALL_PATCH,
    SMALL_SHAPE_XYZ,
    case_volumes,
    make_preprocessed_brats,
    make_raw_brats,
)  # noqa: E402
from edgeperf.datasets.base import DatasetError  # noqa: E402
from edgeperf.datasets.brats import (  # noqa: E402
    CASE_LIST,
    LABELS_SUBDIR,
    MODALITIES,
    PATCH_SIZE,
    BratsDataset,
    pad_to_patch,
    preprocess_brats,
    preprocess_case,
    read_nifti_zyx,
    remap_brats_labels,
    unpad,
)


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    return make_raw_brats(tmp_path_factory.mktemp("brats-raw"))


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Path:
    return make_preprocessed_brats(tmp_path_factory.mktemp("brats-pre"))


def _files(raw: Path, index: int) -> list[Path]:
    grade, patient, _, _ = CASES[index]
    return [raw / grade / patient / f"{patient}_{m}.nii.gz" for m in MODALITIES]


def _independent(files: list[Path], patch) -> tuple[np.ndarray, list[list[int]]]:
    """The reference preprocessing written out plainly, in float64, straight from nibabel."""
    data = np.stack([nib.load(str(f)).get_fdata().transpose(2, 1, 0) for f in files])  # (x,y,z) → (z,y,x)
    mask = np.zeros(data.shape[1:], bool)
    for channel in data:
        mask |= channel != 0
    mask = binary_fill_holes(mask)
    where = np.argwhere(mask)
    lo, hi = where.min(axis=0), where.max(axis=0) + 1
    crop = data[:, lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    inside = mask[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    norm = np.zeros_like(crop)
    for c in range(4):
        values = crop[c][inside]
        norm[c][inside] = (values - values.mean()) / (values.std() + 1e-8)
    out = np.zeros((4, *patch))
    start = [(p - s) // 2 for p, s in zip(patch, crop.shape[1:])]
    out[
        :, start[0] : start[0] + crop.shape[1], start[1] : start[1] + crop.shape[2], start[2] : start[2] + crop.shape[3]
    ] = norm
    return out, [[int(a), int(b)] for a, b in zip(lo, hi)]


@pytest.mark.parametrize("index", range(len(CASES)))
def test_preprocessing_matches_an_independent_computation(raw, index):
    files = _files(raw, index)
    data, props = preprocess_case(files, SMALL_PATCH)
    expected, bbox = _independent(files, SMALL_PATCH)
    assert data.dtype == np.float32 and data.shape == (4, *SMALL_PATCH) and data.flags.c_contiguous
    np.testing.assert_allclose(data, expected, rtol=1e-5, atol=2e-5)
    assert props["crop_bbox"] == bbox
    assert props["size_after_cropping"] == tuple(b - a for a, b in bbox)
    assert list(props["original_size_of_raw_data"]) == list(reversed(SMALL_SHAPE_XYZ))
    assert props["itk_spacing"] == (1.0, 1.0, 1.0)


def test_normalisation_padding_and_hole_filling(raw):
    data, props = preprocess_case(_files(raw, 0), SMALL_PATCH)
    size = props["size_after_cropping"]
    inner = unpad(data, size)
    (z0, z1), (y0, y1), (x0, x1) = props["crop_bbox"]
    original = np.stack([nib.load(str(f)).get_fdata().transpose(2, 1, 0) for f in _files(raw, 0)])[
        :, z0:z1, y0:y1, x0:x1
    ]
    mask = binary_fill_holes(np.any(original != 0, axis=0))
    hole = mask & np.all(original == 0, axis=0)
    assert hole.any()  # the fixture brain has a hole: it is inside the mask, so it is normalised
    for c in range(4):
        assert abs(float(inner[c][mask].mean())) < 1e-4
        assert abs(float(inner[c][mask].std()) - 1) < 1e-4
        assert np.all(inner[c][~mask] == 0)
        assert np.all(inner[c][hole] < 0)  # zero intensity, well below the mean
    # padding: before = (patch - size) // 2 on each axis, zeros around
    before = [(p - s) // 2 for p, s in zip(SMALL_PATCH, size)]
    assert np.count_nonzero(data) == np.count_nonzero(inner)
    assert np.array_equal(
        data[:, before[0] : before[0] + size[0], before[1] : before[1] + size[1], before[2] : before[2] + size[2]],
        inner,
    )


def test_nibabel_axes_are_transposed_to_simpleitk_order(tmp_path):
    volume_xyz = np.zeros((5, 7, 9), np.int16)
    volume_xyz[1, 2, 3] = 42
    path = tmp_path / "v.nii.gz"
    nib.save(nib.Nifti1Image(volume_xyz, AFFINE), str(path))
    zyx, geometry = read_nifti_zyx(path)
    assert zyx.shape == (9, 7, 5)
    assert zyx[3, 2, 1] == 42
    assert geometry["spacing"] == (1.0, 1.0, 1.0)
    assert geometry["origin"] == (-10.0, -20.0, -5.0)  # RAS → LPS: x and y negated
    # a brain confined to x∈[2,4), y∈[1,6), z∈[4,8) in nibabel order crops to (z, y, x) boxes
    brain = np.zeros((5, 7, 9), np.int16)
    brain[2:4, 1:6, 4:8] = 7
    brain[3, 3, 5] = 9
    files = []
    for m in MODALITIES:
        files.append(tmp_path / f"case_{m}.nii.gz")
        nib.save(nib.Nifti1Image(brain, AFFINE), str(files[-1]))
    data, props = preprocess_case(files, (6, 8, 4))
    assert props["crop_bbox"] == [[4, 8], [1, 6], [2, 4]]
    assert props["size_after_cropping"] == (4, 5, 2)
    assert data.shape == (4, 6, 8, 4)


def test_pad_and_unpad_round_trip():
    volume = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    padded, before = pad_to_patch(volume, (6, 4, 8))
    assert padded.shape == (2, 6, 4, 8) and before == (1, 0, 1)
    assert np.array_equal(unpad(padded, (3, 4, 5)), volume)
    bigger, before = pad_to_patch(volume, (2, 2, 2))  # never crops
    assert bigger.shape == volume.shape and before == (0, 0, 0)


def test_label_remap():
    seg = np.array([[[0, 1], [2, 4]]], np.uint8)
    assert remap_brats_labels(seg).tolist() == [[[0, 2], [1, 3]]]
    with pytest.raises(
        DatasetError, match=r"seg.nii.gz: segmentation holds label\(s\) \[3\]; BraTS labels are 0, 1, 2 and 4"
    ):
        remap_brats_labels(np.array([0, 3, 4]), "seg.nii.gz")


def test_reference_layout(build):
    pre = build / "preprocessed_data"
    assert pickle.loads((pre / CASE_LIST).read_bytes()) == list(CASE_NAMES)
    ds = BratsDataset(build, patch_size=SMALL_PATCH)
    assert ds.cases == list(CASE_NAMES) and len(ds) == 3
    assert BratsDataset(pre, patch_size=SMALL_PATCH).labels_dir == ds.labels_dir == build / LABELS_SUBDIR
    assert len(BratsDataset(build, patch_size=SMALL_PATCH, count=2)) == 2
    for i, name in enumerate(CASE_NAMES):
        data, props = pickle.loads((pre / f"{name}.pkl").read_bytes())
        assert np.array_equal(ds.preprocessed(i), data)
        # labels were remapped to nnU-Net's and written with the segmentation's geometry
        _, seg = case_volumes(i)
        assert np.array_equal(ds.labels(i), remap_brats_labels(seg))
        assert np.allclose(nib.load(str(ds.label_path(i))).affine, AFFINE)
        # label_patch is the ground truth cropped and padded like the input
        patch = ds.label_patch(i)
        assert patch.shape == SMALL_PATCH
        assert np.array_equal(
            unpad(patch, props["size_after_cropping"]),
            remap_brats_labels(seg)[tuple(slice(a, b) for a, b in props["crop_bbox"])],
        )


def test_dataset_prepare_brats_command(raw, tmp_path):
    """``edgeperf dataset prepare brats`` (formerly ``python -m edgeperf.datasets.brats``)."""
    from click.testing import CliRunner

    from edgeperf.cli.main import build_command

    def cli(*args):
        return CliRunner().invoke(build_command(), ["dataset", "prepare", "brats", *map(str, args)])

    cases = tmp_path / "fold1_validation.txt"
    cases.write_text(f"{CASE_NAMES[2]}\n{CASE_NAMES[0]}\n")
    r = cli(raw.parent, tmp_path / "out", "--cases", cases)
    assert r.exit_code == 0, r.output
    ds = BratsDataset(tmp_path / "out")  # default patch: the reference's
    assert ds.cases == [CASE_NAMES[2], CASE_NAMES[0]] and ds.patch_size == PATCH_SIZE
    assert ds.preprocessed(0).shape == (4, *PATCH_SIZE)
    r = cli(tmp_path / "nowhere", tmp_path / "out2")
    assert r.exit_code == 2 and "raw BraTS folder" in r.output and "Traceback" not in r.output


# -- errors -------------------------------------------------------------------------------------


def _copy_build(build: Path, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "build"
    shutil.copytree(build, target)
    return target


def test_missing_folder_and_case_list(tmp_path):
    with pytest.raises(DatasetError, match="BraTS data set folder .*nowhere does not exist"):
        BratsDataset(tmp_path / "nowhere")
    with pytest.raises(
        DatasetError, match=r"no preprocessed_files.pkl in it .*preprocessed_data/preprocessed_files.pkl"
    ):
        BratsDataset(tmp_path)


def test_missing_case_file(build, tmp_path):
    root = _copy_build(build, tmp_path)
    (root / "preprocessed_data" / f"{CASE_NAMES[1]}.pkl").unlink()
    with pytest.raises(
        DatasetError, match=rf"BraTS case file .*{CASE_NAMES[1]}.pkl does not exist; preprocessed_files.pkl lists it"
    ):
        BratsDataset(root, patch_size=SMALL_PATCH)


def test_volume_with_the_wrong_shape_names_file_and_expected_shape(build, tmp_path):
    root = _copy_build(build, tmp_path)
    path = root / "preprocessed_data" / f"{CASE_NAMES[2]}.pkl"
    data, props = pickle.loads(path.read_bytes())
    path.write_bytes(pickle.dumps([data[:, :30], props]))
    ds = BratsDataset(root, patch_size=SMALL_PATCH)
    ds.preprocessed(0)
    with pytest.raises(DatasetError) as info:
        ds.preprocessed(2)
    message = str(info.value)
    assert str(path) in message
    assert "float32[4, 30, 32, 24]" in message and "expected float32 [4, 32, 32, 24]" in message
    assert info.value.path == str(path)
    # the real patch by default
    with pytest.raises(DatasetError, match=r"expected float32 \[4, 224, 224, 160\]"):
        BratsDataset(root).preprocessed(0)


def test_malformed_and_unsafe_pickles(build, tmp_path):
    root = _copy_build(build, tmp_path)
    pre = root / "preprocessed_data"
    (pre / f"{CASE_NAMES[0]}.pkl").write_bytes(b"not a pickle")
    with pytest.raises(DatasetError, match="is not a readable pickle"):
        BratsDataset(root, patch_size=SMALL_PATCH).preprocessed(0)

    class Evil:
        def __reduce__(self):
            import os

            return (os.system, ("echo hacked",))

    (pre / f"{CASE_NAMES[0]}.pkl").write_bytes(pickle.dumps([Evil(), {}]))
    with pytest.raises(DatasetError, match=r"refusing to load (posix|os|nt)\.system"):
        BratsDataset(root, patch_size=SMALL_PATCH).preprocessed(0)
    (pre / CASE_LIST).write_bytes(pickle.dumps({"not": "a list"}))
    with pytest.raises(DatasetError, match="must be a pickled list of case names"):
        BratsDataset(root)


def test_preprocessing_errors(raw, tmp_path):
    files = _files(raw, 0)
    with pytest.raises(DatasetError, match="does not fit the model's patch"):
        preprocess_case(files, (8, 8, 8))
    # another spacing would need resampling
    odd = tmp_path / "odd_t1.nii.gz"
    image = nib.load(str(files[0]))
    affine = AFFINE.copy()
    affine[2, 2] = 2.0
    nib.save(nib.Nifti1Image(np.asanyarray(image.dataobj), affine), str(odd))
    with pytest.raises(
        DatasetError, match=r"voxel spacing \(z, y, x\) \[2.0, 1.0, 1.0\] mm differs .* resampling is not implemented"
    ):
        preprocess_case([odd, *files[1:]], SMALL_PATCH)
    small = tmp_path / "small_t2.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 4), np.int16), AFFINE), str(small))
    with pytest.raises(DatasetError, match=r"small_t2.nii.gz: volume shape \(z, y, x\) \[4, 4, 4\] differs"):
        preprocess_case([files[0], small, *files[2:]], SMALL_PATCH)
    with pytest.raises(DatasetError, match="NIfTI file .*missing_flair.nii.gz does not exist"):
        preprocess_case([*files[:3], tmp_path / "missing_flair.nii.gz"], SMALL_PATCH)
    with pytest.raises(DatasetError, match="case\\(s\\) HGG__nobody not found under"):
        preprocess_brats(raw, tmp_path / "out", cases=["HGG__nobody"])
