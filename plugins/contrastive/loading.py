"""The contrastive plugin's inputs: score matrices, embeddings and positive indices, checked for what the
diagnostics need. Files are read by :mod:`auditkit.arrays` (.npy, .npz, .pt/.pth, .safetensors, .csv/.tsv/.txt;
``FILE#KEY`` picks one array of several)."""

from __future__ import annotations

from typing import Any

import numpy as np

from auditkit.arrays import load_array, pick, split_spec
from auditkit.errors import InputError


def _where(spec: str, key: str | None = None) -> str:
    path, spec_key = split_spec(spec)
    key = key if key is not None else spec_key
    return f"{path}#{key}" if key else path


def select_matrix(arrays: dict[str, np.ndarray], path: str, key: str | None = None, *,
                  what: str = "score matrix") -> np.ndarray:
    """One 2-D float64 matrix out of an already loaded file: ``key``, the only array, or the one named ``scores``."""
    arr = pick(arrays, key, path=path, what=what, default="scores")
    return check_matrix(arr, f"{path}#{key}" if key else path, what)


def load_matrix(spec: str, *, key: str | None = None, what: str = "score matrix") -> np.ndarray:
    """One 2-D float64 matrix from ``FILE`` or ``FILE#KEY`` (or ``key=``): the only array, or the one named
    ``scores``."""
    return check_matrix(load_array(spec, key=key, what=what, default="scores"), _where(spec, key), what)


def check_matrix(arr: Any, where: str, what: str = "score matrix") -> np.ndarray:
    arr = np.asarray(arr)
    if arr.ndim != 2:
        raise InputError(f"{where}: the {what} must be 2-D (rows x columns), got shape {arr.shape}")
    if arr.dtype.kind not in "fiu":
        raise InputError(f"{where}: the {what} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise InputError(f"{where}: the {what} has a non-finite value at row {bad[0]}, column {bad[1]} "
                         f"(value {arr[tuple(bad)]!r}); remove or fix it")
    return arr


def load_positives(spec: str, n_rows: int, n_cols: int) -> np.ndarray:
    """An integer vector with the positive's column for each row: the only array, the one named ``positives``,
    or ``FILE#KEY``."""
    arr = load_array(spec, what="positives", default="positives")
    return check_positives(arr, _where(spec), n_rows, n_cols)


def check_positives(arr: Any, where: str, n_rows: int, n_cols: int) -> np.ndarray:
    arr = np.asarray(arr).reshape(-1) if np.ndim(arr) == 2 and 1 in np.shape(arr) else np.asarray(arr)
    if arr.ndim != 1:
        raise InputError(f"{where}: positives must be a vector of column indices, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise InputError(f"{where}: positives must be integer column indices, got non-integer values")
    elif arr.dtype.kind not in "iu":
        raise InputError(f"{where}: positives must be integer column indices, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if len(arr) != n_rows:
        raise InputError(f"{where}: has {len(arr)} positives for a score matrix with {n_rows} rows; give one "
                         "column index per row")
    bad = np.flatnonzero((arr < 0) | (arr >= n_cols))
    if len(bad):
        raise InputError(f"{where}: positive index {int(arr[bad[0]])} at row {int(bad[0])} is outside the "
                         f"{n_cols} columns (valid: 0..{n_cols - 1})")
    return arr
