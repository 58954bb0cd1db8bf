"""Hook specifications: the contract between heatplug's core and its plugins.

This module only *declares*.  :mod:`heatplug.core` calls the hooks in the
lifecycle order **auth -> fetch -> translate -> publish**; the modules in
:mod:`heatplug.plugins` (and any third party's) implement them with
``@heatplug.hookimpl``.

A *family* is a plugin that implements :func:`heatplug_tables`.  For a
family, :func:`heatplug_fetch` and :func:`heatplug_translate` are called with
only that family's own implementation (wrappers from any plugin still apply),
so one family's failure never reaches another.
"""

import pluggy

PROJECT = "heatplug"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def heatplug_auth(conf):
    """Build the authenticated connection to Heat.

    Called once, before the first fetch of the first poll, and again only
    after a poll whose connection could not be built.  heatplug ships a
    ``trylast`` default (:mod:`heatplug.auth`) that loads a keystoneauth1
    session from the ``[heat]`` options, or else from ``clouds.yaml`` and the
    ``OS_*`` environment; a plugin overrides it by returning its own.

    :param conf: the :class:`oslo_config.cfg.ConfigOpts` of this run.
    :return: a :class:`heatplug.auth.Connection` (session and Heat client).

    Stops at first non-None result.
    """


@hookspec
def heatplug_tables():
    """Declare the tables this family publishes.

    Called when the plugin manager is built and whenever the schema is
    asked for (``heatplug tables``, the Congress driver's ``get_schema()``).
    A plugin that implements this hook is a *family*.

    :return: a list of :class:`heatplug.schema.Table`.  Table names are
        unique across plugins; a clash is an error at start-up.
    """


@hookspec
def heatplug_fetch(ctx):
    """Read this family's raw records from Heat.

    Called once per poll for every enabled family, after auth.  This is the
    only stage that does I/O.  Use ``ctx.heat`` (a python-heatclient v1
    client) and the shared, once-per-poll reads on ``ctx`` (``ctx.stacks()``,
    ``ctx.resources(stack)``, ...) instead of reading the same thing again;
    per-item calls go through ``ctx.map()`` (a bounded worker pool).
    Whatever state the family wants to keep between polls (caches, event
    markers) lives in ``ctx.cache``, a dict private to the family.

    :param ctx: the :class:`heatplug.context.FamilyContext` of this poll.
    :return: the raw records: plain JSON-like values (dicts, lists), which
        are passed unchanged to this family's :func:`heatplug_translate`.
    """


@hookspec
def heatplug_translate(raw):
    """Turn this family's raw records into rows of its declared tables.

    Called once per poll for every family whose fetch succeeded.  Must be
    pure: no I/O, no clock, no global state, so it can be tested on recorded
    Heat responses.  A malformed record should be skipped (see
    :class:`heatplug.translation.Rows`), not fail the whole family.

    :param raw: exactly what this family's :func:`heatplug_fetch` returned.
    :return: a dict ``{table_name: [row, ...]}`` where every row is a tuple
        of scalars (``str``, ``int``, ``float``, ``bool`` or ``None``) in
        the declared column order.  Every declared table should be present;
        a missing one is published empty.
    """


@hookspec
def heatplug_publish(result):
    """Hand a finished poll to a sink.

    Called once per poll, after every family was fetched and translated,
    for every sink plugin (the command line and the Congress driver register
    one each).  A sink that raises is reported with its name; the other
    sinks still run.

    :param result: the :class:`heatplug.core.PollResult`: every table of
        every enabled family (with the last good rows and a stale mark for a
        family that failed this time), the errors and the stats.  A table
        whose family has never read it (it failed on every poll so far) is
        also marked ``unknown``: its empty rows mean "not known", not
        "none", and a sink whose consumer would read them as "none" should
        leave the table out.
    """


@hookspec(firstresult=True)
def heatplug_write_action(conn, action, args):
    """Carry out a write action on Heat (reserved: none is shipped yet).

    Called by :meth:`heatplug.core.Poller.execute` when a policy asks for an
    action, and only for an action the operator enabled (``[heatplug]
    write_actions_enabled`` and ``write_actions_allowed``).  No built-in
    plugin implements it: with no implementation the core raises
    :class:`heatplug.errors.WriteActionUnavailable`.

    :param conn: the :class:`heatplug.auth.Connection` to use.
    :param action: the action's name, e.g. ``"stacks.delete"``.
    :param args: a dict of the action's arguments.
    :return: any non-None value reports the action as done.

    Stops at first non-None result.
    """
