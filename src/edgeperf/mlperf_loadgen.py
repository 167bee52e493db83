"""Drop-in replacement for the official ``mlperf_loadgen`` Python binding, on edgeperf's LoadGen.

A harness written for the r1.1 binding or for the current ``mlcommons-loadgen`` wheel runs
unchanged with only its import changed::

    import edgeperf.mlperf_loadgen as mlperf_loadgen

Both callback forms are accepted: ``ConstructSUT(issue_cb, flush_cb, report_latency_cb)`` (r1.1)
and ``ConstructSUT(issue_cb, flush_cb)`` (current). ``TestSettings`` takes the attribute names
of both bindings; ``settings.ruleset`` ("v1.1" by default, or "v2.0") decides which MultiStream
definition runs. Response data may be a raw address (read with ctypes, as the official binding
does, only when the sample is logged) or a bytes-like object.

MLPerf is a trademark of MLCommons; this module is an independent implementation.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import threading
from typing import Any, Callable, Sequence

import numpy as np

from .loadgen import api as _api
from .loadgen import engine as _engine
from .loadgen.enums import LoggingMode, TestMode, TestScenario
from .loadgen.settings import LogOutputSettings, LogSettings
from .loadgen.settings import TestSettings as _TestSettings
from .loadgen.settings import BY_RULESET, default_mlperf_conf_path

__all__ = [
    "TestSettings",
    "LogSettings",
    "LogOutputSettings",
    "TestScenario",
    "TestMode",
    "LoggingMode",
    "QuerySample",
    "QuerySampleResponse",
    "VectorQuerySample",
    "VectorQuerySampleResponse",
    "ConstructSUT",
    "ConstructFastSUT",
    "DestroySUT",
    "DestroyFastSUT",
    "ConstructQSL",
    "DestroyQSL",
    "StartTest",
    "StartTestWithLogSettings",
    "QuerySamplesComplete",
]


#: ``QuerySample()`` / ``QuerySample(id, index)``; the SUT callbacks receive instances of it.
QuerySample = _api.QuerySample
#: ``QuerySampleResponse(id, data, size[, n_tokens])``: ``data`` is an address or a buffer.
QuerySampleResponse = _api.QuerySampleResponse


class VectorQuerySample(list):
    """List-like container of QuerySample, as the official binding exposes."""


class VectorQuerySampleResponse(list):
    """List-like container of QuerySampleResponse, as the official binding exposes."""


class TestSettings(_TestSettings):
    """The official ``TestSettings``: every r1.1 and current-wheel attribute name.

    Attributes the current wheel has but v1.1 has no use for (token latencies, TEST05 seeds in
    mlperf.conf, ...) are accepted and kept, so harnesses that set them still run; they do not
    change a v1.1 run. ``sample_concatenate_permutation`` is a real setting under ruleset v2.0.
    """

    __test__ = False

    def __init__(self) -> None:
        object.__setattr__(self, "_from_file", True)  # the defaults need no checking
        super().__init__()
        self._builtin_conf_loaded = False
        for name, default in _WHEEL_ONLY_ATTRIBUTES.items():
            setattr(self, name, default)
        object.__setattr__(self, "_from_file", False)

    def __setattr__(self, name: str, value: Any) -> None:
        # Like the official binding, a wrong value fails where it is assigned, naming the
        # setting, not deep inside StartTest. Values from config files are checked at StartTest,
        # where the file and line are known (FromConfig itself returns codes, as officially).
        if not self.__dict__.get("_from_file", False):
            value = _checked_setting(name, value)
        super().__setattr__(name, value)  # the base resolves the ruleset-dependent defaults

    def FromConfig(self, path: str, model: str, scenario: str, conf_type: int = 1) -> int:  # noqa: N802
        """Apply a config file (official return codes: 0, -2, -22).

        Like the current wheel, the first call first loads edgeperf's shipped mlperf.conf, so a
        harness that passes only its user.conf still gets the official values; a harness that
        passes mlperf.conf itself (the r1.1 way) just applies the same values again.
        """
        object.__setattr__(self, "_from_file", True)
        try:
            if not self._builtin_conf_loaded:
                self._builtin_conf_loaded = True
                self.from_config(default_mlperf_conf_path(self.ruleset), model, scenario)
            if conf_type == 0:  # current wheel: "only the built-in mlperf.conf"
                return 0
            return self.from_config(path, model, scenario)
        finally:
            object.__setattr__(self, "_from_file", False)


_FIELD_TYPES = {f.name: str(f.type) for f in dataclasses.fields(_TestSettings)}
#: Rates LoadGen divides by or draws Poisson arrivals from: zero or below can never run.
_RATE_SETTINGS = ("server_target_qps", "offline_expected_qps", "multi_stream_target_qps")


def _checked_setting(name: str, value: Any) -> Any:
    """``value`` if it suits setting ``name``; else TypeError/ValueError naming the setting."""
    kind = _FIELD_TYPES.get(name)
    if kind is None or value is BY_RULESET:  # "the ruleset's default" until the user sets one
        return value
    shown = f"TestSettings.{name} = {value!r}"
    if kind == "bool":
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{shown}: expected True or False")
        return bool(value)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{shown}: expected an integer")
        if value < 0:
            raise ValueError(f"{shown}: expected an integer of 0 or more")
        return int(value)
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{shown}: expected a number")
        if not math.isfinite(value):
            raise ValueError(f"{shown}: expected a finite number")
        if name in _RATE_SETTINGS and not value > 0:
            raise ValueError(f"{shown}: expected a number of queries per second above 0")
        return float(value)
    if kind == "TestScenario" and not isinstance(value, TestScenario):
        raise TypeError(f"{shown}: expected a TestScenario (e.g. TestScenario.Offline)")
    if kind == "TestMode" and not isinstance(value, TestMode):
        raise TypeError(f"{shown}: expected a TestMode (e.g. TestMode.PerformanceOnly)")
    return value


def _check_settings(settings: _TestSettings) -> None:
    """At StartTest: every setting, including those a config file set (the file's line is in
    the message when the value came from one)."""
    for name in _FIELD_TYPES:
        value = getattr(settings, name)
        try:
            _checked_setting(name, value)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"StartTest: {exc}") from None


_WHEEL_ONLY_ATTRIBUTES: dict[str, Any] = {
    "accuracy_sample_count_override": 0,
    "use_token_latencies": False,
    "ttft_latency": 100_000_000,
    "tpot_latency": 100_000_000,
    "infer_token_latencies": False,
    "token_latency_scaling_factor": 1,
    "test05": False,
    "test05_qsl_rng_seed": 0,
    "test05_sample_index_rng_seed": 0,
    "test05_schedule_rng_seed": 0,
}


class _CallbackSUT:
    """Adapts the binding's callbacks to edgeperf's SUT protocol."""

    def __init__(self, name: str, issue_cb: Callable, flush_cb: Callable, report_cb: Callable | None, fast: bool):
        self.name = name
        self._issue_cb = issue_cb
        self._flush_cb = flush_cb
        self._report_cb = report_cb
        # The engine hands over its own QuerySample list (the class this module exports) or, for
        # the fast form, the two lists the callback takes: no conversion on the way.
        if fast:
            self.issue_query_lists = issue_cb
        else:
            self.issue_query = issue_cb

    def flush_queries(self) -> None:
        self._flush_cb()

    def report_latency_results(self, latencies_ns: np.ndarray) -> None:
        if self._report_cb is not None:
            self._report_cb(latencies_ns.tolist())


class _CallbackQSL:
    """Adapts the binding's QSL callbacks to edgeperf's QSL protocol."""

    name = "PyQSL"

    def __init__(self, total: int, performance: int, load_cb: Callable, unload_cb: Callable):
        self.total_sample_count = int(total)
        self.performance_sample_count = int(performance)
        self._load_cb, self._unload_cb = load_cb, unload_cb

    def load_samples_to_ram(self, indices: Sequence[int]) -> None:
        self._load_cb(list(indices))

    def unload_samples_from_ram(self, indices: Sequence[int]) -> None:
        self._unload_cb(list(indices))


_handles: dict[int, object] = {}
_handle_counter = itertools.count(1)
_handle_lock = threading.Lock()


def _register(obj: object) -> int:
    with _handle_lock:
        handle = next(_handle_counter)
        _handles[handle] = obj
    return handle


def _lookup(handle: int, kind: type, what: str):
    obj = _handles.get(handle)
    if not isinstance(obj, kind):
        raise ValueError(f"{what} handle {handle!r} is not a live handle from Construct{what}()")
    return obj


def ConstructSUT(issue_cb: Callable, flush_cb: Callable, report_latency_cb: Callable | None = None) -> int:  # noqa: N802
    """Create a SUT from ``issue_cb(list[QuerySample])`` and ``flush_cb()`` (+ r1.1 latency callback)."""
    return _register(_CallbackSUT("PySUT", issue_cb, flush_cb, report_latency_cb, fast=False))


def ConstructFastSUT(fast_issue_cb: Callable, flush_cb: Callable, report_latency_cb: Callable | None = None) -> int:  # noqa: N802
    """Create a SUT whose issue callback takes ``(ids: list[int], indices: list[int])``."""
    return _register(_CallbackSUT("PyFastSUT", fast_issue_cb, flush_cb, report_latency_cb, fast=True))


def DestroySUT(handle: int) -> None:  # noqa: N802
    """Forget a SUT handle."""
    _lookup(handle, _CallbackSUT, "SUT")
    _handles.pop(handle, None)


DestroyFastSUT = DestroySUT


def ConstructQSL(total_sample_count: int, performance_sample_count: int, load_cb: Callable, unload_cb: Callable) -> int:  # noqa: N802
    """Create a QSL from its sizes and load/unload callbacks."""
    for name, value in (
        ("total_sample_count", total_sample_count),
        ("performance_sample_count", performance_sample_count),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"ConstructQSL: {name} = {value!r}: expected an integer")
        if value < 1:
            raise ValueError(f"ConstructQSL: {name} = {value!r}: expected at least 1 sample")
    for name, cb in (("load_cb", load_cb), ("unload_cb", unload_cb)):
        if not callable(cb):
            raise TypeError(f"ConstructQSL: {name} = {cb!r}: expected a callable taking a list of sample indices")
    return _register(_CallbackQSL(total_sample_count, performance_sample_count, load_cb, unload_cb))


def DestroyQSL(handle: int) -> None:  # noqa: N802
    """Forget a QSL handle."""
    _lookup(handle, _CallbackQSL, "QSL")
    _handles.pop(handle, None)


def StartTest(sut: int, qsl: int, test_settings: _TestSettings, audit_config_filename: str = "audit.config") -> None:  # noqa: N802
    """Run a test with default log settings (files in the current directory)."""
    StartTestWithLogSettings(sut, qsl, test_settings, LogSettings(), audit_config_filename)


def StartTestWithLogSettings(  # noqa: N802
    sut: int,
    qsl: int,
    test_settings: _TestSettings,
    log_settings: LogSettings,
    audit_config_filename: str = "audit.config",
) -> None:
    """Run a test and write the logs where ``log_settings`` says."""
    _check_settings(test_settings)
    _engine.start_test(
        _lookup(sut, _CallbackSUT, "SUT"),
        _lookup(qsl, _CallbackQSL, "QSL"),
        test_settings,
        log_settings,
        audit_config=audit_config_filename,
    )


def QuerySamplesComplete(responses: Sequence[_api.QuerySampleResponse], response_cb: Callable | None = None) -> None:  # noqa: N802
    """Report completed samples; thread-safe, and allowed from inside the issue callback."""
    _engine.query_samples_complete(responses, response_cb)
