"""The results page's HTML: the index page (the data embedded as JSON) and one Details page per
system (rendered here, in Python, with every string escaped).

The index page is a shell: ``app.js`` draws the tables from the JSON in the page, using DOM text
nodes only (never ``innerHTML`` with data), so a system named ``<script>`` shows as text. The
JSON sits in a ``<script type="application/json">`` element with ``<``, ``>``, ``&`` and the line
separators written as ``\\uXXXX`` escapes, so no string can close the element. Nothing is
fetched at run time: the scripts and the stylesheet are files beside the page.
"""

from __future__ import annotations

import html
import json
from typing import Any

from ..submission.report import report_note

__all__ = ["ASSETS", "embed_json", "render_index", "render_details"]

#: The static files the page loads, relative to the page (vendored Chart.js first).
ASSETS: tuple[str, ...] = ("static/vendor/chart.umd.min.js", "static/app.js", "static/app.css")
TITLE = "edgeperf results explorer"


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def embed_json(data: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>``, no ``<!--``)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def render_index(data: dict[str, Any], *, served: bool) -> str:
    """The page; ``served`` only changes the footer's words."""
    note = report_note("the results store", unofficial=True)
    mode = "served read-only by edgeperf results serve" if served else "exported by edgeperf results export-html"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # No scripts or styles from anywhere but this folder; no inline script runs.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; script-src 'self'; "
        "style-src 'self'; img-src 'self' data:; connect-src 'none'; object-src 'none'; base-uri 'none'\">"
        f"<title>{_e(TITLE)}</title>"
        '<link rel="stylesheet" href="static/app.css"><link rel="icon" href="data:,">'
        "</head><body>"
        "<header><h1>Results explorer</h1>"
        f'<p class="tm">{_e(note)}</p></header>'
        '<main id="app"><p class="loading">Loading… (this page needs JavaScript)</p></main>'
        f"<footer>edgeperf, {_e(mode)}</footer>"
        f'<script id="edgeperf-data" type="application/json">{embed_json(data)}</script>'
        '<script src="static/vendor/chart.umd.min.js"></script>'
        '<script src="static/app.js"></script>'
        "</body></html>\n"
    )


_DETAILS_CSS = "../../static/app.css"


def render_details(
    tree: dict[str, Any],
    system: dict[str, Any],
    results: list[dict[str, Any]],
    findings: list[dict[str, Any]],
    links: dict[str, str | None],
) -> str:
    """One system's page: its description, every result of it with status, power and findings.

    ``links``: ``system_json``, ``results``, ``code`` hrefs (None where they would not resolve).
    """
    try:
        desc = json.loads(system["description"]) if system["description"] else None
    except ValueError:
        desc = None
    name = desc.get("system_name") if isinstance(desc, dict) else None
    title = f"{name or system['platform']} — {system['submitter']} ({system['division']})"
    body = [
        '<p class="back"><a href="../../index.html">← all results</a></p>',
        f"<h1>{_e(title)}</h1>",
        f'<p class="tm">{_e(report_note("the results store", unofficial=True))}</p>',
        f"<p>Tree <b>{_e(tree['name'])}</b> ({_e(tree['round'])}), system <code>{_e(system['platform'])}</code>. "
        f"Checker verdict: {_e(tree['verdict_line'])}</p>",
    ]
    link_items = [
        (label, links.get(key))
        for key, label in (("system_json", "system description JSON"), ("results", "results folder"), ("code", "code"))
    ]
    shown = [f'<a href="{_e(href)}">{_e(label)}</a>' for label, href in link_items if href]
    if shown:
        body.append('<p class="links">' + " · ".join(shown) + "</p>")
    body.append(
        '<h2>Results</h2><div class="scroll"><table class="plain"><thead><tr>'
        + "".join(
            f"<th>{h}</th>"
            for h in (
                "Benchmark",
                "Model",
                "Scenario",
                "Status",
                "Result",
                "Units",
                "Accuracy",
                "Power metric",
                "Power units",
                "Compliance",
                "Errors",
            )
        )
        + "</tr></thead><tbody>"
    )
    for r in results:
        status = "valid" if r["status"] == "valid" else "NoResults"
        cells: tuple[Any, ...] = (
            r["benchmark"],
            r["model"],
            r["scenario"],
            status,
            "" if r["value"] is None else repr(r["value"]),
            r["units"],
            r["accuracy"],
            "" if r["power_value"] is None else repr(r["power_value"]),
            r["power_units"],
            r["compliance"],
            r["errors"],
        )
        body.append(f'<tr class="{_e(r["status"])}">' + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    body.append("</tbody></table></div>")
    body.append(f"<h2>Findings ({len(findings)})</h2>")
    if findings:
        body.append(
            '<div class="scroll"><table class="plain"><thead><tr><th>Severity</th><th>Check</th>'
            "<th>Message</th><th>File</th><th>Expected</th><th>Found</th></tr></thead><tbody>"
        )
        for f in findings:
            cells = (f["severity"], f["check_id"], f["message"], f["file"], f["expected"], f["found"])
            body.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
        body.append("</tbody></table></div>")
    else:
        body.append("<p>The checker found nothing to report for this system.</p>")
    body.append("<h2>System description</h2>")
    if isinstance(desc, dict):
        body.append('<table class="plain kv"><tbody>')
        for key, value in desc.items():
            shown_value = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            body.append(f"<tr><th>{_e(key)}</th><td>{_e(shown_value)}</td></tr>")
        body.append("</tbody></table>")
    else:
        body.append("<p>The system description JSON could not be read.</p>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; style-src 'self'; "
        "img-src data:; script-src 'none'; object-src 'none'; base-uri 'none'\">"
        f'<title>{_e(title)}</title><link rel="stylesheet" href="{_DETAILS_CSS}">'
        '<link rel="icon" href="data:,"></head>'
        f'<body class="details"><main>{"".join(body)}</main></body></html>\n'
    )
