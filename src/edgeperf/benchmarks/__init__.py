"""The benchmark registry: each v1.1 benchmark defined as data (spec benchmarks.md)."""

from .registry import BENCHMARKS, BenchmarkDefinition, QualityTarget, get_benchmark

__all__ = ["BENCHMARKS", "BenchmarkDefinition", "QualityTarget", "get_benchmark"]
