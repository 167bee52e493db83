"""The checker's fast reading (issue 16): the detail-log scanner against the full parser, and a
parallel check against a serial one.

``scan_detail_bytes`` decodes only the lines that can hold what the checks read; the full parser
``parse_detail_bytes`` decodes every line. Both must give the same facts -- the first record (and
its line number) of every key asked for, every error and warning record, the same LogFormatError
-- on every detail log of the real v1.1 fixtures and on a seeded corpus of damaged copies of them.
"""

from __future__ import annotations

import random

import pytest
from fixture_paths import FIXTURES

from edgeperf.submission import check_tree, format_summary_csv, render_text_report
from edgeperf.submission.checks.detail import detail_keys
from edgeperf.submission.json_report import report_to_json
from edgeperf.submission.readers import LogFormatError, parse_detail_bytes, scan_detail_bytes
from edgeperf.submission.rules import get_rules

LOGS = sorted(FIXTURES.rglob("mlperf_log_detail.txt"))
CHECK_KEYS = detail_keys(get_rules("v1.1"))
# Keys of plain lines too (loaded_qsl_set holds the long per-sample lists), so that asking for them
# exercises the decoding of the lines the scanner would otherwise skip.
WIDE_KEYS = CHECK_KEYS | {"loaded_qsl_set", "generated_query_count", "loadgen_git_log_message", "test_datetime"}


def _facts(log, keys) -> dict:
    """What a check can learn from a parsed log: first record + line per key, errors, warnings."""
    first: dict = {}
    errors, warnings = [], []
    for rec, n in zip(log.records, log.line_numbers):
        if rec["key"] in keys:
            first.setdefault(rec["key"], (rec, n))
        meta = rec.get("metadata", {})
        if meta.get("is_error") is True:
            errors.append((rec, n))
        if meta.get("is_warning") is True:
            warnings.append((rec, n))
    return {
        "first": first,
        "errors": errors,
        "warnings": warnings,
        "lookups": {k: (k in log, log.get(k, "<missing>")) for k in sorted(keys)},
    }


def _outcome(parse, data: bytes, keys):
    try:
        log = parse(data)
    except LogFormatError as exc:
        return ("error", exc.where, exc.message)
    return ("ok", _facts(log, keys))


def _same(data: bytes, keys) -> None:
    ref = _outcome(lambda d: parse_detail_bytes(d, "d.txt"), data, keys)
    mine = _outcome(lambda d: scan_detail_bytes(d, "d.txt", frozenset(keys)), data, keys)
    assert mine == ref


def test_the_fixture_logs_are_there():
    assert len(LOGS) >= 150


@pytest.mark.parametrize("keys", [frozenset(), CHECK_KEYS, WIDE_KEYS], ids=["errors-only", "checker", "wide"])
def test_scanner_gives_the_full_parsers_facts_on_every_fixture_log(keys):
    for path in LOGS:
        data = path.read_bytes()
        _same(data, keys)


def test_scanner_skips_plain_lines_but_keeps_what_the_checks_read():
    data = (
        FIXTURES / "closed/Alibaba/results/T4x1_TRT/ssd-mobilenet/Offline/performance/run_1/mlperf_log_detail.txt"
    ).read_bytes()
    full = parse_detail_bytes(data, "d.txt")
    facts = scan_detail_bytes(data, "d.txt", CHECK_KEYS)
    assert len(facts.records) < len(full.records) / 2  # most lines were never decoded
    assert facts["result_validity"] == full["result_validity"] == "VALID"
    with pytest.raises(LookupError):  # a key nobody scanned for must not read as "missing"
        facts.get("loaded_qsl_set")


_SPECIAL = [
    b",",
    b'"',
    b"\\",
    b"[",
    b"]",
    b"{",
    b"}",
    b"0",
    b"7",
    b" ",
    b"\t",
    b"\r",
    b"\n",
    b"\x0c",
    b"\x00",
    "é".encode(),
    b"\xff",
    b":",
    b"-",
    b"e",
    b"NaN",
]


def _mutate(data: bytes, rng: random.Random) -> bytes:
    """One seeded damage of a detail log: a byte changed, dropped or added, a line cut, copied,
    dropped or turned into an error/warning or a checked key, line ends changed, a list broken."""
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    kind = rng.randrange(12)
    if kind == 0 and data:
        p = rng.randrange(len(data))
        return data[:p] + rng.choice(_SPECIAL) + data[p + 1 :]
    if kind == 1 and data:
        p = rng.randrange(len(data))
        return data[:p] + data[p + 1 :]
    if kind == 2:
        p = rng.randrange(len(data) + 1)
        return data[:p] + rng.choice(_SPECIAL) + data[p:]
    if kind == 3:
        return data[: rng.randrange(len(data) + 1)]
    if kind == 4:
        lines.insert(i, lines[rng.randrange(len(lines))])
    elif kind == 5:
        del lines[i]
    elif kind == 6:
        lines[i] = lines[i].replace(b'"is_error": false', b'"is_error": true')
    elif kind == 7:
        lines[i] = lines[i].replace(b'"is_warning": false', b'"is_warning": true')
    elif kind == 8:
        key = rng.choice(sorted(CHECK_KEYS)).encode()
        lines[i] = lines[i].replace(b'{"key": "', b'{"key": "' + key + b'", "k": "', 1)
    elif kind == 9:
        return data.replace(b"\n", b"\r\n") if rng.random() < 0.5 else data.replace(b"\n", b"\r", 1)
    elif kind == 10:
        lines[i] = lines[i].replace(b",", rng.choice([b",,", b",0", b",01,", b", "]), 1)
    else:
        lines[i] = rng.choice([b" ", b"\xef\xbb\xbf", b":::MLLOG", b""]) + lines[i]
    return b"\n".join(lines)


@pytest.mark.slow
def test_scanner_gives_the_full_parsers_facts_on_damaged_logs():
    rng = random.Random(16)
    logs = [p.read_bytes() for p in LOGS]
    checked = rejected = 0
    for _ in range(1500):
        data = rng.choice(logs)
        for _ in range(rng.randint(1, 3)):
            data = _mutate(data, rng)
        for keys in (frozenset(), CHECK_KEYS):
            _same(data, keys)
        checked += 1
        try:
            parse_detail_bytes(data, "d.txt")
        except LogFormatError:
            rejected += 1
    assert checked == 1500 and 100 < rejected < 1400  # the corpus has both kinds of log


@pytest.mark.parametrize(
    "line",
    [
        b':::MLLOG {"key": "x", "value": [1,,2], "time_ms": 1.0, "namespace": "n", "event_type": "E", '
        b'"metadata": {"is_error": false, "is_warning": false, "file": "f", "line_no": 1, "pid": 1, "tid": 1}}',
        b':::MLLOG {"key": "x", "value": [1,02], "time_ms": 1.0, "namespace": "n", "event_type": "E", '
        b'"metadata": {"is_error": false, "is_warning": false, "file": "f", "line_no": 1, "pid": 1, "tid": 1}}',
        b':::MLLOG {"key": "x", "value": [1,2,], "time_ms": 1.0, "namespace": "n", "event_type": "E", '
        b'"metadata": {"is_error": false, "is_warning": false, "file": "f", "line_no": 1, "pid": 1, "tid": 1}}',
        b':::MLLOG {"key": "x", "value": 1, "time_ms": 01.0, "namespace": "n", "event_type": "E", '
        b'"metadata": {"is_error": false, "is_warning": false, "file": "f", "line_no": 1, "pid": 1, "tid": 1}}',
    ],
)
def test_damaged_plain_lines_are_rejected_like_the_full_parser(line):
    data = b"banner\n" + line + b"\n"
    with pytest.raises(LogFormatError) as exc:
        scan_detail_bytes(data, "d.txt", CHECK_KEYS)
    assert exc.value.where == "2"
    _same(data, CHECK_KEYS)


def test_parallel_check_is_identical_to_serial():
    serial = check_tree(FIXTURES, version="v1.1")
    parallel = check_tree(FIXTURES, version="v1.1", workers=2)
    assert format_summary_csv(parallel.rows) == format_summary_csv(serial.rows)
    assert render_text_report(parallel, verbose=True) == render_text_report(serial, verbose=True)
    assert report_to_json(parallel) == report_to_json(serial)
    assert list(parallel.entries) == list(serial.entries)
    assert parallel.read_stats.bytes_read == serial.read_stats.bytes_read
    assert parallel.read_stats.reads == serial.read_stats.reads


def test_each_file_read_once_and_each_directory_listed_once():
    report = check_tree(FIXTURES, version="v1.1")
    assert report.read_stats.read_more_than_once() == []
    assert report.read_stats.listed_more_than_once() == []
    assert len(report.read_stats.listings) > 100


def test_a_code_entry_file_shared_by_scenarios_is_read_once(tmp_path):
    import shutil

    src = FIXTURES / "closed" / "Alibaba"
    dst = tmp_path / "closed" / "Alibaba"
    shutil.copytree(src, dst, symlinks=True)
    for p in [dst, *dst.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)  # the fixtures are read-only
    code = dst / "code"
    (code / "ssd-mobilenet").rename(code / "ssd-mobilenet-impl")
    (code / "ssd-mobilenet").write_text("ssd-mobilenet-impl\n")  # a file naming the code directory
    report = check_tree(tmp_path, version="v1.1")
    code_reads = {p: n for p, n in report.read_stats.reads.items() if "/code/" in p}
    assert code_reads and set(code_reads.values()) == {1}
    assert report.read_stats.read_more_than_once() == []
    assert not [f for f in report.findings if f.check == "measurements.code_missing"]
