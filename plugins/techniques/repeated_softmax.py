"""Repeated softmax converges to the uniform distribution (Su's Zhihu answer on what softmax does).

With a = max - min of the vector, one softmax step maps everything into [0, 1] and then a_{t+1} <= 2 sinh(a_t) / n,
so the spread contracts to 0 and the fixed point is (1/n, ..., 1/n).
"""

from __future__ import annotations

import numpy as np

__all__ = ["softmax", "repeated_softmax", "max_deviation_from_uniform"]


def softmax(x, axis: int = -1):
    x = np.asarray(x, dtype=np.float64)
    z = np.exp(x - x.max(axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


def repeated_softmax(x, steps: int):
    """Apply softmax ``steps`` times along the last axis."""
    y = np.asarray(x, dtype=np.float64)
    for _ in range(int(steps)):
        y = softmax(y)
    return y


def max_deviation_from_uniform(x, steps: int) -> float:
    y = repeated_softmax(x, steps)
    return float(np.max(np.abs(y - 1.0 / y.shape[-1])))
