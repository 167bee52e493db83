"""The vectorised spl.txt parser (issue 16) against the line-by-line one, and the numpy window average
against the sample loop, on the real fixture files and seeded damaged copies of them."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from fixture_paths import FIXTURES

from edgeperf.power.metrics import PowerWindow, average_watts
from edgeperf.power.spl import SplFormatError, SplSamples, _parse_lines, parse_spl_text

SPLS = sorted(FIXTURES.rglob("spl.txt"))


def _rows(samples) -> list[tuple[int, datetime, str]]:
    return [(s.line, s.time, s.watts_text) for s in samples]


def _outcome(parse, text):
    try:
        return ("ok", _rows(parse(text)))
    except SplFormatError as exc:
        return ("error", exc.line, exc.message)


def test_fixture_spl_files_parse_as_line_by_line():
    assert len(SPLS) >= 4
    for p in SPLS:
        text = p.read_text(encoding="utf-8", errors="replace")
        fast = parse_spl_text(text, p)
        assert isinstance(fast, SplSamples) and len(fast) > 100
        assert _rows(fast) == _rows(_parse_lines(text, p))


def _damage(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    line = lines[i]
    kind = rng.randrange(6)
    if kind == 0 and line:
        p = rng.randrange(len(line))
        line = line[:p] + rng.choice("0913,: .-\r") + line[p + 1 :]
    elif kind == 1:
        line = line.replace(".", ".4", 1)  # a 4-digit fraction: valid, not the fast form
    elif kind == 2:
        line = line.replace("-", "-3", 1)  # month or day out of range, or a 3-digit field
    elif kind == 3:
        line = ""
    elif kind == 4:
        line = line.replace("Watts,", "Watts,x", 1)
    else:
        line = line.replace("02-", "02-29-", 1) if rng.random() < 0.5 else line.replace(" 1", " 2", 1)
    lines[i] = line
    return "\n".join(lines)


def test_damaged_spl_files_parse_and_fail_as_line_by_line():
    rng = random.Random(16)
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in SPLS]
    for _ in range(300):
        text = _damage(rng.choice(texts), rng)
        assert _outcome(parse_spl_text, text) == _outcome(lambda t: _parse_lines(t, None), text)


@pytest.mark.parametrize("tz", [0, 3600, -7200, 0.5])
def test_window_average_equals_the_sample_loop(tz):
    text = SPLS[0].read_text(encoding="utf-8", errors="replace")
    samples = parse_spl_text(text)
    t0 = samples[0].time + timedelta(seconds=tz)  # the server timezone moves the samples
    for a, b in [(5, 200), (0, 10_000), (100.0005, 160.9)]:
        window = PowerWindow(t0 + timedelta(seconds=a), t0 + timedelta(seconds=b))
        fast = average_watts(samples, window, tz)
        loop = average_watts(list(samples), window, tz)
        assert fast == loop
