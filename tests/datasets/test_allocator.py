"""The heap setting DatasetQSL makes before preprocessing (edgeperf.datasets._allocator)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

glibc_linux = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="mallopt is glibc's",
)

# Two 700 KB buffers allocated, touched and freed over and over: with glibc's dynamic trim
# threshold the freed top of the heap goes back to the kernel each time, so every round faults
# its pages in again; with the threshold raised, the same memory is reused.
_CHURN = textwrap.dedent(
    """
    import resource, sys
    import numpy as np
    {setup}
    def faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        a = np.ones(700_000, np.uint8); b = np.ones(700_000, np.uint8); del a, b
    before = faults()
    for _ in range(100):
        a = np.ones(700_000, np.uint8); b = np.ones(700_000, np.uint8); del a, b
    print(result, (faults() - before) / 100)
    """
)


def _churn(setup: str, **env: str) -> tuple[str, float]:
    code = _CHURN.format(setup=setup)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, check=True
    )
    result, faults = proc.stdout.split()
    return result, float(faults)


@glibc_linux
def test_keeping_freed_heap_stops_the_refaulting_of_per_sample_buffers():
    _, default_faults = _churn("result = 'default'")
    applied, kept_faults = _churn(
        "from edgeperf.datasets._allocator import keep_freed_heap\nresult = keep_freed_heap()"
    )
    assert applied == "True"
    assert default_faults > 100  # 2 x 700 KB is ~340 pages faulted in again per round
    assert kept_faults < 5


@glibc_linux
def test_the_environment_variable_opts_out():
    applied, faults = _churn(
        "from edgeperf.datasets._allocator import keep_freed_heap\nresult = keep_freed_heap()",
        EDGEPERF_KEEP_MALLOC_DEFAULTS="1",
    )
    assert applied == "False" and faults > 100


@glibc_linux
def test_loading_samples_applies_it_once(tmp_path):
    code = textwrap.dedent(
        """
        import numpy as np
        from edgeperf.datasets import DatasetQSL
        from edgeperf.datasets import _allocator

        class Tiny:
            name = "tiny"
            def __len__(self):
                return 4
            def preprocessed(self, index):
                return np.full(3, index, np.float32)

        assert _allocator._done is None
        DatasetQSL(Tiny(), 4).load_samples_to_ram([0, 1])
        print(_allocator._done)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True"]
