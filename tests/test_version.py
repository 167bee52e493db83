"""One version source (src/edgeperf/_version.py) and the typing marker ship with the package."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import edgeperf


def test_the_installed_metadata_reads_the_one_version_source():
    source = (Path(edgeperf.__file__).parent / "_version.py").read_text(encoding="utf-8")
    written = re.search(r'^__version__ = "([^"]+)"$', source, re.M)
    assert written is not None
    assert edgeperf.__version__ == written.group(1)
    assert importlib.metadata.version("edgeperf") == written.group(1)


def test_the_package_is_marked_typed():
    assert (Path(edgeperf.__file__).parent / "py.typed").is_file()
