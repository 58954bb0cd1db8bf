"""The templates family's translation, on recorded real Heat answers.

``tests/fixtures/templates.json`` is what the family's fetch returned from a
real local Heat holding the test population (``tests/functional/population``:
HOT templates, pop-cfn's CloudFormation template, and the generated template
of pop-nested's ResourceGroup), recorded with::

    OS_AUTH_TYPE=none OS_ENDPOINT=http://127.0.0.1:PORT/v1/admin \\
        .venv/bin/python tools/record_fixtures.py templates

Heat returns the templates verbatim, hidden parameters' defaults included.
"""

import copy
import json
import pathlib

import pytest
from heatclient import exc as heat_exc

from heatplug import redact
from heatplug.plugins import templates
from tests.unit.conftest import FakeCtx

FIXTURE = (pathlib.Path(__file__).resolve().parents[2] / "fixtures"
           / "templates.json")
CANARIES = ("canary-cfn-noecho-default-5Wm2", "canary-hot-hidden-default-8Rt4")


@pytest.fixture
def raw():
    return json.loads(FIXTURE.read_text())


@pytest.fixture
def ids(raw):
    """Stack ids by a short name taken from each template's description."""
    found = {}
    for record in raw:
        t = record["template"]
        desc = t.get("description") or t.get("Description")
        name = desc.split(" - ")[0] if desc else "group"
        found[name] = record["stack_id"]
    return found


def _rows(rows, table, sid):
    return sorted(r[1:] for r in rows[table] if r[0] == sid)


def test_the_recorded_population(raw, ids):
    assert sorted(ids) == ["group", "pop-cfn", "pop-fails", "pop-nested",
                           "pop-params", "pop-simple", "pop-software",
                           "pop_child"]
    rows = templates.heatplug_translate(raw)
    assert rows.skipped == []
    assert sorted(r[1:] for r in rows["templates"]) == sorted([
        ("AWSTemplateFormatVersion", "2010-09-09",
         "pop-cfn - a CloudFormation-format template"),
        ("heat_template_version", "2018-08-31",
         "pop-fails - a stack that fails"),
        ("heat_template_version", "2018-08-31", "pop-nested - nested stacks"),
        ("heat_template_version", "2018-08-31",
         "pop-params - parameter schemas and outputs"),
        ("heat_template_version", "2018-08-31", "pop-simple - a plain stack"),
        ("heat_template_version", "2018-08-31",
         "pop-software - software configs and deployments"),
        ("heat_template_version", "2018-08-31",
         "pop_child - a template resource"),
        # Heat's generated ResourceGroup template: older version, no
        # description.
        ("heat_template_version", "2015-04-30", None),
    ])


def test_hot_parameters_and_constraints(raw, ids):
    rows = templates.heatplug_translate(raw)
    sid = ids["pop-params"]
    assert _rows(rows, "template_parameters", sid) == [
        ("address", "string", "192.0.2.10", False, False, None, None),
        ("debug", "boolean", False, False, False, None, None),
        ("env", "string", None, False, True, None, "Environment"),
        ("replicas", "number", 4, False, False, None, None),
        ("settings", "json", '{"level": 3, "mode": "fast"}', False, False,
         None, None),
        ("unlock_code", "string", redact.REDACTED, True, False,
         "a hidden parameter with a default", "Unlock code"),
        ("zones", "comma_delimited_list", "a,b", False, False, None, None),
    ]
    assert _rows(rows, "template_parameter_constraints", sid) == [
        ("address", "custom_constraint", "ip_addr", None),
        ("env", "allowed_values", '["dev", "prod"]', "dev or prod"),
        ("replicas", "modulo", '{"offset": 0, "step": 2}', None),
        ("replicas", "range", '{"max": 8, "min": 2}', None),
        ("unlock_code", "allowed_pattern", "[A-Za-z0-9-]+", None),
        ("unlock_code", "length", '{"min": 8}', "at least 8 characters"),
    ]
    assert _rows(rows, "template_parameters", ids["pop-simple"]) == [
        ("db_password", "string", None, True, False, "a hidden parameter",
         None),
        ("length", "number", 8, False, False, None, None),
    ]


def test_cfn_parameters_and_constraints_in_hot_vocabulary(raw, ids):
    rows = templates.heatplug_translate(raw)
    sid = ids["pop-cfn"]
    assert _rows(rows, "template_parameters", sid) == [
        ("AdminPass", "String", redact.REDACTED, True, False,
         "a NoEcho parameter with a default", None),
        ("Count", "Number", "2", False, False, None, None),
        ("Flavor", "String", "m1.small", False, False, None, None),
        ("Label", "String", "abc", False, False, None, None),
    ]
    assert _rows(rows, "template_parameter_constraints", sid) == [
        ("AdminPass", "length", '{"max": 64, "min": 8}', None),
        ("Count", "range", '{"max": 5, "min": 1}', None),
        ("Flavor", "allowed_values", '["m1.small", "m1.large"]',
         "must be a known flavor"),
        ("Label", "allowed_pattern", "[a-z]+", None),
    ]


def test_resources_and_dependencies(raw, ids):
    rows = templates.heatplug_translate(raw)
    assert _rows(rows, "template_resources", ids["pop-params"]) == [
        ("carrier", "OS::Heat::Value", None, None),
        ("dev_only", "OS::Heat::None", "is_dev", None),
        ("kept", "OS::Heat::RandomString", "is_prod", "Retain"),
        ("plain", "OS::Heat::Value", None, None),
    ]
    assert _rows(rows, "template_resources_depends_on",
                 ids["pop-params"]) == [("kept", "carrier"),
                                        ("kept", "plain")]
    # CFN: DependsOn as a string and as a list.
    assert _rows(rows, "template_resources_depends_on", ids["pop-cfn"]) == [
        ("Second", "First"), ("Third", "First"), ("Third", "Second")]
    assert _rows(rows, "template_resources_depends_on",
                 ids["pop-fails"]) == [("broken", "ok")]
    assert _rows(rows, "template_resources", ids["pop-nested"]) == [
        ("child", "pop_child.yaml", None, None),
        ("group", "OS::Heat::ResourceGroup", None, None)]
    assert _rows(rows, "template_resources", ids["group"]) == [
        ("0", "OS::Heat::RandomString", None, None),
        ("1", "OS::Heat::RandomString", None, None)]


def test_outputs(raw, ids):
    rows = templates.heatplug_translate(raw)
    assert _rows(rows, "template_outputs", ids["pop-cfn"]) == [
        ("Broken", "an output that cannot be resolved"),
        ("Joined", "the joined label and flavor")]
    assert _rows(rows, "template_outputs", ids["pop-simple"]) == [
        ("greeting", "the greeting"), ("token_length", None)]
    assert _rows(rows, "template_outputs", ids["pop-software"]) == []


def test_hidden_defaults_never_reach_a_row(raw):
    assert all(c in json.dumps(raw) for c in CANARIES)   # Heat returns them
    text = json.dumps(dict(templates.heatplug_translate(raw)))
    assert not [c for c in CANARIES if c in text]


def test_allowed_values_of_a_hidden_parameter_are_redacted(raw, ids):
    record = copy.deepcopy(next(r for r in raw
                                if r["stack_id"] == ids["pop-cfn"]))
    record["template"]["Parameters"]["AdminPass"]["AllowedValues"] = [
        "hunter2-1", "hunter2-2"]
    rows = templates.heatplug_translate([record])
    assert ("AdminPass", "allowed_values", redact.REDACTED, None) in \
        _rows(rows, "template_parameter_constraints", ids["pop-cfn"])
    assert "hunter2" not in json.dumps(dict(rows))


def test_fetch_dropped_what_translate_never_reads(raw, ids):
    """Resource properties and output values are not kept."""
    for record in raw:
        t = record["template"]
        for section in ("resources", "Resources"):
            for res in (t.get(section) or {}).values():
                assert set(res) <= set(templates._RESOURCE_KEEP)
        for section in ("outputs", "Outputs"):
            for out in (t.get(section) or {}).values():
                assert set(out) <= {"description", "Description"}
    params = next(r for r in raw if r["stack_id"] == ids["pop-params"])
    assert "conditions" not in params["template"]


def test_malformed_records_are_skipped_and_counted(raw, ids):
    broken = copy.deepcopy(raw)
    by_id = {r["stack_id"]: r for r in broken}
    by_id[ids["pop-simple"]]["template"]["parameters"] = ["not", "a map"]
    by_id[ids["pop-cfn"]]["template"]["Resources"]["Third"]["DependsOn"] = 3
    del by_id[ids["pop-fails"]]["template"]["heat_template_version"]
    by_id[ids["pop-params"]]["template"]["parameters"]["replicas"][
        "constraints"] = [{"range": {"min": 1}, "length": {"min": 1}}]
    broken.append({"template": {}})            # no stack id
    rows = templates.heatplug_translate(broken)
    assert len(rows.skipped) == 5
    assert any(s.startswith("template of stack %s: ValueError: no template "
                            "version key" % ids["pop-fails"])
               for s in rows.skipped)
    gone = {ids[n] for n in ("pop-simple", "pop-cfn", "pop-fails",
                             "pop-params")}
    for table, table_rows in rows.items():   # no half records
        assert not [r for r in table_rows if r[0] in gone], table
    assert len(rows["templates"]) == len(raw) - 4
    assert _rows(rows, "template_resources", ids["group"])[0] == (
        "0", "OS::Heat::RandomString", None, None)


def test_slim_keeps_malformed_sections_for_translate_to_judge():
    assert templates.slim("oops") == "oops"
    assert templates.slim({"resources": ["x"]}) == {"resources": ["x"]}


# -- fetch: the cache ------------------------------------------------------

class FakeStacks:
    def __init__(self, raw):
        self.by_id = {r["stack_id"]: r["template"] for r in raw}
        self.calls = []
        self.gone = set()

    def template(self, ident):
        self.calls.append(ident)
        sid = ident.split("/")[1]
        if sid in self.gone:
            raise heat_exc.HTTPNotFound()
        return copy.deepcopy(self.by_id[sid])


def _listed(raw, status="CREATE_COMPLETE"):
    return [{"id": r["stack_id"], "stack_name": "s%d" % i,
             "stack_status": status, "stack_status_reason": "done",
             "updated_time": None} for i, r in enumerate(raw)]


def _without_hidden(records):
    return [{k: v for k, v in r.items() if k != "hidden"} for r in records]


def test_a_full_refresh_reads_every_template_again(raw):
    heat = FakeStacks(raw)
    cache, state = {}, {}
    listed = _listed(raw)
    templates.heatplug_fetch(FakeCtx(listed, heat, cache, state=state))
    assert _without_hidden(templates.heatplug_fetch(
        FakeCtx(listed, heat, cache, full_refresh=True, state=state))) == raw
    assert len(heat.calls) == 16
    templates.heatplug_fetch(FakeCtx(listed, heat, cache, state=state))
    assert len(heat.calls) == 16


def test_fetch_caches_by_signature_and_drops_vanished_stacks(raw, ids):
    heat = FakeStacks(raw)
    cache, state = {}, {}
    listed = _listed(raw)
    assert _without_hidden(templates.heatplug_fetch(
        FakeCtx(listed, heat, cache, state=state))) == raw
    assert len(heat.calls) == 8
    templates.heatplug_fetch(FakeCtx(listed, heat, cache, state=state))
    assert len(heat.calls) == 8                  # all from the cache
    changed = copy.deepcopy(listed)
    changed[0]["updated_time"] = "2026-01-01T00:00:00Z"
    changed[1]["stack_status"] = "UPDATE_IN_PROGRESS"
    templates.heatplug_fetch(FakeCtx(changed, heat, cache, state=state))
    templates.heatplug_fetch(FakeCtx(changed, heat, cache, state=state))
    # 0 once (new signature, then cached); 1 each time (in progress).
    assert heat.calls[8:] == ["s0/%s" % listed[0]["id"],
                              "s1/%s" % listed[1]["id"],
                              "s1/%s" % listed[1]["id"]]
    heat.gone.add(listed[2]["id"])
    fewer = [s for s in changed if s["id"] != listed[3]["id"]]
    fewer[2] = dict(fewer[2], stack_status="DELETE_IN_PROGRESS")
    got = templates.heatplug_fetch(FakeCtx(fewer, heat, cache, state=state))
    assert {r["stack_id"] for r in got} == {s["id"] for s in fewer} - {
        listed[2]["id"]}
    assert set(cache["templates"]) == {r["stack_id"] for r in got}
