"""Nested stacks whose parent is gone, and events Heat pruned.

An *orphan* is a nested stack whose parent is not in the stack list: Heat
keeps the nested stack of a ``deletion_policy: Retain`` resource when its
parent is deleted (and the nested stacks of an abandoned stack), lists it
with the dead parent's id in ``parent``, and answers its resource and event
lists like a root's.  It is the root of its own tree for every per-tree read
(``PollContext.root_stacks``), and who owns it is unknown, so the secret
analysis of resources and events is conservative for it.

Heat prunes a stack's oldest events only while it adds one to that stack;
the events family checks a stack that got new events (one call) and drops
what Heat pruned.

Through the real core and context over test_modes' fake Heat; the real Heat
is in tests/functional/test_orphans.py and test_events_pruning.py.
"""

import concurrent.futures
import types

import pytest

import heatplug
from heatplug import context
from heatplug import redact
from heatplug.plugins import events as events_family
from heatplug.plugins import resources as resources_family
from tests.unit.test_modes import TreeHeat
from tests.unit.test_modes import _calls
from tests.unit.test_modes import _link
from tests.unit.test_modes import _stack
# the Poller factory over this module's heat fixture, re-exported as a
# fixture here: the tests that take ``run`` get it (hence noqa: F811)
from tests.unit.test_modes import run  # noqa: F401

VALUE = {"heat_template_version": "2018-08-31",
         "resources": {"r": {"type": "OS::Heat::Value",
                             "properties": {"value": "plain"}}}}


class OrphanHeat(TreeHeat):
    """TreeHeat's ``alpha`` (with its nested ``an``) and ``beta``, plus the
    orphan ``o`` (its parent ``gone`` was deleted) with its own nested stack
    ``on``.  Every stack's resource ``r`` is an ``OS::Heat::Value`` whose
    value (attribute, event property) is ``plain``; an ``r`` whose stack
    has a nested stack owns it (its ``nested`` link)."""

    def __init__(self):
        super().__init__()
        self.stack_list += [_stack("o", "gone-kept-abc123", parent="gone"),
                            _stack("on", "gone-kept-abc123-r-x1y2z3",
                                   parent="o")]
        for n, sid in enumerate(("o", "on")):
            name = self.by_id(sid)["stack_name"]
            second = 41 + n * 3
            self.add_event(sid, name, sid, "CREATE_IN_PROGRESS", second)
            self.add_event(sid, "r", "phys-" + sid, "CREATE_COMPLETE",
                           second + 1)
            self.add_event(sid, name, sid, "CREATE_COMPLETE", second + 2)
        self.properties["r"] = {"value": "plain"}
        self.templates.update((s["id"], VALUE) for s in self.stack_list)

    def _tree(self, sid):
        # every level below sid, as Heat's nested_depth answers
        tree = [sid]
        for stack in self.stack_list:
            if stack["parent"] in tree:
                tree.append(stack["id"])
        return tree

    def _events(self, ident, **kwargs):
        # Heat finds a nested_depth list's stacks by their resources' root
        # stack: for an orphan's tree, the deleted parent.  Nothing listed.
        if kwargs.get("nested_depth") and \
                self.by_id(self._sid(ident))["parent"] == "gone" and \
                not any(s["id"] == "gone" for s in self.stack_list):
            self._count("events.list", ident, **kwargs)
            return []
        return super()._events(ident, **kwargs)

    def _resources(self, ident, **kwargs):
        found = super()._resources(ident, **kwargs)
        for res in found:
            sid = res["links"][0]["href"].rsplit("/", 1)[1]
            res.update(resource_type="OS::Heat::Value",
                       attributes={"value": "plain"})
            res["links"] += [
                {"rel": "nested", "href": _link(s["stack_name"], s["id"])}
                for s in self.stack_list if s["parent"] == sid]
        return found


@pytest.fixture
def heat():
    return OrphanHeat()


def _poll(poller):
    result = poller.poll()
    assert result.ok, result.errors
    for family in result.stats["families"].values():
        assert family["skipped"] == []
    return {name: td.rows for name, td in result.tables.items()}


# -- what a root is ----------------------------------------------------------

def test_an_orphan_is_the_root_of_its_tree(heat):
    stacks = heat.stack_list
    assert context.orphans(stacks) == {"o"}
    assert context.stack_roots(stacks) == {"a": "a", "an": "a", "b": "b",
                                           "o": "o", "on": "o"}
    conn = types.SimpleNamespace(heat=heat)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        ctx = context.PollContext(conn, None, pool)
        # one definition: the roots of the trees the signatures cover
        assert [s["id"] for s in ctx.root_stacks()] == ["a", "b", "o"]
        assert set(ctx.tree_signatures()) == {"a", "b", "o"}
        assert [sid for sid, _ in ctx.tree_signatures()["o"]] == ["o", "on"]
    # a stack without an id is no root (nothing can be read for it)
    assert context.orphans([{"stack_name": "x", "parent": "gone"}]) == set()


class Probe:
    """A family that records the root stacks it must read each poll."""

    def __init__(self):
        self.seen = []

    @heatplug.hookimpl
    def heatplug_tables(self):
        return [heatplug.table("probe", "test", "", ("x", "a column"))]

    @heatplug.hookimpl
    def heatplug_fetch(self, ctx):
        self.seen.append(sorted(s["id"] for s in ctx.changed_root_stacks()))
        return []

    @heatplug.hookimpl
    def heatplug_translate(self, raw):
        return {"probe": raw}


def test_every_family_sees_the_orphan_as_a_changed_root(
        run, heat):  # noqa: F811
    probe = Probe()
    poller = run(("probe", probe), changed_stacks_only=True)
    for _ in range(2):
        _poll(poller)
    heat.by_id("on")["updated_time"] = "2030-01-01T00:00:00Z"
    _poll(poller)
    assert probe.seen == [["a", "b", "o"], [], ["o"]]


# -- resources ----------------------------------------------------------------

def test_an_orphans_resources_are_read_from_it(run, heat):  # noqa: F811
    poller = run(("resources", resources_family))
    tables = _poll(poller)
    assert _calls(heat, "resources.list") == [
        "alpha/a", "beta/b", "gone-kept-abc123/o"]
    assert sorted((r[0], r[1]) for r in tables["resources"]) == [
        ("a", "r"), ("an", "r"), ("b", "r"), ("o", "r"), ("on", "r")]
    # The orphan's nested stack is owned by the orphan's resource.
    owner = [r for r in tables["resources"] if r[0] == "o"][0]
    assert owner[-1] == "on"
    # Who owns the orphan is unknown, so what its parent handed it is: every
    # attribute of it, and of the stacks below it, is redacted; the other
    # stacks' show.
    attrs = {r[0]: r[3] for r in tables["resources_attributes"]}
    assert attrs == {"a": "plain", "an": "plain", "b": "plain",
                     "o": redact.REDACTED, "on": redact.REDACTED}


def test_an_orphans_tree_is_read_again_only_when_it_changed(
        run, heat):  # noqa: F811
    poller = run(("resources", resources_family), changed_stacks_only=True)
    first = _poll(poller)
    heat.log.clear()
    assert _poll(poller)["resources"] == first["resources"]
    assert _calls(heat, "resources.list") == []
    heat.by_id("on")["stack_status"] = "UPDATE_COMPLETE"
    heat.log.clear()
    assert _poll(poller)["resources"] == first["resources"]
    assert _calls(heat, "resources.list") == ["gone-kept-abc123/o"]


def test_the_parent_going_makes_its_nested_stack_a_root(
        run, heat):  # noqa: F811
    """Before: ``o`` is ``p``'s nested stack, read with p's tree; p is
    deleted (o kept): o's tree is read on its own, and redacted."""
    heat.stack_list.append(_stack("gone", "gone"))
    heat.templates["gone"] = VALUE
    poller = run(("resources", resources_family))
    first = _poll(poller)
    assert "gone-kept-abc123/o" not in _calls(heat, "resources.list")
    assert {r[0]: r[3] for r in first["resources_attributes"]}["o"] == \
        "plain"
    heat.stack_list.remove(heat.by_id("gone"))
    heat.log.clear()
    second = _poll(poller)
    assert _calls(heat, "resources.list") == [
        "alpha/a", "beta/b", "gone-kept-abc123/o"]
    assert sorted(r[:2] for r in second["resources"]) == sorted(
        r[:2] for r in first["resources"] if r[0] != "gone")
    attrs = {r[0]: r[3] for r in second["resources_attributes"]}
    assert attrs["o"] == attrs["on"] == redact.REDACTED


def test_translate_without_orphans_key_shows_what_the_template_allows():
    res = {"resource_name": "r", "resource_type": "OS::Heat::Value",
           "attributes": {"value": "plain"},
           "links": [{"rel": "stack", "href": _link("s", "o")}]}
    raw = {"resources": [res], "templates": {"o": VALUE}}
    rows = resources_family.heatplug_translate(raw)
    assert [r[3] for r in rows["resources_attributes"]] == ["plain"]
    rows = resources_family.heatplug_translate(dict(raw, orphans=["o"]))
    assert [r[3] for r in rows["resources_attributes"]] == [redact.REDACTED]


# -- events -------------------------------------------------------------------

def _events_lists(heat):
    return [(i, kw.get("nested_depth"), kw.get("marker"), kw.get("limit"))
            for k, i, kw in heat.log if k == "events.list"]


def test_an_orphans_events_are_read_from_it_and_followed(
        run, heat):  # noqa: F811
    poller = run(("events", events_family))
    first = _poll(poller)
    # Read a stack at a time: Heat's nested_depth list has nothing for it.
    assert sorted(_events_lists(heat)) == [
        ("alpha/a", 2, None, 500), ("beta/b", None, None, 500),
        ("gone-kept-abc123-r-x1y2z3/on", None, None, 500),
        ("gone-kept-abc123/o", None, None, 500)]
    assert {r[1] for r in first["events"]} == {"a", "an", "b", "o", "on"}
    props = {r[0]: r[2] for r in first["events_resource_properties"]}
    assert props == {"e-a-1": "plain", "e-an-5": "plain", "e-b-9": "plain",
                     "e-o-42": redact.REDACTED, "e-on-45": redact.REDACTED}
    # The orphan's tree is read from its marker every poll, like any root's
    # (it was once left to its first answer for ever).
    heat.add_event("on", "r", "phys-on", "UPDATE_COMPLETE", 50)
    heat.log.clear()
    second = _poll(poller)
    assert ("gone-kept-abc123-r-x1y2z3/on", None, "e-on-46", 500) in \
        _events_lists(heat)
    assert "e-on-50" in {r[0] for r in second["events"]}
    assert {r[0]: r[2] for r in second["events_resource_properties"]}[
        "e-on-50"] == redact.REDACTED


def test_effective_secrets_of_an_orphan():
    by_id = {"o": {"id": "o", "stack_name": "o", "parent": "gone"},
             "on": {"id": "on", "stack_name": "o-r-x1", "parent": "o"},
             "b": {"id": "b", "stack_name": "b", "parent": None}}
    analyses = {"o": {"r": set()}, "on": {"r": set()}, "b": {"r": set()}}
    owned = events_family.owners(by_id, [])
    assert owned == {"on": ("o", "r")}
    assert events_family.effective_secrets(by_id, analyses, owned) == {
        "o": None, "on": None, "b": {"r": set()}}


# -- events Heat pruned ------------------------------------------------------

def _prune(heat, sid, count):
    """What Heat does at max_events_per_stack: drop the oldest events."""
    gone = [e["id"] for e in heat.evts[sid][:count]]
    del heat.evts[sid][:count]
    return gone


def _heat_event_ids(heat):
    return sorted(e["id"] for evs in heat.evts.values() for e in evs)


def test_pruned_events_leave_the_table(run, heat):  # noqa: F811
    poller = run(("events", events_family))
    _poll(poller)
    heat.log.clear()
    steady = _poll(poller)
    # Steady: one list per tree (the orphan's: per stack) from its marker,
    # no check (no new event).
    assert all(limit == 500 for *_, limit in _events_lists(heat))
    assert len(_events_lists(heat)) == 4
    assert sorted(r[0] for r in steady["events"]) == _heat_event_ids(heat)

    # beta gets two events and Heat prunes its two oldest; the nested an
    # gets one, nothing pruned; alpha and the orphan get none.
    heat.add_event("b", "r", "phys-b", "UPDATE_IN_PROGRESS", 51)
    heat.add_event("b", "r", "phys-b", "UPDATE_COMPLETE", 52)
    gone = _prune(heat, "b", 2)
    heat.add_event("an", "r", "phys-an", "UPDATE_COMPLETE", 53)
    heat.log.clear()
    tables = _poll(poller)
    ids = sorted(r[0] for r in tables["events"])
    assert ids == _heat_event_ids(heat)
    assert not set(gone) & set(ids)
    # One check (the oldest event, limit=1) per stack that got new events.
    checks = sorted(i for i, depth, marker, limit in _events_lists(heat)
                    if limit == 1)
    assert checks == ["alpha-group-x1y2z3/an", "beta/b"]
    assert len(_events_lists(heat)) == 4 + 2
    # The details of the pruned events are dropped too.
    assert not set(gone) & set(poller._caches["events"]["details"])

    # Steady again: no check.
    heat.log.clear()
    assert sorted(r[0] for r in _poll(poller)["events"]) == ids
    assert [limit for *_, limit in _events_lists(heat)] == [500] * 4


def test_a_new_stacks_events_need_no_check(run, heat):  # noqa: F811
    poller = run(("events", events_family))
    _poll(poller)
    heat.stack_list.append(_stack("c", "gamma"))
    heat.add_event("c", "gamma", "c", "CREATE_COMPLETE", 55)
    heat.log.clear()
    tables = _poll(poller)
    assert "e-c-55" in {r[0] for r in tables["events"]}
    # every event of c is new: nothing cached can be stale
    assert [i for i, *_, limit in _events_lists(heat) if limit == 1] == []
