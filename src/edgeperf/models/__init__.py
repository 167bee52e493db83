"""Model architectures edgeperf builds itself, for benchmarks whose official model is a framework
checkpoint rather than a self-describing file (ONNX, TorchScript).

* :mod:`edgeperf.models.rnnt` — RNN-T (spec benchmarks.md §7.c): the reference architecture as a
  torch module, loading of the official PyTorch checkpoint, and the reference greedy decoder.

Importing this package (or its modules) never imports torch; building a model does.
"""
