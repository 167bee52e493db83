"""The demo workflow's options, output folder rules, settings and plan (no runs)."""

from __future__ import annotations

import os

import pytest

from edgeperf.errors import EdgeperfError
from edgeperf.workflow.demo import MARKER, DemoError, demo_step_labels, prepare_output, validate_duration
from edgeperf.workflow.demo_settings import NOT_COMPLIANT, user_conf_text


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), -1.0, 0.0, "abc", None])
def test_duration_must_be_finite_and_positive(value):
    with pytest.raises(DemoError, match="--duration"):
        validate_duration(value)


def test_duration_accepts_a_positive_number():
    assert validate_duration("0.25") == 0.25


def test_demo_error_is_an_edgeperf_error():
    assert issubclass(DemoError, EdgeperfError) and issubclass(DemoError, ValueError)


def test_output_that_is_a_file_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "a-file"
    path.write_text("keep me")
    with pytest.raises(DemoError, match="exists and is not a folder"):
        prepare_output(path)
    assert path.read_text() == "keep me"
    with pytest.raises(DemoError, match="cannot write there"):
        prepare_output(path / "below-a-file")


def test_a_foreign_non_empty_folder_is_refused(tmp_path):
    (tmp_path / "mine.txt").write_text("x")
    with pytest.raises(DemoError, match="not an earlier edgeperf demo"):
        prepare_output(tmp_path)
    assert (tmp_path / "mine.txt").exists()


def test_an_earlier_demo_output_is_replaced(tmp_path):
    out = prepare_output(tmp_path / "demo")
    (out / "runs").mkdir()
    (out / "runs" / "old.txt").write_text("old")
    prepare_output(out)
    assert sorted(p.name for p in out.iterdir()) == [MARKER]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permissions")
def test_an_unwritable_folder_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(DemoError, match="cannot write there"):
            prepare_output(locked / "demo")
    finally:
        locked.chmod(0o700)


def test_short_user_conf_shortens_and_labels_every_scenario():
    text = user_conf_text(1.5, 1000.0, 5000.0, 0.0002)
    assert "demo-digits.*.min_duration = 1500" in text
    assert NOT_COMPLIANT in text
    assert "demo-digits.Server.target_qps = 1000.0" in text
    assert "demo-digits.Offline.target_qps = 5000.0" in text


def test_full_user_conf_keeps_the_rules_durations():
    text = user_conf_text(None, 1000.0, 5000.0, 0.0002)
    assert "min_duration" not in text and "min_query_count" not in text
    assert "demo-digits.Server.target_qps = 1000.0" in text


def test_plan_has_every_scenario_and_the_compliance_tests_a_closed_result_would_need():
    labels = demo_step_labels()
    assert labels[0].startswith("find-peak")
    assert labels[-3:] == ["build the Open-division tree", "check the tree", "results page"]
    for scenario in ("SingleStream", "MultiStream", "Server", "Offline"):
        for step in ("accuracy", "performance", "TEST01", "TEST05"):
            assert f"demo-digits {scenario} {step}" in labels
    # v1.1: TEST04 is not run for a MultiStream result (submission.md §5.9).
    assert "demo-digits MultiStream TEST04-A" not in labels
    assert "demo-digits Offline TEST04-A" in labels and "demo-digits Offline TEST04-B" in labels


def test_an_invalid_performance_run_is_run_again_with_more_room(tmp_path):
    from edgeperf.benchmarks.demo_digits import demo_dataset_path, demo_model_path
    from edgeperf.workflow.demo import _rerun_invalid
    from edgeperf.workflow.submission_run import OneShotOptions

    runs = tmp_path / "runs"
    for scenario in ("SingleStream", "MultiStream", "Server", "Offline"):
        perf = runs / "demo-digits" / scenario / "performance"
        perf.mkdir(parents=True)
        verdict = "INVALID" if scenario == "Server" else "VALID"
        (perf / "mlperf_log_summary.txt").write_text(f"Scenario : {scenario}\nResult is : {verdict}\n")
    conf = tmp_path / "user.conf"
    plan = OneShotOptions(
        benchmarks=["demo-digits"],
        scenarios=[],
        model=demo_model_path(),
        dataset=demo_dataset_path(),
        system=tmp_path / "s.json",
        submitter="x",
        division="open",
        output=tmp_path / "tree",
        runs=runs,
        user_conf=conf,
        threads=1,
    )
    notes = []
    server, offline = _rerun_invalid(plan, 0.2, 400.0, 5000.0, 0.001, notes.append, None)
    assert (server, offline) == (200.0, 5000.0)
    assert "demo-digits.Server.target_qps = 200.0" in conf.read_text() == (runs / "user.conf").read_text()
    summary = (runs / "demo-digits" / "Server" / "performance" / "mlperf_log_summary.txt").read_text()
    assert "Scenario : Server" in summary and "Result is : VALID" in summary  # a real run replaced the file
    assert notes == ["Server performance run INVALID (a busy machine?); running it again at 200 queries/s"]
    # the VALID runs were left alone
    assert (
        (runs / "demo-digits" / "Offline" / "performance" / "mlperf_log_summary.txt").read_text().startswith("Scenario")
    )
