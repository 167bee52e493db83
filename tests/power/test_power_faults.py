"""Faults during a power session: each ends with one clear message and no power result (issue 13).

The director runs the real simulator (a subprocess) with injected faults; the workload is a fake
LoadGen run writing only the detail/summary pair the client reads.
"""

from __future__ import annotations

import socket
import time
import uuid

import pytest

from edgeperf.power.client import PowerClientError, PowerClientOptions, run_power_session
from power_helpers import fake_loadgen, running_director

pytestmark = pytest.mark.slow


def _no_result(tmp_path) -> None:
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == []  # no staging left


def _opts(d) -> PowerClientOptions:
    return PowerClientOptions("127.0.0.1", d.port, skip_time_sync=True, reply_timeout=60)


def test_analyzer_dies_midway(tmp_path):
    with running_director(tmp_path, faults=["die-after-samples:2"]) as d:
        with pytest.raises(
            PowerClientError,
            match=r"refused 'session,[^']*,stop,ranging': Error: analyzer: the "
            r"analyzer died during the measurement \(exit status 3\)$",
        ):
            run_power_session(_opts(d), fake_loadgen(2.6), tmp_path / "out")
        assert d.session is None  # the session was ended, not left half-open
    _no_result(tmp_path)


def test_analyzer_answers_with_an_error(tmp_path):
    with running_director(tmp_path, faults=["error-reply:Go"]) as d:
        with pytest.raises(
            PowerClientError,
            match=r"refused 'session,[^']*,start,ranging': Error: analyzer: the "
            r"analyzer answered \"Error: simulated fault injected for "
            r"'Go,1000,0,\S*_ranging'\" to 'Go,1000,0,",
        ):
            run_power_session(_opts(d), fake_loadgen(0.5), tmp_path / "out")
    _no_result(tmp_path)


def test_director_connection_drops(tmp_path):
    with running_director(tmp_path) as d:

        def workload(mode, folder):
            d.shutdown()  # the director goes away while the workload runs
            fake_loadgen(0.3)(mode, folder)

        with pytest.raises(
            PowerClientError,
            match=r"the power server 127\.0\.0\.1:\d+ stopped answering during "
            r"'session,[^']*,stop,ranging'",
        ):
            run_power_session(_opts(d), workload, tmp_path / "out")
    _no_result(tmp_path)


def test_director_unreachable(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connections are refused
        with pytest.raises(PowerClientError, match=rf"cannot connect to the power server 127\.0\.0\.1:{port}"):
            run_power_session(
                PowerClientOptions("127.0.0.1", port, skip_time_sync=True), fake_loadgen(0.1), tmp_path / "out"
            )
    _no_result(tmp_path)


def test_client_drops_midway_and_the_director_serves_the_next(tmp_path):
    with running_director(tmp_path) as d:
        s = socket.create_connection(("127.0.0.1", d.port))
        f = s.makefile("rwb")
        for line in ("mlcommons/power client v3", f"new,,{uuid.uuid4()}", "session,*,start,ranging"):
            f.write(line.encode() + b"\r\n")
            f.flush()
            f.readline()
        analyzer = d.session.ptd._process
        assert analyzer is not None and analyzer.poll() is None
        f.close()
        s.close()  # the client vanishes during the ranging run
        for _ in range(200):
            if d.session is None and analyzer.poll() is not None:
                break
            time.sleep(0.05)
        assert d.session is None and analyzer.poll() is not None  # session dropped, analyzer stopped
        result = run_power_session(_opts(d), fake_loadgen(1.2), tmp_path / "out")
    assert (result.output / "run_1" / "spl.txt").stat().st_size > 0
