"""Shared pieces of the power tests: a director with the simulator on loopback, fake LoadGen runs."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from edgeperf.power.director import Director, DirectorOptions
from edgeperf.power.server_config import load_server_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ptd_time(t: float) -> str:
    d = datetime.fromtimestamp(t, timezone.utc)
    return d.strftime("%m-%d-%Y %H:%M:%S.") + f"{d.microsecond // 1000:03d}"


def write_server_config(path: Path, *, ptd_port: int, source: str = "constant:50", faults=(), ntp="127.0.0.1:1",
                        extra_ptd: str = "") -> Path:
    fault_args = "".join(f" --fault {f}" for f in faults)
    path.write_text(
        "[server]\n"
        f"ntpServer = {ntp}\n"
        "listen = 127.0.0.1 0\n"
        "[ptd]\n"
        f"ptd = {sys.executable} -m edgeperf.power.analyzer_sim{fault_args}\n"
        f"networkPort = {ptd_port}\n"
        "deviceType = 49\n"
        "interfaceFlag =\n"
        f"devicePort = {source}\n" + extra_ptd
    )
    return path


@contextlib.contextmanager
def running_director(tmp: Path, *, source="constant:50", faults=(), settle=0.2, skip_time_sync=True, ntp="127.0.0.1:1",
                     **options):
    """A Director serving on an ephemeral loopback port from a thread; always shut down afterwards."""
    cfg = load_server_config(write_server_config(tmp / "server.conf", ptd_port=free_port(), source=source,
                                                 faults=faults, ntp=ntp))
    director = Director(cfg, DirectorOptions(settle_s=settle, skip_time_sync=skip_time_sync, **options))
    director.bind()
    thread = threading.Thread(target=director.serve_forever, daemon=True)
    thread.start()
    try:
        yield director
    finally:
        director.shutdown()
        thread.join(20)
        assert not thread.is_alive(), "the director did not stop"


def fake_loadgen(seconds: float = 1.6, result: float = 100.0):
    """A workload writing a minimal detail/summary pair whose power window spans ``seconds``."""

    def workload(mode: str, folder: Path) -> None:
        time.sleep(0.05)
        begin = time.time()
        time.sleep(seconds)
        end = time.time()
        time.sleep(0.05)
        folder.joinpath("mlperf_log_detail.txt").write_text(
            f':::MLLOG {{"key": "power_begin", "value": "{ptd_time(begin)}", "time_ms": 0}}\n'
            f':::MLLOG {{"key": "power_end", "value": "{ptd_time(end)}", "time_ms": 0}}\n')
        folder.joinpath("mlperf_log_summary.txt").write_text(f"Samples per second: {result}\n")

    return workload
