"""JSON Schemas (draft 2020-12) of auditkit's JSON documents, shipped with the package.

``report-1.json`` is the ``auditkit.report/1`` envelope every ``--format json`` writes; its ``summary`` is checked
against the command's own schema by its ``schema`` tag (``rerank-2.json`` for ``auditkit.rerank/2``,
``compare-1.json``, ``significance-1.json``) or shape (``audit-1.json``). ``jsonl-row-1.json`` is one line of
``--format jsonl``. :func:`validate` checks a document (needs the ``jsonschema`` package).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

BASE = "https://auditkit.dev/schemas/"
NAMES = ("report-1", "rerank-2", "compare-1", "significance-1", "audit-1", "jsonl-row-1")
BY_TAG = {"auditkit.report/1": "report-1", "auditkit.rerank/2": "rerank-2", "auditkit.compare/1": "compare-1",
          "auditkit.significance/1": "significance-1"}


@lru_cache(maxsize=None)
def load(name: str) -> dict[str, Any]:
    """The schema ``name`` (``"report-1"``, ...) as a dict."""
    if name not in NAMES:
        from auditkit.errors import unknown_name

        raise unknown_name("schema", name, NAMES)
    return json.loads(resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8"))


def validator(name: str = "report-1"):
    """A ``jsonschema`` Draft 2020-12 validator for ``name`` that resolves the other shipped schemas offline."""
    from auditkit.errors import require

    jsonschema = require("jsonschema", "validating auditkit JSON against its schemas", "test")
    from referencing import Registry, Resource

    registry = Registry().with_resources((BASE + f"{n}.json", Resource.from_contents(load(n))) for n in NAMES)
    cls = jsonschema.Draft202012Validator
    cls.check_schema(load(name))
    return cls(load(name), registry=registry, format_checker=cls.FORMAT_CHECKER)


def validate(document: Any, name: str | None = None) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``document`` matches its schema (by default: the envelope,
    which checks the summary by its tag)."""
    validator(name or BY_TAG.get(document.get("schema") if isinstance(document, dict) else None, "report-1")
              ).validate(document)
