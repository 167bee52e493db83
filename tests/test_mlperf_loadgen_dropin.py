"""``edgeperf.mlperf_loadgen`` used exactly as a harness written for the official binding uses it.

The harnesses below are modelled on the official demos (``py_demo_single_stream.py``,
``py_demo_multi_stream.py``, ``py_demo_server.py``, ``py_demo_offline.py``) and on the reference
``main.py``: a ``process_query_async`` thread (or completion inside the issue callback), response
bytes held in an ``array.array('B', ...)`` whose ``buffer_info()`` gives the address, and
``QuerySampleResponse(id, address, length)``. Only the import differs::

    import edgeperf.mlperf_loadgen as mlperf_loadgen

Every scenario runs with every callback form: the r1.1 ``ConstructSUT(issue, flush,
report_latency)``, the current ``ConstructSUT(issue, flush)`` and ``ConstructFastSUT`` in both
forms; in PerformanceOnly and AccuracyOnly. Runs are kept to a few hundred milliseconds.
"""

from __future__ import annotations

import array
import pickle
import threading
import time
from collections import Counter

import pytest

import edgeperf.mlperf_loadgen as mlperf_loadgen
from edgeperf.loadgen.logs.accuracy import read_accuracy_log
from edgeperf.loadgen.logs.readers import read_detail_log, read_summary_log
from edgeperf.loadgen.logs.summary import parse_summary_footer

TOTAL = 48  # QSL size
PERF = 20  # performance sample count -> loadable sets of 20, 20 and 8 samples
MS_SPQ = 4  # MultiStream samples per query
LOG_FILES = ("summary", "detail", "accuracy", "trace")

SCENARIOS = ["SingleStream", "MultiStream", "Server", "Offline"]
# (callback form, completion style). Each SUT kind is exercised with both completion styles.
FORMS = {
    "r1.1": ("ConstructSUT", True, "thread"),
    "current": ("ConstructSUT", False, "immediate"),
    "fast-r1.1": ("ConstructFastSUT", True, "immediate"),
    "fast-current": ("ConstructFastSUT", False, "thread"),
}


def payload(index: int) -> bytes:
    """The bytes a harness answers sample ``index`` with (length varies with the index)."""
    return bytes((index * 7 + k) % 256 for k in range(3 + index % 5))


@pytest.fixture(autouse=True)
def _private_cwd(tmp_path, monkeypatch):
    # audit.config is looked up in the working directory; never pick up a stray one.
    monkeypatch.chdir(tmp_path)


class DemoHarness:
    """A demo-style harness with some bookkeeping so the test can check what LoadGen did.

    Problems seen inside callbacks are collected in ``problems`` (raising there would only end
    the run), and checked by the test afterwards.
    """

    def __init__(
        self,
        form: str,
        scenario: str,
        total: int = TOTAL,
        perf: int = PERF,
        style: str | None = None,
        sleep_s: float = 0.001,
    ):
        constructor, with_report_cb, default_style = FORMS[form]
        self.fast = constructor == "ConstructFastSUT"
        self.style = style or default_style
        self.scenario = scenario
        self.sleep_s = sleep_s
        self.loaded: dict[int, array.array] = {}
        self.load_calls: list[list[int]] = []
        self.unload_calls: list[list[int]] = []
        self.flushes = 0
        self.latency_reports: list[list[int]] = []
        self.issued_samples = 0
        self.completed_ids: list[int] = []
        self.problems: list[str] = []
        self.threads: list[threading.Thread] = []
        self._lock = threading.Lock()

        issue = self.fast_issue_query if self.fast else self.issue_query
        args = [issue, self.flush_queries]
        if with_report_cb:
            args.append(self.report_latency_results)
        self.sut = getattr(mlperf_loadgen, constructor)(*args)
        self.qsl = mlperf_loadgen.ConstructQSL(total, perf, self.load_samples_to_ram, self.unload_samples_from_ram)
        self.sut_name = "PyFastSUT" if self.fast else "PySUT"

    # --- QSL callbacks
    def load_samples_to_ram(self, query_samples):
        self.load_calls.append(list(query_samples))
        for index in query_samples:
            self.loaded[index] = array.array("B", payload(index))

    def unload_samples_from_ram(self, query_samples):
        self.unload_calls.append(list(query_samples))
        for index in query_samples:
            self.loaded.pop(index, None)

    # --- SUT callbacks
    def process_query_async(self, pairs):
        if self.style == "thread":
            time.sleep(self.sleep_s)
        responses = []
        keep_alive = []
        for sample_id, index in pairs:
            data = self.loaded.get(index)
            if data is None:
                self.problems.append(f"sample {index} issued while not loaded")
                data = array.array("B", payload(index))
            response_array = array.array("B", data.tobytes())
            keep_alive.append(response_array)
            bi = response_array.buffer_info()
            responses.append(mlperf_loadgen.QuerySampleResponse(sample_id, bi[0], bi[1]))
        with self._lock:
            self.completed_ids.extend(sample_id for sample_id, _ in pairs)
        if self.scenario == "Offline" and len(responses) > 8:
            for start in range(0, len(responses), 8):  # py_demo_offline answers piecewise
                mlperf_loadgen.QuerySamplesComplete(responses[start : start + 8])
        else:
            mlperf_loadgen.QuerySamplesComplete(responses)

    def _dispatch(self, pairs):
        with self._lock:
            self.issued_samples += len(pairs)
        if self.style == "thread":
            t = threading.Thread(target=self.process_query_async, args=[pairs])
            self.threads.append(t)
            t.start()
        else:
            self.process_query_async(pairs)

    def issue_query(self, query_samples):
        for s in query_samples:
            if not isinstance(s, mlperf_loadgen.QuerySample):
                self.problems.append(f"issue_cb got {type(s).__name__}, not mlperf_loadgen.QuerySample")
        self._dispatch([(s.id, s.index) for s in query_samples])

    def fast_issue_query(self, query_ids, query_sample_indices):
        if not isinstance(query_ids, list) or not isinstance(query_sample_indices, list):
            self.problems.append("fast_issue_cb must get two lists")
        self._dispatch(list(zip(query_ids, query_sample_indices)))

    def flush_queries(self):
        self.flushes += 1

    def report_latency_results(self, latencies_ns):
        self.latency_reports.append(list(latencies_ns))

    # --- running
    def run(self, settings, outdir):
        log_output = mlperf_loadgen.LogOutputSettings()
        log_output.outdir = str(outdir)
        log_output.copy_summary_to_stdout = False
        log_settings = mlperf_loadgen.LogSettings()
        log_settings.log_output = log_output
        log_settings.enable_trace = True
        mlperf_loadgen.StartTestWithLogSettings(self.sut, self.qsl, settings, log_settings)
        for t in self.threads:
            t.join(5)
        destroy = mlperf_loadgen.DestroyFastSUT if self.fast else mlperf_loadgen.DestroySUT
        destroy(self.sut)
        mlperf_loadgen.DestroyQSL(self.qsl)
        return {
            kind: outdir / f"mlperf_log_{kind}{'.json' if kind in ('accuracy', 'trace') else '.txt'}"
            for kind in LOG_FILES
        }


def demo_settings(scenario: str, mode: str):
    settings = mlperf_loadgen.TestSettings()
    settings.scenario = getattr(mlperf_loadgen.TestScenario, scenario)
    settings.mode = getattr(mlperf_loadgen.TestMode, mode)
    settings.min_duration_ms = 200
    settings.min_query_count = 8
    # Hints sized so that neither a 1 ms thread SUT nor an immediate one runs out of queries.
    settings.single_stream_expected_latency_ns = 5_000
    settings.multi_stream_target_qps = 50
    settings.multi_stream_samples_per_query = MS_SPQ
    settings.server_target_qps = 300
    settings.server_target_latency_ns = 100_000_000
    settings.offline_expected_qps = 200
    return settings


def loadable_set_sizes(scenario: str) -> list[int]:
    pad = MS_SPQ - 1 if scenario == "MultiStream" else 0
    return [n + pad for n in (PERF, PERF, TOTAL - 2 * PERF)]


def check_common(harness: DemoHarness, paths, scenario: str, mode: str):
    for kind, path in paths.items():
        assert path.is_file(), f"{kind} log missing"
    assert harness.problems == []
    detail = read_detail_log(paths["detail"])
    assert detail["effective_scenario"] == scenario
    assert detail["effective_test_mode"] == mode
    assert detail["sut_name"] == harness.sut_name
    assert detail["qsl_name"] == "PyQSL"
    assert detail.errors() == [], [r["value"] for r in detail.errors()]
    summary_text = paths["summary"].read_text()
    assert parse_summary_footer(summary_text) == (0, 0)
    # LoadGen loads exactly what the loaded_qsl_set records say, and unloads it again.
    assert [r["value"] for r in detail.all("loaded_qsl_set")] == harness.load_calls
    assert harness.unload_calls == harness.load_calls
    assert harness.loaded == {}
    assert sorted(harness.completed_ids) == sorted(set(harness.completed_ids))
    assert len(harness.completed_ids) == harness.issued_samples
    return detail, summary_text


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_performance_run(tmp_path, scenario, form):
    harness = DemoHarness(form, scenario)
    paths = harness.run(demo_settings(scenario, "PerformanceOnly"), tmp_path / "out")
    detail, summary_text = check_common(harness, paths, scenario, "PerformanceOnly")

    summary = read_summary_log(paths["summary"])
    assert summary["SUT name"] == harness.sut_name
    assert summary["Scenario"] == scenario
    assert summary["Mode"] == "PerformanceOnly"
    assert summary["Result is"] in ("VALID", "INVALID")
    if scenario == "MultiStream":
        assert summary["Samples per query"] == str(MS_SPQ)  # the v1.1 definition by default

    # One series: one load of the first set, one flush.
    assert len(harness.load_calls) == 1
    assert len(harness.load_calls[0]) == loadable_set_sizes(scenario)[0]
    assert harness.flushes == 1
    assert harness.issued_samples > 0
    if scenario == "Offline":
        assert harness.issued_samples == detail["generated_samples_per_query"]
    if scenario == "MultiStream":
        assert harness.issued_samples % MS_SPQ == 0

    if FORMS[form][1]:  # r1.1 form: one latency report with a latency per issued sample
        assert len(harness.latency_reports) == 1
        latencies = harness.latency_reports[0]
        assert len(latencies) == harness.issued_samples
        assert all(isinstance(x, int) and x > 0 for x in latencies)
        assert max(latencies) == detail["result_max_latency_ns"]
        assert min(latencies) == detail["result_min_latency_ns"]
    else:
        assert harness.latency_reports == []

    # accuracy_log_probability is 0: nothing is logged in a performance run.
    assert read_accuracy_log(paths["accuracy"]) == []


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_accuracy_run(tmp_path, scenario, form):
    harness = DemoHarness(form, scenario)
    paths = harness.run(demo_settings(scenario, "AccuracyOnly"), tmp_path / "out")
    detail, summary_text = check_common(harness, paths, scenario, "AccuracyOnly")

    summary = read_summary_log(paths["summary"])
    assert "Scenario" not in summary and "Result is" not in summary  # footer only in AccuracyOnly
    assert not any(k.startswith("result_") for k in detail.keys())

    # Every loadable set once: load, issue..., flush, unload.
    assert [len(s) for s in harness.load_calls] == loadable_set_sizes(scenario)
    loaded_once = [
        i for s in harness.load_calls for i in s[: len(s) - (MS_SPQ - 1 if scenario == "MultiStream" else 0)]
    ]
    assert sorted(loaded_once) == list(range(TOTAL))
    assert harness.flushes == 3
    assert harness.latency_reports == []  # never in accuracy mode

    records = read_accuracy_log(paths["accuracy"])
    assert len(records) == harness.issued_samples
    assert len({r["seq_id"] for r in records}) == len(records)
    counts = Counter(r["qsl_idx"] for r in records)
    if scenario == "MultiStream":
        assert set(counts) == set(range(TOTAL))
        assert max(counts.values()) <= 2  # padding duplicates only
        assert len(records) % MS_SPQ == 0
    else:
        assert sorted(counts) == list(range(TOTAL))
        assert set(counts.values()) == {1}
    for r in records:
        assert r["data"] == payload(r["qsl_idx"]).hex().upper(), r


def test_response_cb_called_only_for_logged_samples(tmp_path):
    """``QuerySamplesComplete(responses, response_cb)``: called before the copy, only when logged."""
    seen: dict[str, list[int]] = {"PerformanceOnly": [], "AccuracyOnly": []}
    issued: dict[str, list[int]] = {"PerformanceOnly": [], "AccuracyOnly": []}
    mode_now = ["PerformanceOnly"]
    keep = []

    def issue_query(query_samples):
        responses = []
        for s in query_samples:
            issued[mode_now[0]].append(s.id)
            a = array.array("B", payload(s.index))
            keep.append(a)
            address, length = a.buffer_info()
            responses.append(mlperf_loadgen.QuerySampleResponse(s.id, address, length))
        mlperf_loadgen.QuerySamplesComplete(responses, lambda r: seen[mode_now[0]].append(r.id))

    for mode in ("PerformanceOnly", "AccuracyOnly"):
        mode_now[0] = mode
        sut = mlperf_loadgen.ConstructSUT(issue_query, lambda: None)
        qsl = mlperf_loadgen.ConstructQSL(TOTAL, PERF, lambda s: None, lambda s: None)
        settings = demo_settings("Offline", mode)
        log_settings = mlperf_loadgen.LogSettings()
        log_settings.log_output.outdir = str(tmp_path / mode)
        mlperf_loadgen.StartTestWithLogSettings(sut, qsl, settings, log_settings)
        mlperf_loadgen.DestroySUT(sut)
        mlperf_loadgen.DestroyQSL(qsl)
    assert seen["PerformanceOnly"] == []
    assert len(seen["AccuracyOnly"]) == TOTAL
    records = read_accuracy_log(tmp_path / "AccuracyOnly" / "mlperf_log_accuracy.json")
    assert len(records) == TOTAL
    assert sorted(seen["AccuracyOnly"]) == sorted(issued["AccuracyOnly"])  # response ids are opaque


def test_start_test_default_log_settings_and_audit_config(tmp_path):
    """``StartTest`` writes into the working directory and honours ``audit_config_filename``."""
    (tmp_path / "my_audit.config").write_text("*.SingleStream.min_query_count = 17\n")
    harness = DemoHarness("current", "SingleStream")
    settings = demo_settings("SingleStream", "PerformanceOnly")
    mlperf_loadgen.StartTest(harness.sut, harness.qsl, settings, audit_config_filename="my_audit.config")
    detail = read_detail_log(tmp_path / "mlperf_log_detail.txt")
    assert detail["effective_min_query_count"] == 17
    assert any("audit.config" in w["value"] for w in detail.warnings())
    assert (tmp_path / "mlperf_log_summary.txt").is_file()
    assert read_summary_log(tmp_path / "mlperf_log_summary.txt")["Scenario"] == "SingleStream"
    mlperf_loadgen.DestroySUT(harness.sut)
    mlperf_loadgen.DestroyQSL(harness.qsl)


def test_from_config(tmp_path):
    settings = mlperf_loadgen.TestSettings()
    user_conf = tmp_path / "user.conf"
    user_conf.write_text(
        "# user.conf written by a harness\n"
        "resnet50.SingleStream.target_latency = 3\n"
        "*.SingleStream.min_duration = 1234\n"
        "*.Offline.target_qps = 77\n"
        "gnmt.SingleStream.min_query_count = 5\n"
    )
    assert settings.FromConfig(str(user_conf), "resnet50", "SingleStream") == 0
    assert settings.single_stream_expected_latency_ns == 3_000_000
    assert settings.min_duration_ms == 1234
    # Scenario-specific keys are read with a hard-coded scenario name (spec section 3.2) ...
    assert settings.offline_expected_qps == 77.0
    # ... but another model's keys never apply; min_query_count comes from the built-in mlperf.conf.
    assert settings.min_query_count == 1024

    snapshot = _plain_fields(settings)
    before = (settings.min_duration_ms, settings.single_stream_expected_latency_ns, settings.min_query_count)
    assert settings.FromConfig(str(tmp_path / "missing.conf"), "resnet50", "SingleStream") == -2

    bad = tmp_path / "bad.conf"
    bad.write_text("*.SingleStream.min_duration = 99\n*.SingleStream.min_query_count = lots\n")
    assert settings.FromConfig(str(bad), "resnet50", "SingleStream") == -22
    # An invalid file applies no key at all, not even its valid first line.
    assert (settings.min_duration_ms, settings.single_stream_expected_latency_ns, settings.min_query_count) == before
    assert _plain_fields(settings) == snapshot


def _plain_fields(settings) -> dict:
    """Every setting value, without the diagnostics lists a failed FromConfig appends to."""
    values = {k: v for k, v in vars(settings).items() if not isinstance(v, list)}
    values.update(
        {
            f: getattr(settings, f)
            for f in type(settings).__dataclass_fields__
            if not isinstance(getattr(settings, f), list)
        }
    )
    return values


def test_pickle_round_trip():
    sample = mlperf_loadgen.QuerySample(7, 42)
    assert pickle.loads(pickle.dumps(sample)) == sample
    empty = mlperf_loadgen.QuerySample()  # the binding's default constructor
    assert (empty.id, empty.index) == (0, 0)
    response = mlperf_loadgen.QuerySampleResponse(7, 123456, 9)
    back = pickle.loads(pickle.dumps(response))
    assert isinstance(back, mlperf_loadgen.QuerySampleResponse)
    assert (back.id, back.data, back.size) == (7, 123456, 9)
    tokens = pickle.loads(pickle.dumps(mlperf_loadgen.QuerySampleResponse(8, 0, 0, 5)))
    assert tokens.n_tokens == 5
    default = mlperf_loadgen.QuerySampleResponse()
    assert (default.id, default.data, default.size) == (0, 0, 0)


def test_destroyed_handles_raise_value_error(tmp_path):
    sut = mlperf_loadgen.ConstructSUT(lambda samples: None, lambda: None)
    qsl = mlperf_loadgen.ConstructQSL(4, 4, lambda s: None, lambda s: None)
    mlperf_loadgen.DestroySUT(sut)
    settings = demo_settings("SingleStream", "PerformanceOnly")
    log_settings = mlperf_loadgen.LogSettings()
    log_settings.log_output.outdir = str(tmp_path / "out")
    with pytest.raises(ValueError, match=r"SUT handle .* ConstructSUT"):
        mlperf_loadgen.StartTestWithLogSettings(sut, qsl, settings, log_settings)
    with pytest.raises(ValueError, match="SUT handle"):
        mlperf_loadgen.DestroySUT(sut)
    # A QSL handle is not a SUT handle, and the other way round.
    with pytest.raises(ValueError, match="SUT handle"):
        mlperf_loadgen.StartTestWithLogSettings(qsl, qsl, settings, log_settings)
    fresh = mlperf_loadgen.ConstructSUT(lambda samples: None, lambda: None)
    with pytest.raises(ValueError, match="QSL handle"):
        mlperf_loadgen.StartTestWithLogSettings(fresh, fresh, settings, log_settings)
    mlperf_loadgen.DestroyQSL(qsl)
    with pytest.raises(ValueError, match=r"QSL handle .* ConstructQSL"):
        mlperf_loadgen.StartTestWithLogSettings(fresh, qsl, settings, log_settings)
    mlperf_loadgen.DestroySUT(fresh)
    assert not (tmp_path / "out").exists()  # nothing started


def _multistream_run(tmp_path, ruleset: str | None):
    harness = DemoHarness("current", "MultiStream", style="thread")
    settings = demo_settings("MultiStream", "PerformanceOnly")
    if ruleset is not None:
        settings.ruleset = ruleset
    settings.multi_stream_expected_latency_ns = 20_000  # v2.0 hint (ignored under v1.1)
    settings.multi_stream_target_latency_percentile = 0.99
    paths = harness.run(settings, tmp_path / (ruleset or "default"))
    assert harness.problems == []
    return harness, read_summary_log(paths["summary"]), read_detail_log(paths["detail"])


def test_ruleset_v2_multistream(tmp_path):
    harness, summary, detail = _multistream_run(tmp_path, "v2.0")
    assert summary["Scenario"] == "MultiStream"
    assert "Samples per query" not in summary
    headline = summary["99th percentile latency (ns)"]
    assert int(headline) == detail["result_99.00_percentile_per_query_latency_ns"]
    assert int(headline) >= 1_000_000  # the thread SUT sleeps 1 ms per query
    assert "early_stopping_met" in detail
    assert "result_max_query_latency_ns" in detail
    assert detail.errors() == []
    # v2.0 MultiStream is chained like SingleStream: issued one after another, not on ticks.
    assert harness.issued_samples // MS_SPQ > 0.2 * 50 * 2

    _, v11_summary, v11_detail = _multistream_run(tmp_path, None)
    assert v11_summary["Samples per query"] == str(MS_SPQ)
    assert "99th percentile latency (ns)" not in v11_summary
    assert "early_stopping_met" not in v11_detail


def test_current_wheel_only_attributes_still_run(tmp_path):
    harness = DemoHarness("current", "SingleStream")
    settings = demo_settings("SingleStream", "PerformanceOnly")
    settings.multi_stream_expected_latency_ns = 8_000_000
    settings.use_token_latencies = False
    settings.infer_token_latencies = False
    settings.sample_concatenate_permutation = False
    settings.accuracy_sample_count_override = 0
    settings.test05 = False
    settings.ttft_latency = 100_000_000
    settings.tpot_latency = 100_000_000
    paths = harness.run(settings, tmp_path / "out")
    detail, _ = check_common(harness, paths, "SingleStream", "PerformanceOnly")
    assert read_summary_log(paths["summary"])["Scenario"] == "SingleStream"
    assert settings.use_token_latencies is False


def test_enums_and_settings_objects():
    assert {m.name for m in mlperf_loadgen.TestScenario} >= {"SingleStream", "MultiStream", "Server", "Offline"}
    assert {m.name for m in mlperf_loadgen.TestMode} >= {
        "SubmissionRun",
        "AccuracyOnly",
        "PerformanceOnly",
        "FindPeakPerformance",
    }
    assert {m.name for m in mlperf_loadgen.LoggingMode} == {"AsyncPoll", "EndOfTestOnly", "Synchronous"}
    log_settings = mlperf_loadgen.LogSettings()
    assert log_settings.log_output.outdir == "." and log_settings.log_output.prefix == "mlperf_log_"
    assert log_settings.log_mode == mlperf_loadgen.LoggingMode.AsyncPoll
    settings = mlperf_loadgen.TestSettings()
    assert settings.scenario == mlperf_loadgen.TestScenario.SingleStream
    assert settings.min_duration_ms == 10_000 and settings.min_query_count == 100


@pytest.mark.parametrize("form", ["r1.1", "fast-current"])
def test_submission_run(tmp_path, form):
    """SubmissionRun: the accuracy pass over every set, then one performance series."""
    harness = DemoHarness(form, "SingleStream")
    paths = harness.run(demo_settings("SingleStream", "SubmissionRun"), tmp_path / "out")
    detail, _ = check_common(harness, paths, "SingleStream", "SubmissionRun")
    summary = read_summary_log(paths["summary"])
    assert summary["Mode"] == "SubmissionRun" and summary["Scenario"] == "SingleStream"
    assert harness.flushes == 3 + 1
    assert [len(s) for s in harness.load_calls] == loadable_set_sizes("SingleStream") + [PERF]
    assert harness.load_calls[3] == harness.load_calls[0]  # the performance series uses the first set
    if FORMS[form][1]:
        assert len(harness.latency_reports) == 1
        assert len(harness.latency_reports[0]) == harness.issued_samples - TOTAL
    records = read_accuracy_log(paths["accuracy"])
    assert sorted(r["qsl_idx"] for r in records) == list(range(TOTAL))  # accuracy pass only
