"""Every exception auditkit raises on purpose, in one place.

::

    AuditkitError                 base; the CLI prints it and exits with code 2
    ├── InputError                a file or value the user gave cannot be used
    │   ├── ParseError            a cell, line or header that cannot be read (names file, line, column, value)
    │   └── DomainError           a value outside what the operation accepts (e.g. a negative cell for a geometric mean)
    ├── UsageError                options that do not fit together, unknown names (lists the allowed ones)
    ├── PluginError               a plugin that is broken: import error, duplicate name, wrong record type, hook typo
    └── MissingDependencyError    an optional dependency (torch, matplotlib, POT) is not installed

Each message says what is wrong, where, and how to fix it.
"""

from __future__ import annotations


class AuditkitError(Exception):
    """Base class of every error auditkit raises deliberately."""

    exit_code = 2


class InputError(AuditkitError):
    """A file or value given by the user cannot be used."""


class ParseError(InputError):
    """A cell, a line or a header that cannot be read.

    Parameters name the place so the message can point at it; all are optional.
    """

    def __init__(self, problem: str, *, source: str | None = None, line: int | None = None,
                 column: str | None = None, value: str | None = None, hint: str | None = None):
        self.problem, self.source, self.line = problem, source, line
        self.column, self.value, self.hint = column, value, hint
        where = []
        if source is not None:
            where.append(str(source))
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        text = (": ".join([", ".join(where), problem]) if where else problem)
        if value is not None:
            text += f" (value {value!r})"
        if hint:
            text += f". {hint}"
        super().__init__(text)


class DomainError(InputError):
    """A value outside the domain of an operation (negative cell for a geometric mean, ...)."""


class UsageError(AuditkitError):
    """Options that do not fit together, or a name that is not known."""


def unknown_name(kind: str, name: str, allowed) -> UsageError:
    """The one way to say "no such X": names the bad value and every allowed one."""
    allowed = sorted(allowed)
    return UsageError(f"unknown {kind} {name!r}; choose one of: {', '.join(allowed) or '(none registered)'}")


class PluginError(AuditkitError):
    """A plugin is broken: it failed to import, registered a duplicate name or returned a wrong record."""


class MissingDependencyError(AuditkitError):
    """An optional dependency is not installed."""

    def __init__(self, package: str, feature: str, extra: str | None = None):
        install = f"pip install 'leaderboard-auditkit[{extra}]'" if extra else f"pip install {package}"
        super().__init__(f"{feature} needs the optional package {package!r}, which is not installed; "
                         f"install it with: {install}")


def require(module: str, feature: str, extra: str | None = None):
    """Import an optional module or raise MissingDependencyError naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(module.split(".")[0], feature, extra) from exc
