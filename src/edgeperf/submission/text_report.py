"""The readable report of ``edgeperf check``: grouped by submitter, system, benchmark and scenario.

Each problem reads ``LEVEL [severity] check: message`` with the file and expected/found below it;
the last line is the verdict. INFO findings are shown only with ``verbose``.
"""

from __future__ import annotations

from .._numbers import sig
from .findings import Finding, Severity
from .results import CheckReport, ScenarioResult

__all__ = ["render_text_report"]

_TAG = {
    Severity.FATAL: "ERROR [fatal]",
    Severity.DROP: "ERROR [drop]",
    Severity.SOFT: "ERROR [soft]",
    Severity.WARN: "WARNING",
    Severity.INFO: "INFO",
}


def _fmt(v) -> str:
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    return str(v)


def _finding_lines(f: Finding, indent: str) -> list[str]:
    tag = _TAG[f.severity] + (" (--strict)" if f.promoted else "")
    out = [f"{indent}{tag} {f.check}: {f.message}"]
    if f.file:
        out.append(f"{indent}    file: {f.file}")
    if f.has_expected or f.has_found:
        exp = _fmt(f.expected) if f.has_expected else "-"
        found = _fmt(f.found) if f.has_found else "-"
        out.append(f"{indent}    expected: {exp}   found: {found}")
    return out


def _result_text(r: ScenarioResult) -> str:
    parts = [f"{r.value} {r.units}" + (" (inferred)" if r.inferred else "")]
    parts.append(f"accuracy {r.accuracy}")
    if r.has_power:
        parts.append(f"power {sig(r.power.value)} {r.power.unit}")
    parts.append(f"compliance {r.compliance}")
    if r.errors:
        parts.append(f"errors {r.errors}")
    return "  ".join(parts)


def render_text_report(report: CheckReport, *, verbose: bool = False, show_results: bool = True) -> str:
    """The whole report as text (ending with the verdict line and a newline)."""
    shown = [f for f in report.findings if verbose or f.severity is not Severity.INFO]
    # (division, submitter) -> system -> benchmark -> scenario -> findings
    tree: dict = {}
    top: list[Finding] = []
    for f in shown:
        s = f.scope
        if s.submitter is None:
            top.append(f)
            continue
        node = tree.setdefault((s.division, s.submitter), {}).setdefault(s.system, {})
        node.setdefault(s.benchmark, {}).setdefault(s.scenario, []).append(f)
    for loc, res in report.entries.items():
        parts = loc.split("/")
        if len(parts) >= 4 and parts[2] == "results" and (show_results or res is None):
            node = tree.setdefault((parts[0], parts[1]), {}).setdefault(parts[3], {})
            if len(parts) >= 5:
                node = node.setdefault(parts[4], {})
                if len(parts) >= 6:
                    node.setdefault(parts[5], [])

    lines = [
        f"edgeperf check: {report.root} (rules {report.options.version}"
        + (", strict" if report.options.strict else "")
        + ")",
        "",
    ]
    for f in top:
        lines += _finding_lines(f, "")
    for division, submitter in sorted(tree, key=lambda k: (k[0] or "", k[1] or "")):
        lines.append(f"{division} / {submitter}")
        systems = tree[(division, submitter)]
        for system in sorted(systems, key=lambda k: k or ""):
            base = f"{division}/{submitter}/results/{system}"
            node = systems[system]
            if system is not None:
                lines.append(
                    f"  {system}" + ("  NoResults" if base in report.entries and report.entries[base] is None else "")
                )
            for bench in sorted(node, key=lambda k: k or ""):
                scen = node[bench]
                if bench is not None:
                    mkey = f"{base}/{bench}"
                    lines.append(
                        f"    {bench}"
                        + ("  NoResults" if mkey in report.entries and report.entries[mkey] is None else "")
                    )
                for sc in sorted(scen, key=lambda k: k or ""):
                    if sc is not None:
                        res = report.entries.get(f"{base}/{bench}/{sc}")
                        status = _result_text(res) if res is not None else "NoResults"
                        lines.append(f"      {sc:<14} {status}")
                    ind = "        " if sc is not None else ("      " if bench is not None else "    ")
                    for f in scen[sc]:
                        lines += _finding_lines(f, ind)
    lines.append("")
    hidden = len(report.findings) - len(shown)
    lines.append(
        f"{len(report.results)} results, {len(report.no_results)} NoResults, {report.error_count} errors, "
        f"{report.warning_count} warnings" + (f", {hidden} info notes (--verbose shows them)" if hidden else "")
    )
    for key in report.no_results:
        lines.append(f"NoResults {key}")
    lines.append(report.verdict().line)
    return "\n".join(lines) + "\n"
