"""User-facing LoadGen settings: :class:`TestSettings`, :class:`LogOutputSettings`,
:class:`LogSettings` (spec loadgen.md §2.5, §2.6) and the config-file loaders (§3).

Field names and defaults are those of the official r1.1 ``TestSettings`` so code written for
``mlperf_loadgen`` keeps working; a few edgeperf additions are documented on the class.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Optional, Union

from .config import (
    ParsedConfig,
    apply_config,
    plan_config,
    read_config_file,
    shipped_mlperf_conf_path,
)
from .enums import LoggingMode, Ruleset, TestMode, TestScenario
from .errors import ConfigDiagnostic, ConfigError, ConfigWarning
from ..errors import UsageError

__all__ = [
    "TestSettings",
    "LogOutputSettings",
    "LogSettings",
    "default_mlperf_conf_path",
    "RULESETS",
    "RULESET_DEFAULTS",
]

RULESETS = ("v1.1", "v2.0")

#: Settings whose official default changed between rounds (spec loadgen.md §15.1; r2.0
#: ``test_settings.h``). A field the user never set takes the default of the current
#: ruleset, also when the ruleset is changed afterwards; a value the user set is kept.
RULESET_DEFAULTS: dict[str, dict[str, object]] = {
    "multi_stream_samples_per_query": {"v1.1": 4, "v2.0": 8},
    "multi_stream_target_latency_percentile": {"v1.1": 0.9, "v2.0": 0.99},
}


class _ByRuleset:
    """Marker default: "the current ruleset's default" (see ``RULESET_DEFAULTS``)."""

    def __repr__(self) -> str:
        return "<default of the ruleset>"


BY_RULESET: object = _ByRuleset()

PathLike = Union[str, "os.PathLike[str]"]


def default_mlperf_conf_path(ruleset: str = "v1.1") -> str:
    """Path of the ``mlperf.conf`` of ``ruleset`` shipped with edgeperf (package data): r1.1's by
    default, r2.0's for ``"v2.0"``."""
    return shipped_mlperf_conf_path(ruleset)


@dataclass
class TestSettings:
    """What to run and how: every field of the official r1.1 ``mlperf::TestSettings``.

    Defaults are the official ones (spec §2.5). Units follow the field names (``_ns``,
    ``_ms``); percentiles are fractions (0.9, not 90). Zero means "unlimited" for
    ``max_duration_ms``, ``max_query_count`` and ``server_max_async_queries``.

    edgeperf additions:

    * ``ruleset`` — ``"v1.1"`` (default) or ``"v2.0"``. v2.0 switches MultiStream to its
      v2.0 definition (§15.1) and turns on early stopping (§15.2). The fields of
      ``RULESET_DEFAULTS`` the user did not set take that round's default (v2.0:
      ``multi_stream_samples_per_query = 8``, ``multi_stream_target_latency_percentile =
      0.99``), whenever the ruleset is chosen; under v2.0 the expected-latency hints are
      doubles, as in r2.0 ``TestSettings``.
    * ``multi_stream_expected_latency_ns`` — the v2.0 MultiStream hint (target_qps =
      1e9 / this); read only under ruleset v2.0. Config key ``MultiStream.target_latency``
      (ms, double) sets it under v2.0.
    * ``sample_concatenate_permutation`` — the r2.0 setting (config key of the same name, read
      as true only for the value 1), used only under ruleset v2.0: SingleStream draws samples
      from concatenated shuffles of the loaded set and raises its minimum query count; Offline
      pads its query to whole copies of the loaded set, each shuffled (spec §15.5).
    * ``sut_stall_timeout_s`` — a run whose SUT answers nothing for this long is ended
      (the official LoadGen waits forever, §13.2).

    Config errors found by the lenient :meth:`from_config` are kept in
    ``pending_config_errors`` (the engine logs them as ``error_invalid_config`` records,
    like the official LoadGen does with the errors it buffered before StartTest), and the
    traps found in config files in ``config_warnings``. Neither takes part in comparisons.
    """

    __test__ = False  # keeps pytest from collecting this as a test class

    scenario: TestScenario = TestScenario.SingleStream
    mode: TestMode = TestMode.PerformanceOnly
    single_stream_expected_latency_ns: int = 1_000_000
    single_stream_target_latency_percentile: float = 0.90
    multi_stream_target_qps: float = 10.0
    multi_stream_target_latency_ns: int = 100_000_000
    multi_stream_target_latency_percentile: float = BY_RULESET  # type: ignore[assignment]
    multi_stream_samples_per_query: int = BY_RULESET  # type: ignore[assignment]
    multi_stream_max_async_queries: int = 1
    server_target_qps: float = 1.0
    server_target_latency_ns: int = 100_000_000
    server_target_latency_percentile: float = 0.99
    server_coalesce_queries: bool = False
    server_find_peak_qps_decimals_of_precision: int = 1
    server_find_peak_qps_boundary_step_size: float = 1.0
    server_max_async_queries: int = 0
    server_num_issue_query_threads: int = 0
    offline_expected_qps: float = 1.0
    min_duration_ms: int = 10_000
    max_duration_ms: int = 0
    min_query_count: int = 100
    max_query_count: int = 0
    qsl_rng_seed: int = 0
    sample_index_rng_seed: int = 0
    schedule_rng_seed: int = 0
    accuracy_log_rng_seed: int = 0
    accuracy_log_probability: float = 0.0
    accuracy_log_sampling_target: int = 0
    print_timestamps: bool = False
    performance_issue_unique: bool = False
    performance_issue_same: bool = False
    performance_issue_same_index: int = 0
    performance_sample_count_override: int = 0
    # v2.0 only (r2.0 test_settings.h): sample by concatenated permutations of the loaded set
    # ("equal issue"; SingleStream and Offline). Ignored under v1.1, which has no such setting.
    sample_concatenate_permutation: bool = False
    # edgeperf additions
    ruleset: str = "v1.1"
    multi_stream_expected_latency_ns: int = 8_000_000
    sut_stall_timeout_s: float = 300.0
    pending_config_errors: list[ConfigDiagnostic] = field(default_factory=list, repr=False, compare=False)
    config_warnings: list[ConfigWarning] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.scenario, str):
            self.scenario = TestScenario(self.scenario)
        if isinstance(self.mode, str):
            self.mode = TestMode(self.mode)

    def __setattr__(self, name: str, value: object) -> None:
        # Ruleset-dependent defaults (RULESET_DEFAULTS): remember which of those fields the
        # user set, so choosing the ruleset later still gives the others that round's default.
        state = self.__dict__
        if name == "ruleset":
            if isinstance(value, Ruleset):
                value = value.value
            if value not in RULESETS:
                raise UsageError(f"ruleset must be one of {RULESETS}, got {value!r}")
            object.__setattr__(self, name, value)
            explicit = state.setdefault("_explicit_fields", set())
            for field_name, by_round in RULESET_DEFAULTS.items():
                if field_name not in explicit:
                    object.__setattr__(self, field_name, by_round[value])
            return
        if name in RULESET_DEFAULTS:
            explicit = state.setdefault("_explicit_fields", set())
            if value is BY_RULESET:
                explicit.discard(name)
                value = RULESET_DEFAULTS[name][state.get("ruleset", "v1.1")]
            else:
                explicit.add(name)
        object.__setattr__(self, name, value)

    def is_default(self, field_name: str) -> bool:
        """True when ``field_name`` (one of ``RULESET_DEFAULTS``) still has the ruleset's default
        because nobody set it."""
        return field_name not in self.__dict__.get("_explicit_fields", set())

    # ---------------------------------------------------------------- config files

    def from_config(self, path: PathLike, model: str, scenario_name: Union[str, TestScenario]) -> int:
        """Apply a config file exactly like the official ``TestSettings::FromConfig``.

        Returns 0 on success, -2 (ENOENT) if the file cannot be opened, -22 (EINVAL) if it
        has a syntax or value error — then no key at all is applied. An invalid ``mode``
        value is reported but the other keys still apply and 0 is returned (as in r1.1).
        The official-style errors are appended to ``pending_config_errors`` and the
        warnings to ``config_warnings``.
        """
        parsed = read_config_file(path, ruleset=self.ruleset)
        errors = apply_config(self, parsed, model, scenario_name)
        self.pending_config_errors.extend(errors)
        self.config_warnings.extend(parsed.warnings)
        return parsed.return_code

    # Name of the official Python binding's method, for drop-in use.
    FromConfig = from_config

    def load_config(
        self,
        path: PathLike,
        model: str,
        scenario_name: Union[str, TestScenario],
        *,
        mlperf_conf: Optional[bool] = None,
    ) -> list[ConfigWarning]:
        """Strict variant of :meth:`from_config`: raises :class:`ConfigError` (naming file,
        line, line text and what was expected) instead of returning an error code, and
        applies nothing when it raises (an invalid ``mode`` included).

        ``mlperf_conf`` marks the file as playing the role of mlperf.conf (see
        :func:`edgeperf.loadgen.config.parse_config_text`). Returns the warnings found,
        which are also appended to ``config_warnings``.
        """
        parsed = read_config_file(path, ruleset=self.ruleset, mlperf_conf=mlperf_conf)
        if parsed.errors:
            raise ConfigError(parsed.errors)
        assignments, errors = plan_config(parsed, model, scenario_name, ruleset=self.ruleset)
        if errors:
            raise ConfigError(errors)
        for a in assignments:
            setattr(self, a.field, a.value)
        self.config_warnings.extend(parsed.warnings)
        return list(parsed.warnings)

    def drain_config_errors(self) -> list[ConfigDiagnostic]:
        """Return and forget the buffered official-style config errors (for the engine)."""
        errors, self.pending_config_errors = self.pending_config_errors, []
        return errors

    @classmethod
    def from_files(
        cls,
        model: str,
        scenario: Union[str, TestScenario],
        mlperf_conf: Optional[PathLike] = None,
        user_conf: Optional[PathLike] = None,
        audit_config: Optional[PathLike] = None,
        *,
        mode: Optional[TestMode] = None,
        ruleset: str = "v1.1",
        strict: bool = True,
    ) -> "TestSettings":
        """Build settings the way the reference harness and LoadGen do (spec §3.4).

        Order: ``mlperf_conf`` (``None`` = the shipped mlperf.conf of ``ruleset``), then ``user_conf``,
        both for (model, scenario); then ``scenario`` (and ``mode`` if given) are assigned,
        overriding the files; then ``audit_config`` is applied with model ``*`` and the
        scenario name, on top of everything (it may change ``mode``).

        ``strict=True`` raises :class:`ConfigError` on any invalid file; ``strict=False``
        behaves like the official FromConfig calls and only records the errors in
        ``pending_config_errors``.
        """
        scen = TestScenario(scenario) if isinstance(scenario, str) else scenario
        settings = cls(ruleset=ruleset)
        conf = default_mlperf_conf_path(settings.ruleset) if mlperf_conf is None else mlperf_conf

        def load(path: PathLike, model_name: str, is_mlperf_conf: bool) -> None:
            if strict:
                settings.load_config(path, model_name, scen.value, mlperf_conf=is_mlperf_conf)
            else:
                parsed = read_config_file(path, ruleset=settings.ruleset, mlperf_conf=is_mlperf_conf)
                settings.pending_config_errors.extend(apply_config(settings, parsed, model_name, scen.value))
                settings.config_warnings.extend(parsed.warnings)

        load(conf, model, True)
        if user_conf is not None:
            load(user_conf, model, False)
        settings.scenario = scen
        if mode is not None:
            settings.mode = TestMode(mode) if isinstance(mode, str) else mode
        if audit_config is not None:
            load(audit_config, "*", False)
        return settings


@dataclass
class LogOutputSettings:
    """Where the four log files go (spec §2.6).

    Files are ``<outdir>/<prefix>[<datetime>_]{summary,detail,accuracy,trace}<suffix>.ext``.
    """

    outdir: str = "."
    prefix: str = "mlperf_log_"
    suffix: str = ""
    prefix_with_datetime: bool = False
    copy_detail_to_stdout: bool = False
    copy_summary_to_stdout: bool = False


@dataclass
class LogSettings:
    """Logging options (spec §2.6). Only ``LoggingMode.AsyncPoll`` is implemented, as in the
    official LoadGen; ``log_mode_async_poll_interval_ms`` is accepted and ignored."""

    log_output: LogOutputSettings = field(default_factory=LogOutputSettings)
    log_mode: LoggingMode = LoggingMode.AsyncPoll
    log_mode_async_poll_interval_ms: int = 1000
    enable_trace: bool = True


# Re-exported for convenience.
__all__ += ["ConfigError", "ParsedConfig"]
