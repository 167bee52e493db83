"""edgeperf.loadgen's public surface: __all__, the typed start_test, and the README's imports."""

from __future__ import annotations

import inspect
import re
import typing
from pathlib import Path

import edgeperf.loadgen as loadgen
from edgeperf.loadgen import api, engine, settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_all_names_the_api_the_issue_lists_and_each_resolves():
    required = {"start_test", "TestSettings", "LogSettings", "complete_arrays", "SystemUnderTest", "QuerySampleLibrary"}
    assert required <= set(loadgen.__all__)
    assert len(set(loadgen.__all__)) == len(loadgen.__all__)
    for name in loadgen.__all__:
        assert getattr(loadgen, name) is not None, name
    assert loadgen.start_test is engine.start_test
    assert loadgen.TestSettings is settings.TestSettings
    assert loadgen.SystemUnderTest is api.SystemUnderTest


def test_start_test_is_typed_with_the_protocols():
    hints = typing.get_type_hints(engine.start_test)
    assert hints["sut"] is api.SystemUnderTest
    assert hints["qsl"] is api.QuerySampleLibrary
    assert hints["settings"] is settings.TestSettings
    assert list(inspect.signature(engine.start_test).parameters)[:3] == ["sut", "qsl", "settings"]


def test_the_readme_imports_from_the_package_not_its_modules():
    text = README.read_text(encoding="utf-8")
    imports = re.findall(r"^from (edgeperf\.loadgen[\w.]*) import (.+)$", text, re.M)
    assert imports, "the README shows how to import the native API"
    for module, names in imports:
        assert module == "edgeperf.loadgen", module
        for name in (n.strip() for n in names.split(",")):
            assert name in loadgen.__all__, name
