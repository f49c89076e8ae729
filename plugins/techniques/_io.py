"""Writing numeric arrays for the techniques CLI (atomically). Reading is :mod:`auditkit.arrays`."""

from __future__ import annotations

import io
import os

import numpy as np

from auditkit.errors import InputError


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
