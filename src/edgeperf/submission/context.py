"""Options of a check run and the context every check module receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .findings import Finding
from .rules import RoundRules, get_rules
from .tree import Tree

__all__ = ["CheckContext", "CheckOptions"]


@dataclass(frozen=True)
class CheckOptions:
    """What to check and how.

    Attributes:
        version: the round whose rules apply (``"v1.1"``; ``"v1.0"`` also known).
        submitter: check only this submitter directory (exact name).
        skip_compliance: do not look at ``compliance/`` (closed results then get compilance=0).
        strict: also invalidate what v1.1 only logs: wrong seeds, latency bound, too few queries,
            Offline samples per query, duration under 600 s.
        submission_exceptions: accept detail logs whose only errors are "Loadgen built with
            uncommitted changes!" (the official --submission-exceptions).
        extra_model_map: extra benchmark-directory -> model-class entries.
        debug: the official --debug: open-division accuracy and missing-scenario notes become
            warnings instead of infos.
        power_timezones: ``"r1.1"`` (add client/server timezones, bit-exact with v1.1) or ``"utc"``.
    """

    version: str = "v1.1"
    submitter: str | None = None
    skip_compliance: bool = False
    strict: bool = False
    submission_exceptions: bool = False
    extra_model_map: Mapping[str, str] = field(default_factory=dict)
    debug: bool = False
    power_timezones: str = "r1.1"

    def rules(self) -> RoundRules:
        rules = get_rules(self.version)
        return rules.with_model_mapping(self.extra_model_map) if self.extra_model_map else rules


@dataclass
class CheckContext:
    """Shared by every check of one run."""

    tree: Tree
    rules: RoundRules
    options: CheckOptions
    findings: list[Finding] = field(default_factory=list)
