"""Submission checker throughput: MB of logs per second on the real v1.1 fixture tree.

Usage (from the repository root)::

    PYTHONPATH=src python -m bench.checker_speed            # 30 runs, median
    PYTHONPATH=src python -m bench.checker_speed --runs 5 --tree PATH --json out.json
    PYTHONPATH=src python -m bench.checker_speed --synthetic /work/tmp-bench/round --runs 3 \
        --workers 1 2 [--baseline-src /tmp/main/src] [--keep]

With ``--synthetic`` it builds a round in the published tree's proportions (see
``build_synthetic_round``) and times the ``edgeperf check`` command on it in child processes with
1 and 2 workers: wall and CPU time, MB/s of logs read and of tree, the largest process's peak RSS,
and that summary.csv is byte-identical across runs. The round is deleted afterwards unless --keep.

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
import shutil
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


# --- a synthetic round --------------------------------------------------------------------------
# The published v1.1 tree: 2.3 GB, 1.84 GB of it in 7,907 mlperf_log_detail.txt files, ~1,800
# results (2,196 summary rows). The fixture subset has the same layout but 28 results and 59 KB
# per detail log on average (233 KB in the real round). The synthetic round copies the subset's
# submitters under new names until it has ~1,800 results, and brings each detail log to the real
# average size by appending copies of its own plain lines (per-sample records of keys no check
# reads, never an error or warning), so every check sees the same facts as in the original file.
REAL_DETAIL_BYTES = 1.84e9
REAL_RESULTS = 1800


def _plain_lines(data: bytes, skip: frozenset[str]) -> list[bytes]:
    out = []
    for line in data.split(b"\n"):
        if not line.startswith(b":::MLLOG") or b'"is_error": true' in line or b'"is_warning": true' in line:
            continue
        try:
            rec = json.loads(line[8:])
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("key") not in skip:
            out.append(line + b"\n")
    return out


def _inflated(data: bytes, factor: float, skip: frozenset[str]) -> bytes:
    extra = int(len(data) * (factor - 1))
    plain = _plain_lines(data, skip)
    if extra <= 0 or not plain:
        return data
    parts, size, i = [data if data.endswith(b"\n") else data + b"\n"], 0, 0
    while size < extra:
        parts.append(plain[i % len(plain)])
        size += len(plain[i % len(plain)])
        i += 1
    return b"".join(parts)


def build_synthetic_round(
    src: Path, dest: Path, results: int = REAL_RESULTS, detail_bytes: float = REAL_DETAIL_BYTES
) -> dict:
    """Write the synthetic round under ``dest`` (which must not exist); returns its make-up."""
    from edgeperf.submission.checks.detail import detail_keys
    from edgeperf.submission.rules import get_rules

    skip = detail_keys(get_rules("v1.1"))
    base = check_tree_quiet(src)
    copies = max(1, round(results / max(1, len(base.results))))
    src_detail = sum(p.stat().st_size for p in src.rglob("mlperf_log_detail.txt"))
    factor = max(1.0, detail_bytes / (copies * src_detail))
    cache: dict[Path, bytes] = {}
    for division in sorted(d for d in src.iterdir() if d.is_dir()):
        for org in sorted(d for d in division.iterdir() if d.is_dir()):
            for k in range(copies):
                name = f"{org.name}-syn{k:03d}"
                _copy_submitter(org, dest / division.name / name, name, factor, skip, cache)
    total, nfiles = tree_bytes(dest)
    detail = sum(p.stat().st_size for p in dest.rglob("mlperf_log_detail.txt"))
    return {"copies": copies, "inflation": factor, "tree_bytes": total, "tree_files": nfiles, "detail_bytes": detail}


def _copy_submitter(org: Path, out: Path, name: str, factor: float, skip, cache) -> None:
    for dirpath, _, names in os.walk(org):
        rel = Path(dirpath).relative_to(org)
        (out / rel).mkdir(parents=True, exist_ok=True)
        for n in names:
            p = Path(dirpath) / n
            if p.is_symlink() or not p.is_file():
                continue
            if n == "mlperf_log_detail.txt":
                if p not in cache:
                    cache[p] = _inflated(p.read_bytes(), factor, skip)
                data = cache[p]
            elif rel.parts[:1] == ("systems",) and n.endswith(".json"):
                desc = json.loads(p.read_bytes().decode("utf-8-sig"))
                if "submitter" in desc:
                    desc["submitter"] = name
                data = json.dumps(desc, indent=2).encode()
            else:
                data = p.read_bytes()
            (out / rel / n).write_bytes(data)


def check_tree_quiet(root: Path):
    from edgeperf.submission import check_tree

    return check_tree(root)


def time_cli(tree: Path, workers: int, out_dir: Path, src: Path | None = None) -> dict:
    """One ``edgeperf check`` run in a child process: wall, CPU and the largest process's peak RSS."""
    import resource
    import subprocess

    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    csv = out_dir / f"summary-{'base' if src else 'new'}-{workers}.csv"
    args = [
        sys.executable,
        "-c",
        "from edgeperf.cli.main import main; main()",
        "check",
        str(tree),
        "--csv",
        str(csv),
        "-q",
    ]
    if src is None:
        args += ["--workers", str(workers)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "workers": workers,
        "wall_s": wall,
        "cpu_s": cpu,
        "max_rss_mb": after.ru_maxrss / 1024,
        "exit": proc.returncode,
        "csv": str(csv),
        "last_line": proc.stdout.decode(errors="replace").strip().rsplit("\n", 1)[-1],
    }


def time_official(tree: Path, git_dir: Path, work: Path) -> dict:
    """The official r1.1 submission-checker.py (git archive of tools/submission) on ``tree``."""
    import io
    import resource
    import subprocess
    import tarfile

    tools = work / "official"
    if not (tools / "tools/submission/submission-checker.py").exists():
        data = subprocess.run(
            [
                "git",
                f"--git-dir={git_dir}",
                "archive",
                "r1.1",
                "tools/submission/submission-checker.py",
                "tools/submission/log_parser.py",
            ],
            check=True,
            capture_output=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(tools)
    csv = work / "summary-official.csv"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            str(tools / "tools/submission/submission-checker.py"),
            "--input",
            str(tree),
            "--csv",
            str(csv),
        ],
        cwd=tools / "tools/submission",
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rows = max(0, len(csv.read_text().splitlines()) - 1) if csv.exists() else None
    return {
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "max_rss_mb": after.ru_maxrss / 1024,
        "exit": proc.returncode,
        "rows": rows,
        "last_line": proc.stderr.strip().rsplit("\n", 1)[-1][-200:],
    }


def synthetic_main(args) -> int:
    dest = args.synthetic
    made = None
    if not dest.exists():
        t = time.perf_counter()
        made = build_synthetic_round(args.tree, dest)
        print(f"built {dest} in {time.perf_counter() - t:.0f} s: {made}")
    try:
        total, nfiles = tree_bytes(dest)
        detail = sum(p.stat().st_size for p in dest.rglob("mlperf_log_detail.txt"))
        report = check_tree_quiet(dest)  # also warms the page cache
        read = report.read_stats.bytes_read
        print(
            f"synthetic round: {nfiles} files, {total / 1e9:.2f} GB, detail logs {detail / 1e9:.2f} GB; "
            f"{len(report.results)} results, {len(report.rows)} rows; the checker reads {read / 1e9:.2f} GB"
        )
        out_dir = Path(args.out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        runs = []
        for rep in range(args.runs):
            for w in args.workers:
                r = time_cli(dest, w, out_dir)
                runs.append(r)
                print(
                    f"  run {rep + 1} workers={w}: {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU, "
                    f"{read / 1e6 / r['wall_s']:.0f} MB/s of logs read, {total / 1e6 / r['wall_s']:.0f} MB/s of tree, "
                    f"peak RSS {r['max_rss_mb']:.0f} MB, exit {r['exit']}",
                    flush=True,
                )
            if args.baseline_src and rep < args.baseline_runs:
                r = time_cli(dest, 1, out_dir, src=args.baseline_src)
                r["baseline"] = True
                runs.append(r)
                print(
                    f"  run {rep + 1} baseline ({args.baseline_src}): {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU, "
                    f"{read / 1e6 / r['wall_s']:.0f} MB/s, peak RSS {r['max_rss_mb']:.0f} MB"
                )
        if args.official_git:
            for _ in range(args.baseline_runs):
                r = time_official(dest, args.official_git, out_dir)
                runs.append({**r, "official": True, "workers": 0})
                print(
                    f"  official r1.1 checker: {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU, "
                    f"{total / 1e6 / r['wall_s']:.0f} MB/s of tree, {r['rows']} rows, exit {r['exit']}",
                    flush=True,
                )
        summaries = {Path(r["csv"]).read_bytes() for r in runs if "csv" in r}
        print(
            f"  summary.csv identical across all runs (workers {args.workers}"
            f"{', baseline' if args.baseline_src else ''}): {len(summaries) == 1}"
        )
        for w in args.workers:
            walls = [r["wall_s"] for r in runs if r["workers"] == w and not r.get("baseline") and not r.get("official")]
            cpus = [r["cpu_s"] for r in runs if r["workers"] == w and not r.get("baseline") and not r.get("official")]
            med = statistics.median(walls)
            print(
                f"  workers={w}: median {med:.2f} s wall ({read / 1e6 / med:.0f} MB/s read, {total / 1e6 / med:.0f} MB/s "
                f"of tree), median CPU {statistics.median(cpus):.2f} s ({read / 1e6 / statistics.median(cpus):.0f} MB per CPU-s); "
                f"official r1.1 at 82 MB/s of tree: {total / 82e6:.1f} s -> {total / 82e6 / med:.1f}x"
            )
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "tree_bytes": total,
                        "detail_bytes": detail,
                        "bytes_read": read,
                        "results": len(report.results),
                        "runs": runs,
                        "built": made,
                        "load": os.getloadavg(),
                    },
                    indent=2,
                )
                + "\n"
            )
    finally:
        if not args.keep:
            shutil.rmtree(dest, ignore_errors=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", type=Path, default=DEFAULT_TREE)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument(
        "--synthetic",
        type=Path,
        default=None,
        help="build (if missing) a synthetic round here and time `edgeperf check` on it",
    )
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument(
        "--baseline-src",
        type=Path,
        default=None,
        help="a src/ directory of another edgeperf (e.g. `git archive main src`) to time on the same round",
    )
    ap.add_argument("--baseline-runs", type=int, default=1)
    ap.add_argument(
        "--official-git",
        type=Path,
        default=None,
        help="git dir of mlcommons/inference: also time its r1.1 submission-checker.py on the round",
    )
    ap.add_argument("--out-dir", default="/tmp/checker-speed")
    ap.add_argument("--keep", action="store_true", help="keep the synthetic round (default: delete it afterwards)")
    args = ap.parse_args(argv)
    if args.synthetic is not None:
        return synthetic_main(args)

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
        "tree": str(args.tree),
        "runs": len(times),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "results": len(report.results),
        "no_results": len(report.no_results),
        "rows": len(report.rows),
        "files_read": stats.files_read,
        "files_sized_only": stats.stats,
        "bytes_read": stats.bytes_read,
        "files_read_twice": stats.read_more_than_once(),
        "tree_files": nfiles,
        "tree_bytes": total,
        "first_run_s": first,
        "median_s": warm,
        "min_s": min(times[1:]),
        "read_mb_per_s": stats.bytes_read / mb / warm,
        "tree_mb_per_s": total / mb / warm,
    }
    print(f"tree: {args.tree}")
    print(
        f"  {nfiles} files, {total / mb:.1f} MB; checker read {stats.files_read} files "
        f"({stats.bytes_read / mb:.2f} MB), sized {stats.stats} accuracy logs; read twice: "
        f"{len(out['files_read_twice'])}"
    )
    print(f"  {out['results']} results, {out['no_results']} NoResults, {out['rows']} summary rows")
    print(f"  first run (with imports): {first * 1e3:.1f} ms")
    print(f"  median of {len(times) - 1} warm runs: {warm * 1e3:.1f} ms (min {out['min_s'] * 1e3:.1f} ms)")
    print(f"  throughput: {out['read_mb_per_s']:.1f} MB/s of logs read, {out['tree_mb_per_s']:.1f} MB/s of tree")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
