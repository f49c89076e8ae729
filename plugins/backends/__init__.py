"""Array backends: numpy (default) and torch (CPU, CUDA) through array-api-compat."""

from __future__ import annotations

import auditkit
from auditkit.errors import require


def _numpy_namespace(device: str):
    import numpy

    if hasattr(numpy, "cumulative_sum") and hasattr(numpy, "astype"):
        return numpy, "cpu"  # numpy >= 2.1 is an array-API namespace itself (and skips a 50 ms import)
    import array_api_compat.numpy as xp

    return xp, "cpu"


def _numpy_devices():
    return ("cpu",)


def _torch_namespace(device: str):
    require("torch", "the torch backend", "torch")
    import array_api_compat.torch as xp
    import torch

    return xp, torch.device(device)


def _torch_devices():
    try:
        import torch
    except ImportError:
        return ()
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return tuple(devices)


@auditkit.hookimpl
def auditkit_register_backends():
    return [
        auditkit.Backend("numpy", _numpy_namespace, _numpy_devices, "NumPy on the CPU (default)"),
        auditkit.Backend("torch", _torch_namespace, _torch_devices,
                         "PyTorch on the CPU or a CUDA device (pip install 'leaderboard-auditkit[torch]')"),
    ]
