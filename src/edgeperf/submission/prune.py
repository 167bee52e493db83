"""Copy a submission tree without the results the checker drops (``edgeperf check TREE --prune-invalid OUT``).

The official tools later gained a preprocessing step that moves invalid results out of a tree so
that the rest can still be uploaded; this is edgeperf's version for the v1.1 rules. A result the
checker records as NoResults (a scenario, or a whole benchmark when a closed-division required
scenario is missing) is left out of the copy together with its ``measurements/`` and
``compliance/`` folders. Leaving a scenario out can make its benchmark lack a required scenario,
so the copy is checked again and pruned until the checker drops nothing. The source tree is
never written to.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import NotAFolderError, OutputExistsError, UsageError
from .results import CheckOptions, CheckReport
from .walk import check_tree

__all__ = ["PrunedResult", "PruneReport", "prune_invalid"]

_MAX_ROUNDS = 4  # scenario -> benchmark -> (nothing further can cascade)


@dataclass(frozen=True)
class PrunedResult:
    """One result left out: its results/ path (relative, forward slashes) and why."""

    location: str
    reasons: tuple[str, ...]


@dataclass
class PruneReport:
    """What ``prune_invalid`` left out, and the check of the copy."""

    output: Path
    pruned: list[PrunedResult] = field(default_factory=list)
    check: CheckReport | None = None


def _result_dir(key: str) -> tuple[str, ...] | None:
    """``closed/Org/results/sys/bench[/scen]`` or ``.../measurements/...`` -> (division, org, sys, bench[, scen])."""
    parts = key.split("/")
    if len(parts) in (5, 6) and parts[2] in ("results", "measurements", "compliance"):
        return (parts[0], parts[1], *parts[3:])
    return None


def _reasons(report: CheckReport, key: str) -> tuple[str, ...]:
    where = _result_dir(key)
    out = []
    for f in report.findings:
        if not f.severity.invalidates:
            continue
        s = f.scope
        scope = tuple(p for p in (s.division, s.submitter, s.system, s.benchmark, s.scenario) if p is not None)
        if where is not None and scope[: len(where)] == where:
            out.append(f"{f.check}: {f.message}")
    return tuple(dict.fromkeys(out)) or ("recorded as NoResults",)


def _remove(out: Path, where: tuple[str, ...]) -> None:
    division, org, *rest = where
    for area in ("results", "measurements", "compliance"):
        target = out.joinpath(division, org, area, *rest)
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
        # a benchmark or system left empty goes too
        parent = target.parent
        stop = out.joinpath(division, org, area)
        while parent != stop and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
    system = rest[0]
    if not out.joinpath(division, org, "results", system).exists():
        sysjson = out.joinpath(division, org, "systems", f"{system}.json")
        if sysjson.exists():
            sysjson.unlink()


def prune_invalid(
    tree: str | os.PathLike,
    output: str | os.PathLike,
    options: CheckOptions | None = None,
    report: CheckReport | None = None,
) -> PruneReport:
    """Copy ``tree`` to ``output`` without the results the checker drops; return what was left out.

    ``output`` must not exist (nothing is overwritten); ``report`` is a check of ``tree`` with the
    same ``options`` if one was already made. Raises FileExistsError, NotADirectoryError, ValueError.
    """
    src, out = Path(tree), Path(output)
    options = options or CheckOptions()
    if not src.is_dir():
        raise NotAFolderError(f"{src}: not a directory (expected a submission tree)")
    if out.exists():
        raise OutputExistsError(f"{out} exists; --prune-invalid writes a new tree (remove it or choose another path)")
    if out.resolve().is_relative_to(src.resolve()):
        raise UsageError(f"{out}: the pruned copy cannot be inside the tree it copies ({src})")
    report = report or check_tree(src, options)
    tmp = out.with_name(f".{out.name}.partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    shutil.copytree(src, tmp, symlinks=True)
    result = PruneReport(out)
    try:
        for _ in range(_MAX_ROUNDS):
            dropped = [k for k in report.no_results if _result_dir(k) is not None]
            if not dropped:
                break
            for key in dropped:
                where = _result_dir(key)
                assert where is not None
                loc = "/".join((where[0], where[1], "results", *where[2:]))
                if not any(p.location == loc for p in result.pruned):
                    result.pruned.append(PrunedResult(loc, _reasons(report, key)))
                _remove(tmp, where)
            report = check_tree(tmp, options)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result.check = report
    return result
