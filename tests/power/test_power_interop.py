"""Interoperability with power-dev r1.1's own client and server (issue 13 item 4). Optional.

Runs only when ``EDGEPERF_POWER_DEV`` names a folder holding power-dev r1.1's ``ptd_client_server``
(e.g. ``git --git-dir=<mirror> archive r1.1 ptd_client_server compliance | tar -x -C DIR``), as
root (power-dev's NTP check asks port 123, so chronyd serves 127.0.0.1:123 here). CI does not
depend on power-dev; the protocol itself is covered by test_power_protocol.py's transcripts.

Pairings: edgeperf client -> power-dev server (simulator as its PTDaemon), power-dev client ->
``edgeperf power server``, power-dev client -> power-dev server. Each must complete a session, and
power-dev's ``compliance/check.py`` must pass its checks 4-8 and 10 on the output and fail, as it
should, on the simulator's PTD version (check 3) and missing Yokogawa uncertainty line (check 9).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from edgeperf.power.client import PowerClientOptions, run_power_session
from power_helpers import chronyd_on_loopback, free_port

POWER_DEV = os.environ.get("EDGEPERF_POWER_DEV")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not POWER_DEV, reason="EDGEPERF_POWER_DEV (power-dev r1.1 checkout) is not set"),
    pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() != 0, reason="NTP on port 123 needs root"),
]

FAKEGEN = textwrap.dedent("""\
    import os, sys, time
    from datetime import datetime, timezone
    def t(x):
        d = datetime.fromtimestamp(x, timezone.utc)
        return d.strftime("%m-%d-%Y %H:%M:%S.") + f"{d.microsecond // 1000:03d}"
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    time.sleep(0.1); b = time.time(); time.sleep(2.5); e = time.time(); time.sleep(0.1)
    with open(os.path.join(out, "mlperf_log_detail.txt"), "w") as f:
        f.write(f':::MLLOG {{"key": "power_begin", "value": "{t(b)}"}}\\n'
                f':::MLLOG {{"key": "power_end", "value": "{t(e)}"}}\\n')
    with open(os.path.join(out, "mlperf_log_summary.txt"), "w") as f:
        f.write("Samples per second: 100\\n")
""")
PASSING = (
    "Check UUID",
    "Check session name",
    "Check time difference",
    "Check client server messages",
    "Check results checksum",
    "Check PTD configuration",
)


@pytest.fixture(scope="module")
def ntp(tmp_path_factory):
    with chronyd_on_loopback(tmp_path_factory.mktemp("chrony123"), port=123):
        yield "127.0.0.1"


def _config(path: Path, tmp: Path, port: int) -> Path:
    wrapper = tmp / "ptd-sim"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m edgeperf.power.analyzer_sim "$@"\n')
    wrapper.chmod(0o755)
    path.write_text(
        f"[server]\nntpServer: 127.0.0.1\nlisten: 127.0.0.1 {port}\n[ptd]\nptd: {wrapper}\n"
        f"networkPort: {free_port()}\ndeviceType: 49\ninterfaceFlag:\ndevicePort: constant:42\n"
    )
    return path


def _serve(cmd, cwd, env, port):
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        if f"127.0.0.1:{port}" in line:
            return proc
    raise AssertionError(f"server did not start: {cmd}")


def _stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(params=["power-dev", "edgeperf"])
def server(request, ntp, tmp_path):
    port = free_port()
    cfg = _config(tmp_path / "server.conf", tmp_path, port)
    env = dict(os.environ, MLPP_DEBUG="1", PYTHONPATH=os.pathsep.join(sys.path))
    if request.param == "power-dev":
        cmd = [sys.executable, "-m", "ptd_client_server.server", "-c", str(cfg)]
    else:
        cmd = [
            sys.executable,
            "-m",
            "edgeperf.cli.main",
            "power",
            "server",
            "--config",
            str(cfg),
            "--settle-seconds",
            "0.5",
        ]
    proc = _serve(cmd, POWER_DEV, env, port)
    try:
        yield request.param, port
    finally:
        _stop(proc)


def _check_py(perf: Path) -> str:
    r = subprocess.run(
        [sys.executable, "-m", "compliance.check", str(perf)], cwd=POWER_DEV, capture_output=True, text=True, timeout=60
    )
    return r.stdout + r.stderr


def _assert_checks(out: str) -> None:
    for name in PASSING:
        assert f"[x] {name}" in out, out
    assert "[ ] Check PTD commands and replies" in out and "PTD version '0.0' is not supported" in out
    assert "[ ] Check errors and warnings from PTD logs" in out


def test_power_dev_client(server, tmp_path):
    kind, port = server
    gen = tmp_path / "fakegen.py"
    gen.write_text(FAKEGEN)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "ptd_client_server.client",
            "-a",
            "127.0.0.1",
            "-p",
            str(port),
            "-n",
            "127.0.0.1",
            "-w",
            f"{sys.executable} {gen} {tmp_path}/in/run",
            "-L",
            str(tmp_path / "in"),
            "-o",
            str(tmp_path / "out"),
            "-T",
        ],
        cwd=POWER_DEV,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    _assert_checks(_check_py(tmp_path / "out"))


def test_edgeperf_client(server, tmp_path):
    kind, port = server

    def workload(mode, folder):
        gen = tmp_path / "fakegen.py"
        gen.write_text(FAKEGEN)
        subprocess.run([sys.executable, str(gen), str(folder)], check=True)

    run_power_session(PowerClientOptions("127.0.0.1", port, ntp_server="127.0.0.1"), workload, tmp_path / "out")
    _assert_checks(_check_py(tmp_path / "out"))
