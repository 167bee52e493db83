"""The results-page tables (HTML, Markdown, CSV) made from the fixture summary.

The HTML page is parsed with html.parser and each of its tables is checked against the CSV file
of the same table and against the input summary itself: the right ids per suite, division and
category (ids taken from the official xlsx, not from edgeperf), units in the headings, values,
and Details/Code links that exist in the fixture tree.
"""

from __future__ import annotations

import csv
import math
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pytest

from fixture_paths import FIXTURES, OFFICIAL_FINAL_REPORT, OFFICIAL_SUMMARY

from edgeperf.submission.report import (
    HTML_FILE,
    MARKDOWN_FILE,
    build_final_report,
    build_results_tables,
    parse_summary,
    render_csv,
    render_html,
    render_markdown,
    write_report,
)

SUMMARY = OFFICIAL_SUMMARY
try:
    import openpyxl  # noqa: F401

    HAVE_OPENPYXL = True
except ImportError:
    HAVE_OPENPYXL = False
OFFICIAL = OFFICIAL_FINAL_REPORT
POWER_UNITS = {"Watts", "Joules", "Joules/Stream"}
UNIT_HEADINGS = {
    "Latency (ms)": "Latency (ms)",
    "Samples/s": "Samples/s",
    "Queries/s": "Queries/s",
    "Streams": "Streams",
    "Watts": "System power (W)",
    "Joules": "Energy per query (J)",
    "Joules/Stream": "Energy per stream (J)",
}

MODELS = {"ResNet50-v1.5": "resnet", "SSD-MobileNets-v1": "ssd-small"}


# --------------------------------------------------------------------------- helpers
class _Tables(HTMLParser):
    """Collects every <table class="results">: attributes, header rows and body rows."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self.tags: list[str] = []
        self._cell = None
        self._row = None
        self._section = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "table" and "results" in (a.get("class") or ""):
            self.tables.append({"attrs": a, "head": [], "body": []})
        elif not self.tables:
            return
        elif tag in ("thead", "tbody"):
            self._section = tag
        elif tag == "tr":
            self._row = {"attrs": a, "cells": []}
        elif tag in ("th", "td"):
            self._cell = {"tag": tag, "attrs": a, "text": "", "href": None}
        elif tag == "a" and self._cell is not None:
            self._cell["href"] = a.get("href")

    def handle_endtag(self, tag):
        if not self.tables:
            return
        if tag in ("th", "td") and self._cell is not None:
            self._row["cells"].append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1]["head" if self._section == "thead" else "body"].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data


def _flat_header(table: dict) -> list[str]:
    first, _, last = table["head"]
    leading, trailing, seen_results = [], [], False
    for cell in first["cells"]:
        if cell["attrs"].get("rowspan") == "3":
            (trailing if seen_results else leading).append(cell["text"])
        else:
            seen_results = True
    return leading + [c["attrs"]["data-label"] for c in last["cells"]] + trailing


def _read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    formats = ("xlsx", "csv", "md", "html") if HAVE_OPENPYXL else ("csv", "md", "html")
    result = write_report(SUMMARY, folder, formats)
    return folder, result


@pytest.fixture(scope="module")
def page(out):
    folder, _ = out
    parser = _Tables()
    text = (folder / HTML_FILE).read_text(encoding="utf-8")
    parser.feed(text)
    parser.close()
    return text, parser


@pytest.fixture(scope="module")
def official_ids():
    """Unique ID → ID as the official tool assigned them (from its xlsx)."""
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.load_workbook(OFFICIAL)
    ids = {}
    for ws in wb.worksheets:
        for r in range(6, ws.max_row + 1):
            ids[ws.cell(r, 2).value] = ws.cell(r, 1).value
    return ids


@pytest.fixture(scope="module")
def summary_rows():
    with open(SUMMARY, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _unique_id(row: dict) -> str:
    uid = f"{row['SystemType']}/{row['Division']}/{row['Organization']}/{row['Platform']}"
    return uid + (f"/{row['Model']}" if row["Division"] == "open" else "")


# --------------------------------------------------------------------------- files
def test_files_written(out):
    folder, result = out
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(p.name for p in result.files)
    assert names == sorted(
        ["final-report.xlsx"] * HAVE_OPENPYXL
        + [
            "results.html",
            "results.md",
            "results-datacenter-open-available.csv",
            "results-edge-closed-available.csv",
            "results-edge-closed-available-power.csv",
            "results-edge-closed-preview.csv",
            "results-edge-open-preview.csv",
        ]
    )
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


# --------------------------------------------------------------------------- HTML
def test_html_is_self_contained(page):
    text, parser = page
    lowered = text.lower()
    for tag in ("script", "link", "img", "iframe", "object", "embed"):
        assert tag not in parser.tags, tag
    assert "@import" not in lowered and "url(" not in lowered and " src=" not in lowered
    assert "<style>" in text and text.startswith("<!DOCTYPE html>")
    assert 'charset="utf-8"' in text


def test_html_note_is_neutral_for_official_data(page):
    text, _ = page
    assert "MLPerf is a trademark of MLCommons" in text
    assert "Tables generated by edgeperf from submissions-v1.1-subset.official-summary.csv" in text
    assert "not official" not in text


def test_html_tables_match_the_csv_files(out, page):
    folder, _ = out
    _, parser = page
    assert len(parser.tables) == 5
    for table in parser.tables:
        key = table["attrs"]["id"]
        rows = _read_csv(folder / f"results-{key}.csv")
        header, body = rows[0], rows[1:]
        assert _flat_header(table) == header, key
        assert len(table["body"]) == len(body), key
        details = header.index("Details")
        for html_row, csv_row in zip(table["body"], body):
            cells = html_row["cells"]
            assert html_row["attrs"]["data-id"] == csv_row[0]
            assert len(cells) == len(csv_row), key
            for i, (cell, expected) in enumerate(zip(cells, csv_row)):
                if "data-value" in cell["attrs"]:
                    assert math.isclose(float(cell["attrs"]["data-value"]), float(expected), rel_tol=1e-12)
                elif i in (details, details + 1):
                    assert cell["href"] == expected
                else:
                    assert cell["text"] == expected, (key, header[i])


def test_html_rows_per_division_and_category(page, official_ids, summary_rows):
    _, parser = page
    seen = set()
    for table in parser.tables:
        a = table["attrs"]
        power = a["data-power"] == "true"
        expected = []
        for row in summary_rows:
            if (row["SystemType"], row["Division"], row["Availability"]) != (
                a["data-suite"],
                a["data-division"],
                a["data-category"],
            ):
                continue
            if (row["has_power"] == "True") if power else (row["Units"] not in POWER_UNITS):
                id_ = official_ids[_unique_id(row)]
                if id_ not in expected:
                    expected.append(id_)
        got = [r["attrs"]["data-id"] for r in table["body"]]
        assert got == sorted(expected), a["id"]
        seen.add(a["id"])
    assert seen == {
        "datacenter-open-available",
        "edge-closed-available",
        "edge-closed-preview",
        "edge-closed-available-power",
        "edge-open-preview",
    }


def test_html_values_and_units_come_from_the_summary(page, official_ids, summary_rows):
    _, parser = page
    results = {}
    for row in summary_rows:
        results[(official_ids[_unique_id(row)], row["MlperfModel"], row["Scenario"], row["Units"])] = float(
            row["Result"]
        )
    checked = 0
    for table in parser.tables:
        measures = table["head"][2]["cells"]
        scenarios = [c["text"] for c in table["head"][1]["cells"] for _ in range(int(c["attrs"]["colspan"]))]
        for m in measures:
            assert m["text"] == UNIT_HEADINGS[m["attrs"]["data-unit"]]
            assert m["text"] in m["attrs"]["data-label"]
        for row in table["body"]:
            id_ = row["attrs"]["data-id"]
            cells = [c for c in row["cells"] if "res" in c["attrs"].get("class", "").split()]
            assert len(cells) == len(measures)
            for m, scenario, cell in zip(measures, scenarios, cells):
                assert ("power" in cell["attrs"]["class"].split()) == (m["attrs"]["data-unit"] in POWER_UNITS)
                model = MODELS[m["attrs"]["data-label"].split(" ")[0]]
                key = (id_, model, scenario, m["attrs"]["data-unit"])
                if key in results:
                    assert math.isclose(float(cell["attrs"]["data-value"]), results[key], rel_tol=1e-12)
                    checked += 1
                else:
                    assert "data-value" not in cell["attrs"] and cell["text"] == ""
    # 30 summary rows; the power system's 2 performance rows show in two tables.
    assert checked == 32


def test_power_table_columns(page):
    _, parser = page
    (power,) = [t for t in parser.tables if t["attrs"]["data-power"] == "true"]
    labels = [c["attrs"]["data-label"] for c in power["head"][2]["cells"]]
    assert labels == [
        "ResNet50-v1.5 SingleStream Latency (ms)",
        "ResNet50-v1.5 SingleStream Energy per query (J)",
        "ResNet50-v1.5 Offline Samples/s",
        "ResNet50-v1.5 Offline System power (W)",
    ]
    (row,) = power["body"]
    values = [float(c["attrs"]["data-value"]) for c in row["cells"] if "data-value" in c["attrs"]]
    assert values == pytest.approx([86.848938, 2.2692211502651807, 12.266, 27.825416666666673], rel=1e-12)


def test_open_tables_add_model_used_and_notes(page):
    _, parser = page
    for table in parser.tables:
        header = _flat_header(table)
        if table["attrs"]["data-division"] == "open":
            assert "Model used" in header and header[-1] == "Notes"
        else:
            assert "Model used" not in header and "Notes" not in header
        assert header[:8] == [
            "ID",
            "Submitter",
            "System",
            "Processor",
            "Processor count",
            "Accelerator",
            "Accelerator count",
            "Software",
        ]
        tail = header[-3:-1] if table["attrs"]["data-division"] == "open" else header[-2:]
        assert tail == ["Details", "Code"]


def test_links_point_into_the_submission_tree(out):
    folder, _ = out
    count = 0
    for path in folder.glob("results-*.csv"):
        rows = _read_csv(path)
        d = rows[0].index("Details")
        for row in rows[1:]:
            system_json = FIXTURES / urllib.parse.unquote(row[d])
            code = FIXTURES / urllib.parse.unquote(row[d + 1])
            assert system_json.is_file() and system_json.suffix == ".json", row[d]
            assert code.is_dir(), row[d + 1]
            count += 1
    assert count == 14


# --------------------------------------------------------------------------- CSV and Markdown
def test_csv_contents(out):
    folder, _ = out
    rows = _read_csv(folder / "results-edge-closed-available.csv")
    assert rows[0] == [
        "ID",
        "Submitter",
        "System",
        "Processor",
        "Processor count",
        "Accelerator",
        "Accelerator count",
        "Software",
        "ResNet50-v1.5 SingleStream Latency (ms)",
        "ResNet50-v1.5 Offline Samples/s",
        "SSD-MobileNets-v1 SingleStream Latency (ms)",
        "SSD-MobileNets-v1 Offline Samples/s",
        "Details",
        "Code",
    ]
    assert [r[0] for r in rows[1:]] == [f"1.1-00{n}" for n in range(1, 10)]
    alibaba = rows[1]
    assert alibaba[:8] == [
        "1.1-001",
        "Alibaba",
        "Alibaba Cloud Sinian Platform A100 (1x A100-SXM-80GB)",
        "Intel(R) Xeon(R) Platinum 8369B CPU @ 2.90GHz",
        "2",
        "NVIDIA A100-SXM-80GB",
        "1",
        "TensorRT 8.0.1.6, CUDA 11.3",
    ]
    assert alibaba[8:12] == ["", "", "0.286313", "51997.7"]
    assert alibaba[12:] == ["closed/Alibaba/systems/A100-SXM-80GBx1_TRT.json", "closed/Alibaba/code"]
    firefly = rows[6]
    # "-" accelerator and a count of 0 are blank, as in the official sheets.
    assert firefly[1:8] == [
        "Krai",
        "Firefly-RK3399 (firefly)",
        "Arm Cortex-A72 MP2 (big); Arm Cortex-A53 MP4 (LITTLE)",
        "1",
        "",
        "",
        "TFLite v2.5.0 (ruy)",
    ]
    centaur = rows[4]
    assert centaur[12] == "closed/Centaur%20Technology/systems/Centaur-AIC-2.0GHz.json"
    open_dc = _read_csv(folder / "results-datacenter-open-available.csv")
    # The accelerator "N/A" is a missing value to pandas, so the official table shows it blank.
    assert open_dc[1][5] == "" and open_dc[1][8] == "resnet50"
    assert open_dc[0][-1] == "Notes" and open_dc[1][-1].startswith("https://aws.amazon.com/blogs/aws/new-ec2-m5zn")


def test_markdown_contents(out):
    folder, _ = out
    text = (folder / MARKDOWN_FILE).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "# Inference v1.1 results"
    assert "Tables generated by edgeperf from submissions-v1.1-subset.official-summary.csv" in lines[2]
    assert [l for l in lines if l.startswith("## ")] == ["## Datacenter", "## Edge"]
    assert [l for l in lines if l.startswith("### ")] == [
        "### Open — Available",
        "### Closed — Available",
        "### Closed — Preview",
        "### Closed power — Available",
        "### Open — Preview",
    ]
    table_lines = [l for l in lines if l.startswith("| 1.1-")]
    assert [l.split(" | ")[0] for l in table_lines] == [
        "| 1.1-" + n
        for n in ("011", "012", "001", "002", "003", "004", "005", "006", "007", "008", "009", "010", "007", "013")
    ]
    assert any("ResNet50-v1.5 SingleStream Energy per query (J)" in l for l in lines if l.startswith("| ID"))
    xavier = table_lines[12].split(" | ")
    assert xavier[8:12] == ["86.85", "2.27", "12.27", "27.83"]
    assert "[details](closed/Krai/systems/xavier-power.0-fan.cool-tflite-v2.5.0-ruy.json)" in table_lines[12]
    alibaba = table_lines[2].split(" | ")
    assert alibaba[10:12] == ["0.286", "51,997.70"]
    # Every table row has as many cells as its heading.
    for block in text.split("\n\n"):
        rows = [l for l in block.splitlines() if l.startswith("|")]
        if rows:
            widths = {r.replace("\\|", "").count("|") for r in rows}
            assert len(widths) == 1, rows[0]


# --------------------------------------------------------------------------- escaping
def test_text_from_the_summary_is_escaped():
    text = SUMMARY.read_text(encoding="utf-8").replace(
        '"NVIDIA Jetson AGX Xavier"', '"<script>alert(1)</script> | Xavier & co"'
    )
    tables = build_results_tables(build_final_report(parse_summary(text, "s.csv")))
    page = render_html(tables, "t", "n")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; | Xavier &amp; co" in page
    parser = _Tables()
    parser.feed(page)
    systems = [
        row["cells"][2]["text"] for t in parser.tables for row in t["body"] if row["attrs"]["data-id"] == "1.1-007"
    ]
    assert systems == ["<script>alert(1)</script> | Xavier & co"] * 2
    md = render_markdown(tables, "t", "n")
    assert "&lt;script>alert(1)&lt;/script> \\| Xavier & co" in md
    table = [t for t in tables if t.key == "edge-closed-available-power"][0]
    rows = list(csv.reader(render_csv(table).splitlines()))
    assert rows[1][2] == "<script>alert(1)</script> | Xavier & co"
