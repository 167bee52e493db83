"""Fixtures of the results-explorer tests: the fixture subset, and a database of each kind.

``db_url`` is parametrized over SQLite and PostgreSQL, so every test that uses it runs against
both. The PostgreSQL is a throwaway server this session starts itself (``initdb`` + ``pg_ctl`` on
a free loopback port, in a temporary folder owned by the ``postgres`` user when the tests run as
root, since ``initdb`` refuses root) and stops at the end; each test gets a fresh database in it.
Without the PostgreSQL binaries the PostgreSQL variants skip with the reason.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy", reason="the results extra (sqlalchemy) is not installed")

from results_fixtures import FIXTURES, OFFICIAL_SUMMARY, free_port  # noqa: E402


@pytest.fixture(scope="session")
def subset_tree() -> Path:
    """The v1.1 fixture subset (read-only), or skip with the reason."""
    if not FIXTURES.is_dir() or not OFFICIAL_SUMMARY.is_file():
        pytest.skip(f"the v1.1 fixture subset or its official summary is absent ({FIXTURES})")
    return FIXTURES


@pytest.fixture
def tree_copy(subset_tree, tmp_path) -> Path:
    """A private copy of the subset that a test may change (symlinks kept as links)."""
    dest = tmp_path / "tree"
    shutil.copytree(subset_tree, dest, symlinks=True)
    for path in itertools.chain([dest], dest.rglob("*")):
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)  # the shared copy is read-only
    return dest


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL on 127.0.0.1: yields ``(host, port)``; stopped at the end."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL's initdb/pg_ctl are not installed (apt-get install postgresql)")
    pytest.importorskip("psycopg", reason="psycopg (the results extra) is not installed")
    as_user: list[str] = []
    base = tempfile.mkdtemp(prefix="edgeperf-pg-")
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
        import pwd

        try:
            pg = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(base, ignore_errors=True)
            pytest.skip("running as root and there is no postgres user to run PostgreSQL as")
        os.chown(base, pg.pw_uid, pg.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(base, "data")
    port = free_port()
    log = os.path.join(base, "server.log")

    def run(*cmd: str) -> None:
        done = subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr or done.stdout}")

    try:
        run(initdb, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        run(
            pg_ctl,
            "-D",
            data,
            "-l",
            log,
            "-w",
            "-t",
            "60",
            "-o",
            f"-k {base} -c listen_addresses=127.0.0.1 -p {port} -c fsync=off",
            "start",
        )
    except Exception as exc:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"could not start a throwaway PostgreSQL: {exc}")
    try:
        yield ("127.0.0.1", port)
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", data, "-m", "fast", "-w", "stop"], capture_output=True, timeout=120)
        shutil.rmtree(base, ignore_errors=True)


_db_counter = itertools.count(1)


def new_postgres_database(server) -> str:
    """Create an empty database on the throwaway server; return its URL."""
    import psycopg

    host, port = server
    name = f"edgeperf_test_{os.getpid()}_{next(_db_counter)}"
    with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@{host}:{port}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """An empty database URL: an SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'results.sqlite3'}"
    server = request.getfixturevalue("postgres_server")
    return new_postgres_database(server)
