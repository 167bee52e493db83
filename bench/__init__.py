"""Benchmarks of edgeperf (not part of the installed package). See bench/README.md."""
