"""What a run report needs: the summary, optionally the detail log, and the series' own numbers.

`RunData` is built either from a finished series in the same process (`RunData.from_series`,
with the latency and completion arrays that the plots need) or from a log directory alone
(`RunData.from_log_dir`: summary values only, no plots). Everything here is pure and needs only
numpy; matplotlib is imported by `edgeperf.report.plots` and only when a plot is drawn.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from edgeperf.loadgen.logs.readers import (
    DetailLogRecords,
    LogFormatError,
    parse_summary_lines,
    read_detail_log,
)
from ..errors import EdgeperfError
from ..loadgen.events import query_latencies, sample_arrays

__all__ = [
    "PowerSeries",
    "ReportError",
    "RunData",
    "SummarySection",
    "SummaryLayout",
    "TEST_PARAMETER_KEYS",
    "SUMMARY_FILE",
    "DETAIL_FILE",
    "default_target_percentile",
    "percentile_decides",
    "percentile_value",
    "parse_summary_layout",
    "series_arrays",
    "series_query_latencies",
    "format_ns",
]

SUMMARY_FILE = "mlperf_log_summary.txt"
DETAIL_FILE = "mlperf_log_detail.txt"

#: The labels of the summary's "Test Parameters Used" block (spec loadgen.md §12.1), in order.
TEST_PARAMETER_KEYS = (
    "samples_per_query",
    "target_qps",
    "target_latency (ns)",
    "max_async_queries",
    "min_duration (ms)",
    "max_duration (ms)",
    "min_query_count",
    "max_query_count",
    "qsl_rng_seed",
    "sample_index_rng_seed",
    "schedule_rng_seed",
    "accuracy_log_rng_seed",
    "accuracy_log_probability",
    "accuracy_log_sampling_target",
    "print_timestamps",
    "performance_issue_unique",
    "performance_issue_same",
    "performance_issue_same_index",
    "performance_sample_count",
)

#: The labels of the scenario result line (§12.1), by scenario.
RESULT_LABELS = {
    "MultiStream": "Samples per query",
    "MultiStreamFree": "Samples per second",
    "Server": "Scheduled samples per second",
    "Offline": "Samples per second",
}
_PERCENTILE_RESULT = re.compile(r"^\d+th percentile latency \(ns\)$")
_FOOTER = re.compile(r"^(No warnings|No errors|\d+ warnings?|\d+ ERRORS?)\b.*encountered", re.IGNORECASE)
_MULTI = ("MultiStream", "MultiStreamFree")


class ReportError(EdgeperfError, ValueError):
    """A run report could not be made from what it was given (names the file and the problem)."""


# --------------------------------------------------------------------------- numbers
def percentile_value(values: np.ndarray, p: float) -> int | None:
    """The official floor-index percentile (§11.1): element ``int(n * p)`` of the sorted values.

    Computed with ``np.partition`` (linear time), so it equals
    ``edgeperf.loadgen.metrics.percentile_of_sorted`` without sorting 10 million samples.
    ``None`` for an empty input.
    """
    values = np.asarray(values)
    n = len(values)
    if n == 0:
        return None
    k = min(int(n * p), n - 1)
    return int(np.partition(values, k)[k])


def default_target_percentile(scenario: str) -> float:
    """The v1.1 default target percentile: 0.90 for SingleStream and Offline, 0.99 otherwise."""
    return 0.9 if scenario in ("SingleStream", "Offline", "") else 0.99


def percentile_decides(scenario: str) -> bool:
    """Whether the target percentile decides the result: the result itself (SingleStream) or its
    latency constraint (Server, MultiStream, MultiStreamFree). Offline has no latency constraint."""
    return scenario in ("SingleStream", "Server", *_MULTI)


def format_ns(ns: float | int | None) -> str:
    """A duration in the unit that suits it: ``"508.8 µs"``, ``"15 ms"``, ``"1.25 s"``."""
    if ns is None:
        return "n/a"
    ns = float(ns)
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if abs(ns) >= scale:
            return f"{ns / scale:.4g} {unit}"
    return f"{ns:.4g} ns"


# --------------------------------------------------------------------------- series arrays
def series_arrays(
    recorder, issued_samples: int | None = None, start_ns: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample latencies and completion offsets (ns) of a finished series, in sequence order.

    ``recorder`` is the series' ``edgeperf.loadgen.completion.SeriesRecorder``; ``issued_samples``
    the samples issued (``IssueOutcome.queries_issued * recorder.spq``; default
    ``recorder.issued_samples``); ``start_ns`` the issue loop's start (``IssueOutcome.start_ns``).
    Without ``start_ns`` the start is taken as the first query's scheduled time minus its
    scheduled delta, which is exact for Server and Offline and within one query period otherwise.
    A run's listeners get the same arrays, already copied, in ``SeriesEnd.series``
    (:class:`edgeperf.loadgen.events.SeriesSnapshot`).

    A sample's completion offset is its query's scheduled time − start + its latency. Samples that
    were never answered (latency −1) are left out of both arrays, as the metrics leave them out.
    """
    n = recorder.issued_samples if issued_samples is None else int(issued_samples)
    if min(n, len(recorder.latency)) <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if start_ns is None:
        start_ns = int(recorder.scheduled[0]) - int(recorder.queries.delta(0))
    return sample_arrays(recorder, n, start_ns)


def series_query_latencies(recorder, issued_queries: int | None = None) -> np.ndarray:
    """Per-query latencies (ns) of a finished MultiStream(Free) series: all-samples-done − scheduled,
    for the queries that completed (what the v1.1 per-query percentiles are computed over)."""
    nq = recorder.issued_samples // recorder.spq if issued_queries is None else int(issued_queries)
    return query_latencies(recorder, nq)


# --------------------------------------------------------------------------- summary layout
@dataclass(frozen=True)
class SummarySection:
    """One banner-titled block of a summary, its ``label : value`` rows in file order.

    A row whose value is ``None`` is a line of text without a value (``Per-sample latency:``).
    """

    title: str
    rows: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class SummaryLayout:
    """A summary file taken apart: sections, the recommendations and the warning/error footer."""

    sections: tuple[SummarySection, ...]
    recommendations: tuple[str, ...]
    footer: tuple[str, ...]


def _is_banner(text: str) -> bool:
    return len(text) >= 3 and set(text) == {"="}


def parse_summary_layout(lines: Iterable[str]) -> SummaryLayout:
    """Split summary lines (§12.1) into sections, recommendations and the footer lines.

    Works on partial or AccuracyOnly summaries (footer only) too; lines before any banner go to
    an untitled section.
    """
    sections: list[SummarySection] = []
    title, rows = "", []
    recs: list[str] = []
    footer: list[str] = []
    expect_title = just_titled = False

    def close() -> None:
        if rows or title:
            sections.append(SummarySection(title, tuple(rows)))

    for raw in lines:
        line = raw.rstrip("\r\n")
        text = line.strip()
        if not text:
            continue
        if _is_banner(text):
            if just_titled:
                just_titled = False
            else:
                expect_title = True
            continue
        if expect_title and ": " not in line:
            close()
            title, rows = text, []
            expect_title, just_titled = False, True
            continue
        expect_title = just_titled = False
        if text.startswith("* "):
            recs.append(text[2:].strip())
        elif text.startswith("See the detailed log for why") and recs:
            recs[-1] = f"{recs[-1]} {text}"
        elif text == "Recommendations:":
            continue
        elif _FOOTER.match(text):
            footer.append(text)
        else:
            pos = line.find(": ")
            if pos >= 0 and line[:pos].strip():
                rows.append((line[:pos].strip(), line[pos + 2 :].strip()))
            else:
                rows.append((text.rstrip(":").strip(), None))
    close()
    return SummaryLayout(tuple(sections), tuple(recs), tuple(footer))


def _layout_from_dict(summary: Mapping[str, str]) -> SummaryLayout:
    """A layout for a summary known only as a dict: test parameters apart from the rest."""
    params = tuple((k, summary[k]) for k in TEST_PARAMETER_KEYS if k in summary)
    rest = tuple((k, v) for k, v in summary.items() if k not in TEST_PARAMETER_KEYS)
    sections = []
    if rest:
        sections.append(SummarySection("MLPerf Results Summary", rest))
    if params:
        sections.append(SummarySection("Test Parameters Used", params))
    return SummaryLayout(tuple(sections), (), ())


# --------------------------------------------------------------------------- RunData
@dataclass(frozen=True)
class PowerSeries:
    """The power samples of a run with power and its metric, for the report (power.md §8).

    ``offsets_s`` are the spl.txt sample times in seconds since LoadGen's power_begin (negative
    before it; the metric uses only those strictly inside 0 .. ``window_s``); ``watts`` the
    samples' total watts. ``value``/``unit`` is the metric: System power (Watts) for Server and
    Offline, energy per query (Joules) for SingleStream, per stream for MultiStream. ``note``
    says where the samples came from (e.g. a simulated analyzer) and is printed beside the value.
    """

    offsets_s: tuple[float, ...]
    watts: tuple[float, ...]
    window_s: float
    value: float
    unit: str
    average_watts: float
    sample_count: int
    note: str = ""

    @property
    def label(self) -> str:
        """What the value is called in the results table."""
        return {"Watts": "System power", "Joules": "Energy per query", "Joules/Stream": "Energy per stream"}.get(
            self.unit, "Power metric"
        )


@dataclass
class RunData:
    """Everything a run report shows.

    ``summary`` is the parsed ``mlperf_log_summary.txt`` (``{label: value}``, first value of a
    repeated label); ``summary_lines`` its raw lines when known (they keep the sections, the
    recommendations and the footer). ``sample_latencies_ns`` and ``completion_offsets_ns`` hold
    one entry per completed sample, in sequence order, or are ``None`` when the run is known only
    from its logs (then the page has no plots). ``query_latencies_ns`` (MultiStream) are the
    per-query latencies the v1.1 per-query percentiles use; when given, the latency plots show them.
    ``target_percentile`` is the percentile marked in the plots (0.90 SingleStream, 0.99 Server and
    MultiStream); ``target_latency_ns`` the latency bound (Server, MultiStream), else ``None``.
    ``dataset_notes`` are the data set's warnings (listed images missing from disk, utterances
    dropped), shown on the page with their counts.
    """

    scenario: str
    mode: str
    summary: dict[str, str]
    sample_latencies_ns: np.ndarray | None = None
    completion_offsets_ns: np.ndarray | None = None
    target_percentile: float = 0.9
    target_latency_ns: int | None = None
    title: str = ""
    detail: DetailLogRecords | None = None
    summary_lines: tuple[str, ...] = ()
    query_latencies_ns: np.ndarray | None = None
    log_dir: str | None = None
    dataset_notes: tuple[str, ...] = ()
    power: PowerSeries | None = None
    #: An accuracy run's score against its target (``edgeperf.benchmarks.runner.accuracy_summary``):
    #: metric, value, unit, target, passed, missing_samples, expected_samples, official_line.
    accuracy: Mapping | None = None
    #: Notes shown prominently at the top (e.g. quick mode's "not compliant").
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("sample_latencies_ns", "completion_offsets_ns", "query_latencies_ns"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, np.asarray(value, dtype=np.int64).ravel())
        lat, off = self.sample_latencies_ns, self.completion_offsets_ns
        if lat is not None and off is not None and len(lat) != len(off):
            raise ReportError(
                f"sample_latencies_ns has {len(lat)} entries but completion_offsets_ns has {len(off)}; "
                "they must describe the same completed samples"
            )
        if not 0.0 < float(self.target_percentile) < 1.0:
            raise ReportError(f"target_percentile must be in (0, 1), got {self.target_percentile!r}")
        if not self.title:
            self.title = _default_title(self.summary, self.scenario, self.mode)

    # ---------------------------------------------------------------- constructors
    @classmethod
    def from_series(
        cls,
        scenario: str,
        mode: str,
        sample_latencies_ns: np.ndarray,
        completion_offsets_ns: np.ndarray,
        *,
        summary: Mapping[str, str] | None = None,
        summary_lines: Iterable[str] | None = None,
        detail: DetailLogRecords | None = None,
        target_percentile: float | None = None,
        target_latency_ns: int | None = None,
        query_latencies_ns: np.ndarray | None = None,
        title: str = "",
    ) -> "RunData":
        """A report of a series finished in this process (see `series_arrays` for the arrays).

        Give the summary as lines (``summary_lines``, as the summary writer produced them) or as a
        parsed dict. The target percentile defaults to the detail log's effective one, else the
        scenario's v1.1 default; the bound to the detail log's effective target latency.
        """
        scenario, mode = _enum_text(scenario), _enum_text(mode)
        lines = tuple(summary_lines) if summary_lines is not None else ()
        parsed = dict(summary) if summary is not None else parse_summary_lines(list(lines))
        pct, bound = _targets(scenario, parsed, detail)
        return cls(
            scenario=scenario,
            mode=mode,
            summary=parsed,
            sample_latencies_ns=sample_latencies_ns,
            completion_offsets_ns=completion_offsets_ns,
            target_percentile=pct if target_percentile is None else float(target_percentile),
            target_latency_ns=bound if target_latency_ns is None else int(target_latency_ns),
            title=title,
            detail=detail,
            summary_lines=lines,
            query_latencies_ns=query_latencies_ns,
        )

    @classmethod
    def from_log_dir(cls, path: str | os.PathLike, *, title: str = "") -> "RunData":
        """A report from a log directory alone: ``mlperf_log_summary.txt`` (required) and
        ``mlperf_log_detail.txt`` (optional). There are no latency arrays, so no plots.

        Raises `ReportError` naming the file when the summary is missing or a log is malformed.
        """
        directory = Path(path)
        summary_path = directory / SUMMARY_FILE
        try:
            lines = tuple(summary_path.read_text(encoding="utf-8").splitlines())
        except FileNotFoundError:
            raise ReportError(f"{summary_path}: no summary log here (expected {SUMMARY_FILE} in {directory})") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ReportError(f"{summary_path}: cannot read the summary log: {exc}") from None
        detail = None
        detail_path = directory / DETAIL_FILE
        if detail_path.is_file():
            try:
                detail = read_detail_log(detail_path)
            except LogFormatError as exc:
                raise ReportError(str(exc)) from None
            except (OSError, UnicodeDecodeError) as exc:
                raise ReportError(f"{detail_path}: cannot read the detail log: {exc}") from None
        summary = parse_summary_lines(list(lines))
        scenario = summary.get("Scenario") or _detail_text(detail, "effective_scenario")
        mode = summary.get("Mode") or _detail_text(detail, "effective_test_mode")
        pct, bound = _targets(scenario, summary, detail)
        return cls(
            scenario=scenario,
            mode=mode,
            summary=summary,
            target_percentile=pct,
            target_latency_ns=bound,
            title=title,
            detail=detail,
            summary_lines=lines,
            log_dir=str(directory),
        )

    def with_dataset_notes(self, notes: Iterable[str]) -> "RunData":
        """A copy that also shows the data set's warnings (e.g. ``dataset.notices``)."""
        return dataclasses.replace(self, dataset_notes=tuple(notes))

    def with_series(
        self,
        sample_latencies_ns: np.ndarray,
        completion_offsets_ns: np.ndarray,
        query_latencies_ns: np.ndarray | None = None,
    ) -> "RunData":
        """A copy with the in-process arrays added (e.g. ``from_log_dir(d).with_series(*arrays)``)."""
        return dataclasses.replace(
            self,
            sample_latencies_ns=sample_latencies_ns,
            completion_offsets_ns=completion_offsets_ns,
            query_latencies_ns=query_latencies_ns if query_latencies_ns is not None else self.query_latencies_ns,
        )

    def with_power(self, power: PowerSeries) -> "RunData":
        """A copy with a power series (the page then shows the power metric and plot)."""
        return dataclasses.replace(self, power=power)

    # ---------------------------------------------------------------- derived views
    @property
    def has_series(self) -> bool:
        """Whether the in-process arrays (and so the plots) are available."""
        return self.sample_latencies_ns is not None and self.completion_offsets_ns is not None

    @property
    def sut_name(self) -> str:
        return self.summary.get("SUT name") or _detail_text(self.detail, "sut_name")

    @property
    def validity(self) -> str | None:
        """``"VALID"``/``"INVALID"`` from the summary (else the detail log), ``None`` if neither says."""
        value = self.summary.get("Result is") or _detail_text(self.detail, "result_validity")
        return value or None

    def layout(self) -> SummaryLayout:
        """The summary's sections, recommendations and footer (from its lines when known)."""
        if self.summary_lines:
            return parse_summary_layout(self.summary_lines)
        return _layout_from_dict(self.summary)

    def recommendations(self) -> tuple[str, ...]:
        """Why the run is INVALID: the summary's Recommendations, else ``result_invalid_reason``."""
        recs = self.layout().recommendations
        if recs:
            return recs
        reason = _detail_text(self.detail, "result_invalid_reason").strip()
        return (reason,) if reason else ()

    def headline(self) -> tuple[str, str] | None:
        """The scenario result line as ``(label, value)``, e.g. ``("90th percentile latency (ns)", "508841")``."""
        wanted = RESULT_LABELS.get(self.scenario)
        for key, value in self.summary.items():
            if key == wanted or (wanted is None and _PERCENTILE_RESULT.match(key)):
                return key, value
        return None

    def plotted_latencies(self) -> tuple[np.ndarray | None, str]:
        """The latencies the latency plots show and what they are: per-query latencies for
        MultiStream when known, per-sample latencies otherwise."""
        if self.scenario in _MULTI and self.query_latencies_ns is not None:
            return self.query_latencies_ns, "Per-query latency"
        if self.scenario in _MULTI and self.sample_latencies_ns is None:
            return None, "Per-query latency"  # the summary's first percentile block is per query
        return self.sample_latencies_ns, "Sample latency"

    def marked_value_ns(self) -> int | None:
        """The target-percentile latency the plots mark: computed from the plotted latencies
        (official floor-index rule), else read from the summary."""
        values, _ = self.plotted_latencies()
        if values is not None:
            return percentile_value(values, self.target_percentile)
        key = f"{self.target_percentile * 100:.2f} percentile latency (ns)"
        text = self.summary.get(key, "")
        return int(text) if text.lstrip("-").isdigit() else None

    def decides(self) -> bool:
        """Whether the marked percentile decides the result (not in Offline)."""
        return percentile_decides(self.scenario)


# --------------------------------------------------------------------------- helpers
def _enum_text(value) -> str:
    """The log string of a scenario/mode given as an enum or a string."""
    return str(getattr(value, "value", value))


def _detail_text(detail: DetailLogRecords | None, key: str) -> str:
    if detail is None:
        return ""
    value = detail.get(key)
    return "" if value is None else str(value)


def _targets(scenario: str, summary: Mapping[str, str], detail: DetailLogRecords | None) -> tuple[float, int | None]:
    """The target percentile and latency bound of a run, from the detail log when it has them."""
    pct = default_target_percentile(scenario)
    bound: int | None = None
    if detail is not None:
        value = detail.get("effective_target_latency_percentile")
        if isinstance(value, (int, float)) and 0 < value < 1:
            pct = float(value)
        value = detail.get("effective_target_latency_ns")
        if isinstance(value, int) and not isinstance(value, bool):
            bound = value
    if bound is None:
        text = summary.get("target_latency (ns)", "")
        bound = int(text) if text.isdigit() else None
    if scenario not in ("Server", *_MULTI) or not bound:
        bound = None  # SingleStream and Offline have no latency bound
    return pct, bound


def _default_title(summary: Mapping[str, str], scenario: str, mode: str) -> str:
    parts = [p for p in (summary.get("SUT name", ""), scenario, mode) if p]
    return "edgeperf run report" + (": " + " · ".join(parts) if parts else "")
