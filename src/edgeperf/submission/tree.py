"""Reading a submission tree: sorted listings, each file read at most once, and ``files_diff``.

Directory listings follow symlinks (``code/bert-99 -> bert/`` and the like) and list only
sub-directories or only regular files, as the official checker does; broken links are neither.
Every read goes through :class:`Tree`, which counts the bytes and how often each file was read,
so the benchmark can report throughput and a test can assert that no file is read twice.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterable

__all__ = ["ReadStats", "Tree", "files_diff"]


@dataclass
class ReadStats:
    """Bytes read per file (relative path) and how many times each was read."""

    bytes_read: int = 0
    reads: dict[str, int] = field(default_factory=dict)
    stats: int = 0  # files only sized, never read (accuracy logs)

    @property
    def files_read(self) -> int:
        return len(self.reads)

    def read_more_than_once(self) -> list[str]:
        return sorted(p for p, n in self.reads.items() if n > 1)


class Tree:
    """A submission tree rooted at ``root``; paths are relative, with forward slashes."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = os.path.abspath(os.fspath(root))
        self.stats = ReadStats()

    def abs(self, rel: str) -> str:
        return os.path.join(self.root, rel) if rel else self.root

    @staticmethod
    def join(*parts: str) -> str:
        return "/".join(p for p in parts if p)

    def is_dir(self, rel: str) -> bool:
        return os.path.isdir(self.abs(rel))

    def is_file(self, rel: str) -> bool:
        return os.path.isfile(self.abs(rel))

    def exists(self, rel: str) -> bool:
        return os.path.exists(self.abs(rel))

    def _entries(self, rel: str) -> list[os.DirEntry]:
        try:
            with os.scandir(self.abs(rel)) as it:
                return sorted(it, key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return []

    def list_dirs(self, rel: str) -> list[str]:
        """Sorted names of the sub-directories of ``rel`` (symlinks followed); [] if it is not a directory."""
        out = []
        for e in self._entries(rel):
            try:
                if e.is_dir():
                    out.append(e.name)
            except OSError:
                pass
        return out

    def list_files(self, rel: str) -> list[str]:
        """Sorted names of the regular files in ``rel`` (symlinks followed)."""
        out = []
        for e in self._entries(rel):
            try:
                if e.is_file():
                    out.append(e.name)
            except OSError:
                pass
        return out

    def size(self, rel: str) -> int:
        """The size of a file in bytes, without reading it."""
        self.stats.stats += 1
        return os.stat(self.abs(rel)).st_size

    def read_bytes(self, rel: str) -> bytes:
        """The whole file (OSError if it cannot be read); counted in :attr:`stats`."""
        with open(self.abs(rel), "rb") as f:
            data = f.read()
        self.stats.bytes_read += len(data)
        self.stats.reads[rel] = self.stats.reads.get(rel, 0) + 1
        return data

    def case_hint(self, rel_dir: str, name: str) -> str:
        """`` (found 'Accuracy.txt'; names are case-sensitive)`` when only a case variant exists, else ''."""
        low = name.lower()
        try:
            others = [n for n in os.listdir(self.abs(rel_dir)) if n.lower() == low and n != name]
        except OSError:
            return ""
        return f" (found {others[0]!r}; names are case-sensitive)" if others else ""


def files_diff(actual: Iterable[str], required: Iterable[str], optional: Iterable[str] = (),
               ignored: Iterable[str] = ("mlperf_log_trace.json", "results.json")) -> list[str]:
    """The v1.1 ``files_diff`` (spec §5.10), reproduced exactly, returned sorted.

    Empty ``actual`` or ``required`` gives []. Otherwise the ignored and optional names are
    removed from ``actual``; if more files remain than are required, the extra ones are returned,
    else the missing ones (so with equal counts only missing names are reported).
    """
    actual = list(actual)
    required = list(required)
    if not actual or not required:
        return []
    drop = set(ignored) | set(optional)
    actual = [a for a in actual if a not in drop]
    if len(actual) > len(required):
        return sorted(set(actual) - set(required))
    return sorted(set(required) - set(actual))
