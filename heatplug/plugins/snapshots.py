"""The ``snapshots`` family: the snapshots of every stack.

Heat has no global snapshot list (``GET /v1/{project}/snapshots`` is a 404):
the only list is per stack, ``GET /stacks/{name}/{id}/snapshots``: the
first poll costs one call per stack.  Nested stacks are included:
Heat lets a nested stack be snapshotted on its own (its snapshots are listed
only under it), while a parent's snapshot adds no snapshot to its nested
stacks.

What Heat's code says about when the list changes (``heat/engine``,
``service.stack_snapshot``, ``stack.Stack.snapshot``): *taking* a snapshot
always runs the stack's SNAPSHOT action, which moves the stack to
SNAPSHOT_IN_PROGRESS and sets its ``updated_time``, so it changes the
stack's signature in the stack list; *deleting* one changes nothing on the
stack.  So the family keeps each stack's list with the signature it was
read under (``ctx.per_stack``) and reads it again:

- every poll for a stack that had snapshots at the last read (one may have
  been deleted since);
- every poll for a stack whose status is SNAPSHOT_* (two snapshots within
  one second of ``updated_time`` could leave the signature unchanged);
- when the stack's signature changed, the stack is in progress, it is new,
  and at a full refresh.

A stack that had none and whose signature is unchanged still has none: on
a steady poll the family reads only the stacks that have (or just had)
snapshots, instead of every stack.  And a stack whose status is CREATE_* or
ADOPT_* has never run another action, so never the SNAPSHOT action: it has
no snapshot, and is not read at all (except at a full refresh after the
first poll, which re-verifies that too).  Not covered: Heat's convergence
engine stores the snapshot row a moment *before* it moves the stack to
SNAPSHOT_IN_PROGRESS; if that second step fails, the snapshot exists on a
stack still in CREATE_* and shows only at the next full refresh.  With
``[heatplug] changed_stacks_only`` (whose price that is) a stack that has
snapshots is also read only when its signature changed or at a full
refresh: a deleted snapshot lingers until then.

Heat lists a stack's snapshots for the token's project only, even to a
cloud admin, to whom it lists every project's stacks (``heat/db/api.py``,
``snapshot_get_all_by_stack``): the stacks of other projects
(``ctx.other_project_stacks()``) are not read, have no rows, and a warning
says so once.

Every snapshot Heat lists carries ``data``: the whole stack as abandon data
(template, environment with the hidden parameters' values **in plain text**,
files, every resource's ``resource_data``).  Fetch keeps only the snapshot's
own scalars: ``data`` never leaves it, and Heat offers no way to list
without it (bytes per call grow with the stack and its snapshots).
"""

import logging

import heatplug
from heatplug import context
from heatplug import redact
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
        ("status_reason", "why the snapshot is in its status; secrets "
                          "inside it are '<redacted>'"),
        ("creation_time", "ISO 8601 creation time"),
    ),
]


@heatplug.hookimpl
def heatplug_tables():
    return TABLES


def never_acted(stack):
    """True for a stack Heat has only created (or adopted): no action since,
    so no SNAPSHOT action, so no snapshot of its own."""
    return str(stack.get("stack_status") or "").startswith(
        ("CREATE_", "ADOPT_"))


def still_valid(ctx, stack, record):
    """Whether ``record``, read under the stack's unchanged signature,
    still answers for it (see the module docs)."""
    if ctx.changed_only:
        return True
    return (record.get("snapshots") == [] and not str(
        stack.get("stack_status") or "").startswith("SNAPSHOT"))


@heatplug.hookimpl
def heatplug_fetch(ctx):
    poll = ctx.cache["polls"] = ctx.cache.get("polls", 0) + 1
    # A full refresh after the first poll re-verifies never_acted() too.
    reverify = ctx.full_refresh and poll > 1
    # Heat lists the snapshots of the token's project only, even to an
    # admin: another project's stack would be answered [] whatever it has.
    others = ctx.other_project_stacks()
    if others and not ctx.cache.get("warned_other_projects"):
        ctx.cache["warned_other_projects"] = True
        LOG.warning(
            "snapshots: %d listed stack(s) belong to other projects than "
            "the token's; Heat lists snapshots for the token's project "
            "only (even to an admin), so theirs are not read and the "
            "snapshots table has none of them (docs/congress.md, 'Which "
            "project heatplug sees')", len(others))

    def known(stack):
        if stack["id"] in others or (not reverify and never_acted(stack)):
            return {"stack_id": stack["id"], "snapshots": []}
        return None

    def one(stack):
        body = ctx.heat.stacks.snapshot_list(context.stack_identifier(stack))
        snaps = (body or {}).get("snapshots") if isinstance(body, dict) \
            else body
        if not isinstance(snaps, list):
            # Keep it for translate to skip and count as malformed.
            return {"stack_id": stack["id"], "snapshots": snaps}
        return {"stack_id": stack["id"],
                "snapshots": [{k: s.get(k) for k in KEEP}
                              if isinstance(s, dict) else s for s in snaps]}

    return list(ctx.per_stack(
        "snapshots", one,
        reuse=lambda stack, record: still_valid(ctx, stack, record),
        known=known).values())


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
                         redact.scrub_inside(snap.get("status_reason")),
                         snap.get("creation_time"))
    return rows
