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
    """Bytes read per file (relative path), how many times each was read, and directory listings."""

    bytes_read: int = 0
    reads: dict[str, int] = field(default_factory=dict)
    stats: int = 0  # files only sized, never read (accuracy logs)
    listings: dict[str, int] = field(default_factory=dict)  # directory -> times listed

    @property
    def files_read(self) -> int:
        return len(self.reads)

    def read_more_than_once(self) -> list[str]:
        return sorted(p for p, n in self.reads.items() if n > 1)

    def listed_more_than_once(self) -> list[str]:
        return sorted(p for p, n in self.listings.items() if n > 1)

    def merge(self, other: "ReadStats") -> None:
        """Add another run's counts (a worker's, checking other directories)."""
        self.bytes_read += other.bytes_read
        self.stats += other.stats
        for attr in ("reads", "listings"):
            mine = getattr(self, attr)
            for k, n in getattr(other, attr).items():
                mine[k] = mine.get(k, 0) + n


@dataclass(frozen=True)
class _Listing:
    """One directory's entries: sorted sub-directory and regular-file names (symlinks followed), all names."""

    dirs: tuple[str, ...]
    files: tuple[str, ...]
    names: frozenset[str]


_NOT_A_DIR = _Listing((), (), frozenset())


class Tree:
    """A submission tree rooted at ``root``; paths are relative, with forward slashes.

    Each directory is listed once (``os.scandir``) and its listing kept until :meth:`forget`;
    ``is_dir``/``is_file``/``exists`` are answered from the parent's listing, so checking a
    scenario directory costs a few ``scandir`` calls and no ``stat`` per file. The walk forgets
    a system's listings when it is done with it, so memory does not grow with the tree.
    """

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = os.path.abspath(os.fspath(root))
        self.stats = ReadStats()
        self._listings: dict[str, _Listing] = {}
        self._shared: dict[str, bytes] = {}

    def abs(self, rel: str) -> str:
        return os.path.join(self.root, rel) if rel else self.root

    @staticmethod
    def join(*parts: str) -> str:
        return "/".join(p for p in parts if p)

    def _listing(self, rel: str) -> _Listing:
        got = self._listings.get(rel)
        if got is not None:
            return got
        dirs, files, names = [], [], []
        try:
            with os.scandir(self.abs(rel)) as it:
                for e in it:
                    names.append(e.name)
                    try:
                        if e.is_dir():
                            dirs.append(e.name)
                        elif e.is_file():
                            files.append(e.name)
                    except OSError:
                        pass
            self.stats.listings[rel] = self.stats.listings.get(rel, 0) + 1
            got = _Listing(tuple(sorted(dirs)), tuple(sorted(files)), frozenset(names))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            got = _NOT_A_DIR
        self._listings[rel] = got
        return got

    def forget(self, prefix: str) -> None:
        """Drop the kept listings of ``prefix`` and everything below it."""
        below = prefix + "/"
        for rel in [r for r in self._listings if r == prefix or r.startswith(below)]:
            del self._listings[rel]

    def _split(self, rel: str) -> tuple[str, str]:
        parent, _, name = rel.rpartition("/")
        return parent, name

    def is_dir(self, rel: str) -> bool:
        if not rel:
            return os.path.isdir(self.root)
        parent, name = self._split(rel)
        return name in self._listing(parent).dirs

    def is_file(self, rel: str) -> bool:
        if not rel:
            return False
        parent, name = self._split(rel)
        return name in self._listing(parent).files

    def exists(self, rel: str) -> bool:
        if not rel:
            return os.path.exists(self.root)
        parent, name = self._split(rel)
        return name in self._listing(parent).names

    def list_dirs(self, rel: str) -> list[str]:
        """Sorted names of the sub-directories of ``rel`` (symlinks followed); [] if it is not a directory."""
        return list(self._listing(rel).dirs)

    def list_files(self, rel: str) -> list[str]:
        """Sorted names of the regular files in ``rel`` (symlinks followed)."""
        return list(self._listing(rel).files)

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

    def read_shared(self, rel: str) -> bytes:
        """A small file that several checks of one submitter use (``code/<benchmark>``), read once and kept."""
        data = self._shared.get(rel)
        if data is None:
            data = self._shared[rel] = self.read_bytes(rel)
        return data

    def case_hint(self, rel_dir: str, name: str) -> str:
        """`` (found 'Accuracy.txt'; names are case-sensitive)`` when only a case variant exists, else ''."""
        low = name.lower()
        others = sorted(n for n in self._listing(rel_dir).names if n.lower() == low and n != name)
        return f" (found {others[0]!r}; names are case-sensitive)" if others else ""


def files_diff(
    actual: Iterable[str],
    required: Iterable[str],
    optional: Iterable[str] = (),
    ignored: Iterable[str] = ("mlperf_log_trace.json", "results.json"),
) -> list[str]:
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
