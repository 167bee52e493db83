"""Faults fed to ``edgeperf run`` and ``edgeperf compliance run`` (issue 12)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from fault_helpers import (
    FAST_USER_CONF,
    REPO,
    assets_fixture,  # noqa: F401 (a fixture)
    cli_fixture,  # noqa: F401 (a fixture)
    edgeperf,
    error_line,
    leftovers,
    run_args,
    snapshot,
    unwritable_fixture,  # noqa: F401 (a fixture)
)

LOGS = ("mlperf_log_summary.txt", "mlperf_log_detail.txt", "mlperf_log_accuracy.json", "mlperf_log_trace.json")


# -- missing, empty, truncated, binary, folder-instead-of-file inputs -------------------------------


@pytest.mark.parametrize(
    "model, expected",
    [
        ("missing.onnx", "missing.onnx"),
        ("empty.onnx", "empty.onnx"),
        ("truncated.onnx", "truncated.onnx"),
        ("binary.onnx", "binary.onnx"),
        ("folder.onnx", "folder.onnx"),
    ],
)
def test_run_bad_model_file(cli, assets, tmp_path, model, expected):
    out = tmp_path / "out"
    before = snapshot(assets["root"])
    line = error_line(cli(*run_args(assets, out, model=assets["root"] / model)), expected)
    assert "model" in line.lower()
    assert not out.exists()
    assert snapshot(assets["root"]) == before


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda p: None, "user.conf"),
        (lambda p: p.write_bytes(b"\x00\xff\xfe garbage \x00"), "not a text file"),
        (lambda p: p.write_text(FAST_USER_CONF + "*.Offline.min_dur"), "user.conf:8:"),
        (lambda p: p.mkdir(), "user.conf"),
    ],
    ids=["missing", "binary", "truncated", "folder"],
)
def test_run_bad_user_conf(cli, assets, tmp_path, make, expected):
    conf = tmp_path / "user.conf"
    make(conf)
    out = tmp_path / "out"
    result = cli(*run_args(assets, out, conf=conf))
    if expected == "user.conf:8:":  # a line cut short is only a warning for LoadGen; it must be shown
        assert "edgeperf: warning: " + str(conf) + ":8:" in result.stderr
        return
    error_line(result, str(conf), expected)
    assert not out.exists()


def test_run_dataset_missing_or_a_file(cli, assets, tmp_path):
    out = tmp_path / "out"
    error_line(cli(*run_args(assets, out, dataset=tmp_path / "nowhere")), "nowhere")
    afile = tmp_path / "afile"
    afile.write_text("x")
    error_line(cli(*run_args(assets, out, dataset=afile)), "afile")
    assert not out.exists()


# -- huge, zero, NaN and inf numbers ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("0", "above 0"),
        ("-5", "above 0"),
        ("nan", "finite"),
        ("inf", "finite"),
    ],
)
@pytest.mark.parametrize("scenario, key", [("Offline", "target_qps"), ("Server", "target_qps")])
def test_run_rate_zero_nan_inf_names_file_line_key(cli, assets, tmp_path, scenario, key, value, expected):
    conf = tmp_path / "rates.conf"
    conf.write_text(assets["conf"].read_text() + f"\n*.{scenario}.{key} = {value}\n")
    line_nr = len(conf.read_text().splitlines())
    out = tmp_path / "out"
    line = error_line(
        cli(*run_args(assets, out, scenario=scenario, conf=conf)),
        f"rates.conf:{line_nr}:",
        f"*.{scenario}.{key} = {value}",
        expected,
    )
    assert "Traceback" not in line
    assert not out.exists()


@pytest.mark.parametrize("option", ["--threads", "--workers"])
@pytest.mark.parametrize("value", ["100000", str(10**18)])
def test_run_huge_threads_or_workers_refused_with_the_limit(cli, assets, tmp_path, option, value):
    out = tmp_path / "out"
    line = error_line(cli(*run_args(assets, out, option, value)), option, value, "1 to 1024", "CPU")
    assert not out.exists() and line


@pytest.mark.parametrize("option", ["--threads", "--workers", "--max-samples", "--batch-size"])
@pytest.mark.parametrize("value", ["0", "nan", "inf"])
def test_run_zero_nan_inf_integer_options(cli, assets, tmp_path, option, value):
    out = tmp_path / "out"
    result = cli(*run_args(assets, out, option, value))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert option in result.output
    assert not out.exists()


# -- faults of the model and of the output folder --------------------------------------------------


def test_run_model_failing_its_first_inference(cli, assets, tmp_path):
    out = tmp_path / "out"
    line = error_line(
        cli(*run_args(assets, out, model=assets["failing"])), "failing.onnx", "first inference", "expected"
    )
    assert "Reshape" in line  # the runtime's own reason is kept
    assert not out.exists()


def test_compliance_run_model_failing_its_first_inference(cli, assets, tmp_path):
    out = tmp_path / "TEST01"
    args = ["compliance", "run", "TEST01", *run_args(assets, out, model=assets["failing"])[1:]]
    error_line(cli(*args), "failing.onnx", "first inference")
    assert not out.exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("command", ["run", "compliance"])
def test_output_is_a_file_or_under_a_file(cli, assets, tmp_path, command):
    afile = tmp_path / "afile"
    afile.write_text("keep me\n")
    for out, expected in ((afile, "it is a file"), (afile / "sub", "is a file, not a folder")):
        args = run_args(assets, out)
        if command == "compliance":
            args = ["compliance", "run", "TEST04-A", *args[1:]]
        error_line(cli(*args), str(out), expected)
    assert afile.read_text() == "keep me\n"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("command", ["run", "compliance"])
def test_output_in_an_unwritable_folder(cli, assets, unwritable, command):
    out = unwritable / "out"
    args = run_args(assets, out)
    if command == "compliance":
        args = ["compliance", "run", "TEST04-A", *args[1:]]
    error_line(cli(*args), str(out), "writ")
    assert not out.exists()


def test_output_under_a_device(cli, assets):
    error_line(cli(*run_args(assets, "/dev/full/out")), "/dev/full", "not a folder")


@pytest.mark.parametrize("name", ["o[/]x", "a[bold red]x", "[link=http://x]y"])
def test_markup_in_the_output_path_is_printed_as_it_is(cli, assets, tmp_path, name):
    out = tmp_path / name
    result = cli(*run_args(assets, out))
    assert result.exit_code == 0, result.output
    assert f"Logs in {out}" in result.output
    assert (out / "mlperf_log_summary.txt").is_file()


def test_full_disk_while_logs_are_written_leaves_no_partial_log(assets, tmp_path):
    """RLIMIT_FSIZE of 8 KiB: the detail log cannot be written whole."""
    out = tmp_path / "out"
    result = edgeperf(*run_args(assets, out), fsize=8192)
    error_line(result, str(out), "could not be written", "ulimit")
    assert sorted(p.name for p in out.iterdir()) == []
    assert leftovers(tmp_path) == []


def test_failed_rerun_does_not_leave_an_earlier_runs_results_beside_partial_logs(cli, assets, tmp_path):
    """A good accuracy run, then a rerun into the same folder that fails midway (a full disk):
    the folder must not keep the old accuracy.txt and report.html next to the new, empty logs."""
    out = tmp_path / "out"
    good = cli(*run_args(assets, out, "--mode", "accuracy"))
    assert good.exit_code == 0, good.output
    assert (out / "accuracy.txt").is_file() and (out / "report.html").is_file()
    error_line(edgeperf(*run_args(assets, out, "--mode", "accuracy"), fsize=8192), str(out))
    assert [p.name for p in out.iterdir()] == []


def test_user_conf_warnings_are_printed_before_the_run(cli, assets, tmp_path):
    conf = tmp_path / "typo.conf"
    conf.write_text(assets["conf"].read_text() + "*.Offline.target_qsp = 10\n*.offline.min_duration = 10\n")
    result = cli(*run_args(assets, tmp_path / "out", conf=conf))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("edgeperf: warning:")]
    assert any("typo.conf:8:" in w and "did you mean 'target_qps'?" in w for w in warnings), result.stderr
    assert any("typo.conf:9:" in w and "'offline'" in w and "not a scenario name" in w for w in warnings)
    # before the run's own output (the result lines come after)
    assert result.output.index("did you mean") < result.output.index("Result is")


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00garbage", "not a text file"),
        (b"", "no settings"),
        (b"hello world\n", "bad.audit:1:"),
    ],
    ids=["binary", "empty", "garbage"],
)
def test_compliance_run_bad_audit_config_names_the_users_file(cli, assets, tmp_path, content, expected):
    audit = tmp_path / "bad.audit"
    audit.write_bytes(content)
    out = tmp_path / "TEST01"
    args = ["compliance", "run", "TEST01", *run_args(assets, out)[1:], "--audit-config", audit]
    result = cli(*args)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert expected in result.output and "edgeperf-run-" not in result.output  # not the staged copy
    assert not out.exists() and leftovers(tmp_path) == []


def test_run_bad_audit_config(cli, assets, tmp_path):
    audit = tmp_path / "bad.audit"
    audit.write_bytes(b"\x00\x01\x02binary")
    error_line(cli(*run_args(assets, tmp_path / "out", "--audit-config", audit)), "bad.audit", "not a text file")


def test_compliance_run_unknown_test(cli, assets, tmp_path):
    result = cli("compliance", "run", "TEST99", *run_args(assets, tmp_path / "o")[1:])
    error_line(result, "TEST99")


# -- Ctrl-C, then a rerun ---------------------------------------------------------------------------


@pytest.mark.slow
def test_ctrl_c_then_rerun(assets, tmp_path):
    """SIGINT while LoadGen runs: exit 130 with one line; a rerun into the same folder then works
    and leaves only its own, complete files."""
    conf = tmp_path / "long.conf"
    conf.write_text(assets["conf"].read_text().replace("min_duration = 200", "min_duration = 60000"))
    out = tmp_path / "out"
    args = run_args(assets, out, conf=conf)
    env = dict(os.environ, COLUMNS="200", PYTHONPATH=str(REPO / "src"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "edgeperf.cli.main", *map(str, args)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        detail = out / "mlperf_log_detail.txt"
        while not (detail.is_file() and detail.stat().st_size > 0) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert [line for line in stderr.splitlines() if line.strip()] == [
        "edgeperf: interrupted; the log files written so far are closed."
    ]
    rerun = edgeperf(*run_args(assets, out))
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted([*LOGS, "report.html"])
    assert "Result is :" in (out / "mlperf_log_summary.txt").read_text()


def test_compliance_run_full_disk_names_the_users_folder(assets, tmp_path):
    out = tmp_path / "TEST04-A"
    result = edgeperf("compliance", "run", "TEST04-A", *run_args(assets, out)[1:], fsize=8192)
    line = error_line(result, str(out), "ulimit")
    assert "edgeperf-run-" not in line  # never the hidden staging folder
    assert not out.exists() and leftovers(tmp_path) == []


def test_cache_dir_a_file_or_unwritable_is_not_blamed_on_the_model(cli, assets, tmp_path, unwritable):
    afile = tmp_path / "afile"
    afile.write_text("keep\n")
    for cache in (afile, unwritable / "cache"):
        line = error_line(cli(*run_args(assets, tmp_path / "out", "--cache-dir", cache)), str(cache), "cache")
        assert "model" not in line
    assert afile.read_text() == "keep\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "line, limit",
    [
        ("*.*.min_duration = 99999999999999999999999", "9223372036854"),
        ("*.Offline.min_query_count = 18446744073709551616", "9223372036854775807"),
    ],
)
def test_run_huge_config_integers_that_would_wrap(cli, assets, tmp_path, line, limit):
    conf = tmp_path / "huge.conf"
    conf.write_text(assets["conf"].read_text() + line + "\n")
    out = tmp_path / "out"
    error_line(cli(*run_args(assets, out, conf=conf)), "huge.conf:8:", f"expected at most {limit}")
    assert not out.exists()


def test_run_accepts_a_uint64_seed(cli, assets, tmp_path):
    """Seeds are unsigned 64-bit in LoadGen (mlperf.conf's own schedule seed is above 2**63)."""
    conf = tmp_path / "seed.conf"
    conf.write_text(assets["conf"].read_text() + "*.*.schedule_rng_seed = 10051496985653635065\n")
    result = cli(*run_args(assets, tmp_path / "out", conf=conf))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("mode", ["performance", "accuracy"])
def test_run_cache_on_a_full_disk_names_the_cache_file(assets, tmp_path, mode):
    # The cache's files are written by a background thread: its first failure must still end the
    # run with one line naming the cache file, and leave no temporary file in the cache.
    cache, out = tmp_path / "cache", tmp_path / "out"
    result = edgeperf(*run_args(assets, out, "--mode", mode, "--cache-dir", cache), fsize=64 * 1024)
    line = error_line(result, str(cache), ".npy")
    assert "model" not in line
    assert leftovers(cache, tmp_path) == []
    assert not out.exists()
