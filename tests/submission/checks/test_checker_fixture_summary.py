"""The checker on the real v1.1 subset: the official summary, row for row, and the official log's facts."""

from __future__ import annotations

import math
import re

import pytest
from fixture_paths import FIXTURES

from edgeperf.submission import (
    SUMMARY_COLUMNS,
    Severity,
    check_tree,
    format_summary_csv,
    read_summary_csv,
    write_summary_csv,
)

OFFICIAL_CSV = FIXTURES.parent / "submissions-v1.1-subset.official-summary.csv"
OFFICIAL_LOG = FIXTURES.parent / "submissions-v1.1-subset.official-checker.log"
NUMERIC = {
    "Result",
    "number_of_nodes",
    "host_processors_per_node",
    "accelerators_per_node",
    "compilance",
    "errors",
    "infered",
}


@pytest.fixture(scope="module")
def report():
    return check_tree(FIXTURES, version="v1.1")


def _key(row: dict[str, str]) -> tuple[str, bool]:
    return row["Location"], row["Units"] in ("Watts", "Joules", "Joules/Stream")


def _equal(col: str, a: str, b: str) -> bool:
    if col in NUMERIC:
        try:
            x, y = float(a), float(b)
        except ValueError:
            return a == b
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=0.0)
    return a == b


def test_summary_rows_equal_the_official_csv(report, tmp_path):
    out = tmp_path / "summary.csv"
    write_summary_csv(report.rows, out)
    mine = read_summary_csv(out)
    official = read_summary_csv(OFFICIAL_CSV)
    assert list(mine[0].keys()) == list(SUMMARY_COLUMNS) == list(official[0].keys())
    assert len(SUMMARY_COLUMNS) == 27
    assert len(mine) == len(official) == 30
    # The official row order is the file system's listing order; edgeperf sorts. Pair by location.
    by_key = {_key(r): r for r in official}
    assert len(by_key) == len(official)
    for row in mine:
        ref = by_key.pop(_key(row))
        for col in SUMMARY_COLUMNS:
            assert _equal(col, row[col], ref[col]), (row["Location"], col, row[col], ref[col])
    assert by_key == {}


def test_summary_lines_are_byte_identical_to_the_official_lines(report):
    mine = format_summary_csv(report.rows).splitlines()
    official = OFFICIAL_CSV.read_text(encoding="utf-8").splitlines()
    assert mine[0] == official[0]
    assert sorted(mine[1:]) == sorted(official[1:])


def test_rows_are_sorted_with_power_rows_after_their_performance_row(report):
    locs = [r["Location"] for r in report.rows]
    assert locs == sorted(locs)
    units = [
        r["Units"]
        for r in report.rows
        if r["Location"].endswith("xavier-power.0-fan.cool-tflite-v2.5.0-ruy/resnet50/offline")
    ]
    assert units == ["Samples/s", "Watts"]


def test_results_and_no_results_match_the_official_log(report):
    log = OFFICIAL_LOG.read_text(encoding="utf-8")
    official = dict(re.findall(r"INFO\] Results (.+?) (\S+(?: with power_metric = \S+)?)$", log, re.M))
    assert len(official) == 28
    mine = {r.location: r.log_value() for r in report.results}
    assert mine == official
    assert report.no_results == []
    assert re.search(r"Results=28, NoResults=0", log)


def test_verdict_is_pass_and_nothing_is_logged_as_error(report):
    v = report.verdict()
    assert (v.status, v.exit_code) == ("pass", 0)
    assert report.error_count == 0
    assert v.line.startswith("PASS: 28 results, 0 NoResults")


def test_info_findings_are_the_official_file_list_and_inferred_lines(report):
    log = OFFICIAL_LOG.read_text(encoding="utf-8")
    official_mismatch = set(re.findall(r"INFO\] (\S.*?) has file list mismatch", log))
    mine = {f.file for f in report.findings if f.check == "compliance.file_list"}
    assert mine == official_mismatch and len(mine) == 32
    official_inferred = set(re.findall(r"INFO\] (\S.*?) has inferred results", log))
    assert {f.file.rsplit("/", 1)[0] for f in report.findings if f.check == "performance.inferred"} == official_inferred
    # open results below the closed target are accepted, noted as INFO only
    below = [f for f in report.findings if f.check == "accuracy.target"]
    assert below and all(f.severity is Severity.INFO and f.scope.division == "open" for f in below)


def test_every_file_is_read_at_most_once(report):
    assert report.read_stats.read_more_than_once() == []
    assert report.read_stats.files_read > 100
    # accuracy logs are sized, never read
    assert not any(p.endswith("mlperf_log_accuracy.json") for p in report.read_stats.reads)


def test_submitter_filter_checks_only_that_directory():
    r = check_tree(FIXTURES, submitter="Krai")
    assert {x.submitter for x in r.results} == {"Krai"}
    assert len(r.results) == 4 and len(r.rows) == 6


def test_skip_compliance_leaves_closed_compliance_at_zero():
    r = check_tree(FIXTURES, submitter="Alibaba", skip_compliance=True)
    assert {row["compilance"] for row in r.rows} == {0}
    assert not any(f.check.startswith("compliance.") for f in r.findings)
    assert not any("/compliance/" in p for p in r.read_stats.reads)
