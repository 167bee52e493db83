"""The director's side of PTDaemon (or the simulator): start it, talk to it, stop it (power.md §4.1, §4.2).

The analyzer runs with ``TZ=UTC``; its stdout and stderr go to ``power/ptd_logs.txt``. The director
connects to ``127.0.0.1:<port>`` (300 tries, 0.1 s apart), checks ``Hello``, logs ``Identify``, reads
the initial ranges with ``RR`` and restores them when it stops the analyzer: ``Stop`` (answered
``Error: no measurement to stop``), ``SR,V,<initial>``, ``SR,A,<initial>``, then terminate (10 s)
and kill.

Unlike the official server, every reply is checked: a reply other than the one PTDaemon gives on
success, a dead process or a closed socket raises :class:`AnalyzerError`, which the director turns
into an ``Error: ...`` reply to its client and the end of the session.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import time
from typing import IO, Any

from ..errors import EdgeperfError
from .proto import LineChannel, ProtocolError

__all__ = ["AnalyzerError", "PtdController", "initial_range", "port_is_occupied"]

log = logging.getLogger("edgeperf.power.server")

_EXPECTED = {
    "Hello": "Hello, PTDaemon here!",
    "SR,V": "Range V changed",
    "SR,A": "Range A changed",
    "Go,1000,": "Starting untimed measurement, maximum 500000 samples at 1000ms with 0 rampup samples",
    "Stop": "Stopping untimed measurement",
}


class AnalyzerError(EdgeperfError):
    """The analyzer (PTDaemon or the simulator) died, did not answer, or answered with an error."""


def port_is_occupied(port: int) -> bool:
    """True when something already accepts connections on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def initial_range(reply: str, index: int) -> str:
    """From an RR reply ``Ranges,ampAuto,ampRange,voltAuto,voltRange``: the range at ``index`` (1: amps,
    3: volts) when its auto flag is 0 and it is positive, else ``Auto`` (§4.2)."""
    fields = reply.split(",")
    try:
        if fields[index] == "0" and float(fields[index + 1]) > 0:
            return fields[index + 1]
    except (IndexError, ValueError):
        pass
    return "Auto"


class PtdController:
    """One analyzer process for one session; :attr:`messages` records every command and reply."""

    def __init__(self, command: list[str], port: int, ptd_log_path: str, *, reply_timeout: float = 30.0) -> None:
        self.command = command
        self.port = port
        self.ptd_log_path = ptd_log_path
        self.reply_timeout = reply_timeout
        self.messages: list[dict[str, str]] = []
        self.identify: str | None = None
        self.init_volts = self.init_amps = "Auto"
        self._process: subprocess.Popen[Any] | None = None
        self._log_file: IO[bytes] | None = None
        self._sock: socket.socket | None = None
        self._chan: LineChannel | None = None

    @property
    def running(self) -> bool:
        return self._process is not None

    def start(self) -> None:
        """Launch, connect, Hello/Identify/RR (no-op when already running)."""
        if self._process is not None:
            return
        if port_is_occupied(self.port):
            raise AnalyzerError(f"the analyzer port {self.port} is already occupied")
        log.info(f"Running PTDaemon: {self.command}")
        env = dict(os.environ, TZ="UTC")
        self._log_file = open(self.ptd_log_path, "ab")
        try:
            self._process = subprocess.Popen(
                self.command, stdout=self._log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        except OSError as exc:
            self._log_file.close()
            self._log_file = None
            raise AnalyzerError(f"cannot start the analyzer {self.command[0]!r}: {exc.strerror or exc}") from None
        for _ in range(300):
            if self._process.poll() is not None:
                code = self._process.returncode
                self.terminate(restore=False)
                raise AnalyzerError(
                    f"the analyzer exited with status {code} before accepting connections (see power/ptd_logs.txt)"
                )
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.connect(("127.0.0.1", self.port))
            except ConnectionRefusedError:
                s.close()
                time.sleep(0.1)
                continue
            self._sock = s
            break
        if self._sock is None:
            self.terminate(restore=False)
            raise AnalyzerError(f"could not connect to the analyzer on 127.0.0.1:{self.port} within 30 s")
        self._chan = LineChannel(self._sock, timeout=self.reply_timeout)
        self.cmd("Hello")
        self.identify = self.cmd("Identify", check=False)
        log.info("Connected to PTDaemon")
        rr = self.cmd("RR", check=False)
        if not rr.startswith("Ranges,"):
            raise AnalyzerError(f"the analyzer answered {rr!r} to 'RR' (expected Ranges,...)")
        self.init_amps, self.init_volts = initial_range(rr, 1), initial_range(rr, 3)
        log.info(f"Initial range for Amps is {self.init_amps} for Volts is {self.init_volts}")

    def cmd(self, command: str, *, check: bool = True) -> str:
        """Send one command; its reply. With ``check``, a reply other than the success reply raises."""
        if self._chan is None or self._process is None:
            raise AnalyzerError(f"cannot send {command!r}: the analyzer is not running")
        if self._process.poll() is not None:
            raise AnalyzerError(f"the analyzer died (exit status {self._process.returncode}) before {command!r}")
        log.info(f"Sending to ptd: {command!r}")
        try:
            reply = self._chan.command(command)
        except ProtocolError as exc:
            state = self._process.poll()
            why = f"it exited with status {state}" if state is not None else str(exc)
            raise AnalyzerError(f"no reply from the analyzer to {command!r}: {why}") from None
        log.info(f"Reply from ptd: {reply!r}")
        self.messages.append({"cmd": command, "reply": reply})
        if check:
            for prefix, expected in _EXPECTED.items():
                if command.startswith(prefix) and reply != expected:
                    raise AnalyzerError(f"the analyzer answered {reply!r} to {command!r} (expected {expected!r})")
        return reply

    def check_alive(self) -> None:
        """AnalyzerError when the process has exited."""
        if self._process is not None and self._process.poll() is not None:
            raise AnalyzerError(f"the analyzer died during the measurement (exit status {self._process.returncode})")

    def terminate(self, *, restore: bool = True) -> None:
        """Final Stop and range restore (when connected and ``restore``), then stop the process."""
        try:
            if restore and self._chan is not None and self._process is not None and self._process.poll() is None:
                try:
                    self.cmd("Stop", check=False)
                    self.cmd(f"SR,V,{self.init_volts}", check=False)
                    self.cmd(f"SR,A,{self.init_amps}", check=False)
                    log.info(f"Set initial values for Amps {self.init_amps} and Volts {self.init_volts}")
                except AnalyzerError as exc:
                    log.error(f"Could not restore the analyzer's ranges: {exc}")
        finally:
            self._chan = None
            if self._sock is not None:
                self._sock.close()
                self._sock = None
            if self._process is not None:
                log.info("Stopping ptd...")
                if self._process.poll() is None:
                    self._process.terminate()
                    try:
                        self._process.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        self._process.kill()
                        self._process.wait()
                self._process = None
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None
