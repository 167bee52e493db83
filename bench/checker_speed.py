"""Submission checker throughput: MB of logs per second on the real v1.1 fixture tree.

Usage (from the repository root)::

    PYTHONPATH=src python -m bench.checker_speed            # 30 runs, median
    PYTHONPATH=src python -m bench.checker_speed --runs 5 --tree PATH --json out.json

Each run is a full ``edgeperf.submission.check_tree`` (findings, result map, summary rows) in
this process; the first run is reported separately (cold imports and a cold page cache if the tree
was not read before), the median of the others is the figure. Two throughputs are printed:

* **read MB/s** -- bytes the checker actually read (every file it opened, counted by its
  ``Tree``) divided by the wall time: the checker reads only what a check needs, each file once;
* **tree MB/s** -- the size of every file under the tree divided by the same time: how fast a
  tree of that size is checked, counting the bytes it never needed to open (accuracy logs are
  only sized, ptd_logs.txt, ranging logs and compliance logs are not read).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TREE = REPO_ROOT / "tests" / "data" / "fixtures" / "submissions-v1.1-subset"  # see tests/data/README.md


def tree_bytes(root: Path) -> tuple[int, int]:
    total = files = 0
    for dirpath, _, names in os.walk(root, followlinks=False):
        for n in names:
            p = os.path.join(dirpath, n)
            if os.path.isfile(p):
                total += os.path.getsize(p)
                files += 1
    return total, files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", type=Path, default=DEFAULT_TREE)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    from edgeperf.submission import check_tree  # import cost belongs to the first run
    times, report = [], None
    for _ in range(max(2, args.runs)):
        start = time.perf_counter()
        report = check_tree(args.tree)
        times.append(time.perf_counter() - start)
    first = times[0] + (time.perf_counter() - t0 - sum(times))  # + import time
    warm = statistics.median(times[1:])
    stats = report.read_stats
    total, nfiles = tree_bytes(args.tree)
    mb = 1e6
    out = {
        "tree": str(args.tree), "runs": len(times), "python": platform.python_version(),
        "machine": platform.machine(), "cpus": os.cpu_count(),
        "results": len(report.results), "no_results": len(report.no_results), "rows": len(report.rows),
        "files_read": stats.files_read, "files_sized_only": stats.stats, "bytes_read": stats.bytes_read,
        "files_read_twice": stats.read_more_than_once(), "tree_files": nfiles, "tree_bytes": total,
        "first_run_s": first, "median_s": warm, "min_s": min(times[1:]),
        "read_mb_per_s": stats.bytes_read / mb / warm, "tree_mb_per_s": total / mb / warm,
    }
    print(f"tree: {args.tree}")
    print(f"  {nfiles} files, {total / mb:.1f} MB; checker read {stats.files_read} files "
          f"({stats.bytes_read / mb:.2f} MB), sized {stats.stats} accuracy logs; read twice: "
          f"{len(out['files_read_twice'])}")
    print(f"  {out['results']} results, {out['no_results']} NoResults, {out['rows']} summary rows")
    print(f"  first run (with imports): {first * 1e3:.1f} ms")
    print(f"  median of {len(times) - 1} warm runs: {warm * 1e3:.1f} ms (min {out['min_s'] * 1e3:.1f} ms)")
    print(f"  throughput: {out['read_mb_per_s']:.1f} MB/s of logs read, {out['tree_mb_per_s']:.1f} MB/s of tree")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
