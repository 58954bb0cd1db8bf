"""The software_configs family against the real local Heat.

Every table is compared with direct heatclient reads of the same Heat
(``software_configs.list`` and ``software_configs.get`` of each).  A module
stack (``f3-configs-signal``) adds what the population cannot hold (it
would never settle on its own): a HEAT_SIGNAL and a CFN_SIGNAL deployment,
whose derived configs carry a generated ``deploy_password`` and a signed
signal URL; neither may reach a row.
"""

import json
import time

import pytest

from heatplug import redact
from heatplug.plugins import software_configs
from tests.functional import conftest

CANARIES = ("canary-hidden-config-input-3Kd9",)

SIGNAL_TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "description": "f3-configs-signal - derived configs with credentials",
    "resources": {
        "config": {"type": "OS::Heat::SoftwareConfig",
                   "properties": {"group": "script",
                                  "config": "#!/bin/sh\necho hi\n"}},
        "server": {"type": "OS::Heat::DeployedServer",
                   "properties": {
                       "software_config_transport": "POLL_SERVER_HEAT"}},
        "dep_heat": {"type": "OS::Heat::SoftwareDeployment",
                     "properties": {"config": {"get_resource": "config"},
                                    "server": {"get_resource": "server"},
                                    "signal_transport": "HEAT_SIGNAL"}},
        "dep_cfn": {"type": "OS::Heat::SoftwareDeployment",
                    "properties": {"config": {"get_resource": "config"},
                                   "server": {"get_resource": "server"},
                                   "signal_transport": "CFN_SIGNAL"}},
    },
}


def _deployments_of(heat, ident, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ids = [r.physical_resource_id for r in heat.resources.list(ident)
               if r.resource_name.startswith("dep_")
               and r.physical_resource_id]
        if len(ids) == 2:
            return ids
        time.sleep(0.2)
    raise AssertionError("deployments of %s never created" % ident)


@pytest.fixture(scope="module")
def signal_stack(heat, population):
    created = heat.stacks.create(stack_name="f3-configs-signal",
                                 template=SIGNAL_TEMPLATE)
    ident = "f3-configs-signal/%s" % created["stack"]["id"]
    try:
        for dep in _deployments_of(heat, ident):
            heat.software_deployments.update(
                dep, status="COMPLETE", status_reason="Outputs received",
                output_values={"deploy_stdout": "ok", "deploy_stderr": "",
                               "deploy_status_code": 0})
        conftest.wait_for_stack(heat, ident)
        yield ident
    finally:
        conftest.delete_stack(heat, ident)


@pytest.fixture(scope="module")
def output(local_heat, signal_stack):
    return conftest.poll_output(local_heat, "--enable", "software_configs")


@pytest.fixture(scope="module")
def data(output):
    return json.loads(output)


@pytest.fixture(scope="module")
def direct(heat, data):
    """``{id: list entry + details}`` read directly, after the poll."""
    return {c.id: dict(c.to_dict(), **heat.software_configs.get(c.id)
                       .to_dict())
            for c in heat.software_configs.list()}


def test_no_errors_nothing_skipped(data):
    assert data["errors"] == {}
    assert data["stats"]["families"]["software_configs"]["skipped"] == []


def test_configs_match(data, direct):
    got = {r["id"]: r for r in conftest.records(data, "software_configs")}
    assert set(got) == set(direct)
    assert len(got) >= 7     # pop-software 2 + 2 derived, signal 1 + 2
    for cid, config in direct.items():
        row = got[cid]
        assert (row["name"], row["group"], row["creation_time"],
                row["project"]) == (config["name"], config["group"],
                                    config["creation_time"],
                                    config.get("project"))
        body = config["config"]
        if isinstance(body, str):
            assert row["config"] == body
        else:
            assert json.loads(row["config"]) == redact.scrub(body)
    assert {r["project"] for r in got.values()} == {"admin"}


def test_inputs_outputs_options_match(data, direct):
    inputs = {}
    for r in conftest.records(data, "software_configs_inputs"):
        inputs.setdefault(r["config_id"], {})[r["name"]] = r
    outputs = {}
    for r in conftest.records(data, "software_configs_outputs"):
        outputs.setdefault(r["config_id"], {})[r["name"]] = r
    options = {}
    for r in conftest.records(data, "software_configs_options"):
        options.setdefault(r["config_id"], {})[r["key"]] = r["value"]
    for cid, config in direct.items():
        mine = inputs.get(cid, {})
        assert set(mine) == {i["name"] for i in config["inputs"]}
        for io in config["inputs"]:
            row = mine[io["name"]]
            assert (row["type"], row["description"],
                    row["replace_on_change"]) == (
                io.get("type"), io.get("description"),
                io.get("replace_on_change"))
            for key in ("default", "value"):
                secret = redact.is_secret_key(io["name"])
                expected = io.get(key)
                if secret and expected is not None:
                    expected = redact.REDACTED
                assert row[key] == expected, (cid, io["name"], key)
        assert {n: (r["type"], r["description"], r["error_output"])
                for n, r in outputs.get(cid, {}).items()} == {
            o["name"]: (o.get("type"), o.get("description"),
                        o.get("error_output")) for o in config["outputs"]}
        assert options.get(cid, {}) == (config["options"] or {})


def test_derived_configs_carry_credentials_that_never_reach_a_row(
        data, direct, output):
    handed_out = {}
    for config in direct.values():
        for io in config["inputs"]:
            if io["name"] in ("deploy_password", "deploy_signal_id"):
                handed_out[io["name"]] = io["value"]
    assert len(handed_out["deploy_password"]) >= 16
    assert "Signature=" in handed_out["deploy_signal_id"]
    for secret in list(handed_out.values()) + list(CANARIES):
        assert secret not in output
    values = {r["name"]: r["value"]
              for r in conftest.records(data, "software_configs_inputs")
              if r["value"] is not None}
    assert values["deploy_password"] == redact.REDACTED
    assert values["deploy_signal_id"] == redact.REDACTED
    assert values["deploy_signal_transport"] in ("HEAT_SIGNAL", "CFN_SIGNAL",
                                                 "NO_SIGNAL")
    assert values["greeting"] == "policy-writer"


def test_cold_poll_requests(data, direct, heat):
    stats = data["stats"]["families"]["software_configs"]
    # the list, then one show per config
    assert stats["requests"] == 1 + len(direct)
    # shared (free when the resources family runs too): which configs a
    # stack built from its secrets needs the stack list, a resource list
    # per tree, every stack's template and the deployment list
    stacks = list(heat.stacks.list(show_nested=True, show_hidden=True))
    listed = {s.id for s in stacks}
    roots = [s for s in stacks if s.parent not in listed]
    assert data["stats"]["shared_requests"] == \
        2 + len(roots) + len(stacks)


# -- the cache, in-process ----------------------------------------------------

@pytest.fixture
def poller(make_poller):
    return make_poller(["software_configs"])


def _poll(poller):
    rows, stats = conftest.poll(poller, sort=False)
    return rows, stats["families"]["software_configs"]["requests"]


def test_configs_are_read_once_ever(heat, poller, signal_stack):
    first, cold = _poll(poller)
    n = len(first["software_configs"])
    assert cold == 1 + n
    second, warm = _poll(poller)
    assert warm == 1
    assert second == first
    made = heat.software_configs.create(
        name="f3-configs-new", group="Heat::Ungrouped", config="echo new",
        inputs=[{"name": "token", "default": "f3-config-secret-Jm5"},
                {"name": "colour", "default": "blue"}],
        outputs=[{"name": "out", "error_output": True}],
        options={"verbose": True})
    try:
        third, reads = _poll(poller)
        assert reads == 2
        # New, and no stack's resource links it: a stack may be making it
        # (its resource not listed yet), so it waits a poll, redacted.
        assert [r for r in third["software_configs"] if r[0] == made.id] == [
            (made.id, "f3-configs-new", "Heat::Ungrouped",
             made.creation_time, redact.REDACTED, "admin")]
        third, reads = _poll(poller)
        assert reads == 1
        assert [r for r in third["software_configs"] if r[0] == made.id] == [
            (made.id, "f3-configs-new", "Heat::Ungrouped",
             made.creation_time, "echo new", "admin")]
        assert sorted(r[1:] for r in third["software_configs_inputs"]
                      if r[0] == made.id) == [
            ("colour", "String", None, "blue", None, None),
            ("token", "String", None, redact.REDACTED, None, None)]
        assert [r[1:] for r in third["software_configs_outputs"]
                if r[0] == made.id] == [("out", "String", None, True)]
        assert [r[1:] for r in third["software_configs_options"]
                if r[0] == made.id] == [("verbose", True)]
    finally:
        heat.software_configs.delete(made.id)
    fourth, reads = _poll(poller)
    assert reads == 1
    assert not [r for r in fourth["software_configs"] if r[0] == made.id]
    assert made.id not in poller._caches["software_configs"]["details"]
    assert fourth == first


def test_a_first_poll_holds_back_what_is_made_while_it_runs(
        heat, make_poller, monkeypatch, signal_stack):
    """A process's first poll judges every config at once.  One that no
    resource links was made through the API, or by a stack whose resource
    the poll has not listed yet: it shows when it was made before the
    poll's stack list (Heat's clock, its Date header), and waits a poll,
    redacted, when it was made while the poll ran: here between the stack
    list and the config list, as when the resources family reads the stack
    and resource lists first."""
    before = heat.software_configs.create(
        name="f3-configs-before", group="script", config="echo before")
    made = []

    def stacks_then_make_then_list(ctx, _list=software_configs._list_all):
        ctx.stacks()
        made.append(heat.software_configs.create(
            name="f3-configs-during", group="script", config="echo during"))
        return _list(ctx)

    try:
        time.sleep(1.1)         # Heat's times are in seconds: a second on
        monkeypatch.setattr(software_configs, "_list_all",
                            stacks_then_make_then_list)
        poller = make_poller(["software_configs"])
        first, _ = _poll(poller)
        bodies = {r[0]: r[4] for r in first["software_configs"]}
        assert bodies[before.id] == "echo before"
        assert bodies[made[0].id] == redact.REDACTED
        second, _ = _poll(poller)
        bodies = {r[0]: r[4] for r in second["software_configs"]}
        assert bodies[made[-1].id] == redact.REDACTED       # this poll's
        assert bodies[made[0].id] == "echo during"
        assert bodies[before.id] == "echo before"
    finally:
        for config in [before] + made:
            heat.software_configs.delete(config.id)
