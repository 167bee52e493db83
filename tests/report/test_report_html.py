"""report.html: well-formed, self-contained, complete, escaped, written atomically."""

from __future__ import annotations

import base64
import io
import os
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from fixture_paths import ALIBABA_SS, ALIBABA_TEST04A_SS

from edgeperf.loadgen.metrics import latency_stats
from edgeperf.loadgen.logs.readers import read_summary_log
from edgeperf.report import (
    REPORT_FILE,
    TRADEMARK_NOTE,
    ReportError,
    RunData,
    render_report,
    report_from_log_dir,
    write_report,
)
from edgeperf.report.html import NO_SERIES_NOTE

SS_RUN = ALIBABA_SS / "performance/run_1"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
HOSTILE = '<script>alert("x")</script> & "quoted" \'single\''


class _Checker(HTMLParser):
    """Checks that every element is closed in order, and collects text, images and links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.text: list[str] = []
        self.images: list[str] = []
        self.urls: list[str] = []
        self.tags: list[str] = []
        self.doctype = None

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for name in ("href", "src", "action"):
            if name in attrs:
                self.urls.append(attrs[name])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            self.problems.append(f"end tag for void element {tag}")
        elif not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def _check(page: str) -> _Checker:
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.doctype and checker.doctype.lower() == "doctype html"
    assert checker.problems == []
    assert checker.stack == []
    assert checker.tags[:1] == ["html"]
    assert checker.tags.count("html") == checker.tags.count("head") == checker.tags.count("body") == 1
    return checker


def _pngs(checker: _Checker) -> list[bytes]:
    out = []
    for src in checker.images:
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        out.append(base64.b64decode(src[len(prefix) :], validate=True))
    return out


def _series_run(**overrides) -> RunData:
    rng = np.random.default_rng(7)
    lat = rng.lognormal(np.log(500_000), 0.05, 20_000).astype(np.int64)
    run = RunData.from_log_dir(SS_RUN).with_series(lat, np.cumsum(lat))
    for key, value in overrides.items():
        setattr(run, key, value)
    return run


def test_logs_only_report_of_the_real_summary(tmp_path):
    run = RunData.from_log_dir(SS_RUN)
    path = write_report(tmp_path / REPORT_FILE, run)
    page = path.read_text(encoding="utf-8")
    checker = _check(page)
    text = " ".join(" ".join(checker.text).split())
    assert TRADEMARK_NOTE in text
    assert "VALID" in text
    # Every key and value of the real summary is on the page.
    for key, value in read_summary_log(SS_RUN / "mlperf_log_summary.txt").items():
        assert key in text and value in text, key
    assert "Test parameters used" in text
    assert "No errors encountered during test." in text
    assert NO_SERIES_NOTE in text
    assert checker.images == []


def test_report_with_series_embeds_three_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    Image = pytest.importorskip("PIL.Image")
    run = _series_run()
    checker = _check(write_report(tmp_path, run).read_text(encoding="utf-8"))
    pngs = _pngs(checker)
    assert len(pngs) == 3
    kinds = []
    for png in pngs:
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        img = Image.open(io.BytesIO(png))
        img.load()
        kinds.append(img.text["edgeperf:kind"])
        if img.text["edgeperf:kind"] in ("histogram", "cdf"):
            # The deciding percentile of the plotted data, by the official rule.
            assert int(img.text["edgeperf:marked_value_ns"]) == latency_stats(run.sample_latencies_ns, 0.9).target
            assert img.text["edgeperf:marked_percentile"] == "0.9"
    assert kinds == ["histogram", "cdf", "throughput"]


def test_page_is_self_contained(tmp_path):
    pytest.importorskip("matplotlib")
    page = render_report(_series_run())
    checker = _check(page)
    assert all(u.startswith("data:image/png;base64,") for u in checker.urls)
    assert "script" not in checker.tags and "link" not in checker.tags
    without_images = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert not re.search(r"(?i)(?:https?:)?//[a-z0-9]", without_images)
    assert "@import" not in page and "url(" not in page


def test_hostile_text_is_escaped():
    summary_lines = (SS_RUN / "mlperf_log_summary.txt").read_text().splitlines()
    summary_lines[3] = f"SUT name : {HOSTILE}"
    summary_lines.insert(10, "Recommendations:")
    summary_lines.insert(11, f" * {HOSTILE}")
    run = RunData.from_series(
        "SingleStream", "PerformanceOnly", None, None, summary_lines=summary_lines, title=f"run of {HOSTILE}"
    )
    page = render_report(run)
    checker = _check(page)
    assert "<script>" not in page and "script" not in checker.tags
    assert "&lt;script&gt;" in page
    text = "".join(checker.text)
    assert text.count(HOSTILE) >= 3  # title, SUT name in the table, the recommendation


def test_invalid_run_shows_the_reasons():
    page = render_report(RunData.from_log_dir(ALIBABA_TEST04A_SS / "performance/run_1"))
    checker = _check(page)
    text = " ".join(" ".join(checker.text).split())
    assert "INVALID" in text and 'class="verdict invalid"' in page
    assert "Recommendations" in text
    assert "Decrease the expected latency so the loadgen pre-generates more queries." in text
    assert "Min duration satisfied: NO" in text


def test_accuracy_only_summary_still_renders(tmp_path):
    (tmp_path / "mlperf_log_summary.txt").write_text(
        "\nNo warnings encountered during test.\n\nNo errors encountered during test.\n"
    )
    path = report_from_log_dir(tmp_path)
    assert path == tmp_path / REPORT_FILE
    text = " ".join(_check(path.read_text()).text)
    assert "no performance result" in text
    assert "No errors encountered during test." in text


def test_missing_plots_library_is_explained(monkeypatch):
    from edgeperf.report import plots

    def missing():
        raise plots.PlotsUnavailable(
            "the report's plots need matplotlib; install it with: pip install 'edgeperf[report]'"
        )

    monkeypatch.setattr(plots, "_matplotlib", missing)
    page = render_report(_series_run())
    _check(page)
    assert "pip install &#x27;edgeperf[report]&#x27;" in page
    assert "<img" not in page


def test_write_is_atomic_and_leaves_nothing_behind(tmp_path, monkeypatch):
    target = tmp_path / REPORT_FILE
    target.write_text("old report")
    from edgeperf.report import html as html_mod

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(html_mod.os, "replace", broken)
    with pytest.raises(ReportError, match="disk full"):  # names the file, wraps the OSError
        write_report(target, RunData.from_log_dir(SS_RUN))
    assert target.read_text() == "old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == [REPORT_FILE]


def test_write_into_a_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ReportError, match="does not exist"):
        write_report(tmp_path / "nowhere" / REPORT_FILE, RunData.from_log_dir(SS_RUN))


def test_written_report_is_readable_by_others(tmp_path):
    path = write_report(tmp_path, RunData.from_log_dir(SS_RUN))
    assert path.stat().st_mode & 0o044 == 0o044
    assert os.listdir(tmp_path) == [REPORT_FILE]


def test_server_report_marks_the_bound(tmp_path):
    pytest.importorskip("matplotlib")
    Image = pytest.importorskip("PIL.Image")
    lines = [
        "SUT name : S",
        "Scenario : Server",
        "Mode     : PerformanceOnly",
        "Scheduled samples per second : 1999.50",
        "Result is : VALID",
        "target_latency (ns): 15000000",
    ]
    rng = np.random.default_rng(1)
    lat = rng.gamma(2.0, 2e6, 5000).astype(np.int64)
    offsets = np.cumsum(rng.exponential(5e5, 5000)).astype(np.int64) + lat
    run = RunData.from_series("Server", "PerformanceOnly", lat, offsets, summary_lines=lines)
    assert run.target_percentile == 0.99 and run.target_latency_ns == 15_000_000
    page = render_report(run)
    text = " ".join(" ".join(_check(page).text).split())
    assert "Scheduled samples per second 1999.50" in text
    assert "bound 15 ms" in text
    for png in _pngs(_check(page))[:2]:
        meta = Image.open(io.BytesIO(png)).text
        assert meta["edgeperf:bound_ns"] == "15000000"
        assert int(meta["edgeperf:marked_value_ns"]) == latency_stats(lat, 0.99).target
