"""The demo's results: the system description and measurement JSON it files, the power run's
place in the runs folder, the results page, and the rows of its results table."""

from __future__ import annotations

import json
import os
import platform
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .demo_settings import DEMO_BENCHMARK, DEMO_SCENARIOS, SUBMITTER, SYSTEM_NAME


@dataclass
class DemoRow:
    """One line of the demo's results table."""

    scenario: str
    metric: str
    value: Any
    units: str
    valid: bool
    accuracy: float | None
    accuracy_ok: bool
    compliance: dict[str, str] = field(default_factory=dict)
    power: str = ""


#: The measurement JSON of every scenario (what the checker needs to know about the model).
MEASUREMENT = {
    "input_data_types": "fp32",
    "retraining": "No",
    "starting_weights_filename": "edgeperf/benchmarks/data/demo-digits/model.onnx (tools/train_demo_model.py)",
    "weight_data_types": "fp32",
    "weight_transformations": "none",
}


def add_power_run(runs: Path, power_dir: Path) -> None:
    """Put the measured run (``run_1``, with ``power/`` and ``ranging/``) in the Offline performance
    folder, where the builder takes ``run_1`` as the result and carries the power files with it."""
    target = runs / DEMO_BENCHMARK / "Offline" / "performance"
    for name in ("power", "ranging", "run_1"):
        src = Path(power_dir) / name
        if src.is_dir():
            dst = target / name
            if dst.exists():
                shutil.rmtree(dst)
            shutil.copytree(src, dst)


def write_system_json(folder: Path, note: str) -> Path:
    """The system description of this machine, with the fields a person would fill in set for the demo."""
    from ..submission.build.system_json import TODO_PREFIX, machine_system_json

    data = machine_system_json("open", SUBMITTER)
    data["status"] = "available"
    data["system_name"] = f"edgeperf demo on {platform.node() or 'this machine'}"
    # What only a person can tell (storage, and anything the machine did not report) stays
    # visibly unknown rather than invented.
    for key, value in list(data.items()):
        if isinstance(value, str) and value.upper().startswith(TODO_PREFIX):
            data[key] = "not measured by the demo"
    # The results table shows "<hw_notes>. <sw_notes>": the label comes first.
    data["hw_notes"] = note
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{SYSTEM_NAME}.json"
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def tree_readme(note: str) -> str:
    return (
        f"# edgeperf demo submission tree\n\n{note}.\n\n"
        "An Open-division tree for edgeperf's demo-digits benchmark, built by `edgeperf demo`. "
        "Check it with the v1.1 checker, telling it the model class of demo-digits:\n\n"
        "    edgeperf check . --extra-model-map 'demo-digits:resnet'\n\n"
        "MLPerf is a trademark of MLCommons; this is not an official MLPerf result.\n"
    )


def default_page_writer():
    """The results page writer this build offers: the results store's page (:func:`store_results_page`)
    when ``edgeperf.results`` and its ``results`` extra are installed, else :func:`report_tables_page`."""
    import importlib.util

    try:
        have_store = (
            importlib.util.find_spec("edgeperf.results.ingest") is not None
            and importlib.util.find_spec("sqlalchemy") is not None
        )
    except ImportError:
        have_store = False
    return store_results_page if have_store else report_tables_page


def store_results_page(tree: Path, summary_csv: Path, folder: Path) -> Path:
    """The results page of ``edgeperf results``: the tree checked (with its extra model map) into a
    SQLite store beside ``folder`` (``results.sqlite3``), then exported as static files."""
    from ..benchmarks.registry import open_model_map
    from ..results import export_html, open_store
    from ..results.ingest import build_payload
    from ..submission import CheckOptions, check_tree

    del summary_csv  # the store keeps the checker's own rows
    folder = Path(folder)
    report = check_tree(tree, CheckOptions(extra_model_map=open_model_map()))
    with open_store(str(folder.parent / "results.sqlite3"), create=True) as store:
        store.ingest(build_payload(report, name="edgeperf demo"))
        export_html(store, folder)
    return folder / "index.html"


def report_tables_page(tree: Path, summary_csv: Path, folder: Path) -> Path:
    """The results page from the checker's ``summary.csv`` (``edgeperf report``'s HTML tables)."""
    from ..submission.report import HTML_FILE, write_report

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    links = os.path.relpath(Path(tree), folder)
    write_report(summary_csv, folder, ("html", "csv", "md"), links_base=links, unofficial=True)
    return folder / HTML_FILE


_METRIC = {
    "SingleStream": "90th percentile latency",
    "MultiStream": "samples per query",
    "Server": "scheduled queries per second",
    "Offline": "samples per second",
}


def _verify_verdicts(tree: Path, scenario: str) -> dict[str, str]:
    """TEST01 / TEST04 / TEST05 -> PASS, FAIL or "not verified", from the tree's verify files.

    The TEST04-A/B pair has one verdict, written in TEST04-A (as the official verification does).
    """
    base = tree / "open" / SUBMITTER / "compliance" / SYSTEM_NAME / DEMO_BENCHMARK / scenario
    out: dict[str, str] = {}
    if not base.is_dir():
        return out
    for test in sorted(p for p in base.iterdir() if p.is_dir() and p.name != "TEST04-B"):
        texts = [f.read_text(errors="replace") for f in sorted(test.glob("verify_*.txt"))]
        name = "TEST04" if test.name == "TEST04-A" else test.name
        if not texts:
            out[name] = "not verified"
        else:
            out[name] = "FAIL" if any("TEST FAIL" in t for t in texts) else "PASS"
    return out


def result_rows(report, tree: Path, target: float, power_dir: Path | None) -> list[DemoRow]:
    by_scenario = {r.scenario: r for r in report.results}
    rows = []
    for scenario in DEMO_SCENARIOS:
        r = by_scenario.get(scenario)
        accuracy = _accuracy_of(tree, scenario)
        power = ""
        if r is not None and r.has_power:
            power = f"{r.power.value:g} {r.power.unit or ''}".strip()
        rows.append(
            DemoRow(
                scenario=scenario,
                metric=_METRIC[scenario],
                value=r.value if r is not None else None,
                units=r.units if r is not None else "",
                valid=r is not None,
                accuracy=accuracy,
                accuracy_ok=accuracy is not None and accuracy >= target,
                compliance=_verify_verdicts(tree, scenario),
                power=power,
            )
        )
    return rows


def _accuracy_of(tree: Path, scenario: str) -> float | None:
    path = tree / "open" / SUBMITTER / "results" / SYSTEM_NAME / DEMO_BENCHMARK / scenario / "accuracy" / "accuracy.txt"
    try:
        text = path.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("accuracy="):
            return float(line.split("=", 1)[1].split("%", 1)[0])
    return None
