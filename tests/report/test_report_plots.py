"""The report's PNG plots: valid images, the right marks, degenerate and very large inputs."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

from edgeperf.loadgen.metrics import latency_stats  # noqa: E402
from edgeperf.report import plots  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _open(png: bytes):
    assert png.startswith(PNG_SIGNATURE)
    img = Image.open(io.BytesIO(png))
    img.load()
    assert img.format == "PNG" and img.size[0] > 300 and img.size[1] > 200
    return img


def _latencies(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.lognormal(np.log(2e6), 0.4, n)).astype(np.int64)


@pytest.mark.parametrize("p", [0.9, 0.99])
def test_cdf_marks_the_official_percentile_when_no_value_is_given(p):
    lat = _latencies(10_001)
    meta = _open(plots.latency_cdf_png(lat, p)).text
    assert meta["edgeperf:kind"] == "cdf"
    assert float(meta["edgeperf:marked_percentile"]) == p
    assert int(meta["edgeperf:marked_value_ns"]) == latency_stats(lat, p).target
    assert meta["edgeperf:count"] == "10001"


def test_plots_mark_the_value_they_are_given():
    lat = _latencies(5000)
    for fn in (plots.latency_cdf_png, plots.latency_histogram_png):
        meta = _open(fn(lat, 0.99, 123_456, 15_000_000)).text
        assert meta["edgeperf:marked_value_ns"] == "123456"
        assert meta["edgeperf:bound_ns"] == "15000000"


def test_cdf_reports_the_share_within_the_bound():
    lat = np.arange(1, 101, dtype=np.int64) * 1_000_000  # 1..100 ms
    meta = _open(plots.latency_cdf_png(lat, 0.99, None, 90_000_000)).text
    assert float(meta["edgeperf:within_bound"]) == pytest.approx(0.90)
    assert meta["edgeperf:marked_value_ns"] == str(latency_stats(lat, 0.99).target)
    assert meta["edgeperf:x_scale"] == "log"  # 1 ms .. 100 ms is a wide range


def test_narrow_range_is_linear_and_outliers_are_cut_from_the_histogram():
    lat = np.full(10_000, 500_000, dtype=np.int64) + np.arange(10_000) % 50
    lat[:3] = 9_000_000  # a few far outliers
    meta = _open(plots.latency_histogram_png(lat, 0.9)).text
    assert meta["edgeperf:overflow"] == "3"
    assert meta["edgeperf:x_scale"] == "linear"


def test_throughput_bins_cover_the_run():
    offsets = np.linspace(0, 10e9, 20_000).astype(np.int64)  # 2,000 samples/s for 10 s
    meta = _open(plots.throughput_png(offsets)).text
    assert float(meta["edgeperf:bin_s"]) * int(meta["edgeperf:bins"]) == pytest.approx(10.0)
    assert float(meta["edgeperf:overall_per_s"]) == pytest.approx(2000, rel=1e-3)
    meta = _open(plots.throughput_png(offsets, window_s=0.5)).text
    assert meta["edgeperf:bins"] == "20"


@pytest.mark.parametrize(
    "values",
    [[], [5], [0], [7] * 1000, [0, 10**12], [-5, 3], [1, 1, 1, 2]],
    ids=["empty", "one", "zero", "all-equal", "huge-range", "negative", "two-values"],
)
def test_degenerate_inputs_still_give_pngs(values):
    a = np.array(values, dtype=np.int64)
    _open(plots.latency_histogram_png(a, 0.9))
    _open(plots.latency_histogram_png(a, 0.99, None, 100))
    _open(plots.latency_cdf_png(a, 0.99, None, 100))
    _open(plots.latency_cdf_png(a, None))
    _open(plots.throughput_png(a))
    _open(plots.throughput_png(a, window_s=1e-12))


def test_empty_input_marks_nothing():
    meta = _open(plots.latency_cdf_png([], 0.9)).text
    assert meta["edgeperf:marked_value_ns"] == "" and meta["edgeperf:count"] == "0"


def test_a_million_samples_plot():
    # Speed is a benchmark matter (about 0.3 s per plot here); the test checks they are drawn.
    lat = _latencies(1_000_000, seed=3)
    offsets = np.cumsum(lat // 8)
    for draw in (
        lambda: plots.latency_histogram_png(lat, 0.99, None, 10_000_000),
        lambda: plots.latency_cdf_png(lat, 0.99, None, 10_000_000),
        lambda: plots.throughput_png(offsets),
    ):
        _open(draw())


def test_very_large_inputs_use_the_histogram_cdf():
    lat = _latencies(plots._EXACT_CDF_LIMIT + 1, seed=4)
    meta = _open(plots.latency_cdf_png(lat, 0.99)).text
    assert int(meta["edgeperf:marked_value_ns"]) == latency_stats(lat, 0.99).target


def test_matplotlib_is_lazy_and_pyplot_never_imported():
    # A fresh interpreter: other tests of the suite may import pyplot themselves.
    code = (
        "import sys\n"
        "import edgeperf.report\n"
        "assert 'matplotlib' not in sys.modules, 'imported by edgeperf.report'\n"
        "from edgeperf.report import plots\n"
        "assert 'matplotlib' not in sys.modules, 'imported by edgeperf.report.plots'\n"
        "plots.latency_cdf_png([1, 2, 3], 0.9)\n"
        "assert 'matplotlib' in sys.modules\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
    )
    src = Path(plots.__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_figures_use_the_agg_canvas(monkeypatch):
    seen = []
    Figure, Canvas, _ = plots._matplotlib()
    original = plots._png

    def spy(fig, meta):
        seen.append(type(fig.canvas))
        return original(fig, meta)

    monkeypatch.setattr(plots, "_png", spy)
    plots.throughput_png([1, 2, 3])
    assert seen == [Canvas]
