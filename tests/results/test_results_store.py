"""The results store on SQLite and PostgreSQL: migrations, ingest, idempotence, replacement,
several trees and rounds side by side, findings and NoResults, the default location, errors.

Expected values come from the official checker's summary of the fixture subset and its README
(28 results, no errors), not from edgeperf's own output.
"""

from __future__ import annotations

import csv
import json

import pytest

from results_fixtures import OFFICIAL_SUMMARY

from edgeperf.results.errors import SchemaError, StoreError
from edgeperf.results.ingest import ingest_tree
from edgeperf.results.migrations import SCHEMA_VERSION, current_version, upgrade
from edgeperf.results.schema import metadata
from edgeperf.results.store import default_db_url, normalize_db_url, open_store


def _official_rows() -> list[list[str]]:
    with open(OFFICIAL_SUMMARY, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))[1:]


def _engine(url):
    from sqlalchemy import create_engine

    return create_engine(normalize_db_url(url))


# --------------------------------------------------------------------------- migrations
def test_migration_from_version_1_keeps_the_data(db_url):
    from sqlalchemy import inspect, text

    engine = _engine(db_url)
    try:
        assert upgrade(engine, target=1) == 1
        with engine.begin() as conn:
            assert current_version(conn) == 1
            assert "links_base" not in {c["name"] for c in inspect(conn).get_columns("trees")}
            conn.execute(
                text(
                    "INSERT INTO trees (root, round, name, ingested_at, fingerprint, verdict, verdict_line, result_count, "
                    "no_result_count, error_count, warning_count, edgeperf_version) VALUES ('/t', 'v1.1', 't', "
                    "'2021-09-22T00:00:00+00:00', 'abc', 'pass', 'PASS', 3, 0, 0, 0, '0.1.0')"
                )
            )
        assert upgrade(engine) == SCHEMA_VERSION == 2
        with engine.connect() as conn:
            assert current_version(conn) == 2
            row = conn.execute(text("SELECT root, result_count, links_base FROM trees")).one()
            assert tuple(row) == ("/t", 3, "")
            indexes = {
                i["name"]
                for t in ("results", "summary_rows", "findings", "systems")
                for i in inspect(conn).get_indexes(t)
            }
        assert {"ix_results_tree", "ix_summary_rows_tree", "ix_findings_tree", "ix_systems_tree"} <= indexes
        # A second upgrade is a no-op.
        assert upgrade(engine) == 2
    finally:
        engine.dispose()


def test_migrated_schema_is_the_schema_module(db_url):
    from sqlalchemy import inspect

    engine = _engine(db_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            inspector = inspect(conn)
            for table in metadata.sorted_tables:
                got = {c["name"]: c["nullable"] for c in inspector.get_columns(table.name)}
                want = {c.name: c.nullable for c in table.columns}
                assert got == want, table.name
                got_idx = {
                    i["name"]: i["column_names"]
                    for i in inspector.get_indexes(table.name)
                    if i["name"].startswith("ix_")
                }
                want_idx = {i.name: [c.name for c in i.columns] for i in table.indexes}
                assert got_idx == want_idx, table.name
    finally:
        engine.dispose()


def test_a_newer_schema_is_refused(db_url):
    from sqlalchemy import text

    engine = _engine(db_url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'future', 'x')")
            )
    finally:
        engine.dispose()
    with pytest.raises(SchemaError, match="schema version 99, newer than this edgeperf knows"):
        open_store(db_url, create=True)
    with pytest.raises(StoreError, match="upgrade edgeperf"):
        open_store(db_url)


# --------------------------------------------------------------------------- ingest
def test_ingest_stores_what_the_official_checker_found(db_url, subset_tree):
    with open_store(db_url, create=True) as store:
        outcome, _ = ingest_tree(store, subset_tree)
        assert outcome.status == "added"
        (tree,) = store.trees()
        official = _official_rows()
        # README of the fixtures: the official checker reported 28 results and no errors.
        assert (tree.result_count, tree.no_result_count, tree.error_count, tree.verdict) == (28, 0, 0, "pass")
        # The official checker lists directories in filesystem order, edgeperf sorts them.
        assert sorted(json.loads(c) for c in store.summary_cells(tree.id)) == sorted(official)
        results = store.results(tree.id)
        assert len(results) == 28 and {r["status"] for r in results} == {"valid"}
        perf_rows = [r for r in official if r[26] not in ("Watts", "Joules", "Joules/Stream")]
        by_location = {r["location"]: r for r in results}
        for row in perf_rows:
            stored = by_location[row[17]]
            assert stored["value"] == float(row[9]) and stored["units"] == row[26] and stored["accuracy"] == row[10]
        power_rows = [r for r in official if r[26] in ("Watts", "Joules", "Joules/Stream")]
        assert len(power_rows) == 2
        for row in power_rows:
            stored = by_location[row[17]]
            assert (stored["power_value"], stored["power_units"]) == (float(row[9]), row[26])
        platforms = {(r[2], r[0], r[5]) for r in official}
        systems = store.systems(tree.id)
        assert {(s["division"], s["submitter"], s["platform"]) for s in systems} == platforms
        for s in systems:
            assert json.loads(s["description"])["submitter"].lower() == s["submitter"].lower()


def test_ingesting_the_same_tree_twice_changes_nothing(db_url, subset_tree):
    with open_store(db_url, create=True) as store:
        ingest_tree(store, subset_tree)
        before = store.dump()
        outcome, _ = ingest_tree(store, subset_tree)
        assert outcome.status == "unchanged"
        assert store.dump() == before


def test_a_newer_ingest_replaces_the_older_one(db_url, tree_copy):
    system = tree_copy / "closed/Alibaba/systems/A10x1_TRT.json"
    with open_store(db_url, create=True) as store:
        first, _ = ingest_tree(store, tree_copy)
        counts = {k: len(v) for k, v in store.dump().items()}
        desc = json.loads(system.read_text(encoding="utf-8"))
        desc["system_name"] = "Renamed <b>system</b>"
        system.write_text(json.dumps(desc), encoding="utf-8")
        second, _ = ingest_tree(store, tree_copy)
        assert (first.status, second.status) == ("added", "replaced")
        (tree,) = store.trees()
        assert tree.id == second.tree_id
        # Same number of rows everywhere: the old ones are gone, not kept beside the new ones.
        assert {k: len(v) for k, v in store.dump().items()} == counts
        names = {json.loads(c)[4] for c in store.summary_cells(tree.id) if json.loads(c)[5] == "A10x1_TRT"}
        assert names == {"Renamed <b>system</b>"}


def test_trees_and_rounds_live_side_by_side(db_url, subset_tree, tree_copy):
    with open_store(db_url, create=True) as store:
        ingest_tree(store, subset_tree, name="published")
        ingest_tree(store, tree_copy, name="mine")
        ingest_tree(store, subset_tree, round="v1.0")
        trees = store.trees()
        assert [(t.round, t.name) for t in trees] == [
            ("v1.0", "submissions-v1.1-subset"),
            ("v1.1", "mine"),
            ("v1.1", "published"),
        ]
        assert len({t.id for t in trees}) == 3
        for t in trees:
            assert len(store.summary_cells(t.id)) == 30
        # The v1.0 rules log seed and other errors that v1.1 does not (they do not drop results).
        v10 = trees[0]
        assert v10.result_count == 28 and v10.error_count > 0 and v10.verdict == "pass-with-errors"


def test_no_results_and_findings_are_stored(db_url, tree_copy):
    run = tree_copy / "closed/Alibaba/results/A10x1_TRT/ssd-mobilenet/Offline/performance/run_1"
    (run / "mlperf_log_detail.txt").unlink()
    with open_store(db_url, create=True) as store:
        ingest_tree(store, tree_copy)
        (tree,) = store.trees()
        assert tree.verdict == "fail" and tree.no_result_count >= 1 and tree.result_count == 27
        location = "closed/Alibaba/results/A10x1_TRT/ssd-mobilenet/Offline"
        stored = {r["location"]: r for r in store.results(tree.id)}
        assert stored[location]["status"] == "no-result" and stored[location]["value"] is None
        assert stored[location]["platform"] == "A10x1_TRT" and stored[location]["scenario"] == "Offline"
        dropped = [
            f for f in store.findings(tree.id) if f["location"] == location and f["severity"] in ("drop", "fatal")
        ]
        assert dropped, "the finding that dropped the result is stored"
        assert any("mlperf_log_detail.txt" in (f["file"] or "") + f["message"] + (f["found"] or "") for f in dropped)
        assert len(store.summary_cells(tree.id)) == 29


# --------------------------------------------------------------------------- location and errors
def test_default_database_is_in_the_user_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_db_url() == f"sqlite:///{tmp_path / 'data' / 'edgeperf' / 'results.sqlite3'}"
    assert normalize_db_url(None) == default_db_url()
    with open_store(None, create=True):
        pass
    assert (tmp_path / "data" / "edgeperf" / "results.sqlite3").is_file()


def test_url_forms():
    assert normalize_db_url("postgresql://u@h:5/db") == "postgresql+psycopg://u@h:5/db"
    assert normalize_db_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_db_url("sqlite:///x.db") == "sqlite:///x.db"
    assert normalize_db_url("/tmp/a.sqlite3") == "sqlite:////tmp/a.sqlite3"
    with pytest.raises(StoreError, match="unsupported database URL scheme 'mysql'"):
        normalize_db_url("mysql://u@h/db")


def test_reading_a_missing_database_says_what_to_do(tmp_path):
    with pytest.raises(StoreError, match="no results database here; run `edgeperf results ingest TREE` first"):
        open_store(str(tmp_path / "none.sqlite3"))
    assert not (tmp_path / "none.sqlite3").exists()


def test_unreachable_postgresql_is_one_line():
    from results_fixtures import free_port

    port = free_port()
    with pytest.raises(StoreError) as info:
        open_store(f"postgresql://edgeperf:secret@127.0.0.1:{port}/nodb", create=True)
    message = str(info.value)
    assert message.startswith(f"postgresql+psycopg://edgeperf:***@127.0.0.1:{port}/nodb: cannot open the database")
    assert "secret" not in message and "\n" not in message
