"""The page's data (no browser): every number of the official summary in its table and column,
perf per watt from the official power rows, and JSON that cannot break out of its element."""

from __future__ import annotations

import csv
import json

import pytest

from results_fixtures import OFFICIAL_SUMMARY

from edgeperf.results.ingest import ingest_tree
from edgeperf.results.links import LinkMode
from edgeperf.results.page import build_page_data, perf_per_joule
from edgeperf.results.render import embed_json, render_index
from edgeperf.results.store import open_store

POWER_UNITS = ("Watts", "Joules", "Joules/Stream")


def _official() -> list[dict[str, str]]:
    with open(OFFICIAL_SUMMARY, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def data(tmp_path, subset_tree):
    with open_store(f"sqlite:///{tmp_path / 'r.sqlite3'}", create=True) as store:
        ingest_tree(store, subset_tree)
        yield build_page_data(store, LinkMode("serve"))


def _find(table, row):
    for r in table["rows"]:
        if r["platform"] == row["Platform"] and (not table["open"] or r["model_used"] == row["Model"]):
            return r
    raise AssertionError(f"{row['Platform']} {row['Model']} not in {table['key']}")


def _column(table, row):
    keys = [(c["model"], c["scenario"], c["units"]) for c in table["columns"]]
    return keys.index((row["MlperfModel"], row["Scenario"], row["Units"]))


def test_every_official_number_is_in_its_table(data):
    (tree,) = data["trees"]
    tables = {t["key"]: t for t in tree["tables"]}
    # Official: closed available (edge), closed preview (edge), open available (datacenter), open
    # preview (edge), and the closed available power table (Krai's xavier).
    assert set(tables) == {
        "closed-available",
        "closed-preview",
        "open-available",
        "open-preview",
        "closed-available-power",
    }
    checked = 0
    for row in _official():
        category = row["Availability"].lower()
        keys = (
            [f"{row['Division']}-{category}-power"]
            if row["Units"] in POWER_UNITS
            else [f"{row['Division']}-{category}"]
        )
        if row["has_power"] == "True" and row["Units"] not in POWER_UNITS:
            keys.append(f"{row['Division']}-{category}-power")  # power tables repeat the performance column
        for key in keys:
            table = tables[key]
            r = _find(table, row)
            assert r["values"][_column(table, row)] == float(row["Result"]), (key, row["Location"])
            assert row["SystemType"] in r["suite"].split(",")
            checked += 1
    assert checked == 32
    cells = sum(v is not None for t in tables.values() for r in t["rows"] for v in r["values"])
    assert cells == checked  # and nothing else


def test_perf_per_watt_from_the_official_power_rows(data):
    rows = [r for r in _official() if r["Platform"] == "xavier-power.0-fan.cool-tflite-v2.5.0-ruy"]
    value = {(r["Scenario"], r["Units"]): float(r["Result"]) for r in rows}
    (tree,) = data["trees"]
    table = next(t for t in tree["tables"] if t["key"] == "closed-available")
    row = next(r for r in table["rows"] if r["platform"] == "xavier-power.0-fan.cool-tflite-v2.5.0-ruy")
    by_col = {(c["scenario"], c["units"]): i for i, c in enumerate(table["columns"]) if c["model"] == "resnet"}
    offline = row["perf_per_watt"][by_col[("Offline", "Samples/s")]]
    single = row["perf_per_watt"][by_col[("SingleStream", "Latency (ms)")]]
    assert offline == pytest.approx(value[("Offline", "Samples/s")] / value[("Offline", "Watts")], rel=1e-12)
    assert single == pytest.approx(1 / value[("SingleStream", "Joules")], rel=1e-12)
    firefly = next(r for r in table["rows"] if r["platform"] == "firefly-tflite-v2.5.0-ruy")
    assert all(v is None for v in firefly["perf_per_watt"])


def test_perf_per_joule_rules():
    assert perf_per_joule("Offline", 100.0, 4.0) == 25.0
    assert perf_per_joule("Server", 10.0, 5.0) == 2.0
    assert perf_per_joule("SingleStream", 3.2, 0.5) == 2.0
    assert perf_per_joule("Offline", 100.0, None) is None
    assert perf_per_joule("Offline", 100.0, 0.0) is None


def test_embedded_json_cannot_close_its_element():
    hostile = {"s": "</script><script>alert(1)</script><!-- & \u2028"}
    text = embed_json(hostile)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == hostile
    page = render_index({"format": "x", "trees": [], "perf_per_watt_label": "", "s": hostile["s"]}, served=False)
    assert page.count("<script") == 3  # the data element and the two local scripts, nothing else
    assert "http://" not in page and "https://" not in page  # nothing fetched from elsewhere
