"""``edgeperf accuracy``: score an existing mlperf_log_accuracy.json and print the official line.

The official scripts' options are exposed with their official defaults (spec benchmarks.md §3.e,
§4.e, §6.e, §7.e, §8.e). An option that a benchmark's script does not have is refused, naming
the benchmarks it applies to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import EdgeperfError


class AccuracyOptionError(EdgeperfError, ValueError):
    """An accuracy-script option given for a benchmark whose official script does not have it."""


#: Which options each accuracy metric's official script has.
_OPTIONS_BY_METRIC = {
    "top1": {"dtype", "verbose"},
    "coco_map": {"use_inv_map", "remove_48_empty_images", "verbose"},
    "squad_f1": {"output_dtype", "max_examples"},
    "wer": {"output_dtype"},
    "dice": {"output_dtype"},
}
_FLAGS = {
    "dtype": "--dtype",
    "output_dtype": "--output_dtype",
    "max_examples": "--max_examples",
    "use_inv_map": "--use-inv-map",
    "remove_48_empty_images": "--remove-48-empty-images",
    "verbose": "--verbose",
}

_DTYPE_HELP = "ImageNet (resnet50): how each record encodes the label: float32 (default), int32 or int64."
_OUTPUT_DTYPE_HELP = (
    "bert: logits as float32 (default) or float16 (or int8..int64). "
    "rnnt: label indices as int64 (default), int32, int16 or int8; edgeperf's int32 is 4 bytes, where "
    "the official script reads a C long (8 bytes on 64-bit Linux) and cannot decode a real int32 log. "
    "3d-unet: the segmentation as float16 (default), float32, float64 or int8..int64."
)
_MAX_EXAMPLES_HELP = (
    "bert: score only the first N questions (default: all). edgeperf scores N questions and divides by "
    "N; the official script scores N-1 questions but still divides by N."
)
_INV_MAP_HELP = (
    "COCO: map contiguous labels 1..80 to COCO category ids (--no-inv-map: do not). The official "
    "script's default is off; "
    "edgeperf's default is what the benchmark's reference model needs: on for ssd-resnet34, off for "
    "ssd-mobilenet."
)
_EMPTY_HELP = "COCO: sample indices skip the 48 images without annotations (official default: off)."
_VERBOSE_HELP = "resnet50 and COCO: also print the official script's per-sample messages (official default: off)."


def accuracy(
    benchmark: str = typer.Argument(..., help="Benchmark name (see `edgeperf benchmarks`)."),
    log: Path = typer.Option(..., "--log", help="mlperf_log_accuracy.json to score."),
    dataset: Path = typer.Option(..., "--dataset", help="Dataset folder in its official layout."),
    output: Optional[Path] = typer.Option(
        None, "--output", help="Also write these lines to this accuracy.txt ('-': only to stdout)."
    ),
    dtype: Optional[str] = typer.Option(None, "--dtype", help=_DTYPE_HELP, show_default=False),
    output_dtype: Optional[str] = typer.Option(None, "--output_dtype", help=_OUTPUT_DTYPE_HELP, show_default=False),
    max_examples: Optional[int] = typer.Option(
        None, "--max_examples", min=1, help=_MAX_EXAMPLES_HELP, show_default=False
    ),
    use_inv_map: Optional[bool] = typer.Option(
        None, "--use-inv-map/--no-inv-map", help=_INV_MAP_HELP, show_default=False
    ),
    remove_48_empty_images: bool = typer.Option(False, "--remove-48-empty-images", help=_EMPTY_HELP),
    verbose: bool = typer.Option(False, "--verbose", help=_VERBOSE_HELP),
) -> None:
    """Print what the official accuracy script prints for this log."""
    from .._atomic import is_stdout
    from ..benchmarks.preflight import check_input_file
    from ..benchmarks.registry import get_benchmark
    from .errors import user_errors

    given = {
        "dtype": dtype,
        "output_dtype": output_dtype,
        "max_examples": max_examples,
        "use_inv_map": use_inv_map,
        "remove_48_empty_images": remove_48_empty_images or None,
        "verbose": verbose or None,
    }
    with user_errors():
        bench = get_benchmark(benchmark)
        check_input_file(log, "--log")
        options = _script_options(bench.name, bench.quality.metric, given)
        result = bench.evaluate(log, dataset, **options)
        if output is not None:
            from ..accuracy.base import write_accuracy_txt

            write_accuracy_txt(result, output)
    if is_stdout(output):
        return  # the lines went to standard output as the accuracy.txt
    for line in result.lines:
        typer.echo(line)


def _script_options(name: str, metric: str, given: dict) -> dict:
    """The options to pass to the benchmark's evaluator; refuses one its official script lacks."""
    from ..benchmarks.registry import BENCHMARKS

    allowed = _OPTIONS_BY_METRIC.get(metric, set())
    options = {}
    for key, value in given.items():
        if value is None:
            continue
        if key not in allowed:
            users = sorted(b.name for b in BENCHMARKS.values() if key in _OPTIONS_BY_METRIC.get(b.quality.metric, ()))
            raise AccuracyOptionError(
                f"{_FLAGS[key]} is not an option of {name}'s official accuracy script; it applies to: {', '.join(users)}"
            )
        options[key] = value
    return options
