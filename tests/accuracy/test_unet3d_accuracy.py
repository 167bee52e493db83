"""The 3D-UNet DICE evaluator (spec benchmarks.md §6.d-e, §1.2-1.3): the official line for oracle
logits, exact drops for single perturbations, the NaN rule, unpadding, every log layout, and the
errors a user hits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nibabel")
pytest.importorskip("scipy")

from brats_fixtures import CASE_NAMES, SMALL_PATCH, expected_line, make_preprocessed_brats, one_hot  # noqa: E402
from edgeperf.accuracy import EVALUATORS  # noqa: E402
from edgeperf.accuracy.base import AccuracyError  # noqa: E402
from edgeperf.accuracy.brats import evaluate_brats  # noqa: E402
from edgeperf.loadgen.logs.accuracy import iter_decoded_records  # noqa: E402
from edgeperf.datasets.brats import BratsDataset  # noqa: E402
from edgeperf.loadgen.logs.accuracy import AccuracyLog  # noqa: E402
from edgeperf.loadgen.logs.readers import LogFormatError  # noqa: E402

PERFECT = "Accuracy: mean = 1.00000, whole tumor = 1.0000, tumor core = 1.0000, enhancing tumor = 1.0000"


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Path:
    return make_preprocessed_brats(tmp_path_factory.mktemp("brats-acc"))


@pytest.fixture(scope="module")
def ds(build) -> BratsDataset:
    return BratsDataset(build, patch_size=SMALL_PATCH)


@pytest.fixture(scope="module")
def truth(ds) -> dict[int, np.ndarray]:
    """The ground-truth label patch of every case (what a perfect model predicts)."""
    return {i: ds.label_patch(i) for i in range(len(ds))}


def _write(path: Path, records, dtype=np.float16) -> Path:
    """A LoadGen-written log of (qsl_idx, label patch or logits) pairs."""
    with AccuracyLog(path) as log:
        for seq, (idx, volume) in enumerate(records):
            logits = one_hot(volume) if volume.ndim == 3 else volume
            log.append(seq, idx, np.ascontiguousarray(logits, dtype=dtype))
    return path


def _perfect(tmp_path: Path, truth, order=(2, 0, 1)) -> Path:
    return _write(tmp_path / "mlperf_log_accuracy.json", [(i, truth[i]) for i in order])


def test_oracle_logits_score_one(tmp_path, build, truth):
    result = evaluate_brats(_perfect(tmp_path, truth), build, summary_csv=tmp_path / "summary.csv")
    assert result.lines == [PERFECT]
    assert result.official_line == PERFECT and result.metric == "dice"
    assert result.value == 1.0 and result.exact == 1.0 and result.notes == []
    per_case = result.details["per_case"]
    assert per_case[CASE_NAMES[0]] == (1.0, 1.0, 1.0)
    assert per_case[CASE_NAMES[1]][:2] == (1.0, 1.0) and np.isnan(
        per_case[CASE_NAMES[1]][2]
    )  # no enhancing anywhere: NaN
    assert (tmp_path / "summary.csv").read_text().splitlines() == [
        "casename,whole tumor,tumor core,enhancing tumor",
        f"{CASE_NAMES[0]},1.0000,1.0000,1.0000",
        f"{CASE_NAMES[1]},1.0000,1.0000,nan",
        f"{CASE_NAMES[2]},1.0000,1.0000,1.0000",
        "mean,1.0000,1.0000,1.0000",
        "median,1.0000,1.0000,1.0000",
        "mean (nan is 1),1.0000,1.0000,1.0000",
        "median (nan is 1),1.0000,1.0000,1.0000",
    ]
    assert EVALUATORS["dice"] is evaluate_brats


def test_enhancing_tumour_predicted_as_necrosis(tmp_path, build, ds, truth):
    """Case 0's enhancing voxels (3) predicted as necrosis (2): whole and core stay perfect, its
    enhancing DICE is 0, case 1 has none (NaN), so the enhancing mean is (0 + 1) / 2."""
    wrong = truth[0].copy()
    wrong[wrong == 3] = 2
    log = _write(tmp_path / "log.json", [(0, wrong), (1, truth[1]), (2, truth[2])])
    line = "Accuracy: mean = 0.83333, whole tumor = 1.0000, tumor core = 1.0000, enhancing tumor = 0.5000"
    assert evaluate_brats(log, build).lines == [line]
    assert expected_line(ds, {0: wrong, 1: truth[1], 2: truth[2]}) == line


def test_missing_edema_voxels_cost_exactly_their_share(tmp_path, build, ds, truth):
    wrong = truth[2].copy()
    edema = np.argwhere(wrong == 1)
    k = 37
    for z, y, x in edema[:k]:
        wrong[z, y, x] = 0
    gt_whole = int(np.count_nonzero(np.asarray(ds.labels(2)) > 0))
    case_whole = 2 * (gt_whole - k) / ((gt_whole - k) + gt_whole)
    whole = float(f"{(1.0 + 1.0 + case_whole) / 3:.4f}")
    line = f"Accuracy: mean = {(whole + 2.0) / 3:.5f}, whole tumor = {whole:.4f}, tumor core = 1.0000, enhancing tumor = 1.0000"
    result = evaluate_brats(_write(tmp_path / "log.json", [(0, truth[0]), (1, truth[1]), (2, wrong)]), build)
    assert result.lines == [line] and whole < 1.0
    assert result.details["per_case"][CASE_NAMES[2]][0] == pytest.approx(case_whole, abs=1e-15)


def test_enhancing_predicted_where_there_is_none_scores_zero_not_nan(tmp_path, build, ds, truth):
    wrong = truth[1].copy()
    z, y, x = np.argwhere(wrong == 1)[0]  # one edema voxel of the case without enhancing tumour
    wrong[z, y, x] = 3
    core_gt = int(np.count_nonzero(np.isin(np.asarray(ds.labels(1)), (2, 3))))
    case_core = 2 * core_gt / (core_gt + 1 + core_gt)
    result = evaluate_brats(_write(tmp_path / "log.json", [(0, truth[0]), (1, wrong), (2, truth[2])]), build)
    core = float(f"{(2.0 + case_core) / 3:.4f}")
    enhancing = float(f"{(1.0 + 0.0 + 1.0) / 3:.4f}")
    expected = (
        f"Accuracy: mean = {(1.0 + core + enhancing) / 3:.5f}, whole tumor = 1.0000, "
        f"tumor core = {core:.4f}, enhancing tumor = {enhancing:.4f}"
    )
    assert result.lines == [expected] == [expected_line(ds, {0: truth[0], 1: wrong, 2: truth[2]})]
    assert result.details["per_case"][CASE_NAMES[1]][2] == 0.0


def test_padding_is_cut_off_before_the_argmax(tmp_path, build, ds, truth):
    """Anything the model says outside the cropped region is ignored."""
    records = []
    for i in range(3):
        logits = one_hot(truth[i])
        size = ds.properties(i)["size_after_cropping"]
        inside = np.zeros(SMALL_PATCH, bool)
        start = [(p - s) // 2 for p, s in zip(SMALL_PATCH, size)]
        inside[start[0] : start[0] + size[0], start[1] : start[1] + size[1], start[2] : start[2] + size[2]] = True
        logits[3][~inside] = 100.0
        records.append((i, logits))
    assert evaluate_brats(_write(tmp_path / "log.json", records), build).lines == [PERFECT]


def test_ties_go_to_the_first_channel_and_nan_counts_as_maximum(tmp_path, build, truth):
    zeros = [(i, np.zeros((4, *SMALL_PATCH), np.float16)) for i in range(3)]
    result = evaluate_brats(_write(tmp_path / "zeros.json", zeros), build)
    # all background: every region 0, except enhancing of case 1 (empty on both sides: NaN)
    assert result.lines == [
        "Accuracy: mean = 0.00000, whole tumor = 0.0000, tumor core = 0.0000, enhancing tumor = 0.0000"
    ]
    nan_logits = []
    for i in range(3):
        logits = one_hot(truth[i], dtype=np.float16)
        logits[0][truth[i] == 3] = np.nan  # numpy's argmax returns the first NaN: background there
        nan_logits.append((i, logits))
    nan_result = evaluate_brats(_write(tmp_path / "nan.json", nan_logits), build)
    assert nan_result.details["per_case"][CASE_NAMES[0]][2] == 0.0


def test_float32_responses_with_output_dtype(tmp_path, build, truth):
    log = _write(tmp_path / "log.json", [(i, truth[i]) for i in range(3)], dtype=np.float32)
    assert evaluate_brats(log, build, output_dtype="float32").lines == [PERFECT]
    with pytest.raises(
        AccuracyError,
        match=r"seq_id 0 \(qsl_idx 0\): 393216 data bytes; case HGG__BraTS19_TEST_1 needs "
        r"float16 \[4, 32, 32, 24\] = 196608 bytes \(wrong output dtype\?\)",
    ):
        evaluate_brats(log, build)
    with pytest.raises(ValueError, match="output_dtype must be one of"):
        evaluate_brats(log, build, output_dtype="bfloat16")


def test_any_json_layout_and_hex_case(tmp_path, build, truth):
    entries = [
        {"data": one_hot(truth[i]).astype(np.float16).tobytes().hex(), "qsl_idx": i, "seq_id": 5 - i} for i in range(3)
    ]
    compact = tmp_path / "compact.json"
    compact.write_text(json.dumps(entries))  # lower case, data before qsl_idx, no spaces
    assert evaluate_brats(compact, build).lines == [PERFECT]
    spaced = tmp_path / "spaced.json"
    spaced.write_text(
        json.dumps(entries, indent=3)
        .upper()
        .replace('"DATA"', '"data"')
        .replace('"QSL_IDX"', '"qsl_idx"')
        .replace('"SEQ_ID"', '"seq_id"')
    )
    assert evaluate_brats(spaced, build).lines == [PERFECT]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 21])
def test_decoder_across_chunk_boundaries(tmp_path, chunk):
    rng = np.random.default_rng(3)
    payloads = [rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in (0, 1, 5, 1000)]
    path = tmp_path / "log.json"
    with AccuracyLog(path) as log:
        for k, p in enumerate(payloads):
            log.append(k, 10 + k, p)
    got = list(iter_decoded_records(path, chunk_size=chunk))
    assert [(s, q) for s, q, _ in got] == [(k, 10 + k) for k in range(4)]
    assert [bytes(d) for _, _, d in got] == payloads
    # preallocation hint larger or smaller than the data changes nothing
    assert [bytes(d) for _, _, d in iter_decoded_records(path, chunk_size=chunk, expected_nbytes=3)] == payloads
    empty = tmp_path / "empty.json"
    empty.write_text("[\n]\n")
    assert list(iter_decoded_records(empty, chunk_size=chunk)) == []


def test_repeated_records_and_subsets_are_noted(tmp_path, build, truth):
    log = _write(tmp_path / "log.json", [(0, truth[0]), (2, truth[2]), (0, np.zeros(SMALL_PATCH, np.uint8))])
    result = evaluate_brats(log, build)
    assert result.lines == [PERFECT]  # the first record of case 0 counts
    assert result.details["records"] == 3 and result.details["dupes"] == 1 and result.details["cases"] == 2
    assert any("1 repeated qsl_idx record(s) ignored" in n for n in result.notes)
    assert any("the log has 2 of the 3 cases" in n for n in result.notes)


# -- errors -------------------------------------------------------------------------------------


def test_log_errors(tmp_path, build, truth):
    with pytest.raises(LogFormatError, match="missing.json.*does not exist"):
        evaluate_brats(tmp_path / "missing.json", build)
    empty = tmp_path / "empty.json"
    empty.write_text("[\n]\n")
    with pytest.raises(AccuracyError, match="empty.json: the accuracy log has no records"):
        evaluate_brats(empty, build)
    outside = _write(tmp_path / "outside.json", [(7, truth[0])])
    with pytest.raises(
        AccuracyError, match=r"outside.json:qsl_idx 7: qsl_idx is outside .*preprocessed_files.pkl \(3 cases\)"
    ):
        evaluate_brats(outside, build)
    full = _perfect(tmp_path, truth).read_bytes()
    truncated = tmp_path / "truncated.json"
    truncated.write_bytes(full[:4096] + b"\n\n...\n\n" + full[-4096:])
    with pytest.raises(LogFormatError, match=r"truncated.json:offset \d+: .*3D-UNet needs the complete accuracy log"):
        evaluate_brats(truncated, build)
    cut = tmp_path / "cut.json"
    cut.write_bytes(full[: len(full) // 2])
    with pytest.raises(LogFormatError, match='the file ends inside a record\'s "data"'):
        evaluate_brats(cut, build)
    bad_hex = tmp_path / "badhex.json"
    bad_hex.write_text('[{ "seq_id" : 0, "qsl_idx" : 0, "data" : "00ZZ" }]')
    with pytest.raises(LogFormatError, match='"data": expected hexadecimal bytes'):
        evaluate_brats(bad_hex, build)
    no_data = tmp_path / "nodata.json"
    no_data.write_text('[{ "seq_id" : 0, "qsl_idx" : 0 }]')
    with pytest.raises(LogFormatError, match='record needs integer "seq_id" and "qsl_idx" and a string "data"'):
        evaluate_brats(no_data, build)


def test_label_errors(tmp_path, build, truth):
    copy = tmp_path / "build"
    shutil.copytree(build, copy)
    log = _perfect(tmp_path, truth)
    labels = copy / "raw_data" / "nnUNet_raw_data" / "Task043_BraTS2019" / "labelsTr"
    (labels / f"{CASE_NAMES[2]}.nii.gz").unlink()
    with pytest.raises(AccuracyError, match=rf"{CASE_NAMES[2]}.nii.gz: label file does not exist"):
        evaluate_brats(log, copy)
    import nibabel as nib

    nib.save(nib.Nifti1Image(np.zeros((5, 5, 5), np.uint8), np.eye(4)), str(labels / f"{CASE_NAMES[2]}.nii.gz"))
    with pytest.raises(
        AccuracyError, match=r"label volume \(z, y, x\) is \[5, 5, 5\]; the case's original size is \[30, 36, 28\]"
    ):
        evaluate_brats(log, copy)
    shutil.rmtree(copy / "raw_data")
    with pytest.raises(AccuracyError, match="no labels folder"):
        evaluate_brats(log, copy)
    # the label folder can be given explicitly
    assert evaluate_brats(
        log, copy, label_dir=build / "raw_data" / "nnUNet_raw_data" / "Task043_BraTS2019" / "labelsTr"
    ).lines == [PERFECT]
    with pytest.raises(AccuracyError, match="no preprocessed_files.pkl here or in preprocessed_data/"):
        evaluate_brats(log, tmp_path / "nowhere")


# -- the CLI --------------------------------------------------------------------------------------


@pytest.mark.parametrize("bench_name", ["3d-unet-99", "3d-unet-99.9"])
def test_edgeperf_accuracy_prints_the_line(cli, tmp_path, build, truth, bench_name):
    log = _perfect(tmp_path, truth)
    out = tmp_path / "accuracy.txt"
    result = cli("accuracy", bench_name, "--log", log, "--dataset", build, "--output", out)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [PERFECT]
    assert out.read_text() == PERFECT + "\n"
    result = cli("accuracy", bench_name, "--log", tmp_path / "nope.json", "--dataset", build)
    assert result.exit_code == 2 and "nope.json" in result.output and "Traceback" not in result.output


def test_count_restricts_the_case_list(tmp_path, build, truth):
    log = _write(tmp_path / "log.json", [(0, truth[0]), (1, truth[1])])
    result = evaluate_brats(log, build, count=2)
    assert result.lines == [PERFECT] and result.notes == []
    with pytest.raises(AccuracyError, match=r"qsl_idx 1: qsl_idx is outside .* \(1 cases used\)"):
        evaluate_brats(log, build, count=1)


def test_max_samples_run(cli, tmp_path, build, truth):
    """``edgeperf run --max-samples 2`` scores the two cases it ran, without a note."""
    from edgeperf.testing.onnx_standins import unet3d_standin

    model = unet3d_standin(tmp_path / "m.onnx", shape=(4, *SMALL_PATCH))
    out = tmp_path / "out"
    result = cli(
        "run",
        "3d-unet-99",
        "--scenario",
        "SingleStream",
        "--mode",
        "accuracy",
        "--model",
        model,
        "--dataset",
        build,
        "--output",
        out,
        "--max-samples",
        2,
    )
    assert result.exit_code == 0, result.output
    assert sorted(e["qsl_idx"] for e in json.loads((out / "mlperf_log_accuracy.json").read_text())) == [0, 1]
    assert (out / "accuracy.txt").read_text().startswith("Accuracy: mean = ")


def test_edgeperf_accuracy_output_dtype(cli, tmp_path, build, truth):
    # accuracy-brats.py's --output_dtype (default float16), issue 10 item 5
    log = _write(tmp_path / "f32.json", [(i, truth[i]) for i in range(3)], dtype=np.float32)
    result = cli("accuracy", "3d-unet-99", "--log", log, "--dataset", build, "--output_dtype", "float32")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [PERFECT]
    default = cli("accuracy", "3d-unet-99", "--log", log, "--dataset", build)
    assert default.exit_code == 2 and "wrong output dtype" in default.output
