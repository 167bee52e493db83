"""Mutations of copies of the real v1.1 tree: each is flagged with its v1.1 severity, the finding
names the file, and the checker never crashes (the text and JSON reports render too)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
from checker_tree_helpers import (
    ALIBABA,
    EDGECORTIX_OPEN,
    KRAI,
    OCTO_AWS,
    OCTOML,
    T4,
    T4_COMP_SS,
    T4_MEAS_SS,
    T4_OFF,
    T4_SS,
    T4_SYS,
    XAVIER,
    append_detail_error,
    copy_tree,
    drop_detail_key,
    edit_json,
    rename,
    replace_in,
    set_detail_value,
)

from edgeperf.submission import Severity, check_tree, render_text_report, report_to_json

F, D, S, W, I = Severity.FATAL, Severity.DROP, Severity.SOFT, Severity.WARN, Severity.INFO
SS_DETAIL = f"{T4_SS}/performance/run_1/mlperf_log_detail.txt"
OFF_DETAIL = f"{T4_OFF}/performance/run_1/mlperf_log_detail.txt"
XS = f"{XAVIER}/singlestream"
XO = f"{XAVIER}/offline"


@dataclass
class M:
    id: str
    submitters: tuple[str, ...]
    mutate: Callable[[Path], None]
    expect: list[tuple[str, Severity, str]]  # (check, severity, path the finding's file starts with)
    no_results: tuple[str, ...] = ()  # exactly these keys become NoResults
    options: dict = field(default_factory=dict)
    status: str | None = None  # verdict status when not implied
    extra: Callable | None = None  # more assertions on the report


def _perf(scenario: str) -> tuple[str, str]:
    """A dropped performance run of a required closed scenario: the scenario and its benchmark fail
    (v1.1 then also reports the benchmark as missing a required scenario)."""
    return scenario, scenario.rsplit("/", 1)[0]


def p(root: Path, rel: str) -> Path:
    return root / rel


def _rm(rel):
    def f(root):
        target = root / rel
        shutil.rmtree(target) if target.is_dir() else target.unlink()

    return f


def _detail(rel, key, value, **kw):
    return lambda root: set_detail_value(root / rel, key, value, **kw)


def _truncate_mid_line(root):
    path = root / SS_DETAIL
    data = path.read_bytes()
    cut = data.index(b'"key": "result_validity"')
    path.write_bytes(data[: cut + 10])


def _extra_scenario(root):
    shutil.copytree(root / T4_SS, root / f"{T4}/ssd-mobilenet/MultiStream")


def _untruncated(root):
    with open(root / f"{T4_SS}/accuracy/mlperf_log_accuracy.json", "a") as f:
        f.write(" " * 20000)


def _power_window(root):
    set_detail_value(root / f"{XO}/performance/run_1/mlperf_log_detail.txt", "power_begin", "08-07-2021 23:00:00.000")


def _spl_blank_line(root):
    path = root / f"{XS}/performance/run_1/spl.txt"
    lines = path.read_text().split("\n")
    lines.insert(5, "")
    path.write_text("\n".join(lines))


def _crlf_everywhere(root):
    for dirpath, _, files in os.walk(root):
        for name in files:
            if name.endswith((".txt", ".json", ".conf", ".md")):
                q = Path(dirpath) / name
                q.write_bytes(q.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


def _lowercase_scenario_everywhere(root):
    for base in (T4, "closed/Alibaba/measurements/T4x1_TRT", "closed/Alibaba/compliance/T4x1_TRT"):
        rename(root, f"{base}/ssd-mobilenet/SingleStream", f"{base}/ssd-mobilenet/singlestream")
    # the measurement JSON's name still says _SingleStream: accepted by the <sys>*.json rule
    (root / f"{T4}/ssd-mobilenet/stray.txt").write_text("ignored")


def _symlinked_scenario(root):
    real = root.parent / "elsewhere"
    shutil.move(str(root / T4_SS), real)
    os.symlink(real, root / T4_SS)


def _uncommitted(root):
    append_detail_error(root / SS_DETAIL, "Loadgen built with uncommitted changes!")


def _stray_division(root):
    (root / "closed_old").mkdir()
    (root / ".git").mkdir()


def _only_ts_logs(root):
    # an Offline directory holding a Server log: no inference possible
    path = root / OFF_DETAIL
    set_detail_value(path, "effective_scenario", "Server")


def _ts_json_invalid(root):
    (root / T4_SYS).write_text('{"division": "closed", ')


def _verify(root, test, text):
    (root / f"{T4_COMP_SS}/{test}/verify_performance.txt").write_text(text)


def _has_row(loc, **cells):
    def check(report):
        rows = [r for r in report.rows if r["Location"] == loc]
        assert rows, f"no summary row for {loc}"
        for k, v in cells.items():
            assert str(rows[0][k]) == v, (k, rows[0][k], v)

    return check


MUTATIONS = [
    # --- accuracy ------------------------------------------------------------------------
    M(
        "delete-accuracy-txt",
        (ALIBABA,),
        _rm(f"{T4_SS}/accuracy/accuracy.txt"),
        [("accuracy.txt_missing", D, f"{T4_SS}/accuracy/accuracy.txt")],
        (T4_SS,),
    ),
    M(
        "closed-accuracy-below-target",
        (ALIBABA,),
        lambda r: replace_in(p(r, f"{T4_SS}/accuracy/accuracy.txt"), "mAP=22.914%", "mAP=21.000%"),
        [("accuracy.target", D, f"{T4_SS}/accuracy/accuracy.txt")],
        (T4_SS,),
    ),
    M(
        "accuracy-hash-missing",
        (ALIBABA,),
        lambda r: replace_in(p(r, f"{T4_SS}/accuracy/accuracy.txt"), "hash=", "sha="),
        [("accuracy.hash_missing", D, f"{T4_SS}/accuracy/accuracy.txt")],
        (T4_SS,),
    ),
    M(
        "untruncated-accuracy-log",
        (ALIBABA,),
        _untruncated,
        [("accuracy.log_not_truncated", D, f"{T4_SS}/accuracy/mlperf_log_accuracy.json")],
        (T4_SS,),
    ),
    M(
        "accuracy-log-missing",
        (ALIBABA,),
        _rm(f"{T4_SS}/accuracy/mlperf_log_accuracy.json"),
        [
            ("accuracy.log_missing", D, f"{T4_SS}/accuracy/mlperf_log_accuracy.json"),
            ("accuracy.file_list", S, f"{T4_SS}/accuracy"),
        ],
        (T4_SS,),
    ),
    M(
        "accuracy-detail-log-error",
        (ALIBABA,),
        lambda r: append_detail_error(p(r, f"{T4_SS}/accuracy/mlperf_log_detail.txt"), "SUT crashed"),
        [("accuracy.detail_error", D, f"{T4_SS}/accuracy/mlperf_log_detail.txt")],
        (T4_SS,),
    ),
    M(
        "open-accuracy-below-target-is-accepted",
        (OCTOML,),
        lambda r: replace_in(p(r, f"{OCTO_AWS}/accuracy/accuracy.txt"), "accuracy=75.844%", "accuracy=10.000%"),
        [("accuracy.target", I, f"{OCTO_AWS}/accuracy/accuracy.txt")],
        (),
        extra=_has_row(OCTO_AWS, Accuracy="10.000"),
    ),
    M(
        "open-untruncated-log-is-logged-not-dropped",
        (OCTOML,),
        lambda r: open(p(r, f"{OCTO_AWS}/accuracy/mlperf_log_accuracy.json"), "a").write("x" * 11000),
        [("accuracy.log_not_truncated", S, f"{OCTO_AWS}/accuracy/mlperf_log_accuracy.json")],
        (),
        status="pass-with-errors",
    ),
    M(
        "open-missing-accuracy-txt-drops",
        (OCTOML,),
        _rm(f"{OCTO_AWS}/accuracy/accuracy.txt"),
        [("accuracy.txt_missing", D, f"{OCTO_AWS}/accuracy/accuracy.txt")],
        (OCTO_AWS,),
    ),
    # --- performance ---------------------------------------------------------------------
    M(
        "seed-changed-is-soft",
        (ALIBABA,),
        _detail(SS_DETAIL, "effective_qsl_rng_seed", 12345),
        [("performance.seed", S, SS_DETAIL)],
        (),
        status="pass-with-errors",
        extra=lambda rep: [f for f in rep.findings if f.check == "performance.seed"][0].found == 12345,
    ),
    M(
        "seed-changed-strict-drops",
        (ALIBABA,),
        _detail(SS_DETAIL, "effective_schedule_rng_seed", 1),
        [("performance.seed", D, SS_DETAIL)],
        _perf(T4_SS),
        options={"strict": True},
    ),
    M(
        "run-marked-invalid",
        (ALIBABA,),
        _detail(SS_DETAIL, "result_validity", "INVALID"),
        [("performance.validity", D, SS_DETAIL)],
        _perf(T4_SS),
    ),
    M(
        "detail-log-truncated-mid-line",
        (ALIBABA,),
        _truncate_mid_line,
        [("performance.detail_malformed", D, SS_DETAIL)],
        _perf(T4_SS),
    ),
    M(
        "run_1-missing",
        (ALIBABA,),
        _rm(f"{T4_SS}/performance/run_1"),
        [("performance.run_missing", D, f"{T4_SS}/performance/run_1")],
        _perf(T4_SS),
    ),
    M(
        "performance-sample-count-too-small",
        (ALIBABA,),
        _detail(SS_DETAIL, "effective_performance_sample_count", 10),
        [("performance.sample_count", D, SS_DETAIL)],
        _perf(T4_SS),
    ),
    M(
        "short-duration-is-soft",
        (ALIBABA,),
        _detail(SS_DETAIL, "effective_min_duration_ms", 60000),
        [("performance.min_duration", S, SS_DETAIL)],
        (),
        status="pass-with-errors",
    ),
    M(
        "too-few-queries-is-soft",
        (ALIBABA,),
        _detail(SS_DETAIL, "effective_min_query_count", 100),
        [("performance.min_query_count", S, SS_DETAIL)],
        (),
        status="pass-with-errors",
    ),
    M(
        "too-few-queries-strict-drops",
        (ALIBABA,),
        _detail(SS_DETAIL, "effective_min_query_count", 100),
        [("performance.min_query_count", D, SS_DETAIL)],
        _perf(T4_SS),
        options={"strict": True},
    ),
    M(
        "offline-samples-per-query-is-soft",
        (ALIBABA,),
        _detail(OFF_DETAIL, "effective_samples_per_query", 1000),
        [("performance.samples_per_query", S, OFF_DETAIL)],
        (),
        status="pass-with-errors",
    ),
    M(
        "loadgen-error-in-run",
        (ALIBABA,),
        lambda r: append_detail_error(p(r, SS_DETAIL), "SUT crashed"),
        [("performance.detail_error", D, SS_DETAIL)],
        _perf(T4_SS),
    ),
    M(
        "uncommitted-changes-excepted",
        (ALIBABA,),
        _uncommitted,
        [("performance.detail_error", S, SS_DETAIL)],
        (),
        options={"submission_exceptions": True},
        status="pass-with-errors",
    ),
    M(
        "uncommitted-changes-not-excepted",
        (ALIBABA,),
        _uncommitted,
        [("performance.detail_error", D, SS_DETAIL)],
        _perf(T4_SS),
    ),
    M(
        "offline-dir-with-server-log",
        (ALIBABA,),
        _only_ts_logs,
        [("performance.key_missing", D, OFF_DETAIL)],
        _perf(T4_OFF),
    ),
    M(
        "inferred-offline-without-qps",
        (KRAI,),
        lambda r: drop_detail_key(
            p(r, f"{XO}/performance/run_1/mlperf_log_detail.txt"), "result_qps_without_loadgen_overhead"
        ),
        [("performance.key_missing", D, f"{XO}/performance/run_1/mlperf_log_detail.txt")],
        _perf(XO),
    ),
    M(
        "unknown-log-scenario",
        (ALIBABA,),
        _detail(SS_DETAIL, "effective_scenario", "Batch"),
        [("performance.scenario", D, SS_DETAIL)],
        _perf(T4_SS),
    ),
    # --- system description ----------------------------------------------------------------
    M(
        "system-json-field-dropped",
        (ALIBABA,),
        lambda r: edit_json(p(r, T4_SYS), lambda o: o.pop("host_storage_type")),
        [("system.field_missing", F, T4_SYS)],
        (T4,),
    ),
    M("system-json-invalid", (ALIBABA,), _ts_json_invalid, [("system.json", F, T4_SYS)], (T4,)),
    M("system-json-missing", (ALIBABA,), _rm(T4_SYS), [("system.missing", F, T4_SYS)], (T4,)),
    M(
        "system-status-invalid",
        (ALIBABA,),
        lambda r: edit_json(p(r, T4_SYS), lambda o: o.update(status="beta")),
        [("system.status", F, T4_SYS)],
        (T4,),
    ),
    M(
        "system-type-invalid",
        (ALIBABA,),
        lambda r: edit_json(p(r, T4_SYS), lambda o: o.update(system_type="mobile")),
        [("system.system_type", F, T4_SYS)],
        (T4,),
    ),
    M(
        "system-submitter-mismatch",
        (ALIBABA,),
        lambda r: edit_json(p(r, T4_SYS), lambda o: o.update(submitter="Other")),
        [("system.submitter", F, T4_SYS)],
        (T4,),
    ),
    M(
        "system-division-mismatch",
        (ALIBABA,),
        lambda r: edit_json(p(r, T4_SYS), lambda o: o.update(division="Closed")),
        [("system.division", F, T4_SYS)],
        (T4,),
    ),
    M(
        "system-unknown-field-warns",
        (ALIBABA,),
        lambda r: edit_json(p(r, T4_SYS), lambda o: o.update(psu_details="x")),
        [("system.field_unknown", W, T4_SYS)],
        (),
    ),
    M(
        "system-submitter-case-and-RDI-accepted",
        (ALIBABA,),
        lambda r: edit_json(p(r, T4_SYS), lambda o: o.update(submitter="ALIBABA", status="RDI")),
        [],
        (),
        extra=_has_row(T4_SS, Availability="rdi"),
    ),
    M(
        "model-not-allowed-for-datacenter",
        (ALIBABA,),
        lambda r: edit_json(p(r, T4_SYS), lambda o: o.update(system_type="datacenter")),
        [("benchmark.system_type", F, f"{T4}/ssd-mobilenet")],
        (f"{T4}/ssd-mobilenet",),
    ),
    # --- layout ------------------------------------------------------------------------------
    M(
        "extra-closed-scenario",
        (ALIBABA,),
        _extra_scenario,
        [("scenario.not_allowed", D, f"{T4}/ssd-mobilenet/MultiStream")],
        (f"{T4}/ssd-mobilenet/MultiStream",),
    ),
    M(
        "required-scenario-missing",
        (ALIBABA,),
        _rm(T4_SS),
        [("benchmark.required_scenarios", F, f"{T4}/ssd-mobilenet")],
        (f"{T4}/ssd-mobilenet",),
    ),
    M(
        "invalid-closed-benchmark",
        (ALIBABA,),
        lambda r: rename(r, f"{T4}/ssd-mobilenet", f"{T4}/gpt-j"),
        [("benchmark.model", F, f"{T4}/gpt-j")],
        (f"{T4}/gpt-j",),
    ),
    M(
        "stray-top-level-directory",
        (ALIBABA,),
        _stray_division,
        [("tree.division", S, "closed_old")],
        (),
        status="pass-with-errors",
        extra=lambda rep: not any(f.file == ".git" for f in rep.findings),
    ),
    M(
        "extra-run-ignored",
        (ALIBABA,),
        lambda r: shutil.copytree(r / f"{T4_SS}/performance/run_1", r / f"{T4_SS}/performance/run_2"),
        [("performance.extra_runs", I, f"{T4_SS}/performance")],
        (),
    ),
    M(
        "crlf-everywhere-is-tolerated",
        (ALIBABA, KRAI),
        _crlf_everywhere,
        [],
        (),
        extra=_has_row(f"{XO}", Result="12.266"),
    ),
    M(
        "lowercase-scenario-everywhere",
        (ALIBABA,),
        _lowercase_scenario_everywhere,
        [],
        (),
        extra=_has_row(f"{T4}/ssd-mobilenet/singlestream", Scenario="SingleStream"),
    ),
    M(
        "lowercase-scenario-only-in-results",
        (ALIBABA,),
        lambda r: rename(r, T4_SS, f"{T4}/ssd-mobilenet/singlestream"),
        [
            ("measurements.missing", F, f"{T4_MEAS_SS[: -len('SingleStream')]}singlestream"),
            ("compliance.missing", S, "closed/Alibaba/compliance/T4x1_TRT/ssd-mobilenet/singlestream"),
        ],
        ("closed/Alibaba/measurements/T4x1_TRT/ssd-mobilenet/singlestream",),
        extra=_has_row(f"{T4}/ssd-mobilenet/singlestream", errors="1", compilance="0"),
    ),
    M("symlinked-scenario-directory", (ALIBABA,), _symlinked_scenario, [], ()),
    # --- measurements -----------------------------------------------------------------------
    M(
        "measurement-dir-missing",
        (ALIBABA,),
        _rm(T4_MEAS_SS),
        [("measurements.missing", F, T4_MEAS_SS)],
        (T4_MEAS_SS,),
        extra=_has_row(T4_SS, errors="1"),
    ),
    M(
        "measurement-user-conf-missing",
        (ALIBABA,),
        _rm(f"{T4_MEAS_SS}/user.conf"),
        [("measurements.file_missing", S, f"{T4_MEAS_SS}/user.conf")],
        (),
        status="pass-with-errors",
        extra=_has_row(T4_SS, errors="1"),
    ),
    M(
        "measurement-json-key-missing",
        (ALIBABA,),
        lambda r: edit_json(p(r, f"{T4_MEAS_SS}/T4x1_TRT_SingleStream.json"), lambda o: o.pop("retraining")),
        [("measurements.field_missing", S, f"{T4_MEAS_SS}/T4x1_TRT_SingleStream.json")],
        (),
        status="pass-with-errors",
    ),
    M(
        "code-dir-missing",
        (ALIBABA,),
        _rm("closed/Alibaba/code/ssd-mobilenet"),
        [("measurements.code_missing", S, "closed/Alibaba/code/ssd-mobilenet")],
        (),
        status="pass-with-errors",
    ),
    # --- compliance -------------------------------------------------------------------------
    M(
        "compliance-folder-removed",
        (ALIBABA,),
        _rm(T4_COMP_SS),
        [("compliance.missing", S, T4_COMP_SS)],
        (),
        status="pass-with-errors",
        extra=_has_row(T4_SS, compilance="0"),
    ),
    M(
        "compliance-test05-fails",
        (ALIBABA,),
        lambda r: _verify(r, "TEST05", "Verifying performance.\nTEST FAIL\n"),
        [("compliance.verdict", S, f"{T4_COMP_SS}/TEST05/verify_performance.txt")],
        (),
        status="pass-with-errors",
        extra=_has_row(T4_SS, compilance="0"),
    ),
    M(
        "compliance-test01-perf-fail-ignored-by-v1.1",
        (ALIBABA,),
        lambda r: _verify(r, "TEST01", "Verifying performance.\n"),
        [("compliance.verdict_ignored", W, f"{T4_COMP_SS}/TEST01/verify_performance.txt")],
        (),
        extra=_has_row(T4_SS, compilance="1"),
    ),
    M(
        "compliance-test04a-missing",
        (ALIBABA,),
        _rm(f"{T4_COMP_SS}/TEST04-A"),
        [("compliance.test_missing", S, f"{T4_COMP_SS}/TEST04-A")],
        (),
        status="pass-with-errors",
        extra=_has_row(T4_SS, compilance="1"),
    ),  # v1.1 quirk: only the last test (TEST05) decides
    # --- power ------------------------------------------------------------------------------
    M(
        "power-window-broken",
        (KRAI,),
        _power_window,
        [("power.no_samples", D, f"{XO}/performance/run_1/spl.txt")],
        _perf(XO),
    ),
    M(
        "power-spl-blank-line",
        (KRAI,),
        _spl_blank_line,
        [("power.spl_malformed", D, f"{XS}/performance/run_1/spl.txt")],
        _perf(XS),
    ),
    M(
        "power-client-log-missing",
        (KRAI,),
        _rm(f"{XS}/performance/power/client.log"),
        [("power.file_list", D, f"{XS}/performance/power")],
        _perf(XS),
    ),
    M(
        "power-ranging-missing",
        (KRAI,),
        _rm(f"{XS}/performance/ranging"),
        [("power.dir_missing", D, f"{XS}/performance/ranging")],
        _perf(XS),
    ),
    M(
        "power-server-timezone-missing",
        (KRAI,),
        lambda r: edit_json(p(r, f"{XS}/performance/power/server.json"), lambda o: o.pop("timezone")),
        [("power.session", D, f"{XS}/performance/power/server.json")],
        _perf(XS),
    ),
    M(
        "power-spl-missing-in-run_1",
        (KRAI,),
        _rm(f"{XS}/performance/run_1/spl.txt"),
        [
            ("performance.file_list", S, f"{XS}/performance/run_1"),
            ("power.file_list", D, f"{XS}/performance/run_1"),
            ("power.spl_missing", D, f"{XS}/performance/run_1/spl.txt"),
        ],
        _perf(XS),
    ),
    M(
        "power-begin-missing",
        (KRAI,),
        lambda r: drop_detail_key(p(r, f"{XS}/performance/run_1/mlperf_log_detail.txt"), "power_begin"),
        [("power.window", D, f"{XS}/performance/run_1/mlperf_log_detail.txt")],
        _perf(XS),
    ),
    # --- open division ------------------------------------------------------------------------
    M(
        "open-missing-required-scenario-is-info",
        (EDGECORTIX_OPEN,),
        _rm("open/Edgecortix/results/edgecortix-DNA_F_SERIES/mobilenetv2/SingleStream"),
        [("benchmark.required_scenarios", I, "open/Edgecortix/results/edgecortix-DNA_F_SERIES/mobilenetv2")],
        (),
    ),
]


@pytest.mark.parametrize("m", MUTATIONS, ids=[m.id for m in MUTATIONS])
def test_mutation(m: M, tmp_path):
    root = copy_tree(tmp_path / "tree", *m.submitters)
    m.mutate(root)
    report = check_tree(root, **m.options)  # must not raise

    for check, severity, file in m.expect:
        hits = [f for f in report.findings if f.check == check and f.file and f.file.startswith(file)]
        assert hits, f"no {check} finding for {file}; got {[(f.check, f.file) for f in report.findings]}"
        assert {f.severity for f in hits} == {severity}, [(f.severity, f.message) for f in hits]
    assert report.no_results == sorted(m.no_results)
    for f in report.findings:  # every problem names its file; every error says expected vs found
        assert f.file, f
        if f.severity.level == "ERROR":
            assert f.has_expected and f.has_found, f
    invalidating = [f for f in report.findings if f.severity.invalidates]
    assert bool(invalidating) == bool(m.no_results), invalidating

    verdict = report.verdict()
    expected_status = m.status or ("fail" if m.no_results else "pass")
    assert verdict.status == expected_status, verdict.line
    assert verdict.exit_code == (1 if m.no_results else 0)
    if expected_status != "pass":
        assert "looks OK" not in verdict.line and not verdict.line.startswith("PASS:")

    text = render_text_report(report, verbose=True)
    for _, _, file in m.expect:
        assert file in text
    assert text.rstrip().endswith(verdict.line)
    doc = json.loads(json.dumps(report_to_json(report)))
    assert doc["verdict"]["status"] == expected_status
    assert len(doc["findings"]) == len(report.findings)
    if m.extra is not None:
        assert m.extra(report) is not False


def test_there_are_at_least_30_mutations():
    assert len(MUTATIONS) >= 30
    assert len({m.id for m in MUTATIONS}) == len(MUTATIONS)


def test_unmutated_copies_pass(tmp_path):
    root = copy_tree(tmp_path / "tree", ALIBABA, KRAI, OCTOML)
    report = check_tree(root)
    assert report.verdict().status == "pass" and len(report.results) == 12 and report.no_results == []


@pytest.mark.slow
def test_random_damage_never_crashes_and_every_no_result_has_a_cause(tmp_path):
    """Seeded random damage (deleted, truncated, emptied, garbled files and directories)."""
    import random

    base = copy_tree(tmp_path / "base", ALIBABA, KRAI)
    files = sorted(str(q.relative_to(base)) for q in base.rglob("*") if q.is_file())
    dirs = sorted(str(q.relative_to(base)) for q in base.rglob("*") if q.is_dir())
    rng = random.Random(20210922)
    for i in range(12):
        work = tmp_path / f"w{i}"
        shutil.copytree(base, work, symlinks=True)
        for _ in range(3):
            kind = rng.choice(["del", "trunc", "empty", "garbage", "deldir"])
            target = work / (rng.choice(dirs) if kind == "deldir" else rng.choice(files))
            if not target.exists():
                continue
            if kind == "deldir":
                shutil.rmtree(target)
            elif kind == "del":
                target.unlink()
            else:
                data = target.read_bytes()
                new = {
                    "trunc": data[: len(data) // 3],
                    "empty": b"",
                    "garbage": data + bytes(rng.randrange(256) for _ in range(40)),
                }[kind]
                target.write_bytes(new)
        for strict in (False, True):
            report = check_tree(work, strict=strict)
            render_text_report(report, verbose=True)
            json.dumps(report_to_json(report))
            assert all(
                f.file and (f.severity.level != "ERROR" or (f.has_expected and f.has_found)) for f in report.findings
            )
            causes = [f for f in report.findings if f.severity.invalidates]
            assert bool(causes) == bool(report.no_results)
            assert report.verdict().exit_code == (1 if report.no_results else 0)
        shutil.rmtree(work)
