"""Power measurement (spec power.md).

So far: the metrics part, stdlib only -- ``spl.txt`` parsing (:mod:`.spl`), the power client and
server session files (:mod:`.session`) and the power window and energy computation of power.md §8
(:mod:`.metrics`), which the submission checker uses.
"""

from .metrics import NoPowerSamplesError, PowerMetric, PowerWindow, compute_power_metric, power_metric_value
from .session import SessionFileError, parse_session_json, read_session_json, session_timezone
from .spl import SplFormatError, SplSample, parse_ptd_time, parse_spl_text

__all__ = [
    "NoPowerSamplesError",
    "PowerMetric",
    "PowerWindow",
    "SessionFileError",
    "SplFormatError",
    "SplSample",
    "compute_power_metric",
    "parse_ptd_time",
    "parse_spl_text",
    "parse_session_json",
    "power_metric_value",
    "read_session_json",
    "session_timezone",
]
