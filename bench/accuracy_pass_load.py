"""Dataset work of LoadGen's accuracy pass on a cached data set: load a set, unload it, load the next.

Usage (from the repository root, edgeperf importable)::

    python -m bench.accuracy_pass_load --images 1000 --set-size 200 --rounds 3

ImageNet-like JPEGs (``bench._images``) are preprocessed into a cache once; then, per round, two
child processes pinned to one core each load every image from the cache in sets of
``--set-size`` with ``DatasetQSL`` -- one keeping the loaded-sample array between sets (what
``unload_samples_from_ram`` does), one calling ``release_memory()`` after each set (what it did
before: a fresh array, and its first-touch page faults, per set). Prints ms per sample.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_CHILD = r"""
import os, sys, time
os.sched_setaffinity(0, {0})
from edgeperf.datasets import DatasetQSL, ImagenetDataset
data, cache, size, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ds = ImagenetDataset(data, cache_dir=cache)
qsl = DatasetQSL(ds, size, workers=1)
t = time.perf_counter()
for start in range(0, len(ds), size):
    chunk = list(range(start, min(start + size, len(ds))))
    qsl.load_samples_to_ram(chunk)
    qsl.unload_samples_from_ram(chunk)
    if mode == "release":
        qsl.release_memory()
print((time.perf_counter() - t) / len(ds) * 1e3)
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--set-size", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--work-dir", type=Path, default=Path(os.environ.get("EDGEPERF_BENCH_DIR", "/tmp")) / "edgeperf-bench-sets"
    )
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from bench._images import write_imagenet_like

    data = write_imagenet_like(args.work_dir / f"imagenet-{args.images}", args.images)
    cache = args.work_dir / "cache"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]))

    def child(mode: str) -> float:
        run = [sys.executable, "-c", _CHILD, str(data), str(cache), str(args.set_size), mode]
        return float(subprocess.run(run, capture_output=True, text=True, env=env, check=True).stdout.split()[-1])

    try:
        child("release")  # fills the cache
        times: dict[str, list[float]] = {"keep": [], "release": []}
        for r in range(args.rounds):
            for mode in ("keep", "release"):
                times[mode].append(child(mode))
            print(
                f"round {r + 1}: keep {times['keep'][-1]:.3f} ms/sample, release {times['release'][-1]:.3f} ms/sample"
            )
        keep, release = statistics.median(times["keep"]), statistics.median(times["release"])
        print(
            f"median: slab kept between sets {keep:.3f} ms/sample, a fresh slab per set {release:.3f} ms/sample ({release / keep:.2f}x)"
        )
    finally:
        shutil.rmtree(args.work_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
