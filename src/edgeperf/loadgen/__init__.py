"""edgeperf's load generator: a pure-Python LoadGen that behaves like the official v1.1 one.

Only numpy and the standard library are needed here.
"""
