"""The ``resource_types`` family: the resource types this Heat offers.

One ``GET /resource_types?with_description=True`` per poll.  Heat lists only
the types the caller may use: it drops types hidden by policy and types whose
service is not in the catalog (on a cloud without Nova there is no
``OS::Nova::Server``), so the answer can change without a Heat upgrade.

The list carries no support status; the only way to learn it without a call
per type is the list's ``support_status`` filter.  The types that are *not*
SUPPORTED are listed once per status (DEPRECATED, UNSUPPORTED, UNKNOWN; Heat
never lists HIDDEN types) and every other type is SUPPORTED.  Those three
lists are cached and read again only when the type list changed, after
:data:`STATUS_MAX_AGE` polls, or at a full refresh (``ctx.full_refresh``).
"""

import heatplug
from heatplug import context
from heatplug import translation

SOURCE = ("GET /v1/{project}/resource_types?with_description=True "
          "(resource_types.list); support status from "
          "GET /v1/{project}/resource_types?support_status=S for S in "
          "DEPRECATED, UNSUPPORTED, UNKNOWN (cached)")

# The support statuses a listed type can have besides SUPPORTED.
OTHER_STATUSES = ("DEPRECATED", "UNSUPPORTED", "UNKNOWN")
STATUS_MAX_AGE = 60

TABLES = [
    heatplug.table(
        "resource_types",
        "One row per resource type the caller may use in a template.",
        SOURCE,
        ("resource_type", "type name, e.g. OS::Heat::ResourceGroup"),
        ("description", "the type's documentation as Heat gives it (Heat "
                        "says 'No description available' for a type with "
                        "none)"),
        ("support_status", "SUPPORTED, DEPRECATED, UNSUPPORTED or UNKNOWN"),
    ),
]


@heatplug.hookimpl
def heatplug_tables():
    return TABLES


def _name(item):
    return item if isinstance(item, str) else item.get("resource_type")


@heatplug.hookimpl
def heatplug_fetch(ctx):
    """``{"resource_types": [...], "support_status": {status: [names]}}``."""
    poll = ctx.cache["polls"] = ctx.cache.get("polls", 0) + 1
    # Each item is Heat's dict, or a bare name from a Heat that ignores
    # with_description.
    types = [context.to_dict(t) for t in
             ctx.heat.resource_types.list(with_description=True)]
    cached = ctx.cache.get("support_status")
    if (cached is None or ctx.cache.get("types") != types or ctx.full_refresh
            or poll - ctx.cache.get("status_poll", 0) >= STATUS_MAX_AGE):
        def listed(status):
            return sorted(_name(context.to_dict(t)) for t in
                          ctx.heat.resource_types.list(
                              filters={"support_status": status}))
        cached = dict(zip(OTHER_STATUSES, ctx.map(listed, OTHER_STATUSES)))
        ctx.cache.update(types=types, support_status=cached,
                         status_poll=poll)
    return {"resource_types": types, "support_status": cached}


@heatplug.hookimpl
def heatplug_translate(raw):
    rows = translation.Rows("resource_types")
    raw = raw or {}
    statuses = {}
    for status, names in (raw.get("support_status") or {}).items():
        if not isinstance(names, (list, tuple)):
            continue        # a malformed list: those types read SUPPORTED
        for name in names:
            if isinstance(name, str):
                statuses.setdefault(name, status)
    for item in raw.get("resource_types") or ():
        with rows.record("resource type", _name(item) if isinstance(
                item, (str, dict)) else None):
            if isinstance(item, str):
                name, description = item, None
            else:
                name, description = item["resource_type"], item.get(
                    "description")
            if not isinstance(name, str) or not name:
                raise ValueError("resource_type %r" % (name,))
            rows.add("resource_types", name, description,
                     statuses.get(name, "SUPPORTED"))
    return rows
