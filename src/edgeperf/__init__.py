"""edgeperf: an independent, pure-Python implementation of the MLPerf(TM) Inference v1.1 Edge suite.

MLPerf is a trademark of MLCommons. edgeperf is not affiliated with MLCommons, and results it
produces are not official MLPerf results.
"""

__version__ = "0.1.0"
