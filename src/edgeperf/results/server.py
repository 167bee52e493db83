"""``edgeperf results serve``: the page over HTTP, read-only, on loopback by default.

Only GET and HEAD are answered; every other method gets 405 and nothing is written anywhere.
The routes are fixed:

* ``/`` and ``/index.html``: the page, built from the store (rebuilt when a tree is re-ingested);
* ``/static/…``: the page's assets, looked up in a fixed table (never a path from the request);
* ``/details/<tree>/<system>.html``: a system's Details page (integers only);
* ``/tree/<tree>/<path>``: a file or folder of an ingested tree, for the Details and Code links.
  The path goes through :func:`~.links.safe_tree_path` (no ``..``, no absolute path, no link out
  of the tree) and files are sent as ``text/plain`` or ``application/octet-stream`` with
  ``nosniff`` and a sandboxing CSP, so nothing in a submission runs as part of this site.
"""

from __future__ import annotations

import html
import mimetypes
import os
import re
import threading
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .errors import UnsafePathError
from .links import LinkMode, quote_parts, safe_tree_path
from .page import build_page_data
from .render import render_index
from .site import details_page, static_files
from .store import Store

__all__ = ["make_server", "LOOPBACK"]

LOOPBACK = ("127.0.0.1", "::1", "localhost")
_PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_DETAILS = re.compile(r"^/details/(\d{1,12})/(\d{1,12})\.html$")
_TREE = re.compile(r"^/tree/(\d{1,12})(/.*)?$")
_TEXT_TYPES = (
    ".txt",
    ".json",
    ".md",
    ".log",
    ".csv",
    ".conf",
    ".cfg",
    ".adoc",
    ".py",
    ".sh",
    ".yaml",
    ".yml",
    ".ini",
    ".toml",
    ".cc",
    ".cpp",
    ".h",
    ".c",
    ".rst",
    "",
)


class _Site:
    """What the handlers share: the store, the static files, and the cached page."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.static = static_files()
        self.links = LinkMode("serve")
        self._lock = threading.Lock()
        self._page_key: object = None
        self._page: bytes = b""

    def page(self) -> bytes:
        trees = self.store.trees()
        key = tuple((t.id, t.ingested_at) for t in trees)
        with self._lock:
            if key != self._page_key:
                self._page = render_index(build_page_data(self.store, self.links), served=True).encode("utf-8")
                self._page_key = key
            return self._page


class _Handler(BaseHTTPRequestHandler):
    server_version = "edgeperf-results"
    sys_version = ""
    site: _Site  # set on the subclass made by make_server

    def log_message(self, format: str, *args: object) -> None:  # quiet: one line per request is noise
        pass

    # ---- everything but GET and HEAD is refused
    def _refuse(self) -> None:
        self._send(
            HTTPStatus.METHOD_NOT_ALLOWED,
            b"read-only: only GET and HEAD\n",
            "text/plain; charset=utf-8",
            extra={"Allow": "GET, HEAD"},
        )

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse

    def do_HEAD(self) -> None:
        self._route(head=True)

    def do_GET(self) -> None:
        self._route(head=False)

    # ---- responses
    def _send(
        self,
        status: int,
        body: bytes,
        ctype: str,
        *,
        head: bool = False,
        extra: dict | None = None,
        csp: str = _PAGE_CSP,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", csp)
        self.send_header("Cache-Control", "no-store")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _not_found(self, head: bool) -> None:
        self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", head=head)

    def _route(self, head: bool) -> None:
        path = urllib.parse.urlsplit(self.path).path
        try:
            if path in ("/", "/index.html"):
                return self._send(200, self.site.page(), "text/html; charset=utf-8", head=head)
            if path.lstrip("/") in self.site.static:
                name = path.lstrip("/")
                ctype = {"js": "text/javascript", "css": "text/css"}.get(name.rsplit(".", 1)[-1], "text/plain")
                return self._send(200, self.site.static[name], ctype + "; charset=utf-8", head=head)
            m = _DETAILS.match(path)
            if m:
                body = details_page(self.site.store, int(m[1]), int(m[2]), self.site.links)
                if body is None:
                    return self._not_found(head)
                return self._send(200, body, "text/html; charset=utf-8", head=head)
            m = _TREE.match(path)
            if m:
                return self._tree_file(int(m[1]), m[2] or "/", head)
        except Exception as exc:  # a store failure: say so, keep serving
            msg = f"edgeperf results: {exc}\n".encode("utf-8", "replace")
            return self._send(HTTPStatus.INTERNAL_SERVER_ERROR, msg, "text/plain; charset=utf-8", head=head)
        return self._not_found(head)

    def _tree_file(self, tree_id: int, rest: str, head: bool) -> None:
        tree = self.site.store.tree(tree_id)
        if tree is None:
            return self._not_found(head)
        parts = [urllib.parse.unquote(p) for p in rest.strip("/").split("/") if p]
        try:
            target = safe_tree_path(tree.root, "/".join(parts))
        except UnsafePathError:
            return self._not_found(head)
        sandbox = "sandbox; default-src 'none'; style-src 'self'"
        if os.path.isdir(target):
            if not rest.endswith("/"):
                return self._send(
                    HTTPStatus.MOVED_PERMANENTLY,
                    b"",
                    "text/plain",
                    head=head,
                    extra={"Location": f"/tree/{tree_id}/{quote_parts(*parts)}/" if parts else f"/tree/{tree_id}/"},
                )
            return self._send(
                200, _listing(tree.name, parts, target), "text/html; charset=utf-8", head=head, csp=sandbox
            )
        if not os.path.isfile(target):
            return self._not_found(head)
        ext = os.path.splitext(target)[1].lower()
        ctype = (
            "text/plain; charset=utf-8"
            if ext in _TEXT_TYPES
            else (mimetypes.guess_type(target)[0] if ext in (".png", ".jpg", ".jpeg", ".gif", ".pdf") else None)
            or "application/octet-stream"
        )
        try:
            with open(target, "rb") as f:
                body = f.read()
        except OSError:
            return self._not_found(head)
        self._send(200, body, ctype, head=head, csp=sandbox)


def _listing(tree_name: str, parts: list[str], folder: str) -> bytes:
    """A folder of a tree as a plain HTML list (names escaped, links relative)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        entries = []
    title = html.escape(f"{tree_name}/{'/'.join(parts)}")
    items = ['<li><a href="../">../</a></li>'] if parts else []
    for e in entries:
        slash = "/" if e.is_dir() else ""
        items.append(
            f'<li><a href="{html.escape(urllib.parse.quote(e.name, safe=""))}{slash}">'
            f"{html.escape(e.name)}{slash}</a></li>"
        )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><h1>{title}</h1><ul>{''.join(items)}</ul></body></html>\n"
    ).encode()


def make_server(store: Store, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """A server for the page (not yet serving: call ``serve_forever``). ``port=0`` picks a free port."""
    import socket

    handler = type("ResultsHandler", (_Handler,), {"site": _Site(store)})
    server_class = ThreadingHTTPServer
    if ":" in host:  # an IPv6 address such as ::1

        class ResultsServer6(ThreadingHTTPServer):
            address_family = socket.AF_INET6

        server_class = ResultsServer6
    server = server_class((host, port), handler)
    server.daemon_threads = True
    return server
