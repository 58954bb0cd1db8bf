"""The snapshots family against the real local Heat.

The module snapshots a stack of its own (not a population stack: a snapshot
moves a stack to SNAPSHOT_COMPLETE, which other families' tests would see):
twice at its root, once at its nested template-resource child, and deletes
it afterwards.  The table is compared with direct heatclient reads
(``stacks.snapshot_list``) of every stack.
"""

import json
import time

import pytest

from tests.functional import conftest

CANARY = "canary-snapshot-data-4Hx8"

CHILD = """
heat_template_version: 2018-08-31
parameters:
  note: {type: string}
resources:
  v:
    type: OS::Heat::Value
    properties: {value: {get_param: note}}
"""

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "description": "f1-snap - a stack to snapshot",
    "parameters": {"vault_code": {"type": "string", "hidden": True,
                                  "default": CANARY}},
    "resources": {
        "token": {"type": "OS::Heat::RandomString"},
        "child": {"type": "f1_snap_child.yaml",
                  "properties": {"note": "nested"}},
    },
}


def _wait_snapshot(heat, ident, snap_id, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        snap = heat.stacks.snapshot_show(ident, snap_id)["snapshot"]
        if snap["status"] != "IN_PROGRESS":
            return snap
        if time.monotonic() > deadline:
            raise AssertionError("snapshot %s still IN_PROGRESS" % snap_id)
        time.sleep(0.2)


def _snapshot(heat, ident, name):
    snap = heat.stacks.snapshot(ident, name)
    got = _wait_snapshot(heat, ident, snap["id"])
    conftest.wait_for_stack(heat, ident)
    return got


@pytest.fixture(scope="module")
def snapped(heat, population):
    stack = conftest.create_stack(heat, "f1-snap", TEMPLATE,
                                  files={"f1_snap_child.yaml": CHILD})
    ident = "%s/%s" % (stack["stack_name"], stack["id"])
    child = next(s for s in heat.stacks.list(show_nested=True)
                 if s.parent == stack["id"])
    child_ident = "%s/%s" % (child.stack_name, child.id)
    snaps = {
        "f1-root-1": _snapshot(heat, ident, "f1-root-1"),
        "f1-root-2": _snapshot(heat, ident, "f1-root-2"),
        "f1-child": _snapshot(heat, child_ident, "f1-child"),
    }
    yield {"stack": stack, "child": child.id, "snaps": snaps}
    conftest.delete_stack(heat, ident)


@pytest.fixture(scope="module")
def data(local_heat, snapped):
    return conftest.poll_json(local_heat, "--enable", "snapshots")


@pytest.fixture(scope="module")
def heat_lists(heat, data):
    """Heat's own snapshot list of every stack (data blob included)."""
    return {s.id: heat.stacks.snapshot_list(
        "%s/%s" % (s.stack_name, s.id))["snapshots"]
        for s in heat.stacks.list(show_nested=True)}


def test_no_errors_nothing_skipped(data):
    assert data["errors"] == {}
    assert data["stats"]["families"]["snapshots"]["skipped"] == []
    assert data["tables"]["snapshots"]["columns"] == [
        "id", "stack_id", "name", "action", "status", "status_reason",
        "creation_time"]


def test_rows_match_heat(data, heat_lists, snapped):
    expected = sorted(
        (s["id"], sid, s["name"], s["action"], s["status"],
         s["status_reason"], s["creation_time"])
        for sid, snaps in heat_lists.items() for s in snaps)
    got = conftest.table_rows(data, "snapshots")
    assert got == expected
    mine = {r[2]: r for r in got
            if r[1] in (snapped["stack"]["id"], snapped["child"])}
    assert sorted(mine) == ["f1-child", "f1-root-1", "f1-root-2"]
    assert mine["f1-root-1"][1] == mine["f1-root-2"][1] == \
        snapped["stack"]["id"]
    assert mine["f1-root-1"][3:6] == ("CREATE", "COMPLETE",
                                      "Stack SNAPSHOT completed successfully")
    assert mine["f1-root-1"][0] == snapped["snaps"]["f1-root-1"]["id"]


def test_nested_stacks_have_their_own_snapshots(data, heat_lists, snapped):
    """A nested stack can be snapshotted on its own; a snapshot of its parent
    adds nothing to it."""
    assert [s["name"] for s in heat_lists[snapped["child"]]] == ["f1-child"]
    child_rows = [r for r in conftest.table_rows(data, "snapshots")
                  if r[1] == snapped["child"]]
    assert [r[2] for r in child_rows] == ["f1-child"]


def test_the_data_blob_never_leaves_fetch(data, heat_lists, snapped):
    mine = heat_lists[snapped["stack"]["id"]]
    # Heat lists every snapshot with the stack's abandon data: the hidden
    # parameter's value in plain text, resource data, the template.
    assert all("data" in s for s in mine)
    assert CANARY in json.dumps(mine)
    assert CANARY not in json.dumps(data)


def test_a_cold_poll_lists_every_stack_that_ran_an_action(
        heat, data, heat_lists):
    """Only stacks in CREATE_* (or ADOPT_*) are not listed: they never ran
    the SNAPSHOT action."""
    acted = [s for s in heat.stacks.list(show_nested=True)
             if not s.stack_status.startswith(("CREATE_", "ADOPT_"))]
    assert 2 <= len(acted) < len(heat_lists)
    stats = data["stats"]
    assert stats["families"]["snapshots"]["requests"] == len(acted)
    assert stats["requests"] == 1 + len(acted)
    assert stats["shared_requests"] == 1
    created = [sid for sid, snaps in heat_lists.items()
               if sid not in {s.id for s in acted}]
    assert all(heat_lists[sid] == [] for sid in created)


@pytest.fixture
def poller(make_poller):
    return make_poller(["snapshots"])


def _snapshot_poll(poller):
    rows, stats = conftest.poll(poller)
    return rows["snapshots"], stats["families"]["snapshots"]["requests"]


def _heat_rows(heat):
    return sorted(
        (s["id"], st.id, s["name"], s["action"], s["status"],
         s["status_reason"], s["creation_time"])
        for st in heat.stacks.list(show_nested=True)
        for s in heat.stacks.snapshot_list(
            "%s/%s" % (st.stack_name, st.id))["snapshots"])


def test_steady_polls_read_only_stacks_that_may_have_snapshots(
        heat, poller, snapped):
    """A stack that had no snapshot and whose signature is unchanged is not
    read again; one that has snapshots is read every poll (a deletion
    changes nothing on the stack); taking a snapshot changes the stack's
    signature, so it is seen on the next poll."""
    rows, requests = _snapshot_poll(poller)
    stacks = list(heat.stacks.list(show_nested=True))
    acted = [s for s in stacks
             if not s.stack_status.startswith(("CREATE_", "ADOPT_"))]
    assert requests == len(acted)
    assert rows == _heat_rows(heat)
    with_snaps = {snapped["stack"]["id"], snapped["child"]}
    snapshotting = {s.id for s in stacks
                    if s.stack_status.startswith("SNAPSHOT")}
    assert with_snaps <= snapshotting

    rows2, requests2 = _snapshot_poll(poller)
    assert rows2 == rows
    assert requests2 == len(snapshotting), "only stacks that may have some"

    # A deletion leaves the stack's signature as it was: still seen.
    ident = "%s/%s" % (snapped["stack"]["stack_name"], snapped["stack"]["id"])
    gone = snapped["snaps"]["f1-root-1"]["id"]
    heat.stacks.snapshot_delete(ident, gone)
    deadline = time.monotonic() + 60
    while gone in {s["id"] for s in heat.stacks.snapshot_list(ident)[
            "snapshots"]}:
        assert time.monotonic() < deadline, "snapshot not deleted"
        time.sleep(0.2)
    rows3, _ = _snapshot_poll(poller)
    assert gone not in {r[0] for r in rows3}
    assert rows3 == _heat_rows(heat)

    # A stack without snapshots that gets one: its signature changes.
    late = conftest.create_stack(heat, "f1-snap-late", {
        "heat_template_version": "2018-08-31",
        "resources": {"v": {"type": "OS::Heat::Value",
                            "properties": {"value": "x"}}}})
    late_ident = "%s/%s" % (late["stack_name"], late["id"])
    try:
        _, requests4 = _snapshot_poll(poller)     # CREATE_COMPLETE: not read
        assert requests4 == requests2
        heat.actions.check(late_ident)            # CHECK: action, no snapshot
        conftest.wait_for_stack(heat, late_ident)
        rows5, requests5 = _snapshot_poll(poller)     # changed: read
        assert requests5 == requests4 + 1
        assert late["id"] not in {r[1] for r in rows5}
        _, requests6 = _snapshot_poll(poller)     # unchanged, none: not read
        assert requests6 == requests4
        snap = _snapshot(heat, late_ident, "f1-late")
        rows7, _ = _snapshot_poll(poller)
        assert (snap["id"], late["id"]) in {r[:2] for r in rows7}
        assert rows7 == _heat_rows(heat)
    finally:
        heat.stacks.delete(late_ident)
