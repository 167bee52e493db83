"""DetailLog: deferred formatting on a background thread, layout, metadata, counts (spec §12.2)."""

from __future__ import annotations

import io
import json
import os
import sys
import threading
import time


from edgeperf.loadgen.logs import DetailLog, mllog_line, read_detail_log
from edgeperf.loadgen.logs import detail as detail_module

HERE = os.path.abspath(__file__).replace(os.sep, "/")


def _records(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line[len(":::MLLOG") :]) for line in f]


def _lineno():
    """Line number of the caller's next line."""
    return sys._getframe(1).f_lineno + 1


def test_lines_have_the_official_layout_and_relative_time(tmp_path):
    path = tmp_path / "mlperf_log_detail.txt"
    origin = time.perf_counter_ns()
    log = DetailLog(path, origin_ns=origin, pid=4242)
    line_no = _lineno()
    log.log("result_validity", "VALID", time_ns=origin + 683200513859)
    log.close()
    text = path.read_text(encoding="utf-8")
    tid = threading.get_native_id()
    assert text == mllog_line("result_validity", "VALID", 683200513859, False, False, HERE, line_no, 4242, tid) + "\n"
    assert '"time_ms": 683200.513859, ' in text


def test_time_is_taken_at_the_log_call_not_at_writing(tmp_path):
    path = tmp_path / "d.txt"
    log = DetailLog(path, poll_interval_s=60)  # the thread will not drain by itself
    before = time.perf_counter_ns()
    log.log("k", 1)
    after = time.perf_counter_ns()
    time.sleep(0.05)
    log.close()
    t_ms = _records(path)[0]["time_ms"]
    assert (before - log.origin_ns) / 1e6 - 1e-6 <= t_ms <= (after - log.origin_ns) / 1e6 + 1e-6


def test_log_only_queues_and_the_background_thread_writes(tmp_path, monkeypatch):
    threads = []
    real = detail_module.mllog_line

    def spy(*args):
        threads.append(threading.current_thread())
        return real(*args)

    monkeypatch.setattr(detail_module, "mllog_line", spy)
    path = tmp_path / "d.txt"
    log = DetailLog(path, poll_interval_s=0.005)
    log.log("generic_message", "Starting performance mode")
    assert threads == [] or threads[0] is not threading.current_thread()
    deadline = time.monotonic() + 5
    while not path.read_text() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert '"value": "Starting performance mode"' in path.read_text()
    assert threads and all(t is not threading.current_thread() for t in threads)
    assert threads[0].daemon
    log.close()


def test_nothing_is_written_until_a_drain(tmp_path):
    path = tmp_path / "d.txt"
    log = DetailLog(path, poll_interval_s=60)
    log.log("a", 1)
    log.log("b", 2)
    assert path.read_text() == ""
    log.flush()
    assert [r["key"] for r in _records(path)] == ["a", "b"]
    log.close()


def test_log_group_shares_one_timestamp_and_is_contiguous(tmp_path):
    path = tmp_path / "d.txt"
    with DetailLog(path) as log:
        log.log("before", 0)
        log.log_group(
            [
                ("requested_scenario", "Offline"),
                ("requested_min_duration_ms", 600000),
                ("requested_accuracy_log_probability", 0.0),
            ]
        )
        log.log("after", 0)
    recs = _records(path)
    assert [r["key"] for r in recs] == [
        "before",
        "requested_scenario",
        "requested_min_duration_ms",
        "requested_accuracy_log_probability",
        "after",
    ]
    times = {r["time_ms"] for r in recs[1:4]}
    assert len(times) == 1
    assert recs[0]["time_ms"] < recs[1]["time_ms"] < recs[4]["time_ms"]
    assert recs[3]["value"] == 0


def test_metadata_file_line_pid_tid(tmp_path):
    path = tmp_path / "d.txt"
    log = DetailLog(path)
    line_no = _lineno()
    log.log("k", "v")
    seen = {}

    def worker():
        seen["tid"] = threading.get_native_id()
        log.log("from_thread", 1)

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    log.close()
    main, other = _records(path)
    assert main["metadata"]["file"] == HERE
    assert main["metadata"]["line_no"] == line_no
    assert main["metadata"]["pid"] == os.getpid()
    assert main["metadata"]["tid"] == threading.get_native_id()
    assert other["metadata"]["tid"] == seen["tid"] != main["metadata"]["tid"]


def test_file_metadata_is_relative_to_the_package_parent():
    import edgeperf

    parent = os.path.dirname(os.path.dirname(os.path.abspath(edgeperf.__file__)))
    engine = os.path.join(parent, "edgeperf", "loadgen", "engine.py")
    assert detail_module._metadata_file(engine) == "edgeperf/loadgen/engine.py"
    assert detail_module._metadata_file(detail_module.__file__) == "edgeperf/loadgen/logs/detail.py"
    assert detail_module._metadata_file("<string>") == "<string>"


def test_stacklevel_attributes_the_record_to_the_helpers_caller(tmp_path):
    path = tmp_path / "d.txt"
    log = DetailLog(path)

    def log_error(message):
        log.log("error_runtime", message, is_error=True, stacklevel=2)

    line_no = _lineno()
    log_error("boom")
    log.close()
    (rec,) = _records(path)
    assert rec["metadata"]["line_no"] == line_no
    assert rec["metadata"]["is_error"] is True and rec["metadata"]["is_warning"] is False


def test_error_and_warning_counts(tmp_path):
    with DetailLog(tmp_path / "d.txt") as log:
        log.log("error_runtime", "a", is_error=True)
        log.log("warning_generic_message", "b", is_warning=True)
        log.log("warning_generic_message", "c", is_warning=True)
        log.log("generic_message", "d")
        log.log_group([("error_invalid_config", "x"), ("error_invalid_config", "y")], is_error=True)
    assert (log.error_count, log.warning_count) == (3, 2)
    recs = read_detail_log(tmp_path / "d.txt")
    assert len(recs.errors()) == 3 and len(recs.warnings()) == 2


def test_many_threads_keep_their_own_order(tmp_path):
    path = tmp_path / "d.txt"
    n_threads, n_each = 8, 2000
    log = DetailLog(path, poll_interval_s=0.001)
    barrier = threading.Barrier(n_threads)

    def worker(i):
        barrier.wait()
        for j in range(n_each):
            log.log(f"t{i}", j, is_warning=(j % 100 == 0))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    recs = _records(path)
    assert len(recs) == n_threads * n_each
    assert log.warning_count == n_threads * (n_each // 100)
    by_key = {}
    for r in recs:
        by_key.setdefault(r["key"], []).append(r["value"])
    assert all(values == list(range(n_each)) for values in by_key.values())
    assert len(by_key) == n_threads


def test_listeners_are_called_synchronously_on_the_logging_thread(tmp_path):
    calls = []
    with DetailLog(tmp_path / "d.txt", poll_interval_s=60) as log:
        log.add_listener(lambda *a: calls.append((threading.current_thread(), a)))
        log.log("generic_message", "hello")
        assert calls == [(threading.current_thread(), ("generic_message", "hello", False, False))]
        log.log_group([("a", 1), ("b", 2)], is_warning=True)
        assert [c[1] for c in calls[1:]] == [("a", 1, False, True), ("b", 2, False, True)]


def test_a_failing_listener_does_not_break_logging(tmp_path, capsys):
    def bad(*_):
        raise RuntimeError("listener bug")

    with DetailLog(tmp_path / "d.txt") as log:
        log.add_listener(bad)
        log.log("a", 1)
        log.log("b", 2)
    assert len(log.listener_errors) == 2
    assert "listener bug" in capsys.readouterr().err
    assert [r["key"] for r in _records(tmp_path / "d.txt")] == ["a", "b"]


def test_copy_to_stdout_mirrors_lines(tmp_path, capsys):
    with DetailLog(tmp_path / "d.txt", copy_to_stdout=True) as log:
        log.log("sut_name", "MySUT")
    out = capsys.readouterr().out
    assert out == (tmp_path / "d.txt").read_text()
    assert out.startswith(':::MLLOG {"key": "sut_name", "value": "MySUT", ')


def test_close_is_idempotent_and_later_records_are_dropped_but_counted(tmp_path):
    path = tmp_path / "d.txt"
    log = DetailLog(path)
    log.log("a", 1)
    log.close()
    log.close()
    log.log("late", 2, is_error=True)
    log.log_group([("x", 1), ("y", 2)])
    assert log.closed and log.dropped_count == 3 and log.error_count == 1
    assert [r["key"] for r in _records(path)] == ["a"]


def test_unencodable_value_is_skipped_and_reported_others_are_written(tmp_path, capsys):
    path = tmp_path / "d.txt"
    log = DetailLog(path)
    log.log("good", 1)
    log.log("bad", object())
    log.log("good2", 2)
    log.close()
    assert [r["key"] for r in _records(path)] == ["good", "good2"]
    assert len(log.encode_errors) == 1 and isinstance(log.encode_errors[0], TypeError)
    assert "'bad' skipped" in capsys.readouterr().err


def test_an_open_stream_is_flushed_not_closed():
    stream = io.StringIO()
    log = DetailLog(stream)
    log.log("k", True)
    log.close()
    assert not stream.closed
    assert '"key": "k", "value": true, ' in stream.getvalue()
