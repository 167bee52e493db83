"""The results store: one SQLAlchemy engine over SQLite (default) or PostgreSQL.

A store holds any number of ingested trees side by side, each identified by its absolute root
and its round (:mod:`.schema`). Replacing a tree is one transaction: its old rows are deleted
and the new ones inserted, so a reader sees either the old tree or the new one, never half.

URLs: ``sqlite:///path/results.sqlite3``, a plain file path (SQLite), or
``postgresql://user@host:port/db`` (driven by psycopg 3). Without one, the database is
``results.sqlite3`` in the user's data directory (platformdirs).
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .errors import StoreError
from .migrations import SCHEMA_VERSION, current_version, upgrade

__all__ = ["IngestPayload", "IngestOutcome", "Store", "TreeRecord", "default_db_url", "normalize_db_url", "open_store"]

DB_FILE = "results.sqlite3"


def default_db_url() -> str:
    """``sqlite:///<user data dir>/edgeperf/results.sqlite3`` (platformdirs decides the folder)."""
    import platformdirs

    return "sqlite:///" + str(Path(platformdirs.user_data_dir("edgeperf", appauthor=False)) / DB_FILE)


def normalize_db_url(url: str | None) -> str:
    """The SQLAlchemy URL for what a user typed (see the module docstring); StoreError if unknown."""
    if not url:
        return default_db_url()
    if "://" not in url:  # a plain path is an SQLite file
        return "sqlite:///" + os.path.abspath(os.path.expanduser(url))
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return "postgresql+psycopg://" + rest
    if scheme == "sqlite":
        return url
    raise StoreError(
        f"unsupported database URL scheme {scheme!r}: expected sqlite:///PATH, a file path, or postgresql://…"
    )


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


@dataclass(frozen=True)
class TreeRecord:
    """One ingested tree, as listed by :meth:`Store.trees`."""

    id: int
    root: str
    round: str
    name: str
    ingested_at: str
    verdict: str
    verdict_line: str
    result_count: int
    no_result_count: int
    error_count: int
    warning_count: int
    links_base: str


@dataclass(frozen=True)
class IngestPayload:
    """Everything one ingest stores about a tree (built by :mod:`.ingest`)."""

    root: str
    round: str
    name: str
    links_base: str
    fingerprint: str
    verdict: str
    verdict_line: str
    result_count: int
    no_result_count: int
    error_count: int
    warning_count: int
    edgeperf_version: str
    systems: list[dict[str, Any]]
    results: list[dict[str, Any]]
    summary_cells: list[str]
    """Each summary row's 27 cells, JSON-encoded (one text per row)."""
    findings: list[dict[str, Any]]


@dataclass(frozen=True)
class IngestOutcome:
    """``status``: ``added``, ``replaced`` (an older ingest of the tree was replaced) or ``unchanged``."""

    status: str
    tree_id: int


class Store:
    """An open results database. Use :func:`open_store`; close with :meth:`close` (or ``with``)."""

    def __init__(self, engine, url: str) -> None:
        self.engine = engine
        self.url = url

    @property
    def shown_url(self) -> str:
        """The URL with any password hidden, for messages."""
        return _shown(self.url)

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    def _fail(self, action: str, exc: Exception) -> StoreError:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return StoreError(f"{self.shown_url}: cannot {action}: {detail}")

    # ------------------------------------------------------------------ writing
    def ingest(self, payload: IngestPayload) -> IngestOutcome:
        """Store a tree; replace an older ingest of the same root and round; no-op if unchanged."""
        from sqlalchemy import select
        from sqlalchemy.exc import SQLAlchemyError

        from .schema import findings, results, summary_rows, systems, trees

        try:
            with self.engine.begin() as conn:
                old = conn.execute(
                    select(trees.c.id, trees.c.fingerprint).where(
                        trees.c.root == payload.root, trees.c.round == payload.round
                    )
                ).first()
                if old is not None and old.fingerprint == payload.fingerprint:
                    return IngestOutcome("unchanged", old.id)
                if old is not None:
                    for table in (findings, summary_rows, results, systems):
                        conn.execute(table.delete().where(table.c.tree_id == old.id))
                    conn.execute(trees.delete().where(trees.c.id == old.id))
                tree_id = conn.execute(
                    trees.insert().values(
                        root=payload.root,
                        round=payload.round,
                        name=payload.name,
                        ingested_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                        fingerprint=payload.fingerprint,
                        verdict=payload.verdict,
                        verdict_line=payload.verdict_line,
                        result_count=payload.result_count,
                        no_result_count=payload.no_result_count,
                        error_count=payload.error_count,
                        warning_count=payload.warning_count,
                        edgeperf_version=payload.edgeperf_version,
                        links_base=payload.links_base,
                    )
                ).inserted_primary_key[0]
                _insert(conn, systems, ({"tree_id": tree_id, **s} for s in payload.systems))
                _insert(conn, results, ({"tree_id": tree_id, **r} for r in payload.results))
                _insert(
                    conn,
                    summary_rows,
                    ({"tree_id": tree_id, "seq": i, "cells": c} for i, c in enumerate(payload.summary_cells)),
                )
                _insert(conn, findings, ({"tree_id": tree_id, "seq": i, **f} for i, f in enumerate(payload.findings)))
        except SQLAlchemyError as exc:
            raise self._fail("store the tree", exc) from None
        return IngestOutcome("replaced" if old is not None else "added", tree_id)

    # ------------------------------------------------------------------ reading
    def _rows(self, statement, action: str) -> list:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self.engine.connect() as conn:
                return list(conn.execute(statement))
        except SQLAlchemyError as exc:
            raise self._fail(action, exc) from None

    def trees(self) -> list[TreeRecord]:
        """Every ingested tree, by round then name then id."""
        from sqlalchemy import select

        from .schema import trees

        columns = [trees.c[f] for f in TreeRecord.__dataclass_fields__]
        rows = self._rows(select(*columns).order_by(trees.c.round, trees.c.name, trees.c.id), "list the trees")
        return [TreeRecord(*row) for row in rows]

    def tree(self, tree_id: int) -> TreeRecord | None:
        return next((t for t in self.trees() if t.id == tree_id), None)

    def summary_cells(self, tree_id: int) -> list[str]:
        """The tree's summary rows (each a JSON list of 27 cells), in checker order."""
        from sqlalchemy import select

        from .schema import summary_rows as t

        rows = self._rows(select(t.c.cells).where(t.c.tree_id == tree_id).order_by(t.c.seq), "read the summary rows")
        return [r.cells for r in rows]

    def systems(self, tree_id: int) -> list[dict[str, Any]]:
        from sqlalchemy import select

        from .schema import systems as t

        rows = self._rows(select(t).where(t.c.tree_id == tree_id).order_by(t.c.id), "read the systems")
        return [dict(r._mapping) for r in rows]

    def results(self, tree_id: int) -> list[dict[str, Any]]:
        from sqlalchemy import select

        from .schema import results as t

        rows = self._rows(select(t).where(t.c.tree_id == tree_id).order_by(t.c.id), "read the results")
        return [dict(r._mapping) for r in rows]

    def findings(self, tree_id: int) -> list[dict[str, Any]]:
        from sqlalchemy import select

        from .schema import findings as t

        rows = self._rows(select(t).where(t.c.tree_id == tree_id).order_by(t.c.seq), "read the findings")
        return [dict(r._mapping) for r in rows]

    def dump(self) -> dict[str, list[tuple]]:
        """Every row of every table (tests compare two dumps to show an ingest changed nothing)."""
        from sqlalchemy import select

        from .schema import TABLES

        return {
            t.name: [tuple(r) for r in self._rows(select(t).order_by(*t.primary_key.columns), "dump")] for t in TABLES
        }


def _insert(conn, table, rows: Iterable[dict[str, Any]], chunk: int = 1000) -> None:
    # executemany in chunks: one round trip per chunk on PostgreSQL, bounded memory.
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == chunk:
            conn.execute(table.insert(), batch)
            batch = []
    if batch:
        conn.execute(table.insert(), batch)


def open_store(url: str | None = None, *, create: bool = False) -> Store:
    """Open the results database at ``url`` (see :func:`normalize_db_url`).

    ``create=True`` (ingest, migrate) creates the database file's folder and brings the schema
    up to date. Otherwise (serve, export, list) the database must exist at this edgeperf's
    schema version: nothing is written. Raises :class:`StoreError` with the URL on any failure.
    """
    full = normalize_db_url(url)
    try:
        from sqlalchemy import create_engine, event
        from sqlalchemy.exc import SQLAlchemyError
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise StoreError(
            f"the results store needs the 'results' extra ({exc.name} is not installed): "
            "pip install 'edgeperf[results]'"
        ) from None
    shown = _shown(full)
    if full.startswith("sqlite"):
        path = full.split(":///", 1)[1] if ":///" in full else ""
        if path and path != ":memory:":
            if create:
                try:
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(f"{shown}: cannot create the folder for the database ({exc.strerror})") from None
            elif not Path(path).is_file():
                raise StoreError(f"{shown}: no results database here; run `edgeperf results ingest TREE` first")
    try:
        engine = create_engine(full)
    except ImportError as exc:
        raise StoreError(f"{shown}: the driver is missing ({exc.name}); pip install 'edgeperf[results]'") from None
    except Exception as exc:
        raise StoreError(f"{shown}: not a usable database URL ({exc})") from None
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # foreign keys on, and wait for a concurrent writer
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

    store = Store(engine, full)
    try:
        if create:
            upgrade(engine)
        else:
            with engine.connect() as conn:
                version = current_version(conn)
            if version != SCHEMA_VERSION:
                what = "empty" if version == 0 else f"at schema version {version}, this edgeperf reads {SCHEMA_VERSION}"
                hint = "run `edgeperf results ingest`" if version == 0 else "run `edgeperf results migrate`"
                if version > SCHEMA_VERSION:
                    hint = "upgrade edgeperf"
                raise StoreError(f"{shown}: the results database is {what}; {hint}")
    except StoreError:
        engine.dispose()
        raise
    except SQLAlchemyError as exc:
        engine.dispose()
        raise store._fail("open the database", exc) from None
    return store
