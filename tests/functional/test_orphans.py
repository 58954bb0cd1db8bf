"""Nested stacks whose parent is gone, against the real local Heat.

A stack whose template resource has ``deletion_policy: Retain`` is
deleted: Heat keeps the resource's nested stack (and the stack nested in
it), still lists it with the deleted stack's id as its ``parent``, and
lists its resources and events.  heatplug reads it as the root of its own
tree: its resources and events rows are Heat's, and since who owns it (and
what its parent handed it: here a hidden parameter) is unknown, its
resource attributes and event properties are redacted.  The orphans are
deleted at the end, so the other modules' counts are unaffected.
"""

import json

import pytest

from heatplug import redact
from tests.functional import conftest

HIDDEN = "canary-f7-orphan-hidden-2Vb8"

GRANDCHILD = """
heat_template_version: 2018-08-31
resources:
  deep: {type: OS::Heat::Value, properties: {value: from-below}}
"""

KEPT = """
heat_template_version: 2018-08-31
parameters:
  word: {type: string}
resources:
  echo:
    type: OS::Heat::Value
    properties: {value: {get_param: word}}
  idle: {type: OS::Heat::None}
  inner: {type: grandchild.yaml}
"""

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "parameters": {"unlock": {"type": "string", "hidden": True}},
    "resources": {
        "kept": {"type": "kept.yaml", "deletion_policy": "Retain",
                 "properties": {"word": {"get_param": "unlock"}}},
        "plain": {"type": "OS::Heat::None"},
    },
}


def _listed(heat):
    return {s.id: s for s in heat.stacks.list(show_nested=True)}


@pytest.fixture(scope="module")
def orphan(heat):
    """``(deleted parent id, orphan id, grandchild id)``."""
    parent = conftest.create_stack(
        heat, "f7-orphans", TEMPLATE, parameters={"unlock": HIDDEN},
        files={"kept.yaml": KEPT, "grandchild.yaml": GRANDCHILD})
    assert parent["stack_status"] == "CREATE_COMPLETE", parent
    conftest.delete_stack(heat, "f7-orphans/%s" % parent["id"])
    stacks = _listed(heat)
    kept = [s for s in stacks.values() if s.parent == parent["id"]]
    try:
        assert len(kept) == 1, kept
        below = [s for s in stacks.values() if s.parent == kept[0].id]
        assert len(below) == 1, below
        yield parent["id"], kept[0].id, below[0].id
    finally:
        for stack in kept:
            conftest.delete_stack(heat, "%s/%s" % (stack.stack_name,
                                                   stack.id))
        left = [s.stack_name for s in heat.stacks.list(show_nested=True)
                if s.stack_name.startswith("f7-orphans")]
        assert left == [], left


def _heat_resources(heat, stack_ids):
    """Heat's own per-stack resource lists: ``{(stack id, name): res}``."""
    stacks = _listed(heat)
    found = {}
    for sid in stack_ids:
        ident = "%s/%s" % (stacks[sid].stack_name, sid)
        for res in heat.resources.list(ident, with_detail=True):
            found[(sid, res.resource_name)] = res.to_dict()
    return found


def _heat_events(heat, stack_ids):
    stacks = _listed(heat)
    return {e.id: sid for sid in stack_ids for e in heat.events.list(
        "%s/%s" % (stacks[sid].stack_name, sid))}


def test_heat_keeps_the_orphan_and_its_resources(heat, orphan):
    parent, kept, below = orphan
    stacks = _listed(heat)
    assert parent not in stacks
    assert stacks[kept].parent == parent
    assert stacks[below].parent == kept
    assert stacks[kept].stack_status == "CREATE_COMPLETE"
    found = _heat_resources(heat, [kept, below])
    assert set(found) == {(kept, "echo"), (kept, "idle"), (kept, "inner"),
                          (below, "deep")}
    # Heat shows what the deleted parent handed the orphan, in plain text.
    assert found[(kept, "echo")]["attributes"]["value"] == HIDDEN


@pytest.fixture(scope="module")
def data(local_heat, orphan):
    return conftest.poll_json(local_heat)


def test_resources_rows_are_exactly_heats(heat, orphan, data):
    _, kept, below = orphan
    assert data["errors"] == {}
    found = _heat_resources(heat, [kept, below])
    rows = {(r["stack_id"], r["resource_name"]): r
            for r in conftest.records(data, "resources")
            if r["stack_id"] in (kept, below)}
    assert set(rows) == set(found)
    for key, res in found.items():
        row = rows[key]
        assert (row["resource_type"], row["resource_status"],
                row["physical_resource_id"]) == (
            res["resource_type"], res["resource_status"],
            res["physical_resource_id"] or None), key
    assert rows[(kept, "inner")]["nested_stack_id"] == below
    assert rows[(below, "deep")]["parent_resource"] == "inner"


def test_the_orphans_events_are_heats(heat, orphan, data):
    _, kept, below = orphan
    events = {r["id"]: r["stack_id"] for r in conftest.records(data, "events")
              if r["stack_id"] in (kept, below)}
    assert events == _heat_events(heat, [kept, below])
    assert set(events.values()) == {kept, below}


def test_what_the_deleted_parent_handed_down_is_redacted(orphan, data):
    _, kept, below = orphan
    text = json.dumps(data["tables"])
    assert HIDDEN not in text
    attrs = {(r["stack_id"], r["resource_name"], r["key"]): r["value"]
             for r in conftest.records(data, "resources_attributes")}
    # The orphan's owner is unknown: all its attributes, and those of the
    # stack below it, are redacted (Heat shows 'from-below' there).
    assert attrs[(kept, "echo", "value")] == redact.REDACTED
    assert attrs[(below, "deep", "value")] == redact.REDACTED
    names = {r["id"]: r["resource_name"]
             for r in conftest.records(data, "events")}
    props = [r for r in conftest.records(data, "events_resource_properties")
             if names.get(r["event_id"]) in ("echo", "deep")]
    assert props and {r["value"] for r in props} == {redact.REDACTED}


def test_an_orphans_tree_is_followed_between_polls(heat, make_poller,
                                                   orphan):
    _, kept, below = orphan
    stacks = _listed(heat)
    poller = make_poller(["stacks", "resources", "events"])
    first, _ = conftest.poll(poller)
    statuses = {r[1]: r[5] for r in first["resources"] if r[0] == kept}
    assert statuses == {"echo": "CREATE_COMPLETE", "idle": "CREATE_COMPLETE",
                        "inner": "CREATE_COMPLETE"}
    ident = "%s/%s" % (stacks[kept].stack_name, kept)
    heat.actions.check(ident)
    assert conftest.wait_for_stack(heat, ident)["stack_status"] == \
        "CHECK_COMPLETE"
    second, _ = conftest.poll(poller)
    statuses = {r[1]: r[5] for r in second["resources"] if r[0] == kept}
    assert statuses == {"echo": "CHECK_COMPLETE", "idle": "CHECK_COMPLETE",
                        "inner": "CHECK_COMPLETE"}
    # The check's events are read (the orphan's tree is not left to its
    # first answer), and nothing more.
    events = {r[0]: r[1] for r in second["events"] if r[1] in (kept, below)}
    assert events == _heat_events(heat, [kept, below])
    assert len(events) > len([r for r in first["events"]
                              if r[1] in (kept, below)])
    assert any(r[7] == "CHECK_COMPLETE" for r in second["events"]
               if r[1] == kept)
