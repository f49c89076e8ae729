"""Flooding (Ishida et al., ICML 2020; Su, kexue.fm/archives/7643) and Flooding-X (Liu et al., ACL 2022).

``flood(L) = |L - b| + b``: gradient descent while the training loss is above the flood level b, ascent below it.
Alternating one descent and one ascent step of size eps moves the parameters by ``-(eps**2 / 2) grad ||grad L||**2``,
an implicit gradient-norm penalty (exact for a quadratic loss: ``-eps**2 A**2 theta``). The official Flooding-X
training script uses ``flood = abs(loss - b) + b`` with default ``b = 0.025`` (``qinliu9/Flooding-X``,
``train/run_flood.py``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["flood", "flood_grad_factor", "FLOODING_X_DEFAULT_B", "descent_ascent_displacement"]

FLOODING_X_DEFAULT_B = 0.025


def flood(loss, b: float):
    """``|loss - b| + b``; works on floats, numpy arrays and torch tensors (keeps autograd)."""
    return abs(loss - b) + b


def flood_grad_factor(loss, b: float):
    """d flood / d loss: +1 above the flood level, -1 below (the sign of the step)."""
    return np.where(np.asarray(loss, dtype=np.float64) > b, 1.0, -1.0)


def descent_ascent_displacement(a, theta, eps: float):
    """For ``L = theta^T A theta / 2``: one descent step then one ascent step of size eps, returns the displacement
    ``theta_2 - theta_0`` (which equals ``-eps**2 A**2 theta``)."""
    a = np.asarray(a, dtype=np.float64)
    theta = np.asarray(theta, dtype=np.float64)
    t1 = theta - eps * (a @ theta)
    t2 = t1 + eps * (a @ t1)
    return t2 - theta
