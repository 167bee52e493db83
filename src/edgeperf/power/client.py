"""The power client: drive a director through a ranging and a testing run of a workload (power.md §3.3).

:func:`run_power_session` connects, checks the clocks (NTP unless skipped, then the director's
``time``), opens a session and, for ranging then testing, sends start, runs the workload, sends
stop and takes LoadGen's summary and detail logs, whose power_begin/power_end (UTC) must lie inside
the workload's run. It then writes ``power/client.log`` and ``power/client.json``, sends ``done``,
downloads the director's five files and sends ``cleanup``. The result is laid out as the real v1.1
power results are::

    <output>/power/{client.json, client.log, ptd_logs.txt, server.json, server.log}
    <output>/ranging/{mlperf_log_detail.txt, mlperf_log_summary.txt, spl.txt}
    <output>/run_1/{mlperf_log_detail.txt, mlperf_log_summary.txt, spl.txt}

Everything is assembled in a hidden folder beside ``output`` and moved in only when the session
completed, so a failed session (the director answering an error, a dropped connection, a clock out
of sync, a failing workload) leaves no power result behind, only a :class:`PowerClientError`.

The ranging and testing runs are compared (LoadGen's power_end - power_begin and the summary's
result line): a difference over 5 % is reported, since it usually means thermal throttling, and
recorded in client.json under ``edgeperf``.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ..errors import EdgeperfError
from .proto import FETCH_FILES, MAGIC_CLIENT, MAGIC_SERVER, LineChannel, ProtocolError, enable_keepalive
from .spl import parse_ptd_time
from .summary import SessionSummary, hash_dir

__all__ = ["PowerClientError", "PowerClientOptions", "PowerSessionResult", "run_power_session", "compare_runs"]

log = logging.getLogger("edgeperf.power.client")
LOADGEN_FILES = ("mlperf_log_detail.txt", "mlperf_log_summary.txt")
_TIME = re.compile(r"\d+-\d+-\d+ \d+:\d+:\d+\.\d+")
_RESULT_KEYS = (
    "Samples per second",
    "Scheduled samples per second",
    "90th percentile latency (ns)",
    "Samples per query",
)


class PowerClientError(EdgeperfError):
    """The power session failed; no power result was written."""


@dataclass
class PowerClientOptions:
    host: str
    port: int
    ntp_server: str | None = None
    skip_time_sync: bool = False
    label: str = ""
    no_ranging: bool = False  # needs a director started with a fixed range
    reply_timeout: float = 900.0


@dataclass
class PowerSessionResult:
    output: Path
    session_id: str
    warnings: list[str] = field(default_factory=list)


class _LogBuffer(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("client %(asctime)s [%(levelname)s] %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def read_power_window(path: Path) -> tuple[str, str]:
    """(power_begin, power_end) strings of a LoadGen detail log (either log format)."""
    found: dict[str, str] = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            low = line.lower()
            for key in ("power_begin", "power_end"):
                if key in low and key not in found:
                    m = _TIME.search(line, low.index(key))
                    if m:
                        found[key] = m.group(0)
            if len(found) == 2:
                break
    if len(found) < 2:
        raise PowerClientError(f"{path}: no power_begin/power_end records (was this a performance run?)")
    return found["power_begin"], found["power_end"]


def _summary_result(path: Path) -> tuple[str, float] | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for key in _RESULT_KEYS:
        m = re.search(rf"^{re.escape(key)}\s*:\s*([-+0-9.eE]+)\s*$", text, re.M)
        if m:
            try:
                return key, float(m.group(1))
            except ValueError:
                return None
    return None


def compare_runs(ranging: Path, testing: Path, limit: float = 0.05) -> list[str]:
    """Messages for each of duration and result that differ by more than ``limit`` (relative to the larger)."""
    out = []
    durations = []
    for folder in (ranging, testing):
        b, e = read_power_window(folder / "mlperf_log_detail.txt")
        durations.append((parse_ptd_time(e) - parse_ptd_time(b)).total_seconds())
    d_r, d_t = durations
    if max(d_r, d_t) > 0 and abs(d_r - d_t) / max(d_r, d_t) >= limit:
        out.append(
            f"the ranging and testing runs lasted {d_r:.3f} s and {d_t:.3f} s "
            f"({100 * abs(d_r - d_t) / max(d_r, d_t):.1f}% apart, over {100 * limit:g}%; v1.1 rejects this)"
        )
    pr, pt = _summary_result(ranging / "mlperf_log_summary.txt"), _summary_result(testing / "mlperf_log_summary.txt")
    if pr and pt and pr[0] == pt[0] and max(abs(pr[1]), abs(pt[1])) > 0:
        rel = abs(pr[1] - pt[1]) / max(abs(pr[1]), abs(pt[1]))
        if rel > limit:
            out.append(
                f"{pr[0]} was {pr[1]:g} in ranging and {pt[1]:g} in testing ({100 * rel:.1f}% apart, "
                f"over {100 * limit:g}%): thermal throttling or another change between the runs?"
            )
    return out


class _Connection:
    """The client's side of the protocol: every command recorded for client.json."""

    def __init__(self, opts: PowerClientOptions, summary: SessionSummary) -> None:
        self.opts, self.summary = opts, summary
        where = f"{opts.host}:{opts.port}"
        try:
            self.sock = socket.create_connection((opts.host, opts.port), timeout=10)
        except OSError as exc:
            raise PowerClientError(f"cannot connect to the power server {where}: {exc.strerror or exc}") from None
        self.sock.settimeout(None)
        enable_keepalive(self.sock)
        self.chan = LineChannel(self.sock, timeout=opts.reply_timeout)
        self.where = where

    def command(self, cmd: str, *, expect_ok: bool = True, record: bool = True) -> str:
        log.info(f"Sending command to the server: {cmd!r}")
        t0 = time.time()
        try:
            reply = self.chan.command(cmd)
        except ProtocolError as exc:
            raise PowerClientError(f"the power server {self.where} stopped answering during {cmd!r}: {exc}") from None
        t1 = time.time()
        log.info(f"Got response: {reply!r}")
        if record:
            self.summary.message(cmd, t0, reply, t1)
        if expect_ok and reply != "OK":
            raise PowerClientError(f"the power server {self.where} refused {cmd!r}: {reply}")
        return reply

    def download(self, session: str, rel: str, dest: Path) -> None:
        log.info(f"Downloading {rel}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.chan.send_line(f"download,{session},{rel}")
            self.chan.recv_file(dest)
        except ProtocolError as exc:
            raise PowerClientError(f"downloading {rel} from {self.where} failed: {exc}") from None

    def close(self) -> None:
        self.sock.close()


def _sync(conn: _Connection, opts: PowerClientOptions) -> None:
    from .time_sync import check_ntp, check_remote

    if not opts.skip_time_sync:
        if not opts.ntp_server:
            raise PowerClientError("no NTP server given for the time check (or skip it explicitly)")
        log.info(f"Synchronizing with the server and with {opts.ntp_server}...")
        offset, delay = check_ntp(opts.ntp_server)
        log.info(f"NTP:offset = {offset:.3f} s, delay = {delay:.3f} s ")

    def remote() -> float:
        reply = conn.command("time", expect_ok=False)
        try:
            return float(reply)
        except ValueError:
            raise PowerClientError(f"the power server answered {reply!r} to 'time' (expected a number)") from None

    dt1, dt2 = check_remote(remote)
    log.info(f"The time difference between the client and the server is within range {dt1:.3f} ms..{dt2:.3f} ms")


def run_power_session(
    opts: PowerClientOptions,
    workload: Callable[[str, Path], None],
    output: str | os.PathLike,
    *,
    on_event: Callable[[str], None] | None = None,
) -> PowerSessionResult:
    """Run ranging (unless ``no_ranging``) and testing through the director; lay the result out in ``output``.

    ``workload(mode, folder)`` runs LoadGen once ("ranging" or "testing"), writing its logs into
    ``folder``. ``on_event`` hears progress lines. PowerClientError (or TimeSyncError) on failure,
    with nothing written to ``output``.
    """
    from .time_sync import TimeSyncError

    output = Path(output)
    say = on_event or (lambda text: None)
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.power-", dir=output.parent))
    session_dir, work = staging / "session", staging / "loadgen"
    buffer = _LogBuffer()
    log.addHandler(buffer)
    log.setLevel(logging.INFO)
    summary = SessionSummary()
    summary.edgeperf.update(role="client", time_sync="skipped" if opts.skip_time_sync else "ntp")
    conn = None
    try:
        conn = _Connection(opts, summary)
        magic = conn.command(MAGIC_CLIENT, expect_ok=False)
        if magic != MAGIC_SERVER:
            raise PowerClientError(f"{conn.where} is not an mlcommons/power v3 server (it answered {magic[:80]!r})")
        if opts.skip_time_sync:
            log.warning("The NTP time check is SKIPPED; this is recorded in client.json")
        try:
            _sync(conn, opts)
        except TimeSyncError as exc:
            raise PowerClientError(f"time check failed: {exc}") from None
        client_uuid = str(uuid.uuid4())
        reply = conn.command(f"new,{opts.label},{client_uuid}", expect_ok=False)
        if not reply.startswith("OK ") or "," not in reply:
            raise PowerClientError(f"the power server answered {reply!r} to 'new' (expected OK <session>,<uuid>)")
        session, _, server_uuid = reply[3:].partition(",")
        summary.session_name, summary.client_uuid, summary.server_uuid = session, client_uuid, server_uuid
        log.info(f"Session id is {session!r}")
        (session_dir / "power").mkdir(parents=True)
        modes = ("testing",) if opts.no_ranging else ("ranging", "testing")
        if opts.no_ranging:
            summary.edgeperf["no_ranging"] = True
        for mode in modes:
            log.info(f"Running workload in {mode} mode")
            say(f"power: {mode} run")
            try:
                _sync(conn, opts)
            except TimeSyncError as exc:
                raise PowerClientError(f"time check before the {mode} run failed: {exc}") from None
            summary.phase(mode, 0)
            conn.command(f"session,{session},start,{mode}")
            summary.phase(mode, 1)
            folder = work / mode
            folder.mkdir(parents=True)
            t0 = time.time()
            workload(mode, folder)
            t1 = time.time()
            summary.phase(mode, 2)
            conn.command(f"session,{session},stop,{mode}")
            summary.phase(mode, 3)
            dest = session_dir / ("ranging" if mode == "ranging" else "run_1")
            _take_loadgen_logs(folder, dest, t0, t1)
        if not opts.no_ranging:
            diffs = compare_runs(session_dir / "ranging", session_dir / "run_1")
            for d in diffs:
                log.warning(f"Ranging vs testing: {d}")
                say(f"power: WARNING: {d}")
            summary.edgeperf["ranging_vs_testing"] = diffs
        with open(session_dir / "power" / "client.log", "w", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in buffer.lines))
        summary.results = hash_dir(session_dir)
        summary.save(session_dir / "power" / "client.json")
        conn.command(f"session,{session},done", record=False)
        for rel in FETCH_FILES:
            if opts.no_ranging and rel.startswith("ranging/"):
                continue
            conn.download(session, rel, session_dir / rel)
        conn.command(f"cleanup,{session}", record=False)
        _install(session_dir, output)
        say(f"power: session {session} complete; logs in {output}")
        return PowerSessionResult(output, session, list(summary.edgeperf.get("ranging_vs_testing", [])))
    finally:
        log.removeHandler(buffer)
        if conn is not None:
            conn.close()
        shutil.rmtree(staging, ignore_errors=True)


def _take_loadgen_logs(folder: Path, dest: Path, t0: float, t1: float) -> None:
    detail = folder / "mlperf_log_detail.txt"
    if not detail.is_file():
        raise PowerClientError(f"the workload wrote no {detail.name} in {folder}")
    begin, end = read_power_window(detail)
    utc = lambda s: parse_ptd_time(s).replace(tzinfo=timezone.utc).timestamp()  # noqa: E731
    if not (t0 < utc(begin) < t1 and t0 < utc(end) < t1):
        raise PowerClientError(
            f"{detail}: power_begin {begin} / power_end {end} (UTC) lie outside the workload's run "
            f"{datetime.fromtimestamp(t0, timezone.utc):%H:%M:%S.%f} .. {datetime.fromtimestamp(t1, timezone.utc):%H:%M:%S.%f}"
        )
    dest.mkdir(parents=True)
    for name in LOADGEN_FILES:
        src = folder / name
        if src.is_file():
            shutil.copyfile(src, dest / name)
        else:
            log.error(f"{src} is missing")


def _install(session_dir: Path, output: Path) -> None:
    """Move the finished session's folders into ``output`` (replacing earlier ones)."""
    output.mkdir(parents=True, exist_ok=True)
    for name in ("power", "ranging", "run_1"):
        src = session_dir / name
        if not src.exists():
            continue
        if (output / name).exists():
            shutil.rmtree(output / name)
        os.replace(src, output / name)
