"""The report's plots as PNG bytes: latency histogram, latency CDF, throughput over time.

matplotlib is imported only when a plot is drawn, and only its object-oriented API is used (a
`matplotlib.figure.Figure` on an Agg canvas per plot): pyplot's global state is never touched, so
reports drawn one after another, or from several threads, cannot leak into each other.

Large inputs are reduced with numpy before matplotlib sees them (histogram counts, at most a few
thousand CDF points), so 10 million samples plot in about a second.

Each PNG carries what it marks in its text chunks (read them with ``PIL.Image.open(...).text``):
``edgeperf:marked_percentile``, ``edgeperf:marked_value_ns``, ``edgeperf:bound_ns``,
``edgeperf:count``, ``edgeperf:x_scale`` and, for throughput, ``edgeperf:bin_s``.
"""

from __future__ import annotations

import io
import math

import numpy as np

from ..errors import EdgeperfError
from .data import format_ns, percentile_value

__all__ = [
    "PlotsUnavailable",
    "latency_histogram_png",
    "latency_cdf_png",
    "throughput_png",
]

_FIGSIZE = (8.0, 4.2)
_DPI = 100
_WIDE_RANGE = 10.0  # max/min ratio from which latency axes are logarithmic
_MAX_CDF_POINTS = 4000
_EXACT_CDF_LIMIT = 2_000_000  # above this the CDF comes from fine histogram counts, not a sort
_MIN_BIN_NS = 1_000  # throughput bins are never narrower than 1 µs
_COLORS = {"bars": "#4c72b0", "mark": "#dd8452", "bound": "#c44e52", "line": "#2f4b7c", "mean": "#55a868"}


class PlotsUnavailable(EdgeperfError, RuntimeError):
    """matplotlib is not installed (it comes with ``pip install 'edgeperf[report]'``)."""


def _matplotlib():
    """The Figure class and the Agg canvas, imported on first use."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib import ticker
    except ImportError as exc:  # pragma: no cover - exercised by monkeypatching in the tests
        raise PlotsUnavailable(
            f"the report's plots need matplotlib ({exc}); install it with: pip install 'edgeperf[report]'"
        ) from None
    return Figure, FigureCanvasAgg, ticker


def _new_axes():
    Figure, FigureCanvasAgg, ticker = _matplotlib()
    fig = Figure(figsize=_FIGSIZE, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.grid(True, which="major", alpha=0.3)
    return fig, ax, ticker


def _png(fig, meta: dict[str, object]) -> bytes:
    buf = io.BytesIO()
    text = {"Software": "edgeperf"}
    text.update({f"edgeperf:{k}": "" if v is None else str(v) for k, v in meta.items()})
    fig.savefig(buf, format="png", metadata=text)
    return buf.getvalue()


def _empty(fig, ax, message: str) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=13, color="#555555", transform=ax.transAxes)


# --------------------------------------------------------------------------- units and scales
def _unit(max_ns: float) -> tuple[str, float]:
    """The display unit for latencies up to ``max_ns``: (name, ns per unit)."""
    for name, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if max_ns >= scale:
            return name, scale
    return "ns", 1.0


def _rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 1000 else f"{x:.4g}"


def _samples(n: int) -> str:
    return f"{n:,} sample" + ("" if n == 1 else "s")


def _pct_label(p: float) -> str:
    text = f"{p * 100:.2f}".rstrip("0").rstrip(".")
    return f"p{text}"


def _log_axis(ax, ticker) -> None:
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())


def _as_int64(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).ravel()


def _resolve_mark(values: np.ndarray, marked_percentile, marked_value_ns) -> tuple[float | None, int | None]:
    """The percentile to mark and its value: the one given, else computed with the official rule."""
    if marked_percentile is None:
        return None, None
    p = float(marked_percentile)
    if marked_value_ns is None:
        marked_value_ns = percentile_value(values, p)
    return p, None if marked_value_ns is None else int(marked_value_ns)


def _mark_label(p: float, value: int, decides: bool) -> str:
    return f"{_pct_label(p)} = {format_ns(value)}" + (" (decides the result)" if decides else "")


# --------------------------------------------------------------------------- histogram
def latency_histogram_png(
    latencies_ns,
    marked_percentile: float | None,
    marked_value_ns: int | None = None,
    bound_ns: int | None = None,
    *,
    label: str = "Sample latency",
    decides: bool = True,
) -> bytes:
    """A histogram of ``latencies_ns`` with the target percentile and the bound marked.

    ``marked_value_ns`` defaults to the official floor-index percentile of the data. The x-range
    ends a little past the 99.9th percentile (and the mark and bound, where data reaches them);
    samples beyond it are counted in a note, so a few outliers cannot squeeze the distribution
    into one bar. The axis is logarithmic when the shown range spans 10× or more.
    """
    values = _as_int64(latencies_ns)
    p, mark = _resolve_mark(values, marked_percentile, marked_value_ns)
    fig, ax, ticker = _new_axes()
    n = len(values)
    meta = {"kind": "histogram", "count": n, "marked_percentile": p, "marked_value_ns": mark, "bound_ns": bound_ns}
    if n == 0:
        _empty(fig, ax, "No completed samples")
        meta["x_scale"] = "none"
        return _png(fig, meta)

    vmin, vmax = int(values.min()), int(values.max())
    upper = percentile_value(values, 0.999)
    for extra in (mark, bound_ns):
        if extra is not None and extra <= vmax:
            upper = max(upper, extra)
    lo, hi = vmin, upper
    if hi < vmax:
        hi = hi + max(1, (hi - lo) // 20)
    if hi <= lo:  # one value, or all equal: a bar of ±2 % around it
        pad = max(1.0, abs(lo) * 0.02)
        lo_f, hi_f = lo - pad, hi + pad
    else:
        lo_f, hi_f = float(lo), float(hi)
    log_x = lo_f > 0 and hi_f / lo_f >= _WIDE_RANGE
    unit, scale = _unit(max(abs(hi_f), abs(lo_f)))
    bins = 1 if hi <= lo else int(min(120, max(1, round(math.sqrt(n) * 2))))
    shown = values[values <= hi_f] if hi_f < vmax else values
    overflow = n - len(shown)
    if log_x:
        counts, edges = np.histogram(
            np.log10(shown.astype(np.float64)), bins=bins, range=(math.log10(lo_f), math.log10(hi_f))
        )
        edges = np.power(10.0, edges)
    else:
        counts, edges = np.histogram(shown.astype(np.float64), bins=bins, range=(lo_f, hi_f))
    edges = edges / scale

    ax.stairs(counts, edges, fill=True, color=_COLORS["bars"], alpha=0.85, label=f"{label} ({_samples(n)})")
    if log_x:
        _log_axis(ax, ticker)
    ax.set_xlim(edges[0], edges[-1])
    if p is not None and mark is not None:
        ax.axvline(mark / scale, color=_COLORS["mark"], linewidth=2, label=_mark_label(p, mark, decides))
    if bound_ns is not None:
        if lo_f <= bound_ns <= hi_f * 1.0001:
            ax.axvline(
                bound_ns / scale,
                color=_COLORS["bound"],
                linestyle="--",
                linewidth=2,
                label=f"bound = {format_ns(bound_ns)}",
            )
        else:
            ax.plot(
                [], [], color=_COLORS["bound"], linestyle="--", label=f"bound = {format_ns(bound_ns)} (beyond the plot)"
            )
    if overflow:  # an entry without a mark: the legend explains the cut-off
        ax.plot([], [], " ", label=f"{overflow:,} sample(s) above {format_ns(hi_f)} not shown (max {format_ns(vmax)})")
    ax.set_xlabel(f"{label} ({unit})" + (", log scale" if log_x else ""))
    ax.set_ylabel("samples per bin")
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _pos: f"{v:,.6g}"))
    ax.set_title(f"{label} histogram")
    ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize=8, framealpha=0.9)
    meta.update(x_scale="log" if log_x else "linear", overflow=overflow)
    return _png(fig, meta)


# --------------------------------------------------------------------------- CDF
def _cdf_curve(values: np.ndarray, log_x: bool) -> tuple[np.ndarray, np.ndarray]:
    """Points (x ns, fraction <= x) of the empirical CDF, at most ~`_MAX_CDF_POINTS` of them."""
    n = len(values)
    if n <= _EXACT_CDF_LIMIT:
        ordered = np.sort(values)
        if n > _MAX_CDF_POINTS:
            ranks = np.unique(np.linspace(0, n - 1, _MAX_CDF_POINTS).astype(np.int64))
        else:
            ranks = np.arange(n)
        return ordered[ranks].astype(np.float64), (ranks + 1) / n
    # Very large inputs: cumulative counts over fine bins (exact at each bin's right edge).
    lo, hi = float(values.min()), float(values.max())
    if log_x:
        counts, edges = np.histogram(
            np.log10(values.astype(np.float64)), bins=_MAX_CDF_POINTS, range=(math.log10(lo), math.log10(hi))
        )
        edges = np.power(10.0, edges)
    else:
        counts, edges = np.histogram(values.astype(np.float64), bins=_MAX_CDF_POINTS, range=(lo, hi))
    x = np.concatenate(([lo], edges[1:]))
    y = np.concatenate(([0.0], np.cumsum(counts) / n))
    return x, y


def latency_cdf_png(
    latencies_ns,
    marked_percentile: float | None,
    marked_value_ns: int | None = None,
    bound_ns: int | None = None,
    *,
    label: str = "Sample latency",
    decides: bool = True,
) -> bytes:
    """The empirical CDF of ``latencies_ns`` over their whole range, with the target percentile
    marked by crossing lines and a label, and the bound (with the share of samples within it).

    ``marked_value_ns`` defaults to the official floor-index percentile of the data. The x axis is
    logarithmic when max/min is 10 or more.
    """
    values = _as_int64(latencies_ns)
    p, mark = _resolve_mark(values, marked_percentile, marked_value_ns)
    fig, ax, ticker = _new_axes()
    n = len(values)
    meta = {"kind": "cdf", "count": n, "marked_percentile": p, "marked_value_ns": mark, "bound_ns": bound_ns}
    if n == 0:
        _empty(fig, ax, "No completed samples")
        meta["x_scale"] = "none"
        return _png(fig, meta)

    vmin, vmax = float(values.min()), float(values.max())
    lo, hi = vmin, vmax
    if bound_ns is not None:
        lo, hi = min(lo, float(bound_ns)), max(hi, float(bound_ns))
    if hi <= lo:
        pad = max(1.0, abs(lo) * 0.02)
        lo, hi = lo - pad, hi + pad
    log_x = vmin > 0 and lo > 0 and hi / lo >= _WIDE_RANGE
    unit, scale = _unit(max(abs(hi), abs(lo)))
    x, y = _cdf_curve(values, log_x and vmax > vmin)
    x = np.concatenate(([x[0]], x)) / scale
    y = np.concatenate(([0.0], y))
    ax.step(x, y, where="post", color=_COLORS["line"], linewidth=1.8, label=f"{label} ({_samples(n)})")
    if hi > vmax:  # the curve stays at 1 up to the bound
        ax.plot([vmax / scale, hi / scale], [1.0, 1.0], color=_COLORS["line"], linewidth=1.8)
    if log_x:
        _log_axis(ax, ticker)
    margin = (hi / lo) ** 0.02 if log_x else None
    if log_x:
        ax.set_xlim(lo / margin / scale, hi * margin / scale)
    else:
        span = hi - lo
        ax.set_xlim((lo - 0.02 * span) / scale, (hi + 0.02 * span) / scale)
    ax.set_ylim(0, 1.02)
    if p is not None and mark is not None:
        mx = mark / scale
        ax.plot([ax.get_xlim()[0], mx], [p, p], color=_COLORS["mark"], linestyle=":", linewidth=1.5)
        ax.plot([mx, mx], [0, p], color=_COLORS["mark"], linewidth=2, label=_mark_label(p, mark, decides))
        ax.plot([mx], [p], "o", color=_COLORS["mark"], markersize=6)
        ax.annotate(
            f"{_pct_label(p)} = {format_ns(mark)}",
            (mx, p),
            xytext=(10, -24),
            textcoords="offset points",
            fontsize=9,
            color=_COLORS["mark"],
            fontweight="bold",
            zorder=5,
            bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": _COLORS["mark"], "alpha": 0.95},
        )
    if bound_ns is not None:
        within = np.count_nonzero(values <= bound_ns) / n
        meta["within_bound"] = f"{within:.6f}"
        ax.axvline(
            bound_ns / scale,
            color=_COLORS["bound"],
            linestyle="--",
            linewidth=2,
            label=f"bound = {format_ns(bound_ns)} ({within:.2%} of samples within)",
        )
    ax.set_xlabel(f"{label} ({unit})" + (", log scale" if log_x else ""))
    ax.set_ylabel("fraction of samples ≤ x")
    ax.set_title(f"{label} CDF")
    ax.legend(loc="lower right", fontsize=8)
    meta["x_scale"] = "log" if log_x else "linear"
    return _png(fig, meta)


# --------------------------------------------------------------------------- throughput
def _nice(x: float) -> float:
    """The smallest 1-2-5 × 10^k that is >= x."""
    if x <= 0:
        return 1e-6
    exp = math.floor(math.log10(x))
    for m in (1, 2, 5, 10):
        if m * 10**exp >= x * (1 - 1e-12):
            return m * 10**exp
    return 10 ** (exp + 1)


def throughput_png(completion_offsets_ns, window_s: float | None = None) -> bytes:
    """Completed samples per second over time, from each sample's completion offset (ns since
    the series start), in bins of about ``window_s`` seconds (default: a 1-2-5 step giving about
    100 bins). Bins are equal and cover the run exactly, so the last one is not a partial bin.
    A dashed line shows the overall rate (samples / time of the last completion).
    """
    offsets = _as_int64(completion_offsets_ns)
    fig, ax, ticker = _new_axes()
    n = len(offsets)
    meta: dict[str, object] = {"kind": "throughput", "count": n}
    if n == 0:
        _empty(fig, ax, "No completed samples")
        return _png(fig, meta)
    start = min(0, int(offsets.min()))
    end = int(offsets.max())
    span_ns = max(end - start, _MIN_BIN_NS)
    if window_s is not None and window_s > 0:
        window_ns = max(window_s * 1e9, _MIN_BIN_NS)
    else:
        window_ns = max(_nice(span_ns / 100), _MIN_BIN_NS)
    nbins = max(1, min(int(round(span_ns / window_ns)), 2_000))  # more than the figure has pixels for is waste
    counts, edges = np.histogram(offsets.astype(np.float64), bins=nbins, range=(float(start), float(start + span_ns)))
    width_s = span_ns / nbins / 1e9
    rates = counts / width_s
    t_unit, t_scale = ("s", 1e9) if span_ns >= 2e9 else ("ms", 1e6) if span_ns >= 2e6 else ("µs", 1e3)
    ax.stairs(rates, edges / t_scale, fill=True, color=_COLORS["bars"], alpha=0.25)
    ax.stairs(rates, edges / t_scale, color=_COLORS["bars"], linewidth=1.5, label="completed samples/s")
    overall = n / (span_ns / 1e9)
    ax.axhline(
        overall, color=_COLORS["mean"], linestyle="--", linewidth=1.5, label=f"overall {_rate(overall)} samples/s"
    )
    ax.set_xlim(edges[0] / t_scale, edges[-1] / t_scale)
    ax.set_ylim(bottom=0, top=max(float(rates.max()), overall) * 1.12)
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _pos: f"{v:,.6g}"))
    ax.set_xlabel(f"time since the series start ({t_unit})")
    ax.set_ylabel("completed samples per second")
    ax.set_title(f"Throughput over time ({_samples(n)}, bins of {format_ns(width_s * 1e9)})")
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    meta.update(bin_s=f"{width_s:.9g}", bins=nbins, overall_per_s=f"{overall:.6g}")
    return _png(fig, meta)


def power_png(offsets_s, watts, window_s: float, average_watts: float | None = None) -> bytes:
    """Power samples (W) over time since LoadGen's power_begin, the measured window shaded and
    the metric's average (samples strictly inside the window) drawn dashed."""
    t = np.asarray(offsets_s, dtype=np.float64)
    w = np.asarray(watts, dtype=np.float64)
    fig, ax, ticker = _new_axes()
    meta: dict[str, object] = {"kind": "power", "count": len(t)}
    if len(t) == 0:
        _empty(fig, ax, "No power samples")
        return _png(fig, meta)
    ax.axvspan(0.0, window_s, color=_COLORS["mean"], alpha=0.08, label="LoadGen power window")
    ax.plot(t, w, marker="o", markersize=3, linewidth=1.2, color=_COLORS["line"], label="analyzer samples (W)")
    if average_watts is not None:
        ax.axhline(
            average_watts,
            color=_COLORS["mean"],
            linestyle="--",
            linewidth=1.5,
            label=f"average in window {average_watts:,.6g} W",
        )
    top = float(np.nanmax(w)) if np.isfinite(w).any() else 1.0
    ax.set_ylim(bottom=min(0.0, float(np.nanmin(w))), top=max(top, 1e-9) * 1.12)
    ax.set_xlabel("time since power_begin (s)")
    ax.set_ylabel("power (W)")
    ax.set_title(f"Power over time ({len(t)} samples)")
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    meta.update(window_s=f"{window_s:.6g}")
    return _png(fig, meta)
