"""The events family's rules for properties recorded under another template
version (an update, a rollback) and for ``resource_facade``.

Heat's events do not say which template they were recorded under, and
hold the resource's stored properties at the time: an ``UPDATE_IN_PROGRESS``
and the ``DELETE_*`` of a resource an update removed or replaced hold the
old ones (seen on the real Heat: tests/reliability/test_secrets.py).
"""

import pytest

from heatplug.plugins import events
from tests.unit.test_modes import OLD, heat, run  # noqa: F401

T0 = "2020-01-01T00:00:10Z"


def _event(status, second, resource="r", stack="s"):
    return {"id": "e%d" % second, "resource_name": resource,
            "resource_status": status, "event_time": OLD % second,
            "physical_resource_id": "p",
            "links": [{"rel": "stack",
                       "href": "http://heat/v1/p/stacks/%s/%s" % (
                           stack, stack)}]}


@pytest.mark.parametrize("stack,expected", [
    ({"updated_time": None, "stack_status": "CREATE_COMPLETE"},
     (None, True)),
    ({"updated_time": T0, "stack_status": "UPDATE_COMPLETE"}, (
        events.context.epoch(T0), False)),
    ({"updated_time": T0, "stack_status": "ROLLBACK_COMPLETE"}, (
        events.context.epoch(T0), False)),
    ({"updated_time": T0, "stack_status": "CHECK_COMPLETE"}, (
        events.context.epoch(T0), True)),
    ({"updated_time": "not a time", "stack_status": "UPDATE_COMPLETE"},
     (float("inf"), False)),
])
def test_history(stack, expected):
    assert events.history(stack) == expected


@pytest.mark.parametrize("status,second,stack,elsewhere", [
    # never updated: only what holds an old definition by its state
    ("CREATE_COMPLETE", 5, "CREATE_COMPLETE", False),
    ("SIGNAL_COMPLETE", 5, "CREATE_COMPLETE", False),
    ("UPDATE_IN_PROGRESS", 5, "CREATE_COMPLETE", True),
    ("UPDATE_FAILED", 5, "CREATE_COMPLETE", True),
    ("DELETE_COMPLETE", 5, "CREATE_COMPLETE", True),
    ("ROLLBACK_COMPLETE", 5, "CREATE_COMPLETE", True),
    # updated at second 10: everything up to it (to the second) is older
    ("CREATE_COMPLETE", 5, "UPDATE_COMPLETE", True),
    ("CREATE_COMPLETE", 10, "UPDATE_COMPLETE", True),
    ("CREATE_COMPLETE", 11, "UPDATE_COMPLETE", False),
    ("CREATE_FAILED", 11, "UPDATE_COMPLETE", False),
    ("UPDATE_COMPLETE", 11, "UPDATE_COMPLETE", False),
    ("UPDATE_IN_PROGRESS", 11, "UPDATE_COMPLETE", True),
    ("DELETE_IN_PROGRESS", 11, "UPDATE_COMPLETE", True),
    ("SIGNAL_COMPLETE", 11, "UPDATE_COMPLETE", True),
    ("CREATE_COMPLETE", 11, "ROLLBACK_COMPLETE", False),
    ("SIGNAL_COMPLETE", 11, "ROLLBACK_IN_PROGRESS", True),
    # a check keeps the template: what follows it is judged as usual
    ("CHECK_COMPLETE", 11, "CHECK_COMPLETE", False),
    ("SIGNAL_COMPLETE", 11, "CHECK_COMPLETE", False),
    ("CREATE_COMPLETE", 9, "CHECK_COMPLETE", True),
])
def test_judged_elsewhere(status, second, stack, elsewhere):
    updated = None if stack == "CREATE_COMPLETE" else T0
    since, same = events.history({"updated_time": updated,
                                  "stack_status": stack})
    assert events.judged_elsewhere(_event(status, second), since, same) \
        is elsewhere


def test_judged_elsewhere_without_a_time():
    event = dict(_event("CREATE_COMPLETE", 11), event_time=None)
    assert events.judged_elsewhere(event, None, True) is False
    assert events.judged_elsewhere(event, events.context.epoch(T0), False)


def test_verdict():
    secrets = {"s": {"r": {"value"}, "plain": set()}}
    names = {"s": {"r", "plain"}}
    never = {"s": (None, True)}
    judge = lambda event, hist=never: events._verdict(  # noqa: E731
        secrets, names, hist, event)
    assert judge(_event("CREATE_COMPLETE", 5)) == ["value"]
    assert judge(_event("CREATE_COMPLETE", 5, "plain")) == []
    # a resource the template does not know (removed, rolled back)
    assert judge(_event("CREATE_COMPLETE", 5, "gone")) is None
    # older than the last update
    updated = {"s": events.history({"updated_time": T0,
                                    "stack_status": "UPDATE_COMPLETE"})}
    assert judge(_event("CREATE_COMPLETE", 5, "plain"), updated) is None
    assert judge(_event("CREATE_COMPLETE", 11, "plain"), updated) == []
    # a stack's own event has no properties
    own = dict(_event("UPDATE_IN_PROGRESS", 5, "s"), physical_resource_id="s")
    assert judge(own, updated) == []
    # unknown template, unknown stack
    assert events._verdict(secrets, {"s": None}, never,
                           _event("CREATE_COMPLETE", 5)) is None
    assert judge(_event("CREATE_COMPLETE", 5, stack="x")) is None


FACADE_PARENT = {
    "heat_template_version": "2018-08-31",
    "parameters": {"faceme": {"type": "string", "hidden": True},
                   "plain": {"type": "string"}},
    "resources": {
        "meta": {"type": "facade.yaml",
                 "metadata": {"blob": {"get_param": "faceme"}}},
        "policy": {"type": "facade.yaml",
                   "update_policy": {"x": {"get_attr": ["pw", "value"]}}},
        "fine": {"type": "facade.yaml",
                 "metadata": {"blob": {"get_param": "plain"}}},
        "pw": {"type": "OS::Heat::RandomString"}}}

FACADE_CHILD = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "fac": {"type": "OS::Heat::Value",
                "properties": {"value": {"resource_facade": "metadata"},
                               "label": "plain"}},
        "relay": {"type": "OS::Heat::Value",
                  "properties": {"value": {"get_attr": ["fac", "value"]}}},
        "cfn": {"type": "OS::Heat::Value",
                "properties": {"value": {"Fn::ResourceFacade": "Metadata"}}},
        "other": {"type": "OS::Heat::Value",
                  "properties": {"value": "x"}}}}


def test_facade_secrets():
    assert events.facade_secrets(FACADE_PARENT) == {"meta", "policy"}
    # an owner whose attributes carry a nested stack's secret
    assert events.facade_secrets({"resources": {
        "a": {"type": "x.yaml", "metadata": {"v": {
            "get_attr": ["b", "out"]}}},
        "b": {"type": "y.yaml"}}}, seeds={"b": {"out"}}) == {"a"}


def test_secret_properties_with_a_facade():
    assert events.secret_properties(FACADE_CHILD) == {}
    assert events.secret_properties(FACADE_CHILD, facade=True) == {
        "fac": {"value"}, "relay": {"value"}, "cfn": {"value"}}


def test_an_update_rejudges_cached_events(run, heat):  # noqa: F811
    """Event details are judged when read and kept; an update of the stack
    changes its signature, so they are judged again: those recorded before
    it are redacted, with no call more than the update's own, and a steady
    poll makes no call for it."""
    heat.templates["b"] = {
        "heat_template_version": "2018-08-31",
        "resources": {"r": {"type": "OS::Heat::Value",
                            "properties": {"value": "plain"}}}}
    heat.properties = {"r": {"value": "plain"}}
    poller = run(("events", events), full_refresh_every=0)

    def shown():
        result = poller.poll()
        assert result.ok, result.errors
        return {r[0]: r[2] for r in
                result.tables["events_resource_properties"].rows
                if r[0].startswith("e-b-")}
    assert shown() == {"e-b-9": "plain"}
    assert shown() == {"e-b-9": "plain"}
    before = dict(heat.calls)
    assert shown() == {"e-b-9": "plain"}
    # a steady poll: the stack list and one event list per tree, no more
    assert {k: v - before.get(k, 0) for k, v in heat.calls.items()} == {
        "stacks.list": 1, "events.list": 2, "stacks.template": 0,
        "events.get": 0}
    heat.by_id("b")["updated_time"] = OLD % 20
    heat.by_id("b")["stack_status"] = "UPDATE_COMPLETE"
    heat.add_event("b", "r", "phys-b", "UPDATE_COMPLETE", 21)
    before = dict(heat.calls)
    assert shown() == {"e-b-9": "<redacted>", "e-b-21": "plain"}
    # the update: its template read again, the new event's detail read
    assert heat.calls["stacks.template"] - before["stacks.template"] == 1
    assert heat.calls["events.get"] - before["events.get"] == 1
    assert shown() == {"e-b-9": "<redacted>", "e-b-21": "plain"}
