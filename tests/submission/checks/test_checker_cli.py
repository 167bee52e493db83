"""`edgeperf check`: report, verdict line, exit status, --csv/--json, --strict, usage errors."""

from __future__ import annotations

import json

import typer
from checker_tree_helpers import ALIBABA, SS_DETAIL_REL, T4_SS, copy_tree, set_detail_value
from fixture_paths import FIXTURES
from typer.testing import CliRunner

from edgeperf.cli.check import check

OFFICIAL_CSV = FIXTURES.parent / "submissions-v1.1-subset.official-summary.csv"


def _run(*args: str):
    app = typer.Typer()
    app.command("check")(check)
    app.command("other")(lambda: None)  # keep "check" a sub-command, as in edgeperf's app
    return CliRunner().invoke(app, ["check", *args], env={"COLUMNS": "200"})


def test_fixture_tree_passes_and_writes_the_official_csv_and_json(tmp_path):
    csv, js = tmp_path / "summary.csv", tmp_path / "report.json"
    r = _run(str(FIXTURES), "--csv", str(csv), "--json", str(js))
    assert r.exit_code == 0, r.output
    lines = r.output.rstrip("\n").splitlines()
    assert lines[-1] == "PASS: 28 results, 0 NoResults, no errors, 0 warnings"
    assert "looks OK" not in r.output
    assert (
        "closed / Krai" in r.output and "power 2.269 Joules" in r.output
    )  # 2.2692211502651807 at a sensible precision
    official = OFFICIAL_CSV.read_text().splitlines()
    mine = csv.read_text().splitlines()
    assert mine[0] == official[0] and sorted(mine[1:]) == sorted(official[1:])
    doc = json.loads(js.read_text())
    assert (doc["format"], doc["format_version"], doc["ruleset"]) == ("edgeperf-check", 1, "v1.1")
    assert doc["verdict"]["results"] == 28 and doc["verdict"]["exit_code"] == 0
    assert len(doc["results"]) == 28 and doc["no_results"] == []


def test_invalid_run_fails_naming_file_check_expected_and_found(tmp_path):
    root = copy_tree(tmp_path / "t", ALIBABA)
    set_detail_value(root / SS_DETAIL_REL, "result_validity", "INVALID")
    js = tmp_path / "r.json"
    r = _run(str(root), "--json", str(js))
    assert r.exit_code == 1
    assert "ERROR [drop] performance.validity: the run is not VALID" in r.output
    assert f"file: {SS_DETAIL_REL}" in r.output
    assert "expected: VALID   found: INVALID" in r.output
    assert f"NoResults {T4_SS}" in r.output
    assert r.output.rstrip().splitlines()[-1].startswith("FAIL: 2 NoResults")
    doc = json.loads(js.read_text())
    (f,) = [f for f in doc["findings"] if f["check"] == "performance.validity"]
    assert (f["severity"], f["level"], f["invalidates"], f["file"], f["expected"], f["found"]) == (
        "drop",
        "ERROR",
        True,
        SS_DETAIL_REL,
        "VALID",
        "INVALID",
    )
    assert doc["verdict"]["status"] == "fail"


def test_soft_errors_pass_with_errors_and_strict_makes_them_fail(tmp_path):
    root = copy_tree(tmp_path / "t", ALIBABA)
    set_detail_value(root / SS_DETAIL_REL, "effective_sample_index_rng_seed", 7)
    r = _run(str(root), "--quiet")
    assert r.exit_code == 0
    last = r.output.rstrip().splitlines()[-1]
    assert last.startswith("PASS WITH ERRORS LOGGED: 6 results") and "looks OK" not in r.output
    assert "ERROR [soft] performance.seed: sample_index_rng_seed is wrong" in r.output
    js = tmp_path / "strict.json"
    r = _run(str(root), "--quiet", "--strict", "--json", str(js))
    assert r.exit_code == 1
    (f,) = [f for f in json.loads(js.read_text())["findings"] if f["check"] == "performance.seed"]
    assert (f["severity"], f["strict_check"], f["promoted_by_strict"], f["expected"], f["found"]) == (
        "drop",
        True,
        True,
        517984244576520566,
        7,
    )
    assert "ERROR [drop] (--strict) performance.seed" in r.output
    assert r.output.rstrip().splitlines()[-1].startswith("FAIL:")


def test_submitter_filter_and_skip_compliance(tmp_path):
    csv = tmp_path / "s.csv"
    r = _run(str(FIXTURES), "--submitter", "Alibaba", "--skip-compliance", "--csv", str(csv))
    assert r.exit_code == 0
    rows = csv.read_text().splitlines()[1:]
    assert len(rows) == 6 and all(row.startswith("Alibaba,") for row in rows)
    assert all(row.split(",")[-6] == "0" for row in rows)  # compilance column


def test_usage_errors_exit_2_with_one_line(tmp_path):
    r = _run(str(tmp_path / "nope"))
    assert r.exit_code == 2 and "not a directory" in r.output
    r = _run(str(FIXTURES), "--version", "v9.9")
    assert r.exit_code == 2 and "unknown round 'v9.9'" in r.output
    r = _run(str(FIXTURES), "--extra-model-map", "broken")
    assert r.exit_code == 2 and "--extra-model-map" in r.output


def test_empty_tree_is_not_ok(tmp_path):
    r = _run(str(tmp_path))
    assert r.exit_code == 1 and r.output.rstrip().splitlines()[-1].startswith("FAIL: no results")
