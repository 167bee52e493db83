"""The command line's error policy (cli/errors.py) and the one error root (edgeperf.errors)."""

from __future__ import annotations

import errno
import importlib
import inspect
import pkgutil

import pytest

import edgeperf
from edgeperf.cli.errors import BUG_EXIT, BUG_MESSAGE, user_errors
from edgeperf.errors import EdgeperfError, MissingPathError, UnknownNameError, UsageError
from edgeperf.loadgen.engine import SutError


def _run(exc: BaseException, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as stop:
        with user_errors():
            raise exc
    return stop.value.code, capsys.readouterr().err


def test_an_edgeperf_error_is_one_line_and_exit_2(capsys):
    code, err = _run(UsageError("--count: must be at least 1, got 0"), capsys)
    assert (code, err) == (2, "edgeperf: --count: must be at least 1, got 0\n")


def test_an_unknown_name_prints_the_message_not_the_key_repr(capsys):
    code, err = _run(UnknownNameError("unknown benchmark 'resnet'; known benchmarks: resnet50"), capsys)
    assert (code, err) == (2, "edgeperf: unknown benchmark 'resnet'; known benchmarks: resnet50\n")


def test_an_os_error_that_names_a_file_is_one_line(capsys):
    code, err = _run(FileNotFoundError(errno.ENOENT, "No such file or directory", "/no/such/user.conf"), capsys)
    assert (code, err) == (2, "edgeperf: /no/such/user.conf: No such file or directory\n")


def test_a_missing_path_error_is_both_a_user_error_and_a_file_not_found():
    exc = MissingPathError("out/user.conf: user.conf not found")
    assert isinstance(exc, FileNotFoundError) and isinstance(exc, EdgeperfError)


def test_a_run_that_ended_early_exits_1(capsys):
    code, err = _run(SutError("the SUT raised ZeroDivisionError in issue_query"), capsys)
    assert code == 1
    assert err == "edgeperf: the run ended early: the SUT raised ZeroDivisionError in issue_query\n"


@pytest.mark.parametrize("bug", [ValueError("bad index"), KeyError("seq_id"), OSError("no filename"), TypeError("x")])
def test_anything_else_is_a_bug_with_its_traceback(capsys, bug):
    code, err = _run(bug, capsys)
    assert code == BUG_EXIT
    assert "Traceback (most recent call last)" in err
    assert f"{type(bug).__name__}: " in err
    assert err.rstrip("\n").endswith(BUG_MESSAGE)


#: Modules imported only inside a model server's own process: MLServer registers the same protobuf
#: names as tritonclient's gRPC stubs, which other tests load into this process.
_SERVER_PROCESS_ONLY = {"edgeperf.serving.onnx_model"}


def _edgeperf_exception_classes() -> list[type[BaseException]]:
    """Every public exception class defined in an edgeperf module that imports here."""
    found = {}
    for info in pkgutil.walk_packages(edgeperf.__path__, "edgeperf."):
        if info.name in _SERVER_PROCESS_ONLY:
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional extra that is not installed
            continue
        for name, obj in vars(module).items():
            # Warning categories (DatasetWarning, ...) are shown, never raised: not errors.
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and not issubclass(obj, Warning)
                and obj.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found[f"{obj.__module__}.{name}"] = obj
    return [found[k] for k in sorted(found)]


def test_every_edgeperf_error_derives_from_the_root():
    classes = _edgeperf_exception_classes()
    # The root itself, the generic kinds, and at least the errors of loadgen, datasets, accuracy,
    # backends, compliance-facing log readers, power and submission.
    assert len(classes) >= 25
    strays = [f"{c.__module__}.{c.__qualname__}" for c in classes if not issubclass(c, EdgeperfError)]
    assert strays == []
