"""Poll modes against the real local Heat: changed-stacks-only reads only
the trees that changed and still publishes what the default mode does; a
full refresh re-reads; resource metadata that Heat's code fixes is not
read, and what Heat can change behind a resource's back still is.
"""

import time

import pytest

from tests.functional import conftest

#: every test polls the standard test population
pytestmark = pytest.mark.usefixtures("population")

FAMILIES = ["stacks", "stack_details", "templates", "snapshots", "resources",
            "resource_types", "events", "software_configs",
            "software_deployments"]

SIMPLE = {"heat_template_version": "2018-08-31",
          "resources": {"word": {"type": "OS::Heat::RandomString",
                                 "properties": {"length": 6}}}}

METADATA = {"heat_template_version": "2018-08-31",
            "resources": {
                "tagged": {"type": "OS::Heat::RandomString",
                           "metadata": {"owner": "f-modes"},
                           "properties": {"length": 6}},
                "target": {"type": "OS::Heat::RandomString",
                           "properties": {"length": 6}}}}


def _wait_gone(heat, ident, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ident.split("/")[1] not in {s.id for s in heat.stacks.list()}:
            return
        time.sleep(0.2)
    raise AssertionError("stack %s not deleted" % ident)


def test_changed_only_reads_only_changed_trees(heat, make_poller):
    changed = make_poller(FAMILIES, changed_stacks_only=True,
                          full_refresh_every=4)
    default = make_poller(FAMILIES)
    first, stats1 = conftest.poll(changed)
    assert stats1["full_refresh"] and stats1["changed_stacks_only"]
    assert first == conftest.poll(default)[0]

    # Nothing changed: the four lists that have no per-stack form.
    second, stats2 = conftest.poll(changed)
    assert not stats2["full_refresh"]
    assert stats2["requests"] == 4, stats2["families"]
    assert second == first

    # A new stack: only its tree is read.
    stack = conftest.create_stack(heat, "f-modes-new", SIMPLE)
    ident = "%s/%s" % (stack["stack_name"], stack["id"])
    try:
        third, stats3 = conftest.poll(changed)
        fams = stats3["families"]
        # CREATE_COMPLETE: no action since its creation, so no snapshot
        assert fams["snapshots"]["requests"] == 0
        assert fams["stack_details"]["requests"] == 1
        assert fams["resources"]["requests"] == 0   # RandomString: known
        # one list, a detail per event of its resource (not of the stack)
        assert fams["events"]["requests"] == 1 + 2
        # the stack list, its resources and template, types, configs,
        # deployments
        assert stats3["requests"] == 4 + 1 + 1 + 1 + 3, fams
        assert third == conftest.poll(default)[0]
        assert stack["id"] in {r[0] for r in third["stacks"]}
        assert stack["id"] in {r[0] for r in third["resources"]}
        assert stack["id"] in {r[1] for r in third["events"]}
    finally:
        heat.stacks.delete(ident)
        _wait_gone(heat, ident)

    # Gone: its rows go too, without a per-stack call.
    fourth, stats4 = conftest.poll(changed)   # poll 4: no full refresh yet
    assert not stats4["full_refresh"]
    assert stats4["requests"] == 4
    assert fourth == first

    # Poll 5 is a full refresh: every tree read again, the same tables.
    fifth, stats5 = conftest.poll(changed)
    assert stats5["full_refresh"]
    roots = [s for s in heat.stacks.list() if not s.parent]
    assert stats5["families"]["events"]["requests"] >= len(roots)
    assert stats5["families"]["stack_details"]["requests"] == len(
        first["stacks"])
    assert fifth == first


def test_a_full_refresh_re_reads_cached_details_and_templates(
        heat, make_poller):
    poller = make_poller(["stack_details", "templates"], full_refresh_every=2)
    first, _ = conftest.poll(poller)
    second, stats2 = conftest.poll(poller)
    assert stats2["requests"] == 1                        # the stack list
    third, stats3 = conftest.poll(poller)
    assert stats3["full_refresh"]
    n = len(first["stack_details"])
    assert stats3["families"]["stack_details"]["requests"] == n
    assert stats3["shared_requests"] >= 1 + n             # + templates
    assert first == second == third


def test_metadata_heat_fixes_is_not_read_the_rest_is(heat, make_poller):
    stack = conftest.create_stack(heat, "f-modes-metadata", METADATA)
    ident = "%s/%s" % (stack["stack_name"], stack["id"])
    config = deployment = None
    try:
        target = [r for r in heat.resources.list(ident)
                  if r.resource_name == "target"][0]
        poller = make_poller(["resources"])
        first = poller.poll()
        rows = {(r[0], r[1], r[2]): r[3]
                for r in conftest.tables(first)["resources_metadata"]}
        # A metadata section: read, and as Heat resolves it.
        assert rows[(stack["id"], "tagged", "owner")] == "f-modes"
        assert heat.resources.metadata(ident, "tagged") == {
            "owner": "f-modes"}
        assert not [k for k in rows if k[:2] == (stack["id"], "target")]

        # A deployment naming 'target' as its server: Heat pushes its
        # metadata there, and the next poll reads it.
        config = heat.software_configs.create(
            name="f-modes-config", group="script", config="true")
        deployment = heat.software_deployments.create(
            config_id=config.id, server_id=target.physical_resource_id,
            action="CREATE", status="COMPLETE")
        assert "deployments" in heat.resources.metadata(ident, "target")
        second = poller.poll()
        rows = {(r[0], r[1], r[2]): r[3]
                for r in conftest.tables(second)["resources_metadata"]}
        assert (stack["id"], "target", "deployments") in rows
    finally:
        if deployment is not None:
            heat.software_deployments.delete(deployment.id)
        if config is not None:
            heat.software_configs.delete(config.id)
        heat.stacks.delete(ident)
        _wait_gone(heat, ident)


def test_changed_only_snapshots_follow_the_stack_until_a_full_refresh(
        heat, make_poller):
    """Taking a snapshot changes the stack's signature: read at once.
    Deleting one does not: it stays until the next full refresh (the
    documented price of changed_stacks_only)."""
    stack = conftest.create_stack(heat, "f-modes-snap", SIMPLE)
    ident = "%s/%s" % (stack["stack_name"], stack["id"])
    try:
        poller = make_poller(["snapshots"], changed_stacks_only=True,
                             full_refresh_every=4)
        conftest.poll(poller)                                # poll 1
        snap = heat.stacks.snapshot(ident, "f-modes")
        conftest.wait_for_stack(heat, ident)
        rows, stats = conftest.poll(poller)                  # poll 2
        assert stats["families"]["snapshots"]["requests"] == 1
        assert snap["id"] in {r[0] for r in rows["snapshots"]}
        heat.stacks.snapshot_delete(ident, snap["id"])
        rows, stats = conftest.poll(poller)                  # poll 3
        assert stats["families"]["snapshots"]["requests"] == 0
        assert snap["id"] in {r[0] for r in rows["snapshots"]}
        conftest.poll(poller)                                # poll 4
        rows, stats = conftest.poll(poller)                  # poll 5: full
        assert stats["full_refresh"]
        assert snap["id"] not in {r[0] for r in rows["snapshots"]}
    finally:
        heat.stacks.delete(ident)
        _wait_gone(heat, ident)
