"""The software_deployments family against the real local Heat.

Every table is compared with a direct ``software_deployments.list`` of the
same Heat.  Besides the population's deployments, the module creates one
through the API with canary credentials (a password and a signed signal
URL) and canary outputs: the credentials may appear in no table and nowhere
in the JSON output, while every non-secret value does appear.
"""

import json
import time
import uuid

import pytest

from heatplug import redact
from tests.functional import conftest

PASSWORD = "canary-deploy-password-%s" % uuid.uuid4().hex[:8]
SIGNATURE = "canary-sig-%s" % uuid.uuid4().hex[:8]
SIGNAL_URL = ("http://127.0.0.1:8000/v1/signal/x?Timestamp=1&Signature=%s"
              % SIGNATURE)
CANARIES = (PASSWORD, SIGNATURE, "canary-hidden-config-input-3Kd9")


@pytest.fixture(scope="module")
def canary(heat, population):
    """A deployment made through the API, on a config of its own."""
    config = heat.software_configs.create(
        name="f3-deployments-config", group="script", config="#!/bin/sh\n")
    server = str(uuid.uuid4())
    dep = heat.software_deployments.create(
        config_id=config.id, server_id=server, action="CREATE",
        status="COMPLETE", input_values={
            "deploy_password": PASSWORD, "deploy_signal_id": SIGNAL_URL,
            "greeting": "hello-policy", "count": 3},
        output_values={"deploy_status_code": 2, "deploy_stdout": "x",
                       "deploy_stderr": "boom"})
    created = dep.to_dict()
    try:
        # Heat's create ignores output_values (and stores status_reason
        # None as the string 'None'); outputs arrive through an update.
        heat.software_deployments.update(
            dep.id, output_values={"deploy_status_code": 2,
                                   "deploy_stdout": "x",
                                   "deploy_stderr": "boom",
                                   "result": {"k": [1, 2]}},
            status="FAILED",
            status_reason="Deployment exited with non-zero status code: 2")
        # A first poll holds back, for one poll, what no resource links and
        # was made while it ran, to the second of Heat's clock
        # (stack_secrets.secret_ids): this one is made a second before.
        time.sleep(1.1)
        yield dict(created, server_id=server)
    finally:
        heat.software_deployments.delete(dep.id)
        heat.software_configs.delete(config.id)


@pytest.fixture(scope="module")
def output(local_heat, canary):
    return conftest.poll_output(local_heat, "--enable",
                                "software_deployments")


@pytest.fixture(scope="module")
def data(output):
    return json.loads(output)


@pytest.fixture(scope="module")
def direct(heat, data):
    return {d.id: d.to_dict() for d in heat.software_deployments.list()}


def _kv(data, table, did):
    return {r["key"]: r["value"] for r in conftest.records(data, table)
            if r["deployment_id"] == did}


def test_no_errors_nothing_skipped(data):
    assert data["errors"] == {}
    assert data["stats"]["families"]["software_deployments"]["skipped"] == []


def test_heat_ignores_output_values_on_create(canary):
    assert canary["output_values"] is None
    assert canary["status_reason"] == "None"


def test_deployments_match(data, direct):
    got = {r["id"]: r for r in conftest.records(data, "software_deployments")}
    assert set(got) == set(direct)
    assert len(got) >= 3
    for did, dep in direct.items():
        row = got[did]
        assert (row["config_id"], row["server_id"], row["action"],
                row["status"], row["status_reason"], row["creation_time"],
                row["updated_time"]) == (
            dep["config_id"], dep["server_id"], dep["action"],
            dep["status"], dep["status_reason"], dep["creation_time"],
            dep.get("updated_time"))


def test_values_match_except_redactions(data, direct):
    for did, dep in direct.items():
        for table, heat_values in (
                ("software_deployments_input_values", dep["input_values"]),
                ("software_deployments_output_values",
                 dep["output_values"])):
            mine = _kv(data, table, did)
            assert set(mine) == set(heat_values or {})
            for key, value in (heat_values or {}).items():
                if redact.is_secret_key(key) or redact.is_signed_url(value):
                    assert mine[key] == redact.REDACTED, (did, key)
                elif isinstance(value, (dict, list)):
                    assert json.loads(mine[key]) == value
                else:
                    assert mine[key] == value, (did, key)


def test_canary_deployment(data, canary):
    did = canary["id"]
    row, = [r for r in conftest.records(data, "software_deployments")
            if r["id"] == did]
    assert (row["server_id"], row["action"], row["status"],
            row["status_reason"]) == (
        canary["server_id"], "CREATE", "FAILED",
        "Deployment exited with non-zero status code: 2")
    assert row["updated_time"] is not None
    assert _kv(data, "software_deployments_input_values", did) == {
        "count": 3, "deploy_password": redact.REDACTED,
        "deploy_signal_id": redact.REDACTED, "greeting": "hello-policy"}
    assert _kv(data, "software_deployments_output_values", did) == {
        "deploy_status_code": 2, "deploy_stderr": "boom",
        "deploy_stdout": "x", "result": '{"k": [1, 2]}'}


def test_population_deployment(data, direct):
    dep = next(d for d in direct.values()
               if d["input_values"] == {"greeting": "policy-writer"})
    assert _kv(data, "software_deployments_input_values", dep["id"]) == {
        "greeting": "policy-writer"}
    assert _kv(data, "software_deployments_output_values", dep["id"]) == {}


def test_canaries_appear_nowhere(output, heat, canary):
    # Heat really holds them ...
    held = heat.software_deployments.get(canary["id"]).input_values
    assert held["deploy_password"] == PASSWORD
    assert held["deploy_signal_id"] == SIGNAL_URL
    # ... the output holds none, in any table or anywhere else
    assert [c for c in CANARIES if c in output] == []
    assert "hello-policy" in output and "boom" in output


def test_requests_per_poll(data, heat):
    # The list is a shared read (the resources family reads it too), as
    # are the stack list, a resource list per tree and every stack's
    # template, which tell the deployments a stack built from its secrets.
    stacks = list(heat.stacks.list(show_nested=True, show_hidden=True))
    listed = {s.id for s in stacks}
    roots = [s for s in stacks if s.parent not in listed]
    assert data["stats"]["families"]["software_deployments"]["requests"] == 0
    assert data["stats"]["shared_requests"] == \
        data["stats"]["requests"] == 2 + len(roots) + len(stacks)
