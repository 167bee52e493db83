"""Issue 15 item 2: ``edgeperf compliance verify --json`` on a published v1.1 TEST05 folder.

The expected verdict and scores are the published ``verify_performance.txt`` (written by the
official script), parsed here independently of edgeperf.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

pytest.importorskip("typer")

from compliance_helpers import compliance_cli, fixture_tests  # noqa: E402


def test_verify_json_matches_the_published_verify_file(tmp_path):
    t = fixture_tests(("TEST05",))[0]
    published = (t.test_dir / "verify_performance.txt").read_text()
    folder = tmp_path / "TEST05"
    shutil.copytree(t.test_dir, folder)
    out = tmp_path / "verify.json"
    result = compliance_cli()(
        "compliance", "verify", "TEST05", "--results", t.results_dir, "--compliance", folder, "--json", out
    )
    doc = json.loads(out.read_text())
    assert (doc["format"], doc["format_version"]) == ("edgeperf-compliance-verify", 1)
    assert doc["test"] == "TEST05"
    assert doc["passed"] is ("TEST PASS" in published)
    assert result.exit_code == (0 if doc["passed"] else 1)
    assert "\n".join(doc["performance"]["lines"]).strip() == published.strip()
    ref = re.search(r"reference score = (\S+)", published).group(1)
    assert doc["performance"]["reference_score"] == ref
    assert doc["accuracy"] is None
