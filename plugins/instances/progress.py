"""Progress on long work: a tqdm bar on a terminal (``progress=None``), always (``True``) or never (``False``)."""

from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def bar(progress: bool | None, total: int, desc: str):
    show = sys.stderr.isatty() if progress is None else progress
    if not show:
        yield lambda n=1: None
        return
    try:
        from tqdm import tqdm
    except ImportError:
        yield lambda n=1: None
        return
    with tqdm(total=total, desc=desc, file=sys.stderr, leave=False) as t:
        yield t.update
