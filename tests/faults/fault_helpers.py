"""Fixtures and helpers of the fault-injection suite (issue 12): every command, and the drop-in
module, fed bad input and faults, each checked for the four properties of pip, pytest and git:

1. one line saying what went wrong, where (file, line, field) and what was expected;
2. a non-zero exit;
3. nothing of the user's lost (inputs and earlier outputs byte-identical afterwards);
4. nothing left half-written (no partial output, no temporary file).

Commands run in-process through typer's CliRunner, except where the fault needs a real process:
a file size limit (RLIMIT_FSIZE, set in the child only), standard output on /dev/full, Ctrl-C.
Stand-in models come from :mod:`edgeperf.testing.onnx_standins`; the dataset is the tiny ImageNet
folder of ``tests/vision_fixtures.py``.

There is deliberately no conftest.py in this folder: other test folders import their own
conftest by that name, and a second one would shadow it. Each test module imports the fixtures
it uses from here.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("cv2")
pytest.importorskip("typer")

REPO = Path(__file__).resolve().parents[2]

#: Short runs of the tiny stand-in (well under a second each).
FAST_USER_CONF = """\
*.*.min_duration = 200
*.*.min_query_count = 16
*.SingleStream.target_latency = 1
*.MultiStream.target_qps = 100
*.Server.target_qps = 100
*.Server.target_latency = 50
*.Offline.target_qps = 200
"""

#: Names edgeperf gives its temporary files; none may survive a failure.
TEMP_MARKERS = (".tmp", "edgeperf-tmp", "edgeperf-build-", "edgeperf-run-", "edgeperf-probe-", "edgeperf-old-")


def edgeperf(
    *args, cwd=None, fsize: int | None = None, stdout=None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run ``edgeperf *args`` in a child process, optionally under a file size limit of
    ``fsize`` bytes (RLIMIT_FSIZE: writes beyond it fail with EFBIG, as on a full disk)."""

    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    env = dict(os.environ, COLUMNS="200", PYTHONPATH=str(REPO / "src"))
    return subprocess.run(
        [sys.executable, "-m", "edgeperf.cli.main", *map(str, args)],
        cwd=cwd,
        env=env,
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=limit,
        timeout=timeout,
        text=True,
        errors="replace",
    )


def error_line(result, *must_contain: str) -> str:
    """Properties 1 and 2: a non-zero exit, no traceback, and exactly one error line on stderr
    (after any "edgeperf: warning:" lines) holding each of ``must_contain``; returns that line."""
    if isinstance(result, subprocess.CompletedProcess):
        code, stderr, everything = result.returncode, result.stderr, (result.stdout or "") + result.stderr
    else:
        code, stderr, everything = result.exit_code, result.stderr, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert code not in (0, None), everything
    assert "Traceback" not in everything and "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("edgeperf: warning:")]
    assert len(lines) == 1, stderr
    line = lines[0]
    assert line.startswith("edgeperf: "), line
    for text in must_contain:
        assert text in line, (text, line)
    return line


def snapshot(*roots: Path) -> dict[str, bytes | str]:
    """Every file (content), link (target) and folder under ``roots``: property 3 compares two."""
    out: dict[str, bytes | str] = {}
    for root in roots:
        if root.is_symlink():
            out[str(root)] = "-> " + os.readlink(root)
            continue
        if root.is_file():
            out[str(root)] = root.read_bytes()
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                p = Path(dirpath) / name
                if p.is_symlink():
                    out[str(p)] = "-> " + os.readlink(p)
                elif p.is_file():
                    out[str(p)] = p.read_bytes()
                else:
                    out[str(p)] = "<dir>"
    return out


def leftovers(*roots: Path) -> list[str]:
    """Property 4: temporary files edgeperf left behind under ``roots``."""
    found = []
    for root in roots:
        if not root.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            found += [os.path.join(dirpath, n) for n in dirnames + filenames if any(m in n for m in TEMP_MARKERS)]
    return found


def run_args(assets, output, *extra, model=None, dataset=None, conf=None, scenario="Offline"):
    """``edgeperf run resnet50`` arguments on the fault assets."""
    return [
        "run",
        "resnet50",
        "--scenario",
        scenario,
        "--model",
        model or assets["model"],
        "--dataset",
        dataset or assets["imagenet"],
        "--user-conf",
        conf or assets["conf"],
        "--output",
        output,
        *extra,
    ]


# -- fixtures (imported by each test module; see the module doc) -----------------------------------

_ASSETS: dict[str, Path] = {}


@pytest.fixture(scope="session", name="assets")
def assets_fixture(tmp_path_factory) -> dict[str, Path]:
    """Dataset, models (good, failing, and broken files) and user.conf, built once per session
    (the cache holds across the modules that import this fixture)."""
    if _ASSETS:
        return _ASSETS
    from edgeperf.testing.onnx_standins import failing_standin, resnet50_standin
    from vision_fixtures import make_imagenet

    root = tmp_path_factory.mktemp("fault-assets")
    good = resnet50_standin(root / "resnet50.onnx")
    data = good.read_bytes()
    (root / "empty.onnx").write_bytes(b"")
    (root / "truncated.onnx").write_bytes(data[: len(data) // 2])
    (root / "binary.onnx").write_bytes(bytes(range(256)) * 8)
    (root / "folder.onnx").mkdir()
    conf = root / "fast.conf"
    conf.write_text(FAST_USER_CONF)
    _ASSETS.update(
        root=root, imagenet=make_imagenet(root), model=good, failing=failing_standin(root / "failing.onnx"), conf=conf
    )
    return _ASSETS


@pytest.fixture(name="cli")
def cli_fixture():
    """``cli(*args)`` runs ``edgeperf *args`` in-process; returns the click Result."""
    from typer.testing import CliRunner

    from edgeperf.cli.main import build_app

    app = build_app()
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"}, input=input)

    return invoke


@pytest.fixture(name="unwritable")
def unwritable_fixture(tmp_path) -> Path:
    """An existing folder nobody can write into, even root (who ignores permission bits): made
    immutable with ``chattr +i`` where the file system allows, else /sys (read-only to all)."""
    folder = tmp_path / "immutable"
    folder.mkdir()
    chattr = shutil.which("chattr")
    ok = chattr is not None and subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode == 0
    if not ok:
        probe = Path("/sys")
        with contextlib.suppress(OSError):
            (probe / ".edgeperf-probe").touch()
            pytest.skip("no way to make a folder unwritable here (no chattr +i, and /sys is writable)")
        yield probe
        return
    try:
        yield folder
    finally:
        subprocess.run([chattr, "-i", str(folder)], capture_output=True)
