"""An "oracle" backend: outputs computed in Python from the inputs, e.g. the ground truth.

Why at the backend level rather than as an ONNX model: the benchmarks' preprocessing (resize,
crop, mean subtraction, normalisation, tokenisation) makes it impractical to paint a label into
an image so that it survives into the model input. A Python function sees the preprocessed
input itself, so a test can look its ground truth up **by content**:

    table = {content_key(preprocessed_image(i)): {"ArgMax:0": np.int64(label[i] + 1)} for i in ids}
    backend = OracleBackend.from_table(RESNET50_SIGNATURE, "input_tensor:0", table)

Run through the real SUT, response encoding and accuracy script, this must score 100%;
perturbing one entry must drop the score by exactly one sample. Only the outputs a consumer
requests need to be in the table (ResNet50's profile requests only ``ArgMax:0``); asking for
one the oracle does not produce is an error.

The backend is strict where a real model could not be wrong: every output it returns is
checked against the signature (dtype, rank, fixed sizes, batch size), so a mistake in the
test's oracle function shows up as a :class:`~edgeperf.backends.ModelMismatchError`.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Callable, Mapping, Sequence

import numpy as np

from ..backends.base import Backend, ModelSignature, TensorSpec, check_signature, compare_signatures
from ..backends.errors import Mismatch, ModelMismatchError, PredictError

__all__ = ["OracleBackend", "content_key"]

Feeds = Mapping[str, np.ndarray]
Outputs = Mapping[str, np.ndarray]


def content_key(array: np.ndarray) -> str:
    """A digest of an array's dtype, shape and bytes: equal arrays have equal keys.

    Use it on one sample (no batch dimension) when building an oracle table, as
    :meth:`OracleBackend.from_table` applies it to each sample of a batch.
    """
    a = np.ascontiguousarray(array)
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.data if a.size else b"")
    return h.hexdigest()


class OracleBackend(Backend):
    """A backend whose outputs ``fn(feeds)`` computes from a whole batch of feeds.

    ``fn`` returns a dict of output name → array with the batch dimension first. ``load``
    ignores the model path (nothing is read) and checks that the signature it is given fits
    the oracle's own. ``predict`` checks the feeds like any backend, calls ``fn`` (at most one
    call at a time unless ``thread_safe=True``) and checks and returns the requested outputs.
    ``calls`` counts the predict calls, ``samples`` the samples seen.
    """

    name = "oracle"

    def __init__(self, signature: ModelSignature, fn: Callable[[Feeds], Outputs], *, thread_safe: bool = False):
        self.oracle_signature = signature
        self.fn = fn
        self._lock = None if thread_safe else threading.Lock()
        self._count_lock = threading.Lock()
        self.calls = 0
        self.samples = 0

    @classmethod
    def per_sample(cls, signature: ModelSignature, fn: Callable[[Feeds], Outputs], **kw) -> "OracleBackend":
        """An oracle from ``fn(sample_feeds) -> sample_outputs``, called once per sample with the
        batch dimension removed; its outputs are stacked into a batch."""

        def batched(feeds: Feeds) -> Outputs:
            n = _batch_size(feeds)
            rows = []
            for i in range(n):
                try:
                    rows.append(fn({k: v[i] for k, v in feeds.items()}))
                except Exception as e:
                    raise RuntimeError(f"sample {i} of the batch: {type(e).__name__}: {e}") from e
            if n == 0:
                return {}
            return {name: np.stack([np.asarray(r[name]) for r in rows]) for name in rows[0]}

        return cls(signature, batched, **kw)

    @classmethod
    def from_table(
        cls,
        signature: ModelSignature,
        key_input: str,
        table: Mapping[str, Outputs],
        *,
        default: Outputs | None = None,
        **kw,
    ) -> "OracleBackend":
        """An oracle that looks each sample's outputs up in ``table`` by
        ``content_key(sample[key_input])``; a sample not in the table gets ``default``, or is a
        :class:`PredictError` naming its position in the batch when there is no default."""
        if key_input not in signature.input_names:
            raise ValueError(
                f"key_input {key_input!r} is not an input of the signature ({', '.join(signature.input_names)})"
            )

        def lookup(sample: Feeds) -> Outputs:
            out = table.get(content_key(sample[key_input]))
            if out is None:
                if default is None:
                    raise LookupError(
                        f"no oracle entry for this '{key_input}' sample (content key {content_key(sample[key_input])})"
                    )
                return default
            return out

        return cls.per_sample(signature, lookup, **kw)

    def load(self, model_path: str | os.PathLike, signature: ModelSignature) -> None:
        label = f"oracle({os.fspath(model_path)})"
        check_signature(label, signature, self.oracle_signature)
        self.model = label
        self.model_signature = self.oracle_signature
        self.signature = signature

    def predict(self, feeds: Feeds, outputs: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        names = self._output_names(outputs)
        self._check_feeds(feeds)
        n = _batch_size(feeds)
        try:
            if self._lock is None:
                produced = self.fn(feeds)
            else:
                with self._lock:
                    produced = self.fn(feeds)
        except Exception as e:
            raise PredictError(f"model '{self.model}': the oracle function raised {type(e).__name__}: {e}") from e
        with self._count_lock:
            self.calls += 1
            self.samples += n
        result = {}
        mismatches: list[Mismatch] = []
        for name in names:
            if name not in produced:
                mismatches.append(
                    Mismatch(
                        "output",
                        name,
                        "presence",
                        "an output of the oracle function",
                        f"not produced (it returned: {', '.join(map(repr, produced)) or 'nothing'})",
                    )
                )
                continue
            arr = np.asarray(produced[name])
            spec = self.signature.output(name)
            mismatches += compare_signatures(
                ModelSignature((), (spec,)), ModelSignature((), (TensorSpec(name, arr.dtype.name, arr.shape),))
            )
            if arr.ndim >= 1 and arr.shape[0] != n:
                mismatches.append(Mismatch("output", name, "batch size", str(n), str(arr.shape[0])))
            result[name] = arr
        if mismatches:
            raise ModelMismatchError(self.model, mismatches)
        return result


def _batch_size(feeds: Feeds) -> int:
    for v in feeds.values():
        return int(v.shape[0]) if v.ndim else 1
    return 0
