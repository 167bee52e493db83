"""Helpers of the fault-injection suite: run edgeperf, and check the four properties (see conftest)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

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


def edgeperf(*args, cwd=None, fsize: int | None = None, stdout=None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``edgeperf *args`` in a child process, optionally under a file size limit of
    ``fsize`` bytes (RLIMIT_FSIZE: writes beyond it fail with EFBIG, as on a full disk)."""

    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    env = dict(os.environ, COLUMNS="200", PYTHONPATH=str(REPO / "src"))
    return subprocess.run([sys.executable, "-m", "edgeperf.cli.main", *map(str, args)], cwd=cwd, env=env,
                          stdout=stdout if stdout is not None else subprocess.PIPE, stderr=subprocess.PIPE,
                          preexec_fn=limit, timeout=timeout, text=True, errors="replace")


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
    return ["run", "resnet50", "--scenario", scenario, "--model", model or assets["model"], "--dataset",
            dataset or assets["imagenet"], "--user-conf", conf or assets["conf"], "--output", output, *extra]
