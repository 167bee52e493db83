"""``edgeperf datasets``, ``edgeperf dataset prepare NAME`` and ``edgeperf fetch NAME``: getting the
official models and data sets and laying them out as ``--dataset`` expects.

Register with ``app.command("datasets")(datasets)``, ``app.add_typer(dataset_app, name="dataset")``
and ``app.command("fetch")(fetch)``.
"""

from __future__ import annotations

from ..errors import UsageError

import sys
import time
from pathlib import Path
from typing import Any, Optional

import typer

dataset_app = typer.Typer(
    name="dataset",
    help="Prepare a downloaded data set as the reference does (edgeperf dataset prepare NAME ...).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
prepare_app = typer.Typer(
    name="prepare",
    help="Run the reference's preparation of a data set: brats, librispeech, coco or squad.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
dataset_app.add_typer(prepare_app, name="prepare")


def _fail(message: str, code: int = 2) -> None:
    print(f"edgeperf: {message}", file=sys.stderr)
    raise typer.Exit(code)


class _Progress:
    """A progress bar on a terminal; off one, a plain line every 10 s (and at the end)."""

    def __init__(self, label: str, unit: str = ""):
        from .output import on_terminal

        self.label, self.unit = label, unit
        self._bar = None
        self._last = time.monotonic()
        if on_terminal(sys.stderr):
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TaskProgressColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            columns = [BarColumn(), TaskProgressColumn()]
            columns += [DownloadColumn(), TransferSpeedColumn()] if unit == "bytes" else []
            self._bar = Progress(
                "{task.description}", *columns, TimeRemainingColumn(), console=Console(stderr=True), transient=True
            )
            self._bar.start()
            self._task = self._bar.add_task(label, total=None)

    def __call__(self, done: int, total: int | None) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=done, total=total)
            return
        now = time.monotonic()
        if now - self._last >= 10 or (total is not None and done >= total):
            self._last = now
            of = f"/{total:,}" if total else ""
            print(
                f"[{time.strftime('%H:%M:%S')}] {self.label}: {done:,}{of} {self.unit}".rstrip(),
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


# ------------------------------------------------------------------------------------- datasets
def datasets_json() -> dict[str, Any]:
    """The ``edgeperf-datasets`` format 1 document: ``{datasets: [{benchmarks, name, layout, source,
    prepare, fetch}], models: [{name, description, files: [{url, filename, checksum}]}]}``."""
    from ..datasets.catalog import BENCHMARK_DATA, MODELS
    from .output import header

    doc = header("edgeperf-datasets", 1)
    doc["datasets"] = [
        {
            "benchmarks": list(d.benchmarks),
            "name": d.name,
            "layout": list(d.layout),
            "source": d.source,
            "prepare": d.prepare,
            "fetch": [f"edgeperf fetch {n}" for n in d.fetch],
        }
        for d in BENCHMARK_DATA
    ]
    doc["models"] = [
        {
            "name": name,
            "description": m.description,
            "files": [{"url": f.url, "filename": f.filename, "checksum": f.checksum} for f in m.files],
        }
        for name, m in MODELS.items()
    ]
    return doc


def datasets(
    json_out: Optional[Path] = typer.Option(
        None, "--json", help="Also write the list as JSON (edgeperf-datasets format 1) here."
    ),
) -> None:
    """For each benchmark: the layout --dataset expects, the official source, and how to fetch and prepare it."""
    from ..datasets.catalog import BENCHMARK_DATA, MODELS
    from .output import json_to_stdout, write_json

    if json_out is not None:
        write_json(datasets_json(), json_out)
    err = json_to_stdout(json_out)
    for d in BENCHMARK_DATA:
        typer.echo(f"{', '.join(d.benchmarks)}: {d.name}", err=err)
        typer.echo("  --dataset DIR layout:", err=err)
        for line in d.layout:
            typer.echo(f"    {line}", err=err)
        typer.echo(f"  official source: {d.source}", err=err)
        fetches = [f"edgeperf fetch {n} --dest DIR" for n in d.fetch]
        if fetches:
            typer.echo(f"  fetch:   {'; '.join(fetches)}", err=err)
        typer.echo(f"  prepare: {d.prepare}", err=err)
        model = MODELS.get(d.benchmarks[0])
        if model is not None:
            typer.echo(f"  model:   edgeperf fetch {d.benchmarks[0]} --dest DIR  ({model.description})", err=err)
        typer.echo("", err=err)


# -------------------------------------------------------------------------------------- prepare
@prepare_app.command("brats")
def prepare_brats(
    raw: Path = typer.Argument(
        ..., help="BraTS 2019 download (HGG/, LGG/) or an nnU-Net Task043 folder (imagesTr/, labelsTr/)."
    ),
    out: Path = typer.Argument(..., help="Output folder: gets preprocessed_data/ and raw_data/.../labelsTr/."),
    cases: Optional[Path] = typer.Option(
        None, "--cases", help="Case list, one per line (the reference's fold1_validation.txt)."
    ),
) -> None:
    """nnU-Net preprocessing of BraTS 2019 into the 3D-UNet reference layout (its preprocess.py)."""
    from ..datasets.base import DatasetError
    from ..datasets.brats import preprocess_brats

    progress = _Progress("BraTS cases", "cases")
    try:
        preprocess_brats(raw, out, cases=cases, progress=progress)
    except DatasetError as e:
        _fail(str(e))
    finally:
        progress.close()
    typer.echo(f"Wrote {out / 'preprocessed_data'}; use --dataset {out}")


@prepare_app.command("librispeech")
def prepare_librispeech(
    source: Path = typer.Argument(
        ..., help="LibriSpeech/dev-clean from dev-clean.tar.gz (<speaker>/<chapter>/*.flac)."
    ),
    out: Path = typer.Argument(..., help="Output folder: gets dev-clean-wav/ and dev-clean-wav.json."),
    max_files: Optional[int] = typer.Option(
        None, "--max-files", min=1, help="Convert only the first N utterances (a smoke test)."
    ),
) -> None:
    """FLAC to WAV and the manifest dev-clean-wav.json, as the reference's convert_librispeech.py."""
    from ..datasets.base import DatasetError
    from ..datasets.prepare import prepare_librispeech as run

    progress = _Progress("LibriSpeech FLAC to WAV", "files")
    try:
        manifest = run(source, out, progress=progress, max_files=max_files)
    except DatasetError as e:
        _fail(str(e))
    finally:
        progress.close()
    typer.echo(f"Wrote {manifest}; use --dataset {out}")


@prepare_app.command("coco")
def prepare_coco(
    source: Path = typer.Argument(..., help="COCO folder with val2017/ and annotations/instances_val2017.json."),
    out: Path = typer.Argument(..., help="Output folder for the resized copy (same layout)."),
    size: int = typer.Option(
        1200, "--size", min=1, help="Square size in pixels: 1200 for SSD-ResNet34, 300 for SSD-MobileNet."
    ),
    fmt: str = typer.Option(
        "png", "--format", help="Image format: png (recommended; JPEG re-encoding costs mAP) or jpg."
    ),
) -> None:
    """Resize COCO val2017 and rescale its annotations, as the reference's upscale_coco.py."""
    from ..datasets.base import DatasetError
    from ..datasets.prepare import prepare_coco as run

    if fmt not in ("png", "jpg"):
        _fail(f"--format: expected png or jpg, found {fmt!r}")
    progress = _Progress(f"COCO to {size}x{size}", "images")
    try:
        run(source, out, (size, size), fmt=fmt, progress=progress)
    except DatasetError as e:
        _fail(str(e))
    finally:
        progress.close()
    typer.echo(f"Wrote {out / 'val2017'} and {out / 'annotations' / 'instances_val2017.json'}; use --dataset {out}")


@prepare_app.command("squad")
def prepare_squad(
    folder: Path = typer.Argument(..., help="Folder with dev-v1.1.json and vocab.txt."),
) -> None:
    """Check the BERT vocabulary and the SQuAD v1.1 dev set (exit 1 when they cannot be used)."""
    from ..datasets.prepare import check_squad

    result = check_squad(folder)
    typer.echo(
        f"vocab.txt: {result.vocab_size} tokens ({result.vocab}); dev-v1.1.json: {result.questions} questions "
        f"in {result.articles} articles"
    )
    for note in result.notes:
        typer.echo(f"note: {note}")
    for problem in result.problems:
        print(f"edgeperf: {problem}", file=sys.stderr)
    if not result.ok:
        raise typer.Exit(1)
    typer.echo(f"OK; use --dataset {folder}")


# ---------------------------------------------------------------------------------------- fetch
def fetch(
    name: str = typer.Argument(
        ...,
        help="A model (resnet50, ssd-mobilenet, ssd-resnet34, bert-99, 3d-unet-99, rnnt) "
        "or a data set (librispeech, squad, coco; imagenet and brats explain how to get them).",
    ),
    dest: Path = typer.Option(Path("."), "--dest", help="Folder to download into."),
    mirror: Optional[str] = typer.Option(
        None,
        "--mirror",
        help="Download from this base URL instead (a local mirror): "
        "MIRROR/<file name>. The official checksums still apply.",
    ),
    checksum: Optional[str] = typer.Option(
        None,
        "--checksum",
        help="ALGORITHM:HEX to verify a single-file item against, where no official checksum is known.",
    ),
    extract: bool = typer.Option(False, "--extract", help="Unpack .tar.gz/.zip downloads into --dest once verified."),
    json_out: Optional[Path] = typer.Option(
        None, "--json", help="Also write what was fetched as JSON (edgeperf-fetch format 1) here."
    ),
) -> None:
    """Download official files with a progress bar, resuming broken downloads, and verify their checksums.

    Exit status 1 when a checksum does not match or a download fails, 2 for a usage error.
    """
    from ..datasets.catalog import find_item
    from ..datasets.fetch import ChecksumMismatch, DownloadError, extract as unpack, fetch_file, parse_checksum
    from .output import header, write_json

    try:
        item = find_item(name)
        if checksum is not None:
            parse_checksum(checksum)
            if len(item.files) != 1:
                raise UsageError(f"--checksum applies to a single-file item; {item.name} has {len(item.files)} files")
    except ValueError as e:
        _fail(str(e))
    if not item.files:
        _fail(f"{item.name} cannot be downloaded by edgeperf: {item.manual}")
    results = []
    for f in item.files:
        url = (mirror.rstrip("/") + "/" + f.filename) if mirror else f.url
        official = f.checksum
        check = official or checksum
        progress = _Progress(f.filename, "bytes")
        try:
            res = fetch_file(url, dest / f.filename, check, checksum_source=f.checksum_source, progress=progress)
        except (ChecksumMismatch, DownloadError) as e:
            progress.close()
            _fail(str(e), 1)
        except OSError as e:  # the destination: permissions, a full disk
            progress.close()
            _fail(f"{e.filename or dest / f.filename}: cannot write the download: {e.strerror or e}", 1)
        finally:
            progress.close()
        status = (
            "verified against the official checksum"
            if official
            else (
                "verified against --checksum"
                if checksum
                else f"no official checksum published; sha256 recorded in {res.path.name}.sha256"
            )
        )
        typer.echo(f"{res.path}: {res.algorithm} {res.digest} ({status}{'' if res.downloaded else '; already here'})")
        entry = {
            "file": str(res.path),
            "url": url,
            "algorithm": res.algorithm,
            "digest": res.digest,
            "official_checksum": official is not None,
            "downloaded": res.downloaded,
            "resumed_from": res.resumed_from,
        }
        if extract and res.path.name.endswith((".tar.gz", ".tgz", ".tar", ".zip")):
            import tarfile
            import zipfile

            try:
                tops = unpack(res.path, dest)
            except DownloadError as e:
                _fail(str(e), 1)
            except (tarfile.TarError, zipfile.BadZipFile, OSError) as e:
                _fail(f"{res.path}: cannot unpack it: {e}", 1)
            typer.echo(f"  extracted {', '.join(tops)} into {dest}")
            entry["extracted"] = tops
        results.append(entry)
    if json_out is not None:
        doc = header("edgeperf-fetch", 1)
        doc.update({"name": item.name, "kind": item.kind, "files": results})
        write_json(doc, json_out)
