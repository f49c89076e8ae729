"""Reading and writing numeric arrays for the CLI: ``.npy``, ``.npz`` (``file.npz`` with one array, or
``file.npz:key``) and ``.csv`` / ``.tsv`` / ``.txt`` (numbers; a header line is skipped)."""

from __future__ import annotations

import io
import os

import numpy as np

from auditkit.errors import InputError, ParseError

SUFFIXES = (".npy", ".npz", ".csv", ".tsv", ".txt")


def _split_key(path: str):
    if ".npz:" in path:
        base, key = path.rsplit(":", 1)
        return base, key
    return path, None


def load_array(path: str, *, what: str = "array", mmap: bool = False) -> np.ndarray:
    """Load a numeric array; InputError/ParseError name the file and the fix."""
    base, key = _split_key(path)
    if not os.path.exists(base):
        raise InputError(f"{what} file {base!r} does not exist")
    suffix = os.path.splitext(base)[1].lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{what} file {base!r}: unknown format {suffix or '(none)'!r}; use one of "
                         f"{', '.join(SUFFIXES)}")
    try:
        if suffix == ".npy":
            arr = np.load(base, mmap_mode="r" if mmap else None, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(base, allow_pickle=False) as z:
                keys = list(z.keys())
                if key is None:
                    if len(keys) != 1:
                        raise InputError(f"{what} file {base!r} holds {len(keys)} arrays ({', '.join(keys)}); "
                                         f"name one as {base}:KEY")
                    key = keys[0]
                if key not in keys:
                    raise InputError(f"{what} file {base!r} has no array {key!r}; it holds: {', '.join(keys)}")
                arr = z[key]
        else:
            arr = _load_text(base, suffix, what)
    except (InputError, ParseError):
        raise
    except (ValueError, OSError) as exc:
        raise InputError(f"{what} file {base!r} cannot be read: {exc}") from exc
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{what} file {base!r} holds {arr.dtype} data; expected numbers")
    return arr


def _load_text(path: str, suffix: str, what: str) -> np.ndarray:
    delim = "\t" if suffix == ".tsv" else ("," if suffix == ".csv" else None)
    with open(path, encoding="utf-8") as fh:
        lines = [ln for ln in fh.read().splitlines() if ln.strip()]
    if not lines:
        raise InputError(f"{what} file {path!r} is empty")
    rows = []
    for i, line in enumerate(lines, start=1):
        cells = [c.strip() for c in (line.split(delim) if delim else line.split())]
        try:
            rows.append([float(c) for c in cells])
        except ValueError:
            if i == 1:  # header
                continue
            bad = next(c for c in cells if not _is_float(c))
            raise ParseError("not a number", source=path, line=i, value=bad,
                             hint="every cell after the header must be numeric") from None
    if not rows:
        raise InputError(f"{what} file {path!r} has a header but no numeric rows")
    width = {len(r) for r in rows}
    if len(width) != 1:
        raise ParseError(f"rows have different numbers of columns ({sorted(width)})", source=path,
                         hint="every row needs one value per class/dimension")
    return np.asarray(rows, dtype=np.float64)


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def save_array(path: str, arr: np.ndarray, *, name: str = "arr_0") -> None:
    """Write ``.npy``, ``.npz`` or ``.csv``/``.tsv``/``.txt`` atomically (no partial file on failure)."""
    from auditkit.cli import write_atomic

    suffix = os.path.splitext(path)[1].lower()
    buf = io.BytesIO()
    if suffix == ".npy":
        np.save(buf, arr)
    elif suffix == ".npz":
        np.savez(buf, **{name: arr})
    elif suffix in (".csv", ".tsv", ".txt"):
        delim = "\t" if suffix == ".tsv" else ("," if suffix == ".csv" else " ")
        np.savetxt(buf, np.atleast_2d(arr) if arr.ndim > 1 else arr, delimiter=delim, fmt="%.17g")
    else:
        raise InputError(f"output {path!r}: unknown format {suffix or '(none)'!r}; use .npy, .npz, .csv, .tsv or .txt")
    write_atomic(path, buf.getvalue())


def sha256(path: str) -> str:
    import hashlib

    base, _ = _split_key(path)
    h = hashlib.sha256()
    with open(base, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
