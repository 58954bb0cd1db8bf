"""The ``stacks`` family: every stack (nested ones too), its links and tags.

One ``GET /stacks?show_nested=True&show_hidden=True`` per poll, shared
through the core with every other family that needs the stack list.  Stacks
hidden by Heat's ``hidden_stack_tags`` option are listed too.
"""

import heatplug
from heatplug import redact
from heatplug import translation

SOURCE = ("GET /v1/{project}/stacks?show_nested=True&show_hidden=True "
          "(stacks.list)")

STATUS_COLUMNS = (
    ("stack_status", "Heat's combined status, e.g. CREATE_COMPLETE"),
    ("action", "the action part of stack_status: CREATE, UPDATE, DELETE, "
               "ROLLBACK, SUSPEND, RESUME, CHECK, SNAPSHOT, ADOPT, ..."),
    ("status", "the state part of stack_status: IN_PROGRESS, COMPLETE, "
               "FAILED"),
)

TABLES = [
    heatplug.table(
        "stacks", "One row per stack, nested stacks included.", SOURCE,
        ("id", "stack UUID"),
        ("stack_name", "stack name"),
        ("description", "the template's description"),
        ("creation_time", "ISO 8601 creation time"),
        ("updated_time", "ISO 8601 time of the last update, or None"),
        ("deletion_time", "ISO 8601 deletion time, or None"),
        *STATUS_COLUMNS,
        ("stack_status_reason", "why the stack is in its status (it may "
                                "quote a resource's reason); secrets "
                                "inside it are '<redacted>'"),
        ("stack_owner", "user name of the stack's owner, when Heat says"),
        ("parent", "id of the parent stack for a nested stack, else None"),
        ("project", "id of the project owning the stack (Heat gives it "
                    "to a cloud admin only, who is listed every project's "
                    "stacks; None otherwise)"),
        ("stack_user_project_id", "id of the stack's user project"),
    ),
    heatplug.table(
        "stacks_links", "The links of each stack.", SOURCE,
        ("stack_id", "stacks.id"),
        ("href", "link URL"),
        ("rel", "link relation, e.g. self"),
    ),
    heatplug.table(
        "stacks_tags", "The tags of each stack, one row per tag.", SOURCE,
        ("stack_id", "stacks.id"),
        ("tag", "a tag"),
    ),
]


@heatplug.hookimpl
def heatplug_tables():
    return TABLES


@heatplug.hookimpl
def heatplug_fetch(ctx):
    return ctx.stacks()


def _tags(value):
    if value is None:
        return []
    if isinstance(value, str):
        return [t for t in value.split(",") if t]
    return list(value)


@heatplug.hookimpl
def heatplug_translate(raw):
    rows = translation.Rows("stacks", "stacks_links", "stacks_tags")
    for stack in raw or ():
        ident = stack.get("id") if isinstance(stack, dict) else None
        with rows.record("stack", ident):
            sid = stack["id"]
            if not isinstance(sid, str) or not sid:
                raise ValueError("no stack id")
            action, state = translation.split_status(stack.get("stack_status"))
            rows.add("stacks", sid, stack.get("stack_name"),
                     stack.get("description"), stack.get("creation_time"),
                     stack.get("updated_time"), stack.get("deletion_time"),
                     stack.get("stack_status"), action, state,
                     redact.scrub_inside(stack.get("stack_status_reason")),
                     stack.get("stack_owner"), stack.get("parent"),
                     stack.get("project"), stack.get("stack_user_project_id"))
            for link in stack.get("links") or ():
                rows.add("stacks_links", sid, link.get("href"),
                         link.get("rel"))
            for tag in _tags(stack.get("tags")):
                rows.add("stacks_tags", sid, tag)
    return rows
