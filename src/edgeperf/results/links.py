"""Where the page's Details and Code links point, and the one gate between database paths and
the filesystem.

Every path the page shows is built from strings stored in the database (division, submitter,
platform, file names). :func:`safe_tree_path` is the only way such a string becomes a filesystem
path: it refuses absolute paths, ``..``, empty or odd components, and anything whose real path
(links resolved) is outside the tree's real root.
"""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass

from .errors import UnsafePathError

__all__ = ["LinkMode", "safe_tree_path", "quote_parts", "details_href"]

_BAD_CHARS = frozenset("\\\x00")


def quote_parts(*parts: str) -> str:
    """Percent-encode each part and join with ``/`` (``..`` parts are kept as they are)."""
    return "/".join(p if p == ".." else urllib.parse.quote(p, safe="") for p in parts)


def safe_tree_path(root: str, rel: str) -> str:
    """The absolute path of ``rel`` (forward slashes) inside the tree at ``root``.

    Raises :class:`UnsafePathError` when ``root`` is not an absolute path to a folder holding
    ``closed/`` or ``open/``, or ``rel`` is absolute, has ``.``/``..``/empty parts or a backslash
    or NUL, or resolves (through links) outside ``root``'s real path. The target need not exist.
    """
    if not os.path.isabs(root):
        raise UnsafePathError(f"tree root {root!r} is not an absolute path")
    # The root itself comes from the database too: it must still be a submission tree, so a
    # tampered root such as "/" serves nothing.
    if not (os.path.isdir(os.path.join(root, "closed")) or os.path.isdir(os.path.join(root, "open"))):
        raise UnsafePathError(f"tree root {root!r} is not a submission tree (no closed/ or open/ folder)")
    parts = rel.split("/") if rel else []
    if rel.startswith("/") or any(p in ("", ".", "..") or _BAD_CHARS & set(p) for p in parts):
        raise UnsafePathError(f"{rel!r}: not a plain path inside the tree")
    real_root = os.path.realpath(root)
    target = os.path.realpath(os.path.join(real_root, *parts))
    if target != real_root and not target.startswith(real_root.rstrip(os.sep) + os.sep):
        raise UnsafePathError(f"{rel!r} leads outside the tree {root}")
    return target


def details_href(tree_id: int, system_id: int) -> str:
    """The Details page of a system, relative to the page's folder (same in serve and export)."""
    return f"details/{int(tree_id)}/{int(system_id)}.html"


@dataclass(frozen=True)
class LinkMode:
    """How links into a tree are made.

    ``serve``: ``tree/<id>/<path>`` URLs that the server answers from the tree on disk.
    ``export``: paths relative to the export folder ``out_dir`` (opened from ``file://``), or
    the tree's ``links_base`` URL when one was given at ingest, which works on any host.
    """

    kind: str
    out_dir: str | None = None

    def tree_href(
        self, tree_id: int, root: str, links_base: str, rel: str, *, from_depth: int = 0, directory: bool = False
    ) -> str | None:
        """A link to ``rel`` inside a tree, or None when it would not resolve.

        ``from_depth`` is how many folders below the page root the linking page is.
        """
        try:
            path = safe_tree_path(root, rel)
        except UnsafePathError:
            path = None
        exists = path is not None and (os.path.isdir(path) if directory else os.path.isfile(path))
        up = "../" * from_depth
        tail = "/" if directory else ""
        if self.kind == "serve":
            if exists:
                return f"{up}tree/{int(tree_id)}/{quote_parts(*rel.split('/'))}{tail}"
            return f"{links_base}/{quote_parts(*rel.split('/'))}" if links_base else None
        if links_base:
            return f"{links_base}/{quote_parts(*rel.split('/'))}"
        if not exists or path is None or self.out_dir is None:
            return None
        relative = os.path.relpath(path, os.path.realpath(self.out_dir))
        href = up + quote_parts(*relative.split(os.sep))
        return href + tail if directory else href
