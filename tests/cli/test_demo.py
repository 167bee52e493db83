"""`edgeperf demo` end to end (shortened durations): the tree, the checker's verdict, the table,
the JSON, and the results page opened in headless Chromium.

Expected values come from the files the demo wrote, read here independently (LoadGen summaries,
accuracy.txt, model.json), and from a fresh run of the checker on the tree.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgeperf.benchmarks.demo_digits import demo_model_record
from edgeperf.cli.main import build_app
from edgeperf.workflow.demo_power import simulator_power_measurer

SCENARIOS = ("SingleStream", "MultiStream", "Server", "Offline")
LABEL = "NOT COMPLIANT"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    json_path = out.parent / "demo-outcome.json"
    # A narrow terminal: nothing may be cut or wrapped to fit it.
    result = CliRunner().invoke(
        build_app(),
        ["demo", "--output", str(out), "--duration", "0.3", "--json", str(json_path)],
        env={"COLUMNS": "40"},
    )
    return out, result, json_path


def _summary_value(path: Path, key: str) -> float:
    text = path.read_text()
    return float(re.search(rf"^{re.escape(key)}\s*:\s*([0-9.]+)\s*$", text, re.M).group(1))


def _row(output: str, scenario: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(scenario + " "))


@pytest.mark.slow
def test_demo_exits_zero_and_labels_its_output_not_compliant(demo):
    out, result, _ = demo
    assert result.exit_code == 0, result.output
    assert LABEL in result.output
    assert "[1/27] find-peak: Server rate" in result.output and "[27/27] results page" in result.output
    if simulator_power_measurer() is None:
        assert "power: skipped: power simulator not available in this build" in result.output
        assert "Power: power simulator not available in this build" in result.output
    else:
        assert f"Power: measured on the power simulator: {out / 'power'}" in result.output


@pytest.mark.slow
def test_demo_power_run_is_in_the_tree_when_the_simulator_is_there(demo):
    out, result, _ = demo
    if simulator_power_measurer() is None:
        pytest.skip("this build has no power simulator (edgeperf.power director/client)")
    perf = (
        out
        / "submission"
        / "open"
        / "edgeperf-demo"
        / "results"
        / "edgeperf-demo-system"
        / "demo-digits"
        / "Offline"
        / "performance"
    )
    for name in ("power/client.json", "power/server.json", "ranging/spl.txt", "run_1/spl.txt"):
        assert (perf / name).is_file(), name
    data = json.loads((out / "demo.json").read_text())
    offline = next(r for r in data["results"] if r["scenario"] == "Offline")
    assert offline["power"] and "Watts" in _row(result.output, "Offline")


@pytest.mark.slow
def test_demo_tree_has_every_scenario_and_the_compliance_tests(demo):
    out, result, _ = demo
    sub = out / "submission" / "open" / "edgeperf-demo"
    systems = list((sub / "systems").glob("*.json"))
    assert [p.name for p in systems] == ["edgeperf-demo-system.json"]
    system = json.loads(systems[0].read_text())
    assert system["division"] == "open" and LABEL in system["hw_notes"]
    base = sub / "results" / "edgeperf-demo-system" / "demo-digits"
    for scenario in SCENARIOS:
        assert (base / scenario / "performance" / "run_1" / "mlperf_log_detail.txt").is_file()
        assert (base / scenario / "accuracy" / "accuracy.txt").is_file()
        meas = sub / "measurements" / "edgeperf-demo-system" / "demo-digits" / scenario
        assert (meas / "mlperf.conf").is_file() and (meas / "user.conf").is_file()
        tests = {p.name for p in (sub / "compliance" / "edgeperf-demo-system" / "demo-digits" / scenario).iterdir()}
        expected = {"TEST01", "TEST05"} | (set() if scenario == "MultiStream" else {"TEST04-A", "TEST04-B"})
        assert tests == expected
    for step in ("accuracy", "performance"):
        report = out / "runs" / "demo-digits" / "Offline" / step / "report.html"
        assert LABEL in report.read_text()


@pytest.mark.slow
def test_demo_verdict_is_the_checkers(demo):
    out, result, _ = demo
    from edgeperf.submission import CheckOptions, check_tree

    report = check_tree(out / "submission", CheckOptions(extra_model_map={"demo-digits": "resnet"}))
    verdict = report.verdict()
    assert verdict.exit_code == 0 and not report.no_results and len(report.results) == 4
    assert f"Checker: {verdict.line}" in result.output
    again = CliRunner().invoke(
        build_app(), ["check", str(out / "submission"), "--extra-model-map", "demo-digits:resnet", "--quiet"]
    )
    assert again.exit_code == 0, again.output


@pytest.mark.slow
def test_demo_table_shows_what_the_logs_and_accuracy_files_say(demo):
    out, result, _ = demo
    res = out / "submission" / "open" / "edgeperf-demo" / "results" / "edgeperf-demo-system" / "demo-digits"
    recorded = demo_model_record()["held_out_accuracy"]
    expected = {
        "SingleStream": _summary_value(
            res / "SingleStream/performance/run_1/mlperf_log_summary.txt", "90th percentile latency (ns)"
        )
        / 1e6,
        "MultiStream": _summary_value(
            res / "MultiStream/performance/run_1/mlperf_log_summary.txt", "Samples per query"
        ),
        "Server": _summary_value(
            res / "Server/performance/run_1/mlperf_log_summary.txt", "Scheduled samples per second"
        ),
        "Offline": _summary_value(res / "Offline/performance/run_1/mlperf_log_summary.txt", "Samples per second"),
    }
    for scenario in SCENARIOS:
        row = _row(result.output, scenario)
        shown = next(c for c in row.split() if re.fullmatch(r"[0-9.]+(e[+-][0-9]+)?", c))  # the Result column
        assert float(shown) == pytest.approx(expected[scenario], rel=1e-5)
        accuracy = re.search(r"^accuracy=([0-9.]+)%", (res / scenario / "accuracy/accuracy.txt").read_text(), re.M)
        assert float(accuracy.group(1)) == recorded  # the whole held-out set, the same model
        assert f"{recorded:.3f}%" in row and "met" in row and "NOT met" not in row
        assert "TEST01 " in row and "TEST05 " in row  # whole cells, on one line, at COLUMNS=40


@pytest.mark.slow
def test_demo_json_is_versioned_and_matches_the_table(demo):
    out, result, json_path = demo
    data = json.loads(json_path.read_text())
    assert data == json.loads((out / "demo.json").read_text())
    assert data["format"] == "edgeperf-demo" and data["version"] == 1
    assert data["compliant_durations"] is False and LABEL in data["label"]
    assert [r["scenario"] for r in data["results"]] == list(SCENARIOS)
    assert data["check"]["exit_code"] == 0
    assert data["paths"]["results_page"] in result.output


@pytest.mark.slow
def test_demo_results_page_opens_in_headless_chromium(demo):
    out, result, _ = demo
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    page_path = Path(json.loads((out / "demo.json").read_text())["paths"]["results_page"])
    assert f"Open the results page: python3 -m webbrowser -t {page_path.resolve().as_uri()}" in result.output
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            headless=True,
            args=["--no-sandbox"],
        )
        try:
            page = browser.new_page()
            page.goto(page_path.resolve().as_uri())
            page.wait_for_load_state("networkidle")
            row = page.locator("tr", has_text="demo-digits")
            if row.count() == 0:
                # The results store's page (edgeperf results) opens on its Closed tab.
                page.get_by_text("Open", exact=True).first.click()
            body = page.inner_text("body")
            assert row.count() >= 1  # a second row in the power table when there is a power result
            assert "edgeperf-demo" in row.first.inner_text() and LABEL in row.first.inner_text()
            assert "not official MLPerf results" in body
            report = out / "runs" / "demo-digits" / "Server" / "performance" / "report.html"
            page.goto(report.resolve().as_uri())
            assert LABEL in page.title()
        finally:
            browser.close()


def test_demo_refuses_bad_durations_and_outputs_with_one_line(tmp_path):
    runner = CliRunner()
    for value in ("inf", "nan", "-1", "0"):
        r = runner.invoke(build_app(), ["demo", "--output", str(tmp_path / "x"), "--duration", value])
        assert r.exit_code == 2, r.output
        assert "--duration: expected a finite number of seconds above 0" in r.output
        assert "Traceback" not in r.output
    a_file = tmp_path / "file"
    a_file.write_text("x")
    r = runner.invoke(build_app(), ["demo", "--output", str(a_file)])
    assert r.exit_code == 2 and "exists and is not a folder" in r.output and "Traceback" not in r.output
    assert a_file.read_text() == "x"
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_demo_json_to_stdout_prints_only_the_json(tmp_path):
    result = CliRunner().invoke(
        build_app(), ["demo", "--output", str(tmp_path / "out"), "--duration", "0.1", "--json", "-"]
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["format"] == "edgeperf-demo" and data["version"] == 1
    assert "[1/27]" in result.stderr and "[1/27]" not in result.stdout
