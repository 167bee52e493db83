"""The power session checks of power-dev's ``compliance/check.py`` that say what measured a result (power.md §10.1).

Run on ``performance/`` of a result with power. Under ``--strict`` each failure drops the result;
without it, only the analyzer identity and edgeperf's own markers are reported, as warnings (the
v1.1 submission checker runs none of these unless ``--more-power-check`` is given):

* analyzer (check 3): server.json's Identify reply names a supported Yokogawa model and PTDaemon
  1.9.1/1.9.2 -- edgeperf's simulator (``EdgeperfSimulator``, ``0.0-sim``) never does;
* PTD replies (check 3): SR/Go/Stop answered as PTDaemon does, the third Stop with
  ``Error: no measurement to stop``, the initial ranges restored;
* uuid and session name (checks 4-5) equal in client.json and server.json;
* ranging vs testing LoadGen durations within 5 % (check 6);
* results checksums (check 8): every hashed file present with the same SHA-1;
* debug (check 11): no ``debug: true`` (shortened settle times);
* edgeperf's markers: a skipped NTP check, a testing run without ranging, a low-current range
  substituted for the ranging maximum.
"""

from __future__ import annotations

import hashlib
import re

from ...power.spl import parse_ptd_time
from ..context import CheckContext
from ..findings import Reporter

__all__ = ["check_power_session", "SUPPORTED_ANALYZERS", "SUPPORTED_PTD_VERSIONS"]

SUPPORTED_ANALYZERS = (
    "YokogawaWT210",
    "YokogawaWT500",
    "YokogawaWT500_multichannel",
    "YokogawaWT310",
    "YokogawaWT310E",
    "YokogawaWT330E",
    "YokogawaWT330_multichannel",
)
SUPPORTED_PTD_VERSIONS = ("1.9.1", "1.9.2")
_GO_REPLY = "Starting untimed measurement, maximum 500000 samples at 1000ms with 0 rampup samples"
_TIME = re.compile(r"\d+-\d+-\d+ \d+:\d+:\d+\.\d+")


def _window(text: str) -> tuple[str, str] | None:
    found = {}
    for line in text.splitlines():
        low = line.lower()
        for key in ("power_begin", "power_end"):
            if key in low and key not in found:
                m = _TIME.search(line, low.index(key))
                if m:
                    found[key] = m.group(0)
    return (found["power_begin"], found["power_end"]) if len(found) == 2 else None


def check_power_session(
    ctx: CheckContext, rep: Reporter, perf_dir: str, client: dict, server: dict, run_window: tuple[str, str]
) -> bool:
    """False when ``--strict`` drops the result; findings as described in the module docstring.

    ``client``/``server`` are the parsed session files and ``run_window`` run_1's power_begin and
    power_end, as check_power read them. Without ``--strict`` no other file is read; with it the
    ranging detail log and every hashed file are.
    """
    tree, strict = ctx.tree, ctx.options.strict
    power_dir = tree.join(perf_dir, "power")
    server_path = tree.join(power_dir, "server.json")
    valid = True

    def problem(check: str, message: str, *, always: bool = False, **kw) -> None:
        nonlocal valid
        if strict:
            rep.drop(check, message, **kw)
            valid = False
        elif always:
            rep.warn(check, message, **kw)

    ptd = server["ptd_messages"] if isinstance(server.get("ptd_messages"), list) else []
    ptd = [m for m in ptd if isinstance(m, dict)]
    identify = next((str(m.get("reply", "")) for m in ptd if m.get("cmd") == "Identify"), None)
    if identify is None:
        problem(
            "power.analyzer",
            "server.json has no Identify reply from the analyzer",
            always=True,
            file=server_path,
            expected="an Identify reply",
            found="missing",
        )
    else:
        model = identify.split(",")[0]
        m = re.search(r"version=([^-,]*)", identify)
        version = m.group(1) if m else None
        if model.startswith("EdgeperfSimulator"):
            problem(
                "power.simulator",
                "the power samples come from edgeperf's analyzer simulator, not a power analyzer",
                always=True,
                file=server_path,
                expected=f"one of {', '.join(SUPPORTED_ANALYZERS)}",
                found=model,
            )
        elif model not in SUPPORTED_ANALYZERS or version not in SUPPORTED_PTD_VERSIONS:
            problem(
                "power.analyzer",
                "unsupported analyzer or PTDaemon version",
                always=True,
                file=server_path,
                expected=f"a supported Yokogawa model with PTDaemon {' or '.join(SUPPORTED_PTD_VERSIONS)}",
                found=f"{model}, version {version}",
            )
    stops = [m for m in ptd if m.get("cmd") == "Stop"]
    for i, m in enumerate(stops):
        want: str | None = "Error: no measurement to stop" if i == 2 else "Stopping untimed measurement"
        if m.get("reply") != want:
            problem(
                "power.ptd_messages",
                f"Stop #{i + 1} got an unexpected reply",
                file=server_path,
                expected=want,
                found=m.get("reply"),
            )
    for m in ptd:
        cmd = str(m.get("cmd", ""))
        want = (
            "Range A changed"
            if cmd.startswith("SR,A")
            else "Range V changed"
            if cmd.startswith("SR,V")
            else _GO_REPLY
            if cmd.startswith("Go,1000,")
            else None
        )
        if want is not None and m.get("reply") != want:
            problem(
                "power.ptd_messages",
                f"{cmd!r} got an unexpected reply",
                file=server_path,
                expected=want,
                found=m.get("reply"),
            )

    if not strict:
        _markers(tree, power_dir, client, server, problem)
        return valid
    for key in ("uuid", "session_name"):
        if client.get(key) != server.get(key):
            problem(
                f"power.{key}",
                f"{key} differs between client.json and server.json",
                file=server_path,
                expected=client.get(key),
                found=server.get(key),
            )

    windows = []
    for sub in ("ranging", "run_1"):
        p = tree.join(perf_dir, sub, "mlperf_log_detail.txt")
        if sub == "run_1":
            w: tuple[str, str] | None = run_window
        else:
            try:
                w = _window(tree.read_bytes(p).decode("utf-8", errors="replace"))
            except OSError:
                w = None
        if w is not None:
            try:
                windows.append((parse_ptd_time(w[1]) - parse_ptd_time(w[0])).total_seconds())
            except ValueError:
                pass
    if len(windows) == 2 and max(windows) > 0:
        rel = abs(windows[0] - windows[1]) / max(windows)
        if rel >= 0.05:
            problem(
                "power.ranging_testing_duration",
                "the ranging and testing runs differ in duration by 5% or more",
                file=tree.join(perf_dir, "run_1", "mlperf_log_detail.txt"),
                expected="< 5%",
                found=f"{100 * rel:.2f}% ({windows[0]:.3f} s vs {windows[1]:.3f} s)",
            )

    hashes = {}
    for side in (client, server):
        if isinstance(side.get("results"), dict):
            hashes.update(side["results"])
    for rel, digest in sorted(hashes.items()):
        p = tree.join(perf_dir, *rel.split("/"))
        try:
            actual = hashlib.sha1(tree.read_bytes(p)).hexdigest()
        except OSError:
            problem(
                "power.results_checksum",
                f"{rel} is listed in the session files but missing",
                file=p,
                expected=digest,
                found="missing",
            )
            continue
        if actual != digest:
            problem(
                "power.results_checksum",
                f"{rel} differs from the SHA-1 in the session files",
                file=p,
                expected=digest,
                found=actual,
            )

    _markers(tree, power_dir, client, server, problem)
    return valid


def _markers(tree, power_dir: str, client: dict, server: dict, problem) -> None:
    """debug: true, and edgeperf's own records of non-standard options."""
    if server.get("debug") is True:
        problem(
            "power.debug",
            "server.json has debug: true (shortened settle times)",
            always=True,
            file=tree.join(power_dir, "server.json"),
            expected="no debug key",
            found=True,
        )
    for side_name, side in (("client", client), ("server", server)):
        marks = side["edgeperf"] if isinstance(side.get("edgeperf"), dict) else {}
        path = tree.join(power_dir, f"{side_name}.json")
        if marks.get("time_sync") == "skipped":
            problem(
                "power.time_sync_skipped",
                f"the {side_name}'s NTP time check was skipped",
                always=True,
                file=path,
                expected="time_sync: ntp",
                found="skipped",
            )
        for key, what in (
            ("no_ranging", "the testing run had no ranging run (fixed range)"),
            ("low_current_range_used", "a low-current range replaced the ranging maximum"),
        ):
            if marks.get(key):
                problem(f"power.{key}", what, always=True, file=path, expected=f"no {key}", found=marks[key])
