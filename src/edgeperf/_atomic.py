"""Writing a file so that a failure never leaves half of it behind (stdlib only).

Every output a user may read later (accuracy.txt, reports, detection files, summary.csv, system
JSON) goes through here. The rules, in order:

* ``-`` is standard output;
* a symbolic link is written *through*: the file it points to is replaced, the link stays;
* a special file (a device such as ``/dev/null`` or ``/dev/full``, a FIFO, a socket) is written
  into directly, never replaced by a regular file;
* anything else is written to a temporary file beside the target and renamed over it, which is
  atomic on POSIX and Windows: a full disk, a file size limit or an interruption leaves the old
  file (or none) and no temporary file.

A failure to write raises :class:`OutputError`, naming the user's path (never the temporary one)
and saying what was expected.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import IO, Iterable, Iterator

from .errors import EdgeperfError

__all__ = [
    "OutputError",
    "atomic_open",
    "atomic_write",
    "encode_text",
    "check_output_dir",
    "is_stdout",
    "prepare_output_dir",
    "refuse_overlap",
]

#: errnos a write (not an open) fails with: the data could not go where it was sent.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EIO, errno.EPIPE, errno.EROFS, getattr(errno, "EDQUOT", -1)}


class OutputError(EdgeperfError, OSError):
    """An output file or folder could not be written.

    It is an ``OSError`` too (``errno``, ``strerror``, ``filename``: the user's path), so code
    that already handles ``OSError`` keeps working.
    """

    def __init__(self, path: str | os.PathLike, reason: str, code: int | None = None) -> None:
        super().__init__(code or 0, reason, os.fspath(path))
        self.reason = reason

    def __str__(self) -> str:
        return f"cannot write {self.filename}: {self.reason}"


def _reason(exc: OSError) -> str:
    """What went wrong and what was expected, for the errors a user can cause."""
    text = exc.strerror or str(exc)
    hints = {
        errno.ENOSPC: "the disk is full; free some space and run again",
        errno.EFBIG: "the file size limit was reached (ulimit -f); raise it and run again",
        errno.EROFS: "the file system is read-only; choose a writable place",
        errno.EACCES: "permission denied; choose a folder you can write to",
        errno.EPERM: "not permitted; choose a folder you can write to",
        errno.EISDIR: "it is a folder; expected a file name",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
    }
    hint = hints.get(exc.errno or 0)
    return f"{text} ({hint})" if hint else text


def _wrap(path: str | os.PathLike, exc: OSError) -> OutputError:
    if isinstance(exc, OutputError):
        return exc
    return OutputError(path, _reason(exc), exc.errno)


def is_stdout(path: str | os.PathLike | None) -> bool:
    """True for ``-``, which means standard output wherever a file is written."""
    return path is not None and os.fspath(path) == "-"


def _surrogates(exc: UnicodeError) -> tuple[bytes, int]:
    """Encode error handler: a file name's undecodable bytes (``\\udc80``-``\\udcff``, Python's
    surrogateescape) go back to those bytes; any other lone surrogate becomes ``\\uXXXX``."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = bytearray()
    for ch in exc.object[exc.start : exc.end]:
        cp = ord(ch)
        out += bytes([cp - 0xDC00]) if 0xDC80 <= cp <= 0xDCFF else f"\\u{cp:04x}".encode("ascii")
    return bytes(out), exc.end


codecs.register_error("edgeperf.surrogates", _surrogates)


def encode_text(text: str) -> bytes:
    """UTF-8, keeping a non-UTF-8 file name's bytes and escaping other lone surrogates (never fails)."""
    return text.encode("utf-8", "edgeperf.surrogates")


def _check_parent(target: Path, shown: Path | None = None) -> None:
    """Create the target's folder; a file where a folder is needed is the user's mistake.
    Errors name ``shown`` (default: ``target``)."""
    shown = shown or target
    parent = target.parent
    for p in (parent, *parent.parents):
        if p.exists() or p.is_symlink():
            if not p.is_dir():
                raise OutputError(shown, f"{p} is a file, not a folder (expected a folder there)", errno.ENOTDIR)
            break
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(shown, f"cannot create the folder {parent}: {_reason(exc)}", exc.errno) from None


@contextlib.contextmanager
def _stdout(mode: str, encoding: str | None) -> Iterator[IO]:
    sys.stdout.flush()
    try:
        if "b" in mode:
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
        else:
            yield sys.stdout
            sys.stdout.flush()
    except OSError as exc:
        if exc.filename is None and exc.errno in _WRITE_ERRNOS:
            raise OutputError("standard output", _reason(exc), exc.errno) from None
        raise


@contextlib.contextmanager
def _in_place(target: Path, mode: str, encoding: str | None) -> Iterator[IO]:
    """Write into a special file (device, FIFO) as it is: replacing it would destroy it."""
    try:
        if "b" in mode:
            f = open(target, mode)
        else:
            f = open(target, mode, encoding=encoding or "utf-8", errors="edgeperf.surrogates")
    except OSError as exc:
        raise _wrap(target, exc) from None
    try:
        with f:
            yield f
    except OSError as exc:
        if exc.filename is None and exc.errno in _WRITE_ERRNOS:
            raise _wrap(target, exc) from None
        raise


@contextlib.contextmanager
def atomic_open(
    path: str | os.PathLike, mode: str = "wb", *, encoding: str | None = None, permissions: int | None = 0o644
) -> Iterator[IO]:
    """Open ``path`` for writing so that it is replaced whole on success and untouched on failure.

    ``-`` is standard output, a symbolic link is followed, a special file is written into (see the
    module doc). ``permissions`` undoes ``mkstemp``'s private mode, since outputs are meant to be
    shared (None keeps it private). Failures raise :class:`OutputError` naming ``path``.
    """
    if is_stdout(path):
        with _stdout(mode, encoding) as f:
            yield f
        return
    shown = Path(path)
    # Through a symlink: replace the file it points to and keep the link (rename over the link
    # would turn it into a regular file, and writing "to" it would silently miss its target).
    target = Path(os.path.realpath(shown)) if shown.is_symlink() else shown
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        if exc.errno == errno.ENOTDIR:
            _check_parent(target)  # names the file that stands where a folder is needed
        raise _wrap(shown, exc) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(shown, "it is a folder; expected a file name", errno.EISDIR)
    if st is not None and not stat.S_ISREG(st.st_mode):
        with _in_place(target, mode, encoding) as f:
            yield f
        return
    _check_parent(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise _wrap(shown, exc) from None
    try:
        if "b" in mode:
            f = os.fdopen(fd, mode)
        else:
            f = os.fdopen(fd, mode, encoding=encoding or "utf-8", errors="edgeperf.surrogates", newline="\n")
        # No fsync: the rename already protects against a full disk, a size limit, an error or
        # Ctrl-C (the faults users hit); an fsync per output only slows every run down.
        with f:
            yield f
        if permissions is not None:
            os.chmod(tmp, permissions)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        # Errors of the write itself name the user's file, not the temporary one.
        if (
            isinstance(exc, OSError)
            and not isinstance(exc, OutputError)
            and (exc.filename in (None, tmp) and exc.errno in _WRITE_ERRNOS | {errno.EACCES, errno.EPERM})
        ):
            raise _wrap(shown, exc) from None
        raise


def atomic_write(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` atomically; return the path."""
    with atomic_open(path, "wb") as f:
        f.write(encode_text(data) if isinstance(data, str) else data)
    return Path(path)


def _refuse_dash_folder(path: str | os.PathLike) -> None:
    if is_stdout(path):
        raise OutputError(
            path, "'-' means standard output, which cannot hold a folder of files; expected a folder name", errno.EINVAL
        )


def check_output_dir(path: str | os.PathLike) -> None:
    """Check, creating nothing, that ``path`` can become an output folder: not a file, not
    under a file, and its nearest existing folder writable (a probe file, since root ignores
    permission bits). Raises :class:`OutputError` naming ``path``."""
    _refuse_dash_folder(path)
    folder = Path(path)
    for p in (folder, *folder.parents):
        if not (p.exists() or p.is_symlink()):
            continue
        if not p.is_dir():
            what = "it is a file" if p == folder else f"{p} is a file, not a folder"
            raise OutputError(folder, f"{what}; expected a folder (or a name that does not exist yet)", errno.ENOTDIR)
        try:
            fd, probe = tempfile.mkstemp(prefix=".edgeperf-probe-", dir=p)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise OutputError(folder, f"{p} is not writable: {_reason(exc)}", exc.errno) from None
        return


def prepare_output_dir(path: str | os.PathLike, owned: Iterable[str] = ()) -> Path:
    """Make ``path`` a folder a run can own: create it, check it is writable, and delete the
    files named in ``owned`` that an earlier run left there, so that a run that fails midway never
    leaves a folder mixing its partial logs with an older run's accuracy.txt or report.

    Raises :class:`OutputError` when ``path`` is a file, lies under a file, or cannot be written.
    """
    _refuse_dash_folder(path)
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise OutputError(folder, "it is a file; expected a folder (or a name that does not exist yet)", errno.ENOTDIR)
    _check_parent(folder / "x", folder)
    try:  # root may write anywhere permissions say no; a real probe is the only honest test
        fd, probe = tempfile.mkstemp(prefix=".edgeperf-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(folder, f"the folder is not writable: {_reason(exc)}", exc.errno) from None
    for name in owned:
        old = folder / name
        if old.is_dir() and not old.is_symlink():
            raise OutputError(old, "it is a folder; this run writes a file of that name", errno.EISDIR)
        try:
            old.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise OutputError(old, f"cannot remove the previous run's file: {_reason(exc)}", exc.errno) from None
    return folder


def refuse_overlap(outputs: dict[str, str | os.PathLike | None], inputs: dict[str, str | os.PathLike | None]) -> None:
    """Refuse an output folder that is, contains, or lies inside one of the inputs.

    Replacing such an output (``--force``) would delete the user's inputs, e.g. the runs that
    hold the only untruncated accuracy logs. Keys are the option names shown in the message.
    """
    for out_name, out in outputs.items():
        if out is None:
            continue
        o = Path(os.path.realpath(out))
        for in_name, inp in inputs.items():
            if inp is None:
                continue
            i = Path(os.path.realpath(inp))
            if o == i or o in i.parents or i in o.parents:
                how = "is" if o == i else ("contains" if o in i.parents else "lies inside")
                raise OutputError(
                    out,
                    f"{out_name} {how} the input {in_name} {inp}; expected an output folder "
                    "apart from every input (replacing it would delete the input)",
                    errno.EINVAL,
                )
