"""TraceLog (spec §12.4) and the creation of the four log files (spec §2.6)."""

from __future__ import annotations

import io
import json
import os
import re
import threading
from pathlib import Path

import pytest
from fixture_paths import require_fixtures

from edgeperf.loadgen.logs import LogFileOpenError, TraceLog, log_file_paths, open_log_files


FIX = require_fixtures()

FOOTER_1234 = (
    '{"name":"LastTrace"}\n],\n"displayTimeUnit":"ns",\n"otherData":{\n'
    '"ts":1234,\n"version":"MLPerf LoadGen v1.0"\n}\n}\n'
)


def test_disabled_trace_is_an_empty_file_like_all_v1_1_traces(tmp_path):
    real = sorted(FIX.rglob("mlperf_log_trace.json"))
    assert real and all(p.stat().st_size == 0 for p in real)
    path = tmp_path / "mlperf_log_trace.json"
    path.write_text("old content")
    trace = TraceLog(path, enabled=False)
    trace.complete("IssueQuery", 1, 2)
    trace.async_sample(0, 0, 0, 1, 2)
    trace.counter("Latency", 1, issue_delay=1, issue_to_done=2)
    trace.close()
    assert path.read_bytes() == b""


def test_enabled_trace_without_events_is_header_plus_footer(tmp_path):
    path = tmp_path / "t.json"
    TraceLog(path, enabled=True, origin_epoch_ns=1_234_999).close()
    assert path.read_text() == '{"traceEvents":[\n' + FOOTER_1234
    assert json.loads(path.read_text())["otherData"] == {"ts": 1234, "version": "MLPerf LoadGen v1.0"}


def test_events_one_per_line_with_microsecond_times(tmp_path):
    path = tmp_path / "t.json"
    o = 10_000_000
    trace = TraceLog(path, enabled=True, origin_ns=o, origin_epoch_ns=1_234_000, pid=77)
    trace.complete("IssueQuery", o + 1500, o + 4001, query_seq=3)
    trace.async_sample(5, 2, 4497, o + 2000, o + 9_000_250, scheduled_ns=o + 1000)
    trace.counter("Latency", o + 7, issue_delay=1000, issue_to_done=8_999_250)
    trace.async_instant("QueryInterval", 9, o + 12)
    trace.close()
    text = path.read_text()
    assert text.startswith('{"traceEvents":[\n') and text.endswith(FOOTER_1234)
    events = text[len('{"traceEvents":[\n') : -len(FOOTER_1234)].split("\n")
    assert events[-1] == ""
    assert all(e.endswith("},") for e in events[:-1])
    parsed = [json.loads(e[:-1]) for e in events[:-1]]
    tid = threading.get_native_id()
    x, b, e, c, n = parsed
    assert x == {
        "name": "IssueQuery",
        "ph": "X",
        "pid": 77,
        "tid": tid,
        "ts": 1.5,
        "dur": 2.501,
        "args": {"query_seq": 3},
    }
    assert '"ts":1.500,"dur":2.501' in events[0]  # fixed notation, 3 decimals
    assert b["ph"] == "b" and e["ph"] == "e" and b["id"] == e["id"] == 5
    assert b["name"] == e["name"] == "Sample" and b["cat"] == "default"
    assert b["ts"] == 1.0 and e["ts"] == 9000.25
    assert b["args"] == {
        "sample_seq": 5,
        "query_seq": 2,
        "sample_idx": 4497,
        "issue_start_ns": 1000,
        "complete_ns": 8_999_250,
    }
    assert c["ph"] == "C" and c["args"] == {"issue_delay": 1000, "issue_to_done": 8_999_250}
    assert n["ph"] == "n" and n["id"] == 9 and n["name"] == "QueryInterval"
    doc = json.loads(text)
    assert len(doc["traceEvents"]) == 6 and doc["traceEvents"][-1] == {"name": "LastTrace"}
    assert doc["displayTimeUnit"] == "ns"


def test_trace_from_many_threads_is_valid_json():
    stream = io.StringIO()
    trace = TraceLog(stream, enabled=True, origin_ns=0)

    def worker(i):
        for j in range(300):
            trace.complete("QuerySamplesComplete", j, j + 10, thread=i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    trace.close()
    assert not stream.closed
    assert len(json.loads(stream.getvalue())["traceEvents"]) == 1201


# -- file names and creation (§2.6) ------------------------------------------------------------


def test_default_file_names():
    p = log_file_paths()
    assert p == (
        os.path.join(".", "mlperf_log_summary.txt"),
        os.path.join(".", "mlperf_log_detail.txt"),
        os.path.join(".", "mlperf_log_accuracy.json"),
        os.path.join(".", "mlperf_log_trace.json"),
    )


def test_datetime_goes_after_the_prefix_and_suffix_before_the_extension():
    p = log_file_paths("out", "run_", "_x", True, "2021-08-10T18:07:53Z")
    assert p.summary == os.path.join("out", "run_2021-08-10T18:07:53Z_summary_x.txt")
    assert p.trace == os.path.join("out", "run_2021-08-10T18:07:53Z_trace_x.json")
    assert log_file_paths("out", "run_", "", False, "ignored").detail == os.path.join("out", "run_detail.txt")


def test_open_log_files_creates_outdir_and_truncates_all_four(tmp_path):
    outdir = tmp_path / "a" / "b"

    class Settings:
        prefix = "mlperf_log_"
        suffix = ""
        prefix_with_datetime = False

    Settings.outdir = str(outdir)
    paths = open_log_files(Settings())
    assert [Path(p).name for p in paths] == [
        "mlperf_log_summary.txt",
        "mlperf_log_detail.txt",
        "mlperf_log_accuracy.json",
        "mlperf_log_trace.json",
    ]
    assert all(Path(p).stat().st_size == 0 for p in paths)
    Path(paths.detail).write_text("stale")
    open_log_files(Settings(), suffix="")
    assert Path(paths.detail).read_text() == ""


def test_open_log_files_with_datetime_and_keyword_settings(tmp_path):
    paths = open_log_files(outdir=tmp_path, prefix_with_datetime=True)
    name = Path(paths.summary).name
    assert re.fullmatch(r"mlperf_log_\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ_summary\.txt", name)


def test_open_failure_names_the_file(tmp_path):
    outdir = tmp_path / "out"
    outdir.mkdir()
    (outdir / "mlperf_log_accuracy.json").mkdir()  # a directory cannot be opened as a file
    with pytest.raises(LogFileOpenError) as info:
        open_log_files(outdir=outdir)
    err = info.value
    assert isinstance(err, OSError)
    assert err.which == "accuracy"
    assert err.cpp_message == "LoadGen: Failed to open accuracy log file."
    assert err.filename == str(outdir / "mlperf_log_accuracy.json")
    assert "mlperf_log_accuracy.json" in str(err)


def test_open_failure_of_the_output_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LogFileOpenError) as info:
        open_log_files(outdir=blocker / "sub")
    assert info.value.which == "summary"
    assert info.value.cpp_message == "LoadGen: Failed to open summary file."
