"""Shared pieces of the remote-backend and Ray SUT tests: a tiny ImageNet folder, the ResNet50
stand-in, a user.conf for short runs, the CLI, and the checker's performance checks on a run."""

from __future__ import annotations

import json
from pathlib import Path

#: Short runs whose results LoadGen calls VALID: few queries, and a latency bound loose enough for
#: a network round trip of a 602 KB float tensor on a loaded two-core machine (over KServe's JSON
#: REST form a sample takes 0.1-0.5 s to encode, send and decode).
SHORT_USER_CONF = """\
*.*.min_duration = 100
*.*.min_query_count = 24
*.SingleStream.target_latency = 2
*.Server.target_qps = 2
*.Server.target_latency = 10000
*.Server.min_query_count = 8
*.Offline.target_qps = 20
"""

SCENARIOS = ("SingleStream", "Server", "Offline")


def write_short_conf(folder: Path) -> Path:
    path = folder / "short-user.conf"
    path.write_text(SHORT_USER_CONF)
    return path


def detail_records(out: Path) -> list[dict]:
    """Every record of the detail log, each line decoded as the official log parser does (strict:
    a line that is not JSON after the ``:::MLLOG`` marker raises)."""
    lines = (out / "mlperf_log_detail.txt").read_text().splitlines()
    return [json.loads(line.split(":::MLLOG ", 1)[1]) for line in lines if line.startswith(":::MLLOG ")]


def performance_findings(run_dir: Path, scenario: str):
    """The checker's performance checks (spec submission.md §5.6) on one run folder: the outcome
    and every finding."""
    from edgeperf.submission.checks.performance import check_performance
    from edgeperf.submission.context import CheckContext, CheckOptions
    from edgeperf.submission.findings import Reporter, Scope
    from edgeperf.submission.rules import get_rules
    from edgeperf.submission.tree import Tree

    ctx = CheckContext(Tree(run_dir), get_rules("v1.1"), CheckOptions())
    outcome = check_performance(ctx, Reporter(ctx.findings, Scope()), "", "resnet", scenario)
    return outcome, list(ctx.findings)


def invalidating(findings) -> list[str]:
    """The checks of the findings that would drop the result."""
    return sorted(f.check for f in findings if f.severity.invalidates)
