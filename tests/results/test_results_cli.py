"""``edgeperf results``: ingest, list, migrate and export-html from the command line, and the one
line a user gets for each mistake (exit status 2, no traceback, nothing written)."""

from __future__ import annotations

import json

import pytest

typer = pytest.importorskip("typer")

from typer.testing import CliRunner  # noqa: E402


def _run(*args: str, env: dict | None = None):
    from edgeperf.cli.main import build_app

    return CliRunner().invoke(build_app(), ["results", *args], env=env)


def test_ingest_list_export(tmp_path, subset_tree):
    db = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    first = _run("ingest", str(subset_tree), "--db", db, "--name", "published")
    assert first.exit_code == 0, first.output
    assert first.output.startswith(f"stored published (v1.1) as tree 1 in {db}")
    assert "28 results, 0 NoResults, 30 summary rows" in first.output
    again = _run("ingest", str(subset_tree), "--db", db, "--name", "published")
    assert again.exit_code == 0 and again.output.startswith("unchanged, already stored: published (v1.1) as tree 1")
    listed = _run("list", "--db", db)
    assert listed.exit_code == 0
    assert listed.output.split("\t")[:4] == ["1", "v1.1", "published", "28 results, 0 NoResults"]
    out = tmp_path / "site"
    exported = _run("export-html", str(out), "--db", db)
    assert exported.exit_code == 0, exported.output
    assert f"wrote {out}/index.html: 1 trees, 5 tables, 13 Details pages" in exported.output
    assert (out / "index.html").is_file() and (out / "static" / "vendor" / "chart.umd.min.js").is_file()
    as_json = _run("list", "--db", db, "--json", "-")
    assert as_json.exit_code == 0
    doc = json.loads(as_json.output)
    assert (doc["format"], doc["format_version"]) == ("edgeperf-results-trees", 1)
    assert [(t["id"], t["name"], t["result_count"], t["verdict"]) for t in doc["trees"]] == [
        (1, "published", 28, "pass")
    ]
    ingest_json = tmp_path / "ingest.json"
    again = _run("ingest", str(subset_tree), "--db", db, "--name", "published", "--json", str(ingest_json))
    doc = json.loads(ingest_json.read_text(encoding="utf-8"))
    assert (doc["format"], doc["status"], doc["results"], doc["summary_rows"]) == (
        "edgeperf-results-ingest",
        "unchanged",
        28,
        30,
    )
    migrated = _run("migrate", "--db", db)
    assert migrated.exit_code == 0 and migrated.output.strip().endswith("schema version 2")


def test_default_database_location(tmp_path, subset_tree):
    result = _run("ingest", str(subset_tree), env={"XDG_DATA_HOME": str(tmp_path / "xdg")})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "xdg" / "edgeperf" / "results.sqlite3").is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (["ingest", "{tmp}/missing"], "{tmp}/missing: not a directory (expected a submission tree)"),
        (["ingest", "{tree}", "--round", "v9.9"], "v9.9"),
        (["ingest", "{tree}", "--db", "mysql://u@h/db"], "unsupported database URL scheme 'mysql'"),
        (["ingest", "{tree}", "--links-base", "ftp://x"], "expected an http(s):// URL"),
        (["list", "--db", "{tmp}/none.sqlite3"], "no results database here; run `edgeperf results ingest TREE` first"),
        (["export-html", "{tmp}/site", "--db", "{tmp}/none.sqlite3"], "no results database here"),
    ],
)
def test_mistakes_are_one_line(tmp_path, subset_tree, args, message):
    fill = lambda s: s.format(tmp=tmp_path, tree=subset_tree)  # noqa: E731
    result = _run(*map(fill, args))
    assert result.exit_code == 2, result.output
    assert result.output.startswith("edgeperf: ") and fill(message) in result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert not (tmp_path / "site").exists() and not (tmp_path / "none.sqlite3").exists()


def test_export_needs_a_known_tree_and_a_free_folder(tmp_path, subset_tree):
    db = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    assert _run("ingest", str(subset_tree), "--db", db).exit_code == 0
    result = _run("export-html", str(tmp_path / "site"), "--db", db, "--tree", "7")
    assert result.exit_code == 2 and "no stored tree with id 7" in result.output
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "mine.txt").write_text("x")
    result = _run("export-html", str(tmp_path / "taken"), "--db", db)
    assert result.exit_code == 2 and "not empty and was not made by export-html" in result.output


def test_serve_command_binds_loopback_and_stops_on_interrupt(tmp_path, subset_tree):
    import http.client
    import signal
    import subprocess
    import sys

    db = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    assert _run("ingest", str(subset_tree), "--db", db).exit_code == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "edgeperf.cli.main", "results", "serve", "--db", db, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"serving {db} read-only at http://127.0.0.1:"), line + proc.stderr.read()
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/")
        assert conn.getresponse().status == 200
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/", body=b"")
        assert conn.getresponse().status == 405
        conn.close()
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and out.strip().endswith("stopped") and "Traceback" not in err


def test_missing_results_extra_is_one_line(tmp_path):
    import subprocess
    import sys

    # A fresh interpreter where importing sqlalchemy fails, as without the 'results' extra.
    code = (
        "import builtins, sys\n"
        "real = builtins.__import__\n"
        "def fake(name, *a, **k):\n"
        "    if name.split('.')[0] == 'sqlalchemy':\n"
        "        raise ModuleNotFoundError(\"No module named 'sqlalchemy'\", name='sqlalchemy')\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = fake\n"
        f"sys.argv = ['edgeperf', 'results', 'list', '--db', {str(tmp_path / 'x.sqlite3')!r}]\n"
        "from edgeperf.cli.main import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == (
        "edgeperf: the results explorer needs the 'results' extra (sqlalchemy is not installed): "
        "pip install 'edgeperf[results]'\n"
    )
