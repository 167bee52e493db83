"""The demo's power step on edgeperf's analyzer simulator: a director and the simulator on loopback.

:func:`simulator_power_measurer` gives a :data:`~edgeperf.workflow.demo.PowerMeasurer`, or None
when this build of edgeperf has no power director, client and simulator (``edgeperf.power``'s
``director``, ``client`` and ``analyzer_sim`` modules); the demo then skips its power step and says so.

The measurer writes a director configuration whose analyzer is ``python -m
edgeperf.power.analyzer_sim`` with a constant 50 W source, serves the director from a thread on an
ephemeral 127.0.0.1 port, runs a power session (ranging, then testing) whose workload is the demo's
Offline run, and always shuts the director down. The simulator's numbers are never a power
measurement; the director records the shortened settle pauses (``debug``) and the skipped clock
check in server.json.
"""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path
from typing import Any, Callable

__all__ = ["simulator_power_measurer", "SIMULATED_WATTS", "SETTLE_S"]

#: The simulator's constant draw (watts): the demo shows the flow, not a measurement.
SIMULATED_WATTS = 50
#: Settle pause of the director around range changes (the rules' 10 s would add 40 s).
SETTLE_S = 0.5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def simulator_power_measurer() -> Callable[[Callable[[Path], Any], Path], Path] | None:
    """The power step on the analyzer simulator, or None when this build has no power simulator."""
    try:
        from ..power.client import PowerClientOptions, run_power_session
        from ..power.director import Director, DirectorOptions
        from ..power.server_config import load_server_config
    except ImportError:
        return None

    def measure(run: Callable[[Path], Any], folder: Path) -> Path:
        folder = Path(folder)
        setup = folder.parent / "power-director"
        setup.mkdir(parents=True, exist_ok=True)
        conf = setup / "server.conf"
        conf.write_text(
            "[server]\n"
            "ntpServer = 127.0.0.1:1\n"  # not asked: the clock check is skipped (one machine)
            "listen = 127.0.0.1 0\n"
            "[ptd]\n"
            f"ptd = {sys.executable} -m edgeperf.power.analyzer_sim\n"
            f"networkPort = {_free_port()}\n"
            "deviceType = 49\n"
            "interfaceFlag =\n"
            f"devicePort = constant:{SIMULATED_WATTS}\n",
            encoding="utf-8",
        )
        director = Director(load_server_config(conf), DirectorOptions(settle_s=SETTLE_S, skip_time_sync=True))
        port = director.bind()
        thread = threading.Thread(target=director.serve_forever, daemon=True, name="edgeperf-demo-director")
        thread.start()
        try:
            run_power_session(
                PowerClientOptions(host="127.0.0.1", port=port, skip_time_sync=True, label="edgeperf-demo"),
                lambda mode, logs: run(Path(logs)),
                folder,
            )
        finally:
            director.shutdown()
            thread.join(20)
        return folder

    return measure
