"""Config-file parser (``mlperf.conf``, ``user.conf``, ``audit.config``) — spec loadgen.md §3.

The parser reproduces the official r1.1 ``TestSettings::FromConfig`` exactly:

* tokenizer and state machine of §3.1 (whitespace tokens; key, ``=``, value(s); a lone ``#``
  ends the line only outside the value state; ``key=value`` without spaces is silently
  ignored; trailing tokens after a value overwrite it; any error means nothing is applied);
* lookup precedence ``M.S.K``, ``*.S.K``, ``M.*.K``, ``*.*.K`` (§3.2);
* value conversion at lookup time with C ``strtoull``/``strtod`` semantics, including the
  traps (``6e5`` → 6 and ``010`` → 8 in integer fields, percent keys × 0.01, ms → ns);
* the key table of §3.3, with scenario-specific keys looked up under hard-coded scenario
  names whatever scenario the caller passes.

On top of that it reports :class:`~edgeperf.loadgen.errors.ConfigWarning` diagnostics for
lines the official parser accepts silently although they almost certainly do not do what
their author meant, and explains every error (:class:`ConfigDiagnostic.expected`).

Public entry points: :func:`parse_config_text`, :func:`read_config_file`,
:func:`plan_config`, :func:`apply_config`, and the C-number helpers :func:`c_strtoul`,
:func:`c_strtod`, :func:`is_config_value`.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Optional

from .enums import TestMode, TestScenario
from .errors import ConfigDiagnostic, ConfigWarning

__all__ = [
    "ConfigEntry",
    "ParsedConfig",
    "Assignment",
    "KeySpec",
    "KEY_TABLE",
    "SCENARIO_NAMES",
    "c_strtoul",
    "c_strtod",
    "is_config_value",
    "config_key_candidates",
    "parse_config_text",
    "read_config_file",
    "plan_config",
    "apply_config",
    "shipped_mlperf_conf_path",
    "MSG_CANT_OPEN",
    "MSG_BAD_VALUE",
    "MSG_EXPECTED_KV",
    "MSG_BAD_MODE",
]

_MASK64 = (1 << 64) - 1

# Official message texts (spec §13.1); logged as ``error_invalid_config`` records.
MSG_CANT_OPEN = "can't open file {path}"
MSG_BAD_VALUE = "value needs to be integer or double, line={line}"
MSG_EXPECTED_KV = "expected 'key=value', line={line}"
MSG_BAD_MODE = "Invalid value passed to Mode key in config."

SCENARIO_NAMES = tuple(s.value for s in TestScenario)

# C locale isspace(): what std::istream >> std::string splits on.
_C_SPACE = " \t\n\v\f\r"
_TOKEN_SPLIT = re.compile(r"[ \t\n\v\f\r]+")
_DEC = "0123456789"
_OCT = "01234567"
_HEX = "0123456789abcdefABCDEF"


# --------------------------------------------------------------------------------------
# C number parsing
# --------------------------------------------------------------------------------------


def c_strtoul(text: str) -> tuple[int, int]:
    """C ``strtoul(text, &end, 0)`` on a 64-bit Linux (``strtoull`` is identical there).

    Returns ``(value, consumed)`` where ``consumed`` is the number of characters parsed
    (0 when no conversion was possible). Base 0: ``0x``/``0X`` hex, leading ``0`` octal,
    else decimal; an optional sign; a ``-`` negates modulo 2**64; overflow saturates to
    2**64-1 as glibc does.
    """
    n = len(text)
    i = 0
    while i < n and text[i] in _C_SPACE:
        i += 1
    negative = False
    if i < n and text[i] in "+-":
        negative = text[i] == "-"
        i += 1
    if text.startswith(("0x", "0X"), i) and i + 2 < n and text[i + 2] in _HEX:
        base, digits, i = 16, _HEX, i + 2
    elif i < n and text[i] == "0":
        base, digits = 8, _OCT
    else:
        base, digits = 10, _DEC
    j = i
    while j < n and text[j] in digits:
        j += 1
    if j == i:
        return 0, 0
    value = int(text[i:j], base)
    if value > _MASK64:
        value = _MASK64
    elif negative:
        value = (-value) & _MASK64
    return value, j


def _scan_digits(text: str, i: int, digits: str) -> int:
    n = len(text)
    while i < n and text[i] in digits:
        i += 1
    return i


def _scan_mantissa(text: str, i: int, digits: str) -> tuple[int, int]:
    """End of ``digits[.digits]`` starting at ``i``, and how many digits it has (a "." with no
    digit on either side is not part of it)."""
    j = _scan_digits(text, i, digits)
    count = j - i
    if j < len(text) and text[j] == ".":
        k = _scan_digits(text, j + 1, digits)
        count += k - (j + 1)
        if count:
            j = k
    return j, count


def _scan_exponent(text: str, j: int, letters: str) -> int:
    """End of an exponent (a letter of ``letters``, a sign, decimal digits) at ``j``, or ``j``."""
    if j < len(text) and text[j] in letters:
        k = j + 1
        if k < len(text) and text[k] in "+-":
            k += 1
        e = _scan_digits(text, k, _DEC)
        if e > k:
            return e
    return j


def c_strtod(text: str) -> tuple[float, int]:
    """C ``strtod(text, &end)`` in the C locale (glibc): returns ``(value, consumed)``.

    Accepts decimal floats with optional exponent, hexadecimal floats (``0x1.8p3``, binary
    exponent optional), ``inf``/``infinity`` and ``nan``/``nan(chars)`` case-insensitively,
    each with an optional sign. Overflow gives ±inf like ``HUGE_VAL``. ``consumed`` is 0
    when nothing could be converted.
    """
    n = len(text)
    i = 0
    while i < n and text[i] in _C_SPACE:
        i += 1
    sign = 1.0
    if i < n and text[i] in "+-":
        if text[i] == "-":
            sign = -1.0
        i += 1
    low = text[i : i + 8].lower()
    if low.startswith("infinity"):
        return sign * math.inf, i + 8
    if low.startswith("inf"):
        return sign * math.inf, i + 3
    if low.startswith("nan"):
        j = i + 3
        if j < n and text[j] == "(":
            k = j + 1
            while k < n and (text[k] in _DEC or text[k] == "_" or ("a" <= text[k].lower() <= "z")):
                k += 1
            if k < n and text[k] == ")":
                j = k + 1
        return math.copysign(math.nan, sign), j
    if text.startswith(("0x", "0X"), i):
        j, mant_digits = _scan_mantissa(text, i + 2, _HEX)
        if mant_digits:
            j = _scan_exponent(text, j, "pP")
            literal = text[i:j]
            if "p" not in literal.lower():
                literal += "p0"
            try:
                value = float.fromhex(literal)
            except OverflowError:
                value = math.inf
            return sign * value, j
        # "0x" without hex digits: only the "0" is a number.
        return sign * 0.0, i + 1
    j, mant_digits = _scan_mantissa(text, i, _DEC)
    if not mant_digits:
        return 0.0, 0
    j = _scan_exponent(text, j, "eE")
    value = float(text[i:j])  # Python's float() rounds correctly, as glibc's strtod does.
    return sign * value, j


def is_config_value(token: str) -> bool:
    """True when the official parser accepts ``token`` as a value: the whole token parses
    as a C ``strtoul`` base-0 integer or as a C ``strtod`` double (spec §3.1)."""
    if c_strtoul(token)[1] == len(token):
        return True
    return c_strtod(token)[1] == len(token)


def _to_int32(value: int) -> int:
    """C ``static_cast<int>`` of a 64-bit unsigned value (two's complement wrap)."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def _f64_to_u64(x: float) -> int:
    """double → uint64_t as gcc generates it on x86-64 (out-of-range is UB in C++)."""
    two63 = float(1 << 63)
    if math.isnan(x):
        return 1 << 63
    if x < two63:
        if x < -two63:
            return 1 << 63
        return int(x) & _MASK64
    if x - two63 >= two63:  # includes +inf
        return 0
    return int(x)


# --------------------------------------------------------------------------------------
# Key table (spec §3.3)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeySpec:
    """How one config key name is read: looked up under ``scenario`` (``None`` = the
    scenario passed by the caller), stored into TestSettings ``field`` with conversion
    ``kind`` and ``multiplier``. ``rulesets`` lists the rulesets whose parser reads it."""

    name: str
    scenario: Optional[str]
    field: str
    kind: str  # "mode", "u64", "int", "int_as_u64", "f64", "bool", "bool_eq1" (true only for 1)
    multiplier: float = 1.0
    rulesets: tuple[str, ...] = ("v1.1", "v2.0")


# In the official order of lookups (which is also the order errors are reported).
KEY_TABLE: tuple[KeySpec, ...] = (
    KeySpec("mode", None, "mode", "mode"),
    KeySpec("min_duration", None, "min_duration_ms", "u64"),
    KeySpec("max_duration", None, "max_duration_ms", "u64"),
    KeySpec("min_query_count", None, "min_query_count", "u64"),
    KeySpec("max_query_count", None, "max_query_count", "u64"),
    KeySpec("qsl_rng_seed", None, "qsl_rng_seed", "u64"),
    KeySpec("sample_index_rng_seed", None, "sample_index_rng_seed", "u64"),
    KeySpec("schedule_rng_seed", None, "schedule_rng_seed", "u64"),
    KeySpec("accuracy_log_rng_seed", None, "accuracy_log_rng_seed", "u64"),
    KeySpec("accuracy_log_probability", None, "accuracy_log_probability", "f64", 0.01),
    KeySpec("accuracy_log_sampling_target", None, "accuracy_log_sampling_target", "u64"),
    KeySpec("print_timestamps", None, "print_timestamps", "bool"),
    KeySpec("performance_issue_unique", None, "performance_issue_unique", "bool"),
    KeySpec("performance_issue_same", None, "performance_issue_same", "bool"),
    KeySpec("performance_issue_same_index", None, "performance_issue_same_index", "u64"),
    KeySpec("performance_sample_count_override", None, "performance_sample_count_override", "u64"),
    KeySpec("sample_concatenate_permutation", None, "sample_concatenate_permutation", "bool_eq1", rulesets=("v2.0",)),
    KeySpec("target_latency_percentile", "SingleStream", "single_stream_target_latency_percentile", "f64", 0.01),
    # r2.0 made the SingleStream hint a double (parsed with strtod), r1.1 an integer.
    KeySpec(
        "target_latency", "SingleStream", "single_stream_expected_latency_ns", "u64", 1_000_000, rulesets=("v1.1",)
    ),
    KeySpec(
        "target_latency", "SingleStream", "single_stream_expected_latency_ns", "f64", 1_000_000, rulesets=("v2.0",)
    ),
    KeySpec("target_latency_percentile", "MultiStream", "multi_stream_target_latency_percentile", "f64", 0.01),
    # r1.1 MultiStream keys; r2.0 reads target_latency (a double, ms) and samples_per_query (u64).
    KeySpec("target_qps", "MultiStream", "multi_stream_target_qps", "f64", rulesets=("v1.1",)),
    KeySpec("samples_per_query", "MultiStream", "multi_stream_samples_per_query", "int", rulesets=("v1.1",)),
    KeySpec("max_async_queries", "MultiStream", "multi_stream_max_async_queries", "int", rulesets=("v1.1",)),
    KeySpec("target_latency", "MultiStream", "multi_stream_expected_latency_ns", "f64", 1_000_000, rulesets=("v2.0",)),
    KeySpec("samples_per_query", "MultiStream", "multi_stream_samples_per_query", "u64", rulesets=("v2.0",)),
    KeySpec("target_latency_percentile", "Server", "server_target_latency_percentile", "f64", 0.01),
    KeySpec("target_latency", "Server", "server_target_latency_ns", "u64", 1_000_000),
    KeySpec("target_qps", "Server", "server_target_qps", "f64"),
    KeySpec("coalesce_queries", "Server", "server_coalesce_queries", "bool"),
    KeySpec("max_async_queries", "Server", "server_max_async_queries", "int_as_u64"),
    KeySpec("target_qps", "Offline", "offline_expected_qps", "f64"),
)

_GENERIC_NAMES = frozenset(k.name for k in KEY_TABLE if k.scenario is None)
_ALL_NAMES = frozenset(k.name for k in KEY_TABLE)

# Keys the shipped r1.1 mlperf.conf contains on purpose although r1.1 LoadGen never reads
# them (spec §3.3, last paragraph): (scenario part, name part).
_INTENTIONAL_IN_MLPERF_CONF = frozenset(
    {("MultiStream", "target_latency"), ("Server", "target_duration"), ("Offline", "target_latency_percentile")}
)

_NOT_A_LOADGEN_SETTING = {
    "target_duration": "'target_duration' is not a LoadGen setting (the run length comes from min_duration)",
}


def _specific_scenarios(name: str, ruleset: str) -> list[str]:
    return [k.scenario for k in KEY_TABLE if k.name == name and k.scenario and ruleset in k.rulesets]


def config_key_candidates(model: str, scenario: str, name: str) -> tuple[str, str, str, str]:
    """The four keys tried, in order, for (model, scenario, name) — spec §3.2."""
    return (
        f"{model}.{scenario}.{name}",
        f"*.{scenario}.{name}",
        f"{model}.*.{name}",
        f"*.*.{name}",
    )


# --------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigEntry:
    """A stored ``key = value`` line (the value kept is the last one on the line)."""

    key: str
    value: str
    line: int
    line_text: str


@dataclass
class ParsedConfig:
    """Result of parsing one config file.

    ``entries`` lists the stored assignments in file order (later ones override earlier
    ones with the same key); ``errors`` the official-style errors (non-empty means the
    official LoadGen applies nothing); ``warnings`` the traps found; ``opened`` is False
    when the file could not be read (then ``errors`` holds the "can't open file" error).
    """

    path: str
    entries: list[ConfigEntry] = field(default_factory=list)
    errors: list[ConfigDiagnostic] = field(default_factory=list)
    warnings: list[ConfigWarning] = field(default_factory=list)
    opened: bool = True

    @property
    def ok(self) -> bool:
        """True when the file was read and has no errors."""
        return self.opened and not self.errors

    @property
    def values(self) -> dict[str, str]:
        """The key → value-string map the official parser builds (last line wins)."""
        return {e.key: e.value for e in self.entries}

    def lookup(self, model: str, scenario: str, name: str) -> Optional[ConfigEntry]:
        """Find the entry used for (model, scenario, name) with the §3.2 precedence."""
        table = {e.key: e for e in self.entries}
        for candidate in config_key_candidates(model, scenario, name):
            if candidate in table:
                return table[candidate]
        return None

    @property
    def return_code(self) -> int:
        """What the official FromConfig would return for the parse step: 0, -2 or -22."""
        if not self.opened:
            return -2
        return -22 if self.errors else 0


#: The mlperf.conf edgeperf ships for each ruleset (package data).
_SHIPPED_CONF = {"v1.1": "mlperf.conf", "v2.0": "mlperf-v2.0.conf"}


def shipped_mlperf_conf_path(ruleset: str = "v1.1") -> str:
    """Path of the ``mlperf.conf`` of ``ruleset`` (r1.1 or r2.0) shipped inside the package."""
    return str(resources.files("edgeperf.loadgen").joinpath("data", _SHIPPED_CONF[ruleset]))


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (OSError, ValueError):
        return False


def parse_config_text(
    text: str,
    path: str = "<string>",
    *,
    ruleset: str = "v1.1",
    mlperf_conf: Optional[bool] = None,
) -> ParsedConfig:
    """Parse config ``text`` (as read from ``path``) with the official r1.1 semantics.

    ``ruleset`` decides which keys count as "read" for the warnings (under v2.0
    ``MultiStream.target_latency`` is read). ``mlperf_conf`` says the text plays the role of
    ``mlperf.conf``: then the keys that the official mlperf.conf carries on purpose although
    r1.1 ignores them do not raise warnings. ``None`` means: True iff ``path`` is the
    shipped mlperf.conf.
    """
    if mlperf_conf is None:
        mlperf_conf = path != "<string>" and any(_same_file(path, shipped_mlperf_conf_path(r)) for r in _SHIPPED_CONF)
    result = ParsedConfig(path=path)
    # std::getline splits on '\n' only; a trailing '\r' is whitespace to the tokenizer.
    for line_nr, line in enumerate(text.split("\n"), start=1):
        _parse_line(result, line_nr, line, ruleset, bool(mlperf_conf))
    return result


def read_config_file(
    path: "str | os.PathLike[str]",
    *,
    ruleset: str = "v1.1",
    mlperf_conf: Optional[bool] = None,
) -> ParsedConfig:
    """Read and parse the config file at ``path``; see :func:`parse_config_text`.

    A file that cannot be opened gives a ParsedConfig with ``opened=False`` and the
    official "can't open file <path>" error (FromConfig returns -2 then).
    """
    spath = os.fspath(path)
    try:
        with open(spath, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        diag = ConfigDiagnostic(
            file=spath,
            line=None,
            line_text=None,
            message=MSG_CANT_OPEN.format(path=spath),
            expected=f"a readable config file ({exc.strerror or exc})",
            kind="open",
        )
        return ParsedConfig(path=spath, errors=[diag], opened=False)
    text = raw.decode("utf-8", errors="surrogateescape")
    return parse_config_text(text, spath, ruleset=ruleset, mlperf_conf=mlperf_conf)


def _parse_line(result: ParsedConfig, line_nr: int, line: str, ruleset: str, mlperf_conf: bool) -> None:
    tokens = [t for t in _TOKEN_SPLIT.split(line) if t]
    state = 0  # 0: want key, 1: want '=', 2: want value(s)
    key = ""
    values: list[str] = []
    path = result.path

    def error(message: str, expected: str, kind: str) -> None:
        result.errors.append(
            ConfigDiagnostic(file=path, line=line_nr, line_text=line, message=message, expected=expected, kind=kind)
        )

    for tok in tokens:
        if tok == "#" and state != 2:
            break
        if state == 2:
            if is_config_value(tok):
                values.append(tok)
                continue
            if tok.startswith("#"):
                expected = (
                    "no comment after a value: the official parser reads every token after '=' "
                    "as a value, so a trailing '# ...' is an error; move the comment to its own "
                    "line starting with '# '"
                )
            else:
                expected = (
                    f"a value that is an integer (decimal, 0x-hex or 0-octal) or a floating-point number, got {tok!r}"
                )
            error(MSG_BAD_VALUE.format(line=line_nr), expected, "value")
            if values:
                _store(result, key, values, line_nr, line)
            return
        if state == 1 and tok != "=":
            if tok.startswith("=") or key.endswith("="):
                expected = "spaces on both sides of '=': 'model.scenario.key = value'"
            elif key.startswith("#"):
                expected = (
                    f"a comment to start with a lone '#' followed by a space ('# text'); {key!r} is read as a key"
                )
            else:
                expected = f"'=' as the second token ('model.scenario.key = value'), got {tok!r}"
            error(MSG_EXPECTED_KV.format(line=line_nr), expected, "syntax")
            return
        if state == 0:
            key = tok
        state += 1

    if state == 1 and not key.startswith("#"):
        if "=" in key:
            k, _, v = key.partition("=")
            hint = f"; write '{k} = {v}'" if k and v else ""
            msg = f"{key!r} has no spaces around '=': the official LoadGen silently ignores this line{hint}"
        else:
            msg = f"{key!r} is not followed by '= value': the official LoadGen ignores this line"
        result.warnings.append(ConfigWarning(path, line_nr, msg))
    elif state == 2 and not values:
        result.warnings.append(
            ConfigWarning(path, line_nr, f"'{key} =' has no value: the official LoadGen ignores this line")
        )
    elif values:
        _store(result, key, values, line_nr, line)
        if len(values) > 1:
            result.warnings.append(
                ConfigWarning(
                    path,
                    line_nr,
                    f"several values after '=' ({' '.join(values)}): the official LoadGen keeps only "
                    f"the last one ({values[-1]})",
                )
            )
        _check_key(result, key, line_nr, ruleset, mlperf_conf)


def _store(result: ParsedConfig, key: str, values: list[str], line_nr: int, line: str) -> None:
    result.entries.append(ConfigEntry(key=key, value=values[-1], line=line_nr, line_text=line))


def _check_key(result: ParsedConfig, key: str, line_nr: int, ruleset: str, mlperf_conf: bool) -> None:
    def warn(msg: str) -> None:
        result.warnings.append(ConfigWarning(result.path, line_nr, msg))

    parts = key.rsplit(".", 2)
    if len(parts) != 3 or not all(parts):
        warn(f"key {key!r} is not of the form 'model.scenario.name': LoadGen never reads it")
        return
    _model, scen, name = parts
    if scen != "*" and scen not in SCENARIO_NAMES:
        warn(
            f"{scen!r} in {key!r} is not a scenario name (use '*' or one of "
            f"{', '.join(SCENARIO_NAMES)}; names are case-sensitive): LoadGen never reads this key"
        )
        return
    if mlperf_conf and (scen, name) in _INTENTIONAL_IN_MLPERF_CONF:
        return
    if name in _NOT_A_LOADGEN_SETTING:
        warn(f"{key!r} is ignored by LoadGen {ruleset}: {_NOT_A_LOADGEN_SETTING[name]}")
        return
    if name not in _ALL_NAMES:
        close = difflib.get_close_matches(name, sorted(_ALL_NAMES), n=1, cutoff=0.75)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        warn(f"unknown key name {name!r} in {key!r}: the official LoadGen silently ignores it{hint}")
        return
    if name in _GENERIC_NAMES and not any(
        k.name == name and k.scenario is None and ruleset in k.rulesets for k in KEY_TABLE
    ):
        warn(f"{key!r} is ignored by LoadGen {ruleset}: {name!r} is not read under this ruleset")
        return
    if name in _GENERIC_NAMES or scen == "*":
        return
    readers = _specific_scenarios(name, ruleset)
    if scen in readers:
        return
    if readers:
        where = ", ".join(f"'<model>.{s}.{name}'" for s in readers)
        msg = (
            f"{key!r} is ignored by LoadGen {ruleset}: {name!r} is only read as {where} (model or scenario may be '*')"
        )
    else:
        msg = f"{key!r} is ignored by LoadGen {ruleset}: {name!r} is not read under this ruleset"
    if scen == "MultiStreamFree":
        msg += "; MultiStreamFree takes its settings from the MultiStream keys"
    warn(msg)


# --------------------------------------------------------------------------------------
# Applying
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    """One TestSettings field set by a config file, with the line it came from."""

    field: str
    value: Any
    entry: ConfigEntry
    spec: KeySpec


def _convert(spec: KeySpec, text: str) -> Any:
    if spec.kind in ("u64", "mode", "bool", "bool_eq1", "int", "int_as_u64"):
        # strtoull(value, nullptr, 0) * static_cast<uint64_t>(multiplier), wrapping mod 2**64.
        raw = (c_strtoul(text)[0] * int(spec.multiplier)) & _MASK64
        if spec.kind == "bool":
            return raw != 0
        if spec.kind == "bool_eq1":
            return raw == 1
        if spec.kind == "int":
            return _to_int32(raw)
        if spec.kind == "int_as_u64":
            return _to_int32(raw) & _MASK64
        return raw
    if spec.kind == "f64":
        return c_strtod(text)[0] * spec.multiplier
    raise AssertionError(spec.kind)


def plan_config(
    parsed: ParsedConfig,
    model: str,
    scenario_name: "str | TestScenario",
    *,
    ruleset: str = "v1.1",
) -> tuple[list[Assignment], list[ConfigDiagnostic]]:
    """Work out which settings fields ``parsed`` sets for (model, scenario_name).

    Returns the assignments in the official lookup order and the errors found while
    converting (only the invalid ``mode`` value; that key is then skipped, the others still
    apply, as in the official code). A ``parsed`` with errors yields no assignments and its
    own errors, because the official parser applies nothing then.
    """
    if parsed.errors or not parsed.opened:
        return [], list(parsed.errors)
    scenario = scenario_name.value if isinstance(scenario_name, TestScenario) else str(scenario_name)
    table = {e.key: e for e in parsed.entries}
    assignments: list[Assignment] = []
    errors: list[ConfigDiagnostic] = []
    for spec in KEY_TABLE:
        if ruleset not in spec.rulesets:
            continue
        lookup_scenario = spec.scenario if spec.scenario is not None else scenario
        entry = None
        for candidate in config_key_candidates(model, lookup_scenario, spec.name):
            if candidate in table:
                entry = table[candidate]
                break
        if entry is None:
            continue
        value = _convert(spec, entry.value)
        if spec.kind == "mode":
            try:
                value = TestMode.from_config_int(value)
            except ValueError:
                errors.append(
                    ConfigDiagnostic(
                        file=parsed.path,
                        line=entry.line,
                        line_text=entry.line_text,
                        message=MSG_BAD_MODE,
                        expected=(
                            f"mode 0 (SubmissionRun), 1 (AccuracyOnly), 2 (PerformanceOnly) or "
                            f"3 (FindPeakPerformance), got {entry.value!r}"
                        ),
                        kind="mode",
                    )
                )
                continue
        assignments.append(Assignment(field=spec.field, value=value, entry=entry, spec=spec))
    return assignments, errors


def apply_config(
    settings: Any, parsed: ParsedConfig, model: str, scenario_name: "str | TestScenario"
) -> list[ConfigDiagnostic]:
    """Apply ``parsed`` to ``settings`` exactly like the official ``FromConfig`` would.

    Uses ``settings.ruleset``. Returns the official-style errors (empty on success): when
    ``parsed`` has errors nothing is applied and they are returned; an invalid ``mode``
    value is reported while every other key is still applied.
    """
    assignments, errors = plan_config(parsed, model, scenario_name, ruleset=getattr(settings, "ruleset", "v1.1"))
    for a in assignments:
        setattr(settings, a.field, a.value)
    return errors
