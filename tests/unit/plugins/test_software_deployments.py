"""The software_deployments family's translation, on recorded real Heat
answers.

``tests/fixtures/software_deployments.json`` is what the family's fetch
returned from a real local Heat holding the test population
(``tests/functional/population``) plus ``rec-signal`` (a HEAT_SIGNAL and a
CFN_SIGNAL deployment, completed with outputs) and one deployment created
directly through the API with canary credentials, recorded with::

    OS_AUTH_TYPE=none OS_ENDPOINT=http://127.0.0.1:PORT/v1/admin \\
        .venv/bin/python tools/record_fixtures.py software_deployments
"""

import copy
import json
import pathlib

import pytest

from heatplug import redact
from heatplug.plugins import software_deployments

FIXTURE = (pathlib.Path(__file__).resolve().parents[2] / "fixtures"
           / "software_deployments.json")
CANARIES = ("canary-deploy-password-R1", "canary-sig-R1")


@pytest.fixture
def raw():
    return json.loads(FIXTURE.read_text())


@pytest.fixture
def rows(raw):
    return software_deployments.heatplug_translate(raw)


@pytest.fixture
def canary(raw):
    return next(d for d in raw if "deploy_password" in d["input_values"])


def _kv(rows, table, did):
    return {r[1]: r[2] for r in rows[table] if r[0] == did}


def test_every_recorded_deployment_has_one_row(raw, rows):
    assert rows.skipped == []
    assert len(raw) == 5
    assert len(rows["software_deployments"]) == 5
    assert sorted(r[4] for r in rows["software_deployments"]) == [
        "COMPLETE", "COMPLETE", "COMPLETE", "COMPLETE", "FAILED"]


def test_a_template_deployment(raw, rows):
    dep = next(d for d in raw if d["input_values"] == {
        "greeting": "policy-writer"})
    row, = [r for r in rows["software_deployments"] if r[0] == dep["id"]]
    assert row[1:] == (dep["config_id"], dep["server_id"], "CREATE",
                       "COMPLETE", "Not waiting for outputs signal",
                       dep["creation_time"], None)
    assert _kv(rows, "software_deployments_input_values", dep["id"]) == {
        "greeting": "policy-writer"}
    # NO_SIGNAL: Heat keeps output_values null
    assert dep["output_values"] is None
    assert _kv(rows, "software_deployments_output_values", dep["id"]) == {}


def test_signalled_outputs(raw, rows):
    done = [d for d in raw if d["status_reason"] == "Outputs received"]
    assert len(done) == 2
    for dep in done:
        assert _kv(rows, "software_deployments_output_values",
                   dep["id"]) == {"deploy_status_code": 0,
                                  "deploy_stderr": "", "deploy_stdout": "ok"}
        row, = [r for r in rows["software_deployments"] if r[0] == dep["id"]]
        assert row[7] == dep["updated_time"] is not None


def test_canary_credentials_are_redacted(canary, rows):
    did = canary["id"]
    assert _kv(rows, "software_deployments_input_values", did) == {
        "deploy_password": redact.REDACTED,
        "deploy_signal_id": redact.REDACTED,
        "greeting": "plain-greeting"}
    assert _kv(rows, "software_deployments_output_values", did) == {
        "deploy_status_code": 2, "deploy_stderr": "boom",
        "deploy_stdout": "x"}
    row, = [r for r in rows["software_deployments"] if r[0] == did]
    assert row[3:6] == ("CREATE", "FAILED",
                        "Deployment exited with non-zero status code: 2")


def test_no_canary_reaches_any_row(raw, rows):
    assert all(c in json.dumps(raw) for c in CANARIES)   # the test means it
    text = json.dumps(dict(rows))
    assert [c for c in CANARIES if c in text] == []


def test_signed_urls_and_secret_keys_anywhere(canary):
    dep = copy.deepcopy(canary)
    dep["input_values"] = {
        "callback": "http://h/v1/AUTH_x/c/o?temp_url_sig=abc&"
                    "temp_url_expires=9",
        "nested": {"auth": {"password": "p", "user": "u"}},
        "plain_url": "http://example.com/a?b=c"}
    dep["output_values"] = {
        "deploy_stdout": "posting to http://h/signal?Signature=zz done",
        "result": ["ok", {"token": "t"}]}
    rows = software_deployments.heatplug_translate([dep])
    assert _kv(rows, "software_deployments_input_values", dep["id"]) == {
        "callback": redact.REDACTED,
        "nested": json.dumps({"auth": {"password": redact.REDACTED,
                                       "user": "u"}}, sort_keys=True),
        "plain_url": "http://example.com/a?b=c"}
    outputs = _kv(rows, "software_deployments_output_values", dep["id"])
    assert outputs["deploy_stdout"] == redact.REDACTED
    assert json.loads(outputs["result"]) == ["ok",
                                             {"token": redact.REDACTED}]


def test_malformed_deployments_are_skipped_and_counted(raw):
    bad = copy.deepcopy(raw)
    bad.append({"config_id": "no id"})
    bad.append(dict(bad[0], id="bad-inputs", input_values=["x"]))
    bad.append(dict(bad[0], id="bad-outputs", output_values="x"))
    bad.append(7)
    rows = software_deployments.heatplug_translate(bad)
    assert len(rows.skipped) == 4
    assert len(rows["software_deployments"]) == 5
    assert not [r for t in rows.values() for r in t
                if r[0] in ("bad-inputs", "bad-outputs")]


def test_empty():
    rows = software_deployments.heatplug_translate(None)
    assert rows == {t.name: [] for t in software_deployments.TABLES}
