"""Reading summary.csv for the report: pandas-compatible values, and one clear error per bad file.

Each malformed summary gives one SummaryError naming the file, the line and the column, and
write_report leaves nothing behind: no output folder it created, no temporary file, and files
already there untouched.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fixture_paths import OFFICIAL_SUMMARY

from edgeperf.submission.report import (
    SUMMARY_COLUMNS,
    SummaryError,
    build_final_report,
    build_results_tables,
    parse_formats,
    parse_summary,
    read_summary,
    write_report,
)

SUMMARY = OFFICIAL_SUMMARY
TEXT = SUMMARY.read_text(encoding="utf-8")
LINES = TEXT.splitlines(keepends=True)
HEADER = LINES[0].rstrip("\n").split(",")


def _with_field(line_no: int, column: str, value: str) -> str:
    """The fixture text with one field of line ``line_no`` (1-based) replaced (row has no quoted commas)."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(TEXT, newline="")))
    rows[line_no - 1][HEADER.index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _error(text: str) -> SummaryError:
    with pytest.raises(SummaryError) as info:
        parse_summary(text, "summary.csv")
    return info.value


# --------------------------------------------------------------------------- malformed files
def test_missing_file(tmp_path):
    with pytest.raises(SummaryError, match=r"nope\.csv: no such file"):
        read_summary(tmp_path / "nope.csv")


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(SummaryError, match="is a directory"):
        read_summary(tmp_path)


def test_empty_file():
    err = _error("")
    assert err.line == 1 and "empty" in str(err)


def test_header_only():
    err = _error(LINES[0])
    assert err.line == 1 and "no result rows" in str(err)


def test_missing_columns():
    header = [c for c in HEADER if c not in ("Units", "has_power")] + ["power"]
    err = _error(",".join(header) + "\n")
    assert err.line == 1
    assert "'has_power', 'Units'" in str(err) and "26-column" in str(err)


def test_duplicate_column():
    err = _error(LINES[0].rstrip("\n") + ",Result\n" + "".join(LINES[1:]))
    assert (err.line, err.column) == (1, "Result") and "twice" in str(err)


def test_wrong_field_count_names_the_line():
    lines = list(LINES)
    lines[6] = lines[6].rstrip("\n") + ",extra\n"
    err = _error("".join(lines))
    assert err.line == 7 and "expected 27 fields" in str(err) and "found 28" in str(err)
    assert str(err).startswith("summary.csv:7: ")


def test_stray_quote():
    lines = list(LINES)
    lines[3] = lines[3].replace('"Amazon EC2 (m5zn.6xlarge)"', '"Amazon EC2 (m5zn.6xlarge)')
    err = _error("".join(lines))
    assert err.line == 4 and "expected 27 fields as in the header, found 19" in str(err)


def test_unterminated_quote():
    lines = list(LINES)
    lines[3] = lines[3].replace(",Samples/s\n", ',"Samples/s\n')
    err = _error("".join(lines))
    assert err.line == 4 and "unterminated quote" in str(err)


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("Result", "fast", "'fast' is not a number"),
        ("Result", "", "is empty; expected a number"),
        ("Result", "inf", "not a finite number"),
        ("host_processors_per_node", "two", "'two' is not a number"),
        ("number_of_nodes", "1.5", "'1.5' is not a whole number"),
        ("accelerators_per_node", "x", "'x' is not a number"),
        ("has_power", "yes", "'yes' is not True or False"),
        ("Scenario", "Streaming", "'Streaming' is not one of SingleStream, MultiStream, Server, Offline"),
        ("MlperfModel", "gpt", "'gpt' is not one of resnet"),
        ("Units", "fps", "'fps' is not one of Latency (ms)"),
        ("Division", "closd", "'closd' is not one of closed, open"),
        ("SystemType", "mobile", "is not edge, datacenter"),
        ("Availability", "soon", "'soon' is not available, preview or rdi"),
        ("Organization", "", "is empty"),
        ("Platform", "NA", "is empty"),
    ],
)
def test_bad_value_names_file_line_and_column(column, value, message):
    err = _error(_with_field(9, column, value))
    assert (err.path, err.line, err.column) == ("summary.csv", 9, column)
    assert message in str(err)
    assert str(err).startswith(f"summary.csv:9: column {column!r}: ")


def test_line_numbers_count_multiline_fields():
    lines = list(LINES)
    lines[1] = lines[1].replace('"Dynamic Neural Accelerator F-Series"', '"Dynamic Neural\nAccelerator F-Series"')
    text = "".join(lines)
    rows = parse_summary(text).rows
    assert rows[0].line == 2 and rows[1].line == 4  # the quoted newline takes a line
    bad = text.replace("885.048", "8x5", 1)  # OctoML's first row: line 5 of the file
    assert _error(bad).line == 5


def test_not_utf8(tmp_path):
    path = tmp_path / "summary.csv"
    path.write_bytes(TEXT.encode("utf-8").replace(b"Alibaba", b"Alib\xe4ba", 1))
    with pytest.raises(SummaryError, match=r"summary\.csv:6: not UTF-8|is not UTF-8") as info:
        read_summary(path)
    assert info.value.line == 6


# --------------------------------------------------------------------------- nothing half-written
def _bad_summary(tmp_path: Path) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text(_with_field(5, "Result", "oops"), encoding="utf-8")
    return path


def test_bad_summary_creates_no_output_folder(tmp_path):
    out = tmp_path / "out" / "nested"
    with pytest.raises(SummaryError):
        write_report(_bad_summary(tmp_path), out)
    assert not (tmp_path / "out").exists()


def test_bad_summary_leaves_existing_files_alone(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.html").write_text("old page")
    with pytest.raises(SummaryError):
        write_report(_bad_summary(tmp_path), out)
    assert [p.name for p in out.iterdir()] == ["results.html"]
    assert (out / "results.html").read_text() == "old page"


def test_failed_write_removes_its_temporary_files(tmp_path, monkeypatch):
    import edgeperf.submission.report.output as output

    out = tmp_path / "out"
    out.mkdir()
    (out / "results.md").write_text("old")
    real_replace = output.os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        raise OSError(28, "No space left on device", str(dst))

    monkeypatch.setattr(output.os, "replace", failing_replace)
    with pytest.raises(OSError):
        write_report(SUMMARY, out, ("md", "html"))
    monkeypatch.setattr(output.os, "replace", real_replace)
    assert calls and sorted(p.name for p in out.iterdir()) == ["results.md"]
    assert (out / "results.md").read_text() == "old"


def test_output_that_is_a_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(NotADirectoryError, match="must be a folder"):
        write_report(SUMMARY, target, ("md",))
    assert target.read_text() == "x"


def test_xlsx_without_openpyxl_writes_nothing(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_openpyxl(name, *args, **kwargs):
        if name == "openpyxl" or name.startswith("openpyxl."):
            raise ImportError("No module named 'openpyxl'", name="openpyxl")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_openpyxl)
    with pytest.raises(ImportError, match=r"pip install 'edgeperf\[submission\]'"):
        write_report(SUMMARY, tmp_path / "out", ("md", "xlsx"))
    assert not (tmp_path / "out").exists()


def test_parse_formats():
    assert parse_formats(None) == ("xlsx", "csv", "md", "html")
    assert parse_formats("html, XLSX,html") == ("html", "xlsx")
    assert parse_formats("markdown") == ("md",)
    with pytest.raises(ValueError, match="unknown report format 'pdf'"):
        parse_formats("html,pdf")
    with pytest.raises(ValueError, match="no report format"):
        parse_formats(" , ")


# --------------------------------------------------------------------------- values as pandas reads them
def test_pandas_missing_values_and_official_fixes():
    text = _with_field(10, "accelerator_model_name", "-")
    text = text.replace("Alibaba,available,", "Alibaba,on-premise,", 1)
    report = build_final_report(parse_summary(text))
    by_platform = {e.platform: e for e in report.entries}
    # "N/A" is missing to pandas → blank; "-" is blanked by the tool; a count of 0 is blank.
    octo = by_platform["aws-m5zn.6xlarge-tvm"]
    assert (octo.accelerator, octo.accelerators) == ("", None)
    (a100_ss,) = [e for e in report.entries if e.row.line == 10]
    assert (a100_ss.platform, a100_ss.accelerator, a100_ss.accelerators) == ("A100-SXM-80GBx1_TRT", "", 1)
    # on-premise counts as available (line 6 is Alibaba's first row).
    assert {e.availability for e in report.entries if e.submitter == "Alibaba"} == {"available"}
    # The "2 (big); 4 (LITTLE)" core count is no obstacle; p# = processors per node x nodes.
    assert by_platform["firefly-tflite-v2.5.0-ruy"].processors == 1
    assert by_platform["gcp-n2-standard-80-tvm"].processors == 2


def test_processor_count_multiplies_nodes():
    report = build_final_report(parse_summary(_with_field(4, "number_of_nodes", "3")))
    octo = [e for e in report.entries if e.platform == "aws-m5zn.6xlarge-tvm"][0]
    assert octo.processors == 3


def test_duplicate_cells_are_averaged():
    lines = list(LINES)
    dup = lines[5].replace("0.29926", "0.39926")  # a second Alibaba A10 SingleStream row
    report = build_final_report(parse_summary("".join(lines[:6] + [dup] + lines[6:])))
    sheet = {s.name: s for s in report.sheets}["closed,edge"]
    row = [r for r in sheet.rows if r.index[0] == "1.1-002"][0]
    col = sheet.columns.index(("ssd-small", "SingleStream", "Latency (ms)"))
    assert row.values[col] == pytest.approx(0.34926, rel=1e-12)
    tables = build_results_tables(report)
    table = [t for t in tables if t.key == "edge-closed-available"][0]
    assert [r for r in table.rows if r.id == "1.1-002"][0].values[2] == pytest.approx(0.34926, rel=1e-12)


def test_dual_suite_system_warns_and_is_left_out_of_official_sheets():
    text = TEXT.replace("cTuning,available,closed,edge,", 'cTuning,available,closed,"datacenter,edge",')
    summary = parse_summary(text, "s.csv")
    assert summary.warnings and "matches neither suite" in summary.warnings[0]
    report = build_final_report(summary)
    in_sheets = {r.index[2] for s in report.sheets for r in s.rows}
    assert "cTuning" not in in_sheets
    tables = build_results_tables(report)
    keys = {t.key for t in tables if any(r.submitter == "cTuning" for r in t.rows)}
    assert keys == {"datacenter-closed-available", "edge-closed-available"}


def test_quote_in_names_does_not_break_the_details_formula():
    text = TEXT.replace("Centaur Technology,", 'Centaur "Tech",', 1)
    report = build_final_report(parse_summary(text))
    entry = [e for e in report.entries if e.submitter.startswith("Centaur")]
    assert entry, "row kept"
    assert all(e.details_formula.count('"') % 2 == 0 for e in report.entries)


def test_header_columns_may_come_in_any_order():
    import csv
    import io

    rows = list(csv.reader(io.StringIO(TEXT, newline="")))
    order = list(reversed(range(len(SUMMARY_COLUMNS))))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([[r[i] for i in order] for r in rows])
    a = build_final_report(parse_summary(TEXT))
    b = build_final_report(parse_summary(out.getvalue()))
    assert a.sheets == b.sheets
