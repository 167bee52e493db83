"""Errors of the results store and page: one clear line each (see ``edgeperf.errors``)."""

from __future__ import annotations

from ..errors import EdgeperfError

__all__ = ["ResultsError", "StoreError", "SchemaError", "UnsafePathError"]


class ResultsError(EdgeperfError):
    """A results-store or results-page problem the user can fix (bad URL, missing tree, …)."""


class StoreError(ResultsError):
    """The database cannot be opened, read or written (the message names the database)."""


class SchemaError(StoreError):
    """The database's schema version is one this edgeperf does not know (a newer edgeperf wrote it)."""


class UnsafePathError(ResultsError, ValueError):
    """A path taken from the database would leave its submission tree (``..``, absolute, a link out)."""
