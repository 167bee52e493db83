"""``edgeperf power``: the analyzer simulator and the director (power server).

Register with ``app.add_typer(power_cmd.app, name="power")``. The client side is
``edgeperf run ... --power HOST:PORT`` and ``edgeperf submission run ... --power HOST:PORT``.
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(
    name="power",
    help="Power measurement (unofficial): a simulated PTDaemon and the director that runs the "
    "mlcommons/power v3 protocol. edgeperf power results are never official MLPerf power results.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command(
    "analyzer-sim", context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}
)
def analyzer_sim(ctx: typer.Context) -> None:
    """A simulated PTDaemon. Takes PTDaemon's options: -l LOGFILE -p PORT [-b N] [-c CH] [-n|-g|-y|-U] TYPE DEVICEPORT,
    plus --source constant:W|replay:spl.txt|rapl|nvml[:N] (default: DEVICEPORT) and --fault (tests). -h for details."""
    from ..power.analyzer_sim import main

    raise typer.Exit(main(list(ctx.args)))


def _pair(text: Optional[str], option: str) -> Optional[tuple[str, str]]:
    if text is None:
        return None
    parts = text.split(",")
    try:
        if len(parts) != 2 or not all(float(p) > 0 for p in parts):
            raise ValueError
    except ValueError:
        print(f"edgeperf: {option} {text!r}: expected VOLTS,AMPS with positive numbers, e.g. 230,0.5", file=sys.stderr)
        raise typer.Exit(2) from None
    return parts[0], parts[1]


@app.command("server")
def server(
    config: Path = typer.Option(
        ..., "--config", "-c", help="Server config in power-dev's INI format ([server], [ptd])."
    ),
    skip_time_sync: bool = typer.Option(
        False, "--skip-time-sync", help="Skip the NTP clock check (recorded as time_sync: skipped in server.json)."
    ),
    settle_seconds: float = typer.Option(
        10.0,
        "--settle-seconds",
        min=0.0,
        help="Pause after range changes and before Stop (10 s; less marks the run debug).",
    ),
    fixed_range: Optional[str] = typer.Option(
        None,
        "--fixed-range",
        help="VOLTS,AMPS: allow testing runs without a ranging run at this fixed range (not v1.1 compliant; recorded).",
    ),
    low_current_range: Optional[str] = typer.Option(
        None,
        "--low-current-range",
        help="VOLTS,AMPS: use this range when "
        "ranging gives no positive or a smaller maximum (low-current devices; recorded).",
    ),
) -> None:
    """Run the director: one client at a time, ranging and testing, session files with hashes."""
    from ..errors import EdgeperfError
    from ..power.director import Director, DirectorOptions
    from ..power.server_config import load_server_config

    logging.basicConfig(
        level=logging.INFO, format="ptd-server %(asctime)s [%(levelname)s] %(message)s", stream=sys.stderr
    )
    try:
        cfg = load_server_config(config)
        for w in cfg.warnings:
            logging.getLogger("edgeperf.power.server").warning(w)
        director = Director(
            cfg,
            DirectorOptions(
                settle_s=settle_seconds,
                skip_time_sync=skip_time_sync,
                fixed_range=_pair(fixed_range, "--fixed-range"),
                low_current_range=_pair(low_current_range, "--low-current-range"),
            ),
        )
        director.bind()
    except EdgeperfError as exc:
        print(f"edgeperf: {exc}", file=sys.stderr)
        raise typer.Exit(2) from None
    signal.signal(signal.SIGTERM, lambda *_: director.shutdown())
    print(
        f"edgeperf power server: listening on {cfg.host}:{director.port} (unofficial; not an MLPerf power director)",
        file=sys.stderr,
        flush=True,
    )
    try:
        director.serve_forever()
    except KeyboardInterrupt:
        director.close()
