"""The plugin manager: loads every plugin (first-party included) from the ``auditkit`` entry-point group.

A plugin that fails to import, implements a misspelled hook, returns a wrong record or a duplicate name does not
break the tool: the problem is kept on its :class:`PluginInfo` and shown by ``auditkit plugins``. Records are
collected lazily, per kind, the first time a kind is asked for, with each plugin's hook called in isolation.

Isolation covers every ``BaseException`` a plugin raises (``SystemExit``, ``KeyboardInterrupt``, ``GeneratorExit``
...) except the user's own Ctrl-C: while plugin code runs, a SIGINT handler marks a real interrupt, and only that
one propagates. What a plugin prints to stdout while it is imported or registers records is captured (kept on its
info, shown by ``auditkit plugins``) so it never mixes into ``--format json`` output. A recipe's regular
expressions are compiled when it is registered; an invalid one makes the recipe a plugin error, never a crash later.

A hook is a function marked ``@auditkit.hookimpl``, or an unmarked function whose name is a hook specification. A
marked function with an unknown name, or an unmarked ``auditkit_*`` function whose name is close to a hook's, is a
misspelled hook (the plugin is left out, the closest name suggested); any other ``auditkit_*`` attribute (a helper,
a submodule, ``import auditkit_mypkg.sub``) is not a hook.

Switches: ``AUDITKIT_DISABLE_PLUGINS=a,b`` turns plugins off; ``AUDITKIT_LOAD_PLUGINS=a,b`` loads only these
third-party plugins (empty: none; auditkit's own always load); ``AUDITKIT_PLUGINS_DIR=DIR[:DIR]`` (or
``auditkit --plugins-dir DIR``) loads every ``DIR/*.py`` as a one-off plugin named after the file. A record with
``replaces="NAME"`` takes the name NAME (and its aliases) over from the record registered before it, on purpose;
both plugins show it in ``auditkit plugins``.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import io
import os
import re
import signal
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError, unknown_name
from .records import NAME_PATTERN, RECORD_KINDS

ENTRY_POINT_GROUP = "auditkit"
DISABLE_ENV = "AUDITKIT_DISABLE_PLUGINS"
LOAD_ENV = "AUDITKIT_LOAD_PLUGINS"          # allowlist of third-party plugins; set but empty: none
PLUGINS_DIR_ENV = "AUDITKIT_PLUGINS_DIR"    # folders of one-off .py plugins, os.pathsep-separated
QUIET_ENV = "AUDITKIT_QUIET_PLUGINS"        # 1: no stderr line naming broken plugins
DISTRIBUTION = "leaderboard-auditkit"       # auditkit's own distribution: its plugins are first-party
HOOK_NAMES = frozenset(n for n in dir(hookspecs) if n.startswith("auditkit_"))


@dataclass
class PluginInfo:
    """What ``auditkit plugins`` shows for one plugin."""

    name: str
    module: str = ""
    distribution: str | None = None
    version: str | None = None
    provides: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    disabled: bool = False
    commands: list[str] = field(default_factory=list)
    output: str = ""  # what the plugin printed to stdout while loading (captured, never on the real stdout)
    disabled_reason: str = ""
    replaces: list[str] = field(default_factory=list)   # records this plugin took over ("aggregator 'harmonic' ...")
    replaced: list[str] = field(default_factory=list)   # its records another plugin took over

    @property
    def ok(self) -> bool:
        return not self.errors and not self.disabled

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "module": self.module, "distribution": self.distribution,
                "version": self.version, "disabled": self.disabled, "provides": self.provides,
                "commands": self.commands, "errors": self.errors, "output": self.output,
                "disabled_reason": self.disabled_reason, "replaces": self.replaces, "replaced": self.replaced}


def disabled_names() -> set[str]:
    return {n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()}


def allowed_names() -> set[str] | None:
    """The third-party plugins AUDITKIT_LOAD_PLUGINS allows (None when it is not set; empty set: none)."""
    if LOAD_ENV not in os.environ:
        return None
    return {n.strip() for n in os.environ[LOAD_ENV].split(",") if n.strip()}


def _first_party(ep) -> bool:
    return ep.dist is not None and ep.dist.name == DISTRIBUTION


class _PluginManager(pluggy.PluginManager):
    """pluggy's manager, plus: an unmarked plain function whose name is a hook specification is a hook too."""

    def parse_hookimpl_opts(self, plugin, name):
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name in HOOK_NAMES and inspect.isfunction(inspect.getattr_static(plugin, name, None)):
            return {}
        return opts


class _UserInterrupt:
    """While plugin code runs: remember whether a KeyboardInterrupt came from a real SIGINT (the user) or was
    raised by the plugin itself."""

    def __init__(self):
        self.hit = False

    def __enter__(self):
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            def handler(signum, frame):
                self.hit = True
                raise KeyboardInterrupt
            self.previous = signal.signal(signal.SIGINT, handler)
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False


@contextlib.contextmanager
def _plugin_code(info: "PluginInfo", what: str):
    """Run plugin code: stdout captured onto ``info.output``; any BaseException but the user's Ctrl-C is recorded
    on ``info.errors`` as ``"{what} raised TYPE: message"``; the block's caller sees ``info.errors`` grow."""
    buf = io.StringIO()
    guard = _UserInterrupt()
    try:
        with guard, contextlib.redirect_stdout(buf):
            yield
    except BaseException as exc:  # noqa: B036 - a plugin's SystemExit/KeyboardInterrupt must not end the tool
        if guard.hit:
            raise
        info.errors.append(f"{what} raised {type(exc).__name__}: {exc}")
    finally:
        if buf.getvalue():
            info.output += buf.getvalue()


class Registry:
    """Loads plugins and hands out their records by kind and name."""

    def __init__(self, load_entry_points: bool = True):
        self.unknown_disabled: list[str] = []  # names in AUDITKIT_DISABLE_PLUGINS that match no plugin
        self.pm = _PluginManager("auditkit")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self._records: dict[str, dict[str, Any]] = {}
        self._providers: dict[tuple[str, str], str] = {}
        if load_entry_points:
            self._load_entry_points()

    # -- loading -------------------------------------------------------------------------------------------
    def _load_entry_points(self) -> None:
        from importlib.metadata import entry_points

        off = disabled_names()
        allow = allowed_names()
        eps = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (not _first_party(ep), ep.name))
        self.unknown_disabled = sorted(off - {ep.name for ep in eps})
        installed = sorted({ep.name for ep in eps})
        for name in self.unknown_disabled:  # listed by `auditkit plugins` with the reason, and said on stderr once
            hint = difflib.get_close_matches(name, installed, n=1)
            msg = (f"named in {DISABLE_ENV}, but no installed plugin has this name"
                   + (f"; did you mean {hint[0]!r}?" if hint else f"; installed: {', '.join(installed)}"))
            self.plugins[name] = PluginInfo(name=name, module="-", errors=[msg])
            print(f"auditkit: warning: {name!r} {msg}", file=sys.stderr)
        for ep in eps:
            dist = ep.dist
            info = PluginInfo(name=ep.name, module=ep.value,
                              distribution=dist.name if dist else None, version=dist.version if dist else None)
            if ep.name in self.plugins:
                info.errors.append(f"duplicate plugin name {ep.name!r}: already provided by "
                                   f"{self.plugins[ep.name].distribution or self.plugins[ep.name].module}; ignored")
                self.plugins[f"{ep.name} ({info.distribution})"] = info
                continue
            self.plugins[ep.name] = info
            if ep.name in off:
                info.disabled, info.disabled_reason = True, f"in {DISABLE_ENV}"
                continue
            if allow is not None and ep.name not in allow and not _first_party(ep):
                info.disabled, info.disabled_reason = True, f"not in {LOAD_ENV}"
                continue
            loaded = []
            n_errors = len(info.errors)
            with _plugin_code(info, f"importing {ep.value}"):
                loaded.append(ep.load())
            if len(info.errors) > n_errors or not loaded:
                info.errors[n_errors:] = [e.replace(f"importing {ep.value} raised", f"failed to import {ep.value}:")
                                          for e in info.errors[n_errors:]]
                continue
            self._register(loaded[0], info)
        self._load_plugins_dirs(off, allow)
        if allow:
            for name in sorted(allow - set(self.plugins)):
                print(f"auditkit: warning: {name!r} is named in {LOAD_ENV}, but no installed plugin has this name",
                      file=sys.stderr)
        self._check_hook_names()

    def _load_plugins_dirs(self, off: set[str], allow: set[str] | None) -> None:
        """Every ``*.py`` (not starting with ``_``) in each AUDITKIT_PLUGINS_DIR folder, in name order, as a plugin
        named after the file; its provenance is the file and its sha256."""
        import hashlib
        import importlib.util
        from pathlib import Path

        for folder in [d for d in os.environ.get(PLUGINS_DIR_ENV, "").split(os.pathsep) if d]:
            if not Path(folder).is_dir():
                self.plugins[folder] = PluginInfo(name=folder, module=folder, errors=[
                    f"{PLUGINS_DIR_ENV} (or --plugins-dir) names {folder!r}, which is not a directory"])
                continue
            for path in sorted(Path(folder).glob("*.py")):
                if path.name.startswith("_"):
                    continue
                name = path.stem
                digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
                info = PluginInfo(name=name, module=str(path), distribution=f"file:{path}",
                                  version=f"sha256:{digest}")
                if name in self.plugins:
                    info.errors.append(f"duplicate plugin name {name!r}: already provided by "
                                       f"{self.plugins[name].distribution or self.plugins[name].module}; ignored")
                    self.plugins[f"{name} ({path})"] = info
                    continue
                self.plugins[name] = info
                if name in off:
                    info.disabled, info.disabled_reason = True, f"in {DISABLE_ENV}"
                    continue
                if allow is not None and name not in allow:
                    info.disabled, info.disabled_reason = True, f"not in {LOAD_ENV}"
                    continue
                loaded = []
                with _plugin_code(info, f"importing {path}"):
                    spec = importlib.util.spec_from_file_location(f"auditkit_plugins_dir.{name}", path)
                    module = importlib.util.module_from_spec(spec)
                    sys.modules[spec.name] = module
                    spec.loader.exec_module(module)
                    loaded.append(module)
                if info.errors or not loaded:
                    sys.modules.pop(f"auditkit_plugins_dir.{name}", None)
                    info.errors = [e.replace(f"importing {path} raised", f"failed to import {path}:")
                                   for e in info.errors]
                    continue
                self._register(loaded[0], info)

    def register(self, obj: Any, name: str, *, distribution: str | None = None) -> PluginInfo:
        """Register a plugin object (module or instance) by hand, e.g. from a test or a notebook."""
        info = PluginInfo(name=name, module=getattr(obj, "__name__", type(obj).__name__), distribution=distribution)
        self.plugins[name] = info
        if name in disabled_names():
            info.disabled = True
            return info
        self._register(obj, info)
        self._check_hook_names()
        self._records.clear()
        self._providers.clear()
        return info

    def _register(self, obj: Any, info: PluginInfo) -> None:
        try:
            self.pm.register(obj, name=info.name)
        except Exception as exc:  # pluggy refuses wrong signatures
            info.errors.append(f"cannot register: {exc}")

    def _check_hook_names(self) -> None:
        """Catch misspelled hooks (a function marked ``@auditkit.hookimpl`` whose name is no hook, or an unmarked
        ``auditkit_*`` function whose name is close to a hook's), then let pluggy confirm with check_pending. Other
        ``auditkit_*`` attributes (helpers, submodules, constants) are not hooks."""
        known = sorted(HOOK_NAMES)
        for plugin_name, plugin in list(self.pm.list_name_plugin()):
            for attr in dir(plugin):
                if not attr.startswith("auditkit_") or attr in known:
                    continue
                value = inspect.getattr_static(plugin, attr, None)
                if not (inspect.isfunction(value) or inspect.ismethod(value)):
                    continue
                marked = hasattr(value, "auditkit_impl")
                if marked or difflib.get_close_matches(attr, known, n=1, cutoff=0.85):
                    hint = difflib.get_close_matches(attr, known, n=1)
                    msg = f"implements unknown hook {attr!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                    info = self.plugins.get(plugin_name)
                    if info is not None and msg not in info.errors:
                        info.errors.append(msg)
                    if info is not None:
                        self.pm.unregister(name=plugin_name)
        # @hookimpl on a name that matches no spec (e.g. without the auditkit_ prefix): pluggy's check_pending()
        # would raise and break every command; report it on the plugin and leave that plugin out instead
        for hook_name in [n for n in vars(self.pm.hook) if not n.startswith("_")]:
            caller = getattr(self.pm.hook, hook_name)
            if caller.has_spec():
                continue
            for impl in caller.get_hookimpls():
                if getattr(impl, "optionalhook", False):
                    continue
                hint = difflib.get_close_matches(f"auditkit_{hook_name}", known, n=1) or \
                    difflib.get_close_matches(hook_name, known, n=1)
                info = self.plugins.setdefault(impl.plugin_name, PluginInfo(name=impl.plugin_name))
                info.errors.append(f"marks {hook_name!r} with @auditkit.hookimpl, but auditkit has no such hook"
                                   + (f"; did you mean {hint[0]!r}?" if hint else ""))
                if self.pm.get_plugin(impl.plugin_name) is not None:
                    self.pm.unregister(name=impl.plugin_name)
        self.pm.check_pending()

    # -- records -------------------------------------------------------------------------------------------
    def records(self, kind: str) -> dict[str, Any]:
        """All valid records of ``kind`` ("readers", "recipes", ...), by name, first provider wins."""
        if kind not in RECORD_KINDS:
            raise unknown_name("record kind", kind, RECORD_KINDS)
        if kind not in self._records:
            self._records[kind] = self._collect(kind)
        return self._records[kind]

    def _collect(self, kind: str) -> dict[str, Any]:
        record_type = RECORD_KINDS[kind]
        hook = getattr(self.pm.hook, f"auditkit_register_{kind}")
        found: dict[str, Any] = {}
        # get_hookimpls() lists implementations in registration order (pluggy *calls* them in reverse):
        # iterate as listed so the first registered plugin (first-party ones load first) wins a name
        for impl in hook.get_hookimpls():
            info = self.plugins.setdefault(impl.plugin_name, PluginInfo(name=impl.plugin_name))
            got, n_errors = [], len(info.errors)
            with _plugin_code(info, f"auditkit_register_{kind}"):
                got.append(impl.function() or [])
                if not (isinstance(got[0], (str, bytes)) or hasattr(got[0], "name")
                        or not hasattr(got[0], "__iter__")):
                    got[0] = list(got[0])  # a generator that raises part-way is caught here too
            if len(info.errors) > n_errors:
                continue
            if not isinstance(got[0], list):
                if got:
                    info.errors.append(f"auditkit_register_{kind} returned {type(got[0]).__name__} "
                                       f"{got[0]!r:.60}; return a list of auditkit.{record_type.__name__} records")
                continue
            result = got[0]
            for record in result:
                problem = _record_problem(record, record_type)
                if problem:
                    info.errors.append(f"auditkit_register_{kind}: {problem}")
                    continue
                names = (record.name, *getattr(record, "aliases", ()))
                taken_over = self._take_over(kind, record, found, info, impl.plugin_name)
                if taken_over is None:
                    continue
                names = tuple(dict.fromkeys((*names, *taken_over)))
                clash = next((n for n in names if n in found and n not in taken_over), None)
                if clash is not None:
                    info.errors.append(f"duplicate {kind[:-1]} name {clash!r}: already registered by plugin "
                                       f"{self._providers[(kind, clash)]!r}; this one (from {impl.plugin_name!r}) "
                                       "is ignored")
                    continue
                for n in names:
                    found[n] = record
                    self._providers[(kind, n)] = impl.plugin_name
                info.provides.setdefault(kind, []).append(record.name)
        return found

    def _take_over(self, kind: str, record: Any, found: dict[str, Any], info: PluginInfo, plugin: str
                   ) -> list[str] | None:
        """For a record with ``replaces="NAME"``: the names (NAME and its aliases) it takes over from the record
        registered before it, removed from ``found``; [] when it replaces nothing; None (with an error on
        ``info``) when NAME is unknown or was already replaced by another plugin."""
        target_name = getattr(record, "replaces", None)
        if target_name is None:
            return []
        singular = kind[:-1].replace("_", " ")
        target = found.get(target_name)
        if target is None:
            hint = difflib.get_close_matches(str(target_name), list(found), n=1)
            info.errors.append(f"auditkit_register_{kind}: {singular} {record.name!r} replaces {target_name!r}, but no "
                               f"{singular} has that name" + (f"; did you mean {hint[0]!r}?" if hint else
                                                              " (is the plugin that provides it disabled?)"))
            return None
        owner = self._providers[(kind, target_name)]
        if getattr(target, "replaces", None) is not None:
            info.errors.append(f"duplicate {singular} name {target_name!r}: already replaced by plugin {owner!r}; "
                               f"this one (from {plugin!r}) is ignored")
            return None
        names = [n for n, r in found.items() if r is target]
        for n in names:
            del found[n]
        mine = f"{singular} {target_name!r} of plugin {owner!r}"
        if mine not in info.replaces:
            info.replaces.append(mine)
        theirs = f"{singular} {target_name!r} by plugin {plugin!r}"
        owner_info = self.plugins.get(owner)
        if owner_info is not None and theirs not in owner_info.replaced:
            owner_info.replaced.append(theirs)
        return names

    def get(self, kind: str, name: str) -> Any:
        """The record of ``kind`` called ``name`` or a UsageError listing every available name."""
        recs = self.records(kind)
        key = name.strip().lower()
        if key in recs:
            return recs[key]
        raise unknown_name(kind[:-1], name, {r.name for r in recs.values()})

    def provider(self, kind: str, name: str) -> str | None:
        self.records(kind)
        return self._providers.get((kind, name))

    def add_commands(self, cli) -> None:
        """Let every plugin add its subcommands; a plugin whose hook fails is marked, the others still load."""
        owners = getattr(cli, "_auditkit_command_owners", {name: "auditkit (core)" for name in cli.commands})
        for impl in self.pm.hook.auditkit_register_commands.get_hookimpls():
            info = self.plugins.setdefault(impl.plugin_name, PluginInfo(name=impl.plugin_name))
            before = dict(cli.commands)
            with _plugin_code(info, "auditkit_register_commands"):
                impl.function(cli=cli)
            for name, cmd in list(cli.commands.items()):
                if name in before and before[name] is not cmd:
                    cli.commands[name] = before[name]  # keep the first provider's command
                    info.errors.append(f"duplicate command name {name!r}: already provided by {owners[name]}; "
                                       f"this one (from {impl.plugin_name!r}) is ignored")
            info.commands = sorted(set(cli.commands) - set(before))
            owners.update({name: f"plugin {impl.plugin_name!r}" for name in info.commands})
        cli._auditkit_command_owners = owners

    def collect_all(self) -> None:
        for kind in RECORD_KINDS:
            self.records(kind)


def _record_problem(record: Any, record_type: type) -> str | None:
    if not isinstance(record, record_type):
        return (f"returned {type(record).__name__} {record!r:.60}, expected an auditkit.{record_type.__name__} "
                "record")
    if not isinstance(record.name, str) or not NAME_PATTERN.match(record.name):
        return (f"invalid name {record.name!r}: use lowercase letters, digits, '-', '_' or '.', starting with "
                "a letter")
    for attr in PATTERN_FIELDS.get(type(record).__name__, ()):
        value = getattr(record, attr, None)
        for pattern in ([value] if isinstance(value, str) else list(value or ())):
            try:
                re.compile(pattern, re.I)
            except (re.error, TypeError) as exc:
                return (f"{type(record).__name__.lower()} {record.name!r}: {attr} {pattern!r} is not a valid regular "
                        f"expression ({exc}); the {type(record).__name__.lower()} is not registered")
    return None


# record fields that hold regular expressions, compiled when the record is registered
PATTERN_FIELDS = {"Recipe": ("published_score", "reference")}


_REGISTRY: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, loaded on first use."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = Registry()
    return _REGISTRY


def reset_registry() -> None:
    """Forget the loaded registry (tests, or after installing a plugin in a running notebook)."""
    global _REGISTRY
    _REGISTRY = None




__all__ = ["Registry", "PluginInfo", "get_registry", "reset_registry", "PluginError", "DISTRIBUTION"]
