"""Output that holds its promise: the one file writer every command uses, and the escaping of data cells for the
formats another program interprets (CSV in a spreadsheet, Markdown in a browser, text in a terminal).

Rules (see ``docs/reliability.md``):

- ``-`` means standard output; nothing named ``-`` is ever created.
- A regular file or a new path is written atomically: a temporary file beside the *resolved* target (symlinks are
  followed, so the link stays a link), flushed, given the target's mode (or the mode ``open()`` would give a new
  file), then ``os.replace``-d over the target. No partial file is ever visible.
- Anything else that exists (a character device such as ``/dev/null``, a FIFO, a socket) is opened and written
  straight through; it is never replaced. So is every path under ``/dev`` or ``/proc`` (``/dev/stdout``,
  ``/dev/fd/1``: a descriptor, not a file), appending when the descriptor is a regular file.
- An output path equal to an input of the run, or to another output of the same run, is refused
  (:func:`guard_outputs`), compared after resolving symlinks and by device/inode.
- The temporary file is removed on any exception and on SIGTERM, SIGINT and SIGHUP (the signal is then re-raised
  with its previous handler). SIGKILL cannot be caught; the temporary file is then named ``.auditkit-*.tmp``.
- Every OS error (missing or unwritable directory, a directory as target, a full disk) is an
  :class:`~auditkit.errors.InputError` (exit 2) naming the path and the reason.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import stat
import sys
import tempfile
from typing import Iterable

from .errors import InputError, UsageError

TMP_PREFIX = ".auditkit-"
TMP_SUFFIX = ".tmp"
STDOUT = "-"
_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, n))


def _identity(path: str) -> tuple:
    """A key for "the same file": (device, inode) when it exists, else the resolved absolute path."""
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
        return ("inode", st.st_dev, st.st_ino)
    except OSError:
        return ("path", os.path.normcase(real))


def guard_outputs(outputs: Iterable[str | os.PathLike | None], inputs: Iterable[str | os.PathLike | None] = ()) -> None:
    """Refuse a run whose output would overwrite one of its inputs, or whose two outputs are the same file.

    ``None`` entries (an option not given) and ``-`` (stdin/stdout) are ignored. Raises UsageError (exit 2).
    """
    seen_in = {}
    for p in inputs:
        if p is None or os.fspath(p) == STDOUT:
            continue
        seen_in.setdefault(_identity(os.fspath(p)), os.fspath(p))
    seen_out: dict[tuple, str] = {}
    for p in outputs:
        if p is None or os.fspath(p) == STDOUT:
            continue
        path = os.fspath(p)
        key = _identity(path)
        if _is_special(path):
            continue  # /dev/null twice, or a FIFO, is never replaced: nothing can be destroyed
        if key in seen_in:
            raise UsageError(f"output {path!r} is the input {seen_in[key]!r}; writing it would destroy the input. "
                             "Choose another output path")
        if key in seen_out:
            raise UsageError(f"outputs {seen_out[key]!r} and {path!r} are the same file; one would overwrite the "
                             "other. Give each output its own path")
        seen_out[key] = path


def command_paths(output: str | os.PathLike) -> list[str]:
    """The other paths named on the running click command's line, to guard ``output`` against.

    A value counts when its parameter is a positional argument or of type ``click.Path``/``click.File``, or when it
    names an existing file (so ``--format csv -o csv`` is not mistaken for an input); one occurrence of ``output``
    itself (its own option) is left out. So ``rerank FILE -o FILE`` and ``can -o X --report X`` are both caught
    without each command listing its inputs. Outside a click command this is empty.
    """
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return []
    values: list[str] = []
    for param in ctx.command.params:
        pathlike = isinstance(param, click.Argument) or isinstance(param.type, (click.Path, click.File))
        v = ctx.params.get(param.name)
        for item in (v if isinstance(v, (list, tuple)) else [v]):
            if isinstance(item, (str, os.PathLike)) and os.fspath(item) not in ("", STDOUT) \
                    and (pathlike or os.path.isfile(item)):
                values.append(os.fspath(item))
    out = os.fspath(output)
    if out in values:
        values.remove(out)
    return values


def _is_special(path: str) -> bool:
    """True for an existing target that is not a regular file or directory (device, FIFO, socket)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if exc.errno == errno.EISDIR:
        return "is a directory"
    if exc.errno == errno.ENOENT:
        return "the directory does not exist"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (the file or its directory is not writable)"
    return exc.strerror or type(exc).__name__


def _fail(path: str, exc: OSError):
    return InputError(f"cannot write output {path!r}: {_reason(exc)}. Choose a writable path, create the "
                      "directory, or free disk space")


@contextlib.contextmanager
def _cleanup_on_signals(tmp: str):
    """Remove ``tmp`` if SIGTERM/SIGINT/SIGHUP arrives, then let the previous handler act on the signal."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}

    def handler(signum, frame):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        old = previous.get(signum, signal.SIG_DFL)
        signal.signal(signum, old)
        if callable(old):
            old(signum, frame)
        else:
            os.kill(os.getpid(), signum)

    for s in _SIGNALS:
        previous[s] = signal.signal(s, handler)
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_output(path: str | os.PathLike, data: bytes | str, *, inputs: Iterable = (), others: Iterable = ()) -> None:
    """Write ``data`` to ``path`` by the rules above; ``inputs`` and ``others`` (the run's other outputs) are
    checked first with :func:`guard_outputs`."""
    path = os.fspath(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if path == STDOUT:
        out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
        if out is None:
            sys.stdout.write(data.decode("utf-8"))
        else:
            out.write(data)
        sys.stdout.flush()
        return
    guard_outputs([*others, path], inputs)
    try:
        st = os.stat(path)  # follows links, the /proc/self/fd magic ones included
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _fail(path, exc) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise _fail(path, OSError(errno.EISDIR, "is a directory"))
    if st is not None and (not stat.S_ISREG(st.st_mode) or _descriptor_path(path)):
        _write_through(path, path, data, append=stat.S_ISREG(st.st_mode))
        return
    _replace_atomically(path, os.path.realpath(path), data, None if st is None else stat.S_IMODE(st.st_mode))


def _descriptor_path(path: str) -> bool:
    """/dev/stdout, /dev/fd/N, /proc/self/fd/N name an open descriptor, not a file to replace."""
    absolute = os.path.abspath(path)
    return absolute.startswith(("/dev/", "/proc/"))


def _write_through(path: str, target: str, data: bytes, append: bool = False) -> None:
    """Write into what is there; a regular file behind a descriptor path (``/dev/stdout`` redirected with ``>>``) is
    appended to, never truncated."""
    try:
        with open(target, "ab" if append else "wb", buffering=0) as fh:
            view = memoryview(data)
            while view:
                view = view[fh.write(view):]
    except OSError as exc:
        raise _fail(path, exc) from None


def _replace_atomically(path: str, target: str, data: bytes, mode: int | None) -> None:
    directory = os.path.dirname(target) or "."
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=TMP_PREFIX, suffix=TMP_SUFFIX)
    except OSError as exc:
        raise _fail(path, exc) from None
    try:
        with _cleanup_on_signals(tmp):
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, _new_file_mode() if mode is None else mode)
                os.replace(tmp, target)
            except OSError as exc:
                raise _fail(path, exc) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# -- escaping data for the formats that a reader's program interprets ----------------------------------------------
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \\), other two-byte ESC sequences, then any control character
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def csv_safe(value):
    """A CSV cell that a spreadsheet will not run as a formula (OWASP "CSV Injection"): a text cell starting with
    ``= + - @``, a tab or a carriage return gets a leading single quote. Numbers (int/float) and text that is a
    plain number (``-1.5``, ``+3``, ``-2e-3``: a spreadsheet reads them as that number) and a lone ``-`` (the
    missing marker) are left as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and value != "-" and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def markdown_safe(text: str) -> str:
    """Markdown table cell text: HTML escaped (``<script>`` shows as text), pipes escaped, newlines as spaces."""
    import html

    return html.escape(text, quote=False).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def terminal_safe(text: str) -> str:
    """Text for a terminal: ANSI/OSC escape sequences and control characters (including bidi overrides) removed,
    a newline or tab inside a cell shown as a space."""
    text = _ANSI.sub("", text).replace("\n", " ").replace("\t", " ")
    return _CONTROL.sub("", text)


__all__ = ["csv_safe", "markdown_safe", "terminal_safe", "write_output", "guard_outputs", "command_paths", "TMP_PREFIX", "TMP_SUFFIX"]
