"""``edgeperf report SUMMARY.csv --output DIR [--format ...]``: files, messages and exit status."""

from __future__ import annotations

import pytest

typer = pytest.importorskip("typer")

from typer.testing import CliRunner  # noqa: E402

from fixture_paths import OFFICIAL_SUMMARY  # noqa: E402

SUMMARY = OFFICIAL_SUMMARY


def _app():
    """The edgeperf app when it has the report command, else one holding just that command."""
    from edgeperf.cli.main import build_app

    app = build_app()
    if any(c.name == "report" for c in app.registered_commands):
        return app
    from edgeperf.cli.report_cmd import report

    app = typer.Typer()
    app.callback()(lambda: None)
    app.command("report")(report)
    return app


def _run(*args: str):
    return CliRunner().invoke(_app(), ["report", *args])


def test_report_writes_every_format(tmp_path):
    pytest.importorskip("openpyxl")
    out = tmp_path / "out"
    result = _run(str(SUMMARY), "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "30 summary rows, 13 ids, 4 official sheets, 5 results tables" in result.output
    names = sorted(p.name for p in out.iterdir())
    assert "final-report.xlsx" in names and "results.html" in names and "results.md" in names
    assert len([n for n in names if n.startswith("results-") and n.endswith(".csv")]) == 5
    for name in names:
        assert f"wrote {out / name}" in result.output


def test_report_chosen_formats_only(tmp_path):
    out = tmp_path / "out"
    result = _run(str(SUMMARY), "-o", str(out), "--format", "html,md")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["results.html", "results.md"]


def test_report_links_base_and_unofficial_note(tmp_path):
    out = tmp_path / "out"
    base = "https://github.com/mlcommons/inference_results_v1.1/tree/main"
    result = _run(str(SUMMARY), "-o", str(out), "--format", "html", "--links-base", base + "/", "--unofficial")
    assert result.exit_code == 0, result.output
    page = (out / "results.html").read_text(encoding="utf-8")
    assert f'href="{base}/closed/Krai/systems/xavier-power.0-fan.cool-tflite-v2.5.0-ruy.json"' in page
    assert f'href="{base}/closed/Centaur%20Technology/code"' in page
    assert "these are not official MLPerf results" in page


def test_report_bad_summary_message_and_exit(tmp_path):
    bad = tmp_path / "summary.csv"
    bad.write_text(SUMMARY.read_text(encoding="utf-8").replace("20866.1", "lots", 1), encoding="utf-8")
    out = tmp_path / "out"
    result = _run(str(bad), "--output", str(out))
    assert result.exit_code == 2
    assert f"edgeperf: {bad}:7: column 'Result': 'lots' is not a number" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_report_missing_summary(tmp_path):
    result = _run(str(tmp_path / "none.csv"), "--output", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "none.csv: no such file" in result.output
    assert not (tmp_path / "out").exists()


def test_report_unknown_format(tmp_path):
    result = _run(str(SUMMARY), "--output", str(tmp_path / "out"), "--format", "xlsx,pdf")
    assert result.exit_code == 2
    assert "unknown report format 'pdf'" in result.output
    assert not (tmp_path / "out").exists()


def test_report_output_is_a_file(tmp_path):
    target = tmp_path / "taken"
    target.write_text("keep")
    result = _run(str(SUMMARY), "--output", str(target), "--format", "md")
    assert result.exit_code == 2
    assert "must be a folder" in result.output
    assert target.read_text() == "keep"
