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


def write_server_config(
    path: Path, *, ptd_port: int, source: str = "constant:50", faults=(), ntp="127.0.0.1:1", extra_ptd: str = ""
) -> Path:
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
def running_director(
    tmp: Path, *, source="constant:50", faults=(), settle=0.2, skip_time_sync=True, ntp="127.0.0.1:1", **options
):
    """A Director serving on an ephemeral loopback port from a thread; always shut down afterwards."""
    cfg = load_server_config(
        write_server_config(tmp / "server.conf", ptd_port=free_port(), source=source, faults=faults, ntp=ntp)
    )
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
            f':::MLLOG {{"key": "power_end", "value": "{ptd_time(end)}", "time_ms": 0}}\n'
        )
        folder.joinpath("mlperf_log_summary.txt").write_text(f"Samples per second: {result}\n")

    return workload


NTP_EPOCH_DELTA = 2208988800  # seconds from 1900-01-01 (NTP era 0) to 1970-01-01


@contextlib.contextmanager
def skewed_ntp_server(offset_s: float):
    """A minimal NTPv4 server on 127.0.0.1 (ephemeral UDP port) whose clock is ``offset_s`` ahead.

    It answers each client packet with mode 4, stratum 2, and receive/transmit timestamps of
    local time + offset (RFC 5905 §7.3 packet layout), so a client computes that offset.
    """
    import struct

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def ts(t: float) -> bytes:
        t += NTP_EPOCH_DELTA
        return struct.pack("!II", int(t), int((t % 1) * 2**32))

    def serve():
        while not stop.is_set():
            try:
                data, addr = sock.recvfrom(512)
            except TimeoutError:
                continue
            except OSError:
                return
            if len(data) < 48:
                continue
            now = time.time() + offset_s
            header = struct.pack("!BBbb", (0 << 6) | (4 << 3) | 4, 2, 4, -20) + b"\0" * 8 + b"SKEW"
            sock.sendto(header + ts(now) + data[40:48] + ts(now) + ts(now), addr)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        sock.close()


@contextlib.contextmanager
def chronyd_on_loopback(tmp: Path, port: int | None = None):
    """Debian's chronyd serving this machine's time on 127.0.0.1:<port, default a free one>, with its own
    config, pid and drift files in ``tmp``; never touches the system clock (-x); killed afterwards."""
    import os
    import shutil
    import subprocess

    chronyd = shutil.which("chronyd") or ("/usr/sbin/chronyd" if os.path.exists("/usr/sbin/chronyd") else None)
    if chronyd is None:
        import pytest

        pytest.skip("chronyd is not installed (apt-get install -y chrony)")
    port = port or free_udp_port()
    tmp.mkdir(parents=True, exist_ok=True)
    tmp.chmod(0o777)  # chronyd drops root privileges to its own user before writing the drift file
    conf = tmp / "chrony.conf"
    conf.write_text(
        f"port {port}\nbindaddress 127.0.0.1\nlocal stratum 8\nallow 127.0.0.1\ncmdport 0\n"
        f"driftfile {tmp}/drift\npidfile {tmp}/chronyd.pid\n"
    )
    log = open(tmp / "chronyd.log", "wb")
    proc = subprocess.Popen([chronyd, "-f", str(conf), "-d", "-x"], stdout=log, stderr=subprocess.STDOUT)
    try:
        import ntplib

        for _ in range(50):  # wait until it answers
            try:
                ntplib.NTPClient().request("127.0.0.1", version=4, port=port, timeout=0.2)
                break
            except (ntplib.NTPException, OSError) as exc:
                if proc.poll() is not None:
                    raise RuntimeError(f"chronyd exited: {(tmp / 'chronyd.log').read_text()}") from exc
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
