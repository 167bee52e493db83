"""``edgeperf results``: the results store (ingest, list, migrate) and the results page (serve,
export-html). Register with ``app.add_typer(results_cmd.app, name="results")``.

Every user-caused problem (bad URL, unreachable database, missing tree, a folder that is not an
earlier export) is one ``edgeperf: …`` line on stderr and exit status 2. ``ingest`` and ``list``
also write versioned JSON (``--json FILE`` or ``-``): ``edgeperf-results-ingest`` and
``edgeperf-results-trees``, format_version 1 (history: version 1, edgeperf 0.1.0, the first).
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Iterator, Optional

import typer

app = typer.Typer(
    name="results",
    help="The results explorer: store checked submission trees, and serve or export the results page.",
    no_args_is_help=True,
    add_completion=False,
)

_JSON_HELP = "Also write the outcome as JSON to this file ('-' for stdout instead of the text)."
_DB_HELP = (
    "Results database: sqlite:///PATH, a file path, or postgresql://user@host:port/db "
    "(default: results.sqlite3 in the user data folder)."
)


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    from ..results.errors import ResultsError

    try:
        yield
    except ResultsError as exc:
        print(f"edgeperf: {exc}", file=sys.stderr)
        raise typer.Exit(2) from None
    except ImportError as exc:
        print(
            f"edgeperf: the results explorer needs the 'results' extra ({exc.name} is not installed): "
            "pip install 'edgeperf[results]'",
            file=sys.stderr,
        )
        raise typer.Exit(2) from None


def _write_json(target: Optional[str], document: dict) -> bool:
    """Write a versioned JSON document to a file or stdout; True when it went to stdout."""
    import json

    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if target == "-":
        sys.stdout.write(text)
        return True
    if target:
        from .._atomic import atomic_write

        try:
            atomic_write(target, text)
        except OSError as exc:
            print(f"edgeperf: cannot write {target}: {exc.strerror or exc}", file=sys.stderr)
            raise typer.Exit(2) from None
    return False


@app.command("ingest")
def ingest(
    tree: Path = typer.Argument(..., help="Submission tree: the folder holding closed/ and open/."),
    round_: str = typer.Option("v1.1", "--round", help="Round whose checker rules apply (v1.1; v1.0 also known)."),
    db: Optional[str] = typer.Option(None, "--db", help=_DB_HELP),
    name: Optional[str] = typer.Option(
        None, "--name", help="Label shown in the page (default: the tree's folder name)."
    ),
    links_base: str = typer.Option(
        "",
        "--links-base",
        help="URL of the published tree (e.g. a GitHub tree URL): "
        "exported pages link there instead of to the local folder.",
    ),
    json_out: Optional[str] = typer.Option(None, "--json", help=_JSON_HELP),
) -> None:
    """Check a tree with the submission checker and store every result, system, power value,
    status and finding. Re-ingesting an unchanged tree changes nothing; a changed one replaces
    its older ingest."""
    with _errors():
        from ..results.ingest import ingest_tree
        from ..results.store import open_store

        with open_store(db, create=True) as store:
            outcome, payload = ingest_tree(store, tree, round=round_, name=name, links_base=links_base)
            shown = store.shown_url
    document = {
        "format": "edgeperf-results-ingest",
        "format_version": 1,
        "status": outcome.status,
        "tree_id": outcome.tree_id,
        "db": shown,
        "name": payload.name,
        "round": payload.round,
        "root": payload.root,
        "results": payload.result_count,
        "no_results": payload.no_result_count,
        "summary_rows": len(payload.summary_cells),
        "findings": len(payload.findings),
        "verdict": payload.verdict,
        "verdict_line": payload.verdict_line,
    }
    if _write_json(json_out, document):
        return
    words = {"added": "stored", "replaced": "replaced the older ingest of", "unchanged": "unchanged, already stored:"}
    typer.echo(f"{words[outcome.status]} {payload.name} ({payload.round}) as tree {outcome.tree_id} in {shown}")
    typer.echo(
        f"{payload.result_count} results, {payload.no_result_count} NoResults, {len(payload.summary_cells)} "
        f"summary rows, {len(payload.findings)} findings; checker: {payload.verdict_line}"
    )


@app.command("list")
def list_trees(
    db: Optional[str] = typer.Option(None, "--db", help=_DB_HELP),
    json_out: Optional[str] = typer.Option(None, "--json", help=_JSON_HELP),
) -> None:
    """List the stored trees: id, round, name, results, verdict, when ingested, root."""
    import dataclasses

    with _errors():
        from ..results.store import open_store

        with open_store(db) as store:
            trees = store.trees()
    document = {
        "format": "edgeperf-results-trees",
        "format_version": 1,
        "trees": [dataclasses.asdict(t) for t in trees],
    }
    if _write_json(json_out, document):
        return
    if not trees:
        typer.echo("no trees stored")
    for t in trees:
        typer.echo(
            f"{t.id}\t{t.round}\t{t.name}\t{t.result_count} results, {t.no_result_count} NoResults\t"
            f"{t.verdict}\t{t.ingested_at}\t{t.root}"
        )


@app.command("migrate")
def migrate(db: Optional[str] = typer.Option(None, "--db", help=_DB_HELP)) -> None:
    """Bring the database's schema up to this edgeperf's version (ingest does it too)."""
    with _errors():
        from ..results.migrations import SCHEMA_VERSION
        from ..results.store import open_store

        with open_store(db, create=True) as store:
            shown = store.shown_url
    typer.echo(f"{shown}: schema version {SCHEMA_VERSION}")


@app.command("serve")
def serve(
    db: Optional[str] = typer.Option(None, "--db", help=_DB_HELP),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback by default)."),
    port: int = typer.Option(8000, "--port", help="Port (0 picks a free one)."),
) -> None:
    """Serve the results page, read-only (GET and HEAD only), until interrupted."""
    with _errors():
        from ..results.server import LOOPBACK, make_server
        from ..results.store import open_store

        store = open_store(db)
    try:
        try:
            server = make_server(store, host, port)
        except OSError as exc:
            print(f"edgeperf: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
            raise typer.Exit(2) from None
        if host not in LOOPBACK:
            print(
                f"edgeperf: warning: serving on {host}, not loopback: anyone who can reach it can read the "
                "results and the ingested trees",
                file=sys.stderr,
            )
        bound_host, bound_port = str(server.server_address[0]), server.server_address[1]
        shown_host = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
        typer.echo(f"serving {store.shown_url} read-only at http://{shown_host}:{bound_port}/ (Ctrl+C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            typer.echo("stopped")
        finally:
            server.server_close()
    finally:
        store.close()


@app.command("export-html")
def export_html_cmd(
    out: Path = typer.Argument(..., help="Folder to write (created; replaced only if an earlier export made it)."),
    db: Optional[str] = typer.Option(None, "--db", help=_DB_HELP),
    tree: Optional[list[int]] = typer.Option(
        None, "--tree", help="Only this tree id (repeatable; see `results list`)."
    ),
) -> None:
    """Write the results page as static files that work from file:// and on any static host."""
    with _errors():
        from ..results.export import export_html
        from ..results.store import open_store

        with open_store(db) as store:
            if tree:
                known = {t.id for t in store.trees()}
                missing = [t for t in tree if t not in known]
                if missing:
                    print(
                        f"edgeperf: no stored tree with id {', '.join(map(str, missing))} (see `edgeperf results list`)",
                        file=sys.stderr,
                    )
                    raise typer.Exit(2)
            try:
                result = export_html(store, out, tree_ids=list(tree) if tree else None)
            except OSError as exc:
                where = f"{exc.filename}: " if exc.filename else ""
                print(f"edgeperf: cannot write the page: {where}{exc.strerror or exc}", file=sys.stderr)
                raise typer.Exit(2) from None
    typer.echo(
        f"wrote {result.out}/index.html: {result.trees} trees, {result.tables} tables, {result.details} Details pages"
    )
