"""Discovery and dispatch: which plugins exist, and a typed facade over pluggy.

stevedore decides *which* plugins exist and which are enabled (a
:class:`stevedore.named.NamedExtensionManager` imports only the enabled
names, so disabled code never loads); pluggy decides *what* they can do.
:func:`build_plugin_manager` is the one place that does discovery; the rest
of heatplug calls the small methods of :class:`PluginManager`, never
``pm.hook`` directly.
"""

import importlib.metadata
import logging

import pluggy
from stevedore import named

from heatplug import auth
from heatplug import errors
from heatplug import hooks

LOG = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "heatplug.plugins"


class PluginUnavailable(errors.HeatplugError):
    """Raised by a plugin at import time when it cannot run here.

    (A missing optional dependency, say.)  The plugin is reported as
    unavailable with a warning, not as a failure; any other exception at
    import is a :class:`heatplug.errors.PluginLoadError`.
    """


def new_pluggy_manager():
    """A bare :class:`pluggy.PluginManager` with heatplug's hook specs."""
    pm = pluggy.PluginManager(hooks.PROJECT)
    pm.add_hookspecs(hooks)
    return pm


def discover():
    """Names of every installed plugin in ``heatplug.plugins`` (none imported).

    stevedore keeps an on-disk cache of entry points keyed on the mtimes of
    ``sys.path`` entries, packed as 32-bit floats: two states of a
    site-packages less than about two minutes apart hash alike, so a plugin
    installed or removed just after a run can stay invisible (or linger).
    When stevedore's view disagrees with :mod:`importlib.metadata`, heatplug
    says so and hands stevedore the fresh list through its class-level
    ``ENTRY_POINT_CACHE``.
    """
    mgr = named.NamedExtensionManager(ENTRY_POINT_GROUP, names=[])
    cached = {(ep.name, ep.value) for ep in mgr.list_entry_points()}
    fresh = list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
    if cached != {(ep.name, ep.value) for ep in fresh}:
        LOG.info("stevedore's entry-point cache is stale for %s; using "
                 "the installed entry points", ENTRY_POINT_GROUP)
        named.NamedExtensionManager.ENTRY_POINT_CACHE[ENTRY_POINT_GROUP] = \
            fresh
    return sorted({ep.name for ep in fresh})


def select(installed, enabled, disabled):
    """Return the enabled plugin names, in installed order.

    :raises ConfigError: a name in ``enabled`` or ``disabled`` is not
        installed.
    """
    unknown = sorted((set(enabled) | set(disabled)) - set(installed))
    if unknown:
        raise errors.ConfigError(
            "unknown heatplug plugin(s) %s; installed: %s"
            % (", ".join(unknown), ", ".join(installed) or "none"))
    chosen = set(enabled) if enabled else set(installed)
    return [n for n in installed if n in chosen and n not in set(disabled)]


class PluginManager:
    """The typed facade over pluggy that the core and the sinks use.

    :ivar installed: every plugin name stevedore found.
    :ivar enabled: the names enabled by the configuration.
    :ivar load_errors: ``{name: PluginLoadError}`` for enabled plugins that
        failed to import or register; they are reported on every poll.
    :ivar unavailable: ``{name: reason}`` for plugins that said they cannot
        run here.
    """

    def __init__(self, pm, installed=(), enabled=()):
        self._pm = pm
        self.installed = list(installed)
        self.enabled = list(enabled)
        self.load_errors = {}
        self.unavailable = {}
        self._tables = {}

    # -- registration -----------------------------------------------------

    def register(self, plugin, name):
        """Register a plugin (a module or an instance) under ``name``."""
        self._pm.register(plugin, name=name)
        self._pm.check_pending()
        self._tables.pop(name, None)
        if self.is_family(name):
            self._check_tables(name)

    def unregister(self, name):
        self._pm.unregister(name=name)
        self._tables.pop(name, None)

    def _check_tables(self, name):
        tables = self.tables_of(name)
        owners = {t.name: owner for owner in self.families() if owner != name
                  for t in self.tables_of(owner)}
        for t in tables:
            if t.name in owners:
                raise errors.PluginLoadError(
                    name, "table %r is already declared by plugin %r"
                    % (t.name, owners[t.name]))

    # -- introspection ----------------------------------------------------

    def plugin(self, name):
        return self._pm.get_plugin(name)

    def names(self):
        return [n for n, _ in self._pm.list_name_plugin()]

    def is_family(self, name):
        plugin = self._pm.get_plugin(name)
        return any(impl.plugin is plugin
                   for impl in self._pm.hook.heatplug_tables.get_hookimpls())

    def families(self):
        """Names of the registered families, in registration order."""
        return [n for n in self.names() if self.is_family(n)]

    def tables_of(self, name):
        """The tables family ``name`` declares (cached)."""
        if name not in self._tables:
            declared = self._only("heatplug_tables", name)()
            self._tables[name] = [t for result in declared for t in result]
        return self._tables[name]

    def tables(self):
        """``{family: [Table, ...]}`` for every registered family."""
        return {name: self.tables_of(name) for name in self.families()}

    # -- lifecycle calls ----------------------------------------------------

    def _only(self, hookname, name):
        """A caller for ``hookname`` with only plugin ``name``'s own
        implementation (and every plugin's wrappers)."""
        target = self._pm.get_plugin(name)
        hook = getattr(self._pm.hook, hookname)
        others = {impl.plugin for impl in hook.get_hookimpls()
                  if impl.plugin is not target
                  and not (impl.wrapper or impl.hookwrapper)}
        return self._pm.subset_hook_caller(hookname, others)

    def auth(self, conf):
        """Run the auth stage; return a :class:`heatplug.auth.Connection`."""
        conn = self._pm.hook.heatplug_auth(conf=conf)
        if conn is None:
            raise errors.AuthError("no plugin built a Heat connection")
        return conn

    def fetch(self, name, ctx):
        """Run family ``name``'s fetch; return its raw records."""
        results = self._only("heatplug_fetch", name)(ctx=ctx)
        return results[0] if results else None

    def translate(self, name, raw):
        """Run family ``name``'s translate; return ``{table: [rows]}``."""
        results = self._only("heatplug_translate", name)(raw=raw)
        return results[0] if results else {}

    def sinks(self):
        """Names of the plugins that implement the publish hook."""
        return [impl.plugin_name
                for impl in self._pm.hook.heatplug_publish.get_hookimpls()
                if not (impl.wrapper or impl.hookwrapper)]

    def publish(self, name, result):
        """Hand ``result`` to sink ``name``."""
        self._only("heatplug_publish", name)(result=result)

    def write_action(self, conn, action, args):
        """Dispatch the reserved write-action hook; ``None`` if unhandled."""
        return self._pm.hook.heatplug_write_action(
            conn=conn, action=action, args=args)


def _load_failure(failures):
    def callback(manager, entrypoint, exc):
        failures[entrypoint.name] = exc
    return callback


def build_plugin_manager(conf, pm=None):
    """Discover, import and register the enabled plugins.

    This is the only function that does discovery.  Built-in families are
    loaded exactly like a third party's: from the ``heatplug.plugins``
    entry points.

    :param conf: the parsed :class:`oslo_config.cfg.ConfigOpts`.
    :param pm: a pluggy manager to use (tests pass a fresh one).
    :raises ConfigError: an enabled or disabled name is not installed.
    """
    pm = pm or new_pluggy_manager()
    installed = discover()
    enabled = select(installed, conf.heatplug.enabled_plugins,
                     conf.heatplug.disabled_plugins)
    manager = PluginManager(pm, installed, enabled)
    pm.register(auth, name="heatplug.auth")
    failures = {}
    extensions = named.NamedExtensionManager(
        ENTRY_POINT_GROUP, names=enabled, name_order=True,
        on_load_failure_callback=_load_failure(failures),
        on_missing_entrypoints_callback=lambda names: None)
    for ext in extensions:
        try:
            manager.register(ext.plugin, name=ext.name)
        except errors.PluginLoadError as exc:
            failures[ext.name] = exc
        except Exception as exc:  # a bad hookimpl: pluggy's own errors
            failures[ext.name] = exc
            if manager.plugin(ext.name) is not None:
                manager.unregister(ext.name)
    for name, exc in failures.items():
        if isinstance(exc, PluginUnavailable):
            LOG.warning("plugin %s cannot run here: %s", name, exc)
            manager.unavailable[name] = str(exc)
            continue
        if not isinstance(exc, errors.PluginLoadError):
            err = errors.PluginLoadError(
                name, "%s: %s" % (type(exc).__name__, exc))
            err.__cause__ = exc
            exc = err
        LOG.error("%s", exc)
        manager.load_errors[name] = exc
    return manager
