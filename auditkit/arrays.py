"""Reading numeric arrays from files: the one loader that every command and plugin uses.

Formats, by suffix:

=================  ===========================================================================================
``.npy``           one array, key ``""`` (``mmap=True`` memory-maps it)
``.npz``           several named arrays (``np.savez``), never unpickled
``.pt`` ``.pth``   ``torch.save`` output, read on the CPU with ``torch.load(weights_only=True)`` (no pickled code
                   runs): one tensor (key ``""``), a dict of tensors (its keys) or a list/tuple (keys ``"0"``,
                   ``"1"``, ...); bfloat16/float16 tensors come back as float32
``.safetensors``   named tensors, through ``safetensors.torch`` when torch is installed (so bfloat16 loads, as
                   float32) and ``safetensors.numpy`` otherwise
``.csv`` ``.tsv``  a table of numbers separated by commas, tabs or (``.txt``) whitespace; a header line is
``.txt``           skipped; key ``""``, float64, always 2-D
=================  ===========================================================================================

One array out of a container is named ``FILE#KEY`` (or with ``key=``); ``FILE.npz:KEY`` is accepted as an alias,
the techniques plugin's older spelling. A path that exists as given is never split, so a file name containing
``#`` still works. torch and safetensors are imported only when a ``.pt``/``.pth``/``.safetensors`` file is read.

Every error is an :class:`~auditkit.errors.InputError` (a :class:`~auditkit.errors.ParseError` for a bad text
cell) that names the file and says what to do.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np

from auditkit.errors import AuditkitError, InputError, ParseError, require

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
TORCH_SUFFIXES = (".pt", ".pth")
SUFFIXES = (".npy", ".npz", *TORCH_SUFFIXES, ".safetensors", *TEXT_SUFFIXES)
NUMERIC_KINDS = "biuf"  # bool, signed, unsigned, float


def sha256_file(path: str | os.PathLike) -> str:
    """The hex sha256 of a file's bytes (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def split_spec(spec: str | os.PathLike) -> tuple[str, str | None]:
    """``FILE#KEY`` (or the alias ``FILE.npz:KEY``) -> ``(FILE, KEY)``; anything else -> ``(spec, None)``.

    A spec that exists as a path is returned whole, so ``a#b.npy`` on disk is a file, not ``a`` with key ``b.npy``.
    """
    spec = os.fspath(spec)
    if os.path.exists(spec):
        return spec, None
    if "#" in spec:
        path, key = spec.rsplit("#", 1)
        return path, key
    if ".npz:" in spec:
        path, key = spec.rsplit(":", 1)
        return path, key
    return spec, None


def _label(path: str, what: str) -> str:
    return f"{what} file {path!r}"


def load_arrays(path: str | os.PathLike, *, what: str = "array", mmap: bool = False) -> dict[str, np.ndarray]:
    """Every array in a file as ``{key: array}``; single-array files (.npy, text, one saved tensor) give
    ``{"": array}``. ``what`` names the input in error messages (``"probabilities"``, ``"--real"``, ...);
    ``mmap=True`` memory-maps ``.npy`` files (read-only) and is ignored for the other formats."""
    path = os.fspath(path)
    label = _label(path, what)
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{label}: unsupported file type {suffix or '(no suffix)'!r}; use one of: "
                         f"{', '.join(SUFFIXES)}")
    if not os.path.isfile(path):
        raise InputError(f"{label} does not exist" + ("" if not os.path.exists(path) else " as a regular file"))
    try:
        if suffix == ".npy":
            return {"": np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)}
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        if suffix in TORCH_SUFFIXES:
            return _load_torch(path, label)
        if suffix == ".safetensors":
            return _load_safetensors(path, label)
        return {"": _load_text(path, suffix, label)}
    except AuditkitError:
        raise
    except Exception as exc:  # corrupt file, pickled object refused, another format behind the suffix
        raise InputError(f"{label} cannot be read as {suffix} ({type(exc).__name__}: {exc})") from exc


def pick(arrays: dict[str, np.ndarray], key: str | None = None, *, path: str, what: str = "array",
         default: str | None = None) -> np.ndarray:
    """One numeric array out of ``load_arrays``'s result: ``key`` if given; else the only one; else ``default``
    if the file has it. Anything else is an InputError that lists the keys and shows ``FILE#KEY``."""
    label = _label(path, what)
    keys = list(arrays)
    if key is not None:
        if key not in arrays:
            raise InputError(f"{label} has no array {key!r}; it holds: {', '.join(map(repr, keys)) or '(nothing)'}")
    elif len(keys) == 1:
        key = keys[0]
    elif default is not None and default in arrays:
        key = default
    elif not keys:
        raise InputError(f"{label} holds no arrays")
    else:
        also = f", or store it as {default!r}" if default is not None else ""
        raise InputError(f"{label} holds {len(keys)} arrays ({', '.join(keys)}); name one with {path}#KEY{also}")
    arr = np.asarray(arrays[key])
    if arr.dtype.kind not in NUMERIC_KINDS:
        where = f"{path}#{key}" if key else path
        raise InputError(f"{what} file {where!r} holds {arr.dtype} data; expected numbers")
    if arr.size == 0:
        where = f"{path}#{key}" if key else path
        raise InputError(f"{what} file {where!r} holds an empty array of shape {tuple(arr.shape)}; expected at "
                         "least one value in every dimension")
    return arr


def load_array(spec: str | os.PathLike, *, what: str = "array", key: str | None = None, mmap: bool = False,
               default: str | None = None) -> np.ndarray:
    """One numeric array from ``FILE``, ``FILE#KEY`` (alias ``FILE.npz:KEY``) or ``FILE`` with ``key=``.

    A container with several arrays needs a key (or holds ``default``). ``what`` names the input in messages.
    """
    path, spec_key = split_spec(spec)
    if key is not None and spec_key is not None and key != spec_key:
        raise InputError(f"{_label(path, what)}: two keys given ({spec_key!r} in the name, {key!r} as key=); "
                         "give one")
    return pick(load_arrays(path, what=what, mmap=mmap), key if key is not None else spec_key, path=path,
                what=what, default=default)


# -- the formats ----------------------------------------------------------------------------------------------------
def _tensor_to_numpy(value: Any, label: str, key: str, torch) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu()
        if t.dtype in (torch.bfloat16, torch.float16):
            t = t.to(torch.float32)
        return t.numpy()
    if isinstance(value, (bool, int, float)):
        return np.asarray(value)
    where = f" (entry {key!r})" if key else ""
    raise InputError(f"{label}{where} holds a {type(value).__name__}, expected a tensor")


def _load_torch(path: str, label: str) -> dict[str, np.ndarray]:
    torch = require("torch", "reading .pt/.pth files", "torch")
    obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, dict):
        return {str(k): _tensor_to_numpy(v, label, str(k), torch) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return {str(i): _tensor_to_numpy(v, label, str(i), torch) for i, v in enumerate(obj)}
    return {"": _tensor_to_numpy(obj, label, "", torch)}


def _load_safetensors(path: str, label: str) -> dict[str, np.ndarray]:
    if importlib.util.find_spec("torch") is not None:  # safetensors.numpy cannot hold bfloat16
        torch = require("torch", "reading .safetensors files", "torch")
        st = require("safetensors.torch", "reading .safetensors files", "torch")
        return {k: _tensor_to_numpy(v, label, k, torch) for k, v in st.load_file(path, device="cpu").items()}
    st = require("safetensors.numpy", "reading .safetensors files", "torch")
    return dict(st.load_file(path))


def _load_text(path: str, suffix: str, label: str) -> np.ndarray:
    delim = "\t" if suffix == ".tsv" else ("," if suffix == ".csv" else None)
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    rows, first = [], True
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        cells = [c.strip() for c in (line.split(delim) if delim else line.split())]
        numbers = [_float(c) for c in cells]
        if first and all(v is None for v in numbers):  # a header: no cell of it is a number
            first = False
            continue
        first = False
        bad = next((j for j, v in enumerate(numbers) if v is None), None)
        if bad is not None:
            raise ParseError("not a number (or not finite)", source=path, line=lineno, column=str(bad + 1), value=cells[bad],
                             hint="every cell after an optional header line of names must be a finite number")
        rows.append(numbers)
    if not rows:
        raise InputError(f"{label} has no numeric rows" + (" (only a header)" if any(ln.strip() for ln in lines)
                                                           else " (it is empty)"))
    width = {len(r) for r in rows}
    if len(width) != 1:
        raise ParseError(f"rows have different numbers of columns ({sorted(width)})", source=path,
                         hint="every row needs the same number of values")
    return np.asarray(rows, dtype=np.float64)


def _float(s: str) -> float | None:
    """A finite float, or None (text, empty, inf, nan, or beyond float64)."""
    try:
        v = float(s)
    except ValueError:
        return None
    return v if np.isfinite(v) else None
