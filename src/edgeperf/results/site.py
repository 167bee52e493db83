"""The page's files, shared by ``serve`` and ``export-html``: the static assets and the Details
pages. Names are fixed or made of database integers; no submission string becomes a file name.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from .links import LinkMode
from .render import render_details
from .store import Store

__all__ = ["STATIC_FILES", "static_files", "details_pages", "details_page"]

#: Every static file the page uses: URL path → file inside the package's ``static`` folder.
STATIC_FILES: dict[str, str] = {
    "static/app.js": "app.js",
    "static/app.css": "app.css",
    "static/vendor/chart.umd.min.js": "vendor/chart.umd.min.js",
    "static/vendor/chart.js-LICENSE.md": "vendor/chart.js-LICENSE.md",
}


def static_files() -> dict[str, bytes]:
    """The static assets, read from the installed package."""
    root = resources.files("edgeperf.results") / "static"
    out = {}
    for url, name in STATIC_FILES.items():
        node = root
        for part in name.split("/"):
            node = node / part
        out[url] = node.read_bytes()
    return out


def _system_links(links: LinkMode, tree: dict[str, Any], system: dict[str, Any]) -> dict[str, str | None]:
    d, s, p = system["division"], system["submitter"], system["platform"]
    href = lambda rel, directory: links.tree_href(  # noqa: E731
        tree["id"], tree["root"], tree.get("links_base", ""), rel, from_depth=2, directory=directory
    )
    return {
        "system_json": href(f"{d}/{s}/systems/{p}.json", False),
        "results": href(f"{d}/{s}/results/{p}", True),
        "code": href(f"{d}/{s}/code", True),
    }


def _tree_info(store: Store, tree_id: int) -> dict[str, Any] | None:
    record = store.tree(tree_id)
    if record is None:
        return None
    return {
        "id": record.id,
        "name": record.name,
        "round": record.round,
        "root": record.root,
        "verdict_line": record.verdict_line,
        "links_base": record.links_base,
    }


def _pages_for_tree(store: Store, tree: dict[str, Any], links: LinkMode, only: int | None = None) -> dict[str, bytes]:
    systems = [s for s in store.systems(tree["id"]) if only is None or s["id"] == only]
    if not systems:
        return {}
    results = store.results(tree["id"])
    findings = store.findings(tree["id"])
    out = {}
    for system in systems:
        prefix = f"{system['division']}/{system['submitter']}/results/{system['platform']}"
        mine = [r for r in results if r["location"] == prefix or r["location"].startswith(prefix + "/")]
        found = [f for f in findings if f["location"] == prefix or f["location"].startswith(prefix + "/")]
        html = render_details(tree, system, mine, found, _system_links(links, tree, system))
        out[f"details/{int(tree['id'])}/{int(system['id'])}.html"] = html.encode("utf-8")
    return out


def details_pages(store: Store, data: dict[str, Any], links: LinkMode) -> dict[str, bytes]:
    """Every Details page of the trees in the page data."""
    out: dict[str, bytes] = {}
    for t in data["trees"]:
        info = _tree_info(store, t["id"])
        if info is not None:
            out.update(_pages_for_tree(store, info, links))
    return out


def details_page(store: Store, tree_id: int, system_id: int, links: LinkMode) -> bytes | None:
    """One system's Details page, or None when the store has no such system."""
    info = _tree_info(store, tree_id)
    if info is None:
        return None
    return _pages_for_tree(store, info, links, only=system_id).get(f"details/{tree_id}/{system_id}.html")
