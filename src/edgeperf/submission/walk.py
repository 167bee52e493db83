"""Walking a submission tree with the v1.1 algorithm (spec submission.md §5.4): ``check_tree``.

division -> submitter -> results/<system> (system check) -> <benchmark> (model class, allowed for
the system type) -> <scenario> (measurements, accuracy, performance, power, compliance), then the
required-scenario check per benchmark. Every listing is sorted, so summary rows and the per-model
``errors`` count (which accumulates over the scenarios of a benchmark) are deterministic. Systems are
independent, so they can be checked in worker processes and merged back in walk order.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from concurrent.futures import ProcessPoolExecutor

from ..errors import NotAFolderError, UsageError
from .checks.accuracy import check_accuracy
from .checks.compliance import check_compliance
from .checks.measurements import check_measurements
from .checks.performance import check_performance
from .checks.power import check_power
from .checks.system import SystemInfo, check_system
from .context import CheckContext, CheckOptions
from .findings import Reporter, Scope
from .results import CheckReport, ScenarioResult
from .summary_csv import SummaryRow
from .tree import ReadStats, Tree, files_diff

__all__ = ["check_tree"]


def check_tree(root: str | os.PathLike, options: CheckOptions | None = None, *, workers: int = 1, **kw) -> CheckReport:
    """Check the submission tree at ``root`` (the directory holding ``closed/`` and ``open/``).

    ``options`` or keyword arguments of :class:`CheckOptions`. Never raises for problems in the
    tree: they are findings. Raises NotADirectoryError if ``root`` is not a directory and
    ValueError for an unknown round.

    ``workers`` > 1 checks the systems (``<division>/<submitter>/results/<system>``) in that many
    processes. Each system's findings, result-map entries and summary rows are merged in the
    order of the serial walk, so the report -- text, summary.csv, JSON -- is identical to a
    serial run's.
    """
    options = options or CheckOptions(**kw)
    if not os.path.isdir(root):
        raise NotAFolderError(f"{os.fspath(root)}: not a directory (expected a submission tree)")
    start = time.perf_counter()
    tree = Tree(root)
    ctx = CheckContext(tree, options.rules(), options)
    report = CheckReport(tree.root, options, findings=ctx.findings, read_stats=tree.stats)
    if options.submitter is not None:
        _require_submitter(tree, ctx, options.submitter)
    steps = _plan(ctx)
    systems = [step for step in steps if isinstance(step, tuple)]
    if workers > 1 and len(systems) > 1:
        outcomes = _parallel(tree.root, options, systems, workers)
    else:
        outcomes = (_check_one_system(ctx, *unit) for unit in systems)
    for step in steps:
        if isinstance(step, tuple):
            findings, entries, rows, stats = next(outcomes)
            report.findings.extend(findings)
            report.entries.update(entries)
            report.rows.extend(rows)
            if stats is not tree.stats:
                report.read_stats.merge(stats)
        else:
            report.findings.append(step)
    report.elapsed_s = time.perf_counter() - start
    return report


def _plan(ctx: CheckContext) -> list:
    """The serial walk down to the systems: each step a Finding or a (division, submitter, system)."""
    tree, options = ctx.tree, ctx.options
    steps: list = []
    top = Reporter(steps, Scope(), options.strict)
    for division in tree.list_dirs(""):
        if division not in ctx.rules.divisions:
            if division not in ctx.rules.ignored_top_level:
                top.soft(
                    "tree.division",
                    "not a division directory; ignored",
                    file=division,
                    expected=list(ctx.rules.divisions),
                    found=division,
                )
            continue
        for submitter in tree.list_dirs(division):
            if options.submitter is not None and submitter != options.submitter:
                continue
            rep = top.child(division=division, submitter=submitter)
            results = tree.join(division, submitter, "results")
            if not tree.is_dir(results):
                rep.info("tree.no_results", "no results/ directory; skipped", file=tree.join(division, submitter))
                continue
            steps.extend((division, submitter, system) for system in tree.list_dirs(results))
    return steps


def _check_one_system(ctx: CheckContext, division: str, submitter: str, system: str) -> tuple:
    """(findings, result-map entries in order, summary rows, read stats) of one system directory."""
    tree = ctx.tree
    findings: list = []
    sub = CheckReport(tree.root, ctx.options, findings=findings, read_stats=tree.stats)
    rep = Reporter(findings, Scope(division=division, submitter=submitter, system=system), ctx.options.strict)
    _check_system_dir(CheckContext(tree, ctx.rules, ctx.options, findings), sub, rep, division, submitter, system)
    for area in ("results", "measurements", "compliance"):  # keep memory flat: these are never listed again
        tree.forget(tree.join(division, submitter, area, system))
    return findings, list(sub.entries.items()), sub.rows, tree.stats


_worker_ctx: CheckContext | None = None


def _init_worker(root: str, options: CheckOptions) -> None:
    global _worker_ctx
    _worker_ctx = CheckContext(Tree(root), options.rules(), options)


def _check_in_worker(unit: tuple[str, str, str]) -> tuple:
    ctx = _worker_ctx
    assert ctx is not None, "_init_worker sets the context in every worker process"
    ctx.tree.stats = ReadStats()  # this system's counts only; the parent adds them up
    return _check_one_system(ctx, *unit)


def _parallel(root: str, options: CheckOptions, systems: list, workers: int):
    """The systems' outcomes, in order, computed by a pool of ``workers`` processes."""
    method = "fork" if "fork" in mp.get_all_start_methods() else None
    with ProcessPoolExecutor(
        max_workers=min(workers, len(systems)),
        mp_context=mp.get_context(method),
        initializer=_init_worker,
        initargs=(root, options),
    ) as pool:
        yield from pool.map(_check_in_worker, systems)


def _require_submitter(tree, ctx: CheckContext, submitter: str) -> None:
    """``--submitter X`` for a submitter the tree does not have: name the ones it has."""
    present = sorted({s for d in tree.list_dirs("") if d in ctx.rules.divisions for s in tree.list_dirs(d)})
    if submitter not in present:
        known = ", ".join(present) if present else "none (no closed/, open/ or network/ submitter folders)"
        raise UsageError(
            f"--submitter {submitter}: no such submitter in {tree.root}; the submitters there are: {known}"
        )


def _check_system_dir(
    ctx: CheckContext, report: CheckReport, rep: Reporter, division: str, submitter: str, system: str
) -> None:
    tree, rules = ctx.tree, ctx.rules
    sys_key = tree.join(division, submitter, "results", system)
    info = check_system(ctx, rep, division, submitter, system)
    if info is None:
        report.entries[sys_key] = None
        return
    is_closed = division == "closed"
    for benchmark in tree.list_dirs(sys_key):
        brep = rep.child(benchmark=benchmark)
        model_key = tree.join(sys_key, benchmark)
        mlperf_model = rules.mlperf_model(benchmark)
        if is_closed and mlperf_model not in rules.models:
            brep.fatal(
                "benchmark.model",
                "not a closed-division benchmark",
                file=model_key,
                expected=list(rules.models),
                found=f"{benchmark} -> {mlperf_model}",
            )
            report.entries[model_key] = None
            continue
        required = rules.required_scenarios(info.system_type, mlperf_model)
        if required is None:
            brep.fatal(
                "benchmark.system_type",
                f"model class {mlperf_model!r} is not allowed for a {info.system_type!r} system",
                file=model_key,
                found=mlperf_model,
                expected=sorted(rules.scenarios[info.system_type][0]),
            )
            report.entries[model_key] = None
            continue
        allowed = set(required) | set(rules.optional_scenarios(info.system_type, mlperf_model))
        remaining = set(required)
        errors = 0
        for scenario in tree.list_dirs(model_key):
            errors = _check_scenario(
                ctx,
                report,
                brep.child(scenario=scenario),
                info,
                division,
                submitter,
                system,
                benchmark,
                scenario,
                mlperf_model,
                allowed,
                remaining,
                errors,
            )
        if remaining:
            missing = sorted(remaining)
            if is_closed:
                brep.fatal(
                    "benchmark.required_scenarios",
                    "does not have all required scenarios",
                    file=model_key,
                    expected=sorted(required),
                    found=f"missing {missing}",
                )
                report.entries[model_key] = None
            else:
                (brep.warn if ctx.options.debug else brep.info)(
                    "benchmark.required_scenarios",
                    "missing scenarios (allowed in the open division)",
                    file=model_key,
                    expected=sorted(required),
                    found=f"missing {missing}",
                )


def _check_scenario(
    ctx: CheckContext,
    report: CheckReport,
    rep: Reporter,
    info: SystemInfo,
    division: str,
    submitter: str,
    system: str,
    benchmark: str,
    scenario: str,
    mlperf_model: str,
    allowed: set[str],
    remaining: set[str],
    errors: int,
) -> int:
    tree, rules = ctx.tree, ctx.rules
    is_closed = division == "closed"
    name = tree.join(division, submitter, "results", system, benchmark, scenario)
    fixed = rules.scenario_dir_aliases.get(scenario, scenario)
    report.entries[name] = None
    if is_closed and fixed not in allowed:
        rep.drop(
            "scenario.not_allowed",
            f"scenario {scenario!r} is neither required nor optional for "
            f"{mlperf_model} on a {info.system_type} system (v1.1 ignores it and records NoResults)",
            file=name,
            expected=sorted(allowed),
            found=scenario,
        )
        return errors

    meas = check_measurements(ctx, rep, division, submitter, system, benchmark, scenario)
    if not meas.present:
        report.entries[meas.path] = None
        errors += 1
    elif not meas.valid:
        errors += 1

    acc = check_accuracy(ctx, rep, name, mlperf_model, is_closed)
    if acc.counts_as_error:
        errors += 1

    perf_dir = tree.join(name, "performance")
    run_dir = tree.join(perf_dir, "run_1")
    value = power = None
    inferred = False
    if not tree.is_dir(run_dir):
        rep.drop(
            "performance.run_missing",
            "performance/run_1 is missing",
            file=run_dir,
            expected="directory present",
            found="missing",
        )
    else:
        has_power = tree.is_dir(tree.join(perf_dir, "power"))
        needed = rules.perf_files + (rules.perf_power_files if has_power else ())
        diff = files_diff(tree.list_files(run_dir), needed, rules.perf_optional_files, rules.files_diff_ignored)
        if diff:
            rep.soft("performance.file_list", "file list mismatch", file=run_dir, expected=list(needed), found=diff)
        before = rep.invalidating_count
        perf = check_performance(ctx, rep, run_dir, mlperf_model, fixed)
        valid = perf.valid
        if has_power:
            power_ok, power = check_power(ctx, rep, perf_dir, fixed, perf.detail)
            valid = valid and power_ok
        if valid:
            value, inferred = perf.result, perf.inferred
            remaining.discard(fixed)
        else:
            if rep.invalidating_count == before:  # safety net: every drop names its cause
                rep.drop(
                    "performance.invalid",
                    "the performance run is not valid",
                    file=run_dir,
                    expected="valid",
                    found="invalid",
                )
            errors += 1
            power = None
        extra = [r for r in tree.list_dirs(perf_dir) if r not in ("run_1", "power", "ranging")]
        if extra:
            rep.info(
                "performance.extra_runs",
                "only run_1 is checked; other directories are ignored",
                file=perf_dir,
                found=extra,
            )

    compliance = 0 if is_closed else 1
    if is_closed and not ctx.options.skip_compliance:
        if check_compliance(ctx, rep, division, submitter, system, benchmark, scenario, mlperf_model):
            compliance = 1

    if value is not None:
        if acc.valid:
            result = ScenarioResult(
                name,
                division,
                submitter,
                system,
                benchmark,
                mlperf_model,
                fixed,
                value,
                rules.perf_units.get(fixed, ""),
                acc.value,
                inferred,
                power,
                compliance,
                errors,
            )
            report.entries[name] = result
            report.rows.extend(_rows(result, info, ctx))
        # else: the accuracy findings already dropped it
    return errors


def _rows(r: ScenarioResult, info: SystemInfo, ctx: CheckContext) -> list[SummaryRow]:
    d = info.desc
    notes = d.get("hw_notes", "")
    if d.get("sw_notes"):
        notes = f"{notes}. {d.get('sw_notes')}"
    values = {
        "Organization": r.submitter,
        "Availability": info.status,
        "Division": r.division,
        "SystemType": info.system_type,
        "SystemName": d.get("system_name"),
        "Platform": r.system,
        "Model": r.benchmark,
        "MlperfModel": r.mlperf_model,
        "Scenario": r.scenario,
        "Result": r.value,
        "Accuracy": r.accuracy,
        "number_of_nodes": d.get("number_of_nodes"),
        "host_processor_model_name": d.get("host_processor_model_name"),
        "host_processors_per_node": d.get("host_processors_per_node"),
        "host_processor_core_count": d.get("host_processor_core_count"),
        "accelerator_model_name": d.get("accelerator_model_name"),
        "accelerators_per_node": d.get("accelerators_per_node"),
        "Location": r.location,
        "framework": d.get("framework", ""),
        "operating_system": d.get("operating_system", ""),
        "notes": notes,
        "compilance": r.compliance,
        "errors": r.errors,
        "version": ctx.rules.version,
        "infered": int(r.inferred),
        "has_power": r.has_power,
        "Units": r.units,
    }
    rows = [SummaryRow(values)]
    if r.has_power:
        rows.append(SummaryRow({**values, "Result": r.power.value, "Units": r.power.unit}))
    return rows
