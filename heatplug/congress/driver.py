"""heatplug as an OpenStack Congress datasource driver.

Congress finds drivers in the entry-point group
``congress.datasource.drivers`` and creates one per datasource as
``driver_class(name=<datasource name>, args=<config dict + ds_id>)``
(``congress/dse2/dse_node.py``).  heatplug registers
:class:`HeatplugDriver` there under the name ``heatplug`` (Congress's own
Heat driver is ``heat``)::

    congress.datasource.drivers =
        heatplug = heatplug.congress.driver:HeatplugDriver

The driver is *one heatplug sink among others*: it builds heatplug's
configuration from the datasource's config dict, discovers the enabled
plugins exactly as the command line does, registers a publish sink through
the :class:`heatplug.manager.PluginManager` facade and runs
:class:`heatplug.core.Poller`; every heatplug table becomes a Congress root
table, declared from the plugins' :class:`heatplug.schema.Table`
declarations.  Congress's own poll loop, ``poll_time``,
``request_refresh()``, ``lazy_tables``, publishing and status are inherited
unchanged from ``PollingDataSourceDriver``.

What differs from a plain Congress driver, and why (docs/congress.md has
the operator's view):

* **One heatplug poll per Congress poll.**  :meth:`update_from_datasource`
  runs the whole heatplug lifecycle once, then calls Congress's own
  ``update_from_datasource()``, which calls the update method of every
  registered table; each copies its table's rows from that poll.
* **A failing family.**  heatplug's core keeps a failed family's last good
  rows (marked stale) and runs every other family as usual, so
  :meth:`update_from_datasource` does not raise for it: Congress's
  ``poll()`` then publishes every table (the fresh ones and the unchanged
  stale ones) to the bus.  A table its family has never read (it failed on
  every poll so far: heatplug marks it *unknown*) has no rows to keep: it is
  left out of ``state`` (the driver drops the empty set Congress registers
  every table with), so ``poll()`` does not publish it and
  :meth:`get_row_data` says it was never read instead of answering no rows;
  it is published once its family succeeds.  (A subscriber's snapshot of
  it is still empty: Congress's snapshot of any table not in ``state``.)
  :meth:`poll` is Congress's ``poll()`` followed by one step: when that
  poll raised nothing but a heatplug family failed, ``last_error`` is set
  to a :class:`FamilyErrors` naming each failed family, its stale tables
  and those never read.  (Raising from ``update_from_datasource`` instead
  would make Congress skip publishing *every* table of that poll.)
* **lazy_tables.**  Every heatplug table is a root table, so any table may
  be lazy.  A family all of whose tables are lazy does not run: it is
  unregistered from the plugin manager and added to the ``[heatplug]
  disabled_plugins`` of this driver's configuration.  When Congress
  activates one of its tables (``get_snapshot()`` on a subscription), the
  family is enabled again and a poll runs.  A lazy table of a family that
  runs anyway is fetched but not published until it is activated.
* **execute()** goes only to heatplug's reserved write-action hook
  (:meth:`heatplug.core.Poller.execute`), never to a heatclient method by
  name; with no write plugin installed and enabled it is refused with
  :class:`WriteActionRefused`.
* **The schema depends on the configuration.**  ``get_schema()``,
  ``get_tablenames()`` and ``get_tablename()`` are Congress classmethods;
  here they answer for the instance's enabled plugins when called on an
  instance, and for every installed plugin when called on the class (what
  ``DseNode.get_driver_schema`` does).
* **No network in the constructor**: the connection is built on the first
  poll (and again after a poll that could not build it), so a datasource
  whose Heat or Keystone is down is still created and reports the error in
  ``get_status()``.  Configuration errors are raised at once.

Congress 11.0.0 needs the shims of :mod:`heatplug.congress._compat` on
Python 3.10+; this module applies them before it imports Congress.
"""

import functools
import logging
import threading
import types

from keystoneauth1 import loading as ks_loading

from heatplug.congress import _compat

_compat.apply()

# Congress is imported only after the shims are in place.
from congress.datasources import constants  # noqa: E402
from congress.datasources import datasource_driver  # noqa: E402
from congress import exception as congress_exc  # noqa: E402

import heatplug  # noqa: E402
from heatplug import core  # noqa: E402
from heatplug import errors  # noqa: E402
from heatplug import manager  # noqa: E402
from heatplug import opts  # noqa: E402
from heatplug import translation  # noqa: E402

LOG = logging.getLogger(__name__)

DRIVER_ID = "heatplug"

_BaseDriver = datasource_driver.DataSourceDriver

#: Every config key the driver accepts (all optional: the constructor
#: checks the combinations), with what it maps to.
CONFIG_HELP = {
    "auth_url": "Keystone URL; when set, password auth is used "
                "([heat] auth_type = password)",
    "username": "user name for password auth",
    "password": "password for password auth (secret)",
    "project_name": "project to scope the token to",
    "tenant_name": "deprecated alias of project_name (as in Congress)",
    "user_domain_name": "the user's domain (default: Default)",
    "project_domain_name": "the project's domain (default: Default)",
    "region": "region of the Heat endpoint in the catalog "
              "([heat] region_name)",
    "endpoint": "Heat endpoint URL ([heat] endpoint_override); without "
                "auth_url, Heat is used without authentication "
                "([heat] auth_type = none), e.g. a noauth Heat",
    "interface": "catalog interface: public, internal or admin "
                 "([heat] valid_interfaces; default public)",
    "cafile": "CA bundle to verify TLS certificates with",
    "certfile": "client certificate (PEM) for TLS",
    "keyfile": "client certificate key (PEM) for TLS",
    "insecure": "true to skip TLS verification (default false)",
    "timeout": "HTTP timeout in seconds (default 60)",
    "poll_time": "seconds between polls (Congress; default 10, 0: only "
                 "on request_refresh)",
    "lazy_tables": "tables not fetched until a policy needs them "
                   "(Congress; a list, or a comma-separated string)",
    "enabled_plugins": "heatplug plugins to enable (list or "
                       "comma-separated; empty: every installed plugin)",
    "disabled_plugins": "heatplug plugins to disable (list or "
                        "comma-separated)",
    "max_workers": "worker pool size for per-item Heat calls (default 8)",
    "full_refresh_every": "every this many polls, a full refresh that "
                          "re-verifies every cache (default 30; 0: only "
                          "the first poll)",
    "changed_stacks_only": "true to re-read resources and events only for "
                           "root stacks whose tree changed, between full "
                           "refreshes (default false)",
    "event_details": "false to skip the per-event detail calls (default "
                     "true)",
    "stall_timeout": "seconds a poll waits without progress before it "
                     "gives up on the families still running (their tables "
                     "stay stale; default 600, 0: for ever)",
    "write_actions_enabled": "true to let execute() reach heatplug's "
                             "write-action hook (default false)",
    "write_actions_allowed": "the actions execute() may carry out when "
                             "write_actions_enabled (list or "
                             "comma-separated)",
}

SECRET_KEYS = ("password",)

_LIST_KEYS = ("lazy_tables", "enabled_plugins", "disabled_plugins",
              "write_actions_allowed")
# Keys Congress itself adds to the config dict.
_CONGRESS_ADDED = ("ds_id",)
_PASSWORD_KEYS = ("auth_url", "username", "password", "project_name",
                  "user_domain_name", "project_domain_name")
_DEFAULT_DOMAIN = "Default"
_SINK_NAME = "heatplug.congress"


class ConfigError(congress_exc.BadConfig, errors.ConfigError):
    """The datasource's config dict is invalid (both a Congress
    ``BadConfig`` and a heatplug ``ConfigError``)."""


class WriteActionRefused(congress_exc.CongressException,
                         errors.WriteActionUnavailable):
    """``execute()`` was refused: no write plugin may or can carry it out."""

    code = 400


class FamilyErrors(errors.HeatplugError):
    """``last_error`` after a poll in which heatplug plugins failed.

    :ivar errors: ``{plugin: message}``.
    :ivar stale_tables: the tables of the failed plugins (the unknown ones
        included).
    :ivar unknown_tables: the stale tables never read, so not published.
    """

    def __init__(self, errs, stale_tables, unknown_tables=()):
        self.errors = dict(errs)
        self.stale_tables = list(stale_tables)
        self.unknown_tables = list(unknown_tables)
        failed = "; ".join("%s: %s" % (name, msg)
                           for name, msg in sorted(self.errors.items()))
        kept = [t for t in self.stale_tables
                if t not in self.unknown_tables]
        message = ("heatplug plugin(s) failed: %s (stale tables, which keep "
                   "their last good rows: %s"
                   % (failed, ", ".join(kept) or "none"))
        if self.unknown_tables:
            message += ("; tables never read, not published: %s"
                        % ", ".join(self.unknown_tables))
        super().__init__(message + ")")


# ---------------------------------------------------------------------------
# the config dict -> heatplug's oslo.config ConfigOpts
# ---------------------------------------------------------------------------

def _as_list(key, value):
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [str(v).strip() for v in value if str(v).strip()]
    raise ConfigError("%s must be a list or a comma-separated string, not "
                      "a %s" % (key, type(value).__name__))


def normalize_args(args):
    """A copy of Congress's ``args`` with list values as lists.

    :raises ConfigError: an unknown key (names only in the message).
    """
    args = dict(args or {})
    unknown = sorted(set(args) - set(CONFIG_HELP) - set(_CONGRESS_ADDED))
    if unknown:
        raise ConfigError("unknown heatplug datasource option(s): %s; "
                          "accepted: %s" % (", ".join(unknown),
                                            ", ".join(sorted(CONFIG_HELP))))
    for key in _LIST_KEYS:
        if key in args:
            args[key] = _as_list(key, args[key])
    return args


def _given(args, key):
    value = args.get(key)
    return value not in (None, "")


def build_conf(args):
    """Build heatplug's :class:`oslo_config.cfg.ConfigOpts` from ``args``.

    A fresh object (:func:`heatplug.opts.make_conf`, no config file, no
    global state) with overrides:

    * ``auth_url`` given: ``[heat] auth_type = password`` with
      ``auth_url``, ``username``, ``password``, ``project_name`` (or
      ``tenant_name``), ``user_domain_name`` and ``project_domain_name``
      (both ``Default`` unless given, as Congress's drivers do);
      ``endpoint`` then only overrides the catalog's Heat URL;
    * else ``endpoint`` given: ``[heat] auth_type = none`` and that endpoint
      (a Heat without authentication, e.g. ``noauth``);
    * ``region`` -> ``region_name``, ``interface`` -> ``valid_interfaces``,
      ``endpoint`` -> ``endpoint_override``; ``cafile``, ``certfile``,
      ``keyfile``, ``insecure``, ``timeout`` as they are;
    * ``enabled_plugins``, ``disabled_plugins``, ``max_workers``,
      ``full_refresh_every``, ``changed_stacks_only``, ``event_details``,
      ``stall_timeout``, ``write_actions_enabled``,
      ``write_actions_allowed`` -> ``[heatplug]``.

    :raises ConfigError: no way to reach Heat, a missing password-auth
        option, or a value of the wrong type.
    """
    conf = opts.make_conf()
    heat = opts.HEAT_GROUP

    def override(name, value, group=heat):
        try:
            conf.set_override(name, value, group)
        except (ValueError, TypeError) as exc:
            shown = "<hidden>" if name in SECRET_KEYS else repr(value)
            raise ConfigError("invalid value %s for %s: %s"
                              % (shown, name, type(exc).__name__)) from None

    if _given(args, "auth_url"):
        if not _given(args, "project_name") and _given(args, "tenant_name"):
            args = dict(args, project_name=args["tenant_name"])
        missing = [k for k in ("username", "password", "project_name")
                   if not _given(args, k)]
        if missing:
            raise ConfigError("password auth (auth_url is set) needs: %s"
                              % ", ".join(missing))
        # keystoneauth registers a plugin's options when it loads it; they
        # must exist before they can be overridden.
        conf.register_opts(ks_loading.get_auth_plugin_conf_options(
            "password"), group=heat)
        override("auth_type", "password")
        for key in _PASSWORD_KEYS:
            value = args.get(key)
            if key.endswith("_domain_name") and not value:
                value = _DEFAULT_DOMAIN
            override(key, value)
    elif _given(args, "endpoint"):
        conf.register_opts(ks_loading.get_auth_plugin_conf_options("none"),
                           group=heat)
        override("auth_type", "none")
        override("endpoint", args["endpoint"])
    else:
        raise ConfigError("heatplug needs auth_url (with username, password "
                          "and project_name) or, for a Heat without "
                          "authentication, endpoint")

    if _given(args, "endpoint"):
        override("endpoint_override", args["endpoint"])
    if _given(args, "region"):
        override("region_name", args["region"])
    if _given(args, "interface"):
        override("valid_interfaces", [args["interface"]])
    for key in ("cafile", "certfile", "keyfile", "insecure", "timeout"):
        if _given(args, key):
            override(key, args[key])
    for key in ("enabled_plugins", "disabled_plugins",
                "write_actions_allowed"):
        if key in args:
            override(key, args[key], "heatplug")
    for key in ("max_workers", "full_refresh_every", "changed_stacks_only",
                "event_details", "stall_timeout", "write_actions_enabled"):
        if _given(args, key):
            override(key, args[key], "heatplug")
    return conf


# ---------------------------------------------------------------------------
# heatplug tables -> Congress translators
# ---------------------------------------------------------------------------

_VALUE = {"translation-type": "VALUE"}


def translator(table):
    """The Congress translator of a :class:`heatplug.schema.Table`.

    An HDICT root translator with one VALUE field per column, in order,
    with the column's description: Congress's ``get_schema()`` then gives
    ``{table.name: ({'name': column, 'desc': description}, ...)}``.  It
    declares the table for Congress (schema, ``state``, lazy tables); the
    rows themselves come from heatplug's translate stage, already tuples of
    scalars in column order.
    """
    return {
        "translation-type": "HDICT",
        "table-name": table.name,
        "selector-type": "DICT_SELECTOR",
        "field-translators": tuple(
            {"fieldname": c.name, "desc": c.description,
             "translator": _VALUE} for c in table.columns),
    }


def translators(family_tables):
    """Translators for ``{family: [Table, ...]}``, in family order."""
    return [translator(t) for tables in family_tables.values()
            for t in tables]


class _DefaultTranslators:
    """``HeatplugDriver.TRANSLATORS`` read on the class: one translator per
    table of every installed plugin (the default configuration).

    An instance assigns its own list (its enabled plugins), which hides
    this descriptor.
    """

    def __get__(self, obj, objtype=None):
        plugins = manager.build_plugin_manager(opts.make_conf())
        return translators(plugins.tables())


class _hybridmethod:
    """A Congress classmethod that, called on an instance, sees the
    instance (and so the instance's ``TRANSLATORS``)."""

    def __init__(self, func):
        self.func = func
        functools.update_wrapper(self, func)

    def __get__(self, obj, objtype=None):
        return types.MethodType(self.func, obj if obj is not None
                                else objtype)


class _Sink:
    """heatplug publish sink: keeps the last :class:`core.PollResult`."""

    def __init__(self):
        self.result = None

    @heatplug.hookimpl
    def heatplug_publish(self, result):
        self.result = result


# ---------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------

class HeatplugDriver(datasource_driver.PollingDataSourceDriver,
                     datasource_driver.ExecutionDriver):
    """OpenStack Heat's state as Congress tables, through heatplug plugins.

    :param name: the datasource's name (the Datalog theory policies use,
        e.g. ``heatplug:stacks(...)``).
    :param args: the datasource's config dict (see
        :meth:`get_datasource_info`), plus ``ds_id`` added by Congress.
    """

    TRANSLATORS = _DefaultTranslators()

    # Congress's own implementations, made instance-aware.
    get_schema = _hybridmethod(_BaseDriver.get_schema.__func__)
    get_tablenames = _hybridmethod(_BaseDriver.get_tablenames.__func__)
    get_tablename = _hybridmethod(_BaseDriver.get_tablename.__func__)

    def __init__(self, name="", args=None):
        args = normalize_args(args)
        self.conf = build_conf(args)
        self.plugins = manager.build_plugin_manager(self.conf)
        self.family_tables = self.plugins.tables()
        self.table_family = {t.name: family
                             for family, tables in self.family_tables.items()
                             for t in tables}
        self.TRANSLATORS = translators(self.family_tables)
        # Congress validates lazy_tables before it sets self.name and then
        # fails on it with AttributeError instead of BadRequest.
        self.name = name
        super().__init__(name, args=args)
        datasource_driver.ExecutionDriver.__init__(self)
        # Congress puts an empty set in state for each table it registers;
        # a table is in state here once it has been read (_update_table), so
        # poll() never publishes one that has not.
        self.state.clear()

        self._sink = _Sink()
        self.plugins.register(self._sink, name=_SINK_NAME)
        self.poller = core.Poller(self.conf, self.plugins)
        self._poll_lock = threading.Lock()
        self.last_result = None
        self._dormant = {}          # family -> plugin object (all lazy)
        for family, tables in self.family_tables.items():
            if tables and all(t.name in self.lazy_tables for t in tables):
                self._sleep(family)
        self.initialize_update_methods()
        self._init_end_start_poll()

    # -- what Congress asks the driver class ---------------------------------

    @staticmethod
    def get_datasource_info():
        return {
            "id": DRIVER_ID,
            "description": "OpenStack Heat's state (stacks, resources, "
                           "events, software configs and deployments, "
                           "templates, ...) as tables, read by heatplug "
                           "plugins; third-party plugins add their own "
                           "tables.",
            "config": {key: constants.OPTIONAL for key in CONFIG_HELP},
            "secret": list(SECRET_KEYS),
        }

    # -- lazy families --------------------------------------------------------

    def _sleep(self, family):
        """Stop running ``family`` (every table of it is lazy)."""
        self._dormant[family] = self.plugins.plugin(family)
        self.plugins.unregister(family)
        self._set_enabled(family, False)
        LOG.info("%s: plugin %s does not run until one of its lazy tables "
                 "is subscribed", self.name, family)

    def _wake(self, family):
        """Run ``family`` again (one of its lazy tables was activated)."""
        plugin = self._dormant.pop(family, None)
        if plugin is None:
            return False
        self.plugins.register(plugin, name=family)
        self._set_enabled(family, True)
        LOG.info("%s: plugin %s runs again: a lazy table of it is "
                 "subscribed", self.name, family)
        return True

    def _set_enabled(self, family, enabled):
        disabled = [n for n in self.conf.heatplug.disabled_plugins
                    if n != family]
        if not enabled:
            disabled.append(family)
        self.conf.set_override("disabled_plugins", disabled, "heatplug")
        running = set(self.plugins.enabled) - {family}
        if enabled:
            running.add(family)
        self.plugins.enabled = [n for n in self.plugins.installed
                                if n in running]

    @property
    def lazy_plugins(self):
        """Plugins that do not run because all their tables are lazy."""
        return sorted(self._dormant)

    # -- polling --------------------------------------------------------------

    def initialize_update_methods(self):
        """One update method per table, lazy tables included."""
        for trans in self.TRANSLATORS:
            self.add_update_method(
                functools.partial(self._update_table, trans["table-name"]),
                trans)

    def _run_poll(self):
        with self._poll_lock:
            for table in list(self._table_deps):
                self._wake(self.table_family.get(table))
            result = self.poller.poll()
            self.last_result = self._sink.result or result
            return self.last_result

    def _update_table(self, table):
        """Congress update method of ``table``: its rows of the last poll.

        Congress calls it for every registered table from
        :meth:`update_from_datasource`, right after the poll, and from
        ``get_snapshot()`` when a lazy table is activated; in that case the
        table's family may not have run yet, and a poll runs first.

        A table heatplug marks unknown (its family has never read it) is
        left out of ``state``: ``poll()`` publishes only what ``state`` has
        or had, and its empty rows would read as "no rows".
        """
        result = self.last_result
        if result is None or table not in result.tables:
            result = self._run_poll()
        data = result.tables.get(table)
        if data is not None and data.unknown:
            # What state can hold is only the empty set Congress registers a
            # lazy table with: the core keeps a table's rows once read.
            self.state.pop(table, None)
            LOG.debug("%s: table %s not published: plugin %s has never "
                      "read it", self.name, table, data.family)
            return
        rows = data.rows if data is not None else []
        try:
            rows = set(rows)
        except TypeError:
            # a plugin put a list or dict in a row (heatplug's Rows never
            # does): make it a JSON string, as Congress's own VALUE
            # translator makes unhashable values strings.
            rows = {tuple(translation.scalar(v) for v in row)
                    for row in rows}
        self._update_state(table, [(table, row) for row in rows])

    def update_from_datasource(self):
        """Run one heatplug poll, then fill ``state`` from it.

        Families that fail keep their last good rows; this does not raise
        for them (see :meth:`poll` and the module docstring).
        """
        self._run_poll()
        super().update_from_datasource()

    def poll(self):
        """Congress's ``poll()``, then failed heatplug families as
        ``last_error`` (when the poll itself raised nothing)."""
        super().poll()
        result = self.last_result
        if self.last_error is None and result is not None and result.errors:
            self.last_error = FamilyErrors(
                {k: self._scrub(v) for k, v in result.errors.items()},
                result.stats.get("stale_tables", ()),
                result.stats.get("unknown_tables", ()))

    def get_row_data(self, table_id, *args, **kwargs):
        """Congress's, but a registered table not in ``state`` (not read
        yet) is ``NotFound`` saying why (Congress would say it does not
        exist or, for an activated lazy table, that it is not
        subscribed)."""
        if table_id in self._table_deps and table_id not in self.state:
            result = self.last_result
            data = (result.tables.get(table_id) if result is not None
                    else None)
            why = ("plugin %s failed on every poll so far" % data.family
                   if data is not None and data.unknown
                   else "no poll has run yet")
            raise congress_exc.NotFound(
                "table %s of datasource %s has never been read: %s (see the "
                "datasource's status)" % (table_id, self.name, why))
        return super().get_row_data(table_id, *args, **kwargs)

    # -- status ---------------------------------------------------------------

    def get_status(self):
        """Congress's status plus heatplug's poll statistics.

        Adds ``stale_tables``, ``unknown_tables`` (the stale tables never
        read, not published), ``plugin_errors`` (``{plugin: message}``),
        ``lazy_plugins`` and ``poll_stats`` (requests, bytes, seconds,
        cpu_seconds and rows of the last poll, and per plugin requests,
        bytes, seconds, rows, skipped records and stale).  Without a DSE
        node (in-process use), ``subscriptions`` and ``subscribers`` are
        empty instead of an ``AttributeError``.
        """
        if self.node is not None:
            status = super().get_status()
        else:
            status = {"last_updated": str(self.last_updated_time),
                      "last_error": str(self.last_error),
                      "number_of_updates": str(self.number_of_updates),
                      "initialized": str(self.initialized),
                      "subscriptions": [], "subscribers": []}
        status["last_error"] = self._scrub(status["last_error"])
        result = self.last_result
        stats = result.stats if result is not None else {}
        status["stale_tables"] = list(stats.get("stale_tables", []))
        status["unknown_tables"] = list(stats.get("unknown_tables", []))
        status["plugin_errors"] = {
            k: self._scrub(v)
            for k, v in sorted((result.errors if result else {}).items())}
        status["lazy_plugins"] = self.lazy_plugins
        status["poll_stats"] = {
            key: stats[key] for key in ("poll", "full_refresh", "requests",
                                        "bytes", "shared_requests",
                                        "seconds", "cpu_seconds", "rows")
            if key in stats}
        status["poll_stats"]["families"] = {
            name: {"requests": f["requests"], "bytes": f["bytes"],
                   "seconds": f["seconds"], "rows": f["rows"],
                   "skipped": len(f["skipped"]), "stale": f["stale"]}
            for name, f in sorted(stats.get("families", {}).items())}
        return status

    def _scrub(self, text):
        """``text`` with every configured secret value replaced."""
        text = str(text)
        for key in SECRET_KEYS:
            try:
                secret = self.conf[opts.HEAT_GROUP][key]
            except Exception:  # the option is not registered (no password)
                continue
            if secret:
                text = text.replace(secret, "<hidden>")
        return text

    # -- actions --------------------------------------------------------------

    def execute(self, action, action_args):
        """Carry out ``action`` through heatplug's reserved write-action hook.

        ``action_args`` is Congress's ``{'positional': [...], 'named':
        {...}}``; the hook receives it as its ``args``, normalized to both
        keys.  Nothing else is callable: there is no fallback to heatclient
        methods.

        :raises WriteActionRefused: write actions are disabled for this
            datasource, the action is not allowed, or no plugin implements
            it (heatplug ships none).
        """
        action_args = dict(action_args or {})
        args = {"positional": list(action_args.get("positional") or ()),
                "named": dict(action_args.get("named") or {})}
        try:
            return self.poller.execute(action, args)
        except errors.WriteActionUnavailable as exc:
            raise WriteActionRefused(
                "datasource %s cannot execute %s: %s"
                % (self.name, action, self._scrub(exc))) from None
        except errors.HeatplugError as exc:
            raise WriteActionRefused(
                "datasource %s failed to execute %s: %s"
                % (self.name, action, self._scrub(exc))) from None
