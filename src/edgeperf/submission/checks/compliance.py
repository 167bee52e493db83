"""``compliance/<sys>/<benchmark>/<scenario>/`` (closed only; spec submission.md §5.9).

Compliance never invalidates a result in v1.1: it only sets the ``compilance`` column, and every
problem is SOFT. The tests are TEST01, TEST04-A, TEST04-B and TEST05, without TEST04-* for rnnt,
bert, dlrm and a directory named MultiStream. v1.1's verdict is reproduced with its quirk: the
performance part is the verdict of the *last* test checked (each test overwrites the previous),
so a failing TEST01 or TEST04-A verify_performance.txt does not matter -- edgeperf says so in a
WARN. TEST04-B has no verify file. The accuracy part (TEST01) needs verify_accuracy.txt and an
accuracy/ directory, whatever the file says (a "TEST FAIL" is another WARN).
"""

from __future__ import annotations

from ..context import CheckContext
from ..findings import Reporter
from ..tree import files_diff

__all__ = ["check_compliance", "required_tests"]


def required_tests(ctx: CheckContext, mlperf_model: str, scenario_dir: str) -> tuple[str, ...]:
    """The compliance tests the round's rules require for this model class and scenario folder."""
    return ctx.rules.required_compliance_tests(mlperf_model, scenario_dir)


def _has_pass(ctx: CheckContext, path: str) -> bool:
    text = ctx.tree.read_bytes(path).decode("utf-8", errors="replace")
    return ctx.rules.compliance_pass_text in text


def _perf_test(
    ctx: CheckContext, rep: Reporter, test_dir: str, test: str, needs_verify: bool
) -> tuple[bool, str | None]:
    """(passed, why-not) of one test's performance part, as v1.1 decides it."""
    tree = ctx.tree
    passed, why = False, None
    verify = tree.join(test_dir, "verify_performance.txt")
    if needs_verify and not tree.is_file(verify):
        rep.soft(
            "compliance.verify_missing",
            f"{test}/verify_performance.txt is missing",
            file=verify,
            expected="file present",
            found="missing",
        )
        return False, "missing"
    if needs_verify:
        try:
            passed = _has_pass(ctx, verify)
        except OSError:
            passed = False
        why = None if passed else f"{test}/verify_performance.txt has no 'TEST PASS' line"
    else:
        why = f"{test} has no verify file, so v1.1 never counts it as passed"
    run = tree.join(test_dir, "performance", "run_1")
    if not tree.is_dir(run):
        rep.soft(
            "compliance.run_missing",
            f"{test}/performance/run_1 is missing",
            file=run,
            expected="directory present",
            found="missing",
        )
        return False, "missing"
    diff = files_diff(tree.list_files(run), ctx.rules.compliance_perf_files, (), ctx.rules.files_diff_ignored)
    if diff:
        rep.info(
            "compliance.file_list",
            "file list mismatch",
            file=run,
            expected=list(ctx.rules.compliance_perf_files),
            found=diff,
        )
    return passed, why


def _accuracy_part(ctx: CheckContext, rep: Reporter, cdir: str) -> bool:
    tree, rules = ctx.tree, ctx.rules
    test_dir = tree.join(cdir, rules.compliance_accuracy_test)
    verify = tree.join(test_dir, "verify_accuracy.txt")
    if not tree.is_file(verify):
        rep.soft(
            "compliance.verify_missing",
            f"{rules.compliance_accuracy_test}/verify_accuracy.txt is missing",
            file=verify,
            expected="file present",
            found="missing",
        )
        return False
    try:
        acc_passed = _has_pass(ctx, verify)
    except OSError:
        acc_passed = False
    if not acc_passed:
        rep.warn(
            "compliance.accuracy_verdict",
            "verify_accuracy.txt has no 'TEST PASS' line (v1.1 accepts it "
            "when the baseline and compliance accuracy files are there)",
            file=verify,
            expected="TEST PASS",
            found="no TEST PASS",
        )
    adir = tree.join(test_dir, "accuracy")
    if not tree.is_dir(adir):
        rep.soft(
            "compliance.accuracy_missing",
            f"{rules.compliance_accuracy_test}/accuracy/ is missing",
            file=adir,
            expected="directory present",
            found="missing",
        )
        return False
    wanted = rules.compliance_acc_files_pass if acc_passed else rules.compliance_acc_files_fail
    diff = files_diff(tree.list_files(adir), wanted, (), rules.files_diff_ignored)
    if diff:
        rep.info("compliance.file_list", "file list mismatch", file=adir, expected=list(wanted), found=diff)
    return True


def check_compliance(
    ctx: CheckContext,
    rep: Reporter,
    division: str,
    submitter: str,
    system: str,
    benchmark: str,
    scenario: str,
    mlperf_model: str,
) -> bool:
    """True when v1.1 would set compilance=1 for this result."""
    tree, rules = ctx.tree, ctx.rules
    cdir = tree.join(division, submitter, "compliance", system, benchmark, scenario)
    if not tree.is_dir(cdir):
        rep.soft(
            "compliance.missing",
            "no compliance directory for this result",
            file=cdir,
            expected="directory present",
            found="missing",
        )
        return False
    tests = required_tests(ctx, mlperf_model, scenario)
    perf_pass = True
    ignored: list[tuple[str, str]] = []
    for test in tests:
        test_dir = tree.join(cdir, test)
        if not tree.is_dir(test_dir):
            rep.soft(
                "compliance.test_missing", f"{test} is missing", file=test_dir, expected=list(tests), found="missing"
            )
            perf_pass, why = False, None
        else:
            perf_pass, why = _perf_test(ctx, rep, test_dir, test, test not in rules.compliance_no_verify_tests)
        if not perf_pass and why and why != "missing":
            ignored.append((test, why))
    last = tests[-1]
    for test, why in ignored:
        if test != last and test not in rules.compliance_no_verify_tests:
            rep.warn(
                "compliance.verdict_ignored",
                f"{why}; v1.1 ignores it (only the last test, {last}, decides)",
                file=tree.join(cdir, test, "verify_performance.txt"),
                expected="TEST PASS",
                found="no TEST PASS",
            )
    if not perf_pass and ignored and ignored[-1][0] == last:
        rep.soft(
            "compliance.verdict",
            ignored[-1][1],
            file=tree.join(cdir, last, "verify_performance.txt"),
            expected="TEST PASS",
            found="no TEST PASS",
        )
    acc_pass = _accuracy_part(ctx, rep, cdir)
    return perf_pass and acc_pass
