"""``systems/<system_desc_id>.json`` (spec submission.md §3, §5.4 step 3).

FATAL for the system (its results are not looked at): the file is missing or not a JSON object;
``status`` is not available/preview/rdi (any case); ``system_type`` is not one of the round's
types; a required field is missing; ``submitter`` differs from the directory (ignoring case);
``division`` differs from the division directory (case-sensitive); a name field that the summary
quotes is not a string. WARN: a field the round does not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..context import CheckContext
from ..findings import Reporter
from ..readers import TreeFileError, parse_json_object

__all__ = ["SystemInfo", "check_system"]


@dataclass(frozen=True)
class SystemInfo:
    """A valid system description: the JSON, ``status`` lowercased, ``system_type`` as written."""

    desc: dict[str, Any]
    status: str
    system_type: str
    path: str


def check_system(ctx: CheckContext, rep: Reporter, division: str, submitter: str, system: str) -> SystemInfo | None:
    rules, tree = ctx.rules, ctx.tree
    sys_dir = tree.join(division, submitter, "systems")
    path = tree.join(sys_dir, system + ".json")
    if not tree.is_file(path):
        rep.fatal(
            "system.missing",
            f"no system description for results/{system}" + tree.case_hint(sys_dir, system + ".json"),
            file=path,
            expected="file present",
            found="missing",
        )
        return None
    try:
        desc = parse_json_object(tree.read_bytes(path), path)
    except (OSError, TreeFileError) as exc:
        rep.fatal(
            "system.json",
            str(getattr(exc, "message", exc)),
            file=path,
            expected="a JSON object",
            found=str(getattr(exc, "message", exc)),
        )
        return None

    ok = True
    status = desc.get("status")
    if "status" in desc and (not isinstance(status, str) or status.lower() not in rules.statuses):
        rep.fatal("system.status", "invalid status", file=path, expected=list(rules.statuses), found=status)
        ok = False
    system_type = desc.get("system_type")
    if "system_type" in desc and system_type not in rules.system_types():
        rep.fatal(
            "system.system_type",
            "invalid system_type",
            file=path,
            expected=list(rules.system_types()),
            found=system_type,
        )
        ok = False
    for key in rules.system_required_fields:
        if key not in desc:
            rep.fatal(
                "system.field_missing", f"required field {key!r} is missing", file=path, expected=key, found="missing"
            )
            ok = False
    known = set(rules.system_required_fields) | set(rules.system_power_fields)
    for key in desc:
        if key not in known:
            rep.warn("system.field_unknown", f"field {key!r} is unknown", file=path, found=key)
    sub = desc.get("submitter")
    if "submitter" in desc and (not isinstance(sub, str) or sub.lower() != submitter.lower()):
        rep.fatal(
            "system.submitter",
            "submitter differs from the submitter directory (compared ignoring case)",
            file=path,
            expected=submitter,
            found=sub,
        )
        ok = False
    if "division" in desc and desc.get("division") != division:
        rep.fatal(
            "system.division",
            "division differs from the division directory (case-sensitive)",
            file=path,
            expected=division,
            found=desc.get("division"),
        )
        ok = False
    for key in rules.system_string_fields:
        if key in desc and not isinstance(desc[key], str):
            rep.fatal(
                "system.field_type",
                f"field {key!r} must be a string (it is quoted in summary.csv)",
                file=path,
                expected="string",
                found=desc[key],
            )
            ok = False
    if not ok:
        return None
    return SystemInfo(desc, status.lower(), system_type, path)
