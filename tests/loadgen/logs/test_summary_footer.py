"""Summary footer and SummaryLog (spec §12.1), checked against every real v1.1 summary."""

from __future__ import annotations

import io

import pytest
from fixture_paths import require_fixtures

from edgeperf.loadgen.logs import (
    SummaryLog,
    parse_summary_footer,
    read_detail_log,
    summary_footer,
)


FIX = require_fixtures()
ALIBABA_SS = FIX / "closed/Alibaba/results/T4x1_TRT/ssd-mobilenet/SingleStream"


@pytest.mark.parametrize(
    "w, e, expected",
    [
        (0, 0, "\nNo warnings encountered during test.\n\nNo errors encountered during test.\n"),
        (1, 0, "\n1 warning encountered. See detailed log.\n\nNo errors encountered during test.\n"),
        (49, 0, "\n49 warnings encountered. See detailed log.\n\nNo errors encountered during test.\n"),
        (0, 1, "\nNo warnings encountered during test.\n\n1 ERROR encountered. See detailed log.\n"),
        (2, 3, "\n2 warnings encountered. See detailed log.\n\n3 ERRORS encountered. See detailed log.\n"),
    ],
)
def test_footer_wording(w, e, expected):
    assert summary_footer(w, e) == expected
    assert parse_summary_footer("x\n" + expected) == (w, e)


def test_parse_footer_rejects_other_text():
    with pytest.raises(ValueError):
        parse_summary_footer("Result is : VALID\n")


def test_accuracy_only_summary_is_exactly_the_footer():
    real = (ALIBABA_SS / "accuracy/mlperf_log_summary.txt").read_bytes()
    assert real.decode() == summary_footer(0, 0)


def test_footers_of_all_real_summaries_match_their_detail_logs():
    """Rebuild every real footer from the warning/error records of the detail log beside it."""
    checked = set()
    for summary in sorted(FIX.rglob("mlperf_log_summary.txt")):
        detail = summary.with_name("mlperf_log_detail.txt")
        if not detail.exists():
            continue
        records = read_detail_log(detail)
        w, e = len(records.warnings()), len(records.errors())
        text = summary.read_text(encoding="utf-8")
        assert text.endswith(summary_footer(w, e)), summary
        checked.add((w, e))
    assert len(checked) >= 3  # the subset has clean logs, warnings (audit.config) and errors (TEST04)
    assert any(e == 1 for _, e in checked) and any(w > 1 for w, _ in checked)


def test_summary_log_rebuilds_a_real_performance_summary_byte_for_byte(tmp_path):
    real = (ALIBABA_SS / "performance/run_1/mlperf_log_summary.txt").read_text(encoding="utf-8")
    footer = summary_footer(0, 0)
    assert real.endswith(footer)
    body_lines = real[: -len(footer)].split("\n")
    assert body_lines[-1] == ""  # every body line is \n-terminated
    out = tmp_path / "mlperf_log_summary.txt"
    log = SummaryLog(out)
    log.write_lines(body_lines[:-1])
    assert out.read_text() == ""  # nothing is written before close
    log.close(warning_count=0, error_count=0)
    assert out.read_bytes() == real.encode()


def test_summary_log_copies_lines_and_footer_to_stdout(tmp_path, capsys):
    log = SummaryLog(tmp_path / "s.txt", copy_to_stdout=True)
    log.write_line("SUT name : x")
    assert capsys.readouterr().out == "SUT name : x\n"
    log.close(1, 0)
    assert capsys.readouterr().out == summary_footer(1, 0)
    assert (tmp_path / "s.txt").read_text() == "SUT name : x\n" + summary_footer(1, 0)


def test_summary_log_on_a_stream_and_idempotent_close():
    stream = io.StringIO()
    log = SummaryLog(stream)
    log.write_line()
    log.close(0, 2)
    log.close(5, 5)
    assert not stream.closed
    assert stream.getvalue() == "\n" + summary_footer(0, 2)
