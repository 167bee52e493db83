"""Line framing of the power client/server protocol and of PTDaemon's TCP interface (power.md §3.1, §4.2).

A message is one UTF-8 line; the sender appends CR LF, the receiver reads up to LF, drops one
trailing CR and decodes invalid bytes with replacement. The one binary exchange is ``download``:
chunks of ``<decimal byte count>`` line + that many raw bytes, ended by a ``0`` line.

Lines longer than :data:`MAX_LINE_BYTES` are a protocol error here (the official tools have no
limit; a limit keeps a misbehaving peer from filling memory).
"""

from __future__ import annotations

import os
import select
import socket
import time

from ..errors import EdgeperfError, UsageError

__all__ = [
    "DEFAULT_PORT",
    "FETCH_FILES",
    "MAGIC_CLIENT",
    "MAGIC_SERVER",
    "MAX_LINE_BYTES",
    "LineChannel",
    "PeerClosedError",
    "ProtocolError",
    "enable_keepalive",
    "parse_host_port",
]

PROTOCOL_VERSION = 3
DEFAULT_PORT = 4950
MAGIC_CLIENT = f"mlcommons/power client v{PROTOCOL_VERSION}"
MAGIC_SERVER = f"mlcommons/power server v{PROTOCOL_VERSION}"
#: The files a client may download after ``done``, in the order the official client fetches them (§3.2 #14).
FETCH_FILES = ("power/ptd_logs.txt", "ranging/spl.txt", "power/server.json", "power/server.log", "run_1/spl.txt")
MAX_LINE_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024


class ProtocolError(EdgeperfError):
    """The peer broke the protocol (over-long line, bad chunk header, unexpected reply)."""


class PeerClosedError(ProtocolError):
    """The connection was closed (or reset) by the peer."""


def parse_host_port(text: str, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """``"HOST:PORT"`` or ``"HOST"`` -> (host, port); ValueError naming what was expected."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = text, str(default_port)
    if not host:
        raise UsageError(f"{text!r}: expected HOST:PORT, e.g. 127.0.0.1:{default_port}")
    try:
        value = int(port)
    except ValueError:
        raise UsageError(f"{text!r}: port {port!r} is not an integer (expected HOST:PORT)") from None
    if not 0 < value < 65536:
        raise UsageError(f"{text!r}: port {value} is out of range 1..65535")
    return host, value


def enable_keepalive(sock: socket.socket) -> None:
    """TCP keepalive as the official tools set it: idle 2 s, interval 2 s, 10 probes (§1)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", 2), ("TCP_KEEPINTVL", 2), ("TCP_KEEPCNT", 10)):
        opt = getattr(socket, name, None)
        if opt is not None:
            sock.setsockopt(socket.IPPROTO_TCP, opt, value)


class LineChannel:
    """A socket read and written as CR LF lines (plus the chunked file transfer of ``download``).

    ``stop`` is an optional callable polled while waiting, so a server can be shut down while a
    client is idle; ``timeout`` (seconds, None for no limit) bounds one :meth:`recv_line`.
    """

    def __init__(self, sock: socket.socket, *, stop=None, timeout: float | None = None) -> None:
        self.sock = sock
        self._buf = b""
        self._stop = stop
        self.timeout = timeout

    def _read_some(self, deadline: float | None) -> bytes:
        while True:
            if self._stop is not None and self._stop():
                raise PeerClosedError("the connection was shut down locally")
            wait = 0.2
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ProtocolError(f"no reply within {self.timeout:g} s")
                wait = min(wait, left)
            ready, _, _ = select.select([self.sock], [], [], wait)
            if ready:
                try:
                    data = self.sock.recv(64 * 1024)
                except (ConnectionResetError, BrokenPipeError, OSError) as exc:
                    raise PeerClosedError(f"the connection was reset ({exc})") from None
                if not data:
                    raise PeerClosedError("the peer closed the connection")
                return data

    def recv_line(self) -> str:
        """The next line, without CR LF; PeerClosedError at end of stream."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while b"\n" not in self._buf:
            if len(self._buf) > MAX_LINE_BYTES:
                self._buf = b""
                raise ProtocolError(f"a line longer than {MAX_LINE_BYTES} bytes")
            self._buf += self._read_some(deadline)
        line, _, self._buf = self._buf.partition(b"\n")
        if len(line) > MAX_LINE_BYTES:
            raise ProtocolError(f"a line longer than {MAX_LINE_BYTES} bytes")
        if line.endswith(b"\r"):
            line = line[:-1]
        return line.decode("utf-8", errors="replace")

    def send_line(self, text: str) -> None:
        """Send ``text`` + CR LF (PeerClosedError if the peer is gone)."""
        self._send(text.encode("utf-8") + b"\r\n")

    def _send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, OSError) as exc:
            raise PeerClosedError(f"cannot send: {exc}") from None

    def command(self, text: str) -> str:
        """Send one line and return the one-line reply."""
        self.send_line(text)
        return self.recv_line()

    def send_file(self, path: str | os.PathLike) -> None:
        """Send a file as ``<n>`` line + n bytes chunks, ended by a ``0`` line."""
        with open(path, "rb") as f:
            while True:
                chunk = f.read(CHUNK_BYTES)
                self.send_line(str(len(chunk)))
                if not chunk:
                    return
                self._send(chunk)

    def _recv_exact(self, n: int) -> bytes:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while len(self._buf) < n:
            self._buf += self._read_some(deadline)
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def recv_file(self, path: str | os.PathLike) -> None:
        """Receive a chunked file into ``path`` (written to ``path.tmp`` and renamed when complete)."""
        tmp = os.fspath(path) + ".tmp"
        try:
            with open(tmp, "wb") as f:
                while True:
                    header = self.recv_line()
                    if not header.isdigit() or int(header) > CHUNK_BYTES:
                        raise ProtocolError(f"expected a chunk size line (0..{CHUNK_BYTES}), got {header[:80]!r}")
                    n = int(header)
                    if n == 0:
                        break
                    f.write(self._recv_exact(n))
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
