"""The software_configs family's translation, on recorded real Heat answers.

``tests/fixtures/software_configs.json`` is what the family's fetch returned
from a real local Heat holding the test population
(``tests/functional/population``) plus ``rec-signal`` (a HEAT_SIGNAL and a
CFN_SIGNAL deployment), recorded with::

    OS_AUTH_TYPE=none OS_ENDPOINT=http://127.0.0.1:PORT/v1/admin \\
        .venv/bin/python tools/record_fixtures.py software_configs

Besides the configs the templates define, Heat derives one config per
deployment, whose inputs carry the deployment's values: the HEAT_SIGNAL one
holds the generated ``deploy_password``, the CFN_SIGNAL one a signed signal
URL, and pop-software's the secret-named input's default and value.
"""

import copy
import json
import pathlib

import pytest

from heatplug import redact
from heatplug.plugins import software_configs

FIXTURE = (pathlib.Path(__file__).resolve().parents[2] / "fixtures"
           / "software_configs.json")


@pytest.fixture
def raw():
    return json.loads(FIXTURE.read_text())


@pytest.fixture
def rows(raw):
    return software_configs.heatplug_translate(raw)


def _heat_secrets(raw):
    """Every secret value Heat handed out in the recording."""
    found = []
    for config in raw:
        for io in config["inputs"]:
            if io["name"] in ("deploy_password", "deploy_signal_id",
                              "api_password"):
                found += [io.get(k) for k in ("default", "value")
                          if io.get(k)]
    return found


def _inputs(rows, cid):
    return {r[1]: r[2:] for r in rows["software_configs_inputs"]
            if r[0] == cid}


def _by_name(raw, name, derived):
    """The config named ``name``: the derived one (with ``deploy_*`` inputs)
    or the one the template defined."""
    for config in raw:
        names = {i["name"] for i in config["inputs"]}
        if config["name"].startswith(name) and \
                bool(names & {"deploy_action"}) == derived:
            return config
    raise LookupError(name)


def test_every_recorded_config_has_one_row(raw, rows):
    assert rows.skipped == []
    assert len(raw) == 7
    assert len(rows["software_configs"]) == 7
    assert {r[5] for r in rows["software_configs"]} == {"admin"}
    groups = sorted(r[2] for r in rows["software_configs"])
    assert groups == ["ansible", "ansible", "script", "script", "script",
                      "script", "script"]


def test_a_script_config(raw, rows):
    config = _by_name(raw, "pop-software-config", derived=False)
    row, = [r for r in rows["software_configs"] if r[0] == config["id"]]
    assert row[1].startswith("pop-software-config-")
    assert row[2] == "script"
    assert row[3] == config["creation_time"]
    assert row[4] == ('#!/bin/sh\necho "hello $greeting" > '
                      '$heat_outputs_path.result\n')
    assert _inputs(rows, config["id"]) == {
        "greeting": ("String", "whom to greet", "world", None, None),
        "api_password": ("String", "a hidden input", redact.REDACTED, None,
                         None),
    }
    assert [r[1:] for r in rows["software_configs_outputs"]
            if r[0] == config["id"]] == [
        ("result", "String", "the greeting", False)]
    assert [r[1:] for r in rows["software_configs_options"]
            if r[0] == config["id"]] == [("retries", 3)]


def test_a_structured_config_body_is_json(raw, rows):
    config = _by_name(raw, "pop-software-structured", derived=False)
    row, = [r for r in rows["software_configs"] if r[0] == config["id"]]
    assert json.loads(row[4]) == {"tasks": [{"debug": {"msg": "hello"}}]}
    assert _inputs(rows, config["id"]) == {}
    assert [r for r in rows["software_configs_options"]
            if r[0] == config["id"]] == []


def test_derived_config_values(raw, rows):
    config = _by_name(raw, "pop-software-config", derived=True)
    inputs = _inputs(rows, config["id"])
    assert inputs["greeting"] == ("String", "whom to greet", "world",
                                  "policy-writer", None)
    assert inputs["api_password"][2:4] == (redact.REDACTED, redact.REDACTED)
    assert inputs["deploy_action"][3] == "CREATE"
    assert inputs["deploy_signal_transport"][3] == "NO_SIGNAL"
    assert inputs["deploy_resource_name"][3] == "deploy"


def test_deployment_credentials_are_redacted(raw, rows):
    heat_said = {}
    for config in raw:
        for io in config["inputs"]:
            heat_said.setdefault(io["name"], io.get("value"))
    # Heat hands out the generated password and a signed URL ...
    assert len(heat_said["deploy_password"]) == 32
    assert "Signature=" in heat_said["deploy_signal_id"]
    # ... heatplug does not.
    values = {}
    for row in rows["software_configs_inputs"]:
        values.setdefault(row[1], row[5])
    assert values["deploy_password"] == redact.REDACTED
    assert values["deploy_signal_id"] == redact.REDACTED
    assert values["deploy_username"].startswith("rec-signal-dep_heat-")
    assert values["deploy_auth_url"] == "http://localhost:5000/v3"
    assert values["deploy_signal_verb"] == "POST"


def test_no_secret_reaches_any_row(raw, rows):
    secrets = _heat_secrets(raw)
    assert len(secrets) >= 5                          # the test means it
    text = json.dumps(dict(rows))
    assert [s for s in secrets if s in text] == []
    assert "canary" not in text


def test_malformed_configs_are_skipped_and_counted(raw):
    bad = copy.deepcopy(raw)
    bad.append({"name": "no id"})
    bad.append(dict(bad[0], id="bad-inputs", inputs=[{"type": "String"}]))
    bad.append(dict(bad[3], id="bad-options", options=["x"]))
    bad.append(None)
    rows = software_configs.heatplug_translate(bad)
    assert len(rows.skipped) == 4
    assert len(rows["software_configs"]) == 7
    assert not [r for t in rows.values() for r in t
                if r[0] in ("bad-inputs", "bad-options")]


def test_empty():
    rows = software_configs.heatplug_translate([])
    assert rows == {t.name: [] for t in software_configs.TABLES}


def test_secrets_in_a_config_body_and_options():
    raw = [{"id": "c1", "name": "n", "group": "script",
            "creation_time": "2026-01-01T00:00:00Z",
            "config": {"db_password": "s3", "url":
                       "http://h/x?temp_url_sig=abc&temp_url_expires=1",
                       "list": [{"name": "token", "default": "t"}]},
            "inputs": [{"name": "x", "hidden": True, "default": "h"}],
            "outputs": [], "options": {"api_key": "k", "retries": 2}}]
    rows = software_configs.heatplug_translate(raw)
    assert rows.skipped == []
    body = json.loads(rows["software_configs"][0][4])
    assert body == {"db_password": redact.REDACTED, "url": redact.REDACTED,
                    "list": [{"name": "token", "default": redact.REDACTED}]}
    assert rows["software_configs_inputs"] == [
        ("c1", "x", None, None, redact.REDACTED, None, None)]
    assert rows["software_configs_options"] == [
        ("c1", "api_key", redact.REDACTED), ("c1", "retries", 2)]
    script = ("#!/bin/sh\ncurl -X POST "
              "'http://h/v1/signal/x?Timestamp=1&Signature=s'\n")
    raw[0]["config"] = script
    rows = software_configs.heatplug_translate(raw)
    assert rows["software_configs"][0][4] == \
        "#!/bin/sh\ncurl -X POST '%s'\n" % redact.REDACTED
