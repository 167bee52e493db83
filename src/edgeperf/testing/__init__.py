"""Test and benchmark utilities shipped with edgeperf (no downloads needed).

* :mod:`edgeperf.testing.onnx_standins` — builds small ONNX models with exactly the official
  input/output names, dtypes and ranks of the benchmarks' models (needs the ``onnx`` package),
  and ``resnet50_shaped``, a random-weight model with ResNet50-v1.5's compute shape for
  performance benchmarks.
* :mod:`edgeperf.testing.oracle` — :class:`~edgeperf.testing.oracle.OracleBackend`, a backend
  whose outputs a Python function computes from the inputs (e.g. ground truth looked up by the
  input's content), so an accuracy chain can be checked for a perfect score.

Importing this package imports neither onnx nor onnxruntime.
"""
