"""``--power`` usage errors of ``edgeperf run`` and ``edgeperf submission run``: one line, exit 2, before any run."""

from __future__ import annotations

import pytest

pytest.importorskip("typer")


def _cli(*args):
    from typer.testing import CliRunner

    from edgeperf.cli.main import build_app

    return CliRunner().invoke(build_app(), [str(a) for a in args], env={"COLUMNS": "200"})


RUN = ("run", "resnet50", "--scenario", "Offline", "--model", "m.onnx", "--dataset", "data")


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            ("--power", "127.0.0.1:4950"),
            "--power needs --power-ntp HOST[:PORT] for the clock check, or "
            "--power-skip-time-sync to skip it (recorded)",
        ),
        (
            ("--power", "127.0.0.1:x", "--power-skip-time-sync"),
            "--power '127.0.0.1:x': port 'x' is not an integer (expected HOST:PORT)",
        ),
        (
            ("--power", "127.0.0.1:4950", "--power-skip-time-sync", "--mode", "accuracy"),
            "--power needs --mode performance (power is measured over performance runs only)",
        ),
    ],
)
def test_run_power_usage_errors(extra, message, tmp_path):
    r = _cli(*RUN, "--output", tmp_path / "out", *extra)
    assert r.exit_code == 2
    assert r.output.strip().splitlines()[-1] == f"edgeperf: {message}"
    assert not (tmp_path / "out").exists()


def test_run_power_unreachable_director(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        r = _cli(*RUN, "--output", tmp_path / "out", "--power", f"127.0.0.1:{port}", "--power-skip-time-sync")
    assert r.exit_code == 1
    assert (
        r.output.strip()
        .splitlines()[-1]
        .startswith(
            f"edgeperf: power run failed, no power result was written: cannot connect to the power server 127.0.0.1:{port}"
        )
    )
    assert not (tmp_path / "out").exists()
