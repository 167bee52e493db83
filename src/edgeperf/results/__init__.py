"""The results explorer: a results store and the results web page (issue 14).

* :mod:`.store`, :mod:`.schema`, :mod:`.migrations`: the store (SQLAlchemy Core; SQLite in the
  user's data folder by default, PostgreSQL for a team), with a versioned schema;
* :mod:`.ingest`: check a tree with the submission checker and store every result, system,
  power value, status and finding (idempotent: an unchanged tree changes nothing);
* :mod:`.page`: the page's data, built from the stored summary rows by the same code as
  ``edgeperf report``; :mod:`.render`, :mod:`.site`, ``static/``: the page and Details pages;
* :mod:`.server` (``edgeperf results serve``, read-only) and :mod:`.export`
  (``edgeperf results export-html``, static files);
* :mod:`.links`: the one gate between paths stored in the database and the filesystem.

Needs the ``results`` extra (SQLAlchemy, psycopg, platformdirs)::

    from edgeperf.results import open_store, ingest_tree, export_html
    with open_store("results.sqlite3", create=True) as store:
        ingest_tree(store, "path/to/tree")
        export_html(store, "site/")
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "open_store": "store",
    "Store": "store",
    "TreeRecord": "store",
    "default_db_url": "store",
    "ingest_tree": "ingest",
    "export_html": "export",
    "make_server": "server",
    "build_page_data": "page",
    "SCHEMA_VERSION": "migrations",
    "ResultsError": "errors",
    "StoreError": "errors",
    "UnsafePathError": "errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'edgeperf.results' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
