"""A one-off plugin: no package, no pyproject. `auditkit --plugins-dir one_off ...` loads every .py file there.

The mean of each system's k best tasks (k=2 unless the command line says otherwise):
`--mean best-k:k=3`.
"""

import auditkit


def best_k(values, *, xp, weights, k=2):
    """The unweighted mean of each row's ``k`` best task scores (all of them when there are fewer)."""
    k = min(int(k), values.shape[1])
    ordered = xp.sort(values, axis=1)
    return xp.mean(ordered[:, values.shape[1] - k:], axis=1)


@auditkit.hookimpl
def auditkit_register_aggregators():
    return [auditkit.Aggregator(
        "best-k", best_k, "mean of each system's k best tasks (ignores task weights)",
        params=(auditkit.Parameter("k", 2, "how many tasks count", type=int, low=1),))]
