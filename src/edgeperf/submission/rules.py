"""The checker's rules as data, one :class:`RoundRules` per round (spec submission.md §3, §5.2).

Nothing here is code that decides: the check modules read these tables. A new round is a new
``RoundRules`` value (usually ``dataclasses.replace`` of the previous one), not new branches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping

from ..errors import UsageError

__all__ = ["AccuracyRule", "RoundRules", "RULES", "V1_0", "V1_1", "get_rules"]


def _ro(d: dict) -> Mapping:
    return MappingProxyType(d)


@dataclass(frozen=True)
class AccuracyRule:
    """A model class's quality target and how accuracy.txt is read: metric, target, line regex.

    The benchmark registry builds its quality targets from these, so the round's rules are the
    one source of them.
    """

    metric: str
    reference: float  # the FP32 reference score, in the unit the accuracy line prints
    fraction: float  # the share of it a closed result must reach: 0.99 or 0.999
    pattern: str  # applied with re.match to each line; group 1 is the value

    @property
    def target(self) -> float:
        """The captured value must be >= this (the product as Python computes it, as the checker)."""
        return self.reference * self.fraction

    @property
    def regex(self) -> re.Pattern:
        return _compiled(self.pattern)


_CACHE: dict[str, re.Pattern] = {}


def _compiled(pattern: str) -> re.Pattern:
    rx = _CACHE.get(pattern)
    if rx is None:
        rx = _CACHE[pattern] = re.compile(pattern)
    return rx


_PATTERNS = {
    "acc": r"^accuracy=([\d\.]+).*",
    "mAP": r"^mAP=([\d\.]+).*",
    "WER": r"Word Error Rate\:.*, accuracy=([0-9\.]+)%",
    "F1": r"^{\"exact_match\"\:\s*[\d\.]+,\s*\"f1\"\:\s*([\d\.]+)}",
    "AUC": r"^AUC=([\d\.]+).*",
    "DICE": r"Accuracy\:\s*mean\s*=\s*([\d\.]+).*",
}


def _acc(metric: str, reference: float, fraction: float) -> AccuracyRule:
    return AccuracyRule(metric, reference, fraction, _PATTERNS[metric])


_DC_OPTIONAL_SERVER = ("resnet", "ssd-large", "rnnt", "bert-99", "bert-99.9", "dlrm-99", "dlrm-99.9")

_SCENARIOS_V1_1 = {
    # system type -> (required {class: scenarios}, optional {class: scenarios})
    "datacenter": (
        {m: ("Offline",) for m in (*_DC_OPTIONAL_SERVER, "3d-unet-99", "3d-unet-99.9")},
        {m: ("Server",) for m in _DC_OPTIONAL_SERVER},
    ),
    "edge": (
        {
            m: ("SingleStream", "Offline")
            for m in ("resnet", "ssd-small", "ssd-large", "rnnt", "bert-99", "3d-unet-99", "3d-unet-99.9")
        },
        {},
    ),
    "datacenter,edge": (
        {
            **{
                m: ("SingleStream", "Offline")
                for m in ("resnet", "ssd-small", "ssd-large", "rnnt", "bert-99", "3d-unet-99", "3d-unet-99.9")
            },
            **{m: ("Offline",) for m in ("bert-99.9", "dlrm-99", "dlrm-99.9")},
        },
        {m: ("Server",) for m in _DC_OPTIONAL_SERVER},
    ),
}
_SCENARIOS_V1_1["edge,datacenter"] = _SCENARIOS_V1_1["datacenter,edge"]


@dataclass(frozen=True)
class RoundRules:
    """Everything the checker needs to know about one round."""

    version: str
    models: tuple[str, ...]
    model_mapping: Mapping[str, str]
    # substring guesses for names that are neither a class nor mapped: (substrings, guess), in order
    model_guesses: tuple[tuple[tuple[str, ...], str], ...]
    scenarios: Mapping[str, tuple[Mapping[str, tuple[str, ...]], Mapping[str, tuple[str, ...]]]]
    accuracy: Mapping[str, AccuracyRule]
    hash_pattern: str
    min_performance_sample_count: Mapping[str, int]
    seeds: Mapping[str, int]
    latency_constraint_ns: Mapping[tuple[str, str], int]  # (class, log scenario) -> p99 bound
    min_query_count: Mapping[tuple[str, str], int]  # (class, log scenario) -> minimum
    offline_min_samples_per_query: int
    min_duration_ms: int
    max_accuracy_log_bytes: int
    ignore_detail_errors: tuple[str, ...]
    uncommitted_changes_error: str = "Loadgen built with uncommitted changes!"

    # layout and names
    divisions: tuple[str, ...] = ("closed", "open")
    ignored_top_level: tuple[str, ...] = (".git", ".github")
    statuses: tuple[str, ...] = ("available", "preview", "rdi")
    scenario_dir_aliases: Mapping[str, str] = field(
        default_factory=lambda: _ro(
            {"singlestream": "SingleStream", "multistream": "MultiStream", "server": "Server", "offline": "Offline"}
        )
    )
    checked_runs: tuple[str, ...] = ("run_1",)

    # detail-log keys
    result_key: Mapping[str, str] = field(
        default_factory=lambda: _ro(
            {
                "Offline": "result_samples_per_second",
                "SingleStream": "result_90.00_percentile_latency_ns",
                "MultiStream": "effective_samples_per_query",
                "Server": "result_scheduled_samples_per_sec",
            }
        )
    )
    p99_key: Mapping[str, str] = field(
        default_factory=lambda: _ro(
            {
                "MultiStream": "result_99.00_percentile_per_query_latency_ns",
            }
        )
    )
    p99_key_default: str = "result_99.00_percentile_latency_ns"
    seed_keys: tuple[tuple[str, str], ...] = (
        ("qsl_rng_seed", "effective_qsl_rng_seed"),
        ("sample_index_rng_seed", "effective_sample_index_rng_seed"),
        ("schedule_rng_seed", "effective_schedule_rng_seed"),
    )
    ns_per_ms: int = 1_000_000

    # units (by directory scenario)
    perf_units: Mapping[str, str] = field(
        default_factory=lambda: _ro(
            {"SingleStream": "Latency (ms)", "MultiStream": "Streams", "Server": "Queries/s", "Offline": "Samples/s"}
        )
    )

    # files
    files_diff_ignored: tuple[str, ...] = ("mlperf_log_trace.json", "results.json")
    accuracy_files: tuple[str, ...] = (
        "mlperf_log_summary.txt",
        "mlperf_log_detail.txt",
        "accuracy.txt",
        "mlperf_log_accuracy.json",
    )
    perf_files: tuple[str, ...] = ("mlperf_log_summary.txt", "mlperf_log_detail.txt")
    perf_optional_files: tuple[str, ...] = ("mlperf_log_accuracy.json",)
    perf_power_files: tuple[str, ...] = ("spl.txt",)
    power_files: tuple[str, ...] = ("client.json", "client.log", "ptd_logs.txt", "server.json", "server.log")
    measurement_files: tuple[str, ...] = ("mlperf.conf", "user.conf", "README.md")
    measurement_json_keys: tuple[str, ...] = (
        "input_data_types",
        "retraining",
        "starting_weights_filename",
        "weight_data_types",
        "weight_transformations",
    )

    # compliance
    compliance_tests: tuple[str, ...] = ("TEST01", "TEST04-A", "TEST04-B", "TEST05")
    compliance_without_test04_models: tuple[str, ...] = ("rnnt", "bert-99", "bert-99.9", "dlrm-99", "dlrm-99.9")
    compliance_without_test04_scenarios: tuple[str, ...] = ("MultiStream",)
    compliance_no_verify_tests: tuple[str, ...] = ("TEST04-B",)
    compliance_accuracy_test: str = "TEST01"
    compliance_perf_files: tuple[str, ...] = ("mlperf_log_summary.txt", "mlperf_log_detail.txt")
    compliance_acc_files_pass: tuple[str, ...] = ("mlperf_log_accuracy.json", "accuracy.txt")
    compliance_acc_files_fail: tuple[str, ...] = (
        "mlperf_log_accuracy.json",
        "accuracy.txt",
        "baseline_accuracy.txt",
        "compliance_accuracy.txt",
    )
    compliance_pass_text: str = "TEST PASS"

    # system description
    system_required_fields: tuple[str, ...] = (
        "division",
        "submitter",
        "status",
        "system_name",
        "number_of_nodes",
        "host_processor_model_name",
        "host_processors_per_node",
        "host_processor_core_count",
        "host_memory_capacity",
        "host_storage_capacity",
        "host_storage_type",
        "accelerators_per_node",
        "accelerator_model_name",
        "accelerator_memory_capacity",
        "framework",
        "operating_system",
        # required since v1.0
        "system_type",
        "other_software_stack",
        "host_processor_frequency",
        "host_processor_caches",
        "host_memory_configuration",
        "host_processor_interconnect",
        "host_networking",
        "host_networking_topology",
        "accelerator_frequency",
        "accelerator_host_interconnect",
        "accelerator_interconnect",
        "accelerator_interconnect_topology",
        "accelerator_memory_configuration",
        "accelerator_on-chip_memories",
        "cooling",
        "hw_notes",
        "sw_notes",
    )
    system_power_fields: tuple[str, ...] = (
        "power_management",
        "filesystem",
        "boot_firmware_version",
        "management_firmware_version",
        "other_hardware",
        "number_of_type_nics_installed",
        "nics_enabled_firmware",
        "nics_enabled_os",
        "nics_enabled_connected",
        "network_speed_mbit",
        "power_supply_quantity_and_rating_watts",
        "power_supply_details",
        "disk_drives",
        "disk_controllers",
    )
    system_string_fields: tuple[str, ...] = ("host_processor_model_name", "accelerator_model_name")

    # --- derived look-ups -------------------------------------------------------------------

    def system_types(self) -> tuple[str, ...]:
        return tuple(self.scenarios)

    def mlperf_model(self, name: str) -> str:
        """The model class of a benchmark directory name (§5.2: exact class, mapping, then guesses)."""
        if name in self.models:
            return name
        mapped = self.model_mapping.get(name)
        if mapped:
            return mapped
        guess = name
        for substrings, target in self.model_guesses:
            if any(s in name for s in substrings):
                guess = target
                break
        return self.model_mapping.get(guess, guess)

    def required_scenarios(self, system_type: str, model: str) -> tuple[str, ...] | None:
        """Required scenarios of a class for a system type; None when the class is not allowed there."""
        return self.scenarios[system_type][0].get(model)

    def optional_scenarios(self, system_type: str, model: str) -> tuple[str, ...]:
        return self.scenarios[system_type][1].get(model, ())

    def required_compliance_tests(self, model: str, scenario_dir: str) -> tuple[str, ...]:
        """The compliance tests a closed result of model class ``model`` needs (§5.9).

        TEST04-A/B are left out for the classes whose samples vary in size and for a scenario
        folder named exactly as in ``compliance_without_test04_scenarios``.
        """
        if model in self.compliance_without_test04_models or scenario_dir in self.compliance_without_test04_scenarios:
            return tuple(t for t in self.compliance_tests if not t.startswith("TEST04"))
        return self.compliance_tests

    def model_class(self, benchmark: str) -> str | None:
        """The model class of an edgeperf benchmark or family name (``resnet50`` → ``resnet``,
        ``bert`` → ``bert-99``), or None when the round has no such class."""
        name = str(benchmark).strip().lower()
        for candidate in (name, f"{name}-99"):
            found = self.mlperf_model(candidate)
            if found in self.models:
                return found
        return None

    def with_model_mapping(self, extra: Mapping[str, str]) -> "RoundRules":
        """A copy with extra ``name -> class`` entries (the official --extra-model-benchmark-map)."""
        return replace(self, model_mapping=_ro({**self.model_mapping, **extra}))


V1_1 = RoundRules(
    version="v1.1",
    models=(
        "ssd-small",
        "ssd-large",
        "resnet",
        "rnnt",
        "bert-99",
        "bert-99.9",
        "dlrm-99",
        "dlrm-99.9",
        "3d-unet-99",
        "3d-unet-99.9",
    ),
    model_mapping=_ro(
        {"ssd-mobilenet": "ssd-small", "ssd-resnet34": "ssd-large", "mobilenet": "resnet", "resnet50": "resnet"}
    ),
    model_guesses=(
        (("ssdlite", "ssd-inception", "yolo", "ssd-mobilenet", "ssd-resnet50"), "ssd-small"),
        (("mobilenet",), "mobilenet"),
        (("efficientnet",), "resnet"),
        (("rcnn",), "ssd-small"),
    ),
    scenarios=_ro({k: (_ro(v[0]), _ro(v[1])) for k, v in _SCENARIOS_V1_1.items()}),
    accuracy=_ro(
        {
            "resnet": _acc("acc", 76.46, 0.99),
            "ssd-small": _acc("mAP", 22.0, 0.99),
            "ssd-large": _acc("mAP", 20.0, 0.99),
            "rnnt": _acc("WER", 100 - 7.452, 0.99),
            "bert-99": _acc("F1", 90.874, 0.99),
            "bert-99.9": _acc("F1", 90.874, 0.999),
            "dlrm-99": _acc("AUC", 80.25, 0.99),
            "dlrm-99.9": _acc("AUC", 80.25, 0.999),
            "3d-unet-99": _acc("DICE", 0.853, 0.99),
            "3d-unet-99.9": _acc("DICE", 0.853, 0.999),
        }
    ),
    hash_pattern=r"^hash=([\w\d]+)$",
    min_performance_sample_count=_ro(
        {
            "ssd-small": 256,
            "ssd-large": 64,
            "resnet": 1024,
            "rnnt": 2513,
            "bert-99": 10833,
            "bert-99.9": 10833,
            "dlrm-99": 204800,
            "dlrm-99.9": 204800,
            "3d-unet-99": 16,
            "3d-unet-99.9": 16,
        }
    ),
    seeds=_ro(
        {
            "qsl_rng_seed": 1624344308455410291,
            "sample_index_rng_seed": 517984244576520566,
            "schedule_rng_seed": 10051496985653635065,
        }
    ),
    latency_constraint_ns=_ro(
        {
            ("resnet", "Server"): 15_000_000,
            ("resnet", "MultiStream"): 50_000_000,
            ("ssd-small", "MultiStream"): 50_000_000,
            ("ssd-large", "Server"): 100_000_000,
            ("ssd-large", "MultiStream"): 66_000_000,
            ("rnnt", "Server"): 1_000_000_000,
            ("bert-99", "Server"): 130_000_000,
            ("bert-99.9", "Server"): 130_000_000,
            ("dlrm-99", "Server"): 30_000_000,
            ("dlrm-99.9", "Server"): 30_000_000,
        }
    ),
    min_query_count=_ro(
        {
            **{
                (m, "SingleStream"): 1024
                for m in (
                    "resnet",
                    "ssd-small",
                    "ssd-large",
                    "rnnt",
                    "bert-99",
                    "bert-99.9",
                    "3d-unet-99",
                    "3d-unet-99.9",
                )
            },
            **{
                (m, "Server"): 270336
                for m in ("resnet", "ssd-large", "rnnt", "bert-99", "bert-99.9", "dlrm-99", "dlrm-99.9")
            },
            **{
                (m, "Offline"): 1
                for m in (
                    "resnet",
                    "ssd-small",
                    "ssd-large",
                    "rnnt",
                    "bert-99",
                    "bert-99.9",
                    "dlrm-99",
                    "dlrm-99.9",
                    "3d-unet-99",
                    "3d-unet-99.9",
                )
            },
        }
    ),
    offline_min_samples_per_query=24576,
    min_duration_ms=600_000,
    max_accuracy_log_bytes=10 * 1024,
    ignore_detail_errors=(),
)

# v1.0: other seeds; MultiStream optional on edge for resnet/ssd-small/ssd-large (270336 queries).
_MS = ("resnet", "ssd-small", "ssd-large")
V1_0 = replace(
    V1_1,
    version="v1.0",
    seeds=_ro(
        {
            "qsl_rng_seed": 7322528924094909334,
            "sample_index_rng_seed": 1570999273408051088,
            "schedule_rng_seed": 3507442325620259414,
        }
    ),
    scenarios=_ro(
        {
            **V1_1.scenarios,
            "edge": (V1_1.scenarios["edge"][0], _ro({m: ("MultiStream",) for m in _MS})),
            "datacenter,edge": (
                V1_1.scenarios["datacenter,edge"][0],
                _ro(
                    {
                        **{m: ("Server",) for m in _DC_OPTIONAL_SERVER},
                        "resnet": ("MultiStream", "Server"),
                        "ssd-small": ("MultiStream",),
                        "ssd-large": ("MultiStream", "Server"),
                    }
                ),
            ),
        }
    ),
    min_query_count=_ro({**V1_1.min_query_count, **{(m, "MultiStream"): 270336 for m in _MS}}),
)
V1_0 = replace(V1_0, scenarios=_ro({**V1_0.scenarios, "edge,datacenter": V1_0.scenarios["datacenter,edge"]}))

#: Round name -> rules.
RULES: Mapping[str, RoundRules] = _ro({"v1.1": V1_1, "v1.0": V1_0})


def get_rules(version: str) -> RoundRules:
    """The rules of a round (``"v1.1"``, ``"v1.0"``); ValueError naming the known rounds otherwise."""
    try:
        return RULES[version]
    except KeyError:
        raise UsageError(f"unknown round {version!r}: edgeperf has checker rules for {', '.join(RULES)}") from None
