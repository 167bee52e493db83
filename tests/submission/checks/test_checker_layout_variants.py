"""Irregular but accepted layouts (spec §2.2, §10.2) and the per-model errors column (§5.4)."""

from __future__ import annotations

import os

import pytest
from checker_tree_helpers import ALIBABA, T4, T4_MEAS_SS, T4_SS, T4_SYS, copy_tree, edit_json
from fixture_paths import FIXTURES

from edgeperf.submission import Severity, check_tree

T4_MEAS_OFF = T4_MEAS_SS.replace("SingleStream", "Offline")


@pytest.mark.parametrize(
    "new_name",
    ["T4x1_TRT.json", "T4x1_TRT-SingleStream.json", "T4x1_TRT_Offilne.json", "T4x1_TRT_impl_singlestream.json"],
)
def test_measurement_json_name_variants_are_accepted(tmp_path, new_name):
    root = copy_tree(tmp_path / "t", ALIBABA)
    os.rename(root / T4_MEAS_SS / "T4x1_TRT_SingleStream.json", root / T4_MEAS_SS / new_name)
    r = check_tree(root)
    assert r.error_count == 0 and r.verdict().status == "pass"


def test_measurement_json_must_start_with_the_system_name(tmp_path):
    root = copy_tree(tmp_path / "t", ALIBABA)
    os.rename(root / T4_MEAS_SS / "T4x1_TRT_SingleStream.json", root / T4_MEAS_SS / "t4_SingleStream.json")
    r = check_tree(root)
    (f,) = [f for f in r.findings if f.check == "measurements.json_missing"]
    assert f.severity is Severity.SOFT and f.file == T4_MEAS_SS and r.no_results == []


def test_code_entry_may_be_a_file_naming_the_code_directory(tmp_path):
    root = copy_tree(tmp_path / "t", ALIBABA)
    code = root / "closed/Alibaba/code"
    os.rename(code / "ssd-mobilenet", code / "shared-ssd")
    (code / "ssd-mobilenet").write_text("shared-ssd\n")
    assert check_tree(root).error_count == 0
    (code / "ssd-mobilenet").write_text("nowhere\n")
    r = check_tree(root)
    missing = [f for f in r.findings if f.check == "measurements.code_missing"]
    assert missing and all(f.file.startswith("closed/Alibaba/code/nowhere") for f in missing)


def test_errors_column_accumulates_over_the_scenarios_of_one_benchmark(tmp_path):
    root = copy_tree(tmp_path / "t", ALIBABA)
    (root / T4_MEAS_SS / "README.md").unlink()
    (root / T4_MEAS_OFF / "README.md").unlink()
    r = check_tree(root)
    errors = {row["Scenario"]: row["errors"] for row in r.rows if row["Platform"] == "T4x1_TRT"}
    assert errors == {"Offline": 1, "SingleStream": 2}  # sorted order: Offline is checked first
    other = {row["errors"] for row in r.rows if row["Platform"] != "T4x1_TRT"}
    assert other == {0}


def test_a_failed_system_is_not_read_further(tmp_path):
    root = copy_tree(tmp_path / "t", ALIBABA)
    edit_json(root / T4_SYS, lambda o: o.update(status="unknown"))
    r = check_tree(root)
    assert r.no_results == [T4]
    assert not any(p.startswith(T4 + "/") for p in r.read_stats.reads)


def test_datacenter_edge_system_type_uses_the_combined_table(tmp_path):
    root = copy_tree(tmp_path / "t", ALIBABA)
    edit_json(root / T4_SYS, lambda o: o.update(system_type="edge,datacenter"))
    r = check_tree(root)
    assert r.verdict().status == "pass"
    assert {row["SystemType"] for row in r.rows if row["Platform"] == "T4x1_TRT"} == {"edge,datacenter"}


def test_strict_mode_on_the_real_subset_still_passes():
    r = check_tree(FIXTURES, strict=True)
    assert r.verdict().status == "pass" and len(r.results) == 28


def test_missing_status_does_not_crash(tmp_path):
    root = copy_tree(tmp_path / "t", ALIBABA)
    edit_json(root / T4_SYS, lambda o: o.pop("status"))
    r = check_tree(root)
    (f,) = [f for f in r.findings if f.check == "system.field_missing"]
    assert f.severity is Severity.FATAL and f.expected == "status" and r.no_results == [T4]


def test_non_string_processor_name_is_fatal(tmp_path):
    root = copy_tree(tmp_path / "t", ALIBABA)
    edit_json(root / T4_SYS, lambda o: o.update(host_processor_model_name=8163))
    r = check_tree(root)
    assert [f.check for f in r.findings if f.severity is Severity.FATAL] == ["system.field_type"]


def test_result_scenario_directories_without_results_dir_are_skipped(tmp_path):
    root = copy_tree(tmp_path / "t", ALIBABA)
    (root / "closed/Mobilint").mkdir()
    (root / "closed/Mobilint/README.md").write_text("calibration only")
    r = check_tree(root)
    assert r.verdict().status == "pass"
    assert [f.check for f in r.findings if f.scope.submitter == "Mobilint"] == ["tree.no_results"]
    assert T4_SS in {x.location for x in r.results}
