"""edgeperf's final report against the official generate-final-report.py r1.1 output, cell by cell.

The fixture xlsx is what the official tool made of the fixture summary (spec submission.md §8);
both workbooks are read back with openpyxl and compared: sheet names, every cell's value (numbers
at a relative 1e-9, formulas as text), merged header ranges, the number format of result cells,
the hidden Unique ID column and the alternating-submitter shading range.
"""

from __future__ import annotations

import io
import math

import pytest

openpyxl = pytest.importorskip("openpyxl")

from fixture_paths import OFFICIAL_FINAL_REPORT, OFFICIAL_SUMMARY  # noqa: E402

from edgeperf.submission.report import build_final_report, read_summary, render_xlsx  # noqa: E402

SUMMARY = OFFICIAL_SUMMARY
OFFICIAL = OFFICIAL_FINAL_REPORT


@pytest.fixture(scope="module")
def books():
    report = build_final_report(read_summary(SUMMARY))
    ours = openpyxl.load_workbook(io.BytesIO(render_xlsx(report)))
    official = openpyxl.load_workbook(OFFICIAL)
    return official, ours


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0)
    return a == b


def test_sheet_names_and_order(books):
    official, ours = books
    assert (
        ours.sheetnames == official.sheetnames == ["closed,edge", "closed,edge,power", "open,datacenter", "open,edge"]
    )


def test_every_cell_equals_the_official_one(books):
    official, ours = books
    for name in official.sheetnames:
        a, b = official[name], ours[name]
        assert (b.max_row, b.max_column) == (a.max_row, a.max_column), name
        diffs = []
        for r in range(1, a.max_row + 1):
            for c in range(1, a.max_column + 1):
                x, y = a.cell(r, c), b.cell(r, c)
                if not _same(x.value, y.value):
                    diffs.append((x.coordinate, x.value, y.value))
        assert not diffs, f"{name}: {diffs[:5]}"


def test_numbers_keep_their_types(books):
    """p# and a# are integers, results are floats, blanks stay blank."""
    official, ours = books
    for name in official.sheetnames:
        a, b = official[name], ours[name]
        for r in range(6, a.max_row + 1):
            for c in range(1, a.max_column + 1):
                x, y = a.cell(r, c).value, b.cell(r, c).value
                if isinstance(x, int):
                    assert isinstance(y, int) and x == y, (name, r, c)
                if x is None:
                    assert y is None, (name, r, c)


def test_header_merges_and_formats(books):
    official, ours = books
    for name in official.sheetnames:
        a, b = official[name], ours[name]
        assert sorted(map(str, b.merged_cells.ranges)) == sorted(map(str, a.merged_cells.ranges)), name
        assert b.column_dimensions["B"].hidden, name
        for r in range(1, a.max_row + 1):
            for c in range(1, a.max_column + 1):
                x, y = a.cell(r, c), b.cell(r, c)
                assert y.number_format == x.number_format, (name, x.coordinate)
                assert bool(y.font.b) == bool(x.font.b), (name, x.coordinate)
                assert y.border.left.style == x.border.left.style, (name, x.coordinate)
        assert [str(cf.sqref) for cf in b.conditional_formatting] == [str(cf.sqref) for cf in a.conditional_formatting]


def test_shading_formula_works_outside_google_sheets(books):
    _, ours = books
    rules = [rule for cf in ours["closed,edge"].conditional_formatting for rule in cf.rules]
    assert len(rules) == 1
    formula = rules[0].formula[0]
    assert "COUNTIF($C$6:$C6" in formula and "countunique" not in formula.lower()
    assert rules[0].dxf.fill.bgColor.rgb == "FFEFEFEF"


def test_ids_follow_the_official_sort():
    report = build_final_report(read_summary(SUMMARY))
    ids = {}
    for e in report.entries:
        ids.setdefault(e.id, e.unique_id)
    assert list(ids) == [f"1.1-{n:03d}" for n in range(1, 14)]
    # Code-point order: upper case before lower case (Krai < cTuning), available before preview.
    assert ids["1.1-007"].endswith("Krai/xavier-power.0-fan.cool-tflite-v2.5.0-ruy")
    assert ids["1.1-008"] == "edge/closed/cTuning/aws-c6gd.xlarge-arm64-tvm"
    assert ids["1.1-010"] == "edge/closed/Edgecortix/edgecortix-DNA_F_SERIES"
    # Open ids carry the model, and numbering goes on across divisions and suites.
    assert ids["1.1-011"] == "datacenter/open/OctoML/aws-m5zn.6xlarge-tvm/resnet50"
    assert ids["1.1-013"] == "edge/open/Edgecortix/edgecortix-DNA_F_SERIES/mobilenetv2"


def test_power_sheet_pairs_each_performance_column_with_its_power_column():
    report = build_final_report(read_summary(SUMMARY))
    power = {s.name: s for s in report.sheets}["closed,edge,power"]
    assert power.columns == (
        ("resnet", "SingleStream", "Latency (ms)"),
        ("resnet", "SingleStream", "Joules"),
        ("resnet", "Offline", "Samples/s"),
        ("resnet", "Offline", "Watts"),
    )
    assert [row.index[0] for row in power.rows] == ["1.1-007"]
