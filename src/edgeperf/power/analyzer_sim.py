"""A simulated PTDaemon: the TCP commands the v1.1 director sends, PTDaemon's log formats (power.md §4, §13.4).

It takes PTDaemon's command line (``-l LOGFILE -p PORT [-b BOARD] [-c CH] [-n|-g|-y|-U] TYPE
DEVICEPORT``), so it can stand wherever PTDaemon stands, under edgeperf's director or power-dev's
server. The power source is ``--source`` or else DEVICEPORT (``constant:50``, ``replay:spl.txt``,
``rapl``, ``nvml:0``, see :mod:`.sources`).

It is never mistaken for a real analyzer: the console banner says SIMULATOR and names the power
source, Identify reports model ``EdgeperfSimulator`` and version ``0.0-sim-edgeperf`` (so the
director's server.json records it), and the "Uncertainty checking for Yokogawa... is activated"
line is never printed, so power-dev's check.py and ``edgeperf check --strict`` reject what it
measured. (The sample lines themselves have no room for a label: their format is fixed.)

Replies, byte for byte as PTDaemon 1.9 sends them to the v1.1 director: ``Hello, PTDaemon here!``;
``Ranges,<ampAuto>,<ampRange>,<voltAuto>,<voltRange>``; ``Range V changed`` / ``Range A changed``;
``Starting untimed measurement, maximum 500000 samples at <period>ms with 0 rampup samples``;
``Stopping untimed measurement`` / ``Error: no measurement to stop``. Anything else gets a line
starting ``Error:``.

``--fault`` injects failures for tests: ``die-after-samples:N`` (the process exits abruptly after
N samples), ``error-reply:CMD`` (commands starting with CMD are answered with an error).
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import sys
import threading
import time
from datetime import datetime, timezone
from typing import Callable, TextIO

from .proto import LineChannel, PeerClosedError, ProtocolError
from .ptd_log import console_line, format_sample
from .sources import PowerSource, SourceError, open_source

__all__ = ["AnalyzerSimulator", "SIMULATOR_MODEL", "SIMULATOR_VERSION", "main"]

SIMULATOR_MODEL = "EdgeperfSimulator"
SIMULATOR_VERSION = "0.0-sim-edgeperf"
HELLO_REPLY = "Hello, PTDaemon here!"
VOLT_RANGES = (15.0, 30.0, 60.0, 150.0, 300.0, 600.0)
AMP_RANGES = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0)


def _go_reply(period_ms: int) -> str:
    return f"Starting untimed measurement, maximum 500000 samples at {period_ms}ms with 0 rampup samples"


class _Range:
    """One quantity's range state, as RR reports it: auto flag and range value."""

    def __init__(self, table: tuple[float, ...], initial: float) -> None:
        self.table, self.auto, self.value = table, 0, initial

    def set(self, text: str) -> str | None:
        """Apply an SR argument; the console message, or None if the argument is invalid."""
        if text == "Auto":
            self.auto = 1
            return "set to Auto"
        try:
            wanted = float(text)
        except ValueError:
            return None
        if not wanted > 0 or wanted == float("inf"):
            return None
        self.auto = 0
        self.value = next((r for r in self.table if r >= wanted), self.table[-1])
        return f"set to {self.value:.6f}"


class AnalyzerSimulator:
    """The simulated daemon: a TCP listener on ``host:port`` plus a sampling thread during Go."""

    def __init__(
        self,
        source: PowerSource,
        *,
        port: int,
        log_path: str | None,
        device_type: int = 0,
        device_port: str = "",
        channel: str | None = None,
        host: str = "127.0.0.1",
        console: TextIO | None = None,
        faults: list[str] | None = None,
        on_die: Callable[[], None] | None = None,
    ) -> None:
        self.source = source
        self.host, self.port = host, port
        self.log_path = log_path
        self.device_type, self.device_port, self.channel = device_type, device_port, channel
        self.console = console or sys.stdout
        self.faults = list(faults or [])
        self._on_die = on_die or (lambda: os._exit(3))
        self._die_after = None
        self._error_cmds = []
        for f in self.faults:
            kind, _, arg = f.partition(":")
            if kind == "die-after-samples" and arg.isdigit():
                self._die_after = int(arg)
            elif kind == "error-reply" and arg:
                self._error_cmds.append(arg)
            else:
                raise SourceError(f"--fault {f!r}: expected die-after-samples:N or error-reply:CMD")
        self.volts = _Range(VOLT_RANGES, 300.0)
        self.amps = _Range(AMP_RANGES, 20.0)
        self._lock = threading.Lock()
        self._sampler: threading.Thread | None = None
        self._sampling = threading.Event()
        self._stats: list[float] = []
        self._samples_total = 0
        self._closing = False
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._log = open(log_path, "a", encoding="utf-8", newline="") if log_path else None

    # -- console -----------------------------------------------------------------------------
    def say(self, message: str) -> None:
        with self._lock:
            self.console.write(console_line(message) + "\n")
            self.console.flush()

    def banner(self) -> None:
        lines = [
            "  ****************************************************************",
            "     edgeperf analyzer SIMULATOR -- not SPEC PTDaemon, not a power analyzer",
            f"     Version {SIMULATOR_VERSION}; samples are NOT measured AC wall power",
            "  ****************************************************************",
            "",
        ]
        if self.log_path:
            lines.append(f"Redirecting data output to file {self.log_path}")
        with self._lock:
            self.console.write("\n".join(lines) + "\n")
            self.console.flush()
        self.say(f"Simulated device type {self.device_type} on {self.device_port or '-'}: {self.source.description}")
        self.say("Uncertainty checking is not available: this is a simulated analyzer")

    # -- network -----------------------------------------------------------------------------
    def start(self) -> "AnalyzerSimulator":
        """Bind and listen, then serve connections on a background thread."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(1)
        self.port = s.getsockname()[1]
        self._listener = s
        self.banner()
        self.say(f"Establishing the listener on port {self.port}...")
        self._thread = threading.Thread(target=self._serve, name="analyzer-sim", daemon=True)
        self._thread.start()
        return self

    def wait(self) -> None:
        """Block until :meth:`close` (or a signal) ends the server."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    def close(self) -> None:
        """Stop sampling, stop listening, close the log."""
        self._closing = True
        self._stop_sampling()
        if self._listener is not None:
            try:
                self._listener.close()
            except OSError:
                pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)
        if self._log is not None:
            self._log.close()
            self._log = None
        self.source.close()

    def _serve(self) -> None:
        assert self._listener is not None
        self._listener.settimeout(0.2)
        while not self._closing:
            self.say("Waiting for a connection...")
            conn = None
            while conn is None and not self._closing:
                try:
                    conn, addr = self._listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
            if conn is None:
                return
            self.say(f"Accepted connection from {addr[0]}:{addr[1]}")
            conn.settimeout(None)
            chan = LineChannel(conn, stop=lambda: self._closing)
            try:
                while True:
                    line = chan.recv_line()
                    chan.send_line(self.handle(line))
            except PeerClosedError:
                self.say("No data returned by socket read.")
            except ProtocolError as exc:
                self.say(f"ERROR: {exc}; dropping the connection")
            finally:
                conn.close()
                self.say("Shutting connection down...")
                self.say("Connection is down.")

    # -- commands ----------------------------------------------------------------------------
    def handle(self, line: str) -> str:
        """The reply to one command line (also logged as 'Response to client sent')."""
        reply = self._reply(line.strip())
        self.say(f"Response to client sent: {reply}")
        return reply

    def _reply(self, cmd: str) -> str:
        if any(cmd.startswith(c) for c in self._error_cmds):
            return f"Error: simulated fault injected for '{cmd[:40]}'"
        if cmd == "Hello":
            return HELLO_REPLY
        if cmd == "Identify":
            desc = self.source.description.replace(",", ";")
            return (
                f"{SIMULATOR_MODEL},1000,1,1,1,1,0,0,1,version={SIMULATOR_VERSION},"
                f"OS={platform.system()} {platform.release()},mode=power,SIMULATED ANALYZER;{desc}"
            )
        if cmd == "RR":
            return f"Ranges,{self.amps.auto},{self.amps.value:.6f},{self.volts.auto},{self.volts.value:.6f}"
        parts = cmd.split(",")
        if parts[0] == "SR" and len(parts) == 3 and parts[1] in ("V", "A"):
            rng, name, unit = (self.volts, "Volt", "V") if parts[1] == "V" else (self.amps, "Amp", "A")
            msg = rng.set(parts[2])
            if msg is None:
                return f"Error: invalid {name.lower()} range '{parts[2][:40]}'"
            self.say(f"{name} range {msg}{'' if rng.auto else unit}")
            return f"Range {parts[1]} changed"
        if parts[0] == "Go":
            return self._go(cmd)
        if cmd == "Stop":
            if not self._sampling.is_set():
                return "Error: no measurement to stop"
            self._stop_sampling()
            return "Stopping untimed measurement"
        return f"Error: unknown command '{cmd[:40]}'"

    def _go(self, cmd: str) -> str:
        parts = cmd.split(",", 3)
        if len(parts) != 4 or not parts[1].isdigit() or not parts[2].isdigit() or not parts[3]:
            return "Error: expected Go,<period ms>,<duration s>,<mark>"
        period, duration, mark = int(parts[1]), int(parts[2]), parts[3]
        if not 10 <= period <= 3_600_000:
            return f"Error: sample period {period} ms is out of range 10..3600000"
        if duration != 0:
            return "Error: only untimed measurements (duration 0) are simulated"
        if self._sampling.is_set():
            return "Error: a measurement is already running"
        self.say(f"Go with mark '{mark}'")
        self._stats = []
        self._sampling.set()
        self._sampler = threading.Thread(
            target=self._sample_loop, args=(period / 1000.0, mark), name="analyzer-sim-samples", daemon=True
        )
        self._sampler.start()
        return _go_reply(period)

    def _stop_sampling(self) -> None:
        if not self._sampling.is_set():
            return
        self._sampling.clear()
        if self._sampler is not None and self._sampler is not threading.current_thread():
            self._sampler.join()
        self._sampler = None
        st = self._stats
        self.say("Completed test")
        if st:
            self.say(
                f"Avg watts {sum(st) / len(st):.6f}, min watts {min(st):.6f}, max watts {max(st):.6f}, "
                f"samples {len(st)}, errors 0, valid {len(st)}"
            )
        else:
            self.say("Avg watts 0.000000, min watts 0.000000, max watts 0.000000, samples 0, errors 0, valid 0")

    def _sample_loop(self, period: float, mark: str) -> None:
        next_t = time.monotonic() + period
        while True:
            # Wait for the next tick, but wake at once when the measurement is stopped.
            while True:
                left = next_t - time.monotonic()
                if not self._sampling.is_set():
                    return
                if left <= 0:
                    break
                time.sleep(min(left, 0.05))
            next_t += period
            try:
                r = self.source.read()
            except SourceError as exc:
                self.say(f"ERROR: {exc}")
                continue
            line = format_sample(datetime.now(timezone.utc), r.watts, r.volts, r.amps, r.pf, mark)
            if self._log is not None:
                self._log.write(line + "\n")
                self._log.flush()
            self._stats.append(r.watts)
            self._samples_total += 1
            if self._die_after is not None and self._samples_total >= self._die_after:
                self.say(f"ERROR: simulated fault: the analyzer dies after {self._samples_total} samples")
                self._on_die()
                return


def build_parser() -> argparse.ArgumentParser:
    """PTDaemon's command line (the options the v1.1 director passes), plus the simulator's own."""
    p = argparse.ArgumentParser(
        prog="edgeperf power analyzer-sim",
        description="A simulated SPEC PTDaemon for development and CI. It is NOT an analyzer: "
        "what it logs is never an MLPerf power result.",
    )
    p.add_argument("-l", dest="logfile", metavar="LOGFILE", help="sample log file (PTDaemon -l)")
    p.add_argument("-p", dest="port", type=int, default=8888, metavar="PORT", help="TCP port (default 8888)")
    p.add_argument("-b", dest="board", type=int, metavar="BOARD", help="GPIB board (accepted, unused)")
    p.add_argument("-c", dest="channel", metavar="CH", help="channel(s), N or N,M (accepted, recorded)")
    for flag, what in (("-n", "network"), ("-g", "GPIB"), ("-y", "Yokogawa TMCTL"), ("-U", "USB")):
        p.add_argument(flag, action="store_true", help=f"{what} interface (accepted, unused)")
    p.add_argument("-t", dest="temperature", action="store_true", help="temperature mode (not simulated)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--source", help="constant:W, replay:spl.txt, rapl or nvml[:INDEX] (default: DEVICEPORT)")
    p.add_argument("--fault", action="append", default=[], help="test faults: die-after-samples:N, error-reply:CMD")
    p.add_argument("device_type", type=int, metavar="TYPE", help="PTDaemon device type (recorded)")
    p.add_argument("device_port", metavar="DEVICEPORT", help="device port; the power source when --source is absent")
    return p


def _close_with_parent(sim: AnalyzerSimulator) -> None:
    """Stop when the process that started us (the director) is gone, so no simulator is orphaned."""
    parent = os.getppid()

    def watch() -> None:
        while not sim._closing:
            if os.getppid() != parent:
                sim.say("The director exited; stopping the simulator")
                sim.close()
                return
            time.sleep(0.5)

    threading.Thread(target=watch, name="analyzer-sim-parent", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    """Run the simulator until SIGTERM/SIGINT; exit status 2 on a usage or source error."""
    import signal

    args = build_parser().parse_args(argv)
    if args.temperature:
        print("edgeperf analyzer-sim: temperature mode (-t) is not simulated", file=sys.stderr)
        return 2
    try:
        source = open_source(args.source or args.device_port)
        sim = AnalyzerSimulator(
            source,
            port=args.port,
            log_path=args.logfile,
            device_type=args.device_type,
            device_port=args.device_port,
            channel=args.channel,
            host=args.host,
            faults=args.fault,
        )
    except (SourceError, OSError) as exc:
        print(f"edgeperf analyzer-sim: {exc}", file=sys.stderr)
        return 2
    try:
        sim.start()
    except OSError as exc:
        print(
            f"edgeperf analyzer-sim: cannot listen on {args.host}:{args.port} ({exc.strerror or exc})", file=sys.stderr
        )
        return 2

    def _term(signum, frame):
        sim.close()

    signal.signal(signal.SIGTERM, _term)
    _close_with_parent(sim)
    try:
        sim.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
