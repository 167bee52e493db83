"""The errors a backend raises, and :class:`Mismatch`, one difference between a model and its signature.

Every error a user can cause (a wrong model file, a missing extra, a bad option, a bad feed) is
one of these, with a message that names the file, tensor or option and what was expected.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable

from ..errors import EdgeperfError

__all__ = [
    "BackendError",
    "BackendUnavailableError",
    "BackendConfigError",
    "ModelFileError",
    "Mismatch",
    "ModelMismatchError",
    "PredictError",
]


class BackendError(EdgeperfError):
    """Base class of the exceptions raised by ``edgeperf.backends``."""


class BackendUnavailableError(BackendError, ImportError):
    """The library a backend needs (onnxruntime, torch, ...) is not installed.

    The message names the package and the ``pip install 'edgeperf[...]'`` line that installs it.
    """


class BackendConfigError(BackendError, ValueError):
    """A backend name or option is wrong: unknown backend, unknown option, unavailable provider, ..."""


class ModelFileError(BackendError, ValueError):
    """A model file does not exist, is not a file, or cannot be parsed by the backend."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"model file '{self.path}': {reason}")


@dataclass(frozen=True)
class Mismatch:
    """One way in which a model differs from the signature it is expected to have.

    ``kind`` is ``"input"``, ``"output"`` or ``"model"`` (a problem not tied to one tensor,
    e.g. a forward pass that fails); ``tensor`` is the tensor's name; ``what`` is the property
    that differs (``"presence"``, ``"dtype"``, ``"rank"``, ``"dim 2"``, ...); ``expected`` and
    ``found`` are the two values as text.
    """

    kind: str
    tensor: str
    what: str
    expected: str
    found: str

    def __str__(self) -> str:
        return f"{self.kind} '{self.tensor}': {self.what}: expected {self.expected}, found {self.found}"


class ModelMismatchError(BackendError, ValueError):
    """A model does not have the signature it is expected to have.

    Lists every mismatch at once (``mismatches``), naming the model (``model``), each tensor,
    and the expected and found value.
    """

    def __init__(self, model: str | os.PathLike, mismatches: Iterable[Mismatch]):
        self.model = os.fspath(model)
        self.mismatches = tuple(mismatches)
        n = len(self.mismatches)
        lines = [f"model '{self.model}' does not match the expected signature ({n} mismatch{'es' if n != 1 else ''}):"]
        lines += [f"  - {m}" for m in self.mismatches]
        super().__init__("\n".join(lines))


class PredictError(BackendError, RuntimeError):
    """A ``predict`` call failed: not loaded, a missing or malformed feed, an unknown output name,
    or the runtime itself raised (its message is kept)."""
