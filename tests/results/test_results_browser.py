"""The results page in headless Chromium (Debian's ``chromium`` driven by Playwright), on SQLite
and on PostgreSQL: tabs, filters, sort, compare with bar charts and perf per watt, CSV download,
Details links, layout at 1280 px, and markup in a system name shown as text.

Every number is checked against the official checker's summary of the fixture subset, and the
shown text against an independent formatting of it (two decimals with separators, three
significant digits below 1). Screenshots go to ``test-artifacts/results-browser/`` (git-ignored;
``EDGEPERF_TEST_ARTIFACTS`` moves it).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from results_fixtures import OFFICIAL_SUMMARY

pytestmark = pytest.mark.slow
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (the browser extra) is not installed")

from edgeperf.results.export import export_html  # noqa: E402
from edgeperf.results.ingest import ingest_tree  # noqa: E402
from edgeperf.results.server import make_server  # noqa: E402
from edgeperf.results.store import open_store  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
POWER_UNITS = ("Watts", "Joules", "Joules/Stream")
HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
ARTIFACTS = (
    Path(os.environ.get("EDGEPERF_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts")
    / "results-browser"
)


def _shown(v: float) -> str:
    return f"{v:,.2f}" if v == 0 or abs(v) >= 1 else f"{v:.3g}"


def _official() -> list[dict[str, str]]:
    with open(OFFICIAL_SUMMARY, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.errors = errors
    yield pg
    context.close()


def _serve(store):
    server = make_server(store, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _shot(page, request, name: str) -> None:
    folder = ARTIFACTS / request.node.name.replace("[", "-").replace("]", "")
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _tab(page, group: str, value: str) -> None:
    page.click(f'[data-tabs="{group}"] [data-tab="{value}"]')


def _title(page) -> str:
    return page.locator("#table-title").text_content()


def _cells(page) -> dict[tuple[str, str | None, str, str, str], tuple[float, str]]:
    """{(platform, model used, model, scenario, units): (data-value, text)} of the table shown."""
    return {
        tuple(k): tuple(v)
        for k, v in page.evaluate("""() => {
        const cols = {};
        document.querySelectorAll('#results-table th.m').forEach(th => {
            cols[th.dataset.col] = [th.dataset.model, th.dataset.scenario, th.dataset.unit]; });
        const out = [];
        document.querySelectorAll('#results-table tbody tr').forEach(tr => {
            tr.querySelectorAll('td.res[data-value]').forEach(td => {
                if (td.hidden) return;
                const c = cols[td.dataset.col];
                out.push([[tr.dataset.platform, tr.dataset.modelUsed || null, ...c],
                          [Number(td.dataset.value), td.textContent]]);
            });
        });
        return out; }""")
    }


def _expected(division: str, category: str, power: bool) -> dict:
    out = {}
    for r in _official():
        if (r["Division"], r["Availability"].lower()) != (division, category):
            continue
        if power and r["has_power"] != "True":
            continue
        if not power and r["Units"] in POWER_UNITS:
            continue
        key = (r["Platform"], r["Model"] if division == "open" else None, r["MlperfModel"], r["Scenario"], r["Units"])
        out[key] = (float(r["Result"]), _shown(float(r["Result"])))
    return out


TABS = [  # (division, category, kind, heading) of every table the official summary gives
    ("closed", "available", "performance", "Closed — Available"),
    ("closed", "preview", "performance", "Closed — Preview"),
    ("closed", "available", "power", "Closed power — Available"),
    ("open", "available", "performance", "Open — Available"),
    ("open", "preview", "performance", "Open — Preview"),
]


@pytest.fixture
def store_with_subset(db_url, subset_tree):
    store = open_store(db_url, create=True)
    ingest_tree(store, subset_tree)
    yield store
    store.close()


def test_served_page(store_with_subset, page, request):
    server = _serve(store_with_subset)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        page.goto(url)
        page.wait_for_selector("#results-table")
        assert _title(page) == "Closed — Available"
        n = len({r["Platform"] for r in _official() if r["Division"] == "closed" and r["Availability"] == "available"})
        assert page.locator("#page-info").text_content() == f"Rows 1–{n} of {n}"
        _shot(page, request, "01-closed-available")
        # The results fit beside the text columns at 1280 px.
        last = page.locator("#results-table th.m").last.bounding_box()
        assert last["x"] + last["width"] <= 1280

        # ---- every tab, every number
        links = set()
        for division, category, kind, heading in TABS:
            _tab(page, "division", division)
            _tab(page, "category", category)
            _tab(page, "kind", kind)
            assert _title(page) == heading
            assert _cells(page) == _expected(division, category, kind == "power"), heading
            links |= set(page.eval_on_selector_all("#results-table a", "as => as.map(a => a.href)"))
            _shot(page, request, f"02-{division}-{category}-{kind}")
        # RDI has no results in the subset: its tab is disabled.
        assert page.locator('[data-tabs="category"] [data-tab="rdi"]').is_disabled()
        # ---- every Details and Code link resolves
        assert len(links) == 13 + 7
        for href in links:
            assert page.request.get(href).status == 200, href

        # ---- filters
        _tab(page, "division", "closed")
        _tab(page, "category", "available")
        _tab(page, "kind", "performance")
        page.select_option("#filter-submitter", "Krai")
        krai = {r["Platform"] for r in _official() if r["Organization"] == "Krai" and r["Division"] == "closed"}
        assert set(page.eval_on_selector_all("#results-table tbody tr", "t => t.map(r => r.dataset.platform)")) == krai
        page.select_option("#filter-submitter", "")
        page.select_option("#filter-benchmark", "SSD-MobileNets-v1")
        ssd = {k: v for k, v in _expected("closed", "available", False).items() if k[2] == "ssd-small"}
        assert _cells(page) == ssd
        assert {
            t.split(" ")[0]
            for t in page.eval_on_selector_all(
                "#results-table th.m", "t => t.filter(h => h.offsetParent).map(h => h.dataset.label)"
            )
        } == {"SSD-MobileNets-v1"}
        page.select_option("#filter-benchmark", "")
        page.select_option("#filter-accelerator", "NVIDIA A10")
        assert page.eval_on_selector_all("#results-table tbody tr", "t => t.map(r => r.dataset.platform)") == [
            "A10x1_TRT"
        ]
        page.click("#clear-filters")
        _tab(page, "division", "open")
        page.select_option("#filter-suite", "datacenter")
        octo = sorted(
            {r["Platform"] for r in _official() if r["Division"] == "open" and r["SystemType"] == "datacenter"}
        )
        assert (
            sorted(page.eval_on_selector_all("#results-table tbody tr", "t => t.map(r => r.dataset.platform)")) == octo
        )
        page.select_option("#filter-suite", "edge")
        assert page.locator("#results-table tbody tr").count() == 0
        page.click("#clear-filters")
        _shot(page, request, "03-open-filtered")

        # ---- sort by a result column: ascending, then descending, blanks last both ways
        _tab(page, "division", "closed")
        offline = {
            r["Platform"]: float(r["Result"])
            for r in _official()
            if r["Division"] == "closed"
            and r["Availability"] == "available"
            and r["MlperfModel"] == "ssd-small"
            and r["Scenario"] == "Offline"
        }
        header = page.locator('#results-table th.m[data-model="ssd-small"][data-scenario="Offline"] button')
        header.click()
        order = page.eval_on_selector_all("#results-table tbody tr", "t => t.map(r => r.dataset.platform)")
        assert order[: len(offline)] == sorted(offline, key=offline.get)
        page.locator('#results-table th.m[data-model="ssd-small"][data-scenario="Offline"] button').click()
        order = page.eval_on_selector_all("#results-table tbody tr", "t => t.map(r => r.dataset.platform)")
        assert order[: len(offline)] == sorted(offline, key=offline.get, reverse=True)
        assert (
            page.locator('#results-table th.m[data-model="ssd-small"][data-scenario="Offline"]').get_attribute(
                "aria-sort"
            )
            == "descending"
        )
        page.locator('#results-table th button[data-sort="submitter"]').click()
        subs = page.eval_on_selector_all("#results-table tbody tr td.c-submitter", "t => t.map(c => c.textContent)")
        assert subs == sorted(subs, key=str.lower)
        _shot(page, request, "04-sorted")

        # ---- CSV of the current view (filtered and sorted)
        page.select_option("#filter-submitter", "Alibaba")
        page.select_option("#filter-benchmark", "SSD-MobileNets-v1")
        with page.expect_download() as info:
            page.click("#download-csv")
        download = info.value
        text = Path(download.path()).read_text(encoding="utf-8")
        rows = list(csv.DictReader(io.StringIO(text)))
        official = [r for r in _official() if r["Organization"] == "Alibaba" and r["Availability"] == "available"]
        assert {r["ID"] for r in rows} and len(rows) == len({r["Platform"] for r in official})
        for r in official:
            label = {"ssd-small": "SSD-MobileNets-v1"}[r["MlperfModel"]] + f" {r['Scenario']} {r['Units']}"
            got = next(x for x in rows if x["System"] == r["SystemName"])
            assert float(got[label]) == float(r["Result"])
            assert got["Details"].startswith("http://127.0.0.1") and page.request.get(got["Details"]).status == 200
        # Only the columns in view: the benchmark filter leaves out ResNet50.
        assert [h for h in rows[0] if h.startswith(("ResNet50", "SSD"))] == [
            "SSD-MobileNets-v1 SingleStream Latency (ms)",
            "SSD-MobileNets-v1 Offline Samples/s",
        ]
        # Rows in the order shown (sorted by submitter, then the original order).
        assert [r["ID"] for r in rows] == page.eval_on_selector_all(
            "#results-table tbody tr td.c-id", "t => t.map(c => c.textContent)"
        )
    finally:
        server.shutdown()
        server.server_close()
    assert page.errors == []


def test_compare_and_details(store_with_subset, page, request):
    server = _serve(store_with_subset)
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
        page.wait_for_selector("#results-table")
        official = _official()
        xavier, firefly = "xavier-power.0-fan.cool-tflite-v2.5.0-ruy", "firefly-tflite-v2.5.0-ruy"
        for platform in (xavier, firefly):
            page.check(f'#results-table tr[data-platform="{platform}"] input.pick')
        assert page.locator("#compare-button").text_content() == "Compare selected (2)"
        page.click("#compare-button")
        page.wait_for_selector("#compare canvas")
        _shot(page, request, "05-compare")
        charts = {c["label"]: c for c in page.evaluate("window.edgeperfResults.charts()")}
        value = {
            (r["Platform"], r["Scenario"], r["Units"]): float(r["Result"])
            for r in official
            if r["Platform"] in (xavier, firefly)
        }
        for scenario, units in (("SingleStream", "Latency (ms)"), ("Offline", "Samples/s")):
            chart = charts[f"ResNet50-v1.5 {scenario} {units}"]
            # Systems in table order: firefly (1.1-006) before xavier (1.1-007).
            assert chart["values"] == [value[(firefly, scenario, units)], value[(xavier, scenario, units)]]
            assert chart["labels"][0].startswith("1.1-") and len(chart["labels"]) == 2
        ppw = charts["ResNet50-v1.5 Offline Samples/s Perf per watt (inferences/J)"]["values"]
        assert ppw[1] == pytest.approx(
            value[(xavier, "Offline", "Samples/s")] / value[(xavier, "Offline", "Watts")], rel=1e-12
        )
        assert ppw[0] is None
        ss = charts["ResNet50-v1.5 SingleStream Latency (ms) Perf per watt (inferences/J)"]["values"]
        assert ss[1] == pytest.approx(1 / value[(xavier, "SingleStream", "Joules")], rel=1e-12)
        # The side-by-side table shows the same numbers.
        cells = page.eval_on_selector_all(
            '#compare tr[data-label="ResNet50-v1.5 Offline Samples/s"] td',
            "t => t.map(c => [Number(c.dataset.value), c.textContent])",
        )
        assert cells == [
            [value[(firefly, "Offline", "Samples/s")], _shown(value[(firefly, "Offline", "Samples/s")])],
            [value[(xavier, "Offline", "Samples/s")], _shown(value[(xavier, "Offline", "Samples/s")])],
        ]
        page.click("#close-compare")
        page.wait_for_selector("#results-table")

        # ---- follow a Details link
        name = next(r["SystemName"] for r in official if r["Platform"] == xavier)
        page.click(f'#results-table tr[data-platform="{xavier}"] a.details')
        page.wait_for_load_state()
        assert name in page.locator("h1").text_content()
        rows = page.eval_on_selector_all(
            "table.plain tbody tr", "t => t.map(r => [...r.cells].map(c => c.textContent))"
        )
        results = [r for r in rows if len(r) == 11]
        assert sorted((r[2], float(r[4])) for r in results) == sorted(
            (x["Scenario"], float(x["Result"]))
            for x in official
            if x["Platform"] == xavier and x["Units"] not in POWER_UNITS
        )
        _shot(page, request, "06-details")
        for href in page.eval_on_selector_all("a", "as => as.map(a => a.href)"):
            assert page.request.get(href).status == 200, href
        page.click("text=← all results")
        page.wait_for_selector("#results-table")
    finally:
        server.shutdown()
        server.server_close()
    assert page.errors == []


def test_exported_page_from_file_url(store_with_subset, page, request, tmp_path):
    out = export_html(store_with_subset, tmp_path / "site").out
    page.goto((out / "index.html").as_uri())
    page.wait_for_selector("#results-table")
    for division, category, kind, heading in TABS:
        _tab(page, "division", division)
        _tab(page, "category", category)
        _tab(page, "kind", kind)
        assert _title(page) == heading
        assert _cells(page) == _expected(division, category, kind == "power"), heading
        for href in page.eval_on_selector_all("#results-table a", "as => as.map(a => a.href)"):
            assert href.startswith("file://") and Path(sync_api_url_path(href)).exists(), href
    _tab(page, "division", "closed")
    _tab(page, "category", "available")
    _tab(page, "kind", "performance")
    page.click('#results-table tr[data-platform="A10x1_TRT"] a.details')
    page.wait_for_load_state()
    assert "Alibaba Cloud Sinian Platform A10" in page.locator("h1").text_content()
    _shot(page, request, "07-file-details")
    assert page.errors == []


def sync_api_url_path(href: str) -> str:
    from urllib.parse import unquote, urlsplit

    return unquote(urlsplit(href).path)


def test_script_in_a_system_name_renders_as_text(db_url, tree_copy, page, request, tmp_path):
    system = tree_copy / "closed/Alibaba/systems/A10x1_TRT.json"
    desc = json.loads(system.read_text(encoding="utf-8"))
    desc["system_name"] = HOSTILE
    system.write_text(json.dumps(desc), encoding="utf-8")
    with open_store(db_url, create=True) as store:
        ingest_tree(store, tree_copy)
        server = _serve(store)
        try:
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
            page.wait_for_selector("#results-table")
            cell = page.locator('#results-table tr[data-platform="A10x1_TRT"] td.c-system')
            assert cell.text_content() == HOSTILE
            assert cell.locator("script, img").count() == 0
            assert page.evaluate("window.__pwned") is None
            _shot(page, request, "08-script-as-text")
            page.click('#results-table tr[data-platform="A10x1_TRT"] a.details')
            page.wait_for_load_state()
            assert HOSTILE in page.locator("h1").text_content()
            assert page.locator("main script, main img").count() == 0
            assert page.evaluate("window.__pwned") is None
        finally:
            server.shutdown()
            server.server_close()
        out = export_html(store, tmp_path / "site").out
    page.goto((out / "index.html").as_uri())
    page.wait_for_selector("#results-table")
    assert page.locator('#results-table tr[data-platform="A10x1_TRT"] td.c-system').text_content() == HOSTILE
    assert page.evaluate("window.__pwned") is None
    assert page.errors == []


def test_trees_and_rounds_side_by_side_in_the_page(db_url, subset_tree, tree_copy, page, request, tmp_path):
    with open_store(db_url, create=True) as store:
        ingest_tree(store, subset_tree, name="published")
        ingest_tree(store, tree_copy, name="mine")
        ingest_tree(store, subset_tree, round="v1.0", name="published")
        out = export_html(store, tmp_path / "site").out
    page.goto((out / "index.html").as_uri())
    page.wait_for_selector("#results-table")
    options = page.eval_on_selector_all("#filter-tree option", "o => o.map(x => x.textContent)")
    assert options == ["published · v1.0", "mine · v1.1", "published · v1.1"]
    assert page.locator(".verdict").text_content().startswith("PASS WITH ERRORS LOGGED: 28 results")
    page.select_option("#filter-tree", label="mine · v1.1")
    assert page.locator(".verdict").text_content() == "PASS: 28 results, 0 NoResults, no errors, 0 warnings"
    assert _cells(page) == _expected("closed", "available", False)
    _shot(page, request, "09-tree-select")
    assert page.errors == []
