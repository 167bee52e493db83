"""The power session checks (power.md §10.1) on Krai's real v1.1 power results and mutations of them.

The real results measured by a Yokogawa WT310E under PTDaemon 1.9.2 pass every check, with and
without ``--strict``; each mutation below is dropped under ``--strict`` by the check named.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat

import pytest

from edgeperf.submission import CheckOptions, check_tree
from fixture_paths import FIXTURES

KRAI = "closed/Krai"
PERF = "closed/Krai/results/xavier-power.0-fan.cool-tflite-v2.5.0-ruy/resnet50/singlestream/performance"


def copy_tree(dest, submitter):
    """A writable copy of one submitter of the fixture (the fixture files are read-only)."""
    shutil.copytree(FIXTURES / submitter, dest / submitter)
    for dirpath, dirnames, filenames in os.walk(dest):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            os.chmod(p, os.stat(p).st_mode | stat.S_IWUSR)
    return dest


def replace_in(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _strict_drops(tree) -> set[tuple[str, str]]:
    report = check_tree(tree, CheckOptions(strict=True))
    return {
        (f.check, f.file.split("/performance/")[-1])
        for f in report.findings
        if f.severity.invalidates and f.check.startswith("power.")
    }


@pytest.fixture
def krai(tmp_path):
    return copy_tree(tmp_path / "tree", KRAI)


def _edit_json(path, change) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc, indent=4))


def test_real_results_pass_strict(krai):
    assert _strict_drops(krai) == set()
    assert check_tree(krai, CheckOptions(strict=True)).verdict().exit_code == 0


def test_changed_spl_byte_fails_the_results_checksum(krai):
    replace_in(krai / PERF / "run_1/spl.txt", "Watts,6.750000", "Watts,6.750001")
    assert ("power.results_checksum", "run_1/spl.txt") in _strict_drops(krai)


def test_simulator_identity_is_rejected_and_warned_without_strict(krai):
    sim = "EdgeperfSimulator,1000,1,1,1,1,0,0,1,version=0.0-sim-edgeperf,OS=Linux,mode=power,SIMULATED ANALYZER"

    def to_sim(doc):
        doc["ptd_messages"][1]["reply"] = sim

    _edit_json(krai / PERF / "power/server.json", to_sim)
    drops = _strict_drops(krai)
    assert ("power.simulator", "power/server.json") in drops
    # server.json is itself hashed in neither file, so nothing else is reported for this edit
    assert drops == {("power.simulator", "power/server.json")}
    relaxed = check_tree(krai)
    assert relaxed.verdict().exit_code == 0
    assert [f.check for f in relaxed.findings if f.check.startswith("power.")] == ["power.simulator"]


def test_uuid_debug_and_third_stop(krai):
    def edit(doc):
        doc["uuid"]["client"] = "00000000-0000-0000-0000-000000000000"
        doc["debug"] = True
        doc["ptd_messages"][11]["reply"] = "Stopping untimed measurement"

    _edit_json(krai / PERF / "power/server.json", edit)
    drops = {c for c, _ in _strict_drops(krai)}
    assert {"power.uuid", "power.debug", "power.ptd_messages"} <= drops


def test_ranging_and_testing_durations_over_5_percent(krai):
    # ranging power_end 11:05:14.300 -> 11:00:00.000: ~600 s shrinks by ~314 s, well over 5 %
    path = krai / PERF / "ranging/mlperf_log_detail.txt"
    text = path.read_text()
    end = re.search(r'"key": "power_end", "value": "([^"]+)"', text).group(1)
    replace_in(path, f'"value": "{end}"', f'"value": "{end[:11]}11:00:00.000"')
    drops = _strict_drops(krai)
    assert ("power.ranging_testing_duration", "run_1/mlperf_log_detail.txt") in drops
    assert ("power.results_checksum", "ranging/mlperf_log_detail.txt") in drops  # the edit broke its hash too
