"""``edgeperf run resnet50`` end to end through the CLI, in every scenario and mode.

The real chain runs: ImageNet fixture on disk → reference preprocessing → DatasetQSL → the
onnxruntime backend with a stand-in model → DirectSUT / WorkerPoolSUT → LoadGen → logs, then
accuracy.txt and report.html. The stand-in answers ArgMax 2 for every image (ImageNet label 1),
so the accuracy log's data is ``0000803F`` everywhere and top-1 is 0 of 5. A user.conf from
``conftest.FAST_USER_CONF`` keeps each run to a fraction of a second.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import LOG_FILES, resnet50_args

SCENARIOS = ("SingleStream", "MultiStream", "Server", "Offline")
HEADLINES = {
    "SingleStream": "90th percentile latency (ns) : ",
    "MultiStream": "Samples per query : ",
    "Server": "Scheduled samples per second : ",
    "Offline": "Samples per second: ",
}
ZERO_OF_FIVE = "accuracy=0.000%, good=0, total=5"
RAN_OUT = "Ending early: Ran out of generated queries to issue"


def _run(cli, models, imagenet_dir, conf, out, scenario, mode, *extra, model="resnet50-label1"):
    started = time.perf_counter()
    result = cli(*resnet50_args("run", models[model], imagenet_dir, conf, out, scenario, "--mode", mode, *extra))
    return result, time.perf_counter() - started


def _summary(out: Path) -> str:
    return (out / "mlperf_log_summary.txt").read_text()


def _detail_records(out: Path) -> list[dict]:
    lines = (out / "mlperf_log_detail.txt").read_text().splitlines()
    return [json.loads(line.split(":::MLLOG ", 1)[1]) for line in lines if line.startswith(":::MLLOG ")]


def _detail_value(out: Path, key: str):
    return next(r["value"] for r in _detail_records(out) if r["key"] == key)


def _check_logs(out: Path, plots: bool = True) -> None:
    for name in LOG_FILES:
        assert (out / name).is_file(), name
    errors = [r["value"] for r in _detail_records(out) if r["metadata"]["is_error"]]
    # A stand-in answers far faster than the 1 ms SingleStream latency user.conf can express, so
    # LoadGen may legitimately run out of pre-generated queries; nothing else may go wrong.
    assert [e for e in errors if not e.startswith(RAN_OUT)] == []
    json.loads((out / "mlperf_log_accuracy.json").read_text())  # a complete JSON list
    assert (out / "mlperf_log_trace.json").is_file()
    html = (out / "report.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html")
    assert ("data:image/png;base64," in html) is plots  # latency plots only after a performance run


def _accuracy_entries(out: Path) -> list[dict]:
    return json.loads((out / "mlperf_log_accuracy.json").read_text())


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_performance_mode(cli, models, imagenet_dir, fast_conf, tmp_path, scenario):
    out = tmp_path / "out"
    result, _ = _run(cli, models, imagenet_dir, fast_conf, out, scenario, "performance")
    assert result.exit_code == 0, result.output
    _check_logs(out)
    summary = _summary(out)
    assert f"Scenario : {scenario}" in summary
    assert "Mode     : PerformanceOnly" in summary
    assert "SUT name : edgeperf-resnet50-onnxruntime" in summary
    headline = next(line for line in summary.splitlines() if line.startswith(HEADLINES[scenario]))
    verdict = re.search(r"^Result is : (VALID|INVALID)$", summary, re.M).group(1)
    # the CLI prints the summary's headline and verdict, and says where the logs are
    assert headline in result.output
    assert f"Result is : {verdict}" in result.output
    assert f"Logs in {out}" in result.output
    assert "not an official MLPerf result" in result.output
    # the user.conf applied on top of mlperf.conf
    assert _detail_value(out, "effective_min_duration_ms") == 200
    assert _detail_value(out, "requested_min_query_count") == 16
    assert _detail_value(out, "effective_scenario") == scenario
    assert not (out / "accuracy.txt").exists()  # performance mode scores nothing
    assert _accuracy_entries(out) == []  # and logs no accuracy data (log probability 0)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_accuracy_mode(cli, models, imagenet_dir, fast_conf, tmp_path, scenario):
    out = tmp_path / "out"
    result, _ = _run(cli, models, imagenet_dir, fast_conf, out, scenario, "accuracy")
    assert result.exit_code == 0, result.output
    _check_logs(out, plots=False)
    assert _detail_value(out, "effective_test_mode") == "AccuracyOnly"
    assert "Result is" not in _summary(out)  # as the official LoadGen: only the footer
    entries = _accuracy_entries(out)
    # every sample of the data set (MultiStream pads its set to whole queries, so some twice),
    # with the reference's bytes: label 1 as float32
    assert {e["qsl_idx"] for e in entries} == {0, 1, 2, 3, 4}
    assert len(entries) == (8 if scenario == "MultiStream" else 5)
    assert {e["data"] for e in entries} == {"0000803F"}
    assert (out / "accuracy.txt").read_text().splitlines()[-1] == ZERO_OF_FIVE
    assert result.output.splitlines().count(ZERO_OF_FIVE) == 1
    assert "Result is" not in result.output  # no performance run in accuracy mode


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_submission_mode(cli, models, imagenet_dir, fast_conf, tmp_path, scenario):
    out = tmp_path / "out"
    result, seconds = _run(cli, models, imagenet_dir, fast_conf, out, scenario, "submission")
    assert result.exit_code == 0, result.output
    _check_logs(out)
    summary = _summary(out)
    assert "Mode     : SubmissionRun" in summary
    assert re.search(r"^Result is : (VALID|INVALID)$", summary, re.M)
    assert any(line.startswith(HEADLINES[scenario]) for line in summary.splitlines())
    # the accuracy pass logged every sample; accuracy.txt scores it
    entries = _accuracy_entries(out)
    assert {e["qsl_idx"] for e in entries} == {0, 1, 2, 3, 4}
    assert (out / "accuracy.txt").read_text().splitlines()[-1] == ZERO_OF_FIVE
    assert ZERO_OF_FIVE in result.output and "Result is : " in result.output


@pytest.mark.parametrize("scenario", ["SingleStream", "Offline"])
def test_find_peak_is_refused_where_it_does_not_apply(cli, models, imagenet_dir, fast_conf, tmp_path, scenario):
    out = tmp_path / "out"
    result, _ = _run(cli, models, imagenet_dir, fast_conf, out, scenario, "find-peak")
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("edgeperf: find-peak")
    assert f"does not apply to the {scenario} scenario" in lines[0]
    assert "Server or MultiStream" in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()  # nothing half-written


# -- find-peak in Server and MultiStream --------------------------------------------------------
#
# The stand-in model answers in microseconds, so its peak would be thousands of QPS and the search
# would take many steps. A backend that sleeps a fixed time per call (batch size 1) gives a known
# ceiling instead: about 1 / 5 ms = 200 QPS, and for MultiStream about (50 ms - 2 ms) / 2 ms samples
# per 50 ms query.


class _PacedOnnxRuntime:
    """The onnxruntime backend, sleeping ``base + per_sample * n`` seconds before each batch."""

    base = 0.0
    per_sample = 0.0

    def __new__(cls, **options):
        from edgeperf.backends.onnxruntime_backend import OnnxRuntimeBackend

        base, per_sample = cls.base, cls.per_sample

        class Paced(OnnxRuntimeBackend):
            def predict(self, feeds, outputs=None):
                n = next(iter(feeds.values())).shape[0]
                time.sleep(base + per_sample * n)
                return super().predict(feeds, outputs)

        return Paced(**options)


@pytest.fixture
def paced(request):
    from edgeperf.backends import register_backend

    base, per_sample = request.param
    factory = type("PacedFactory", (_PacedOnnxRuntime,), {"base": base, "per_sample": per_sample})
    name = f"test-paced-{base}-{per_sample}"
    register_backend(name, factory, replace=True)
    return name


def _find_peak_lines(out: Path) -> list[str]:
    return [r["value"] for r in _detail_records(out) if r["key"] == "generic_message" and "FindPeak" in r["value"]]


@pytest.mark.parametrize("paced", [(0.005, 0.0)], indirect=True)
def test_find_peak_server(cli, models, imagenet_dir, tmp_path, paced):
    conf = tmp_path / "user.conf"
    conf.write_text(
        "*.*.min_duration = 50\n*.*.min_query_count = 5\n*.Server.target_qps = 50\n*.Server.target_latency = 20\n"
    )
    out = tmp_path / "out"
    result, _ = _run(
        cli, models, imagenet_dir, conf, out, "Server", "find-peak", "--backend", paced, "--batch-size", "1"
    )
    assert result.exit_code == 0, result.output
    _check_logs(out)
    lines = _find_peak_lines(out)
    assert lines[0] == "Starting FindPeakPerformance mode"
    assert "FindPeakPerformance: Check validity of the base settings field: server_target_qps" in lines
    summary = _summary(out)
    assert "Mode     : FindPeakPerformance" in summary
    assert "Scheduled samples per second : " in result.output
    # Which rates pass depends on this machine's timing (a busy machine can miss even 50 QPS);
    # what must hold is the search's own logic, whichever way the runs went.
    errors = [r["value"] for r in _detail_records(out) if r["metadata"]["is_error"]]
    if errors:
        assert errors == [
            "FindPeakPerformance: Initial lower bound does not satisfy performance constraints, "
            "msg: Reduce target QPS to improve latency."
        ]
        return
    bounds = next(line for line in lines if line.startswith("FindPeakPerformance: Found boundaries: "))
    lower, upper = (float(v) for v in re.findall(r"[\d.]+", bounds.split(":", 2)[2]))
    assert upper == 2 * lower and lower >= 50  # widening doubles (step size 1) from a valid 50 QPS
    peak = float(lines[-1].removeprefix("FindPeakPerformance: Found peak performance field: "))
    assert lower <= peak < upper
    assert re.search(r"^Result is : VALID$", summary, re.M)


@pytest.mark.parametrize("paced", [(0.002, 0.002)], indirect=True)
def test_find_peak_multistream(cli, models, imagenet_dir, tmp_path, paced):
    conf = tmp_path / "user.conf"
    conf.write_text(
        "*.*.min_duration = 100\n*.*.min_query_count = 2\n"
        "*.MultiStream.target_qps = 20\n*.MultiStream.samples_per_query = 4\n"
    )
    out = tmp_path / "out"
    result, _ = _run(cli, models, imagenet_dir, conf, out, "MultiStream", "find-peak", "--backend", paced)
    assert result.exit_code == 0, result.output
    _check_logs(out)
    lines = _find_peak_lines(out)
    assert "FindPeakPerformance: Check validity of the base settings field: multi_stream_samples_per_query" in lines
    summary = _summary(out)
    errors = [r["value"] for r in _detail_records(out) if r["metadata"]["is_error"]]
    if errors:  # timing: a busy machine can miss even the starting 4 samples per query
        assert errors[0].startswith("FindPeakPerformance: Initial lower bound does not satisfy performance constraints")
        return
    peak = int(lines[-1].removeprefix("FindPeakPerformance: Found peak performance field: "))
    assert peak >= 4  # the search never goes below the valid starting point
    assert f"Samples per query : {peak}" in summary
    assert f"Samples per query : {peak}" in result.output
    assert re.search(r"^Result is : VALID$", summary, re.M)


def test_threads_batch_size_and_max_samples_reach_the_run(cli, models, imagenet_dir, fast_conf, tmp_path):
    out = tmp_path / "out"
    result, _ = _run(
        cli,
        models,
        imagenet_dir,
        fast_conf,
        out,
        "Offline",
        "accuracy",
        "--threads",
        "1",
        "--batch-size",
        "2",
        "--workers",
        "2",
        "--max-samples",
        "3",
    )
    assert result.exit_code == 0, result.output
    assert sorted(e["qsl_idx"] for e in _accuracy_entries(out)) == [0, 1, 2]
    assert (out / "accuracy.txt").read_text().splitlines()[-1] == "accuracy=0.000%, good=0, total=3"


def test_preprocessed_cache_is_written_and_reused(cli, models, imagenet_dir, fast_conf, tmp_path):
    cache = tmp_path / "cache"
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        result, _ = _run(cli, models, imagenet_dir, fast_conf, out, "Offline", "accuracy", "--cache-dir", cache)
        assert result.exit_code == 0, result.output
    files = sorted(cache.rglob("*.npy"))
    assert len(files) == 5
    cached = np.load(files[0])  # the uint8 RGB crop, finished into the float32 input on load
    assert cached.shape == (224, 224, 3) and cached.dtype == np.uint8
    assert _accuracy_entries(first) and {e["data"] for e in _accuracy_entries(second)} == {"0000803F"}


def test_a_run_reports_listed_images_missing_from_disk(cli, models, fast_conf, tmp_path):
    # issue 10 item 6: accuracy over 11 of 12 images must not pass without a word
    from vision_fixtures import imagenet_file_name, make_imagenet

    labels = (65, 970, 230, 817, 13, 1, 2, 3, 4, 5, 6, 7)
    root = make_imagenet(tmp_path / "data", labels=labels, missing=(2,))
    out = tmp_path / "out"
    result, _ = _run(cli, models, root, fast_conf, out, "Offline", "accuracy")
    assert result.exit_code == 0, result.output
    warning = f"edgeperf: warning: 1 of the 12 images listed in {root / 'val_map.txt'} is missing"
    assert warning in result.output and imagenet_file_name(3) in result.output
    assert (out / "accuracy.txt").read_text().splitlines()[-1].endswith("total=11")
    html = (out / "report.html").read_text()
    assert "1 of the 12 images listed in" in html and imagenet_file_name(3) in html
