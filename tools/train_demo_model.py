#!/usr/bin/env python3
"""Train the ``demo-digits`` classifier that ``edgeperf demo`` benchmarks, and write its files.

The data set is scikit-learn's bundled 8x8 handwritten digits (1,797 images, shipped inside the
scikit-learn wheel, so nothing is downloaded). It is split, stratified and seeded, into a training
part and a held-out part. The held-out part is the benchmark's data set: it must hold at least
1,024 images, the performance sample count the v1.1 rules ask of the image-classification
("resnet") class that the Open-division demo result is filed under.

A small multi-layer perceptron (64 -> 32 -> 10, ReLU) is trained with scikit-learn and exported
to ONNX by writing its two dense layers as ONNX ``Gemm`` nodes (no converter package needed).
Its held-out top-1 accuracy is measured on the exported ONNX model with onnxruntime (the
runtime the demo uses), and must agree with scikit-learn's own prediction. The quality target is
99% of that accuracy.

Written to ``src/edgeperf/benchmarks/data/demo-digits/``:

    model.onnx    the classifier: input ``input`` float32 [N, 1, 8, 8] (pixels / 16),
                  outputs ``label`` int64 [N] and ``logits`` float32 [N, 10]
    digits.npz    the held-out images (uint8 0..16, [N, 8, 8]) and labels (uint8, [N])
    val_map.txt   ``<image name> <label>`` per held-out image, the ImageNet-style ground truth
    model.json    accuracy, quality target, split sizes, seeds, versions and file hashes

Usage: ``pip install -e '.[tools]' && python tools/train_demo_model.py`` (needs scikit-learn,
onnx and onnxruntime). Re-running it with the same library versions reproduces the files.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "src" / "edgeperf" / "benchmarks" / "data" / "demo-digits"
SEED = 0
HELD_OUT = 1100  # >= 1024: the resnet class's minimum performance sample count (v1.1 checker)
HIDDEN = 32
TARGET_FRACTION = 0.99
PIXEL_MAX = 16.0  # load_digits pixels are 0..16


def split(seed: int = SEED):
    """(training images, held-out images, training labels, held-out labels), stratified and seeded."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = digits.images.astype(np.uint8)  # integers 0..16 stored as float64 by scikit-learn
    return train_test_split(images, digits.target, test_size=HELD_OUT, stratify=digits.target, random_state=seed)


def train(seed: int = SEED):
    """(classifier, held-out images, held-out labels, training size)."""
    from sklearn.neural_network import MLPClassifier

    x_train, x_test, y_train, y_test = split(seed)
    clf = MLPClassifier(hidden_layer_sizes=(HIDDEN,), activation="relu", alpha=1e-3, max_iter=2000,
                        random_state=seed)
    clf.fit(x_train.reshape(len(x_train), -1) / PIXEL_MAX, y_train)
    return clf, x_test, y_test.astype(np.uint8), len(x_train)


def to_onnx(clf) -> bytes:
    """The MLP as an ONNX graph: Flatten -> Gemm -> Relu -> Gemm -> ArgMax."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w1, w2 = (np.asarray(w, dtype=np.float32) for w in clf.coefs_)
    b1, b2 = (np.asarray(b, dtype=np.float32) for b in clf.intercepts_)
    nodes = [
        helper.make_node("Flatten", ["input"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "w1", "b1"], ["hidden_pre"]),
        helper.make_node("Relu", ["hidden_pre"], ["hidden"]),
        helper.make_node("Gemm", ["hidden", "w2", "b2"], ["logits"]),
        helper.make_node("ArgMax", ["logits"], ["label"], axis=1, keepdims=0),
    ]
    graph = helper.make_graph(
        nodes, "demo_digits_mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 8, 8])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
         helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        initializer=[numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="edgeperf tools/train_demo_model.py")
    model.ir_version = 8  # readable by every onnxruntime the project supports
    onnx.checker.check_model(model)
    return model.SerializeToString()


def onnx_accuracy(model_bytes: bytes, images: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Top-1 accuracy (percent) of the exported model under onnxruntime, and its predictions."""
    import onnxruntime as ort

    sess = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    x = (images.astype(np.float32) / PIXEL_MAX)[:, None, :, :]
    pred = sess.run(["label"], {"input": x})[0]
    return 100.0 * float(np.mean(pred == labels)), pred


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=OUT, help=f"where to write the files (default {OUT})")
    args = parser.parse_args(argv)

    import onnxruntime
    import sklearn

    clf, images, labels, n_train = train()
    model = to_onnx(clf)
    accuracy, pred = onnx_accuracy(model, images, labels)
    sk_pred = clf.predict(images.reshape(len(images), -1) / PIXEL_MAX)
    disagree = int(np.sum(sk_pred != pred))
    if disagree:
        raise SystemExit(f"the ONNX export disagrees with scikit-learn on {disagree} held-out images")

    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "model.onnx").write_bytes(model)
    buf = io.BytesIO()
    np.savez_compressed(buf, images=images, labels=labels)
    (args.output / "digits.npz").write_bytes(buf.getvalue())
    (args.output / "val_map.txt").write_text(
        "".join(f"digit_{i:04d}.png {int(y)}\n" for i, y in enumerate(labels)), encoding="utf-8")
    record = {
        "format": "edgeperf-demo-model",
        "version": 1,
        "task": "handwritten digit classification (scikit-learn load_digits, 8x8, 10 classes)",
        "model": "MLP 64-32-10, ReLU (scikit-learn MLPClassifier), exported to ONNX opset 13",
        "held_out_accuracy": round(accuracy, 3),
        "quality_target_fraction": TARGET_FRACTION,
        "quality_target": round(accuracy * TARGET_FRACTION, 3),
        "held_out_images": int(len(labels)),
        "training_images": int(n_train),
        "seed": SEED,
        "trained_with": {"scikit-learn": sklearn.__version__, "onnxruntime": onnxruntime.__version__},
        "sha256": {name: hashlib.sha256((args.output / name).read_bytes()).hexdigest()
                   for name in ("model.onnx", "digits.npz", "val_map.txt")},
    }
    (args.output / "model.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"held-out top-1 accuracy {accuracy:.3f}% on {len(labels)} images "
          f"(trained on {n_train}); quality target {record['quality_target']:.3f}%")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
