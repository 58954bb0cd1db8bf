"""Events Heat pruned leave the ``events`` table, against a real Heat that
prunes.

Heat keeps at most ``max_events_per_stack`` events per stack: once a stack
holds that many, adding an event first deletes its oldest ones
(``event_purge_batch_size`` at a time; with a batch of 2 Heat checks on
every event, not on 1% of them).  This module starts its own Heat with a
limit of 20 (``LocalHeat(extra_conf=...)``), updates a stack between the
polls of one in-process Poller and compares the events table with Heat's
own per-stack lists: the events Heat pruned are gone from the table too,
and a steady poll still makes no call but the event list.
"""

import os

import pytest

from heatplug import core
from heatplug import manager
from heatplug import opts
from heatplug.plugins import events
from tests.functional import conftest
from tests.functional import heat_fixture

LIMIT = 20
EXTRA_CONF = ("[DEFAULT]\nmax_events_per_stack = %d\n"
              "event_purge_batch_size = 2\n" % LIMIT)

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "parameters": {"p": {"type": "string"}},
    "resources": {
        "v": {"type": "OS::Heat::Value",
              "properties": {"value": {"get_param": "p"}}},
        "g": {"type": "OS::Heat::ResourceGroup", "properties": {
            "count": 1, "resource_def": {
                "type": "OS::Heat::Value",
                "properties": {"value": {"get_param": "p"}}}}},
    },
}


@pytest.fixture(scope="module")
def pruning_heat():
    if os.environ.get(heat_fixture.ENDPOINT_ENV):
        pytest.skip("needs a Heat this module starts (max_events_per_stack)")
    with heat_fixture.LocalHeat(rpc_poll=0.005,
                                extra_conf=EXTRA_CONF) as heat:
        yield heat


@pytest.fixture
def poller(pruning_heat, monkeypatch):
    for key in [k for k in os.environ if k.startswith("OS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("OS_AUTH_TYPE", "none")
    monkeypatch.setenv("OS_ENDPOINT", pruning_heat.endpoint)
    # Every event is settled at once: the incremental read (from a marker)
    # is what a prune could leave stale.
    monkeypatch.setattr(events, "SETTLE_SECONDS", 0)
    conf = opts.make_conf()
    conf.set_override("enabled_plugins", ["events"], "heatplug")
    return core.Poller(conf, manager.build_plugin_manager(conf))


def _heat_events(client):
    """``{event id: stack id}`` from Heat's per-stack lists."""
    found = {}
    for stack in client.stacks.list(show_nested=True):
        ident = "%s/%s" % (stack.stack_name, stack.id)
        for event in client.events.list(ident, sort_dir="asc", limit=10000):
            found[event.id] = stack.id
    return found


def _poll(poller):
    rows, stats = conftest.poll(poller)
    assert stats["families"]["events"]["skipped"] == []
    ids = [r[0] for r in rows["events"]]
    assert len(ids) == len(set(ids))
    return {r[0]: r[1] for r in rows["events"]}, stats


def test_pruned_events_leave_the_table(pruning_heat, poller):
    client = pruning_heat.client()
    stack = conftest.create_stack(client, "f8-pruned", TEMPLATE,
                                  parameters={"p": "v0"})
    ident = "f8-pruned/%s" % stack["id"]
    first, _ = _poll(poller)
    assert first == _heat_events(client)
    # Steady: the one nested_depth list of the tree, no other call.
    again, steady = _poll(poller)
    assert again == first
    assert steady["families"]["events"]["requests"] == 1

    seen, pruned = set(first), set()
    for rnd in range(3):
        for n in range(3):
            client.stacks.update(ident, template=TEMPLATE,
                                 parameters={"p": "v%d-%d" % (rnd, n)})
            conftest.wait_for_stack(client, ident)
        got, _ = _poll(poller)
        truth = _heat_events(client)
        pruned |= seen - set(truth)
        seen |= set(truth)
        assert got == truth, (len(got), len(truth))
    # Heat did prune (every stack of the tree is at its limit), and none of
    # what it pruned is left in the table.
    per_stack = {}
    for sid in truth.values():
        per_stack[sid] = per_stack.get(sid, 0) + 1
    assert len(per_stack) == 2 and max(per_stack.values()) <= LIMIT
    assert len(pruned) > LIMIT
    assert not pruned & set(got)

    # No new event, no check: a steady poll is the event list alone.
    again, steady = _poll(poller)
    assert again == got
    assert steady["families"]["events"]["requests"] == 1
    conftest.delete_stack(client, ident)
