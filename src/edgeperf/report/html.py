"""``report.html``: one self-contained page per run (inline CSS, PNGs as data URIs, no scripts).

The page shows the title and trademark note, the headline result with VALID/INVALID and the
reasons, every summary value, the test parameters, and the three plots (when the in-process
latency arrays are known). All text from logs or the SUT is escaped.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import os
from pathlib import Path
from typing import Iterable

from .._atomic import atomic_write
from .data import ReportError, RunData, format_ns

__all__ = ["REPORT_FILE", "TRADEMARK_NOTE", "render_report", "write_report", "report_from_log_dir"]

REPORT_FILE = "report.html"
TRADEMARK_NOTE = "MLPerf is a trademark of MLCommons; this is not an official MLPerf result."
NO_SERIES_NOTE = (
    "This report was made from the log files alone. The plots need the in-process data of the run "
    "(each sample's latency and completion time), which the logs do not hold."
)
_PARAMS_SECTION = "Test Parameters Used"

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:980px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:1.6em;margin:0 0 4px}
h2{font-size:1.2em;margin:28px 0 10px;border-bottom:1px solid #d5d9e0;padding-bottom:4px}
h3{font-size:1em;margin:18px 0 6px;color:#3a4250}
.tm{color:#6b7280;font-size:.9em;margin:0 0 6px}
.meta{color:#4b5563;font-size:.9em;margin:0}
.card{background:#fff;border:1px solid #d5d9e0;border-radius:8px;padding:16px 20px;margin-top:16px}
.verdict{display:inline-block;font-weight:700;font-size:1.1em;padding:4px 12px;border-radius:6px;color:#fff;background:#6b7280}
.verdict.valid{background:#2e7d32}.verdict.invalid{background:#c62828}
.banner{background:#fff4e5;border-left:4px solid #e65100;padding:8px 14px;margin-top:12px;font-weight:600}
.result{font-size:1.35em;margin:10px 0 4px}.result .label{color:#4b5563;font-size:.75em;display:block}
.checks{margin:8px 0;padding-left:20px}.no{color:#c62828;font-weight:600}
.reasons{background:#fdecea;border-left:4px solid #c62828;padding:8px 14px;margin-top:10px}
.reasons ul{margin:4px 0;padding-left:20px}
.note{color:#4b5563;font-style:italic}
table{border-collapse:collapse;background:#fff;width:100%;font-size:.92em}
td,th{border:1px solid #e0e3e8;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#eef0f4;font-weight:600}td.v{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
figure{margin:16px 0;background:#fff;border:1px solid #d5d9e0;border-radius:8px;padding:8px}
figure img{max-width:100%;height:auto;display:block;margin:0 auto}
figcaption{color:#4b5563;font-size:.9em;margin-top:4px}
details{margin-top:12px}summary{cursor:pointer;color:#374151}
footer{margin-top:32px;color:#6b7280;font-size:.85em}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _table(rows: Iterable[tuple[str, str | None]], head: tuple[str, str] = ("Label", "Value")) -> str:
    body = []
    for key, value in rows:
        if value is None:
            body.append(f'<tr><th colspan="2">{_e(key)}</th></tr>')
        else:
            body.append(f'<tr><td>{_e(key)}</td><td class="v">{_e(value)}</td></tr>')
    return f"<table><thead><tr><th>{_e(head[0])}</th><th>{_e(head[1])}</th></tr></thead><tbody>{''.join(body)}</tbody></table>"


def _human_value(label: str, value: str) -> str:
    """``508841`` → ``508841 ns (508.8 µs)`` for labels measured in ns."""
    if "(ns)" in label and value.strip().lstrip("-").isdigit():
        return f"{value} ns ({format_ns(int(value))})"
    return value


# --------------------------------------------------------------------------- sections
def _num(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text or "0"


def _accuracy_card(acc) -> str:
    """An accuracy run's headline: PASS/FAIL against the quality target, the figure, missing samples."""
    passed = bool(acc.get("passed"))
    unit = acc.get("unit", "")
    parts = [
        '<section class="card" id="accuracy">',
        f'<span class="verdict {"valid" if passed else "invalid"}">{"PASS" if passed else "FAIL"}</span>',
        f'<p class="result"><span class="label">Accuracy ({_e(acc.get("metric", ""))})</span>'
        f"{_e(_num(float(acc['value'])) + unit)}</p>",
        f"<p>Target: {_e(acc.get('metric', ''))} &gt;= {_e(_num(float(acc['target'])) + unit)}"
        + (
            f" ({_e(acc['fraction'])} x the reference {_e(_num(float(acc['reference'])) + unit)})"
            if "reference" in acc
            else ""
        )
        + f" &mdash; {'reached' if passed else 'not reached'}.</p>",
    ]
    missing = int(acc.get("missing_samples", 0))
    expected = acc.get("expected_samples")
    css = ' class="no"' if missing else ""
    of = f" of {expected}" if expected is not None else ""
    parts.append(
        f"<p>Missing samples: <span{css}>{missing}</span>{_e(of)} have no entry in mlperf_log_accuracy.json.</p>"
    )
    if acc.get("official_line"):
        parts.append(f"<p>Official line: <code>{_e(acc['official_line'])}</code></p>")
    parts.append("</section>")
    return "".join(parts)


def _headline(run: RunData) -> str:
    if run.accuracy is not None and run.validity is None:
        return _accuracy_card(run.accuracy)
    validity = run.validity
    cls = {"VALID": "valid", "INVALID": "invalid"}.get(validity or "", "")
    parts = [f'<section class="card" id="result"><span class="verdict {cls}">{_e(validity or "no result")}</span>']
    head = run.headline()
    if head is not None:
        label, value = head
        parts.append(f'<p class="result"><span class="label">{_e(label)}</span>{_e(_human_value(label, value))}</p>')
    elif validity is None:
        if "accuracy" in (run.mode or "").lower():
            parts.append(
                '<p class="note">An accuracy run: its result is the accuracy figure in accuracy.txt, '
                "not a performance value (none was measured).</p>"
            )
        else:
            parts.append('<p class="note">The summary has no performance result: the run did not finish.</p>')
    mark = run.marked_value_ns()
    if mark is not None and run.scenario:
        _, what = run.plotted_latencies()
        role = "decides the result" if run.decides() else "for information: Offline has no latency constraint"
        line = f"{run.target_percentile * 100:g}th percentile {what.lower()}: {format_ns(mark)} ({role})"
        if run.target_latency_ns:
            line += f"; bound {format_ns(run.target_latency_ns)}"
        parts.append(f"<p>{_e(line)}</p>")
    layout = run.layout()
    checks = []
    for section in layout.sections[:1]:
        for key, value in section.rows:
            if value is not None and key.endswith("satisfied"):
                css = "" if value == "Yes" else ' class="no"'
                checks.append(f"<li>{_e(key)}: <span{css}>{_e(value)}</span></li>")
    if checks:
        parts.append(f'<ul class="checks">{"".join(checks)}</ul>')
    recs = run.recommendations()
    if recs or validity == "INVALID":
        items = "".join(f"<li>{_e(r)}</li>" for r in recs) or "<li>No reason was logged.</li>"
        parts.append(f'<div class="reasons"><strong>Recommendations</strong><ul>{items}</ul></div>')
    if layout.footer:
        parts.append("".join(f"<p>{_e(line)}</p>" for line in layout.footer))
    parts.append(_detail_problems(run))
    parts.append("</section>")
    return "".join(parts)


def _dataset_notes(run: RunData) -> str:
    """The data set's warnings (each names its count), in a card of their own."""
    if not run.dataset_notes:
        return ""
    items = "".join(f"<li>{_e(note)}</li>" for note in run.dataset_notes)
    return f'<section class="card" id="dataset"><h2>Data set</h2><ul>{items}</ul></section>'


def _detail_problems(run: RunData) -> str:
    if run.detail is None:
        return ""
    out = []
    for name, records in (("Errors", run.detail.errors()), ("Warnings", run.detail.warnings())):
        if records:
            items = "".join(f"<li><code>{_e(r.get('key'))}</code>: {_e(r.get('value'))}</li>" for r in records[:50])
            more = f"<li>… and {len(records) - 50} more</li>" if len(records) > 50 else ""
            out.append(
                f"<details><summary>{name} in the detail log ({len(records)})</summary><ul>{items}{more}</ul></details>"
            )
    return "".join(out)


def _summary_tables(run: RunData) -> str:
    layout = run.layout()
    values = [s for s in layout.sections if s.title != _PARAMS_SECTION]
    params = [s for s in layout.sections if s.title == _PARAMS_SECTION]
    out = ['<section id="summary"><h2>Summary values</h2>']
    if not values:
        out.append('<p class="note">The summary log has no values.</p>')
    for section in values:
        if section.title:
            out.append(f"<h3>{_e(section.title)}</h3>")
        out.append(_table(section.rows))
    out.append('</section><section id="parameters"><h2>Test parameters used</h2>')
    if params:
        out.append(_table(params[0].rows, ("Parameter", "Value")))
    else:
        out.append('<p class="note">The summary log lists no test parameters.</p>')
    if run.detail is not None:
        effective = [(r["key"], _json_text(r["value"])) for r in run.detail if str(r["key"]).startswith("effective_")]
        if effective:
            out.append(
                "<details><summary>Effective settings from the detail log</summary>"
                + _table(effective, ("Setting", "Value"))
                + "</details>"
            )
    out.append("</section>")
    return "".join(out)


def _json_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _img(png: bytes, alt: str, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{_e(alt)}" width="800">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _power(run: RunData) -> str:
    """The power card: the metric as the results table names it, and the power-over-time plot."""
    p = run.power
    if p is None:
        return ""
    value = f"{p.value:,.6g} {p.unit}"
    average = (
        f"Average {p.average_watts:,.6g} W over {p.sample_count} samples strictly inside the "
        f"{p.window_s:.3f} s LoadGen power window."
    )
    out = [
        f'<section class="card" id="power"><h2>Power</h2><p class="result"><span class="label">{_e(p.label)}</span>'
        f"{_e(value)}</p>",
        f"<p>{_e(average)}</p>",
    ]
    if p.note:
        out.append(f'<p class="note">{_e(p.note)}</p>')
    from . import plots

    try:
        png = plots.power_png(p.offsets_s, p.watts, p.window_s, p.average_watts)
    except plots.PlotsUnavailable as exc:
        out.append(f'<p class="note">{_e(exc)}</p>')
    else:
        out.append(
            _img(png, "Power over time", "Analyzer samples over the testing run; the LoadGen power window is shaded.")
        )
    out.append("</section>")
    return "".join(out)


def _plots(run: RunData) -> str:
    out = ['<section id="plots"><h2>Plots</h2>']
    if not run.has_series and "accuracy" in (run.mode or "").lower():
        out.append(
            '<p class="note">An accuracy run issues every sample once to score the answers; its '
            "latencies are not a result, so it has no plots.</p></section>"
        )
        return "".join(out)
    if not run.has_series:
        out.append(f'<p class="note">{_e(NO_SERIES_NOTE)}</p></section>')
        return "".join(out) + _power(run)
    from . import plots  # matplotlib stays unimported until a report with plots is drawn

    latencies, what = run.plotted_latencies()
    p = run.target_percentile
    mark = run.marked_value_ns()
    bound = run.target_latency_ns
    decides = run.decides()
    pct = f"{p * 100:g}th percentile"
    try:
        hist = plots.latency_histogram_png(latencies, p, mark, bound, label=what, decides=decides)
        cdf = plots.latency_cdf_png(latencies, p, mark, bound, label=what, decides=decides)
        tput = plots.throughput_png(run.completion_offsets_ns)
    except plots.PlotsUnavailable as exc:
        out.append(f'<p class="note">{_e(exc)}</p></section>')
        return "".join(out)
    role = "the percentile that decides the result" if decides else "for information"
    out.append(_img(hist, f"{what} histogram", f"{what} histogram; the {pct} ({role}) is marked."))
    out.append(
        _img(
            cdf,
            f"{what} CDF",
            f"{what} CDF; the {pct} ({role}) is marked" + (", with the latency bound." if bound else "."),
        )
    )
    out.append(_img(tput, "Throughput over time", "Completed samples per second over the series."))
    out.append("</section>")
    return "".join(out) + _power(run)


# --------------------------------------------------------------------------- page
def render_report(run: RunData, *, generated_at: _dt.datetime | None = None) -> str:
    """The whole page as a string (see `write_report`)."""
    from edgeperf import __version__

    when = (generated_at or _dt.datetime.now(_dt.timezone.utc)).strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    meta = [f"Scenario: {run.scenario or 'unknown'}", f"Mode: {run.mode or 'unknown'}"]
    if run.sut_name:
        meta.append(f"SUT: {run.sut_name}")
    if run.log_dir:
        meta.append(f"Logs: {run.log_dir}")
    body = [
        "<header>",
        f"<h1>{_e(run.title)}</h1>",
        f'<p class="tm">{_e(TRADEMARK_NOTE)}</p>',
        f'<p class="meta">{_e(" · ".join(meta))}</p>',
        "</header>",
        "".join(f'<p class="banner">{_e(note)}</p>' for note in run.notes),
        _headline(run),
        _dataset_notes(run),
        _accuracy_card(run.accuracy) if run.accuracy is not None and run.validity is not None else "",
        _summary_tables(run),
        _plots(run),
        f"<footer><p>{_e(f'Generated by edgeperf {__version__} at {when}. {TRADEMARK_NOTE}')}</p></footer>",
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(run.title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def write_report(path: str | os.PathLike, run: RunData) -> Path:
    """Write ``report.html`` for ``run`` and return its path.

    ``path`` is the file to write, or a directory (the page goes to ``<dir>/report.html``, beside
    the logs). The file is written to a temporary name in the same directory and renamed over the
    target, so a reader never sees half a page and a failure leaves nothing behind.
    """
    target = Path(path)
    if target.is_dir():
        target = target / REPORT_FILE
    if not target.parent.is_dir():
        raise ReportError(f"{target}: cannot write the report: directory {target.parent} does not exist")
    text = render_report(run)
    try:
        atomic_write(target, text)
    except OSError as exc:
        raise ReportError(f"{target}: cannot write the report: {exc.strerror or exc}") from None
    return target


def report_from_log_dir(log_dir: str | os.PathLike, path: str | os.PathLike | None = None) -> Path:
    """Write the report of a log directory (summary values only, no plots) beside its logs."""
    run = RunData.from_log_dir(log_dir)
    return write_report(Path(log_dir) if path is None else path, run)
