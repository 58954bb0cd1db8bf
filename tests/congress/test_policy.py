"""Datalog policy, evaluated by Congress's own engine, over heatplug's tables
from the real local Heat.

The datasource is created the way Congress creates it
(``DseNode.validate_create_datasource`` and ``create_datasource_service``
with a stevedore extension of the ``heatplug`` entry point) and polled with
Congress's ``poll()``; its ``state`` and ``get_schema()`` go into the policy
engine the way the server hands them over (``tests/congress/datalog.py``).
The policy is what an operator would write: no stack may be FAILED, no
software deployment may exit non-zero, no resource may be of a forbidden
type.  The stacks and deployments below were built to violate exactly that.
"""

import importlib.util
import uuid
import warnings

import pytest

from heatplug.congress import _compat

_compat.apply()
if importlib.util.find_spec("congress") is None:
    pytest.skip("openstack-congress is not installed", allow_module_level=True)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    _compat.init_config()
    from congress.dse2 import dse_node

    from tests.congress.conftest import FakeNode, heatplug_node
    from tests.congress.datalog import make_runtime, select
    from tests.functional import conftest as fconf

pytestmark = pytest.mark.congress

FORBIDDEN = "OS::Heat::TestResource"
SERVER = "4c1a7e0e-3f3b-4d9e-9a53-8d1f0b6c2a11"    # a server Heat never saw

# A COMPLETE stack that uses the forbidden type, directly and in a nested
# stack (a ResourceGroup of two).
FORBIDDEN_TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "description": "congress-forbidden - resources of a forbidden type",
    "resources": {
        "guard": {"type": FORBIDDEN, "properties": {"value": "harmless"}},
        "allowed": {"type": "OS::Heat::None"},
        "group": {"type": "OS::Heat::ResourceGroup", "properties": {
            "count": 2, "resource_def": {"type": FORBIDDEN}}},
    },
}

POLICY = [
    # no stack may stay FAILED
    'failed_stack(name, status) :- '
    'heatplug:stacks(stack_name=name, stack_status=status, status="FAILED")',
    # and say which resource broke it
    'failed_resource(stack, resource, reason) :- '
    'heatplug:resources(stack_name=stack, resource_name=resource, '
    'status="FAILED", resource_status_reason=reason)',
    # no software deployment may exit non-zero
    'bad_deployment(id, server, code) :- '
    'heatplug:software_deployments(id=id, server_id=server), '
    'heatplug:software_deployments_output_values(deployment_id=id, '
    'key="deploy_status_code", value=code), not equal(code, 0)',
    # no resource of a type the operator forbids
    'forbidden_type("%s")' % FORBIDDEN,
    'forbidden_resource(stack, resource, type) :- '
    'heatplug:resources(stack_id=sid, resource_name=resource, '
    'resource_type=type), forbidden_type(type), '
    'heatplug:stacks(id=sid, stack_name=stack)',
]


def _deployment(heat, config_id, status, outputs):
    """A deployment, and its outputs signalled the way an agent does.

    Heat ignores ``output_values`` on create; the in-instance agent
    (heat-config) reports them with an update, as here.
    """
    dep = heat.software_deployments.create(
        config_id=config_id, server_id=SERVER, action="CREATE",
        status="IN_PROGRESS", status_reason="deploying")
    if outputs or status != "IN_PROGRESS":
        heat.software_deployments.update(
            dep.id, status=status, status_reason="set by the test",
            output_values=outputs)
    return dep


@pytest.fixture(scope="module")
def built(heat, population):
    """What the policy must catch, beside pop-fails (a FAILED stack)."""
    name = "congress-forbidden"
    existing = {s.stack_name: s for s in heat.stacks.list()}
    if name in existing:
        stack = fconf.wait_for_stack(heat, "%s/%s" % (name, existing[name].id))
    else:
        stack = fconf.create_stack(heat, name, FORBIDDEN_TEMPLATE)
    config = heat.software_configs.create(
        name="congress-policy", group="script", config="#!/bin/sh\nexit 2\n")
    deployments = {
        "exit2": _deployment(heat, config.id, "FAILED", {
            "deploy_status_code": 2, "deploy_stdout": "",
            "deploy_stderr": "exit 2"}),
        "exit0": _deployment(heat, config.id, "COMPLETE", {
            "deploy_status_code": 0, "deploy_stdout": "ok",
            "deploy_stderr": ""}),
        "silent": _deployment(heat, config.id, "IN_PROGRESS", {}),
    }
    yield {"stack": stack, "deployments": deployments}
    for dep in deployments.values():
        try:
            heat.software_deployments.delete(dep.id)
        except Exception:
            pass
    heat.software_configs.delete(config.id)
    heat.stacks.delete("%s/%s" % (name, stack["id"]))


@pytest.fixture(scope="module")
def datasource(local_heat, built):
    """A ``heatplug`` datasource created by Congress's own code."""
    with heatplug_node(dse_node) as node:
        req = {"id": str(uuid.uuid4()), "name": "heatplug",
               "driver": "heatplug", "description": "", "enabled": True,
               "config": {"endpoint": local_heat.endpoint, "poll_time": "0",
                          "lazy_tables": ["events_links",
                                          "events_resource_properties"]}}
        node.validate_create_datasource(req)
        service = node.create_datasource_service(req)
    service.node = FakeNode()
    return service


def policy_runtime(ds):
    ds.poll()                                       # Congress's poll step
    assert ds.last_error is None, ds.last_error
    return make_runtime(ds.state, POLICY, theory=ds.name,
                        schema=ds.get_schema())


def test_policy_finds_exactly_the_violations_built(datasource, heat, built,
                                                   population):
    rt = policy_runtime(datasource)
    stacks = list(heat.stacks.list(show_nested=True))
    by_id = {s.id: s for s in stacks}
    resources = [(s, r) for s in stacks
                 for r in heat.resources.list("%s/%s" % (s.stack_name, s.id))]

    # stacks in a FAILED state
    assert select(rt, "failed_stack(n, s)") == {
        ("pop-fails", "CREATE_FAILED")}
    assert select(rt, "failed_stack(n, s)") == {
        (s.stack_name, s.stack_status) for s in stacks
        if s.stack_status.endswith("_FAILED")}
    reason = next(r.resource_status_reason for s, r in resources
                  if r.resource_name == "broken")
    assert "Test Resource failed" in reason
    assert select(rt, "failed_resource(s, r, why)") == {
        ("pop-fails", "broken", reason)}

    # deployments whose status code is not 0
    deps = built["deployments"]
    assert select(rt, "bad_deployment(i, s, c)") == {
        (deps["exit2"].id, SERVER, 2)}

    # resources of a type the operator forbids, nested stacks included
    group = by_id[next(r.physical_resource_id for s, r in resources
                       if s.id == built["stack"]["id"]
                       and r.resource_name == "group")]
    assert group.stack_name.startswith("congress-forbidden-group-")
    expected = {("pop-fails", "broken", FORBIDDEN),
                ("congress-forbidden", "guard", FORBIDDEN),
                (group.stack_name, "0", FORBIDDEN),
                (group.stack_name, "1", FORBIDDEN)}
    assert select(rt, "forbidden_resource(s, r, t)") == expected
    assert expected == {(s.stack_name, r.resource_name, r.resource_type)
                        for s, r in resources if r.resource_type == FORBIDDEN}

    # Congress renders them the same way on the API
    assert 'bad_deployment("%s", "%s", 2)' % (deps["exit2"].id, SERVER) in \
        select(rt, "bad_deployment(i, s, c)", as_strings=True)


def test_fixing_heat_clears_the_violation(datasource, heat, built):
    deps = built["deployments"]
    assert select(policy_runtime(datasource), "bad_deployment(i, s, c)") == {
        (deps["exit2"].id, SERVER, 2)}
    heat.software_deployments.update(
        deps["exit2"].id, status="COMPLETE", status_reason="fixed",
        output_values={"deploy_status_code": 0, "deploy_stdout": "ok",
                       "deploy_stderr": ""})
    assert select(policy_runtime(datasource),
                  "bad_deployment(i, s, c)") == set()


def test_every_table_by_column_name(datasource):
    """Every published table, queried by column name as policy writers do,
    through the schema the driver declares."""
    schema = datasource.get_schema()
    tables = sorted(datasource.state)
    rules = ["t_%s(x) :- heatplug:%s(%s=x)" % (t, t, schema[t][-1]["name"])
             for t in tables]
    datasource.poll()
    rt = make_runtime(datasource.state, rules, theory="heatplug",
                      schema=schema)
    for table in tables:
        assert len(select(rt, "t_%s(x)" % table)) == len(
            {row[-1] for row in datasource.state[table]}), table
    # the lazy tables are in the schema, not in the state
    assert {"events_links", "events_resource_properties"} <= set(schema)
    assert "events" in tables and "events_links" not in tables
