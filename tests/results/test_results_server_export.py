"""The page's server and export (no browser): read-only HTTP, loopback by default, links that
resolve, paths from the database checked before they touch the filesystem, markup escaped."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import threading
import urllib.parse
from pathlib import Path

import pytest

from edgeperf.results.errors import ResultsError, UnsafePathError
from edgeperf.results.export import export_html
from edgeperf.results.ingest import ingest_tree
from edgeperf.results.links import LinkMode, safe_tree_path
from edgeperf.results.server import make_server
from edgeperf.results.store import open_store

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
VENDOR = Path(__file__).resolve().parents[2] / "src/edgeperf/results/static/vendor/chart.umd.min.js"


@pytest.fixture
def served(tmp_path, tree_copy):
    """A server over a store holding the tree copy: yields (host, port, store, tree_root)."""
    store = open_store(f"sqlite:///{tmp_path / 'r.sqlite3'}", create=True)
    ingest_tree(store, tree_copy)
    server = make_server(store, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[0], server.server_address[1], store, tree_copy
    finally:
        server.shutdown()
        server.server_close()
        store.close()


def _request(host, port, method, path, body=None):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request(method, path, body=body)  # the raw path: no client-side normalisation
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def _page_data(html: str) -> dict:
    m = re.search(r'<script id="edgeperf-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


# --------------------------------------------------------------------------- server
def test_server_binds_loopback_and_serves_the_page(served):
    host, port, _, _ = served
    assert host == "127.0.0.1"
    status, headers, body = _request(host, port, "GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    data = _page_data(body.decode("utf-8"))
    assert [t["key"] for t in data["trees"][0]["tables"]][:2] == ["closed-available", "closed-preview"]
    for path in ("/static/app.js", "/static/app.css", "/static/vendor/chart.umd.min.js"):
        status, headers, _ = _request(host, port, "GET", path)
        assert status == 200, path
    assert _request(host, port, "GET", "/static/../server.py")[0] == 404
    assert _request(host, port, "HEAD", "/")[0] == 200


def test_cli_serves_on_loopback_by_default():
    import inspect

    from edgeperf.cli.results_cmd import serve

    assert inspect.signature(serve).parameters["host"].default.default == "127.0.0.1"
    assert inspect.signature(make_server).parameters["host"].default == "127.0.0.1"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_server_has_no_write_endpoints(served, method):
    host, port, store, _ = served
    before = store.dump()
    status, headers, _ = _request(host, port, method, "/", body=b"x=1")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    for path in ("/index.html", "/details/1/1.html", "/tree/1/closed/"):
        assert _request(host, port, method, path, body=b"")[0] == 405
    assert store.dump() == before


def test_every_link_of_the_served_page_resolves(served):
    host, port, _, _ = served
    data = _page_data(_request(host, port, "GET", "/")[2].decode("utf-8"))
    hrefs = {r[k] for t in data["trees"][0]["tables"] for r in t["rows"] for k in ("details", "code")}
    # 13 systems; 7 code folders: closed Alibaba, Centaur, Edgecortix, Krai, cTuning; open Edgecortix, OctoML.
    assert len(hrefs) == 13 + 7
    for href in hrefs:
        status, headers, body = _request(host, port, "GET", "/" + href)
        assert status == 200, href
        if href.startswith("details/"):
            page = body.decode("utf-8")
            for inner in re.findall(r'href="((?!data:)[^"]+)"', page):
                target = urllib.parse.urljoin("/" + href, inner)
                assert _request(host, port, "GET", target)[0] == 200, (href, inner)


def test_tree_files_are_plain_text_and_sandboxed(served):
    host, port, _, _ = served
    status, headers, body = _request(host, port, "GET", "/tree/1/closed/Alibaba/systems/A10x1_TRT.json")
    assert status == 200 and headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["Content-Security-Policy"].startswith("sandbox") and headers["X-Content-Type-Options"] == "nosniff"
    assert json.loads(body)["submitter"] == "Alibaba"
    status, headers, body = _request(host, port, "GET", "/tree/1/closed/Alibaba/code/")
    assert status == 200 and b"README" in body


def test_paths_leaving_the_tree_are_refused(served):
    host, port, _, tree = served
    os.symlink("/etc", tree / "closed" / "Alibaba" / "code" / "escape")
    for path in (
        "/tree/1/../../../etc/passwd",
        "/tree/1/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/tree/1/closed/..%2f..%2f..%2fetc/passwd",
        "/tree/1/closed/Alibaba/code/escape/passwd",
        "/tree/1//etc/passwd",
        "/tree/1/closed/%00/x",
        "/tree/2/closed/",
        "/details/1/999.html",
    ):
        status, _, body = _request(host, port, "GET", path)
        assert status in (404, 301) and b"root:" not in body, path


def test_a_tampered_tree_root_serves_nothing(served):
    from sqlalchemy import update

    from edgeperf.results.schema import trees

    host, port, store, _ = served
    with store.engine.begin() as conn:
        conn.execute(update(trees).values(root="/"))
    for path in ("/tree/1/etc/passwd", "/tree/1/"):
        status, _, body = _request(host, port, "GET", path)
        assert status == 404 and b"root:" not in body, path


def test_tampered_database_paths_never_reach_the_filesystem(tmp_path, tree_copy):
    from sqlalchemy import update

    from edgeperf.results.schema import systems

    with open_store(f"sqlite:///{tmp_path / 'r.sqlite3'}", create=True) as store:
        ingest_tree(store, tree_copy)
        with store.engine.begin() as conn:
            conn.execute(
                update(systems)
                .where(systems.c.platform == "A10x1_TRT")
                .values(submitter="../../../../etc", platform="passwd")
            )
        result = export_html(store, tmp_path / "site")
        names = {p.relative_to(result.out).as_posix() for p in result.out.rglob("*")}
        assert all(
            re.fullmatch(
                r"(static(/vendor)?(/[\w.-]+)?|index\.html|\.edgeperf-results-export|details(/\d+(/\d+\.html)?)?)", n
            )
            for n in names
        ), names
        tampered = next(p for p in (result.out / "details" / "1").iterdir() if "passwd" in p.read_text())
        # No link is made to a path that leaves the tree.
        assert "etc" not in " ".join(re.findall(r'href="([^"]+)"', tampered.read_text()))


def test_safe_tree_path(tmp_path):
    root = tmp_path / "tree"
    (root / "a").mkdir(parents=True)
    (root / "closed").mkdir()
    (root / "a" / "f.txt").write_text("x")
    os.symlink(tmp_path, root / "a" / "up")
    assert safe_tree_path(str(root), "a/f.txt") == str((root / "a" / "f.txt").resolve())
    for bad in ("../x", "a/../../x", "/etc/passwd", "a//f.txt", "a/./f.txt", "a\\..\\x", "a/up/elsewhere", "a\x00"):
        with pytest.raises(UnsafePathError):
            safe_tree_path(str(root), bad)
    with pytest.raises(UnsafePathError):
        safe_tree_path("relative/root", "a")
    with pytest.raises(UnsafePathError, match="not a submission tree"):
        safe_tree_path("/", "etc/passwd")


# --------------------------------------------------------------------------- export
def test_export_links_resolve_from_disk(tmp_path, tree_copy):
    with open_store(f"sqlite:///{tmp_path / 'r.sqlite3'}", create=True) as store:
        ingest_tree(store, tree_copy)
        result = export_html(store, tmp_path / "site")
    out = result.out
    assert (result.trees, result.tables, result.details) == (1, 5, 13)
    data = _page_data((out / "index.html").read_text(encoding="utf-8"))
    count = 0
    for table in data["trees"][0]["tables"]:
        for row in table["rows"]:
            details = out / urllib.parse.unquote(row["details"])
            code = (out / urllib.parse.unquote(row["code"])).resolve()
            assert details.is_file() and code.is_dir() and code.name == "code" and tree_copy in code.parents
            page = details.read_text(encoding="utf-8")
            for href in re.findall(r'href="((?!data:)[^"]+)"', page):
                assert (details.parent / urllib.parse.unquote(href)).resolve().exists(), href
            count += 1
    assert count == 14
    for src in re.findall(r'(?:src|href)="((?!data:)[^"]+)"', (out / "index.html").read_text(encoding="utf-8")):
        assert (out / src).is_file(), src


def test_export_with_links_base_points_at_the_published_tree(tmp_path, subset_tree):
    base = "https://github.com/mlcommons/inference_results_v1.1/tree/main"
    with open_store(f"sqlite:///{tmp_path / 'r.sqlite3'}", create=True) as store:
        ingest_tree(store, subset_tree, links_base=base + "/")
        result = export_html(store, tmp_path / "site")
    data = _page_data((result.out / "index.html").read_text(encoding="utf-8"))
    codes = {r["code"] for t in data["trees"][0]["tables"] for r in t["rows"]}
    assert f"{base}/closed/Centaur%20Technology/code" in codes and all(c.startswith(base) for c in codes)


def test_export_refuses_a_foreign_folder_and_replaces_its_own(tmp_path, subset_tree):
    with open_store(f"sqlite:///{tmp_path / 'r.sqlite3'}", create=True) as store:
        ingest_tree(store, subset_tree)
        foreign = tmp_path / "mine"
        foreign.mkdir()
        (foreign / "notes.txt").write_text("keep")
        with pytest.raises(ResultsError, match="not empty and was not made by export-html"):
            export_html(store, foreign)
        assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
        first = export_html(store, tmp_path / "site")
        (first.out / "details" / "stale.html").write_text("old")
        again = export_html(store, tmp_path / "site")
        assert not (again.out / "details" / "stale.html").exists() and (again.out / "index.html").is_file()
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".site")) == []


def test_submission_strings_are_escaped(tmp_path, tree_copy):
    system = tree_copy / "closed/Alibaba/systems/A10x1_TRT.json"
    desc = json.loads(system.read_text(encoding="utf-8"))
    desc["system_name"] = HOSTILE
    system.write_text(json.dumps(desc), encoding="utf-8")
    with open_store(f"sqlite:///{tmp_path / 'r.sqlite3'}", create=True) as store:
        ingest_tree(store, tree_copy)
        result = export_html(store, tmp_path / "site")
    index = (result.out / "index.html").read_text(encoding="utf-8")
    assert "<script>window" not in index and "<img" not in index
    systems = {r["system"] for t in _page_data(index)["trees"][0]["tables"] for r in t["rows"]}
    assert HOSTILE in systems  # the data keeps the name as it is; the page shows it as text
    details = [p.read_text(encoding="utf-8") for p in (result.out / "details" / "1").iterdir()]
    hit = [d for d in details if "window.__pwned" in d]
    assert len(hit) == 1
    assert (
        "&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt;" in hit[0]
    )
    assert "<script>window" not in hit[0] and "<img" not in hit[0]


def test_vendored_chartjs_is_the_recorded_npm_file():
    digest = hashlib.sha256(VENDOR.read_bytes()).hexdigest()
    readme = (VENDOR.parent / "README.md").read_text(encoding="utf-8")
    assert digest in readme
    assert VENDOR.read_text(encoding="utf-8").startswith("/*!\n * Chart.js v4.6.1")


def test_link_modes(tmp_path):
    root = tmp_path / "tree"
    (root / "closed" / "A b" / "code").mkdir(parents=True)
    serve, export = LinkMode("serve"), LinkMode("export", out_dir=str(tmp_path / "out"))
    assert serve.tree_href(3, str(root), "", "closed/A b/code", directory=True) == "tree/3/closed/A%20b/code/"
    assert export.tree_href(3, str(root), "", "closed/A b/code", directory=True) == "../tree/closed/A%20b/code/"
    assert serve.tree_href(3, str(root), "", "closed/missing", directory=True) is None
    assert (
        export.tree_href(3, str(root), "https://x.org/t", "closed/A b/code", directory=True)
        == "https://x.org/t/closed/A%20b/code"
    )
    assert export.tree_href(3, str(root), "", "../../etc", directory=True) is None


def test_page_script_never_parses_markup():
    # Submission strings reach the page only through textContent and setAttribute.
    script = (VENDOR.parent.parent / "app.js").read_text(encoding="utf-8")
    script = re.sub(r"/\*.*?\*/", "", script, flags=re.S)  # comments may name the sinks
    script = re.sub(r"^\s*//.*$", "", script, flags=re.M)
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script, sink
