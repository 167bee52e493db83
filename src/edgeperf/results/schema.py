"""The results store's tables (SQLAlchemy Core), at the newest schema version.

What one ingest stores (one row of ``trees`` per tree and round):

* ``trees``: the tree's absolute root, its round, a label, when it was ingested, the checker's
  verdict and counts, a fingerprint of everything below (so a re-ingest of an unchanged tree
  changes nothing) and the base URL for links into the published tree;
* ``systems``: each system description JSON, as text;
* ``results``: every entry of the checker's result map, valid or NoResults, with its value, unit,
  accuracy, power, compliance and error count;
* ``summary_rows``: the checker's ``summary.csv`` rows (27 columns, as text), from which the
  results-page tables are built exactly as ``edgeperf report`` builds them;
* ``findings``: every finding of the check with its severity, file, expected and found values.

The history of the schema is :mod:`.migrations`; this module is its result and must match it
(a test compares the two on SQLite and PostgreSQL).
"""

from __future__ import annotations

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
)

__all__ = ["metadata", "trees", "systems", "results", "summary_rows", "findings", "TABLES"]

metadata = MetaData()

trees = Table(
    "trees",
    metadata,
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
    Column("links_base", Text, nullable=False, server_default=""),
    UniqueConstraint("root", "round", name="uq_trees_root_round"),
)

systems = Table(
    "systems",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tree_id", Integer, ForeignKey("trees.id", ondelete="CASCADE"), nullable=False),
    Column("division", Text, nullable=False),
    Column("submitter", Text, nullable=False),
    Column("platform", Text, nullable=False),
    Column("description", Text, nullable=False),
    UniqueConstraint("tree_id", "division", "submitter", "platform", name="uq_systems_platform"),
)

results = Table(
    "results",
    metadata,
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

summary_rows = Table(
    "summary_rows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tree_id", Integer, ForeignKey("trees.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("cells", Text, nullable=False),
)

findings = Table(
    "findings",
    metadata,
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

Index("ix_results_tree", results.c.tree_id)
Index("ix_summary_rows_tree", summary_rows.c.tree_id, summary_rows.c.seq)
Index("ix_findings_tree", findings.c.tree_id)
Index("ix_systems_tree", systems.c.tree_id)

#: Child tables first (the order rows of one tree are deleted in).
TABLES = (findings, summary_rows, results, systems, trees)
