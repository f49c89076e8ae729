"""Rule specifications: an aggregator name with its parameters bound and validated, written ``NAME[:KEY=VALUE,...]``.

One syntax on every command that takes a rule (``--mean power:p=-2 --mean power:p=2``, comma lists allowed:
``--mean arithmetic,power:p=-2,geometric``). A token ``KEY=VALUE`` after a comma belongs to the rule before it, so
``power:p=2,harmonic`` is two rules. Parameters are declared on the record (:class:`auditkit.Parameter`) and
validated here, once: unknown names are refused with the allowed ones, non-finite or out-of-range values with the
range, a missing required parameter with its help.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .errors import UsageError


@dataclass(frozen=True)
class RuleSpec:
    """An aggregator (or rating model) name and its bound parameters; ``label`` shows the parameters."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if not self.params:
            return self.name
        return f"{self.name}({', '.join(f'{k}={_fmt(v)}' for k, v in self.params.items())})"

    def __str__(self) -> str:
        return self.label


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def split_rule_tokens(values: Iterable[str] | str) -> list[str]:
    """``["arithmetic,power:p=-2", "geometric"]`` -> ``["arithmetic", "power:p=-2", "geometric"]``; a ``KEY=VALUE``
    token after a comma joins the rule before it (``power:p=1,q=2``)."""
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for value in values:
        for token in (t.strip() for t in str(value).split(",")):
            if not token:
                continue
            if "=" in token and ":" not in token and out and ":" in out[-1]:
                out[-1] = f"{out[-1]},{token}"
            elif "=" in token and ":" not in token:
                raise UsageError(f"rule parameter {token!r} has no rule before it; write NAME:{token}, "
                                 "e.g. --mean power:p=-2")
            else:
                out.append(token)
    return out


def parse_rule(text: str) -> tuple[str, dict[str, str]]:
    """``"power:p=-2"`` -> ``("power", {"p": "-2"})`` (values still text; :func:`bind` validates them)."""
    name, _, rest = text.partition(":")
    name = name.strip().lower()
    if not name:
        raise UsageError(f"empty rule name in {text!r}; write NAME or NAME:KEY=VALUE")
    params: dict[str, str] = {}
    for item in (i.strip() for i in rest.split(",") if i.strip()):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise UsageError(f"rule {name!r}: parameter {item!r} is not KEY=VALUE (e.g. {name}:p=-2)")
        if key.strip() in params:
            raise UsageError(f"rule {name!r}: parameter {key.strip()!r} is given twice")
        params[key.strip()] = value.strip()
    return name, params


def bind(record: Any, params: Mapping[str, Any] | None = None, *, kind: str = "aggregator") -> RuleSpec:
    """Validate ``params`` against ``record.params`` (declared :class:`auditkit.Parameter` s) and fill defaults."""
    declared = {p.name: p for p in getattr(record, "params", ())}
    given = {k: v for k, v in (params or {}).items() if v is not None}
    unknown = [k for k in given if k not in declared]
    if unknown:
        allowed = ", ".join(declared) if declared else "none"
        raise UsageError(f"{kind} {record.name!r} takes no parameter {unknown[0]!r}; its parameters: {allowed}")
    bound: dict[str, Any] = {}
    for name, p in declared.items():
        if name in given:
            try:
                bound[name] = p.validate(given[name], f"{kind} {record.name!r}")
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        elif p.required:
            raise UsageError(f"{kind} {record.name!r} needs parameter {name!r} ({p.help or p.range_text()}); "
                             f"write --mean {record.name}:{name}=VALUE")
        else:
            bound[name] = p.default
    return RuleSpec(record.name, bound)


def resolve_rules(rules: Iterable[Any] | str, *, shorthand: Mapping[str, Mapping[str, Any]] | None = None,
                  kind: str = "aggregators") -> list[RuleSpec]:
    """Rule texts (or RuleSpecs) -> validated RuleSpecs, aliases resolved to the record's name.

    ``shorthand`` maps a rule name to parameters given by a shorthand option (``--p`` for ``power``); they fill
    parameters the text leaves unset. The same rule may appear twice only with different parameters.
    """
    from .registry import get_registry

    registry = get_registry()
    texts: list[Any] = []
    for r in ([rules] if isinstance(rules, (str, RuleSpec)) else list(rules)):
        texts.extend([r] if isinstance(r, RuleSpec) else split_rule_tokens(r))
    specs: list[RuleSpec] = []
    for item in texts:
        name, given = (item.name, dict(item.params)) if isinstance(item, RuleSpec) else parse_rule(item)
        record = registry.get(kind, name)
        for key, value in (shorthand or {}).get(record.name, {}).items():
            given.setdefault(key, value)
        spec = bind(record, given, kind=kind[:-1].replace("_", " "))
        if spec in specs:
            raise UsageError(f"rule {spec.label} is given twice; give it once, or with different parameters")
        specs.append(spec)
    if not specs:
        raise UsageError("no rule given; e.g. --mean arithmetic")
    return specs
