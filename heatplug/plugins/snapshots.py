"""The ``snapshots`` family: the snapshots of every stack.

Heat has no global snapshot list (``GET /v1/{project}/snapshots`` is a 404):
the only list is per stack, ``GET /stacks/{name}/{id}/snapshots``, so this
family costs one call per stack, every poll.  Nested stacks are included:
Heat lets a nested stack be snapshotted on its own (its snapshots are listed
only under it), while a parent's snapshot adds no snapshot to its nested
stacks.

No cache by default: taking a snapshot moves the stack to SNAPSHOT_COMPLETE
and bumps its ``updated_time`` only to the second (two snapshots in one
second leave the signature unchanged), and deleting a snapshot changes
nothing on the stack, so the stack list cannot tell when a stack's
snapshots changed.  Only with ``[heatplug] changed_stacks_only`` (whose
price that is) are a stack's snapshots read again just when its signature
changed (``ctx.changed_stacks()``) or at a full refresh, and kept in
``ctx.cache`` in between.

Every snapshot Heat lists carries ``data``: the whole stack as abandon data
(template, environment with the hidden parameters' values **in plain text**,
files, every resource's ``resource_data``).  Fetch keeps only the snapshot's
own scalars: ``data`` never leaves it, and Heat offers no way to list
without it (bytes per call grow with the stack and its snapshots).
"""

import logging

from heatclient import exc as heat_exc

import heatplug
from heatplug import context
from heatplug import translation

LOG = logging.getLogger(__name__)

SOURCE = ("GET /v1/{project}/stacks/{name}/{id}/snapshots "
          "(stacks.snapshot_list), per stack; the data blob is dropped")

#: The snapshot fields kept at fetch (never ``data``).
KEEP = ("id", "name", "action", "status", "status_reason", "creation_time")

TABLES = [
    heatplug.table(
        "snapshots", "One row per snapshot of a stack (nested stacks "
        "included).", SOURCE,
        ("id", "snapshot UUID"),
        ("stack_id", "stacks.id of the stack snapshotted"),
        ("name", "snapshot name, None when none was given"),
        ("action", "the snapshot's action, e.g. CREATE"),
        ("status", "IN_PROGRESS, COMPLETE or FAILED"),
        ("status_reason", "why the snapshot is in its status"),
        ("creation_time", "ISO 8601 creation time"),
    ),
]


@heatplug.hookimpl
def heatplug_tables():
    return TABLES


@heatplug.hookimpl
def heatplug_fetch(ctx):
    stacks = [s for s in ctx.stacks() if s.get("id")]

    def one(stack):
        ident = context.stack_identifier(stack)
        try:
            body = ctx.heat.stacks.snapshot_list(ident)
        except heat_exc.HTTPNotFound:
            LOG.debug("stack %s vanished before its snapshots were read",
                      ident)
            return None
        snaps = (body or {}).get("snapshots") if isinstance(body, dict) \
            else body
        if not isinstance(snaps, list):
            # Keep it for translate to skip and count as malformed.
            return {"stack_id": stack["id"], "snapshots": snaps}
        return {"stack_id": stack["id"],
                "snapshots": [{k: s.get(k) for k in KEEP}
                              if isinstance(s, dict) else s for s in snaps]}

    todo = ctx.changed_stacks()
    cache = ctx.cache.get("snapshots", {})
    read = dict(zip([s["id"] for s in todo], ctx.map(one, todo)))
    fresh = {}
    for stack in stacks:
        sid = stack["id"]
        record = read[sid] if sid in read else cache.get(sid)
        if record is not None:
            fresh[sid] = record
    # Used only in changed-stacks-only mode; vanished stacks are dropped.
    ctx.cache["snapshots"] = fresh
    return [fresh[s["id"]] for s in stacks if s["id"] in fresh]


@heatplug.hookimpl
def heatplug_translate(raw):
    rows = translation.Rows("snapshots")
    for record in raw or ():
        sid = record.get("stack_id") if isinstance(record, dict) else None
        snaps = record.get("snapshots") if isinstance(record, dict) else None
        if not isinstance(snaps, list):
            with rows.record("snapshot list of stack", sid):
                raise ValueError("snapshots is a %s, not a list"
                                 % type(snaps).__name__)
            continue
        for snap in snaps:
            ident = snap.get("id") if isinstance(snap, dict) else None
            with rows.record("snapshot", ident):
                if not isinstance(sid, str) or not sid:
                    raise ValueError("no stack id")
                if not isinstance(snap["id"], str) or not snap["id"]:
                    raise ValueError("no snapshot id")
                rows.add("snapshots", snap["id"], sid, snap.get("name"),
                         snap.get("action"), snap.get("status"),
                         snap.get("status_reason"),
                         snap.get("creation_time"))
    return rows
