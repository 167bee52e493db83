"""Stand-in ONNX models with the official benchmarks' exact I/O (spec benchmarks.md §11).

The real models cannot be downloaded here, so tests run the real chain (dataset → preprocessing
→ backend → response bytes → accuracy script) on tiny models built by these functions. Each has
exactly the official input and output names, dtypes and ranks (the ``*_SIGNATURE`` constants and
``*_signature()`` functions say which), computes something cheap and deterministic, and is saved
with opset 17 / IR version 8, which onnxruntime 1.13 and later run.

Every builder writes the model to ``path`` (atomically: a half-written file is never left behind)
and returns ``path`` as a :class:`~pathlib.Path`. The ``onnx`` package is needed (imported on
call). Models whose output should follow the ground truth are better made with
:class:`edgeperf.testing.oracle.OracleBackend`, which computes outputs in Python.

``resnet50_shaped`` is different: a random-weight network with ResNet50-v1.5's layers and
compute (about 4 GFLOP and 25.6 M parameters at batch 1), for performance benchmarks.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from ..backends.base import ModelSignature, TensorSpec
from ..errors import MissingExtraError

__all__ = [
    "failing_standin",
    "OPSET",
    "IR_VERSION",
    "RESNET50_SIGNATURE",
    "SSD_MOBILENET_SIGNATURE",
    "SSD_RESNET34_SIGNATURE",
    "UNET3D_EXTRA_OUTPUT",
    "unet3d_signature",
    "bert_signature",
    "resnet50_standin",
    "resnet50_shaped",
    "ssd_mobilenet_standin",
    "ssd_resnet34_standin",
    "unet3d_standin",
    "bert_standin",
]

OPSET = 17
IR_VERSION = 8

RESNET50_SIGNATURE = ModelSignature(
    inputs=(TensorSpec("input_tensor:0", "float32", ("N", 3, 224, 224)),),
    outputs=(TensorSpec("ArgMax:0", "int64", ("N",)), TensorSpec("softmax_tensor:0", "float32", ("N", 1001))),
)
SSD_MOBILENET_SIGNATURE = ModelSignature(
    inputs=(TensorSpec("image_tensor:0", "uint8", ("N", 300, 300, 3)),),
    outputs=(
        TensorSpec("num_detections:0", "float32", ("N",)),
        TensorSpec("detection_boxes:0", "float32", ("N", 100, 4)),
        TensorSpec("detection_scores:0", "float32", ("N", 100)),
        TensorSpec("detection_classes:0", "float32", ("N", 100)),
    ),
)
SSD_RESNET34_SIGNATURE = ModelSignature(
    inputs=(TensorSpec("image", "float32", (1, 3, 1200, 1200)),),
    outputs=(
        TensorSpec("bboxes", "float32", (1, 200, 4)),
        TensorSpec("labels", "int64", (1, 200)),
        TensorSpec("scores", "float32", (1, 200)),
    ),
)

#: The name of the 3D-UNet stand-in's extra output, which consumers must ignore.
UNET3D_EXTRA_OUTPUT = "deep_supervision_1"


def unet3d_signature(shape: Sequence[int] = (4, 224, 224, 160)) -> ModelSignature:
    """``input`` → ``output``, both float32 ``[1, C, D, H, W]`` with ``shape = (C, D, H, W)``."""
    dims = (1, *(int(d) for d in shape))
    return ModelSignature(
        inputs=(TensorSpec("input", "float32", dims),), outputs=(TensorSpec("output", "float32", dims),)
    )


def bert_signature(seq_len: int = 384) -> ModelSignature:
    """Three int64 ``[N, seq_len]`` inputs → start and end logits, float32 ``[N, seq_len]``."""
    return ModelSignature(
        inputs=tuple(TensorSpec(n, "int64", ("N", seq_len)) for n in ("input_ids", "input_mask", "segment_ids")),
        outputs=tuple(TensorSpec(n, "float32", ("N", seq_len)) for n in ("output_start_logits", "output_end_logits")),
    )


# -- building blocks ----------------------------------------------------------------------------


def _onnx():
    try:
        import onnx
    except ImportError as e:
        raise MissingExtraError(
            f"edgeperf.testing.onnx_standins needs the onnx package ({e}); install it with: pip install onnx"
        ) from e
    return onnx


class _GraphBuilder:
    """Nodes and initialisers of one graph, with generated unique names."""

    def __init__(self):
        self.onnx = _onnx()
        self.nodes = []
        self.initializers = []
        self._count = 0

    def _name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def const(self, array, prefix: str = "const") -> str:
        name = self._name(prefix)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type: str, inputs: Sequence[str], output: str | None = None, **attrs) -> str:
        output = output or self._name(op_type.lower())
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [output], **attrs))
        return output

    def batch_of(self, x: str) -> str:
        """An int64 [1] tensor holding the batch size (dimension 0) of ``x``."""
        return self.op("Shape", [x], start=0, end=1)

    def broadcast(self, per_sample: np.ndarray, batch: str, output: str) -> str:
        """``per_sample`` repeated over the batch: shape ``[N, *per_sample.shape]``."""
        shape = self.op("Concat", [batch, self.const(np.array(per_sample.shape, np.int64), "shape")], axis=0)
        return self.op("Expand", [self.const(per_sample[None]), shape], output)

    def save(
        self,
        path,
        signature: ModelSignature,
        *,
        extra_outputs: Sequence[TensorSpec] = (),
        outputs_first: Sequence[TensorSpec] = (),
        check: bool = True,
    ) -> Path:
        onnx = self.onnx
        helper = onnx.helper

        def info(spec: TensorSpec):
            return helper.make_tensor_value_info(
                spec.name, helper.np_dtype_to_tensor_dtype(np.dtype(spec.dtype)), list(spec.shape)
            )

        graph = helper.make_graph(
            self.nodes,
            "edgeperf_standin",
            [info(s) for s in signature.inputs],
            [info(s) for s in (*outputs_first, *signature.outputs, *extra_outputs)],
            initializer=self.initializers,
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            ir_version=IR_VERSION,
            producer_name="edgeperf.testing.onnx_standins",
        )
        if check:
            onnx.checker.check_model(model)
        return _write_atomically(path, model.SerializeToString())


def _write_atomically(path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def _as_array(name: str, value, shape: tuple[int, ...] | None, dtype) -> np.ndarray:
    a = np.asarray(value, dtype=dtype)
    if shape is not None and a.shape != shape:
        raise ValueError(f"{name} must have shape {list(shape)}, got {list(a.shape)}")
    return a


def _padded(name: str, value, rows: int, tail: tuple[int, ...], dtype, k: int | None) -> np.ndarray:
    """``value`` ([k, *tail]) zero-padded to ``rows`` rows."""
    a = np.asarray(value, dtype=dtype)
    if a.shape[1:] != tail or a.ndim != 1 + len(tail):
        raise ValueError(f"{name} must have shape [k{''.join(f', {t}' for t in tail)}], got {list(a.shape)}")
    if a.shape[0] > rows:
        raise ValueError(f"{name}: at most {rows} rows, got {a.shape[0]}")
    if k is not None and a.shape[0] != k:
        raise ValueError(f"{name}: {a.shape[0]} rows, but the boxes have {k}")
    out = np.zeros((rows, *tail), dtype)
    out[: a.shape[0]] = a
    return out


# -- the stand-ins ------------------------------------------------------------------------------


def resnet50_standin(path, *, weights=None, bias=None) -> Path:
    """ResNet50-v1.5's I/O: ``input_tensor:0`` float32 [N,3,224,224] → ``ArgMax:0`` int64 [N] and
    ``softmax_tensor:0`` float32 [N,1001].

    Computes ``logits = mean_per_channel(x) @ weights + bias`` (weights [3,1001], bias [1001];
    defaults: fixed random weights, zero bias), softmax over the 1001 classes, and the argmax
    (index 0 is the background class, as in the real model). A bias with one large entry makes
    every image that class.
    """
    w = _as_array(
        "weights",
        np.random.default_rng(0).normal(0, 1, (3, 1001)) if weights is None else weights,
        (3, 1001),
        np.float32,
    )
    b = _as_array("bias", np.zeros(1001) if bias is None else bias, (1001,), np.float32)
    g = _GraphBuilder()
    pooled = g.op("Flatten", [g.op("GlobalAveragePool", ["input_tensor:0"])], axis=1)
    logits = g.op("Add", [g.op("MatMul", [pooled, g.const(w, "fc_w")]), g.const(b, "fc_b")])
    g.op("Softmax", [logits], "softmax_tensor:0", axis=1)
    g.op("ArgMax", [logits], "ArgMax:0", axis=1, keepdims=0)
    return g.save(path, RESNET50_SIGNATURE)


def resnet50_shaped(path, seed: int = 0, *, width: int = 64) -> Path:
    """A random-weight model with ResNet50-v1.5's layers and ResNet50's I/O.

    Conv stem 7×7/2 (+ReLU) and 3×3/2 max pool; bottleneck stages of [3, 4, 6, 3] blocks with
    widths ``width × (1, 2, 4, 8)`` expanding ×4, the stride on the 3×3 convolution (v1.5) and a
    projection shortcut on each stage's first block; global average pool, a fully connected
    layer to 1001 classes, softmax and argmax. Batch norm is taken as folded into the
    convolutions' biases. ``width=64`` is ResNet50 (≈25.6 M parameters, ≈100 MB, ≈4 GFLOP per
    image); a smaller ``width`` scales the compute down by about ``(width/64)²`` for quick tests.
    """
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    rng = np.random.default_rng(seed)
    g = _GraphBuilder()

    def conv(x, c_in, c_out, k, stride=1, relu=True, gain=2.0):
        w = rng.standard_normal((c_out, c_in, k, k), dtype=np.float32) * np.float32(np.sqrt(gain / (c_in * k * k)))
        b = np.zeros(c_out, np.float32)
        y = g.op(
            "Conv",
            [x, g.const(w, "conv_w"), g.const(b, "conv_b")],
            kernel_shape=[k, k],
            strides=[stride, stride],
            pads=[k // 2] * 4,
        )
        return g.op("Relu", [y]) if relu else y

    x = conv("input_tensor:0", 3, width, 7, stride=2)
    x = g.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    c_in = width
    for stage, blocks in enumerate((3, 4, 6, 3)):
        mid = width * 2**stage
        for block in range(blocks):
            stride = 2 if (stage > 0 and block == 0) else 1
            y = conv(x, c_in, mid, 1)
            y = conv(y, mid, mid, 3, stride=stride)
            y = conv(y, mid, mid * 4, 1, relu=False, gain=0.5)  # small last layer keeps activations bounded
            shortcut = conv(x, c_in, mid * 4, 1, stride=stride, relu=False) if block == 0 else x
            x = g.op("Relu", [g.op("Add", [y, shortcut])])
            c_in = mid * 4
    pooled = g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1)
    fc_w = rng.standard_normal((c_in, 1001), dtype=np.float32) * np.float32(np.sqrt(1.0 / c_in))
    logits = g.op("Add", [g.op("MatMul", [pooled, g.const(fc_w, "fc_w")]), g.const(np.zeros(1001, np.float32), "fc_b")])
    g.op("Softmax", [logits], "softmax_tensor:0", axis=1)
    g.op("ArgMax", [logits], "ArgMax:0", axis=1, keepdims=0)
    return g.save(path, RESNET50_SIGNATURE, check=False)  # the checker copies the 100 MB model; the graph is simple


def _detections(boxes, scores, classes, defaults, rows: int, class_dtype):
    """The k detections as padded [rows,4], [rows], [rows] arrays, and k."""
    boxes = defaults[0] if boxes is None else boxes
    scores = defaults[1] if scores is None else scores
    classes = defaults[2] if classes is None else classes
    k = len(np.asarray(boxes))
    return (
        _padded("boxes", boxes, rows, (4,), np.float32, None),
        _padded("scores", scores, rows, (), np.float32, k),
        _padded("classes", classes, rows, (), class_dtype, k),
        k,
    )


_SSD_MOBILENET_DEFAULTS = (
    [[0.10, 0.20, 0.50, 0.60], [0.30, 0.25, 0.90, 0.80], [0.00, 0.00, 1.00, 1.00]],
    [0.90, 0.75, 0.30],
    [1, 18, 62],
)


def ssd_mobilenet_standin(path, *, boxes=None, scores=None, classes=None, num=None) -> Path:
    """SSD-MobileNet-v1's I/O: ``image_tensor:0`` uint8 [N,300,300,3] → ``num_detections:0`` [N],
    ``detection_boxes:0`` [N,100,4], ``detection_scores:0`` [N,100], ``detection_classes:0``
    [N,100], all float32.

    Every image gets the same detections: ``boxes`` [k,4] as [ymin, xmin, ymax, xmax] normalised,
    ``scores`` [k], ``classes`` [k] (COCO category ids 1..90), zero-padded to 100 rows;
    ``num_detections`` is ``num`` (default k; a smaller value checks that only the first
    ``num`` rows are read). Defaults: three detections with scores 0.9, 0.75, 0.3.
    """
    boxes, scores, classes, k = _detections(boxes, scores, classes, _SSD_MOBILENET_DEFAULTS, 100, np.float32)
    num = k if num is None else num
    if not 0 <= num <= 100:
        raise ValueError(f"num must be in 0..100, got {num}")
    g = _GraphBuilder()
    n = g.batch_of("image_tensor:0")
    g.op("Expand", [g.const(np.array([num], np.float32)), n], "num_detections:0")
    g.broadcast(boxes, n, "detection_boxes:0")
    g.broadcast(scores, n, "detection_scores:0")
    g.broadcast(classes, n, "detection_classes:0")
    return g.save(path, SSD_MOBILENET_SIGNATURE)


_SSD_RESNET34_DEFAULTS = (
    [[0.20, 0.10, 0.60, 0.50], [0.25, 0.30, 0.80, 0.90], [0.00, 0.00, 1.00, 1.00]],
    [0.90, 0.70, 0.20],
    [1, 17, 80],
)


def ssd_resnet34_standin(path, *, bboxes=None, labels=None, scores=None) -> Path:
    """SSD-ResNet34's I/O: ``image`` float32 [1,3,1200,1200] → ``bboxes`` float32 [1,200,4],
    ``labels`` int64 [1,200], ``scores`` float32 [1,200].

    Constant detections: ``bboxes`` [k,4] as [xmin, ymin, xmax, ymax] normalised (x first, as
    the real model), ``labels`` [k] contiguous 1..80, ``scores`` [k], zero-padded to 200 rows.
    Defaults: three detections with scores 0.9, 0.7, 0.2 (in descending order; the last one is
    below the reference post-processor's 0.5 cut-off).
    """
    bboxes, scores, labels, _ = _detections(bboxes, scores, labels, _SSD_RESNET34_DEFAULTS, 200, np.int64)
    g = _GraphBuilder()
    n = g.batch_of("image")
    g.broadcast(bboxes, n, "bboxes")
    g.broadcast(labels, n, "labels")
    g.broadcast(scores, n, "scores")
    return g.save(path, SSD_RESNET34_SIGNATURE)


def unet3d_standin(path, shape: Sequence[int] = (4, 224, 224, 160), *, weights=None, bias=None) -> Path:
    """3D-UNet's I/O: ``input`` float32 [1,C,D,H,W] → ``output`` float32 [1,C,D,H,W], with
    ``shape = (C, D, H, W)``, plus an extra output that consumers must ignore.

    ``output`` mixes the channels voxel by voxel: ``output[c] = sum_k weights[c,k]·input[k] +
    bias[c]`` (a 1×1×1 convolution; defaults: fixed random weights, zero bias). Like the real
    graph, which has deep-supervision heads besides ``output``, the model has a second output,
    ``deep_supervision_1`` [1,C,D/2,H/2,W/2], declared *before* ``output`` so that reading
    outputs by position instead of by name is caught. D, H and W must be at least 2.
    """
    c, *spatial = (int(d) for d in shape)
    if len(spatial) != 3 or c < 1 or min(spatial) < 2:
        raise ValueError(f"shape must be (C, D, H, W) with C >= 1 and D, H, W >= 2, got {tuple(shape)}")
    w = _as_array(
        "weights", np.random.default_rng(0).normal(0, 1, (c, c)) if weights is None else weights, (c, c), np.float32
    )
    b = _as_array("bias", np.zeros(c) if bias is None else bias, (c,), np.float32)
    g = _GraphBuilder()
    g.op(
        "Conv",
        ["input", g.const(w.reshape(c, c, 1, 1, 1), "mix_w"), g.const(b, "mix_b")],
        "output",
        kernel_shape=[1, 1, 1],
    )
    g.op("AveragePool", ["output"], UNET3D_EXTRA_OUTPUT, kernel_shape=[2, 2, 2], strides=[2, 2, 2])
    sig = unet3d_signature(shape)
    extra = TensorSpec(UNET3D_EXTRA_OUTPUT, "float32", (1, c, *(d // 2 for d in spatial)))
    return g.save(path, sig, outputs_first=(extra,))


def bert_standin(path, seq_len: int = 384) -> Path:
    """BERT's I/O: ``input_ids``, ``input_mask``, ``segment_ids`` int64 [N,seq_len] →
    ``output_start_logits``, ``output_end_logits`` float32 [N,seq_len].

    ``start = (0.001·id + 0.5·segment)·mask − 10000·(1 − mask)`` and
    ``end = (−0.001·id + 0.25·segment)·mask − 10000·(1 − mask)``: deterministic, depending on
    every input, with padding positions far below any real one.
    """
    if seq_len < 1:
        raise ValueError(f"seq_len must be >= 1, got {seq_len}")
    g = _GraphBuilder()
    to_float = dict(to=1)  # TensorProto.FLOAT
    ids = g.op("Cast", ["input_ids"], **to_float)
    seg = g.op("Cast", ["segment_ids"], **to_float)
    mask = g.op("Cast", ["input_mask"], **to_float)
    penalty = g.op("Mul", [g.op("Sub", [mask, g.const(np.float32(1))]), g.const(np.float32(10000))])

    def head(a, b, out):
        x = g.op("Add", [g.op("Mul", [ids, g.const(np.float32(a))]), g.op("Mul", [seg, g.const(np.float32(b))])])
        g.op("Add", [g.op("Mul", [x, mask]), penalty], out)

    head(0.001, 0.5, "output_start_logits")
    head(-0.001, 0.25, "output_end_logits")
    return g.save(path, bert_signature(seq_len))


def failing_standin(path, signature: ModelSignature = RESNET50_SIGNATURE) -> Path:
    """A model with ``signature``'s inputs and outputs whose every inference fails inside the
    runtime (a Reshape that no input size satisfies): it loads and matches the benchmark, then
    breaks on the first sample, to test how a harness reports a model that cannot run."""
    g = _GraphBuilder()
    prime = np.array([-1, 1_000_003], np.int64)  # no input tensor's size is a multiple of this prime
    broken = g.op("Reshape", [g.op("Cast", [signature.inputs[0].name], to=1), g.const(prime, "shape")])
    total = g.op("ReduceSum", [broken], keepdims=0)
    batch = g.batch_of(signature.inputs[0].name)
    for spec in signature.outputs:
        rest = np.array([d if isinstance(d, int) else 1 for d in spec.shape[1:]], np.int64)
        shape = g.op("Concat", [batch, g.const(rest, "shape")], axis=0)
        value = g.op("Cast", [total], to=int(g.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(spec.dtype))))
        g.op("Expand", [value, shape], spec.name)
    return g.save(path, signature)
