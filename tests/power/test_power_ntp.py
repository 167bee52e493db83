"""The NTP clock check (power.md §7.2) against a real NTP server: Debian's chronyd on loopback,
plus a hand-made NTPv4 server whose clock is 1 s ahead and a port where nothing answers."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("ntplib")

from edgeperf.power.client import PowerClientError, PowerClientOptions, run_power_session  # noqa: E402
from edgeperf.power.director import DirectorError  # noqa: E402
from edgeperf.power.time_sync import TimeSyncError, check_ntp  # noqa: E402
from power_helpers import (
    chronyd_on_loopback,
    fake_loadgen,
    free_udp_port,
    running_director,  # noqa: E402
    skewed_ntp_server,
)


@pytest.fixture(scope="module")
def chrony(tmp_path_factory):
    with chronyd_on_loopback(tmp_path_factory.mktemp("chrony")) as address:
        yield address


def test_check_against_chrony_passes(chrony):
    offset, delay = check_ntp(chrony)
    assert abs(offset) < 0.2 and delay >= 0


@pytest.mark.slow
def test_session_with_ntp_records_the_check(chrony, tmp_path):
    with running_director(tmp_path, skip_time_sync=False, ntp=chrony) as d:
        run_power_session(
            PowerClientOptions("127.0.0.1", d.port, ntp_server=chrony), fake_loadgen(1.2), tmp_path / "out"
        )
    for side in ("client", "server"):
        doc = json.loads((tmp_path / "out/power" / f"{side}.json").read_text())
        assert doc["edgeperf"]["time_sync"] == "ntp"
    assert "NTP:offset = " in (tmp_path / "out/power/client.log").read_text()


def test_clock_one_second_off_fails():
    with skewed_ntp_server(1.0) as address:
        with pytest.raises(TimeSyncError, match=r"the clock is (999|1000)\.\d+ ms off NTP server"):
            check_ntp(address)


def test_unreachable_ntp_server_fails():
    address = f"127.0.0.1:{free_udp_port()}"
    with pytest.raises(TimeSyncError, match="did not answer"):
        check_ntp(address, timeout=0.3)


def test_director_refuses_to_start_when_the_ntp_check_fails(tmp_path):
    with skewed_ntp_server(5.0) as address:
        with pytest.raises(DirectorError, match="time check failed: the clock is .* ms off"):
            with running_director(tmp_path, skip_time_sync=False, ntp=address):
                pass


def test_client_ntp_failure_leaves_no_power_result(chrony, tmp_path):
    with running_director(tmp_path, skip_time_sync=False, ntp=chrony) as d:
        with skewed_ntp_server(-0.5) as bad:
            with pytest.raises(PowerClientError, match=r"time check failed: the clock is -(499|500)\.\d+ ms off"):
                run_power_session(
                    PowerClientOptions("127.0.0.1", d.port, ntp_server=bad), fake_loadgen(0.5), tmp_path / "out"
                )
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
