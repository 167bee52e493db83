"""The harness on a tiny model: ``edgeperf run`` against the reference harness and raw onnxruntime.

Usage (from the repository root; ``pip install -e '.[vision,bench]'`` for the official
``mlperf_loadgen`` wheel the reference needs; the reference's own code comes from a git checkout
or mirror of mlcommons/inference, exported at tag ``r1.1``)::

    python -m bench.small_model_harness --inference-git /path/to/mlcommons/inference/.git
    python -m bench.small_model_harness --inference-git ... --rounds 5 --json out.json

What runs, side by side, alternating, ``--rounds`` times each (medians compared):

* **model** -- ``edgeperf.testing.onnx_standins.resnet50_standin``: ResNet50's I/O
  (``input_tensor:0`` float32 [N,3,224,224] -> ``ArgMax:0``) around a global average pool and a
  3x1001 matmul, so the model costs almost nothing and the harness is what is measured.
* **data** -- ``--images`` synthetic 500x375 JPEGs (``bench/_images.py``) with a ``val_map.txt``;
  each harness preprocesses them once into its own cache (not timed here; see
  ``bench/preprocess_speed.py``). Every sample is a 602 KB float32 tensor.
* **reference** -- r1.1 ``vision/classification_and_detection/python/main.py --profile
  resnet50-onnxruntime --threads 2 --max-batchsize 32`` with the official wheel, in a child
  process; the figure is its ``mlperf_log_summary.txt``.
* **edgeperf** -- ``edgeperf run resnet50 --threads T --workers W --batch-size 32`` in a child
  process, same model, images, mlperf.conf and user.conf; its ``mlperf_log_summary.txt``.
* **raw** -- onnxruntime alone on the same preprocessed tensors, batch 32, consecutive slices of
  one array (no gather), 2 intra-op threads: the ceiling.

Both harnesses get one user.conf: performance_sample_count 500 (the reference's QSL size for
500 images), Offline target_qps ``--offline-qps`` with ``--duration-ms`` minimum duration,
SingleStream ``--duration-ms``. Targets (issue 16): Offline >= 2x the reference and >= 0.3x raw;
SingleStream p90 <= 0.9x the reference's.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
WORK = Path(os.environ.get("EDGEPERF_BENCH_DIR", "/tmp")) / "edgeperf-bench-small-model"


def export_reference(git_dir: Path, dest: Path, tag: str = "r1.1") -> Path:
    """The reference's python/ folder and mlperf.conf at ``tag`` (git archive), once."""
    py = dest / "vision/classification_and_detection/python"
    if not (py / "main.py").exists():
        dest.mkdir(parents=True, exist_ok=True)
        data = subprocess.run(
            [
                "git",
                f"--git-dir={git_dir}",
                "archive",
                tag,
                "mlperf.conf",
                "vision/classification_and_detection/python",
            ],
            check=True,
            capture_output=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(dest)
        # The one change needed to run r1.1's main.py on the current wheel: ConstructSUT lost its
        # third argument (a latency callback main.py only uses for its own results.json).
        main_py = py / "main.py"
        text = main_py.read_text()
        main_py.write_text(
            text.replace(
                "lg.ConstructSUT(issue_queries, flush_queries, process_latencies)",
                "lg.ConstructSUT(issue_queries, flush_queries)",
            )
        )
    return dest


def user_conf(path: Path, offline_qps: float, duration_ms: int) -> Path:
    path.write_text(
        "resnet50.*.performance_sample_count_override = 500\n"
        f"resnet50.Offline.target_qps = {offline_qps}\n"
        f"resnet50.Offline.min_duration = {duration_ms}\n"
        f"resnet50.SingleStream.min_duration = {duration_ms}\n"
        "resnet50.SingleStream.target_latency = 1\n"
    )
    return path


def summary_figures(path: Path) -> dict:
    """Samples per second, the 90.00 percentile latency (ns) and validity from a mlperf_log_summary.txt."""
    out = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "Samples per second":
            out["samples_per_second"] = float(value)
        elif key == "90.00 percentile latency (ns)":  # the Additional Stats line, in both formats
            out["p90_ns"] = int(value)
        elif key == "Result is":
            out["result"] = value
    return out


def run_reference(ref: Path, model: Path, images: Path, conf: Path, scenario: str, out: Path) -> dict:
    py = ref / "vision/classification_and_detection/python"
    cwd = out.parent / "reference-cwd"  # its preprocessing cache (preprocessed/imagenet/NCHW) lives here
    cwd.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(py))
    cmd = [
        sys.executable,
        str(py / "main.py"),
        "--profile",
        "resnet50-onnxruntime",
        "--model",
        str(model),
        "--dataset-path",
        str(images),
        "--scenario",
        scenario,
        "--threads",
        "2",
        "--max-batchsize",
        "32",
        "--mlperf_conf",
        str(ref / "mlperf.conf"),
        "--user_conf",
        str(conf),
        "--output",
        str(out),
    ]
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    # Without the latency callback main.py's own report after the test (results.json) fails on an
    # empty list; LoadGen's logs are complete by then, and they are what is measured.
    summary = out / "mlperf_log_summary.txt"
    if not summary.exists() or "result" not in summary_figures(summary):
        raise SystemExit(f"reference failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return {**summary_figures(summary), "wall_s": wall}


def run_edgeperf(
    model: Path, images: Path, conf: Path, scenario: str, out: Path, threads: int, workers: int, cache: Path
) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        sys.executable,
        "-c",
        "from edgeperf.cli.main import main; main()",
        "run",
        "resnet50",
        "--scenario",
        scenario,
        "--model",
        str(model),
        "--dataset",
        str(images),
        "--user-conf",
        str(conf),
        "--output",
        str(out),
        "--threads",
        str(threads),
        "--workers",
        str(workers),
        "--batch-size",
        "32",
        "--cache-dir",
        str(cache),
    ]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0 or not (out / "mlperf_log_summary.txt").exists():
        raise SystemExit(f"edgeperf failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return {**summary_figures(out / "mlperf_log_summary.txt"), "wall_s": wall}


def run_raw(model: Path, data: np.ndarray, samples: int, batch: int = 32, threads: int = 2) -> dict:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.log_severity_level = 3
    sess = ort.InferenceSession(str(model), sess_options=so, providers=["CPUExecutionProvider"])
    for _ in range(3):
        sess.run(["ArgMax:0"], {"input_tensor:0": data[:batch]})
    n = len(data) - len(data) % batch
    done, t = 0, time.perf_counter()
    while done < samples:
        for lo in range(0, n, batch):
            sess.run(["ArgMax:0"], {"input_tensor:0": data[lo : lo + batch]})
        done += n
    return {"samples_per_second": done / (time.perf_counter() - t)}


def preprocessed_arrays(images: Path, cache: Path) -> np.ndarray:
    from edgeperf.datasets.imagenet import ImagenetDataset

    ds = ImagenetDataset(images, layout="NCHW", cache_dir=cache)
    return np.stack([ds.preprocessed(i) for i in range(len(ds))])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inference-git", type=Path, required=True, help="git dir of mlcommons/inference (has tag r1.1)")
    ap.add_argument("--images", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--offline-qps", type=float, default=20000)
    ap.add_argument("--duration-ms", type=int, default=3000)
    ap.add_argument("--threads", type=int, default=2, help="edgeperf --threads (onnxruntime intra-op)")
    ap.add_argument("--workers", type=int, default=2, help="edgeperf --workers (Offline)")
    ap.add_argument("--scenarios", nargs="+", default=["Offline", "SingleStream"])
    ap.add_argument("--work-dir", type=Path, default=WORK)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    from edgeperf.testing.onnx_standins import resnet50_standin

    sys.path.insert(0, str(REPO))
    from bench._images import write_imagenet_like

    work = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    model = work / "resnet50_standin.onnx"
    if not model.exists():
        resnet50_standin(model)
    images = write_imagenet_like(work / f"imagenet-{args.images}", args.images)
    ref = export_reference(args.inference_git, work / "reference")
    conf = user_conf(work / "user.conf", args.offline_qps, args.duration_ms)
    cache = work / "edgeperf-cache"
    data = preprocessed_arrays(images, cache)
    print(
        f"{args.images} images -> {data.shape} {data.dtype} ({data[0].nbytes / 1e3:.0f} KB per sample); "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    # first runs fill both preprocessing caches and are not counted
    for scenario in args.scenarios[:1]:
        run_reference(ref, model, images, conf, scenario, work / "ref-out")
        run_edgeperf(model, images, conf, scenario, work / "ep-out", args.threads, args.workers, cache)

    results: dict = {s: {"reference": [], "edgeperf": []} for s in args.scenarios}
    raw = []
    for r in range(args.rounds):
        for scenario in args.scenarios:
            a = run_reference(ref, model, images, conf, scenario, work / "ref-out")
            b = run_edgeperf(model, images, conf, scenario, work / "ep-out", args.threads, args.workers, cache)
            results[scenario]["reference"].append(a)
            results[scenario]["edgeperf"].append(b)
            key = "samples_per_second" if scenario == "Offline" else "p90_ns"
            print(
                f"round {r + 1} {scenario:12s} reference {a[key]:12.1f}  edgeperf {b[key]:12.1f}  "
                f"ratio {b[key] / a[key]:.2f}  (load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
        raw.append(run_raw(model, data, 20000)["samples_per_second"])
        print(f"round {r + 1} raw onnxruntime batch 32: {raw[-1]:.0f} samples/s", flush=True)

    out = {
        "images": args.images,
        "threads": args.threads,
        "workers": args.workers,
        "raw": raw,
        "runs": results,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    print()
    raw_med = statistics.median(raw)
    if "Offline" in results:
        ref_med = statistics.median(x["samples_per_second"] for x in results["Offline"]["reference"])
        ep_med = statistics.median(x["samples_per_second"] for x in results["Offline"]["edgeperf"])
        out["offline"] = {
            "reference": ref_med,
            "edgeperf": ep_med,
            "raw": raw_med,
            "vs_reference": ep_med / ref_med,
            "vs_raw": ep_med / raw_med,
        }
        print(
            f"Offline samples/s, medians: reference {ref_med:.0f}, edgeperf {ep_med:.0f}, raw {raw_med:.0f}: "
            f"edgeperf/reference {ep_med / ref_med:.2f} (target >= 2), edgeperf/raw {ep_med / raw_med:.2f} (target >= 0.3)"
        )
    if "SingleStream" in results:
        ref_med = statistics.median(x["p90_ns"] for x in results["SingleStream"]["reference"])
        ep_med = statistics.median(x["p90_ns"] for x in results["SingleStream"]["edgeperf"])
        out["singlestream"] = {"reference_p90_ns": ref_med, "edgeperf_p90_ns": ep_med, "ratio": ep_med / ref_med}
        print(
            f"SingleStream p90, medians: reference {ref_med / 1e3:.1f} us, edgeperf {ep_med / 1e3:.1f} us: "
            f"ratio {ep_med / ref_med:.2f} (target <= 0.9)"
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
