"""Power measurement (spec power.md), stdlib only (``ntplib`` for the NTP check, imported lazily).

* metrics: ``spl.txt`` parsing (:mod:`.spl`), the session files' timezone (:mod:`.session`) and the
  power window and energy computation of power.md §8 (:mod:`.metrics`), which the checker uses;
* protocol: CR LF framing and the chunked download (:mod:`.proto`), PTDaemon's log formats
  (:mod:`.ptd_log`), the session summaries client.json / server.json (:mod:`.summary`);
* the analyzer simulator, a stand-in for PTDaemon (:mod:`.analyzer_sim`) and its power sources
  (:mod:`.sources`: constant, replay of an spl.txt, RAPL, NVML);
* the director (:mod:`.director`, :mod:`.server_config`, :mod:`.ptd_control`) and the client
  (:mod:`.client`), with the clock checks of :mod:`.time_sync`.
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
