"""Protocol fuzzing: 2,000+ random and malformed lines to the director and to the simulator.

A seeded generator mixes protocol words with wrong arity, junk bytes (invalid UTF-8, NUL, lone CR,
very long fields). Every line must get exactly one reply line, and each reply must be one the
protocol defines (``OK...``, ``Error...``, a float for ``time``, PTDaemon's fixed replies); after
the storm both still answer normally.
"""

from __future__ import annotations

import io
import random
import re
import socket
import uuid

from edgeperf.power.analyzer_sim import AnalyzerSimulator
from edgeperf.power.sources import open_source
from power_helpers import running_director

LINES = 1100  # per target; at least 1,000 survive the filters below, so over 2,000 in all

_WORDS = [
    "mlcommons/power client v3",
    "time",
    "set_ntp",
    "new",
    "session",
    "download",
    "cleanup",
    "start",
    "stop",
    "ranging",
    "testing",
    "done",
    "*",
    "Hello",
    "Identify",
    "RR",
    "SR",
    "V",
    "A",
    "Auto",
    "Go",
    "Stop",
    "1000",
    "0",
    "-1",
    "1e309",
    "nan",
    "power/server.json",
    "../../etc/passwd",
    "",
]


def _junk(rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))).replace(b"\n", b"")
    if kind == 1:
        return ",".join(rng.choice(_WORDS) for _ in range(rng.randrange(1, 7))).encode()
    if kind == 2:
        return b"\xff\xfe" + rng.choice(_WORDS).encode() + b"\x00\r"
    if kind == 3:
        return ("x" * rng.randrange(100, 3000)).encode()
    if kind == 4:
        return f"new,{rng.choice(['', 'a b', 'ok', '%%'])},{rng.choice([str(uuid.uuid4()), 'zz', ''])}".encode()
    return f"{rng.choice(['SR', 'Go', 'session'])},{rng.choice(_WORDS)},{rng.choice(_WORDS)}".encode()


def _storm(port: int, lines: list[bytes], first: bytes | None) -> list[bytes]:
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = s.makefile("rwb")
    replies = []
    try:
        if first is not None:
            f.write(first + b"\r\n")
            f.flush()
            replies.append(f.readline())
        for line in lines:
            f.write(line + b"\r\n")
            f.flush()
            reply = f.readline()
            assert reply.endswith(b"\r\n"), (line, reply)
            replies.append(reply)
    finally:
        f.close()
        s.close()
    return replies


def test_fuzz_director(tmp_path):
    rng = random.Random(13)
    # A bare "stop" legitimately makes the director exit after this client; keep it serving.
    lines = [line for line in (_junk(rng) for _ in range(LINES)) if line.strip(b"\r\x00") != b"stop"]
    assert len(lines) >= 1000
    with running_director(tmp_path, settle=0.0) as d:
        replies = _storm(d.port, lines, b"mlcommons/power client v3")
        assert replies[0] == b"mlcommons/power server v3\r\n"
        for line, reply in zip(lines, replies[1:]):
            text = reply.decode()
            ok = re.fullmatch(r"(OK( \S+,[0-9a-f-]{36})?|Error.*|\d+\.\d+)\r\n", text)
            assert ok, (line, reply)
            if reply.startswith(b"OK ") or re.fullmatch(rb"\d+\.\d+\r\n", reply):
                assert line.startswith((b"new,", b"time")), (line, reply)
        assert sum(r.startswith(b"Error") for r in replies) > LINES // 2
        # still serving: a normal client gets a normal answer
        again = _storm(d.port, [b"time"], b"mlcommons/power client v3")
        assert re.fullmatch(rb"\d+\.\d+\r\n", again[1])


def test_fuzz_simulator(tmp_path):
    rng = random.Random(1313)
    lines = [_junk(rng) for _ in range(LINES)]
    lines = [line for line in lines if not line.startswith(b"Go,")]  # a real Go would start sampling
    lines += [b"Go,0,0,m", b"Go,1000,5,m", b"Go,x,0,m", b"Go,1000,0,", b"SR,V,1e309", b"SR,A,nan", b"SR,A,-0"]
    assert len(lines) >= 1000
    sim = AnalyzerSimulator(open_source("constant:10"), port=0, log_path=str(tmp_path / "log"), console=io.StringIO())
    sim.start()
    try:
        replies = _storm(sim.port, lines, None)
        fixed = {b"Hello, PTDaemon here!\r\n", b"Range V changed\r\n", b"Range A changed\r\n"}
        for line, reply in zip(lines, replies):
            assert reply in fixed or reply.startswith((b"Error", b"Ranges,", b"EdgeperfSimulator,")), (line, reply)
        assert all(r.startswith(b"Error") for r in replies[-7:])
        assert _storm(sim.port, [b"Hello"], None) == [b"Hello, PTDaemon here!\r\n"]
    finally:
        sim.close()
    assert (tmp_path / "log").read_text() == ""  # no measurement was ever started
