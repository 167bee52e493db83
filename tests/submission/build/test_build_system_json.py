"""System description validation (the checker's 33 required keys, §3.1-3.2) and the machine template."""

from __future__ import annotations

import json

import pytest

from edgeperf.submission.build import (
    SystemJsonError,
    empty_meaningful_fields,
    load_system_json,
    machine_system_json,
    unknown_fields,
    validate_system_json,
)
from edgeperf.submission.rules import V1_1
from fixture_paths import FIXTURES


def good() -> dict:
    d = {k: "" for k in V1_1.system_required_fields}
    d.update(
        division="closed",
        submitter="Acme",
        status="available",
        system_type="edge",
        system_name="box",
        number_of_nodes=1,
        host_processors_per_node="1",
        host_processor_model_name="CPU X",
        host_processor_core_count=4,
        host_memory_capacity="16 GB",
        host_storage_type="SSD",
        host_storage_capacity="1 TB",
        accelerators_per_node=0,
        accelerator_model_name="-",
        accelerator_memory_configuration="-",
        accelerator_memory_capacity="-",
        framework="ONNX Runtime",
        other_software_stack="Python",
        operating_system="Linux",
    )
    return d


def test_required_list_is_the_checkers_33_keys():
    assert len(V1_1.system_required_fields) == 33
    assert validate_system_json(good(), division="closed", submitter="ACME") == []


def test_every_problem_is_listed_at_once():
    d = good()
    for k in ("cooling", "hw_notes", "accelerator_on-chip_memories"):
        del d[k]
    d.update(
        status="done",
        system_type="mobile",
        host_processor_model_name=7,
        number_of_nodes="two",
        framework="",
        host_storage_type="TODO: storage type",
    )
    assert empty_meaningful_fields(d) == ["framework"]  # allowed by the checker: a build warning only
    problems = validate_system_json(d, division="open", submitter="Other")
    assert problems == [
        "missing required field(s): accelerator_on-chip_memories, cooling, hw_notes",
        "host_storage_type: still a placeholder ('TODO: storage type')",
        "status: 'done' is not one of available, preview, rdi",
        "system_type: 'mobile' is not one of datacenter, edge, datacenter,edge, edge,datacenter",
        "host_processor_model_name: must be a string, not int",
        "number_of_nodes: 'two' is not an integer",
        "division: 'closed' differs from the division 'open' (case-sensitive)",
        "submitter: 'Acme' differs from the submitter 'Other'",
    ]


def test_load_raises_with_the_list(tmp_path):
    p = tmp_path / "box.json"
    d = good()
    del d["sw_notes"]
    d["status"] = "soon"
    p.write_text(json.dumps(d))
    with pytest.raises(SystemJsonError) as info:
        load_system_json(p)
    assert info.value.problems == [
        "missing required field(s): sw_notes",
        "status: 'soon' is not one of available, preview, rdi",
    ]
    assert "2 problem(s)" in str(info.value)
    p.write_text("{not json")
    with pytest.raises(SystemJsonError, match="not valid JSON"):
        load_system_json(p)


def test_real_v1_1_system_files_pass():
    paths = sorted(FIXTURES.glob("*/*/systems/*.json"))
    assert paths
    for path in paths:
        data = json.loads(path.read_text())
        assert validate_system_json(data, division=path.parents[2].name, submitter=path.parents[1].name) == [], path


def test_machine_template_has_every_field_and_todos_are_flagged():
    d = machine_system_json()
    assert set(V1_1.system_required_fields) <= set(d) and unknown_fields(d) == []
    problems = validate_system_json(d)
    todo = {p.split(":")[0] for p in problems}
    assert {"division", "submitter", "status", "system_name"} <= todo
    assert all("placeholder" in p for p in problems)
    filled = machine_system_json("closed", "Acme")
    assert filled["division"] == "closed" and filled["submitter"] == "Acme"
    assert isinstance(filled["host_processor_model_name"], str) and filled["host_processor_model_name"]
    assert "Python" in filled["other_software_stack"]


def test_cli_system_json(tmp_path):
    from typer.testing import CliRunner

    from edgeperf.cli.submission_cmd import app

    r = CliRunner().invoke(app, ["system-json"])
    assert r.exit_code == 0, r.output
    assert set(V1_1.system_required_fields) <= set(json.loads(r.output))
    out = tmp_path / "sys.json"
    r = CliRunner().invoke(app, ["system-json", "--output", str(out), "--division", "open", "--submitter", "Acme"])
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text())["division"] == "open"
    assert "to fill in" in r.output and "status: still a placeholder" in r.output
    r = CliRunner().invoke(app, ["system-json", "--output", str(out)])
    assert r.exit_code == 2
