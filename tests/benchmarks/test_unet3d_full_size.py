"""3D-UNet at the real size, one case: [4, 224, 224, 160] in, 64 MB of float16 out, 128 MB of hex
in the accuracy log — written and read without ever holding a record's hex text, and with peak
memory bounded by about one response (spec benchmarks.md §6.d, issue 5)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

pytest.importorskip("nibabel")
pytest.importorskip("scipy")

from brats_fixtures import expected_line, make_preprocessed_brats  # noqa: E402
from edgeperf.accuracy.brats import evaluate_brats  # noqa: E402
from edgeperf.loadgen.logs.accuracy import iter_decoded_records  # noqa: E402
from edgeperf.datasets.brats import PATCH_SIZE, BratsDataset  # noqa: E402
from edgeperf.loadgen.logs.accuracy import AccuracyLog  # noqa: E402
from edgeperf.testing.onnx_standins import unet3d_standin  # noqa: E402

# Full-size (64 MB) responses: every test here takes seconds.
pytestmark = pytest.mark.slow

RESPONSE = 4 * 224 * 224 * 160 * 2  # 64 225 280 bytes
PERMUTATION = (2, 3, 1, 0)


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("brats-full")
    build = make_preprocessed_brats(folder, shape_xyz=(150, 190, 140), patch=PATCH_SIZE, count=1)
    weights = np.zeros((4, 4), np.float32)
    weights[np.arange(4), PERMUTATION] = 1.0
    model = unet3d_standin(folder / "unet-full.onnx", weights=weights)
    return {"build": build, "model": model, "ds": BratsDataset(build)}


def _traced_peak(fn) -> tuple[int, object]:
    """(peak bytes allocated while ``fn`` ran, above what was allocated before, fn's result)."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        value = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return peak, value


# Offline completes on a worker thread while its 64 MB record is still being written; the series
# now waits for in-flight accuracy writes before the log is closed (completion.py).
@pytest.mark.parametrize("scenario", ["SingleStream", "Offline"])
def test_full_size_run_end_to_end(cli, tmp_path, full, scenario):
    ds = full["ds"]
    out = tmp_path / "out"
    result = cli(
        "run",
        "3d-unet-99",
        "--scenario",
        scenario,
        "--mode",
        "accuracy",
        "--model",
        full["model"],
        "--dataset",
        full["build"],
        "--output",
        out,
    )
    assert result.exit_code == 0, result.output
    logits = ds.preprocessed(0)[list(PERMUTATION)].astype(np.float16)
    line = expected_line(ds, {0: np.argmax(logits, axis=0).astype(np.uint8)})
    assert (out / "accuracy.txt").read_text() == line + "\n"
    log = out / "mlperf_log_accuracy.json"
    head = b'[\n{ "seq_id" : 0, "qsl_idx" : 0, "data" : "'
    assert log.stat().st_size == len(head) + 2 * RESPONSE + len(b'" }\n]\n')
    with open(log, "rb") as f:
        assert f.read(len(head)) == head
    [(seq, idx, data)] = list(iter_decoded_records(log))
    assert (seq, idx, len(data)) == (0, 0, RESPONSE)
    assert bytes(data) == logits.tobytes()


def test_writing_the_log_holds_no_hex_string(tmp_path):
    response = np.random.default_rng(0).standard_normal((4, *PATCH_SIZE), dtype=np.float32).astype(np.float16)
    path = tmp_path / "mlperf_log_accuracy.json"

    def write():
        with AccuracyLog(path) as log:
            log.append(0, 0, response)

    peak, _ = _traced_peak(write)
    assert path.stat().st_size > 2 * RESPONSE
    assert peak < 8 << 20, f"writing one 64 MB response allocated {peak / 2**20:.1f} MiB at once"


def test_engine_completion_copies_at_most_one_response(tmp_path):
    """Through LoadGen (accuracy mode, the official binding's completion call): one copy of the
    response for the log at most, never a hex string of it (that alone would be 2x the response)."""
    from edgeperf.loadgen.api import QuerySampleResponse
    from edgeperf.loadgen.engine import query_samples_complete, start_test
    from edgeperf.loadgen.enums import TestMode, TestScenario
    from edgeperf.loadgen.settings import LogOutputSettings, LogSettings, TestSettings

    response = np.ones((4, *PATCH_SIZE), np.float16)
    view = memoryview(response).cast("B")

    class SUT:
        name = "full-size"

        def issue_query(self, samples):
            query_samples_complete([QuerySampleResponse(s.id, view, RESPONSE) for s in samples])

        def flush_queries(self):
            pass

    class QSL:
        name = "one-case"
        total_sample_count = 1
        performance_sample_count = 1

        def load_samples_to_ram(self, indices):
            pass

        def unload_samples_from_ram(self, indices):
            pass

    settings = TestSettings(scenario=TestScenario.Offline, mode=TestMode.AccuracyOnly)
    logs = LogSettings(log_output=LogOutputSettings(outdir=str(tmp_path)), enable_trace=False)
    peak, _ = _traced_peak(lambda: start_test(SUT(), QSL(), settings, logs))
    records = list(iter_decoded_records(tmp_path / "mlperf_log_accuracy.json"))
    assert len(records) == 1 and bytes(records[0][2]) == response.tobytes()
    assert peak < 1.5 * RESPONSE, f"completing and logging one 64 MB response allocated {peak / 2**20:.1f} MiB at once"


def test_reading_the_log_decodes_in_place(tmp_path, full):
    ds = full["ds"]
    truth = ds.label_patch(0)
    logits = np.zeros((4, *PATCH_SIZE), np.float16)
    for c in range(4):
        logits[c][truth == c] = 1
    path = tmp_path / "mlperf_log_accuracy.json"
    with AccuracyLog(path) as log:
        log.append(0, 0, logits)
    del logits
    size = path.stat().st_size
    peak, result = _traced_peak(lambda: evaluate_brats(path, full["build"]))
    assert result.lines == [
        "Accuracy: mean = 1.00000, whole tumor = 1.0000, tumor core = 1.0000, enhancing tumor = 1.0000"
    ]
    # one decoded response (0.5x the file) plus the label volume and masks; the record's hex text
    # alone (1x the file) would exceed this
    assert peak < 0.9 * size, f"scoring a {size / 2**20:.0f} MiB log allocated {peak / 2**20:.1f} MiB at once"
    # the decoder alone: one buffer of the record's size when told it, a growing one otherwise
    peak, total = _traced_peak(lambda: sum(len(d) for _, _, d in iter_decoded_records(path, expected_nbytes=RESPONSE)))
    assert total == RESPONSE and peak < 0.6 * size, peak
    peak, total = _traced_peak(lambda: sum(len(d) for _, _, d in iter_decoded_records(path)))
    assert total == RESPONSE and peak < 0.75 * size, peak
