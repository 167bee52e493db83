"""Results explorer at the size of a whole round: ingest against ``edgeperf check``, and filter /
sort latency of the page in headless Chromium (issue 14).

Usage (from the repository root)::

    PYTHONPATH=src python -m bench.results_ingest                 # build, time, browse
    PYTHONPATH=src python -m bench.results_ingest --runs 5 --db postgresql://user@127.0.0.1:5432/db
    PYTHONPATH=src python -m bench.results_ingest --no-browser --json out.json

The synthetic round replicates the v1.1 fixture subset under new submitter names: 55 full copies
(28 results and 30 summary rows each) plus 137 copies of Krai's power system alone (2 results,
4 summary rows each): 1,814 results and 2,198 summary rows, the size of v1.1 (1,814 results,
2,196 rows). Files are hard links to the fixture (symbolic links where hard links fail); only the
system JSONs are rewritten, with the new submitter name.

Timings, each the median of ``--runs``, in this process after one warm-up:

* ``check``: ``check_tree`` on the synthetic tree (what ``edgeperf check`` does, without printing);
* ``ingest``: ``ingest_tree`` into a fresh database each run (the check, then the store's
  transaction); the target is ingest <= 2 x check. Check and ingest runs alternate, and the
  process CPU time is printed beside the wall time (a shared machine moves the wall time;
  with PostgreSQL the server's own CPU time is not in this process's figure);
* the page: exported, opened from ``file://`` in Chromium at 1280 x 900, then for the largest
  table the time from a filter change or a sort click to the next frame after it
  (``requestAnimationFrame`` then a task), median and max over the repetitions; target < 200 ms.
  The page shows 100 rows at a time by default (the filter and sort apply to all rows); the same
  sort with every row shown is printed for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TREE = REPO_ROOT.parent / "shared" / "fixtures" / "submissions-v1.1-subset"
FULL_COPIES = 55
POWER_COPIES = 137
POWER_SYSTEM = "xavier-power.0-fan.cool-tflite-v2.5.0-ruy"


def _link(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        os.symlink(src, dst)


def _copy_submitter(src: Path, dst: Path, name: str, keep_system: str | None = None) -> None:
    """Copy one submitter folder under a new name: files linked, system JSONs rewritten."""
    for dirpath, dirnames, filenames in os.walk(src):
        rel = Path(dirpath).relative_to(src)
        if (
            keep_system
            and len(rel.parts) >= 2
            and rel.parts[0] in ("results", "measurements", "compliance")
            and rel.parts[1] != keep_system
        ):
            dirnames[:] = []
            continue
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for f in filenames:
            source = Path(dirpath) / f
            if rel.parts[:1] == ("systems",) and f.endswith(".json"):
                if keep_system and f != keep_system + ".json":
                    continue
                desc = json.loads(source.read_text(encoding="utf-8"))
                desc["submitter"] = name
                (dst / rel / f).write_text(json.dumps(desc, indent=2), encoding="utf-8")
            else:
                _link(str(source), str(dst / rel / f))


def build_round(fixture: Path, out: Path) -> None:
    """The synthetic round (see the module docstring) in ``out``."""
    for copy in range(FULL_COPIES):
        for division_dir in sorted(p for p in fixture.iterdir() if p.is_dir()):
            for submitter in sorted(p for p in division_dir.iterdir() if p.is_dir()):
                name = f"{submitter.name.replace(' ', '')}{copy:03d}"
                _copy_submitter(submitter, out / division_dir.name / name, name)
    for copy in range(POWER_COPIES):
        name = f"KraiPower{copy:03d}"
        _copy_submitter(fixture / "closed" / "Krai", out / "closed" / name, name, keep_system=POWER_SYSTEM)


def _median(times: list[float]) -> float:
    return statistics.median(times)


def time_check_and_ingest(tree: Path, runs: int, db: str | None, work: Path) -> dict:
    from edgeperf.results.ingest import ingest_tree
    from edgeperf.results.store import open_store
    from edgeperf.submission import check_tree

    report = check_tree(tree)  # warm-up: imports, page cache
    counts = {"results": len(report.results), "no_results": len(report.no_results), "summary_rows": len(report.rows)}
    check_times, ingest_times, check_cpu, ingest_cpu = [], [], [], []
    for i in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        check_tree(tree)
        check_times.append(time.perf_counter() - start)
        check_cpu.append(time.process_time() - cpu)
        url = db or f"sqlite:///{work / f'bench-{i}.sqlite3'}"
        with open_store(url, create=True) as store:
            if db:  # a shared server database: start each run from an empty store
                _empty(store)
            start, cpu = time.perf_counter(), time.process_time()
            outcome, _ = ingest_tree(store, tree)
            ingest_times.append(time.perf_counter() - start)
            ingest_cpu.append(time.process_time() - cpu)
            assert outcome.status == "added", outcome
    check_s, ingest_s = _median(check_times), _median(ingest_times)
    return {
        **counts,
        "check_s": check_s,
        "ingest_s": ingest_s,
        "ratio": ingest_s / check_s,
        "check_cpu_s": _median(check_cpu),
        "ingest_cpu_s": _median(ingest_cpu),
        "cpu_ratio": _median(ingest_cpu) / _median(check_cpu),
        "check_runs": check_times,
        "ingest_runs": ingest_times,
    }


def _empty(store) -> None:
    from edgeperf.results.schema import TABLES

    with store.engine.begin() as conn:
        for table in TABLES:
            conn.execute(table.delete())


_MEASURE = """async ([kind, arg]) => {
    const frame = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
    await frame();
    const t0 = performance.now();
    if (kind === "filter") {
        const s = document.getElementById(arg[0]);
        s.value = arg[1];
        s.dispatchEvent(new Event("change"));
    } else {
        document.querySelector(arg).click();
    }
    await frame();
    return performance.now() - t0;
}"""


def time_page(tree: Path, work: Path, repeats: int) -> dict:
    from playwright.sync_api import sync_playwright

    from edgeperf.results.export import export_html
    from edgeperf.results.ingest import ingest_tree
    from edgeperf.results.store import open_store

    with open_store(f"sqlite:///{work / 'page.sqlite3'}", create=True) as store:
        ingest_tree(store, tree)
        out = export_html(store, work / "site").out
    size = (out / "index.html").stat().st_size
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        start = time.perf_counter()
        page.goto(out.joinpath("index.html").as_uri())
        page.wait_for_selector("#results-table")
        load_s = time.perf_counter() - start
        rows = page.locator("#results-table tbody tr").count()
        submitters = page.eval_on_selector_all("#filter-submitter option", "o => o.map(x => x.value).filter(Boolean)")
        timings: dict[str, list[float]] = {
            "filter submitter": [],
            "clear filter": [],
            "filter benchmark": [],
            "sort result column": [],
            "sort submitter": [],
        }
        for i in range(repeats):
            timings["filter submitter"].append(
                page.evaluate(_MEASURE, ["filter", ["filter-submitter", submitters[i % len(submitters)]]])
            )
            timings["clear filter"].append(page.evaluate(_MEASURE, ["filter", ["filter-submitter", ""]]))
            timings["filter benchmark"].append(
                page.evaluate(_MEASURE, ["filter", ["filter-benchmark", "SSD-MobileNets-v1"]])
            )
            page.evaluate(_MEASURE, ["filter", ["filter-benchmark", ""]])
            timings["sort result column"].append(
                page.evaluate(
                    _MEASURE, ["click", '#results-table th.m[data-model="ssd-small"][data-scenario="Offline"] button']
                )
            )
            timings["sort submitter"].append(
                page.evaluate(_MEASURE, ["click", '#results-table button[data-sort="submitter"]'])
            )
        # For comparison only: every row of the largest table at once (page size "All").
        page.select_option("#filter-page-size", "100000")
        all_rows = page.locator("#results-table tbody tr").count()
        sort_all = [
            page.evaluate(_MEASURE, ["click", '#results-table button[data-sort="submitter"]'])
            for _ in range(max(3, repeats // 3))
        ]
        browser.close()
    return {
        "page_bytes": size,
        "load_s": load_s,
        "rows": rows,
        "all_rows": all_rows,
        "ms": {k: {"median": statistics.median(v), "max": max(v)} for k, v in timings.items()},
        "sort_all_rows_ms": {"median": statistics.median(sort_all), "max": max(sort_all)},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fixture", type=Path, default=DEFAULT_TREE)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=15, help="filter/sort repetitions in the browser")
    ap.add_argument("--db", default=None, help="a PostgreSQL URL to ingest into (default: a fresh SQLite file per run)")
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--page-only", action="store_true", help="skip the check/ingest timing; time only the page")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    if not args.fixture.is_dir():
        print(f"results_ingest: the fixture subset is not at {args.fixture}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="edgeperf-results-bench-") as tmp:
        work = Path(tmp)
        tree = work / "round"
        start = time.perf_counter()
        build_round(args.fixture, tree)
        print(f"synthetic round built in {time.perf_counter() - start:.1f} s: {tree}")
        figures = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "db": "postgresql" if args.db else "sqlite",
        }
        if not args.page_only:
            figures.update(time_check_and_ingest(tree, args.runs, args.db, work))
            print(
                f"{figures['results']} results, {figures['no_results']} NoResults, {figures['summary_rows']} summary rows"
            )
            print(
                f"check  {figures['check_s']:.2f} s   ingest ({figures['db']}) {figures['ingest_s']:.2f} s   "
                f"ratio {figures['ratio']:.2f} (target <= 2)"
            )
            print(
                f"  CPU time (this process): check {figures['check_cpu_s']:.2f} s   ingest {figures['ingest_cpu_s']:.2f} s   "
                f"ratio {figures['cpu_ratio']:.2f}"
            )
        if not args.no_browser:
            page = time_page(tree, work, args.repeats)
            figures["page"] = page
            print(
                f"page {page['page_bytes'] / 1e6:.1f} MB, loaded in {page['load_s']:.2f} s; largest table "
                f"{page['all_rows']} rows, {page['rows']} on its first page"
            )
            for name, t in page["ms"].items():
                print(f"  {name:20s} median {t['median']:6.1f} ms   max {t['max']:6.1f} ms (target < 200)")
            t = page["sort_all_rows_ms"]
            print(
                f"  sort, all {page['all_rows']} rows shown: median {t['median']:.1f} ms   max {t['max']:.1f} ms (information)"
            )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
