"""One director session: the state machine and the analyzer commands of each step (power.md §3.2, §4.2, §6.2).

INITIAL -> RANGING -> RANGING_DONE -> TESTING -> TESTING_DONE -> DONE. ``start`` sets the ranges
(Auto for ranging, the ranging maxima for testing), pauses to let the analyzer settle, sends
``Go,1000,0,<id>_<mode>``; ``stop`` pauses, sends ``Stop`` and writes the mode's spl.txt from the
sample log; after ranging it computes the testing range. Repeating the current start/stop is
``True`` (OK), a start/stop out of order ``False`` (Error) -- for stop only after the pause.
"""

from __future__ import annotations

import datetime
import logging
import os
import shutil
import time
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING

from .ptd_control import PtdController
from .ptd_log import RangingError, extract_mark, max_volts_amps

if TYPE_CHECKING:
    from .director import Director

__all__ = ["ANALYZER_SLEEP_SECONDS", "Session", "State"]

log = logging.getLogger("edgeperf.power.server")
ANALYZER_SLEEP_SECONDS = 10.0


class State(Enum):
    INITIAL = 0
    RANGING = 1
    RANGING_DONE = 2
    TESTING = 3
    TESTING_DONE = 4
    DONE = 5


class Session:
    def __init__(self, director: Director, label: str) -> None:
        self.director = director
        stamp = datetime.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
        self.id = f"{stamp}_{label}" if label else stamp
        self.dir = os.path.join(director.work_dir, self.id)
        if os.path.exists(self.dir):  # a session of the same second that was replaced
            shutil.rmtree(self.dir)
        os.makedirs(os.path.join(self.dir, "power"))
        self.ptd_logfile = os.path.join(director.work_dir, f"ptd_logfile_{self.id}.txt")
        self.ptd = PtdController(
            director.config.ptd_command(self.ptd_logfile),
            director.config.ptd_port,
            os.path.join(self.dir, "power", "ptd_logs.txt"),
        )
        self.state = State.INITIAL
        self.max_volts: str | None = None
        self.max_amps: str | None = None
        self.go_time: float | None = None

    def _sample_log(self) -> str:
        try:
            with open(self.ptd_logfile, "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def start(self, mode: str) -> bool:
        d, summary = self.director, self.director.summary
        if (mode, self.state) in (("ranging", State.RANGING), ("testing", State.TESTING)):
            return True
        volts: str | None
        amps: str | None
        if mode == "ranging" and self.state == State.INITIAL:
            volts, amps = "Auto", "Auto"
        elif mode == "testing" and self.state == State.RANGING_DONE:
            volts, amps = self.max_volts, self.max_amps
        elif mode == "testing" and self.state == State.INITIAL and d.options.fixed_range is not None:
            volts, amps = d.options.fixed_range
            summary.edgeperf["no_ranging"] = {"fixed_range": [volts, amps]}
            log.warning(f"Testing without a ranging run at the fixed range {volts} V, {amps} A (not v1.1 compliant)")
        else:
            return False
        summary.phase(mode, 0)
        self.ptd.start()
        self.ptd.cmd(f"SR,V,{volts}")
        self.ptd.cmd(f"SR,A,{amps}")
        d.sleep(d.options.settle_s)
        log.info(f"Starting {mode} mode")
        self.ptd.cmd(f"Go,1000,0,{self.id}_{mode}")
        self.go_time = time.monotonic()
        self.state = State.RANGING if mode == "ranging" else State.TESTING
        summary.phase(mode, 1)
        return True

    def stop(self, mode: str) -> bool:
        d, summary = self.director, self.director.summary
        if (mode, self.state) in (("ranging", State.RANGING_DONE), ("testing", State.TESTING_DONE)):
            return True
        active = (mode, self.state) in (("ranging", State.RANGING), ("testing", State.TESTING))
        if active:
            summary.phase(mode, 2)
        d.sleep(d.options.settle_s)
        if not active:
            return False
        self.ptd.check_alive()
        self.ptd.cmd("Stop")
        folder = os.path.join(self.dir, "ranging" if mode == "ranging" else "run_1")
        os.mkdir(folder)
        text = self._sample_log()
        lines = extract_mark(text, f"{self.id}_{mode}")
        with open(os.path.join(folder, "spl.txt"), "w", encoding="utf-8", newline="") as f:
            f.write(lines)
        if mode == "ranging":
            self.state = State.RANGING_DONE
            self._set_testing_range(text)
        else:
            self.state = State.TESTING_DONE
            if not lines:
                raise RangingError(f"the analyzer logged no sample during the testing run of '{self.id}'")
        summary.phase(mode, 3)
        return True

    def _set_testing_range(self, text: str) -> None:
        d = self.director
        try:
            self.max_volts, self.max_amps = max_volts_amps(text, f"{self.id}_ranging", d.config.ranging_channels())
            low = d.options.low_current_range
            if low is not None and Decimal(self.max_amps) < Decimal(low[1]):
                raise RangingError(f"max amps {self.max_amps} lies below the low-current range {low[1]} A")
        except RangingError as exc:
            low = d.options.low_current_range
            if low is None:
                if self.go_time is not None and time.monotonic() - self.go_time < 1:
                    raise RangingError(
                        f"the ranging measurement ended too fast (less than 1 second), "
                        f"no PTDaemon logs generated for '{self.id}'"
                    ) from None
                raise
            log.warning(f"Ranging gave no usable range ({exc}); using the low-current range {low[0]} V, {low[1]} A")
            d.summary.edgeperf["low_current_range_used"] = {"range": list(low), "reason": str(exc)}
            self.max_volts, self.max_amps = low

    def drop(self) -> None:
        self.ptd.terminate()
        self.state = State.DONE
