"""Progress for long commands: a tqdm bar on standard error that updates at least once a second, silent when
standard error is not a terminal (logs and CI stay clean) unless forced.

    from auditkit.progress import progress

    with progress(total=n_resamples, desc="bootstrap", unit="resample") as bar:
        for batch in batches:
            ...
            bar.update(len(batch))

``enabled``: True forces the bar, False silences it, None (default) shows it when standard error is a TTY and
``AUDITKIT_PROGRESS`` is not ``0`` (``AUDITKIT_PROGRESS=1`` forces it). A silent bar is a no-op object with the same
methods, so callers never branch. ``iterate(items, ...)`` wraps an iterable.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, Iterable, Iterator

ENV = "AUDITKIT_PROGRESS"
MIN_INTERVAL = 0.1
MAX_INTERVAL = 1.0  # the bar redraws at least this often, even while one slow step runs


def wanted(enabled: bool | None = None, stream=None) -> bool:
    if enabled is not None:
        return enabled
    env = os.environ.get(ENV, "")
    if env in ("0", "false", "no"):
        return False
    if env in ("1", "true", "yes"):
        return True
    stream = stream or sys.stderr
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class Silent:
    """The bar when progress is off: accepts every call, prints nothing."""

    n = 0

    def __init__(self, total: float | None = None, **_: Any):
        self.total = total

    def update(self, n: float = 1) -> None:
        self.n += n

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        pass

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        pass

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Ticker(threading.Thread):
    """Refreshes a tqdm bar every MAX_INTERVAL seconds so elapsed time and rate move during a long step."""

    def __init__(self, bar):
        super().__init__(daemon=True)
        self.bar = bar
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(MAX_INTERVAL):
            try:
                self.bar.refresh()
            except Exception:  # noqa: BLE001 - a closed bar; the ticker just ends
                return


class Bar:
    """A tqdm bar with a ticker thread; a context manager."""

    def __init__(self, total=None, desc: str = "", unit: str = "it", stream=None, **kw: Any):
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, desc=desc, unit=unit, file=stream or sys.stderr, mininterval=MIN_INTERVAL,
                         maxinterval=MAX_INTERVAL, dynamic_ncols=True, leave=False, **kw)
        self._ticker = _Ticker(self._bar)
        self._ticker.start()
        self._t0 = time.monotonic()

    @property
    def n(self):
        return self._bar.n

    def update(self, n: float = 1) -> None:
        self._bar.update(n)

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        self._bar.set_postfix_str(s, refresh=refresh)

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        self._bar.set_description(desc, refresh=refresh)

    def refresh(self) -> None:
        self._bar.refresh()

    def close(self) -> None:
        self._ticker.stop.set()
        self._bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress(total: float | None = None, desc: str = "", unit: str = "it", *, enabled: bool | None = None,
             stream=None, **kw: Any):
    """A progress bar (see the module docstring): a :class:`Bar` when wanted, else a :class:`Silent` one."""
    if not wanted(enabled, stream):
        return Silent(total)
    return Bar(total=total, desc=desc, unit=unit, stream=stream, **kw)


def iterate(items: Iterable, total: int | None = None, desc: str = "", unit: str = "it", *,
            enabled: bool | None = None, stream=None) -> Iterator:
    """Yield ``items`` while a bar counts them."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress(total, desc, unit, enabled=enabled, stream=stream) as bar:
        for item in items:
            yield item
            bar.update(1)
