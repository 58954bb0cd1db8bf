"""Poll modes: full refreshes, changed-stacks-only, the translation reuse
and progress, through the real core and context over a fake Heat.

The fake answers like Heat 27 does for what these tests touch (a stack
list with parents, per-root resource and event lists with nested_depth
and markers, event details, templates, snapshots, deployments) and counts
every call; the real Heat is in tests/functional/test_modes.py.
"""

import collections
import concurrent.futures
import copy
import types

import pytest

import heatplug
from heatplug import context
from heatplug import core
from heatplug.plugins import events as events_family
from heatplug.plugins import resources as resources_family
from heatplug.plugins import snapshots as snapshots_family
from tests.unit.conftest import StaticAuth

OLD = "2020-01-01T00:00:%02dZ"


def _stack(sid, name, parent=None, status="CREATE_COMPLETE", updated=None):
    return {"id": sid, "stack_name": name, "parent": parent,
            "stack_status": status, "stack_status_reason": "done",
            "updated_time": updated}


def _link(name, sid):
    return "http://heat/v1/p/stacks/%s/%s" % (name, sid)


class TreeHeat:
    """Two root stacks, ``alpha`` (with a nested stack) and ``beta``."""

    def __init__(self):
        self.calls = collections.Counter()
        self.log = []
        self.stack_list = [_stack("a", "alpha"),
                           _stack("an", "alpha-group-x1y2z3", parent="a"),
                           _stack("b", "beta")]
        self.evts = {}
        self.snapshotless = set()
        self.templates = {}         # stack id -> its template, if not the
        self.properties = {}        # default; resource -> its properties
        for n, s in enumerate(self.stack_list):
            self.add_event(s["id"], s["stack_name"], s["id"],
                           "CREATE_IN_PROGRESS", n * 4)
            self.add_event(s["id"], "r", "phys-" + s["id"],
                           "CREATE_COMPLETE", n * 4 + 1)
            self.add_event(s["id"], s["stack_name"], s["id"],
                           "CREATE_COMPLETE", n * 4 + 2)
        self.stacks = types.SimpleNamespace(
            list=self._stacks, template=self._template,
            snapshot_list=self._snapshots)
        self.resources = types.SimpleNamespace(list=self._resources,
                                               metadata=self._metadata)
        self.events = types.SimpleNamespace(list=self._events,
                                            get=self._event)
        self.software_deployments = types.SimpleNamespace(
            list=self._deployments)

    def by_id(self, sid):
        return next(s for s in self.stack_list if s["id"] == sid)

    def add_event(self, sid, res, phys, status, second):
        stack = self.by_id(sid)
        eid = "e-%s-%d" % (sid, second)
        self.evts.setdefault(sid, []).append({
            "id": eid, "event_time": OLD % second, "resource_name": res,
            "logical_resource_id": res, "physical_resource_id": phys,
            "resource_status": status, "resource_status_reason": "x",
            "links": [{"rel": "self", "href": _link(
                stack["stack_name"], sid) + "/resources/r/events/" + eid},
                {"rel": "stack", "href": _link(stack["stack_name"], sid)}]})

    def _count(self, kind, ident=None, **kwargs):
        self.calls[kind] += 1
        self.log.append((kind, ident, kwargs))

    def _sid(self, ident):
        return ident.rsplit("/", 1)[1]

    def _stacks(self, **kwargs):
        self._count("stacks.list")
        return copy.deepcopy(self.stack_list)

    def _tree(self, sid):
        return [sid] + [s["id"] for s in self.stack_list
                        if s["parent"] == sid]

    def _resources(self, ident, **kwargs):
        self._count("resources.list", ident)
        sid = self._sid(ident)
        return [{"resource_name": "r", "resource_type":
                 "OS::Heat::RandomString", "resource_status":
                 "CREATE_COMPLETE", "physical_resource_id": "phys-" + s,
                 "updated_time": OLD % 0, "links": [
                     {"rel": "stack", "href": _link(
                         self.by_id(s)["stack_name"], s)}]}
                for s in self._tree(sid)]

    def _metadata(self, ident, name):
        self._count("resources.metadata", ident)
        return {}

    def _template(self, ident):
        self._count("stacks.template", ident)
        return copy.deepcopy(self.templates.get(self._sid(ident), {
            "heat_template_version": "2018-08-31",
            "resources": {"r": {"type": "OS::Heat::RandomString"}}}))

    def _snapshots(self, ident):
        self._count("stacks.snapshot_list", ident)
        sid = self._sid(ident)
        if sid in self.snapshotless:
            return {"snapshots": []}
        return {"snapshots": [{"id": "snap-" + sid, "name": "s",
                               "status": "COMPLETE", "data": {"x": 1}}]}

    def _deployments(self):
        self._count("software_deployments.list")
        return []

    def _events(self, ident, **kwargs):
        self._count("events.list", ident, **kwargs)
        sid = self._sid(ident)
        sids = self._tree(sid) if kwargs.get("nested_depth") else [sid]
        evs = sorted((e for s in sids for e in self.evts.get(s, ())),
                     key=lambda e: (e["event_time"], e["id"]))
        ids = [e["id"] for e in evs]
        if kwargs.get("marker") in ids:     # Heat: unknown marker = start
            evs = evs[ids.index(kwargs["marker"]) + 1:]
        return copy.deepcopy(evs[:kwargs.get("limit") or None])

    def _event(self, ident, resource, eid):
        self._count("events.get", ident)
        return {"resource_type": "OS::Heat::RandomString",
                "resource_properties": copy.deepcopy(
                    self.properties.get(resource, {"length": 8}))}


def test_event_properties_hide_once_a_nested_stack_says_hidden(run, heat):
    """A parent hands a literal to a nested stack's hidden parameter.  The
    owner's event can be read before the nested stack is listed (created
    just after the stack list was read): the next poll redacts it, and it
    stays redacted once the nested stack is gone."""
    nested = heat.by_id("an")
    heat.stack_list.remove(nested)
    heat.templates = {
        "a": {"heat_template_version": "2018-08-31", "resources": {
            "group": {"type": "child.yaml",
                      "properties": {"word": "lit", "size": 2}}}},
        "an": {"heat_template_version": "2018-08-31",
               "parameters": {"word": {"type": "string", "hidden": True}},
               "resources": {"r": {"type": "OS::Heat::RandomString"}}}}
    heat.properties = {"group": {"word": "lit", "size": 2}}
    heat.add_event("a", "group", "an", "CREATE_IN_PROGRESS", 30)
    poller = run(("events", events_family), full_refresh_every=0)

    def shown():
        result = poller.poll()
        assert result.ok, result.errors
        return {r[1]: r[2] for r in
                result.tables["events_resource_properties"].rows
                if r[0] == "e-a-30"}
    assert shown() == {"word": "lit", "size": 2}   # nothing says hidden yet
    heat.stack_list.append(nested)
    assert shown() == {"word": "<redacted>", "size": 2}
    heat.stack_list.remove(nested)
    assert shown() == {"word": "<redacted>", "size": 2}
    # each detail read once: e-a-30 and the 'r' events of a, b and an
    assert heat.calls["events.get"] == 4


class Probe:
    """A family that records what its context says each poll."""

    def __init__(self, fail_on=()):
        self.seen = []
        self.fail_on = set(fail_on)
        self.translations = 0
        self.raw = [("x",)]
        self.progress = []
        self.poller = None

    @heatplug.hookimpl
    def heatplug_tables(self):
        return [heatplug.table("probe", "test", "", ("x", "a column"))]

    @heatplug.hookimpl
    def heatplug_fetch(self, ctx):
        self.seen.append({
            "full_refresh": ctx.full_refresh,
            "changed_only": ctx.changed_only,
            "roots": sorted(s["id"] for s in ctx.changed_root_stacks()),
            "stacks": sorted(s["id"] for s in ctx.changed_stacks())})
        if self.poller is not None:
            self.progress.append(self.poller.progress())
        if len(self.seen) in self.fail_on:
            raise RuntimeError("probe fails")
        return list(self.raw)

    @heatplug.hookimpl
    def heatplug_translate(self, raw):
        self.translations += 1
        return {"probe": raw}


@pytest.fixture
def heat():
    return TreeHeat()


@pytest.fixture
def run(conf, pm, heat):
    pm.register(StaticAuth(heat), name="static-auth")

    def make(*families, **options):
        for key, value in options.items():
            conf.set_override(key, value, "heatplug")
        for name, family in families:
            pm.register(family, name=name)
        return core.Poller(conf, pm)
    return make


def test_full_refresh_schedule(conf, pm):
    poller = core.Poller(conf, pm)
    conf.set_override("full_refresh_every", 3, "heatplug")
    assert [poller.is_full_refresh(n) for n in range(1, 8)] == [
        True, False, False, True, False, False, True]
    conf.set_override("full_refresh_every", 0, "heatplug")
    assert [poller.is_full_refresh(n) for n in range(1, 5)] == [
        True, False, False, False]


def test_default_mode_reads_every_stack(run, heat):
    probe = Probe()
    poller = run(("probe", probe), full_refresh_every=2)
    stats = [poller.poll().stats for _ in range(3)]
    assert [s["full_refresh"] for s in stats] == [True, False, True]
    assert [s["changed_stacks_only"] for s in stats] == [False] * 3
    assert [p["changed_only"] for p in probe.seen] == [False] * 3
    assert [p["roots"] for p in probe.seen] == [["a", "b"]] * 3
    assert [p["stacks"] for p in probe.seen] == [["a", "an", "b"]] * 3


def test_changed_only_follows_signatures(run, heat):
    probe = Probe()
    poller = run(("probe", probe), changed_stacks_only=True,
                 full_refresh_every=5)
    poller.poll()
    poller.poll()
    heat.by_id("an")["updated_time"] = "2030-01-01T00:00:00Z"   # nested
    poller.poll()
    heat.by_id("b")["stack_status"] = "UPDATE_IN_PROGRESS"
    poller.poll()
    poller.poll()                               # still in progress
    poller.poll()                               # poll 6: a full refresh
    heat.stack_list.append(_stack("c", "gamma"))
    poller.poll()
    assert [p["changed_only"] for p in probe.seen] == [
        False, True, True, True, True, False, True]
    assert [p["roots"] for p in probe.seen] == [
        ["a", "b"], [], ["a"], ["b"], ["b"], ["a", "b"], ["b", "c"]]
    assert [p["stacks"] for p in probe.seen] == [
        ["a", "an", "b"], [], ["an"], ["b"], ["b"], ["a", "an", "b"],
        ["b", "c"]]


def test_changes_count_from_the_last_successful_poll(run, heat):
    probe = Probe(fail_on=[2])
    poller = run(("probe", probe), changed_stacks_only=True)
    assert poller.poll().ok
    heat.by_id("a")["stack_status_reason"] = "again"
    assert not poller.poll().ok           # saw the change, then failed
    assert poller.poll().ok
    assert poller.poll().ok
    assert [p["roots"] for p in probe.seen] == [["a", "b"], ["a"], ["a"], []]


def test_translation_is_reused_while_the_raw_is_the_same(run):
    probe = Probe()
    poller = run(("probe", probe))
    first = poller.poll()
    second = poller.poll()
    assert probe.translations == 1
    assert second.tables["probe"].rows == first.tables["probe"].rows == \
        [("x",)]
    assert second.tables["probe"].rows is not first.tables["probe"].rows
    probe.raw = [("y",)]
    assert poller.poll().tables["probe"].rows == [("y",)]
    assert probe.translations == 2


def test_progress_during_a_poll_and_none_between(run):
    probe = Probe()
    poller = run(("probe", probe))
    probe.poller = poller
    assert poller.progress() is None
    poller.poll()
    assert poller.progress() is None
    state = probe.progress[0]
    assert state["families"] == 1 and state["families_done"] == 0
    assert state["requests"] == 0 and state["seconds"] >= 0


def test_items_are_counted_for_progress(heat):
    import concurrent.futures
    conn = types.SimpleNamespace(heat=heat)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        ctx = context.PollContext(conn, None, pool)
        assert ctx.map(lambda x: x * 2, [1, 2, 3]) == [2, 4, 6]
        assert ctx.map(lambda x: x, [5]) == [5]
        assert (ctx.items_done, ctx.items_total) == (4, 4)


# -- the shared helpers -------------------------------------------------------

def test_stack_signature_and_roots():
    assert context.stack_signature(_stack("a", "n")) == (
        "CREATE_COMPLETE", "done", None)
    assert context.stack_signature(
        _stack("a", "n", status="DELETE_IN_PROGRESS")) is None
    stacks = [_stack("a", "a"), _stack("b", "b", parent="a"),
              _stack("c", "c", parent="b"), _stack("d", "d", parent="gone")]
    assert context.stack_roots(stacks) == {"a": "a", "b": "a", "c": "a",
                                           "d": "d"}


def test_tree_signatures(heat):
    import concurrent.futures
    conn = types.SimpleNamespace(heat=heat)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        sigs = context.PollContext(conn, None, pool).tree_signatures()
        assert set(sigs) == {"a", "b"}
        assert [sid for sid, _ in sigs["a"]] == ["a", "an"]
        heat.by_id("an")["stack_status"] = "UPDATE_IN_PROGRESS"
        assert context.PollContext(conn, None, pool).tree_signatures()[
            "a"] is None


# -- the families in each mode ------------------------------------------------

def _calls(heat, kind):
    return sorted(i for k, i, _ in heat.log if k == kind)


def test_shared_resources_read_only_changed_trees(run, heat):
    poller = run(("resources", resources_family), changed_stacks_only=True)
    first = poller.poll()
    assert first.ok, first.errors
    assert _calls(heat, "resources.list") == ["alpha/a", "beta/b"]
    heat.log.clear()
    second = poller.poll()
    assert _calls(heat, "resources.list") == []
    assert sorted(second.tables["resources"].rows) == \
        sorted(first.tables["resources"].rows)
    heat.by_id("b")["updated_time"] = "2030-01-01T00:00:00Z"
    heat.log.clear()
    third = poller.poll()
    assert _calls(heat, "resources.list") == ["beta/b"]
    assert len(third.tables["resources"].rows) == 3
    # Metadata: every resource here is one whose metadata Heat's code
    # fixes (a RandomString created from a definition without metadata).
    assert heat.calls["resources.metadata"] == 0


def test_events_default_mode(run, heat):
    poller = run(("events", events_family))
    first = poller.poll()
    assert first.ok, first.errors
    assert len(first.tables["events"].rows) == 9
    # One list per root stack (alpha with nested_depth), a detail per
    # resource event only: a stack's own events are known.
    lists = [(i, kw.get("nested_depth"), kw.get("marker"))
             for k, i, kw in heat.log if k == "events.list"]
    assert sorted(lists) == [("alpha/a", 2, None), ("beta/b", None, None)]
    assert heat.calls["events.get"] == 3
    own = {r[0]: r[5] for r in first.tables["events"].rows}
    assert own["e-a-0"] == "OS::Heat::Stack"
    assert own["e-a-1"] == "OS::Heat::RandomString"
    props = {(r[0], r[1]) for r in
             first.tables["events_resource_properties"].rows}
    assert props == {("e-a-1", "length"), ("e-an-5", "length"),
                     ("e-b-9", "length")}
    heat.log.clear()
    second = poller.poll()
    lists = [(i, kw.get("marker")) for k, i, kw in heat.log
             if k == "events.list"]
    # Incremental: after the newest settled event of each tree.
    assert sorted(lists) == [("alpha/a", "e-an-6"), ("beta/b", "e-b-10")]
    assert heat.calls["events.get"] == 3
    assert sorted(second.tables["events"].rows) == \
        sorted(first.tables["events"].rows)


def test_events_changed_only_and_full_refresh(run, heat):
    poller = run(("events", events_family), changed_stacks_only=True,
                 full_refresh_every=3)
    first = poller.poll()
    heat.log.clear()
    second = poller.poll()
    assert heat.calls["events.list"] == 2       # only poll 1 listed
    assert sorted(second.tables["events"].rows) == \
        sorted(first.tables["events"].rows)
    # beta changes: only its tree is listed, from its marker; it got a new
    # event, so its oldest event is read to tell whether Heat pruned any.
    heat.add_event("b", "r", "phys-b", "UPDATE_COMPLETE", 30)
    heat.by_id("b")["updated_time"] = "2030-01-01T00:00:00Z"
    heat.log.clear()
    third = poller.poll()                       # poll 3
    assert [(i, kw.get("marker"), kw.get("limit")) for k, i, kw in heat.log
            if k == "events.list"] == [("beta/b", "e-b-10", 500),
                                       ("beta/b", None, 1)]
    assert len(third.tables["events"].rows) == 10
    assert heat.calls["events.get"] == 4
    # Poll 4 is a full refresh: every tree from its first event, no new
    # detail (an event never changes).
    heat.log.clear()
    fourth = poller.poll()
    assert sorted((i, kw.get("marker")) for k, i, kw in heat.log
                  if k == "events.list") == [("alpha/a", None),
                                             ("beta/b", None)]
    assert heat.calls["events.get"] == 4
    assert fourth.stats["full_refresh"] is True
    assert sorted(fourth.tables["events"].rows) == \
        sorted(third.tables["events"].rows)


def _acted(heat):
    """Every stack has run an action since its creation (so it may have
    snapshots)."""
    for stack in heat.stack_list:
        stack["stack_status"] = "UPDATE_COMPLETE"


def test_snapshots_default_and_changed_only(run, heat):
    _acted(heat)
    poller = run(("snapshots", snapshots_family))
    poller.poll()
    poller.poll()
    assert heat.calls["stacks.snapshot_list"] == 6     # they have snapshots


def test_snapshots_default_skips_unchanged_stacks_that_had_none(run, heat):
    _acted(heat)
    heat.snapshotless = {"a", "b"}
    poller = run(("snapshots", snapshots_family))
    first = poller.poll()
    assert _calls(heat, "stacks.snapshot_list") == [
        "alpha-group-x1y2z3/an", "alpha/a", "beta/b"]
    heat.log.clear()
    second = poller.poll()
    # "an" has one (it may be deleted any time); "a" and "b" had none and
    # their signatures did not change.
    assert _calls(heat, "stacks.snapshot_list") == ["alpha-group-x1y2z3/an"]
    assert second.tables["snapshots"].rows == first.tables["snapshots"].rows
    assert [r[0] for r in second.tables["snapshots"].rows] == ["snap-an"]

    # The snapshot of "an" is deleted: seen at once, and from then on "an"
    # is not read while its signature stays.
    heat.snapshotless.add("an")
    heat.log.clear()
    assert poller.poll().tables["snapshots"].rows == []
    assert _calls(heat, "stacks.snapshot_list") == ["alpha-group-x1y2z3/an"]
    heat.log.clear()
    poller.poll()
    assert _calls(heat, "stacks.snapshot_list") == []

    # Taking a snapshot changes the stack's status: read again; a stack in
    # SNAPSHOT_* is read every poll even without a snapshot.
    heat.snapshotless.discard("b")
    heat.by_id("b")["stack_status"] = "SNAPSHOT_COMPLETE"
    heat.log.clear()
    third = poller.poll()
    assert _calls(heat, "stacks.snapshot_list") == ["beta/b"]
    assert [r[0] for r in third.tables["snapshots"].rows] == ["snap-b"]
    heat.snapshotless.add("b")
    heat.log.clear()
    assert poller.poll().tables["snapshots"].rows == []
    heat.log.clear()
    poller.poll()
    assert _calls(heat, "stacks.snapshot_list") == ["beta/b"]

    # In progress: always read; a full refresh reads every stack.
    heat.by_id("a")["stack_status"] = "UPDATE_IN_PROGRESS"
    heat.log.clear()
    poller.poll()
    assert _calls(heat, "stacks.snapshot_list") == ["alpha/a", "beta/b"]


def test_snapshots_of_stacks_only_created_are_not_read(run, heat):
    """CREATE_* and ADOPT_*: no action since, so no snapshot; read only at
    a full refresh after the first poll."""
    heat.snapshotless = {"a", "an", "b"}
    heat.by_id("b")["stack_status"] = "ADOPT_FAILED"
    poller = run(("snapshots", snapshots_family), full_refresh_every=3)
    first = poller.poll()
    assert first.ok, first.errors
    assert first.stats["full_refresh"]
    assert heat.calls["stacks.snapshot_list"] == 0
    assert first.tables["snapshots"].rows == []
    poller.poll()
    poller.poll()
    assert heat.calls["stacks.snapshot_list"] == 0
    fourth = poller.poll()
    assert fourth.stats["full_refresh"]
    assert _calls(heat, "stacks.snapshot_list") == [
        "alpha-group-x1y2z3/an", "alpha/a", "beta/b"]
    # An update (or any other action) makes it a stack that may have some.
    heat.by_id("a")["stack_status"] = "UPDATE_COMPLETE"
    heat.snapshotless.discard("a")
    heat.log.clear()
    fifth = poller.poll()
    assert _calls(heat, "stacks.snapshot_list") == ["alpha/a"]
    assert [r[0] for r in fifth.tables["snapshots"].rows] == ["snap-a"]


def test_snapshots_changed_only(run, heat):
    _acted(heat)
    poller = run(("snapshots", snapshots_family), changed_stacks_only=True)
    first = poller.poll()
    second = poller.poll()
    assert heat.calls["stacks.snapshot_list"] == 3
    assert sorted(second.tables["snapshots"].rows) == \
        sorted(first.tables["snapshots"].rows)
    assert len(first.tables["snapshots"].rows) == 3
    heat.by_id("an")["stack_status"] = "SNAPSHOT_COMPLETE"
    heat.log.clear()
    third = poller.poll()
    assert _calls(heat, "stacks.snapshot_list") == ["alpha-group-x1y2z3/an"]
    assert len(third.tables["snapshots"].rows) == 3


def test_map_cached_answers_hits_inline(heat):
    import concurrent.futures
    import threading
    conn = types.SimpleNamespace(heat=heat)
    main = threading.current_thread()
    where = {}

    def fn(x):
        where[x] = threading.current_thread() is main
        return x * 10

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        ctx = context.PollContext(conn, None, pool)
        assert ctx.map_cached(fn, [1, 2, 3, 4],
                              lambda x: "hit" if x % 2 else None) == [
            "hit", 20, "hit", 40]
    assert sorted(where) == [2, 4]         # only the misses ran fn
    assert (ctx.items_done, ctx.items_total) == (2, 2)


class AdminHeat(TreeHeat):
    """What Heat 27 answers a cloud admin whose token is scoped to project
    ``mine``: every project's stacks, each with its ``project``; event lists
    with ``nested_depth`` and snapshot lists filtered to ``mine``
    (``heat/db/api.py``: ``event_get_all_by_tenant``,
    ``snapshot_get_all_by_stack``).  ``alpha`` and its nested stack are in
    project ``other``."""

    def __init__(self, projects_listed=True):
        super().__init__()
        self.projects = {"a": "other", "an": "other", "b": "mine"}
        for stack in self.stack_list:
            stack["links"] = [{"rel": "self", "href": _link(
                stack["stack_name"], stack["id"])}]
            if projects_listed:
                stack["project"] = self.projects[stack["id"]]
        self.http_client = types.SimpleNamespace(
            get_project_id=lambda: "mine",
            get_endpoint=lambda: "http://heat/v1/mine")

    def _events(self, ident, **kwargs):
        evs = super()._events(ident, **kwargs)
        if not kwargs.get("nested_depth"):
            return evs
        return [e for e in evs if self.projects[
            e["links"][1]["href"].rsplit("/", 1)[1]] == "mine"]

    def _snapshots(self, ident):
        answer = super()._snapshots(ident)
        if self.projects[self._sid(ident)] != "mine":
            return {"snapshots": []}
        return answer


def _events_lists(heat):
    return sorted(((i, kw.get("nested_depth"), kw.get("marker"))
                   for k, i, kw in heat.log if k == "events.list"), key=repr)


@pytest.mark.parametrize("projects_listed", [True, False])
def test_another_projects_tree_is_read_a_stack_at_a_time(run, conf, pm,
                                                         projects_listed):
    heat = AdminHeat(projects_listed)
    pm.unregister(name="static-auth")       # run's, on TreeHeat
    pm.register(StaticAuth(heat), name="static-auth")
    poller = run(("events", events_family))
    first = poller.poll()
    assert first.ok, first.errors
    # Every event of every stack, as for a token of alpha's own project.
    assert len(first.tables["events"].rows) == 9
    assert {r[1] for r in first.tables["events"].rows} == {"a", "an", "b"}
    # The root_stack link Heat gives every event of a tree listed with
    # nested_depth: on every event of alpha's tree, read a stack at a time.
    roots = {(e, h) for e, h, rel in first.tables["events_links"].rows
             if rel == "root_stack"}
    assert roots == {(r[0], _link("alpha", "a"))
                     for r in first.tables["events"].rows if r[1] != "b"}
    if projects_listed:
        # The stack list says alpha is another project's: no nested_depth.
        assert _events_lists(heat) == [
            ("alpha-group-x1y2z3/an", None, None), ("alpha/a", None, None),
            ("beta/b", None, None)]
    else:
        # Heat's answer has no event of alpha: the tree is read again a
        # stack at a time.
        assert _events_lists(heat) == [
            ("alpha-group-x1y2z3/an", None, None), ("alpha/a", 2, None),
            ("alpha/a", None, None), ("beta/b", None, None)]
    heat.add_event("an", "r", "phys-an", "UPDATE_COMPLETE", 40)
    heat.log.clear()
    second = poller.poll()
    assert len(second.tables["events"].rows) == 10
    if projects_listed:
        # Incremental, stack by stack, from each stack's own marker; the
        # stack that got a new event is checked for pruned ones (its oldest
        # event, limit=1).
        assert _events_lists(heat) == [
            ("alpha-group-x1y2z3/an", None, "e-an-6"),
            ("alpha-group-x1y2z3/an", None, None),
            ("alpha/a", None, "e-a-2"), ("beta/b", None, "e-b-10")]


def test_another_projects_snapshots_are_not_read(run, conf, pm, caplog):
    heat = AdminHeat()
    _acted(heat)
    pm.unregister(name="static-auth")       # run's, on TreeHeat
    pm.register(StaticAuth(heat), name="static-auth")
    poller = run(("snapshots", snapshots_family))
    with caplog.at_level("WARNING", logger="heatplug.plugins.snapshots"):
        first = poller.poll()
        poller.poll()
    assert first.ok, first.errors
    assert _calls(heat, "stacks.snapshot_list") == ["beta/b", "beta/b"]
    assert first.tables["snapshots"].rows == [
        ("snap-b", "b", "s", None, "COMPLETE", None, None)]
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 1 and "2 listed stack(s)" in warned[0], warned


def test_token_project():
    def project(heat):
        conn = types.SimpleNamespace(heat=heat)
        return context.PollContext(conn, None, None).token_project()

    def client(project_id, endpoint):
        return types.SimpleNamespace(http_client=types.SimpleNamespace(
            get_project_id=lambda: project_id,
            get_endpoint=lambda: endpoint))

    assert project(client("p1", "http://heat/v1/p2")) == "p1"
    # admin_token or none auth: the project is the endpoint's last segment
    assert project(client(None, "http://heat:8004/v1/p2/")) == "p2"
    assert project(client(None, None)) is None
    assert project(TreeHeat()) is None


def test_templates_are_read_once_per_stack_signature(heat):
    """PollContext.templates: one read per poll whoever asks, then none
    while the stack's signature holds; again once it changes, while it is
    in progress and at a full refresh; 404s and stacks that left the list
    are dropped."""
    state = {}
    heat.templates["b"] = {"heat_template_version": "2018-08-31",
                           "outputs": {"o": {"value": 1}},
                           "description": "not kept"}

    def poll(full_refresh=False):
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            ctx = context.PollContext(types.SimpleNamespace(heat=heat), None,
                                      pool, full_refresh, state)
            first = ctx.templates(ctx.stacks())
            assert ctx.templates(ctx.stacks()) == first   # a 2nd family
            if full_refresh:    # the whole template, read once this poll
                assert ctx.template(heat.by_id("a"))["heat_template_version"]
            return first

    def reads():
        reads = sorted(i for k, i, _ in heat.log if k == "stacks.template")
        heat.log.clear()
        return reads

    got = poll(full_refresh=True)
    assert reads() == ["alpha-group-x1y2z3/an", "alpha/a", "beta/b"]
    assert got["b"] == {"outputs": {"o": {"value": 1}}}   # the sections
    assert set(got) == {"a", "an", "b"}
    assert poll() == got and reads() == []
    heat.by_id("b")["updated_time"] = "2030-01-01T00:00:00Z"
    heat.by_id("an")["stack_status"] = "UPDATE_IN_PROGRESS"
    poll()
    assert reads() == ["alpha-group-x1y2z3/an", "beta/b"]
    poll()
    assert reads() == ["alpha-group-x1y2z3/an"]      # still in progress
    poll(full_refresh=True)
    assert reads() == ["alpha-group-x1y2z3/an", "alpha/a", "beta/b"]
    heat.stack_list = [s for s in heat.stack_list if s["id"] != "b"]
    poll()
    assert set(state["templates"]) == {"a", "an"}
