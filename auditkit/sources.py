"""Where leaderboards live: local files, standard input, compressed files and URLs, as bytes plus a name.

:func:`open_source` reads ``path`` and returns ``(name, data)``:

- ``"-"`` reads standard input;
- a path with a scheme (``https://``, ``s3://``, ``hf://datasets/...``, ``memory://``) is read through fsspec,
  imported only then (the plain-file path imports nothing more), with one clear message when it cannot be fetched
  (offline, unknown host, missing protocol package);
- gzip, bz2, xz (and zstd when ``zstandard`` is installed) are detected by their magic bytes, not the suffix, and
  decompressed; a zip archive must hold one table (or name it: ``archive.zip#member.csv``).

The name drops the compression suffix (``board.csv.gz`` -> ``board.csv``, ``a.zip#t.csv`` -> ``a.zip/t.csv``) so
the reader is still chosen by the table's own suffix; the data (and so the provenance sha256) are the table's
decompressed bytes, as ``gunzip -c board.csv.gz | sha256sum`` gives them.
"""

from __future__ import annotations

import io
import os
import re
import sys

from .errors import InputError

SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]+)://")  # two letters at least: C:\\ is a drive, not a scheme
COMPRESSION_SUFFIXES = (".gz", ".gzip", ".bz2", ".xz", ".lzma", ".zst", ".zip")
MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"),
         (b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"))
MAX_DECOMPRESSED = 4 << 30  # 4 GiB: a larger table is refused rather than filling memory


def has_scheme(path: str) -> bool:
    return bool(SCHEME.match(path))


def compression_of(data: bytes) -> str | None:
    """``gzip``, ``bz2``, ``xz``, ``zstd``, ``zip`` or None, from the first bytes."""
    return next((kind for magic, kind in MAGIC if data.startswith(magic)), None)


def open_source(path: str | os.PathLike) -> tuple[str, bytes]:
    """``(name, data)`` of a leaderboard at ``path``: a file, ``"-"``, a URL or ``hf://`` path; decompressed."""
    text = os.fspath(path)
    member = None
    if "#" in text and ".zip#" in text.lower():
        text, member = text.split("#", 1)
    if text == "-":
        name, data = "<stdin>", sys.stdin.buffer.read()
    elif has_scheme(text):
        name, data = text, fetch(text)
    else:
        name, data = text, _read_file(text)
    return decompress(name, data, member=member)


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        hint = " (a URL needs its scheme, e.g. https://...)" if path.startswith(("www.", "huggingface.co")) else ""
        raise InputError(f"{path}: no such file{hint}") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a leaderboard file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None


def fetch(url: str) -> bytes:
    """The bytes at ``url`` through fsspec (``hf://`` needs huggingface_hub, ``s3://`` s3fs, ...)."""
    scheme = SCHEME.match(url).group(1).lower()
    try:
        import fsspec
    except ImportError:
        raise InputError(f"{url}: reading {scheme}:// paths needs fsspec (pip install fsspec); or download the "
                         "file and pass its path") from None
    try:
        with fsspec.open(url, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise InputError(f"{url}: not found") from None
    except ImportError as exc:  # the protocol's package (huggingface_hub, s3fs, aiohttp) is missing
        raise InputError(f"{url}: {scheme}:// needs a package that is not installed ({exc}); install it or "
                         "download the file and pass its path") from None
    except ValueError as exc:  # fsspec: "Protocol not known"
        raise InputError(f"{url}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - network errors come in many types (aiohttp, OSError, HTTP errors)
        reason = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
        raise InputError(f"{url}: cannot fetch it ({reason[:300]}); are you offline? auditkit reads URLs and "
                         "hf:// paths over the network; download the file and pass its path to work "
                         "offline") from None


def _strip_suffix(name: str) -> str:
    low = name.lower()
    for suffix in COMPRESSION_SUFFIXES:
        if low.endswith(suffix) and suffix != ".zip":
            return name[: -len(suffix)]
    return name


def decompress(name: str, data: bytes, *, member: str | None = None) -> tuple[str, bytes]:
    """Undo gzip/bz2/xz/zstd/zip found by magic bytes; other data comes back unchanged."""
    kind = compression_of(data)
    if kind is None:
        if member is not None:
            raise InputError(f"{name}: not a zip archive, so it has no member {member!r}")
        return name, data
    try:
        if kind == "zip":
            return _unzip(name, data, member)
        if kind == "gzip":
            import gzip

            out = _bounded(gzip.GzipFile(fileobj=io.BytesIO(data)), name)
        elif kind == "bz2":
            import bz2

            out = _bounded(bz2.BZ2File(io.BytesIO(data)), name)
        elif kind == "xz":
            import lzma

            out = _bounded(lzma.LZMAFile(io.BytesIO(data)), name)
        else:
            try:
                import zstandard
            except ImportError:
                raise InputError(f"{name}: zstd-compressed; install zstandard (pip install zstandard) or "
                                 "decompress it first") from None
            out = _bounded(zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)), name)
    except InputError:
        raise
    except (OSError, EOFError, ValueError) as exc:
        raise InputError(f"{name}: looks {kind}-compressed but does not decompress ({exc})") from None
    return _strip_suffix(name), out


def _bounded(stream, name: str) -> bytes:
    out = stream.read(MAX_DECOMPRESSED + 1)
    if len(out) > MAX_DECOMPRESSED:
        raise InputError(f"{name}: decompresses to more than {MAX_DECOMPRESSED >> 30} GiB; refused")
    return out


def _unzip(name: str, data: bytes, member: str | None) -> tuple[str, bytes]:
    import zipfile

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise InputError(f"{name}: not a readable zip archive ({exc})") from None
    files = [i for i in zf.infolist() if not i.is_dir() and not i.filename.startswith(("__MACOSX/", "."))
             and not os.path.basename(i.filename).startswith(".")]
    if member is not None:
        chosen = [i for i in files if i.filename == member]
        if not chosen:
            raise InputError(f"{name}: has no member {member!r}; it holds: {', '.join(i.filename for i in files)}")
    elif len(files) != 1:
        listed = ", ".join(i.filename for i in files) or "nothing"
        raise InputError(f"{name}: a zip archive must hold one table, this one holds {listed}; name one as "
                         f"{name}#MEMBER")
    else:
        chosen = files
    info = chosen[0]
    if info.file_size > MAX_DECOMPRESSED:
        raise InputError(f"{name}: member {info.filename} is larger than {MAX_DECOMPRESSED >> 30} GiB; refused")
    return f"{name}/{info.filename}", zf.read(info)
