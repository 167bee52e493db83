"""Byte-level transcripts of the two protocols, written from the spec (power.md §3.1-§3.2, §4.2, §4.3).

Director side: raw socket bytes in, the exact reply bytes out (CR LF framing, the magic exchange,
the bare float of ``time``, the error replies, the chunked download). Simulator side: PTDaemon's
exact replies to the commands the v1.1 director sends, and its sample-line format. Also the
director's reading of a real ranging spl.txt (Krai): the testing range it sends must be the one
the real director sent, as recorded in that result's server.json.
"""

from __future__ import annotations

import io
import json
import re
import socket
import uuid

import pytest

from edgeperf.power.analyzer_sim import AnalyzerSimulator
from edgeperf.power.proto import LineChannel, ProtocolError
from edgeperf.power.ptd_log import RangingError, extract_mark, max_volts_amps
from edgeperf.power.server_config import ConfigError, load_server_config
from edgeperf.power.sources import SourceError, open_source
from fixture_paths import FIXTURES
from power_helpers import fake_loadgen, free_port, running_director, write_server_config

KRAI = FIXTURES / "closed/Krai/results/xavier-power.0-fan.cool-tflite-v2.5.0-ruy/resnet50/singlestream/performance"
GO_REPLY = b"Starting untimed measurement, maximum 500000 samples at 1000ms with 0 rampup samples\r\n"


class Raw:
    """A raw client: write bytes, read exact reply bytes."""

    def __init__(self, port: int) -> None:
        self.s = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.s.sendall(data)

    def line(self) -> bytes:
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self.buf += self.s.recv(65536)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def ask(self, text: str) -> bytes:
        self.send(text.encode() + b"\r\n")
        return self.line()

    def close(self) -> None:
        self.s.close()


@pytest.fixture
def director(tmp_path):
    with running_director(tmp_path, settle=0.0) as d:
        yield d


def test_director_transcript_errors_and_framing(director):
    c = Raw(director.port)
    assert c.ask("mlcommons/power client v3") == b"mlcommons/power server v3\r\n"
    assert re.fullmatch(rb"\d+\.\d+\r\n", c.ask("time"))
    c.send(b"time\n")  # LF alone is a line end too
    assert re.fullmatch(rb"\d+\.\d+\r\n", c.line())
    assert c.ask("session,*,start,ranging") == b"Error: unknown session\r\n"
    assert c.ask("new,bad label!," + str(uuid.uuid4())) == b"Error: invalid label\r\n"
    assert c.ask("new,,not-a-uuid") == b"Error: invalid uuid\r\n"
    assert c.ask("bogus") == b"Error\r\n"
    assert c.ask("download,x,power/server.json") == b"Error\r\n"
    assert c.ask("cleanup,x") == b"Error\r\n"
    reply = c.ask(f"new,lbl-1,{uuid.uuid4()}")
    m = re.fullmatch(rb"OK (\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_lbl-1),([0-9a-f-]{36})\r\n", reply)
    assert m, reply
    sid = m.group(1).decode()
    assert c.ask(f"session,{sid},frobnicate") == b"Error Unknown session command\r\n"
    assert c.ask("session,other,done") == b"Error: unknown session\r\n"
    assert c.ask(f"session,{sid},stop,testing") == b"Error\r\n"  # not started: out of order
    assert c.ask(f"session,{sid},start,testing") == b"Error\r\n"  # testing before ranging
    c.close()


def test_director_wrong_magic_gets_magic_then_close(director):
    c = Raw(director.port)
    assert c.ask("mlcommons/power client v2") == b"mlcommons/power server v3\r\n"
    with pytest.raises(EOFError):
        c.line()
    c.close()


def test_director_full_session_transcript_and_download(director, tmp_path):
    c = Raw(director.port)
    c.ask("mlcommons/power client v3")
    sid = c.ask(f"new,,{uuid.uuid4()}")[3:].split(b",")[0].decode()
    workload = fake_loadgen(1.2)
    for mode in ("ranging", "testing"):
        assert c.ask(f"session,{sid},start,{mode}") == b"OK\r\n"
        assert c.ask(f"session,*,start,{mode}") == b"OK\r\n"  # repeated: idempotent
        workload(mode, tmp_path)
        assert c.ask(f"session,{sid},stop,{mode}") == b"OK\r\n"
        assert c.ask(f"session,{sid},stop,{mode}") == b"OK\r\n"
    assert c.ask(f"session,{sid},done") == b"OK\r\n"
    assert c.ask(f"download,{sid},power/client.json") == b"Error\r\n"  # not a director file
    files = {}
    for rel in ("power/ptd_logs.txt", "ranging/spl.txt", "power/server.json", "power/server.log", "run_1/spl.txt"):
        c.send(f"download,{sid},{rel}\r\n".encode())
        data = b""
        while True:
            header = c.line()
            assert re.fullmatch(rb"\d+\r\n", header), header
            n = int(header)
            if n == 0:
                break
            data += c.exact(n)
        files[rel] = data
    server = json.loads(files["power/server.json"])
    assert list(server)[:9] == [
        "version",
        "timezone",
        "modules",
        "sources",
        "messages",
        "uuid",
        "session_name",
        "results",
        "phases",
    ]
    assert server["session_name"] == sid and server["debug"] is True  # settle 0 s < 10 s
    assert server["edgeperf"]["simulated_analyzer"] is True and server["edgeperf"]["time_sync"] == "skipped"
    assert [m["cmd"] for m in server["messages"]][-1] == f"session,{sid},stop,testing"
    import hashlib

    for rel in ("power/ptd_logs.txt", "ranging/spl.txt", "run_1/spl.txt", "power/server.log"):
        assert server["results"][rel] == hashlib.sha1(files[rel]).hexdigest()
    for line in files["run_1/spl.txt"].decode().splitlines():
        assert re.fullmatch(
            r"Time,\d\d-\d\d-\d{4} \d\d:\d\d:\d\d\.\d{3},Watts,50\.000000,Volts,230\.000000,"
            rf"Amps,0\.217391,PF,1\.000000,Mark,{sid}_testing",
            line,
        ), line
    assert [len(server["phases"][m]) for m in ("ranging", "testing")] == [4, 4]
    assert c.ask(f"cleanup,{sid}") == b"OK\r\n"
    assert c.ask(f"download,{sid},run_1/spl.txt") == b"Error: no such file in the session\r\n"
    c.close()


@pytest.fixture
def sim(tmp_path):
    out = io.StringIO()
    s = AnalyzerSimulator(open_source("constant:36.8"), port=0, log_path=str(tmp_path / "log.txt"), console=out)
    s.start()
    try:
        yield s, out
    finally:
        s.close()


def test_simulator_transcript(sim, tmp_path):
    s, console = sim
    c = Raw(s.port)
    assert c.ask("Hello") == b"Hello, PTDaemon here!\r\n"
    ident = c.ask("Identify").decode()
    assert ident.startswith("EdgeperfSimulator,") and "version=0.0-sim" in ident and "SIMULATED" in ident
    assert c.ask("RR") == b"Ranges,0,20.000000,0,300.000000\r\n"
    assert c.ask("SR,V,Auto") == b"Range V changed\r\n"
    assert c.ask("SR,A,0.321000") == b"Range A changed\r\n"
    assert c.ask("RR") == b"Ranges,0,0.500000,1,300.000000\r\n"  # PTD picks the range that fits
    assert c.ask("SR,V,120.810000") == b"Range V changed\r\n"
    assert c.ask("RR") == b"Ranges,0,0.500000,0,150.000000\r\n"
    assert c.ask("Stop") == b"Error: no measurement to stop\r\n"
    assert c.ask("Go,1000,0,abc_ranging") == GO_REPLY
    assert c.ask("Go,1000,0,abc_ranging").startswith(b"Error")  # already running
    import time

    time.sleep(2.3)
    assert c.ask("Stop") == b"Stopping untimed measurement\r\n"
    assert c.ask("SR,A,-3").startswith(b"Error")
    assert c.ask("Watts").startswith(b"Error")  # not a v1.1 command
    c.close()
    lines = (tmp_path / "log.txt").read_text().splitlines()
    assert len(lines) == 2
    for line in lines:
        assert re.fullmatch(
            r"Time,\d\d-\d\d-\d{4} \d\d:\d\d:\d\d\.\d{3},Watts,36\.800000,Volts,230\.000000,"
            r"Amps,0\.160000,PF,1\.000000,Mark,abc_ranging",
            line,
        ), line
    text = console.getvalue()
    assert "Go with mark 'abc_ranging'" in text and "Completed test" in text
    assert "samples 2, errors 0, valid 2" in text
    assert "Uncertainty checking for Yokogawa" not in text and "SIMULATOR" in text
    assert re.search(r"^\d\d-\d\d-\d{4} \d\d:\d\d:\d\d\.\d{3}: Response to client sent: Range V changed$", text, re.M)


def test_ranging_maximum_of_a_real_ranging_log():
    """Krai's ranging spl.txt -> the SR,V / SR,A the real director sent for testing (its server.json)."""
    server = json.loads((KRAI / "power/server.json").read_text())
    sent = [m["cmd"] for m in server["ptd_messages"]][7:9]
    mark = server["session_name"] + "_ranging"
    text = (KRAI / "ranging/spl.txt").read_bytes().decode()
    volts, amps = max_volts_amps(text, mark)
    assert [f"SR,V,{volts}", f"SR,A,{amps}"] == sent
    assert extract_mark(text, mark) == text  # every line of it carries the mark
    assert extract_mark(text + "Time,x,NOTICE,foo\n", mark) == text
    with pytest.raises(RangingError, match="no sample carries the mark"):
        max_volts_amps(text, "other_ranging")
    with pytest.raises(RangingError, match="must be positive|both must be positive"):
        max_volts_amps("Time,08-07-2021 10:54:55.000,Watts,-1,Volts,-1,Amps,-3,PF,0,Mark,m\n", "m")


def test_multichannel_ranging_uses_the_configured_channels():
    line = (
        "Time,08-12-2021 04:28:11.793,Watts,806.000000,Volts,-1.000000,Amps,-1.000000,PF,-1.000000,Mark,m,"
        "Ch1,Watts,326.200000,Volts,129.330000,Amps,4.110000,PF,0.613700,"
        "Ch2,Watts,479.800000,Volts,124.570000,Amps,4.208000,PF,0.937500\n"
    )
    assert max_volts_amps(line, "m", [1, 2]) == ("129.330000", "4.208000")
    assert max_volts_amps(line, "m", [2]) == ("124.570000", "4.208000")
    with pytest.raises(RangingError, match="extra ptd channels"):
        max_volts_amps(line, "m", [3])


def test_line_channel_rejects_overlong_lines():
    a, b = socket.socketpair()
    try:
        a.sendall(b"x" * 70000 + b"\n")
        with pytest.raises(ProtocolError, match="longer than"):
            LineChannel(b, timeout=5).recv_line()
    finally:
        a.close()
        b.close()


def test_server_config_errors(tmp_path):
    cfg = write_server_config(tmp_path / "ok.conf", ptd_port=free_port())
    loaded = load_server_config(cfg)
    assert loaded.ptd_command("/x/log")[-6:] == ["-l", "/x/log", "-p", str(loaded.ptd_port), "49", "constant:50"]
    bad = tmp_path / "bad.conf"
    for text, message in [
        (
            "[server]\nntpServer=x\n[ptd]\nptd=p\ndeviceType=77\ninterfaceFlag=\ndevicePort=d\n",
            r"channel must be set for the multichannel device type 77",
        ),
        (
            "[server]\nntpServer=x\n[ptd]\nptd=p\ndeviceType=48\ninterfaceFlag=\ndevicePort=d\nchannel=1,2\n",
            r"channel must be one number",
        ),
        (
            "[server]\nntpServer=x\nlisten=here 1\n[ptd]\nptd=p\ndeviceType=8\ninterfaceFlag=\ndevicePort=d\n",
            r"'here' is not an IP address",
        ),
        ("[server]\n[ptd]\nptd=p\n", r"\[server\] ntpServer is missing"),
        (
            "[server]\nntpServer=x\n[ptd]\nptd=p\ndeviceType=eight\ninterfaceFlag=\ndevicePort=d\n",
            r"\[ptd\] deviceType = 'eight' is not an integer",
        ),
        (
            "[server]\nntpServer=x\n[ptd]\nptd=p\ndeviceType=8\ninterfaceFlag=-q\ndevicePort=d\n",
            r"interfaceFlag = '-q'",
        ),
    ]:
        bad.write_text(text)
        with pytest.raises(ConfigError, match=message):
            load_server_config(bad)
    bad.write_text("[server]\nntpServer=x\nfoo=1\n[ptd]\nptd=p\ndeviceType=8\ninterfaceFlag=\ndevicePort=d\n[extra]\n")
    assert len(load_server_config(bad).warnings) == 2


def test_power_sources(tmp_path):
    replay = open_source(f"replay:{KRAI / 'run_1/spl.txt'}")
    first = replay.read()
    assert (first.watts, first.volts, first.amps, first.pf) == (6.75, 248.53, 0.07765, 0.3496)
    for spec, message in [
        ("constant:x", "expected constant:<watts>"),
        ("replay:/nonexistent/spl.txt", "cannot read"),
        ("rapl:/nonexistent", "no RAPL zones"),
        ("volts:1", "expected constant:W"),
        ("nvml:x", "expected nvml or nvml:<GPU index>"),
    ]:
        with pytest.raises(SourceError, match=message):
            open_source(spec)
    zone = tmp_path / "intel-rapl:0"
    zone.mkdir()
    (zone / "energy_uj").write_text("1000000\n")
    (zone / "max_energy_range_uj").write_text("2000000\n")
    rapl = open_source(f"rapl:{tmp_path}")
    (zone / "energy_uj").write_text("500000\n")  # wrapped: +1.5 J since the first reading
    assert rapl.read().watts > 0
