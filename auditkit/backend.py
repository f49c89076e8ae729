"""Array backend selection: numeric kernels are written once against the array API standard.

``namespace("numpy")`` is the default; ``namespace("torch", "cuda")`` runs the same kernel on a GPU. Backends are
plugins (``auditkit_register_backends``); this module only looks them up and moves data. float64 everywhere unless a
caller asks otherwise; results agree across backends within the tolerance stated by each parity test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import UsageError


@dataclass(frozen=True)
class ArrayContext:
    """An array namespace bound to a device: ``xp.asarray(x, device=ctx.device)`` goes through :meth:`asarray`."""

    name: str
    xp: Any
    device: Any

    def asarray(self, x, dtype=None):
        dtype = dtype if dtype is not None else self.xp.float64
        if self.name == "numpy":
            return self.xp.asarray(x, dtype=dtype)
        return self.xp.asarray(x, dtype=dtype, device=self.device)

    def to_numpy(self, x):
        return to_numpy(x)


def to_numpy(x):
    """Any backend array (or scalar) as a numpy array on the CPU."""
    import numpy as np

    if hasattr(x, "detach"):  # torch
        return x.detach().cpu().numpy()
    return np.asarray(x)


def get_backend(name: str = "numpy", device: str = "cpu") -> ArrayContext:
    """The array context for backend ``name`` on ``device``; a clear error when it is missing or unusable."""
    from .registry import get_registry

    backend = get_registry().get("backends", name)
    devices = backend.devices()
    base = device.split(":")[0]
    if base not in {d.split(":")[0] for d in devices}:
        raise UsageError(f"backend {name!r} cannot use device {device!r} on this machine; available: "
                         f"{', '.join(devices)}")
    xp, dev = backend.namespace(device)
    return ArrayContext(name=name, xp=xp, device=dev)
