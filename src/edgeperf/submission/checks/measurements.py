"""``measurements/<sys>/<benchmark>/<scenario>/`` (spec submission.md §5.8, §5.4 step 5a).

A missing directory is FATAL (its path becomes NoResults, the scenario is still checked). Every
other problem is SOFT in v1.1 (it only adds to the ``errors`` column): a missing mlperf.conf,
user.conf or README.md; no ``<sys>*.json``; a missing implementation key in it; no code directory.
The measurement JSON is the first file, in sorted order, that starts with ``<sys>`` and ends with
``_<scenario>.json`` or ``.json`` (``<scenario>`` as the directory is spelled).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..context import CheckContext
from ..findings import Reporter
from ..readers import TreeFileError, parse_json_object

__all__ = ["MeasurementOutcome", "check_measurements"]


@dataclass(frozen=True)
class MeasurementOutcome:
    present: bool
    valid: bool
    path: str
    implementation: str | None = None


def check_measurements(
    ctx: CheckContext, rep: Reporter, division: str, submitter: str, system: str, benchmark: str, scenario: str
) -> MeasurementOutcome:
    tree, rules = ctx.tree, ctx.rules
    root = tree.join(division, submitter)
    mdir = tree.join(root, "measurements", system, benchmark, scenario)
    if not tree.is_dir(mdir):
        rep.fatal(
            "measurements.missing",
            "no measurement directory for this result",
            file=mdir,
            expected="directory present",
            found="missing",
        )
        return MeasurementOutcome(False, False, mdir)

    valid = True
    files = tree.list_files(mdir)
    for name in rules.measurement_files:
        if name not in files:
            rep.soft(
                "measurements.file_missing",
                f"{name} is missing" + tree.case_hint(mdir, name),
                file=tree.join(mdir, name),
                expected=name,
                found="missing",
            )
            valid = False

    chosen, end = None, 0
    long_suffix = f"_{scenario}.json"
    for name in files:
        if name.startswith(system) and name.endswith(long_suffix):
            chosen, end = name, len(long_suffix)
            break
        if name.startswith(system) and name.endswith(".json"):
            chosen, end = name, len(".json")
            break
    if chosen is None:
        rep.soft(
            "measurements.json_missing",
            f"no {system}*.json implementation description",
            file=mdir,
            expected=f"{system}_<implementation>_{scenario}.json",
            found="missing",
        )
        return MeasurementOutcome(True, False, mdir)

    jpath = tree.join(mdir, chosen)
    try:
        desc = parse_json_object(tree.read_bytes(jpath), jpath)
    except (OSError, TreeFileError) as exc:
        rep.soft(
            "measurements.json",
            str(getattr(exc, "message", exc)),
            file=jpath,
            expected="a JSON object",
            found=str(getattr(exc, "message", exc)),
        )
        desc, valid = {}, False
    else:
        for key in rules.measurement_json_keys:
            if key not in desc:
                rep.soft(
                    "measurements.field_missing", f"field {key!r} is missing", file=jpath, expected=key, found="missing"
                )
                valid = False

    impl = chosen[len(system) + 1 : -end]
    # code/<benchmark> may be a directory, a symlink, or a file naming the code directory to use.
    code_entry = tree.join(root, "code", benchmark)
    if tree.is_file(code_entry):
        try:
            target = tree.read_shared(code_entry).decode("utf-8", errors="replace").strip()
        except OSError:
            target = ""
        base = tree.join(root, "code", target)
    else:
        base = code_entry
    # v1.1 accepts code/<benchmark>/<impl> or, failing that, code/<benchmark> itself.
    if not tree.exists(base):
        rep.soft(
            "measurements.code_missing",
            "no code directory for this benchmark",
            file=tree.join(base, impl),
            expected="directory present",
            found="missing",
        )
        valid = False
    return MeasurementOutcome(True, valid, mdir, impl)
