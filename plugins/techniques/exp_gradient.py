"""Exponentiated gradient (Kivinen & Warmuth 1997): mirror descent with the negative entropy.

On the simplex ``w_{t+1} = w_t * exp(-eta g) / Z``, which is gradient descent on the logits:
``softmax(log w - eta g)``. For positive parameters (no simplex) ``theta <- theta * exp(-eta g)``.
"""

from __future__ import annotations

import numpy as np

from auditkit.errors import DomainError

__all__ = ["eg_step", "eg_step_positive"]


def eg_step(w, g, eta: float):
    """One exponentiated-gradient step on the probability simplex."""
    w = np.asarray(w, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    if np.any(w < 0) or not np.isclose(w.sum(), 1.0):
        raise DomainError(f"eg_step needs a point of the simplex (non-negative, sum 1), got {w.tolist()}")
    z = np.log(w) - eta * g
    z = np.exp(z - z.max())
    return z / z.sum()


def eg_step_positive(theta, g, eta: float):
    """Unnormalized EG for positive parameters: ``theta * exp(-eta g)``."""
    return np.asarray(theta, dtype=np.float64) * np.exp(-eta * np.asarray(g, dtype=np.float64))
