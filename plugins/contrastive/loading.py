"""Reading score matrices, embeddings and positive indices from .npy, .npz, .pt and .safetensors files.

Everything comes back as numpy arrays; ``.pt`` files are read with ``torch.load(weights_only=True)`` (no pickled
code runs) and ``.safetensors`` through ``safetensors.torch`` (so bfloat16 tensors load too).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from auditkit.errors import InputError, require

SUFFIXES = (".npy", ".npz", ".pt", ".safetensors")


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _to_numpy(value: Any, path: str, key: str | None) -> np.ndarray:
    where = f"{path}" + (f" (array {key!r})" if key else "")
    if isinstance(value, np.ndarray):
        return value
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is required for this plugin
        torch = None
    if torch is not None and isinstance(value, torch.Tensor):
        t = value.detach().cpu()
        if t.dtype in (torch.bfloat16, torch.float16):
            t = t.to(torch.float32)
        return t.numpy()
    raise InputError(f"{where}: holds a {type(value).__name__}, expected an array or tensor")


def load_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """All arrays in a file as ``{name: array}``; a single-array file (.npy, a tensor saved with torch.save) is
    returned as ``{"": array}``."""
    path = str(path)
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path}: unsupported file type {suffix or '(no suffix)'!r}; give a score or embedding "
                         f"file as one of: {', '.join(SUFFIXES)}")
    if not Path(path).is_file():
        raise InputError(f"{path}: no such file")
    try:
        if suffix == ".npy":
            return {"": np.load(path, allow_pickle=False)}
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        if suffix == ".pt":
            torch = require("torch", "reading .pt files", "torch")
            obj = torch.load(path, map_location="cpu", weights_only=True)
            if isinstance(obj, dict):
                return {str(k): _to_numpy(v, path, str(k)) for k, v in obj.items()}
            if isinstance(obj, (list, tuple)):
                return {str(i): _to_numpy(v, path, str(i)) for i, v in enumerate(obj)}
            return {"": _to_numpy(obj, path, None)}
        st = require("safetensors.torch", "reading .safetensors files", "torch")
        return {k: _to_numpy(v, path, k) for k, v in st.load_file(path, device="cpu").items()}
    except InputError:
        raise
    except Exception as exc:  # corrupt file, pickle refused, wrong format behind the suffix
        raise InputError(f"{path}: cannot be read as {suffix} ({type(exc).__name__}: {exc})") from exc


def load_matrix(path: str | Path, *, key: str | None = None, what: str = "score matrix") -> np.ndarray:
    """One 2-D float array from a file (``key`` selects an array inside .npz/.pt/.safetensors containers)."""
    arrays = load_arrays(path)
    if key is not None:
        if key not in arrays:
            raise InputError(f"{path}: has no array named {key!r}; it has: {', '.join(sorted(arrays)) or '(none)'}")
        arr = arrays[key]
    elif len(arrays) == 1:
        arr = next(iter(arrays.values()))
    elif "scores" in arrays:
        arr = arrays["scores"]
    else:
        raise InputError(f"{path}: holds several arrays ({', '.join(sorted(arrays))}); name the {what} 'scores', "
                         "or store embeddings as 'z1' and 'z2'")
    return check_matrix(arr, f"{path}" + (f" [{key}]" if key else ""), what)


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


def load_positives(path: str | Path, n_rows: int, n_cols: int) -> np.ndarray:
    """An integer vector with the positive's column for each row."""
    arrays = load_arrays(path)
    if len(arrays) == 1:
        arr = next(iter(arrays.values()))
    elif "positives" in arrays:
        arr = arrays["positives"]
    else:
        raise InputError(f"{path}: holds several arrays ({', '.join(sorted(arrays))}); name the index vector "
                         "'positives'")
    return check_positives(arr, str(path), n_rows, n_cols)


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
