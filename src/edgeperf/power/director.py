"""``edgeperf power server``: the director, protocol v3 with one client at a time (power.md §3.2, §4).

Per connection: the magic exchange, then commands until the client leaves. A session runs
INITIAL -> RANGING -> RANGING_DONE -> TESTING -> TESTING_DONE -> DONE; repeating the current
start/stop is answered ``OK``, anything out of order ``Error``. The analyzer is launched on the first
start and driven with the exact v1.1 command order (Hello, Identify, RR, SR,V,Auto, SR,A,Auto, Go
ranging, Stop, SR,V,max, SR,A,max, Go testing, Stop, Stop, SR,V,init, SR,A,init), with a settle
pause (10 s) after the range commands and before each Stop.

Where the official server would exit or answer ``Error: exception``, this one answers one clear
``Error: <what happened>`` line, ends the session and keeps serving: an analyzer that dies, fails
to start or answers with an error; ranging samples without a positive maximum.

edgeperf options (each recorded under ``edgeperf`` in server.json):
* ``settle_s`` below 10 s marks the session ``debug: true`` (as power-dev's MLPP_DEBUG does);
* ``skip_time_sync`` skips the start-up NTP check (``time_sync: "skipped"``);
* ``fixed_range=(volts, amps)`` lets a client start testing without a ranging run (``no_ranging``);
* ``low_current_range=(volts, amps)`` replaces a ranging maximum that is not positive or lies
  below it (``low_current_range_used``), for devices too small for the analyzer's ranges.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from decimal import InvalidOperation

from ..errors import EdgeperfError
from .director_session import ANALYZER_SLEEP_SECONDS, Session
from .proto import (
    FETCH_FILES,
    MAGIC_CLIENT,
    MAGIC_SERVER,
    LineChannel,
    PeerClosedError,
    ProtocolError,
    enable_keepalive,
)
from .ptd_control import AnalyzerError, port_is_occupied
from .ptd_log import RangingError
from .server_config import ServerConfig
from .summary import SessionSummary

__all__ = ["ANALYZER_SLEEP_SECONDS", "Director", "DirectorOptions", "DirectorError"]

log = logging.getLogger("edgeperf.power.server")
_LABEL_CHARS = set("-_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


class DirectorError(EdgeperfError):
    """The director cannot start (port taken, NTP check failed)."""


@dataclass
class DirectorOptions:
    settle_s: float = ANALYZER_SLEEP_SECONDS
    skip_time_sync: bool = False
    fixed_range: tuple[str, str] | None = None
    low_current_range: tuple[str, str] | None = None


class _LogBuffer(logging.Handler):
    """Collects the director's log lines of one connection for power/server.log (local time)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("ptd-server %(asctime)s [%(levelname)s] %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class Director:
    """Serve power clients on ``config.host:config.port`` (port 0: an ephemeral port, see :attr:`port`)."""

    def __init__(self, config: ServerConfig, options: DirectorOptions | None = None) -> None:
        self.config = config
        self.options = options or DirectorOptions()
        self.session: Session | None = None
        self.summary = SessionSummary()
        self._stopping = threading.Event()
        self._stop_after_client = False
        self._listener: socket.socket | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="edgeperf-director-")
        self.work_dir = self._tmp.name
        self._last_session: str | None = None
        self._last_dir: str | None = None
        self._time_sync = "skipped" if self.options.skip_time_sync else "ntp"
        self._buffer: _LogBuffer | None = None
        self.port = config.port
        log.setLevel(logging.INFO)  # server.log records INFO lines whatever the root logger's level

    # -- life cycle --------------------------------------------------------------------------
    def bind(self) -> int:
        """Check the analyzer port and the clock, then listen; the bound port."""
        if port_is_occupied(self.config.ptd_port):
            raise DirectorError(f"the analyzer port {self.config.ptd_port} is already occupied")
        if self.options.skip_time_sync:
            log.warning("The NTP time check is SKIPPED (--skip-time-sync); this is recorded in server.json")
        else:
            from .time_sync import check_ntp

            try:
                offset, delay = check_ntp(self.config.ntp_server)
            except EdgeperfError as exc:
                raise DirectorError(f"time check failed: {exc}") from None
            log.info(f"NTP:offset = {offset:.3f} s, delay = {delay:.3f} s ")
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((self.config.host, self.config.port))
        except OSError as exc:
            s.close()
            raise DirectorError(
                f"cannot listen on {self.config.host}:{self.config.port}: {exc.strerror or exc}"
            ) from None
        s.listen(1)
        s.settimeout(0.2)
        self._listener = s
        self.port = s.getsockname()[1]
        log.info(f"Listening on {self.config.host}:{self.port}")
        return self.port

    def serve_forever(self) -> None:
        """Accept clients one at a time until :meth:`shutdown` or a client's ``stop``."""
        if self._listener is None:
            self.bind()
        assert self._listener is not None
        try:
            while not self._stopping.is_set():
                try:
                    conn, addr = self._listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    break
                log.info(f"Connection from {addr[0]}:{addr[1]}")
                try:
                    self.handle_connection(conn)
                finally:
                    conn.close()
                if self._stop_after_client:
                    log.info("Stopping the server")
                    break
        finally:
            self.close()

    def shutdown(self) -> None:
        """Ask :meth:`serve_forever` to return (from another thread)."""
        self._stopping.set()

    def close(self) -> None:
        self._stopping.set()
        self._drop_session()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self._tmp.cleanup()

    def sleep(self, seconds: float) -> None:
        """A settle pause that a shutdown interrupts."""
        self._stopping.wait(seconds)

    # -- one client --------------------------------------------------------------------------
    def handle_connection(self, conn: socket.socket) -> None:
        enable_keepalive(conn)
        buffer = _LogBuffer()
        log.addHandler(buffer)
        self._buffer = buffer
        self.summary = self._new_summary()
        self._last_session = self._last_dir = None
        chan = LineChannel(conn, stop=self._stopping.is_set)
        try:
            try:
                magic = chan.recv_line()
            except ProtocolError as exc:
                log.error(f"Handshake failed: {exc}")
                return
            t = time.time()
            self.summary.message(magic, t, MAGIC_SERVER, time.time())
            chan.send_line(MAGIC_SERVER)
            if magic != MAGIC_CLIENT:
                log.error(f"Handshake failed, expected {MAGIC_CLIENT!r}, got {magic[:100]!r}")
                return
            while True:
                try:
                    cmd = chan.recv_line()
                except PeerClosedError:
                    log.info("Connection closed")
                    break
                except ProtocolError as exc:
                    log.error(f"Protocol error: {exc}")
                    chan.send_line("Error: line too long")
                    continue
                cmd_time = time.time()
                log.info(f"Got command from the client {cmd[:200]!r}")
                reply = self._safe_handle(cmd, chan)
                if reply is None:
                    continue
                log.info(f"Sending reply to client {reply!r}")
                self.summary.message(cmd, cmd_time, reply, time.time())
                chan.send_line(reply)
        except PeerClosedError as exc:
            log.error(f"Connection lost: {exc}")
        finally:
            if self.session is not None:
                log.warning("Client connection closed unexpectedly; the session is dropped")
                dropped = self.session.dir
                self._drop_session()
                shutil.rmtree(dropped, ignore_errors=True)
            self._last_session = self._last_dir = None
            log.removeHandler(buffer)

    def _new_summary(self) -> SessionSummary:
        s = SessionSummary()
        s.debug = self.options.settle_s < ANALYZER_SLEEP_SECONDS or os.environ.get("MLPP_DEBUG") is not None
        s.edgeperf.update(role="server", time_sync=self._time_sync, settle_s=self.options.settle_s)
        return s

    def _safe_handle(self, cmd: str, chan: LineChannel) -> str | None:
        try:
            return self._handle(cmd, chan)
        except AnalyzerError as exc:
            log.error(f"Analyzer failure: {exc}")
            self._fail_session()
            return f"Error: analyzer: {exc}"
        except RangingError as exc:
            log.error(f"Ranging failure: {exc}")
            self._fail_session()
            return f"Error: {exc}"
        except (OSError, ValueError, InvalidOperation) as exc:
            log.exception("Got an exception")
            return f"Error: exception ({type(exc).__name__}: {exc})"

    def _fail_session(self) -> None:
        """End the session after a failure: no download of anything it left."""
        if self.session is not None:
            dropped = self.session.dir
            try:
                self.session.drop()
            finally:
                self.session = None
                shutil.rmtree(dropped, ignore_errors=True)
        self._last_session = self._last_dir = None

    def _handle(self, line: str, chan: LineChannel) -> str | None:
        cmd = line.split(",")
        if cmd[0] == "time" and len(cmd) == 1:
            return str(time.time())
        if cmd[0] == "set_ntp" and len(cmd) == 1:
            return self._set_ntp()
        if cmd[0] == "stop" and len(cmd) == 1:
            log.info("The server will be stopped after processing this client")
            self._stop_after_client = True
            return "OK"
        if cmd[0] == "new" and len(cmd) == 3:
            return self._new(cmd[1], cmd[2])
        if cmd[0] == "session" and len(cmd) >= 3:
            if self.session is None or (cmd[1] != self.session.id and cmd[1] != "*"):
                return "Error: unknown session"
            sub = cmd[2:]
            if sub in (["start", "ranging"], ["start", "testing"]):
                return "OK" if self.session.start(sub[1]) else "Error"
            if sub in (["stop", "ranging"], ["stop", "testing"]):
                return "OK" if self.session.stop(sub[1]) else "Error"
            if sub == ["done"]:
                self._drop_session()
                return "OK"
            return "Error Unknown session command"
        if (
            cmd[0] == "download"
            and len(cmd) == 3
            and self._last_session is not None
            and cmd[1] == self._last_session
            and cmd[2] in FETCH_FILES
        ):
            assert self._last_dir is not None
            path = os.path.join(self._last_dir, cmd[2])
            if not os.path.isfile(path):
                return "Error: no such file in the session"
            chan.send_file(path)
            return None
        if cmd[0] == "cleanup" and len(cmd) == 2 and self._last_session is not None and cmd[1] == self._last_session:
            assert self._last_dir is not None
            shutil.rmtree(self._last_dir, ignore_errors=True)
            return "OK"
        return "Error"

    def _set_ntp(self) -> str:
        # edgeperf never sets the clock; it answers whether the clock is (now) within tolerance.
        if self.options.skip_time_sync:
            return "OK"
        from .time_sync import check_ntp

        try:
            check_ntp(self.config.ntp_server)
        except EdgeperfError as exc:
            return f"Error: {exc}"
        return "OK"

    def _new(self, label: str, client_uuid: str) -> str:
        if self.session is not None:
            old = self.session.dir
            self._drop_session(write=False)
            shutil.rmtree(old, ignore_errors=True)
        if not set(label) <= _LABEL_CHARS:
            return "Error: invalid label"
        try:
            cu = uuid.UUID(client_uuid)
        except ValueError:
            return "Error: invalid uuid"
        # A fresh summary that keeps the handshake and earlier commands (the client records them too).
        messages = self.summary.messages
        self.summary = self._new_summary()
        self.summary.messages = messages
        self.summary.client_uuid, self.summary.server_uuid = str(cu), str(uuid.uuid4())
        self.session = Session(self, label)
        self.summary.session_name = self.session.id
        self.summary.ptd_config = self.config.ptd_summary(self.session.ptd_logfile)
        self._last_session, self._last_dir = self.session.id, self.session.dir
        return f"OK {self.session.id},{self.summary.server_uuid}"

    def _drop_session(self, write: bool = True) -> None:
        session, self.session = self.session, None
        if session is None:
            return
        try:
            session.drop()
        finally:
            if write and self._buffer is not None:
                with open(os.path.join(session.dir, "power", "server.log"), "w", encoding="utf-8") as f:
                    f.write("".join(line + "\n" for line in self._buffer.lines))
        if write:
            from .summary import hash_dir

            self.summary.ptd_messages = session.ptd.messages
            self.summary.edgeperf["analyzer_identify"] = session.ptd.identify
            self.summary.edgeperf["simulated_analyzer"] = (session.ptd.identify or "").startswith("EdgeperfSimulator")
            self.summary.results = hash_dir(session.dir)
            self.summary.save(os.path.join(session.dir, "power", "server.json"))
        try:
            os.unlink(session.ptd_logfile)
        except FileNotFoundError:
            pass
