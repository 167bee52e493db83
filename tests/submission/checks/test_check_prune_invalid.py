"""Issue 15 items 5 and 6 on ``edgeperf check``: --submitter names the submitters that exist,
numbers at a sensible precision, and ``--prune-invalid OUT``.
"""

from __future__ import annotations

import hashlib
import json
import os

import typer
from checker_tree_helpers import ALIBABA, OCTOML, SS_DETAIL_REL, T4, copy_tree, replace_in, set_detail_value
from fixture_paths import FIXTURES
from typer.testing import CliRunner

from edgeperf.cli.check import check
from edgeperf.submission import check_tree


def _run(*args: str):
    app = typer.Typer()
    app.command("check")(check)
    app.command("other")(lambda: None)
    return CliRunner().invoke(app, ["check", *map(str, args)], env={"COLUMNS": "200"})


def _digest(root) -> dict[str, str]:
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            p = os.path.join(dirpath, name)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = hashlib.sha256(f.read()).hexdigest()
    return out


def test_unknown_submitter_names_the_existing_ones():
    r = _run(FIXTURES, "--submitter", "Nobody")
    assert r.exit_code == 2
    existing = sorted({s for d in ("closed", "open") for s in os.listdir(FIXTURES / d)})
    assert "--submitter Nobody: no such submitter" in r.output
    assert ", ".join(existing) in r.output


def test_accuracy_target_is_printed_without_float_noise(tmp_path):
    root = copy_tree(tmp_path / "t", OCTOML)
    txt = root / "open/OctoML/results/aws-m5zn.6xlarge-tvm/resnet50/offline/accuracy/accuracy.txt"
    replace_in(txt, "accuracy=75.844%", "accuracy=70.000%")
    js = tmp_path / "r.json"
    _run(root, "--json", js)
    (f,) = [
        f for f in json.loads(js.read_text())["findings"] if f["check"] == "accuracy.target" and "aws-m5zn" in f["file"]
    ]
    assert f["expected"] == f">= {round(0.99 * 76.46, 4):g}"  # not ">= 75.69539999999999"


def test_prune_invalid_writes_a_copy_that_passes_and_leaves_the_tree_alone(tmp_path):
    root = copy_tree(tmp_path / "t", ALIBABA)
    set_detail_value(root / SS_DETAIL_REL, "result_validity", "INVALID")
    before = _digest(root)
    out = tmp_path / "pruned"
    r = _run(root, "--prune-invalid", out)
    assert _digest(root) == before  # TREE never changes
    bench = f"{T4}/ssd-mobilenet"
    # SingleStream invalid, so the benchmark lacks a required Edge scenario: the whole benchmark goes
    assert f"left out {bench}" in r.output
    assert "because performance.validity: the run is not VALID" in r.output
    assert not (out / bench).exists()
    assert not (out / bench.replace("/results/", "/measurements/")).exists()
    assert not (out / bench.replace("/results/", "/compliance/")).exists()
    assert not (out / "closed/Alibaba/systems/T4x1_TRT.json").exists()
    report = check_tree(out)
    assert report.no_results == [] and not [f for f in report.findings if f.severity.invalidates]
    assert len(report.results) == 4  # the other two systems' SingleStream and Offline
    assert r.exit_code == 0, r.output
    assert r.output.rstrip().splitlines()[-1].startswith(f"edgeperf check {out}: PASS")


def test_prune_invalid_refuses_an_existing_output(tmp_path):
    root = copy_tree(tmp_path / "t", ALIBABA)
    out = tmp_path / "exists"
    out.mkdir()
    r = _run(root, "--prune-invalid", out)
    assert r.exit_code == 2 and "exists" in r.output
    assert list(out.iterdir()) == []
