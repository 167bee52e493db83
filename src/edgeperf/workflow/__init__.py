"""Plans that run several parts of edgeperf in order (DESIGN.md's workflow layer).

``submission run`` (accuracy, performance and compliance runs, then the build and the check) lives
here rather than in ``submission/``, because it drives ``benchmarks`` and ``compliance``; the
``submission`` package only reads, checks and builds trees.
"""

from __future__ import annotations

from .submission_run import OneShotOptions, PlanStep, plan_steps, run_plan, run_submission

__all__ = ["OneShotOptions", "PlanStep", "plan_steps", "run_plan", "run_submission"]
