"""Response bytes of the three vision benchmarks, byte for byte (spec benchmarks.md §3.d, §4.d,
§5.d, §10, and the hex examples of §11)."""

from __future__ import annotations

import numpy as np

from edgeperf.benchmarks import get_benchmark
from edgeperf.benchmarks.vision import (
    SSD_RESNET34_SCORE_THRESHOLD,
    resnet50_postprocess,
    ssd_mobilenet_postprocess,
    ssd_resnet34_postprocess,
)

# §11: [idx 0, 0.1, 0.2, 0.5, 0.6, score 0.9, class 1] as seven little-endian float32.
SSD_EXAMPLE_HEX = "00000000CDCCCC3DCDCC4C3E0000003F9A99193F6666663F0000803F"


def hexof(data: bytes) -> str:
    return data.hex().upper()


def f32_hex(*values) -> str:
    return hexof(np.asarray(values, dtype="<f4").tobytes())


# -- ResNet50 -----------------------------------------------------------------------------------


def test_resnet50_argmax_2_is_label_1_as_float32():
    (response,) = resnet50_postprocess({"ArgMax:0": np.array([2], np.int64)}, np.array([0]))
    assert hexof(response) == "0000803F"


def test_resnet50_label_65_example_and_one_response_per_sample():
    out = resnet50_postprocess({"ArgMax:0": np.array([66, 2, 1, 0], np.int64)}, np.array([7, 3, 9, 1]))
    assert [hexof(r) for r in out] == ["00008242", "0000803F", "00000000", f32_hex(-1.0)]
    assert all(len(r) == 4 for r in out)


def test_resnet50_accepts_a_column_argmax():
    """Some exports give ArgMax:0 as [N, 1]; each sample still gets exactly its own label."""
    out = resnet50_postprocess({"ArgMax:0": np.array([[2], [11]], np.int64)}, np.array([0, 1]))
    assert [hexof(r) for r in out] == ["0000803F", f32_hex(10.0)]


# -- SSD-MobileNet ------------------------------------------------------------------------------


def _mobilenet_outputs(boxes, scores, classes, num, rows=100):
    n = len(num)
    b = np.zeros((n, rows, 4), np.float32)
    s = np.zeros((n, rows), np.float32)
    c = np.zeros((n, rows), np.float32)
    for i in range(n):
        k = len(scores[i])
        if k:
            b[i, :k] = boxes[i]
            s[i, :k] = scores[i]
            c[i, :k] = classes[i]
    return {
        "num_detections:0": np.asarray(num, np.float32),
        "detection_boxes:0": b,
        "detection_scores:0": s,
        "detection_classes:0": c,
    }


def test_ssd_mobilenet_spec_example_bytes():
    outputs = _mobilenet_outputs([[[0.1, 0.2, 0.5, 0.6]]], [[0.9]], [[1]], [1])
    (response,) = ssd_mobilenet_postprocess(outputs, np.array([0]))
    assert hexof(response) == SSD_EXAMPLE_HEX


def test_ssd_mobilenet_reads_only_num_detections_rows_and_puts_the_qsl_index_first():
    outputs = _mobilenet_outputs(
        [[[0.1, 0.2, 0.5, 0.6], [0.3, 0.3, 0.4, 0.4], [0.0, 0.0, 1.0, 1.0]], []],
        [[0.9, 0.2, 0.05], []],
        [[1, 90, 3], []],
        [2, 0],
    )
    first, second = ssd_mobilenet_postprocess(outputs, np.array([42, 5]))
    assert hexof(first) == f32_hex(42, 0.1, 0.2, 0.5, 0.6, 0.9, 1) + f32_hex(42, 0.3, 0.3, 0.4, 0.4, 0.2, 90)
    assert second == b""  # no detections: empty response (§4.d)


def test_ssd_mobilenet_keeps_low_scores():
    """No score threshold for SSD-MobileNet (§4.d)."""
    outputs = _mobilenet_outputs([[[0.1, 0.2, 0.5, 0.6]]], [[1e-6]], [[13]], [1])
    (response,) = ssd_mobilenet_postprocess(outputs, np.array([3]))
    assert hexof(response) == f32_hex(3, 0.1, 0.2, 0.5, 0.6, 1e-6, 13)


# -- SSD-ResNet34 -------------------------------------------------------------------------------


def _resnet34_outputs(ltrb, labels, scores, rows=200):
    b = np.zeros((1, rows, 4), np.float32)
    lab = np.zeros((1, rows), np.int64)
    s = np.zeros((1, rows), np.float32)
    k = len(scores)
    b[0, :k] = ltrb
    lab[0, :k] = labels
    s[0, :k] = scores
    return {"bboxes": b, "labels": lab, "scores": s}


def test_ssd_resnet34_swaps_ltrb_to_yx_first():
    # ltrb [xmin 0.2, ymin 0.1, xmax 0.6, ymax 0.5] -> [ymin, xmin, ymax, xmax] = [0.1, 0.2, 0.5, 0.6]
    outputs = _resnet34_outputs([[0.2, 0.1, 0.6, 0.5]], [1], [0.9])
    (response,) = ssd_resnet34_postprocess(outputs, np.array([0]))
    assert hexof(response) == SSD_EXAMPLE_HEX


def test_ssd_resnet34_cuts_below_half_in_descending_output():
    assert SSD_RESNET34_SCORE_THRESHOLD == 0.5
    outputs = _resnet34_outputs(
        [[0.2, 0.1, 0.6, 0.5], [0.25, 0.3, 0.8, 0.9], [0.0, 0.0, 1.0, 1.0], [0.1, 0.1, 0.2, 0.2]],
        [1, 17, 80, 5],
        [0.9, 0.5, 0.49999, 0.2],
    )
    (response,) = ssd_resnet34_postprocess(outputs, np.array([7]))
    # 0.5 itself is kept (the reference stops at the first score *below* 0.5); labels stay 1..80
    assert hexof(response) == f32_hex(7, 0.1, 0.2, 0.5, 0.6, 0.9, 1) + f32_hex(7, 0.3, 0.25, 0.9, 0.8, 0.5, 17)


def test_ssd_resnet34_cut_does_not_depend_on_score_order():
    """Ascending (the PyTorch code's order) or mixed scores: every entry >= 0.5 is kept, in output
    order, where the reference's early ``break`` would have dropped them."""
    ltrb = [[0.0, 0.0, 1.0, 1.0], [0.25, 0.3, 0.8, 0.9], [0.1, 0.1, 0.2, 0.2], [0.2, 0.1, 0.6, 0.5]]
    outputs = _resnet34_outputs(ltrb, [80, 17, 5, 1], [0.2, 0.7, 0.3, 0.9])
    (response,) = ssd_resnet34_postprocess(outputs, np.array([0]))
    assert hexof(response) == f32_hex(0, 0.3, 0.25, 0.9, 0.8, 0.7, 17) + SSD_EXAMPLE_HEX
    nothing = _resnet34_outputs(ltrb, [80, 17, 5, 1], [0.2, 0.1, 0.3, 0.4])
    assert ssd_resnet34_postprocess(nothing, np.array([0])) == [b""]


def test_definitions_use_these_postprocessors():
    assert get_benchmark("resnet50").postprocess is resnet50_postprocess
    assert get_benchmark("ssd-mobilenet").postprocess is ssd_mobilenet_postprocess
    assert get_benchmark("ssd-resnet34").postprocess is ssd_resnet34_postprocess
