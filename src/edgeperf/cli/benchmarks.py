"""``edgeperf benchmarks``: the benchmarks edgeperf knows, with their targets."""

from __future__ import annotations



def benchmarks() -> None:
    """List each benchmark: task, quality target, Server latency bound, QSL size, required scenarios."""
    from rich.console import Console
    from rich.table import Table

    from ..benchmarks.registry import all_benchmarks

    table = Table(title="edgeperf benchmarks (MLPerf Inference v1.1 Edge definitions)")
    for column in ("Benchmark", "Task", "Quality target", "Server bound", "QSL (total/perf)", "Required (Edge)"):
        table.add_column(column)
    for b in all_benchmarks():
        q = b.quality
        table.add_row(
            b.name,
            b.task,
            f"{q.metric} >= {q.threshold:.4f}{q.unit} ({q.fraction:g} x {q.reference:g})",
            f"{b.server_latency_ms} ms",
            f"{b.qsl_total}/{b.qsl_performance_count}",
            ", ".join(s.value for s in b.required_scenarios),
        )
    Console().print(table)
