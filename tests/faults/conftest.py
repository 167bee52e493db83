"""The fault-injection suite (issue 12): every command, and the drop-in module, fed bad input and
faults, each checked for the four properties of pip, pytest and git:

1. one line saying what went wrong, where (file, line, field) and what was expected;
2. a non-zero exit;
3. nothing of the user's lost (inputs and earlier outputs byte-identical afterwards);
4. nothing left half-written (no partial output, no temporary file).

Commands run in-process through typer's CliRunner, except where the fault needs a real process:
a file size limit (RLIMIT_FSIZE, set in the child only), standard output on /dev/full, Ctrl-C.
Stand-in models come from :mod:`edgeperf.testing.onnx_standins`; the dataset is the tiny ImageNet
folder of ``tests/vision_fixtures.py``.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("cv2")
pytest.importorskip("typer")

from typer.testing import CliRunner  # noqa: E402

from edgeperf.cli.main import build_app  # noqa: E402
from fault_helpers import FAST_USER_CONF  # noqa: E402
from vision_fixtures import make_imagenet  # noqa: E402



@pytest.fixture(scope="session")
def assets(tmp_path_factory) -> dict[str, Path]:
    """Dataset, models (good, failing, and broken files) and user.conf, built once."""
    from edgeperf.testing.onnx_standins import failing_standin, resnet50_standin

    root = tmp_path_factory.mktemp("fault-assets")
    good = resnet50_standin(root / "resnet50.onnx")
    data = good.read_bytes()
    (root / "empty.onnx").write_bytes(b"")
    (root / "truncated.onnx").write_bytes(data[: len(data) // 2])
    (root / "binary.onnx").write_bytes(bytes(range(256)) * 8)
    (root / "folder.onnx").mkdir()
    conf = root / "fast.conf"
    conf.write_text(FAST_USER_CONF)
    return {
        "root": root,
        "imagenet": make_imagenet(root),
        "model": good,
        "failing": failing_standin(root / "failing.onnx"),
        "conf": conf,
    }


@pytest.fixture
def cli():
    """``cli(*args)`` runs ``edgeperf *args`` in-process; returns the click Result."""
    app = build_app()
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"}, input=input)

    return invoke


@pytest.fixture
def unwritable(tmp_path) -> Path:
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
