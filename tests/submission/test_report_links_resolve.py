"""``edgeperf report`` Details and Code links resolve from the output folder (issue 14).

Before, every link was relative to the submission tree's root and so dead from the report folder.
Each href of the HTML page, the Markdown file and the CSV files is resolved against the folder
the file sits in and must name an existing system JSON (Details) or code folder (Code).
"""

from __future__ import annotations

import csv
import re
import shutil
import urllib.parse
from pathlib import Path

import pytest

typer = pytest.importorskip("typer")

from typer.testing import CliRunner  # noqa: E402

import fixture_paths  # noqa: E402

TREE = fixture_paths.FIXTURES
SUMMARY = TREE.parent / "submissions-v1.1-subset.official-summary.csv"
pytestmark = pytest.mark.skipif(not SUMMARY.is_file(), reason=f"the v1.1 fixture subset is absent ({TREE})")
# 14 table rows (the power system's row is in two tables), each with a Details and a Code link.
EXPECTED_LINKS = 28


def _run(*args: str):
    from edgeperf.cli.main import build_app

    return CliRunner().invoke(build_app(), ["report", *args])


def _links(folder: Path) -> list[tuple[Path, str]]:
    """(file, href) for every Details/Code link written in the report folder."""
    out = []
    html = (folder / "results.html").read_text(encoding="utf-8")
    out += [(folder / "results.html", h) for h in re.findall(r'<a href="([^"]+)">(?:details|code)</a>', html)]
    md = (folder / "results.md").read_text(encoding="utf-8")
    out += [(folder / "results.md", h) for h in re.findall(r"\[(?:details|code)\]\(([^)]+)\)", md)]
    for path in folder.glob("results-*.csv"):
        rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
        d = rows[0].index("Details")
        out += [(path, h) for row in rows[1:] for h in (row[d], row[d + 1])]
    return out


def _assert_resolve(folder: Path) -> None:
    links = _links(folder)
    per_format = {}
    for source, href in links:
        per_format[source.suffix] = per_format.get(source.suffix, 0) + 1
        target = (source.parent / urllib.parse.unquote(href)).resolve()
        if "/systems/" in href:
            assert target.is_file() and target.suffix == ".json", (source.name, href)
        else:
            assert target.is_dir() and target.name == "code", (source.name, href)
    assert per_format == {".html": EXPECTED_LINKS, ".md": EXPECTED_LINKS, ".csv": EXPECTED_LINKS}


def test_links_resolve_from_the_output_folder_with_tree(tmp_path):
    out = tmp_path / "deep" / "report"
    result = _run(str(SUMMARY), "-o", str(out), "--format", "html,md,csv", "--tree", str(TREE))
    assert result.exit_code == 0, result.output
    _assert_resolve(out)


def test_summary_inside_the_tree_needs_no_tree_option(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree, symlinks=True)
    summary = tree / "summary.csv"
    shutil.copyfile(SUMMARY, summary)
    out = tmp_path / "out"
    result = _run(str(summary), "-o", str(out), "--format", "html,md,csv")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    _assert_resolve(out)


def test_without_a_tree_the_command_warns(tmp_path):
    result = _run(str(SUMMARY), "-o", str(tmp_path / "out"), "--format", "html")
    assert result.exit_code == 0
    assert "pass --tree TREE (or --links-base URL) so that they resolve from the output folder" in result.output


def test_missing_link_targets_warn(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree, symlinks=True)
    (tree / "closed/Alibaba/systems/A10x1_TRT.json").unlink()
    result = _run(str(SUMMARY), "-o", str(tmp_path / "out"), "--format", "html", "--tree", str(tree))
    assert result.exit_code == 0
    assert (
        "warning: 1 Details/Code link target(s) missing from" in result.output
        and "closed/Alibaba/systems/A10x1_TRT.json" in result.output
    )


def test_tree_option_must_be_a_folder(tmp_path):
    result = _run(str(SUMMARY), "-o", str(tmp_path / "out"), "--tree", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "--tree" in result.output and "not a folder" in result.output
    assert not (tmp_path / "out").exists()
