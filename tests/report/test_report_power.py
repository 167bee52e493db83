"""report.html of a run with power: the metric as the results table names it, and the power plot.

Krai's real SingleStream power result: the page must show the energy per query that
compute_power_metric gives (the value the official checker printed, power.md §8.1 cross-check).
"""

from __future__ import annotations

import re

import pytest

pytest.importorskip("matplotlib")

from edgeperf.report import RunData, render_report  # noqa: E402
from edgeperf.workflow.power_run import performance_dir_metric, power_series  # noqa: E402
from fixture_paths import FIXTURES  # noqa: E402

KRAI = FIXTURES / "closed/Krai/results/xavier-power.0-fan.cool-tflite-v2.5.0-ruy/resnet50/singlestream/performance"


def test_power_card_of_a_real_result():
    metric, samples, server = performance_dir_metric(KRAI, "SingleStream")
    series = power_series(metric, samples, server)
    assert series.label == "Energy per query" and series.unit == "Joules"
    assert len(series.watts) == len(samples)
    assert sum(1 for t in series.offsets_s if 0 < t < series.window_s) == metric.sample_count
    html = render_report(RunData.from_log_dir(KRAI / "run_1").with_power(series))
    assert re.search(r'id="power".*Energy per query</span>' + re.escape(f"{metric.value:,.6g} Joules"), html)
    assert f"over {metric.sample_count} samples strictly inside" in html
    assert html.count("data:image/png;base64,") == 1  # logs only: no latency plots, one power plot
    assert "SIMULATOR" not in series.note  # a real analyzer, not the simulator
