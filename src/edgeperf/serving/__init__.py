"""Serving a model over the KServe v2 inference protocol (``edgeperf serve-model``).

A real inference server (MLServer) does the protocol, HTTP and gRPC; edgeperf adds a small
onnxruntime runtime for it (:mod:`.onnx_model`). It exists so that the remote backend can be
tested end to end against a real server process, and so that users can stand a model up behind
the same protocol their production servers speak. Needs the ``serve`` extra.
"""
