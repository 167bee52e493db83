"""Lay ``edgeperf run`` / ``edgeperf compliance run`` output folders out as a v1.1 submission tree.

Expected ``--runs`` layout (one folder per benchmark and scenario, named as ``edgeperf`` names
them; scenario folder names are matched case-insensitively)::

    <runs>/
      user.conf                                  # optional, for every benchmark/scenario
      <benchmark>/                               # resnet50, ssd-mobilenet, bert-99, rnnt, ...
        user.conf  measurement.json              # optional, for every scenario of the benchmark
        <scenario>/                              # SingleStream, Offline, ...
          performance/                           # `edgeperf run --mode performance --output` here
                                                 #   (the logs directly, or in run_1/)
          accuracy/                              # `edgeperf run --mode accuracy --output` here
          TEST01/ TEST04-A/ TEST04-B/ TEST05/    # `edgeperf compliance run <TEST> --output` here
          user.conf  measurement.json            # optional, this scenario only

The tree written to ``output`` (the folder that holds ``closed/`` or ``open/``)::

    <division>/<submitter>/
      systems/<system>.json
      code/<model>/README.md
      results/<system>/<model>/<scenario>/{performance/run_1, accuracy}
      measurements/<system>/<model>/<scenario>/{README.md, user.conf, mlperf.conf,
                                                <system>_<impl>_<scenario>.json}
      compliance/<system>/<model>/<scenario>/<TEST>/   (closed division)

``<model>`` is the benchmark folder name the v1.1 tree uses (``resnet50``, ``ssd-mobilenet``,
``ssd-resnet34``, ``bert-99``, ``rnnt``, ``3d-unet-99``, ...): the checker maps it to its model
class. ``<system>`` is the system JSON's file name without ``.json`` unless given.

Compliance folders without verify files are verified here (against the untruncated results),
then every accuracy log is hashed and truncated as the official tool does. The system JSON and
the runs are checked first, every problem listed at once; the tree is built in a temporary
folder beside ``output`` and renamed into place, so a failed build leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ...errors import EdgeperfError, OutputExistsError
from ..._atomic import _WRITE_ERRNOS, OutputError, _reason, check_output_dir, refuse_overlap
from ..rules import V1_1, RoundRules
from .system_json import (
    SystemJsonError,
    empty_meaningful_fields,
    load_system_json,
    unknown_fields,
    validate_system_json,
)
from .truncation import TruncationReport, truncate_tree

__all__ = [
    "BuildError",
    "BuildResult",
    "ScenarioRuns",
    "build_submission",
    "discover_runs",
    "model_folder",
    "DEFAULT_IMPLEMENTATION",
    "DEFAULT_MEASUREMENT",
]

DEFAULT_IMPLEMENTATION = "edgeperf"
#: Measurement JSON used when the runs folder has no measurement.json (every key the checker needs).
DEFAULT_MEASUREMENT = {
    "input_data_types": "fp32",
    "retraining": "No",
    "starting_weights_filename": "the reference model of the benchmark (see README.md)",
    "weight_data_types": "fp32",
    "weight_transformations": "none",
}
_SCENARIOS = {"singlestream": "SingleStream", "multistream": "MultiStream", "server": "Server", "offline": "Offline"}
_SKIPPED_FILES = ("mlperf_log_trace.json",)


class BuildError(EdgeperfError, ValueError):
    """The runs cannot make a tree; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        if len(self.problems) == 1:  # one problem, one line
            super().__init__(f"cannot build the submission tree: {self.problems[0]}")
            return
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"cannot build the submission tree ({len(self.problems)} problem(s)):\n{lines}")


@dataclass
class ScenarioRuns:
    """The folders of one benchmark and scenario under ``--runs``."""

    benchmark: str  # edgeperf name
    folder: str  # the tree's benchmark folder name
    scenario: str  # CamelCase
    source: Path
    performance: Path  # the folder holding the performance logs
    accuracy: Path
    compliance: dict[str, Path] = field(default_factory=dict)
    user_conf: Path | None = None
    measurement: Path | None = None


@dataclass
class BuildResult:
    """What :func:`build_submission` wrote."""

    output: Path
    root: Path  # output/<division>/<submitter>
    system: str
    scenarios: list[ScenarioRuns]
    verified: list[str] = field(default_factory=list)  # compliance folders verified here
    truncation: TruncationReport | None = None
    warnings: list[str] = field(default_factory=list)


def model_folder(benchmark: str, rules: RoundRules = V1_1) -> str:
    """The v1.1 tree's folder name of an edgeperf benchmark: its name when the checker maps it to
    the benchmark's model class (``resnet50`` → resnet), else the class itself."""
    from ...benchmarks.registry import get_benchmark

    bench = get_benchmark(benchmark)
    if bench.division == "open":
        # An Open-division model keeps its own name; the checker is told its class through the
        # extra model map (the official --extra-model-benchmark-map), e.g. demo-digits:resnet.
        return bench.name
    return bench.name if rules.mlperf_model(bench.name) == bench.checker_model else bench.checker_model


def _perf_dir(folder: Path) -> Path | None:
    for cand in (folder / "run_1", folder):
        if (cand / "mlperf_log_detail.txt").is_file():
            return cand
    return None


def _first_file(*candidates: Path) -> Path | None:
    return next((c for c in candidates if c.is_file()), None)


def discover_runs(
    runs: str | os.PathLike,
    division: str = "closed",
    *,
    rules: RoundRules = V1_1,
    user_conf: str | os.PathLike | None = None,
) -> tuple[list[ScenarioRuns], list[str], list[str]]:
    """The scenarios under ``runs``: (scenarios, problems, warnings). Problems stop a build."""
    from ...benchmarks.registry import get_benchmark
    from ...compliance.audit import required_tests

    runs = Path(runs)
    problems: list[str] = []
    warnings: list[str] = []
    found: list[ScenarioRuns] = []
    if not runs.is_dir():
        return [], [f"{runs}: not a directory (expected <runs>/<benchmark>/<scenario>/...)"], []
    for bdir in sorted(p for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            bench = get_benchmark(bdir.name)
        except (KeyError, ValueError) as exc:
            problems.append(f"{bdir.name}: not an edgeperf benchmark ({exc.args[0] if exc.args else exc})")
            continue
        folder = model_folder(bench.name, rules)
        for sdir in sorted(p for p in bdir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            scenario = _SCENARIOS.get(sdir.name.lower())
            rel = f"{bdir.name}/{sdir.name}"
            if scenario is None:
                problems.append(f"{rel}: not a scenario folder (SingleStream, MultiStream, Server or Offline)")
                continue
            perf = _perf_dir(sdir / "performance")
            if perf is None:
                problems.append(
                    f"{rel}/performance: no mlperf_log_detail.txt (the output of `edgeperf run --mode performance`)"
                )
            acc = sdir / "accuracy"
            missing = [f for f in rules.accuracy_files if not (acc / f).is_file()]
            if missing:
                problems.append(
                    f"{rel}/accuracy: missing {', '.join(missing)} (the output of `edgeperf run --mode accuracy`)"
                )
            tests = {}
            for t in (p for p in sdir.iterdir() if p.is_dir() and p.name.upper().startswith("TEST")):
                tests[t.name.upper()] = t
            if division == "closed":
                wanted = [t.value for t in required_tests(bench.name, scenario)]
                lacking = [t for t in wanted if t not in tests]
                if lacking:
                    warnings.append(
                        f"{rel}: no compliance run for {', '.join(lacking)} "
                        "(the checker reports the missing compliance tests)"
                    )
            conf = _first_file(sdir / "user.conf", bdir / "user.conf", runs / "user.conf")
            if conf is None and user_conf is not None:
                conf = Path(user_conf)
            meas = _first_file(sdir / "measurement.json", bdir / "measurement.json")
            if perf is not None and not missing:
                found.append(ScenarioRuns(bench.name, folder, scenario, sdir, perf, acc, tests, conf, meas))
    if not found and not problems:
        problems.append(f"{runs}: no <benchmark>/<scenario> folders with runs")
    folders = {}
    for s in found:
        key = (s.folder, s.scenario)
        if key in folders:
            problems.append(f"{s.benchmark}/{s.scenario} and {folders[key]}: both make {s.folder}/{s.scenario}")
        folders[key] = f"{s.benchmark}/{s.scenario}"
    return found, problems, warnings


def _copy_files(src: Path, dst: Path, names: tuple[str, ...] | None = None) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for f in sorted(src.iterdir()):
        if f.is_file() and f.name not in _SKIPPED_FILES and (names is None or f.name in names):
            shutil.copy2(f, dst / f.name)


def _power_files(perf: Path, names: tuple[str, ...]) -> tuple[str, ...]:
    """spl.txt goes with run_1 only when the run was measured for power (power/ beside run_1)."""
    return names if perf.name == "run_1" and (perf.parent / "power").is_dir() else ()


def _copy_power(perf: Path, dst: Path, rules: RoundRules) -> None:
    """A run with power (``performance/{power,ranging,run_1}`` from ``edgeperf run --power``): copy
    power/ and ranging/ byte for byte, since client.json and server.json hold their SHA-1s."""
    if perf.name != "run_1" or not (perf.parent / "power").is_dir():
        return
    _copy_files(perf.parent / "power", dst / "power", rules.power_files)
    if (perf.parent / "ranging").is_dir():
        _copy_files(
            perf.parent / "ranging",
            dst / "ranging",
            rules.perf_files + rules.perf_optional_files + rules.perf_power_files,
        )


def _copy_test(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(*_SKIPPED_FILES, "audit.config", ".*"))


def _measurement(s: ScenarioRuns, rules: RoundRules, problems: list[str]) -> dict:
    if s.measurement is None:
        return dict(DEFAULT_MEASUREMENT)
    try:
        data = json.loads(s.measurement.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(f"{s.measurement}: not a readable JSON object ({exc})")
        return {}
    if not isinstance(data, dict):
        problems.append(f"{s.measurement}: not a JSON object")
        return {}
    missing = [k for k in rules.measurement_json_keys if k not in data]
    if missing:
        problems.append(f"{s.measurement}: missing {', '.join(missing)}")
    return data


def _readme(s: ScenarioRuns, system: str) -> str:
    cmd = (
        f"edgeperf run {s.benchmark} --scenario {s.scenario} --model <model> --dataset <dataset> --user-conf user.conf"
    )
    lines = [
        f"# {s.folder} {s.scenario} on {system}",
        "",
        "Made with edgeperf, an independent pure-Python implementation of the MLPerf(TM) Inference v1.1",
        "Edge suite (not an official MLPerf result unless reviewed as one).",
        "",
        "## Reproduce",
        "",
        "```",
        f"{cmd} --mode performance --output performance",
        f"{cmd} --mode accuracy --output accuracy",
    ]
    for test in sorted(s.compliance):
        lines.append(
            f"edgeperf compliance run {test} {s.benchmark} --scenario {s.scenario} --model <model> "
            f"--dataset <dataset> --user-conf user.conf --output {test}"
        )
    lines += ["```", "", "mlperf.conf is the shipped v1.1 one; user.conf holds this run's overrides.", ""]
    return "\n".join(lines)


def _code_readme(folder: str, benchmarks: list[str]) -> str:
    try:
        from importlib.metadata import version

        v = version("edgeperf")
    except Exception:
        v = "unknown"
    return (
        f"# {folder}\n\nImplementation: edgeperf {v} (pure Python; benchmark definition "
        f"{', '.join(sorted(set(benchmarks)))} in edgeperf.benchmarks).\n\n"
        "Install with `pip install edgeperf` and run the commands in each scenario's measurements README.md.\n"
    )


def _verify(
    s: ScenarioRuns,
    results_dir: Path,
    comp_dir: Path,
    verified: list[str],
    warnings: list[str],
    rel: str,
    rules: RoundRules = V1_1,
) -> None:
    from ...compliance.verify import verify_compliance

    for test in sorted(s.compliance):
        tdir = comp_dir / test
        if test in rules.compliance_no_verify_tests:
            continue  # TEST04-B: verified as the pair from TEST04-A (its verify file lives there)
        needs = ["verify_performance.txt"] + (["verify_accuracy.txt"] if test == rules.compliance_accuracy_test else [])
        if all((tdir / n).is_file() for n in needs):
            continue
        if test == "TEST04-A" and not (comp_dir / "TEST04-B").is_dir():
            warnings.append(f"{rel}/TEST04-A: no TEST04-B to verify against")
            continue
        try:
            outcome = verify_compliance(test, results_dir, tdir, benchmark=s.benchmark)
        except (EdgeperfError, OSError) as exc:  # a verification that cannot run: the checker will report it
            warnings.append(f"{rel}/{test}: not verified ({exc})")
            continue
        verified.append(f"{rel}/{test}")
        if not outcome.passed:
            warnings.append(f"{rel}/{test}: verification FAILED")


def build_submission(
    runs: str | os.PathLike,
    system: str | os.PathLike | Mapping[str, Any],
    submitter: str,
    division: str,
    output: str | os.PathLike,
    *,
    system_name: str | None = None,
    implementation: str = DEFAULT_IMPLEMENTATION,
    user_conf: str | os.PathLike | None = None,
    force: bool = False,
    verify: bool = True,
    truncate: bool = True,
    rules: RoundRules = V1_1,
    open_compliance: bool = False,
) -> BuildResult:
    """Build a submission tree at ``output`` from the ``runs`` folder (layout in the module doc).

    ``system`` is the system JSON's path (the system name defaults to its stem) or its content
    (then ``system_name`` is needed). Raises :class:`SystemJsonError` or :class:`BuildError` listing
    every problem before anything is written, and FileExistsError when ``output`` exists and not
    ``force`` (with ``force`` the old tree is replaced whole once the new one is complete).
    Compliance folders go into a closed tree; ``open_compliance`` puts (and verifies) them in an
    open tree too, where the v1.1 checker does not require them (``edgeperf demo`` shows them).
    """
    from ...loadgen.settings import default_mlperf_conf_path

    if division not in rules.divisions:
        raise BuildError([f"division {division!r} is not one of {', '.join(rules.divisions)}"])
    if not submitter or "/" in submitter or submitter in (".", ".."):
        raise BuildError([f"submitter {submitter!r} cannot be a folder name"])
    if isinstance(system, Mapping):
        if not system_name:
            raise BuildError(["system_name is needed when the system description is given as data"])
        problems = validate_system_json(system, division=division, submitter=submitter, rules=rules)
        if problems:
            raise SystemJsonError("system description", problems)
        system_data = dict(system)
    else:
        system_data = load_system_json(system, division=division, submitter=submitter, rules=rules)
        system_name = system_name or Path(system).name.removesuffix(".json")
    if not system_name or "/" in system_name or system_name.startswith("."):
        raise BuildError([f"system name {system_name!r} cannot be a folder name"])
    output = Path(output)
    refuse_overlap(
        {"--output": output},
        {"--runs": runs, "--system": None if isinstance(system, Mapping) else system, "--user-conf": user_conf},
    )
    if output.exists() and not force:
        raise OutputExistsError(f"{output} exists; pass --force to replace it")
    if output.exists() and not output.is_dir():
        raise BuildError([f"{output} exists and is not a directory"])
    check_output_dir(output)  # an unwritable place is named as the user wrote it, not as our staging folder

    scenarios, problems, warnings = discover_runs(runs, division, rules=rules, user_conf=user_conf)
    if user_conf is not None and not Path(user_conf).is_file():
        problems.append(f"{user_conf}: user.conf not found")
    measurements = {id(s): _measurement(s, rules, problems) for s in scenarios}
    if problems:
        raise BuildError(problems)
    warnings += [
        f"systems/{system_name}.json: field {k} is unknown to the v1.1 checker"
        for k in unknown_fields(system_data, rules)
    ]
    warnings += [
        f"systems/{system_name}.json: {k} is empty; the rules ask for a meaningful value"
        for k in empty_meaningful_fields(system_data)
    ]

    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.edgeperf-build-", dir=output.parent))
    try:
        root = staging / division / submitter
        (root / "systems").mkdir(parents=True)
        (root / "systems" / f"{system_name}.json").write_text(
            json.dumps(system_data, indent=2) + "\n", encoding="utf-8"
        )
        mlperf_conf = Path(default_mlperf_conf_path())
        verified: list[str] = []
        by_folder: dict[str, list[str]] = {}
        for s in scenarios:
            rel = f"{s.folder}/{s.scenario}"
            by_folder.setdefault(s.folder, []).append(s.benchmark)
            res = root / "results" / system_name / s.folder / s.scenario
            _copy_files(
                s.performance,
                res / "performance" / "run_1",
                rules.perf_files + rules.perf_optional_files + _power_files(s.performance, rules.perf_power_files),
            )
            _copy_power(s.performance, res / "performance", rules)
            _copy_files(s.accuracy, res / "accuracy", rules.accuracy_files)
            meas = root / "measurements" / system_name / s.folder / s.scenario
            meas.mkdir(parents=True)
            shutil.copyfile(mlperf_conf, meas / "mlperf.conf")
            if s.user_conf is not None:
                shutil.copyfile(s.user_conf, meas / "user.conf")
            else:
                (meas / "user.conf").write_text("# no user.conf overrides: the shipped v1.1 mlperf.conf alone\n")
                warnings.append(f"{rel}: no user.conf found; wrote an empty one")
            if s.measurement is None:
                warnings.append(f"{rel}: no measurement.json; wrote edgeperf's defaults (fp32, no retraining)")
            (meas / f"{system_name}_{implementation}_{s.scenario}.json").write_text(
                json.dumps(measurements[id(s)], indent=2) + "\n", encoding="utf-8"
            )
            (meas / "README.md").write_text(_readme(s, system_name), encoding="utf-8")
            if (division == "closed" or open_compliance) and s.compliance:
                comp = root / "compliance" / system_name / s.folder / s.scenario
                comp.mkdir(parents=True)
                for test, src in sorted(s.compliance.items()):
                    _copy_test(src, comp / test)
                if verify:
                    _verify(s, res, comp, verified, warnings, rel, rules)
        for folder, benches in by_folder.items():
            code = root / "code" / folder
            code.mkdir(parents=True)
            (code / "README.md").write_text(_code_readme(folder, benches), encoding="utf-8")
        trunc = truncate_tree(staging, submitter) if truncate else None
        if trunc is not None:
            warnings += [f"truncation: {p}" for p in trunc.problems]
        old = None
        if output.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{output.name}.edgeperf-old-", dir=output.parent))
            os.rename(output, old / "tree")
        os.rename(staging, output)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError) and exc.errno in _WRITE_ERRNOS:
            # shutil names the file it copied from; what failed is writing the tree
            raise OutputError(output, f"{_reason(exc)}; nothing was written", exc.errno) from None
        raise
    return BuildResult(output, output / division / submitter, system_name, scenarios, verified, trunc, warnings)
