"""``results/.../<scenario>/accuracy/`` (spec submission.md §5.5, §5.4 step 5b).

A missing accuracy.txt drops the result in both divisions. In closed, each of these drops it too:
no accuracy line or a value below the class target, no ``hash=`` line, a missing or untruncated
(> 10240 bytes) mlperf_log_accuracy.json, a missing detail log or one with LoadGen errors. In open
the same problems are logged (SOFT, or INFO for the accuracy value) and the result is accepted. A
file-list mismatch of the directory is SOFT.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..._numbers import num
from ..context import CheckContext
from ..findings import Reporter, Severity
from ..readers import scan_accuracy_txt
from ..tree import files_diff
from .detail import check_detail_errors, read_detail

__all__ = ["AccuracyOutcome", "check_accuracy"]


@dataclass(frozen=True)
class AccuracyOutcome:
    """``valid`` after the open-division override; ``value`` is the captured string (or None)."""

    valid: bool
    value: str | None
    has_accuracy_txt: bool
    counts_as_error: bool  # closed and invalid: adds one to the ``errors`` column


def check_accuracy(
    ctx: CheckContext, rep: Reporter, scenario_dir: str, mlperf_model: str, is_closed: bool
) -> AccuracyOutcome:
    tree, rules = ctx.tree, ctx.rules
    adir = tree.join(scenario_dir, "accuracy")
    txt = tree.join(adir, "accuracy.txt")
    if not tree.is_file(txt):
        rep.drop(
            "accuracy.txt_missing",
            "accuracy.txt is missing (the output of the accuracy script plus "
            "the hash line)" + tree.case_hint(adir, "accuracy.txt"),
            file=txt,
            expected="file present",
            found="missing",
        )
        return AccuracyOutcome(False, None, False, False)

    diff = files_diff(tree.list_files(adir), rules.accuracy_files, (), rules.files_diff_ignored)
    if diff:
        rep.soft("accuracy.file_list", "file list mismatch", file=adir, expected=list(rules.accuracy_files), found=diff)

    # In closed a problem drops the result; in open it is logged and the result accepted.
    bad = Severity.DROP if is_closed else Severity.SOFT
    valid = True
    rule = rules.accuracy.get(mlperf_model)
    acc = digest = None
    try:
        text = tree.read_bytes(txt).decode("utf-8", errors="replace")
    except OSError as exc:
        rep.drop(
            "accuracy.txt_unreadable",
            f"cannot be read: {exc.strerror or exc}",
            file=txt,
            expected="a readable file",
            found=str(exc.strerror or exc),
        )
        return AccuracyOutcome(False, None, True, is_closed)
    if rule is None:
        rep.add(
            bad,
            "accuracy.no_target",
            f"no accuracy target for model class {mlperf_model!r}",
            file=txt,
            expected=sorted(rules.accuracy),
            found=mlperf_model,
        )
        valid = False
    else:
        acc, digest = scan_accuracy_txt(text, rule, rules.hash_pattern)
        met = False
        if acc is not None:
            try:
                met = float(acc) >= rule.target
            except ValueError:
                met = False
        if not met:
            quiet = Severity.WARN if ctx.options.debug else Severity.INFO
            what = (
                f"no line matching the {rule.metric} pattern {rule.pattern!r}"
                if acc is None
                else f"{rule.metric} {acc} is below the target"
            )
            rep.add(
                Severity.DROP if is_closed else quiet,
                "accuracy.target",
                what + ("" if is_closed else " (accepted in the open division)"),
                file=txt,
                expected=f">= {num(rule.target)}",
                found=acc,
            )
            valid = False
        if not digest:
            rep.add(
                bad,
                "accuracy.hash_missing",
                "no hash=<sha256> line (added by truncate_accuracy_log.py)",
                file=txt,
                expected="hash=<sha256 of the untruncated log>",
                found="missing",
            )
            valid = False

    log = tree.join(adir, "mlperf_log_accuracy.json")
    if not tree.is_file(log):
        rep.add(
            bad,
            "accuracy.log_missing",
            "mlperf_log_accuracy.json is missing",
            file=log,
            expected="file present",
            found="missing",
        )
        valid = False
    else:
        size = tree.size(log)
        if size > rules.max_accuracy_log_bytes:
            rep.add(
                bad,
                "accuracy.log_not_truncated",
                "mlperf_log_accuracy.json is not truncated",
                file=log,
                expected=f"<= {rules.max_accuracy_log_bytes} bytes",
                found=f"{size} bytes",
            )
            valid = False

    dpath = tree.join(adir, "mlperf_log_detail.txt")
    detail = read_detail(ctx, rep, dpath, bad, "accuracy")  # only its error records are checked
    if detail is None or not check_detail_errors(ctx, rep, detail, dpath, bad, "accuracy"):
        valid = False

    if not valid and not is_closed:
        return AccuracyOutcome(True, acc, True, False)
    return AccuracyOutcome(valid, acc, True, is_closed and not valid)
