"""The clearly labelled non-standard options (issue 13 item 5) and the two ``edgeperf power`` commands.

* testing without ranging at a fixed range: one workload run, no ranging/, recorded as no_ranging;
* low-current devices: a ranging run with no positive maximum fails, unless the director was given
  a low-current range, which is then used and recorded;
* ranging vs testing differing by more than 5 %: reported to the user and recorded in client.json.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from edgeperf.power.client import PowerClientError, PowerClientOptions, run_power_session
from power_helpers import fake_loadgen, free_port, running_director, write_server_config

pytestmark = pytest.mark.slow

# The first ranging samples of a low-current device: negative volts and amps (power.md §4.3).
NEGATIVE = (
    "Time,08-04-2021 11:39:20.088,Watts,-11.200000,Volts,-120.500000,Amps,-3.168000,PF,0.396000,Mark,old_testing\n"
)


def _opts(d, **kw) -> PowerClientOptions:
    return PowerClientOptions("127.0.0.1", d.port, skip_time_sync=True, **kw)


def test_fixed_range_testing_without_ranging(tmp_path):
    runs = []

    def workload(mode, folder):
        runs.append(mode)
        fake_loadgen(1.2)(mode, folder)

    with running_director(tmp_path, fixed_range=("230", "0.5")) as d:
        run_power_session(_opts(d, no_ranging=True), workload, tmp_path / "out")
    assert runs == ["testing"]
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["power", "run_1"]
    server = json.loads((out / "power/server.json").read_text())
    assert server["edgeperf"]["no_ranging"] == {"fixed_range": ["230", "0.5"]}
    assert json.loads((out / "power/client.json").read_text())["edgeperf"]["no_ranging"] is True
    cmds = [m["cmd"] for m in server["ptd_messages"]]
    assert cmds[3:5] == ["SR,V,230", "SR,A,0.5"] and not any(c.endswith("_ranging") for c in cmds)


def test_testing_without_ranging_is_refused_without_a_fixed_range(tmp_path):
    with running_director(tmp_path) as d:
        with pytest.raises(PowerClientError, match=r"refused 'session,[^']*,start,testing': Error$"):
            run_power_session(_opts(d, no_ranging=True), fake_loadgen(0.3), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _negative_spl(tmp_path):
    spl = tmp_path / "negative_spl.txt"
    spl.write_text(NEGATIVE)
    return f"replay:{spl}"


def test_low_current_ranging_fails_by_default(tmp_path):
    with running_director(tmp_path, source=_negative_spl(tmp_path)) as d:
        with pytest.raises(
            PowerClientError,
            match=r"stop,ranging': Error: ranging samples give max volts "
            r"-120\.500000 and max amps -3\.168000; both must be positive",
        ):
            run_power_session(_opts(d), fake_loadgen(1.2), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_low_current_range_option(tmp_path):
    with running_director(tmp_path, source=_negative_spl(tmp_path), low_current_range=("150", "0.5")) as d:
        run_power_session(_opts(d), fake_loadgen(1.2), tmp_path / "out")
    server = json.loads((tmp_path / "out/power/server.json").read_text())
    used = server["edgeperf"]["low_current_range_used"]
    assert used["range"] == ["150", "0.5"] and "both must be positive" in used["reason"]
    assert [m["cmd"] for m in server["ptd_messages"]][7:9] == ["SR,V,150", "SR,A,0.5"]


def test_ranging_vs_testing_difference_is_reported(tmp_path):
    speeds = {"ranging": fake_loadgen(1.0, result=100.0), "testing": fake_loadgen(1.5, result=90.0)}
    events = []
    with running_director(tmp_path) as d:
        result = run_power_session(
            _opts(d), lambda mode, folder: speeds[mode](mode, folder), tmp_path / "out", on_event=events.append
        )
    assert len(result.warnings) == 2
    assert "lasted" in result.warnings[0] and "v1.1 rejects this" in result.warnings[0]
    assert "Samples per second was 100 in ranging and 90 in testing (10.0% apart" in result.warnings[1]
    assert sum("WARNING" in e for e in events) == 2
    client = json.loads((tmp_path / "out/power/client.json").read_text())
    assert client["edgeperf"]["ranging_vs_testing"] == result.warnings


def _edgeperf(*args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "edgeperf.cli.main", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def test_cli_analyzer_sim_errors_are_one_line(tmp_path):
    r = _edgeperf("power", "analyzer-sim", "-l", tmp_path / "log", "-p", free_port(), "49", "rapl:/nonexistent")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "edgeperf analyzer-sim: rapl: no RAPL zones under /nonexistent (this machine has no Linux powercap RAPL "
        "interface; use constant:W or replay:spl.txt)"
    ]
    r = _edgeperf("power", "analyzer-sim", "-h")
    assert r.returncode == 0 and "-l LOGFILE" in r.stdout and "NOT an analyzer" in r.stdout


def test_cli_server_bad_config_is_one_line(tmp_path):
    cfg = write_server_config(tmp_path / "s.conf", ptd_port=free_port())
    cfg.write_text(cfg.read_text().replace("deviceType = 49", "deviceType = 77"))
    r = _edgeperf("power", "server", "--config", cfg, "--skip-time-sync")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1] == (
        f"edgeperf: {cfg}: [ptd] channel must be set for the multichannel device type 77"
    )
    r = _edgeperf("power", "server", "--config", tmp_path / "missing.conf")
    assert r.returncode == 2 and "configuration file not found" in r.stderr
