"""edgeperf: an independent, pure-Python implementation of the MLPerf(TM) Inference v1.1 Edge suite.

MLPerf is a trademark of MLCommons. edgeperf is not affiliated with MLCommons, and results it
produces are not official MLPerf results.
"""

from ._version import __version__

__all__ = ["__version__"]
