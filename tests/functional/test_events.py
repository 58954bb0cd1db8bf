"""The events family against the real local Heat.

Every table is compared with direct heatclient reads of the same Heat: a
plain per-stack ``events.list`` of *every* stack of the stack list, nested
ones included (which proves one ``nested_depth`` list per root stack misses
nothing), and ``events.get`` for the details.  The incremental path runs
in-process with one :class:`heatplug.core.Poller`, whose family cache
survives between polls; a module stack (``f3-events``) is updated between
polls, and rows of Heat's own sqlite database are deleted to play Heat's
event pruning and a lost marker.
"""

import json
import os
import sqlite3
import time

import pytest
from heatclient import exc as heat_exc

from heatplug import redact
from heatplug.plugins import events
from tests.functional import conftest

HIDDEN = "canary-f3-events-hidden-6Tq2"

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "description": "f3-events - updated between polls",
    "parameters": {"unlock": {"type": "string", "hidden": True},
                   "label": {"type": "string", "default": "one"}},
    "resources": {
        "plain": {"type": "OS::Heat::Value",
                  "properties": {"value": {"get_param": "label"}}},
        "inner": {"type": "child.yaml",
                  "properties": {"word": {"list_join": [
                      "=", ["key", {"get_param": "unlock"}]]}}},
        "clean": {"type": "child.yaml", "properties": {"word": "safe"}},
    },
}

EMPTY = {"heat_template_version": "2018-08-31",
         "description": "no resources at all"}
EMPTY_CHILD = {
    "heat_template_version": "2018-08-31",
    "resources": {"hollow": {"type": "empty.yaml"},
                  "full": {"type": "OS::Heat::None"}}}


@pytest.fixture(scope="module")
def own_stacks(heat, population):
    """The module's stacks: ``{name: "name/id"}``."""
    made = {}
    try:
        made["f3-events"] = "f3-events/%s" % conftest.create_stack(
            heat, "f3-events", TEMPLATE, parameters={"unlock": HIDDEN},
            files={"child.yaml": conftest.CHILD})["id"]
        made["f3-events-empty"] = "f3-events-empty/%s" % \
            conftest.create_stack(heat, "f3-events-empty", EMPTY)["id"]
        made["f3-events-hollow"] = "f3-events-hollow/%s" % \
            conftest.create_stack(
                heat, "f3-events-hollow", EMPTY_CHILD,
                files={"empty.yaml": json.dumps(EMPTY)})["id"]
        yield made
    finally:
        for ident in made.values():
            conftest.delete_stack(heat, ident)


@pytest.fixture(scope="module")
def data(local_heat, own_stacks):
    return conftest.poll_json(local_heat, "--enable", "events")


def _stack_of(event):
    href = next(link["href"] for link in event["links"]
                if link["rel"] == "stack")
    return href.rstrip("/").rsplit("/", 1)[1]


def direct_events(heat):
    """``{event id: (stack id, event dict)}`` from a plain per-stack list of
    every stack, nested ones included."""
    found = {}
    for stack in heat.stacks.list(show_nested=True):
        ident = "%s/%s" % (stack.stack_name, stack.id)
        try:
            listed = heat.events.list(ident)
        except heat_exc.HTTPNotFound:
            continue
        for event in listed:
            event = event.to_dict()
            assert _stack_of(event) == stack.id
            found[event["id"]] = (stack.id, event)
    return found


def test_no_errors_nothing_skipped(data):
    assert data["errors"] == {}
    assert data["stats"]["families"]["events"]["skipped"] == []


def test_events_match_per_stack_lists(heat, data):
    direct = direct_events(heat)
    got = {r["id"]: r for r in conftest.records(data, "events")}
    assert len(got) == len(data["tables"]["events"]["rows"])   # no dupes
    assert set(got) == set(direct)
    for eid, (sid, ev) in direct.items():
        row = got[eid]
        action, _, state = ev["resource_status"].partition("_")
        assert (row["stack_id"], row["resource_name"],
                row["logical_resource_id"], row["physical_resource_id"],
                row["event_time"], row["resource_status"],
                row["resource_status_reason"]) == (
            sid, ev["resource_name"], ev["logical_resource_id"],
            ev["physical_resource_id"], ev["event_time"],
            ev["resource_status"], ev["resource_status_reason"])
        assert row["action"] and row["status"] and \
            row["action"] + "_" + row["status"] == ev["resource_status"]


def test_nested_and_resourceless_stacks_are_all_reached(heat, data,
                                                        own_stacks):
    stacks = {s.id: s for s in heat.stacks.list(show_nested=True)}
    per_stack = {}
    for row in conftest.records(data, "events"):
        per_stack.setdefault(row["stack_id"], []).append(row)
    assert set(per_stack) == set(stacks)
    nested = [s for s in stacks.values() if s.parent]
    assert len(nested) >= 5
    # Heat's nested_depth list leaves out stacks without resources: a root
    # without any, and a nested one ('hollow'), still have their events.
    empty = own_stacks["f3-events-empty"].split("/")[1]
    assert [r["resource_status"] for r in per_stack[empty]] == [
        "CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    hollow = next(s for s in nested
                  if s.stack_name.startswith("f3-events-hollow-hollow-"))
    assert len(per_stack[hollow.id]) == 2
    root = own_stacks["f3-events-hollow"].split("/")[1]
    assert heat.events.list(own_stacks["f3-events-hollow"],
                            nested_depth=2) and not [
        e for e in heat.events.list(own_stacks["f3-events-hollow"],
                                    nested_depth=2)
        if _stack_of(e.to_dict()) == hollow.id]     # Heat's gap, really
    assert root in per_stack


def _self_href(stack):
    return next(link["href"] for link in stack.links
                if link["rel"] == "self")


def test_links_match(heat, data):
    direct = direct_events(heat)
    links = {}
    for row in data["tables"]["events_links"]["rows"]:
        links.setdefault(row[0], set()).add((row[1], row[2]))
    for eid, (sid, ev) in direct.items():
        mine = {link for link in links[eid] if link[1] != "root_stack"}
        assert mine == {(link["href"], link["rel"]) for link in ev["links"]}
    stacks = {s.id: s for s in heat.stacks.list(show_nested=True)}

    def root_of(sid):
        while stacks[sid].parent:
            sid = stacks[sid].parent
        return sid
    for eid, (sid, ev) in direct.items():
        # nested_depth answers add a root_stack link; the events of a stack
        # read on its own (a stack without resources) get the same one
        in_tree = bool(stacks[sid].parent) or any(
            s.parent == sid for s in stacks.values())
        roots = [link[0] for link in links[eid] if link[1] == "root_stack"]
        root = stacks[root_of(sid)]
        assert roots == ([_self_href(root)] if in_tree else []), \
            stacks[sid].stack_name


def test_details_match_event_show(heat, data, population):
    direct = direct_events(heat)
    got = {r["id"]: r for r in conftest.records(data, "events")}
    props = {}
    for row in data["tables"]["events_resource_properties"]["rows"]:
        props.setdefault(row[0], {})[row[1]] = row[2]
    wanted = {population[n]["id"] for n in ("pop-fails", "pop-nested",
                                            "pop-simple", "pop-software")}
    stacks = {s.id: s for s in heat.stacks.list(show_nested=True)}
    wanted |= {i for i, s in stacks.items() if s.parent in wanted}
    checked = 0
    for eid, (sid, ev) in direct.items():
        if sid not in wanted:
            continue
        shown = heat.events.get("%s/%s" % (stacks[sid].stack_name, sid),
                                ev["resource_name"], eid).to_dict()
        assert got[eid]["resource_type"] == shown["resource_type"]
        expected = {k: v for k, v in shown["resource_properties"].items()}
        assert set(props.get(eid, {})) == set(expected)
        for key, value in expected.items():
            mine = props[eid][key]
            if mine == redact.REDACTED:
                continue
            if isinstance(value, (dict, list)):
                mine = json.loads(mine)
            assert mine == redact.scrub(value) or key == "inputs", (eid, key)
        checked += 1
    assert checked >= 40


def test_secrets_in_properties_are_redacted(heat, data, own_stacks):
    got = {r["id"]: r for r in conftest.records(data, "events")}
    props = {}
    for row in data["tables"]["events_resource_properties"]["rows"]:
        props.setdefault(row[0], {})[row[1]] = row[2]
    tree = _tree_ids(heat, own_stacks["f3-events"])
    by_name = {}
    for eid, row in got.items():
        if row["stack_id"] in tree or row["resource_name"] == "carrier":
            by_name.setdefault(row["resource_name"], []).append(
                props.get(eid))
    # the hidden parameter reaches 'inner' and, through its 'word'
    # parameter, the nested 'echo': Heat shows it in both event details
    shown = [e for e in heat.events.list(own_stacks["f3-events"],
                                         nested_depth=2)
             if e.resource_name == "echo"]
    assert len(shown) == 4
    stacks = {s.id: s for s in heat.stacks.list(show_nested=True)}
    leaked = []
    for event in shown:
        sid = _stack_of(event.to_dict())
        value = heat.events.get("%s/%s" % (stacks[sid].stack_name, sid),
                                "echo", event.id).resource_properties
        leaked.append(value["value"])
    assert sorted(leaked) == ["key=" + HIDDEN] * 2 + ["safe"] * 2
    assert sorted(p["value"] for p in by_name["echo"]) == \
        [redact.REDACTED] * 2 + ["safe"] * 2
    assert {p["word"] for p in by_name["inner"]} == {redact.REDACTED}
    assert {p["word"] for p in by_name["clean"]} == {"safe"}
    assert {p["value"] for p in by_name["plain"]} == {"one"}
    assert {p["value"] for p in by_name["carrier"]} == {redact.REDACTED}


def test_no_canary_reaches_the_output(local_heat, own_stacks):
    code, out = conftest.run_heatplug(local_heat, "--enable", "events",
                                      "poll", "--format", "json")
    assert json.loads(out)["tables"]["events"]["rows"]
    assert [c for c in conftest.CANARIES + (HIDDEN,) if c in out] == []


def test_cold_poll_requests(heat, data):
    stacks = list(heat.stacks.list(show_nested=True))
    roots = [s for s in stacks if not s.parent]
    stats = data["stats"]
    columns = data["tables"]["events"]["columns"]
    events = [dict(zip(columns, r)) for r in data["tables"]["events"]["rows"]]
    # A stack's own events need no detail call: Heat records them all as
    # OS::Heat::Stack without properties (checked here on Heat's answers).
    names = {s.id: s.stack_name for s in stacks}
    own = [e for e in events if e["physical_resource_id"] == e["stack_id"]
           and e["resource_name"] == names.get(e["stack_id"])]
    assert own
    for event in own[:6]:
        shown = heat.events.get("%s/%s" % (names[event["stack_id"]],
                                           event["stack_id"]),
                                event["resource_name"], event["id"])
        assert (shown.resource_type, shown.resource_properties) == \
            ("OS::Heat::Stack", {}) == (event["resource_type"], {})
    fam = stats["families"]["events"]
    # one list per root stack, one for the resourceless nested stack, one
    # detail per event of a resource; templates (for redaction) are shared
    # reads, of every stack of a tree with events (a secret flows down from
    # a parent and up from a nested stack), here all of them
    assert fam["requests"] == len(roots) + 1 + len(events) - len(own)
    assert {e["stack_id"] for e in events} == {s.id for s in stacks}
    assert stats["shared_requests"] == 1 + len(stacks)


# -- the incremental path, in-process -----------------------------------------

@pytest.fixture
def poller(make_poller, monkeypatch):
    # every event counts as settled: the marker is the newest event
    monkeypatch.setattr(events, "SETTLE_SECONDS", 0)
    return make_poller(["events"])


def _poll(poller):
    rows, stats = conftest.poll(poller, sort=False)
    assert stats["families"]["events"]["skipped"] == []
    return rows, stats


def _ids(rows, stack_ids=None):
    return [r[0] for r in rows["events"]
            if stack_ids is None or r[1] in stack_ids]


def _tree_ids(heat, root_ident):
    root = root_ident.split("/")[1]
    stacks = {s.id: s for s in heat.stacks.list(show_nested=True)}
    tree = {root}
    while True:
        more = {i for i, s in stacks.items() if s.parent in tree} - tree
        if not more:
            return tree
        tree |= more


def _update(heat, ident, **params):
    heat.stacks.update(ident, existing=True, parameters=params)
    time.sleep(0.3)
    conftest.wait_for_stack(heat, ident)


def test_second_poll_reads_only_new_events(heat, poller, own_stacks):
    roots = len([s for s in heat.stacks.list() if not s.parent])
    first, stats1 = _poll(poller)
    second, stats2 = _poll(poller)
    assert sorted(second["events"]) == sorted(first["events"])
    assert sorted(second["events_resource_properties"]) == \
        sorted(first["events_resource_properties"])
    # one list per root (plus the resourceless nested stack), nothing new
    assert stats2["families"]["events"]["requests"] == roots + 1
    assert stats2["shared_requests"] == 1

    ident = own_stacks["f3-events"]
    tree = _tree_ids(heat, ident)
    before = set(_ids(first, tree))
    _update(heat, ident, label="two")
    third, stats3 = _poll(poller)
    ids = _ids(third)
    assert len(ids) == len(set(ids))                    # exactly once
    direct = direct_events(heat)
    assert set(ids) == set(direct)
    new = set(_ids(third, tree)) - before
    assert len(new) >= 4             # stack and 'plain' UPDATE events
    assert set(_ids(third)) - set(_ids(first)) == new
    assert {direct[i][1]["resource_status"] for i in new} >= {
        "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"}
    # an event records the properties the resource had at that moment:
    # the old ones while the update is in progress, which the current
    # template cannot judge: redacted (events.judged_elsewhere); the new
    # ones at UPDATE_COMPLETE, shown unless recorded in the second the
    # update began (Heat's times are to the second)
    status = {r[0]: r[7] for r in third["events"]}
    plain = {status[r[0]]: r[2] for r in third["events_resource_properties"]
             if r[0] in new and r[1] == "value"}
    assert plain["UPDATE_IN_PROGRESS"] == "<redacted>"
    assert plain["UPDATE_COMPLETE"] in ("two", "<redacted>")
    assert {status[i] for i in new} >= {"UPDATE_IN_PROGRESS",
                                        "UPDATE_COMPLETE"}
    # the lists again, one detail per new event of a resource (a stack's
    # own events need none), one check for pruned events (its oldest event)
    # per stack that got new events, templates of the stacks that got them
    # (and their ancestors) as shared reads
    names = {s.id: s.stack_name for s in heat.stacks.list(show_nested=True)}
    own = {r[0] for r in third["events"] if r[0] in new
           and r[4] == r[1] and r[2] == names.get(r[1])}
    assert own and {r[5] for r in third["events"] if r[0] in own} == {
        "OS::Heat::Stack"}
    checked = {r[1] for r in third["events"] if r[0] in new}
    assert stats3["families"]["events"]["requests"] == \
        roots + 1 + len(new) - len(own) + len(checked)
    assert stats3["shared_requests"] >= 2


def _db(local_heat):
    if not getattr(local_heat, "state_dir", None):
        pytest.skip("needs the sqlite file of a Heat this session started")
    return sqlite3.connect(os.path.join(local_heat.state_dir, "heat.sqlite"),
                           timeout=30)


def test_a_lost_marker_is_recovered(heat, local_heat, poller, own_stacks):
    ident = own_stacks["f3-events"]
    first, _ = _poll(poller)
    tree = _tree_ids(heat, ident)
    newest = _ids(first, tree)[-1]
    with _db(local_heat) as db:       # what Heat's purge would do
        db.execute("DELETE FROM event WHERE uuid = ?", (newest,))
    roots = len([s for s in heat.stacks.list() if not s.parent])
    second, stats = _poll(poller)
    # Heat answered the vanished marker from the first event; the family
    # noticed and read the tree again (one more request)
    assert newest not in _ids(second)
    assert sorted(_ids(second)) == sorted(direct_events(heat))
    assert stats["families"]["events"]["requests"] == roots + 1 + 1


def test_pruned_events_are_dropped(heat, local_heat, poller, own_stacks):
    # (a real Heat pruning at max_events_per_stack: test_events_pruning.py)
    ident = own_stacks["f3-events"]
    first, _ = _poll(poller)
    root = ident.split("/")[1]
    oldest = _ids(first, {root})[:2]
    with _db(local_heat) as db:       # Heat prunes a stack's oldest events
        db.executemany("DELETE FROM event WHERE uuid = ?",
                       [(i,) for i in oldest])
    _update(heat, ident, label="three")
    second, _ = _poll(poller)
    assert not set(oldest) & set(_ids(second))
    assert sorted(_ids(second)) == sorted(direct_events(heat))


def test_deleted_stack_leaves_the_tables_and_the_cache(heat, poller):
    created = conftest.create_stack(heat, "f3-events-gone", EMPTY_CHILD,
                                    files={"empty.yaml": json.dumps(EMPTY)})
    first, _ = _poll(poller)
    assert [r for r in first["events"] if r[1] == created["id"]]
    cache = poller._caches["events"]
    assert created["id"] in cache["trees"]
    conftest.delete_stack(heat, "f3-events-gone/%s" % created["id"])
    second, _ = _poll(poller)
    assert not [r for r in second["events"] if r[1] == created["id"]]
    assert created["id"] not in cache["trees"]
    assert set(cache["details"]) == set(_ids(second))


def test_details_can_be_switched_off(heat, poller, monkeypatch):
    real = events.fetch
    monkeypatch.setattr(events, "fetch",
                        lambda ctx: real(ctx, detail=False))
    rows, stats = _poll(poller)
    roots = len([s for s in heat.stacks.list() if not s.parent])
    assert stats["families"]["events"]["requests"] == roots + 1
    assert stats["shared_requests"] == 1
    assert rows["events_resource_properties"] == []
    assert {r[5] for r in rows["events"]} == {None}
    assert sorted(_ids(rows)) == sorted(direct_events(heat))
