"""``performance/{power,ranging,run_1}`` of a result with power (spec submission.md §5.7, power.md §8, §10.2).

Everything here drops the result (v1.1 then reports neither performance nor power): run_1 or
ranging lacking the summary, detail or spl.txt, power/ lacking client.json, client.log,
ptd_logs.txt, server.json or server.log (``files_diff`` semantics); an unreadable session file or
timezone; no power_begin/power_end; a malformed spl.txt line; no sample strictly inside the window;
a metric that cannot be computed. The metric itself is :func:`edgeperf.power.compute_power_metric`.
"""

from __future__ import annotations

from ...power import NoPowerSamplesError, PowerMetric, SplFormatError, compute_power_metric, parse_spl_text
from ...power.session import SessionFileError, parse_session_json, session_timezone
from ..context import CheckContext
from ..findings import Reporter
from ..readers import DetailLogRecords
from ..tree import files_diff
from .power_session import check_power_session

__all__ = ["check_power"]


def check_power(
    ctx: CheckContext, rep: Reporter, perf_dir: str, scenario_fixed: str, detail: DetailLogRecords | None
) -> tuple[bool, PowerMetric | None]:
    tree, rules = ctx.tree, ctx.rules
    power_dir = tree.join(perf_dir, "power")
    run_dir = tree.join(perf_dir, "run_1")
    ranging_dir = tree.join(perf_dir, "ranging")
    valid = True

    needed = rules.perf_files + rules.perf_power_files
    for d in (run_dir, ranging_dir):
        if not tree.is_dir(d):
            rep.drop(
                "power.dir_missing",
                f"{d.rsplit('/', 1)[1]}/ is missing (power results need ranging/ and run_1/)",
                file=d,
                expected="directory present",
                found="missing",
            )
            valid = False
            continue
        diff = files_diff(tree.list_files(d), needed, rules.perf_optional_files, rules.files_diff_ignored)
        if diff:
            rep.drop("power.file_list", "file list mismatch", file=d, expected=list(needed), found=diff)
            valid = False
    diff = files_diff(tree.list_files(power_dir), rules.power_files, (), rules.files_diff_ignored)
    if diff:
        rep.drop("power.file_list", "file list mismatch", file=power_dir, expected=list(rules.power_files), found=diff)
        valid = False

    tz = {}
    sessions = {}
    for side in ("server", "client"):
        p = tree.join(power_dir, f"{side}.json")
        try:
            sessions[side] = parse_session_json(tree.read_bytes(p), p)
            tz[side] = session_timezone(sessions[side], p)
        except FileNotFoundError:
            rep.drop(
                "power.session_missing", f"{side}.json is missing", file=p, expected="file present", found="missing"
            )
        except (OSError, SessionFileError) as exc:
            rep.drop(
                "power.session",
                getattr(exc, "message", str(exc)),
                file=p,
                expected="a JSON object with an integer timezone",
                found=getattr(exc, "message", str(exc)),
            )
    if len(tz) < 2 or detail is None:
        return False, None

    dpath = tree.join(run_dir, "mlperf_log_detail.txt")
    window = {}
    for key in ("power_begin", "power_end"):
        v = detail.get(key)
        if not isinstance(v, str):
            rep.drop(
                "power.window",
                f"{key} is missing from the detail log",
                file=dpath,
                expected=key,
                found=v if key in detail else "missing",
            )
        else:
            window[key] = v
    spl = tree.join(run_dir, "spl.txt")
    try:
        samples = parse_spl_text(tree.read_bytes(spl).decode("utf-8", errors="replace"), spl)
    except FileNotFoundError:
        rep.drop("power.spl_missing", "spl.txt is missing", file=spl, expected="file present", found="missing")
        return False, None
    except SplFormatError as exc:
        rep.drop(
            "power.spl_malformed",
            f"line {exc.line}: {exc.message}",
            file=spl,
            expected="Time,MM-DD-YYYY HH:MM:SS.fff,Watts,<number>,...",
            found=f"line {exc.line}",
        )
        return False, None
    except OSError as exc:
        rep.drop(
            "power.spl_unreadable",
            f"cannot be read: {exc.strerror or exc}",
            file=spl,
            expected="a readable file",
            found=str(exc.strerror or exc),
        )
        return False, None
    if len(window) < 2:
        return False, None
    try:
        metric = compute_power_metric(
            samples,
            power_begin=window["power_begin"],
            power_end=window["power_end"],
            scenario=scenario_fixed,
            client_tz_seconds=tz["client"],
            server_tz_seconds=tz["server"],
            timezones=ctx.options.power_timezones,
            qps_with_loadgen_overhead=detail.get("result_qps_with_loadgen_overhead"),
            generated_query_count=detail.get("generated_query_count"),
            generated_samples_per_query=detail.get("generated_samples_per_query"),
            spl_path=spl,
        )
    except NoPowerSamplesError as exc:
        rep.drop(
            "power.no_samples",
            "no power samples fall strictly inside the power window "
            "(power_begin + client timezone .. power_end + client timezone)",
            file=spl,
            expected=f"samples in {exc.window.begin.isoformat(' ')} .. {exc.window.end.isoformat(' ')}",
            found=0,
        )
        return False, None
    except SplFormatError as exc:
        rep.drop(
            "power.spl_malformed",
            f"line {exc.line}: {exc.message}",
            file=spl,
            expected="Time,MM-DD-YYYY HH:MM:SS.fff,Watts,<number>,...",
            found=f"line {exc.line}",
        )
        return False, None
    except ValueError as exc:
        rep.drop(
            "power.metric",
            f"the power metric cannot be computed: {exc}",
            file=dpath,
            expected="power_begin/power_end as MM-DD-YYYY HH:MM:SS.fff and the scenario's counts",
            found=str(exc),
        )
        return False, None
    # What measured the result: the simulator and edgeperf's markers are warned about, and under
    # --strict they (and the other session checks of power-dev's check.py) drop the result.
    valid &= check_power_session(
        ctx, rep, perf_dir, sessions["client"], sessions["server"], (window["power_begin"], window["power_end"])
    )
    return valid, metric if valid else None
