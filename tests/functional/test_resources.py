"""The resources family against the real local Heat.

Every table is compared with direct heatclient reads of the same Heat: a
plain per-stack ``resources.list`` of *every* stack of the stack list,
nested ones included, which proves that one ``nested_depth`` list per root
stack misses nothing.  A module stack adds what the population cannot hold
(it would never settle on its own): a wait condition handle (token,
``curl_cli``), a deployment with HEAT_SIGNAL (deploy_password in the
server's metadata) and a hidden parameter that reaches a template resource's
nested stack; none of their secrets may reach a row.
"""

import json
import time

import pytest
from heatclient import exc as heat_exc

from heatplug import redact
from heatplug import translation
from heatplug.plugins import resources as resources_family
from tests.functional import conftest

HIDDEN = "canary-f2-resources-hidden-4Hx8"

SECRETS_TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "description": "f2-resources - credentials Heat hands out",
    "parameters": {"unlock": {"type": "string", "hidden": True}},
    "resources": {
        "handle": {"type": "OS::Heat::WaitConditionHandle"},
        "server": {"type": "OS::Heat::DeployedServer",
                   "properties": {
                       "software_config_transport": "POLL_SERVER_HEAT"}},
        "config": {"type": "OS::Heat::SoftwareConfig",
                   "properties": {"group": "script", "config": "true"}},
        "deploy": {"type": "OS::Heat::SoftwareDeployment",
                   "properties": {"config": {"get_resource": "config"},
                                  "server": {"get_resource": "server"},
                                  "signal_transport": "HEAT_SIGNAL"}},
        "inner": {"type": "child.yaml",
                  "properties": {"word": {"list_join": [
                      "=", ["key", {"get_param": "unlock"}]]}}},
    },
}


def _wait_deployment(heat, ident, name, timeout=60):
    """The id of deployment resource ``name`` once Heat created it and the
    deployment can be read (Heat may show the resource's physical id a
    moment before the deployment itself answers)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for res in heat.resources.list(ident):
            if res.resource_name == name and res.physical_resource_id:
                try:
                    heat.software_deployments.get(res.physical_resource_id)
                except heat_exc.HTTPNotFound:
                    break
                return res.physical_resource_id
        time.sleep(0.2)
    raise AssertionError("deployment %s never created" % name)


@pytest.fixture(scope="module")
def secrets_stack(heat, population):
    created = heat.stacks.create(
        stack_name="f2-resources-secrets", template=SECRETS_TEMPLATE,
        parameters={"unlock": HIDDEN}, files={"child.yaml": conftest.CHILD})
    ident = "f2-resources-secrets/%s" % created["stack"]["id"]
    try:
        # HEAT_SIGNAL waits for the server to answer: answer for it.
        heat.software_deployments.update(
            _wait_deployment(heat, ident, "deploy"), status="COMPLETE",
            status_reason="signalled by the test", output_values={})
        stack = conftest.wait_for_stack(heat, ident)
        assert stack["stack_status"] == "CREATE_COMPLETE", stack
        yield stack
    finally:
        conftest.delete_stack(heat, ident)


@pytest.fixture(scope="module")
def data(local_heat, population, secrets_stack):
    return conftest.poll_json(local_heat, "--enable", "resources")


@pytest.fixture(scope="module")
def direct(heat, data):
    """Heat's own per-stack answers for every stack of the stack list:
    ``{(stack_id, name): resource dict}`` (with_detail, no nested_depth)."""
    found = {}
    for stack in heat.stacks.list(show_nested=True):
        ident = "%s/%s" % (stack.stack_name, stack.id)
        for res in heat.resources.list(ident, with_detail=True):
            res = res.to_dict()
            res["_stack"] = (stack.id, stack.stack_name)
            res["_metadata"] = heat.resources.metadata(
                ident, res["resource_name"])
            found[(stack.id, res["resource_name"])] = res
    return found


def _link(res, rel):
    return [link["href"] for link in res["links"] if link["rel"] == rel]


def test_no_errors_nothing_skipped(data):
    assert data["errors"] == {}
    assert data["stats"]["families"]["resources"]["skipped"] == []


def test_resources_match_per_stack_lists(data, direct):
    expected = []
    for (sid, name), res in direct.items():
        nested = _link(res, "nested")
        status = res["resource_status"]
        action, state = status.rsplit("_", 1) if not status.endswith(
            "IN_PROGRESS") else (status[:-12], "IN_PROGRESS")
        expected.append((
            sid, name, res["_stack"][1], res["physical_resource_id"] or None,
            res["resource_type"], status, action, state,
            res["resource_status_reason"], res["creation_time"],
            res["updated_time"], res["description"],
            res.get("parent_resource"),
            nested[0].rsplit("/", 1)[1] if nested else None))
    assert conftest.table_rows(data, "resources") == sorted(expected)


def test_nested_stacks_are_all_reached(heat, data, direct, population):
    stacks = {s.id: s for s in heat.stacks.list(show_nested=True)}
    nested = {sid for sid, s in stacks.items() if s.parent}
    # The population nests a ResourceGroup and a template resource; the
    # module stack adds a template resource.
    assert len(nested) >= 3
    owners = {sid for sid, _ in direct}
    seen = {r["stack_id"] for r in conftest.records(data, "resources")}
    assert nested <= owners == seen
    # Each nested stack belongs to the resource that names it, and its
    # resources name that resource as their parent_resource.
    rows = conftest.records(data, "resources")
    for row in rows:
        if row["nested_stack_id"]:
            child = stacks[row["nested_stack_id"]]
            assert child.parent == row["stack_id"]
            members = [r for r in rows
                       if r["stack_id"] == row["nested_stack_id"]]
            assert members
            assert {r["parent_resource"] for r in members} == \
                {row["resource_name"]}
    group = [r for r in rows if r["resource_type"] ==
             "OS::Heat::ResourceGroup"]
    assert [sorted(r["resource_name"] for r in rows
                   if r["stack_id"] == g["nested_stack_id"])
            for g in group] == [["0", "1"]]


def test_required_by_and_links_match(data, direct):
    required = sorted((sid, name, other)
                      for (sid, name), res in direct.items()
                      for other in res["required_by"])
    assert conftest.table_rows(data, "resources_required_by") == required
    links = sorted((sid, name, link["href"], link["rel"])
                   for (sid, name), res in direct.items()
                   for link in res["links"])
    assert conftest.table_rows(data, "resources_links") == links


def _redacted(value):
    return value == redact.REDACTED or (
        isinstance(value, str) and redact.REDACTED in value)


def test_attributes_match_except_redactions(data, direct, population):
    got = {(r["stack_id"], r["resource_name"], r["key"]): r["value"]
           for r in conftest.records(data, "resources_attributes")}
    want = {(sid, name, key): translation.scalar(value)
            for (sid, name), res in direct.items()
            for key, value in (res.get("attributes") or {}).items()}
    assert set(got) == set(want)
    differ = {k for k in got if got[k] != want[k]}
    assert all(_redacted(got[k]) for k in differ), \
        {k: got[k] for k in differ if not _redacted(got[k])}
    by = {(res["_stack"][1], name): (sid, name)
          for (sid, name), res in direct.items()}

    def attr(stack, name, key):
        return got[by[(stack, name)] + (key,)]
    assert attr("pop-nested", "child", "value") == "from-parent"
    assert attr("pop-params", "plain", "value") == "a,b"
    assert attr("pop-params", "carrier", "value") == redact.REDACTED
    assert attr("pop-simple", "token", "value") == redact.REDACTED
    assert json.loads(attr("pop-software", "deploy", "input_values")) == \
        {"greeting": "policy-writer"}
    # What was redacted: RandomStrings, the hidden-parameter carriers, the
    # handle's credentials, the servers' os-collect-config passwords, the
    # config's hidden input default.
    assert {k[2] for k in differ} == {
        "value", "token", "curl_cli", "os_collect_config", "inputs"}


def test_metadata_matches_except_redactions(data, direct, secrets_stack):
    got = {(r["stack_id"], r["resource_name"], r["key"]): r["value"]
           for r in conftest.records(data, "resources_metadata")}
    want = {(sid, name, key): translation.scalar(value)
            for (sid, name), res in direct.items()
            for key, value in (res["_metadata"] or {}).items()}
    assert set(got) == set(want)
    owners = {(sid, name) for sid, name, _ in got}
    servers = {(sid, name) for (sid, name), res in direct.items()
               if res["resource_type"] == "OS::Heat::DeployedServer"}
    assert servers <= owners
    for key in want:
        assert got[key] == want[key] or _redacted(got[key]), key
    sid = secrets_stack["id"]
    deployments = json.loads(got[(sid, "server", "deployments")])
    inputs = {i["name"]: i["value"] for i in deployments[0]["inputs"]}
    assert inputs["deploy_signal_transport"] == "HEAT_SIGNAL"
    assert inputs["deploy_password"] == redact.REDACTED
    assert inputs["deploy_user_id"] == "1234"
    assert inputs["deploy_resource_name"] == "deploy"
    occ = json.loads(got[(sid, "server", "os-collect-config")])
    assert occ["heat"]["password"] == redact.REDACTED


def test_no_secret_reaches_a_row(data, direct, secrets_stack):
    sid = secrets_stack["id"]
    handle = direct[(sid, "handle")]["attributes"]
    metadata = direct[(sid, "server")]["_metadata"]
    inputs = {i["name"]: i["value"]
              for i in metadata["deployments"][0]["inputs"]}
    inner = [res for res in direct.values()
             if res.get("parent_resource") == "inner"]
    secrets = {handle["token"], handle["curl_cli"], inputs["deploy_password"],
               metadata["os-collect-config"]["heat"]["password"], HIDDEN,
               *conftest.CANARIES}
    # Heat hands them out in plain text...
    assert inner and inner[0]["attributes"]["value"] == "key=" + HIDDEN
    assert direct[(sid, "inner")]["attributes"] is not None
    text = json.dumps(data["tables"])
    # ... and none reaches a row.
    for secret in secrets:
        assert secret and secret not in text, secret


@pytest.fixture
def poller(make_poller):
    return make_poller(["resources"])


def test_second_poll_reads_only_live_metadata(heat, poller, secrets_stack):
    first = poller.poll()
    assert first.ok, first.errors
    rows = [dict(zip(first.tables["resources"].table.column_names, r))
            for r in first.tables["resources"].rows]
    # Roots: the stacks whose parent is not listed (a nested stack whose
    # parent is gone is the root of its own tree, and Heat's list without
    # show_nested leaves it out).
    listed = list(heat.stacks.list(show_nested=True))
    roots = [s for s in listed if s.parent not in {t.id for t in listed}]
    stacks = {r["stack_id"] for r in rows}
    # Read every poll: wait condition handles (signals merge into their
    # metadata).  Servers without template metadata are read only when the
    # deployments Heat pushes to them change (none here).
    live = [r for r in rows
            if r["resource_type"] == "OS::Heat::WaitConditionHandle"]
    assert live and [r for r in rows
                     if r["resource_type"] == "OS::Heat::DeployedServer"]
    fam = first.stats["families"]["resources"]
    # Cold: a metadata read per resource whose metadata Heat's code does not
    # fix (family.known_metadata); the shared reads are the stack list, one
    # resource list per root stack, one template per stack and the
    # software deployments.
    templates = {sid: heat.stacks.template(
        "%s/%s" % (heat.stacks.get(sid).stack_name, sid)) for sid in stacks}
    servers = {d.server_id for d in heat.software_deployments.list()}
    unknown = [r for r in rows if resources_family.known_metadata(
        r, templates[r["stack_id"]], servers) is None]
    assert len(unknown) < len(rows)
    assert fam["requests"] == len(unknown)
    assert first.stats["shared_requests"] == 2 + len(roots) + len(stacks)

    second = poller.poll()
    assert second.ok, second.errors
    assert second.stats["families"]["resources"]["requests"] == len(live)
    assert second.stats["shared_requests"] == 2 + len(roots)
    assert conftest.tables(second) == conftest.tables(first)


def test_cache_follows_metadata_heat_pushes_behind_the_resource(
        heat, poller, secrets_stack):
    """A deployment created through the API rewrites the server's metadata
    without touching its status or updated_time."""
    ident = "%s/%s" % (secrets_stack["stack_name"], secrets_stack["id"])
    server = [r for r in heat.resources.list(ident)
              if r.resource_name == "server"][0]

    def server_state(result):
        td = result.tables
        res = [r for r in td["resources"].rows
               if (r[0], r[1]) == (secrets_stack["id"], "server")][0]
        md = {r[2]: r[3] for r in td["resources_metadata"].rows
              if (r[0], r[1]) == (secrets_stack["id"], "server")}
        return res[5], res[10], len(json.loads(md["deployments"]))

    poller.poll()
    before = server_state(poller.poll())
    config = heat.software_configs.create(name="f2-extra", group="script",
                                          config="true")
    deployment = heat.software_deployments.create(
        config_id=config.id, server_id=server.physical_resource_id,
        action="CREATE", status="COMPLETE")
    try:
        after = server_state(poller.poll())
    finally:
        heat.software_deployments.delete(deployment.id)
        heat.software_configs.delete(config.id)
    assert after[:2] == before[:2]           # same status and updated_time
    assert after[2] == before[2] + 1         # one more deployment
    assert server_state(poller.poll()) == before
