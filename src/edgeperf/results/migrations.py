"""The results store's schema history: numbered migrations, recorded in ``schema_version``.

Each migration is a function of an open connection, applied in one transaction with the row
that records it, so a failed upgrade leaves the previous version intact (SQLite and PostgreSQL
both have transactional DDL). A migration is frozen once released: it spells out the tables as
they were at its version instead of using :mod:`.schema`, which is the newest state.

History:

1. The first store: ``trees``, ``systems``, ``results``, ``summary_rows``, ``findings``.
2. ``trees.links_base`` (where Details and Code links point for a published tree) and the
   per-tree indexes the page and the replacement of a tree use.

A database whose version is newer than :data:`SCHEMA_VERSION` is refused (:class:`SchemaError`):
an older edgeperf must not write into a schema it does not know.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine

from .errors import SchemaError

__all__ = ["Migration", "MIGRATIONS", "SCHEMA_VERSION", "current_version", "upgrade"]


@dataclass(frozen=True)
class Migration:
    """One step of the schema history."""

    version: int
    description: str
    apply: Callable[[Connection], None]


_version_md = MetaData()
schema_version = Table(
    "schema_version",
    _version_md,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", Text, nullable=False),
    Column("applied_at", String(32), nullable=False),
)


def _v1(conn: Connection) -> None:
    md = MetaData()
    Table(
        "trees",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("root", Text, nullable=False),
        Column("round", String(16), nullable=False),
        Column("name", Text, nullable=False),
        Column("ingested_at", String(32), nullable=False),
        Column("fingerprint", String(64), nullable=False),
        Column("verdict", String(32), nullable=False),
        Column("verdict_line", Text, nullable=False),
        Column("result_count", Integer, nullable=False),
        Column("no_result_count", Integer, nullable=False),
        Column("error_count", Integer, nullable=False),
        Column("warning_count", Integer, nullable=False),
        Column("edgeperf_version", String(32), nullable=False),
        UniqueConstraint("root", "round", name="uq_trees_root_round"),
    )
    Table(
        "systems",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("tree_id", Integer, ForeignKey("trees.id", ondelete="CASCADE"), nullable=False),
        Column("division", Text, nullable=False),
        Column("submitter", Text, nullable=False),
        Column("platform", Text, nullable=False),
        Column("description", Text, nullable=False),
        UniqueConstraint("tree_id", "division", "submitter", "platform", name="uq_systems_platform"),
    )
    Table(
        "results",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("tree_id", Integer, ForeignKey("trees.id", ondelete="CASCADE"), nullable=False),
        Column("location", Text, nullable=False),
        Column("status", String(16), nullable=False),
        Column("division", Text),
        Column("submitter", Text),
        Column("platform", Text),
        Column("benchmark", Text),
        Column("model", Text),
        Column("scenario", Text),
        Column("value", Float),
        Column("units", Text),
        Column("accuracy", Text),
        Column("inferred", Boolean),
        Column("compliance", Integer),
        Column("errors", Integer),
        Column("power_value", Float),
        Column("power_units", Text),
    )
    Table(
        "summary_rows",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("tree_id", Integer, ForeignKey("trees.id", ondelete="CASCADE"), nullable=False),
        Column("seq", Integer, nullable=False),
        Column("cells", Text, nullable=False),
    )
    Table(
        "findings",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("tree_id", Integer, ForeignKey("trees.id", ondelete="CASCADE"), nullable=False),
        Column("seq", Integer, nullable=False),
        Column("severity", String(8), nullable=False),
        Column("check_id", Text, nullable=False),
        Column("message", Text, nullable=False),
        Column("file", Text),
        Column("location", Text, nullable=False),
        Column("expected", Text),
        Column("found", Text),
    )
    md.create_all(conn)


def _v2(conn: Connection) -> None:
    # Plain ADD COLUMN with a constant default: the one form both SQLite and PostgreSQL accept.
    conn.execute(text("ALTER TABLE trees ADD COLUMN links_base TEXT NOT NULL DEFAULT ''"))
    md = MetaData()
    tables = {name: Table(name, md, autoload_with=conn) for name in ("results", "summary_rows", "findings", "systems")}
    Index("ix_results_tree", tables["results"].c.tree_id).create(conn)
    Index("ix_summary_rows_tree", tables["summary_rows"].c.tree_id, tables["summary_rows"].c.seq).create(conn)
    Index("ix_findings_tree", tables["findings"].c.tree_id).create(conn)
    Index("ix_systems_tree", tables["systems"].c.tree_id).create(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "trees, systems, results, summary_rows, findings", _v1),
    Migration(2, "trees.links_base; per-tree indexes", _v2),
)
#: The version this edgeperf writes and reads.
SCHEMA_VERSION = MIGRATIONS[-1].version


def current_version(conn: Connection) -> int:
    """The database's schema version: 0 for an empty database."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    value = conn.execute(select(schema_version.c.version).order_by(schema_version.c.version.desc()).limit(1)).scalar()
    return int(value or 0)


def upgrade(engine: Engine, target: int = SCHEMA_VERSION) -> int:
    """Apply every migration above the database's version up to ``target``; return the new version.

    Raises :class:`SchemaError` when the database is newer than this edgeperf knows.
    """
    with engine.begin() as conn:
        version = current_version(conn)
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"the results database has schema version {version}, newer than this edgeperf knows "
            f"({SCHEMA_VERSION}); upgrade edgeperf to use it"
        )
    for migration in MIGRATIONS:
        if version < migration.version <= target:
            with engine.begin() as conn:
                if migration.version == 1:
                    _version_md.create_all(conn)
                # Re-read under the transaction: another process may have migrated meanwhile.
                if current_version(conn) >= migration.version:
                    continue
                migration.apply(conn)
                conn.execute(
                    schema_version.insert().values(
                        version=migration.version,
                        description=migration.description,
                        applied_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                    )
                )
            version = migration.version
    return version
