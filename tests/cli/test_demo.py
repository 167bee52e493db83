"""`edgeperf demo` runs every scenario and its table agrees with the logs it wrote."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from edgeperf.cli.main import build_app


def test_demo_runs_each_scenario_and_reports_what_the_logs_say(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(build_app(), ["demo", "--output", str(out), "--duration", "0.3"], env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    assert "not an MLPerf result" in result.output
    for scenario, metric in (
        ("SingleStream", "90th percentile latency"),
        ("MultiStream", "Samples per query"),
        ("Server", "Scheduled samples per second"),
        ("Offline", "Samples per second"),
    ):
        summary = (out / scenario / "mlperf_log_summary.txt").read_text()
        verdict = re.search(r"^Result is : (VALID|INVALID)$", summary, re.M).group(1)
        row = next(line for line in result.output.splitlines() if f" {scenario} " in line)
        assert metric in row
        assert re.search(rf"\b{verdict}\b", row), row
        assert f"Scenario : {scenario}" in summary
        assert (out / scenario / "mlperf_log_detail.txt").stat().st_size > 0


def test_demo_rejects_an_unknown_scenario(tmp_path):
    result = CliRunner().invoke(build_app(), ["demo", "--output", str(tmp_path), "--scenarios", "Sever"])
    assert result.exit_code == 2
    assert "unknown scenario(s) Sever" in result.output
