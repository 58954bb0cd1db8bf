"""Secrets that reach a stack by ways the template analysis once missed,
on the real local Heat: Heat shows each canary, heatplug in no table.

- The environment's ``parameter_defaults`` hand a value to every stack of
  a tree by name: a root hiding ``dbcred`` and a nested template declaring
  it plain both get it, and Heat writes it into the nested template's
  ``default`` (``heat_templates.hidden_in_trees``).
- ``get_param`` with a computed name (``{get_param: {get_param: which}}``,
  ``{get_param: {list_join: ...}}``) resolves to a hidden parameter
  (``heat_templates.COMPUTED``).
- A RandomString's value built into a software config and a deployment's
  input values shows in those resources' attributes too (the resources
  family's ``secret_software``).
"""

import json
import uuid

import pytest
import yaml

from heatplug import redact
from tests.functional import conftest as functional
from tests.reliability import conftest as rconf

CANARY = {k: "canary-%s-%s" % (k, uuid.uuid4().hex[:8])
          for k in ("defaults", "sibling", "computed")}

NESTED = """
heat_template_version: 2018-08-31
parameters:
  dbcred: {type: string, default: nothing}
  colour: {type: string, default: blue}
resources:
  v: {type: OS::Heat::Value, properties: {value: {get_param: dbcred}}}
  c: {type: OS::Heat::Value, properties: {value: {get_param: colour}}}
outputs:
  conn: {value: {get_attr: [v, value]}}
  shade: {value: {get_attr: [c, value]}}
"""
HIDDEN_NESTED = NESTED.replace("default: nothing", "hidden: true")

#: The root hides dbcred; its template resource declares it plain, and
#: gets it from parameter_defaults (no property passes it).
ROOT_HIDES = """
heat_template_version: 2018-08-31
parameters:
  dbcred: {type: string, hidden: true}
resources:
  thing: {type: My::Thing}
outputs:
  shade: {value: {get_attr: [thing, shade]}}
"""
#: The root declares nothing; one nested template hides dbcred, a sibling
#: declares it plain.
SIBLINGS = """
heat_template_version: 2018-08-31
resources:
  careful: {type: hidden_nested.yaml}
  careless: {type: nested.yaml}
"""
COMPUTED = """
heat_template_version: 2018-08-31
parameters:
  hid: {type: string, hidden: true}
  which: {type: string, default: hid}
  shown: {type: string, default: plain-value}
resources:
  joined:
    type: OS::Heat::Value
    properties: {value: {get_param: {list_join: ['', ['h', 'id']]}}}
  chosen:
    type: OS::Heat::Value
    properties: {value: {get_param: {get_param: which}}}
  plain:
    type: OS::Heat::Value
    properties: {value: {get_param: shown}}
outputs:
  o_joined: {value: {get_param: {list_join: ['', ['h', 'id']]}}}
  o_chosen: {value: {get_attr: [chosen, value]}}
  o_plain: {value: {get_attr: [plain, value]}}
"""
#: A RandomString's value built into a software config and handed to a
#: deployment: the software tables redact it, and so must the software
#: resources' attributes (the config's ``config``, the deployment's
#: ``show``).
SOFTWARE = """
heat_template_version: 2018-08-31
resources:
  pw: {type: OS::Heat::RandomString, properties: {length: 24}}
  cfg:
    type: OS::Heat::SoftwareConfig
    properties:
      config:
        str_replace:
          template: mysql -u app -e "CREATE USER app IDENTIFIED BY $PW"
          params: {$PW: {get_attr: [pw, value]}}
      inputs: [{name: dbinit}]
  dep:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {get_resource: cfg}
      server: fake-server-1
      signal_transport: NO_SIGNAL
      input_values: {dbinit: {get_attr: [pw, value]}}
"""


def _create(heat, name, template, **kwargs):
    created = heat.stacks.create(stack_name=name,
                                 template=yaml.safe_load(template), **kwargs)
    return functional.wait_for_stack(
        heat, "%s/%s" % (name, created["stack"]["id"]))


@pytest.fixture(scope="module")
def stacks(heat, population):
    files = {"nested.yaml": NESTED, "hidden_nested.yaml": HIDDEN_NESTED}
    made = {}
    try:
        made["defaults"] = _create(
            heat, "tsec-defaults", ROOT_HIDES, files=files, environment={
                "parameter_defaults": {"dbcred": CANARY["defaults"]},
                "resource_registry": {"My::Thing": "nested.yaml"}})
        made["sibling"] = _create(
            heat, "tsec-sibling", SIBLINGS, files=files, environment={
                "parameter_defaults": {"dbcred": CANARY["sibling"]}})
        made["computed"] = _create(heat, "tsec-computed", COMPUTED,
                                   parameters={"hid": CANARY["computed"]})
        made["software"] = _create(heat, "tsec-software", SOFTWARE)
        for stack in made.values():
            assert stack["stack_status"] == "CREATE_COMPLETE", stack
        yield made
    finally:
        for stack in made.values():
            functional.delete_stack(
                heat, "%s/%s" % (stack["stack_name"], stack["id"]))


def _shown_by_heat(heat, stack):
    """Everything Heat shows of a tree: details, templates, resources with
    their attributes, event details."""
    ident = "%s/%s" % (stack["stack_name"], stack["id"])
    shown = [heat.stacks.get(ident).to_dict()]
    trees = [s for s in heat.stacks.list(show_nested=True)
             if s.id == stack["id"] or s.to_dict().get("parent")]
    for s in trees:
        sid = "%s/%s" % (s.stack_name, s.id)
        shown.append(heat.stacks.get(sid).to_dict())
        shown.append(heat.stacks.template(sid))
    for res in heat.resources.list(ident, nested_depth=3, with_detail=True):
        shown.append(res.to_dict())
    return json.dumps(shown, default=str)


def _canaries(heat, stacks):
    """The canaries, and the value Heat generated for the RandomString."""
    stack = stacks["software"]
    generated = heat.resources.get(
        "%s/%s" % (stack["stack_name"], stack["id"]), "pw").attributes[
        "value"]
    return dict(CANARY, software=generated)


def test_heat_shows_every_canary(heat, stacks):
    canaries = _canaries(heat, stacks)
    for key, stack in stacks.items():
        assert canaries[key] in _shown_by_heat(heat, stack), key


def test_no_canary_reaches_a_table(local_heat, heat, stacks, tmp_path):
    result = rconf.make_poller(tmp_path, local_heat.endpoint).poll()
    assert result.ok, result.errors
    shown = rconf.as_json(result)
    for key, canary in _canaries(heat, stacks).items():
        assert canary not in shown, key
    # what carries no secret still shows
    outputs = {(r[0], r[1]): r[2]
               for r in result.tables["stack_outputs"].rows}
    defaults, computed = stacks["defaults"]["id"], stacks["computed"]["id"]
    assert outputs[(defaults, "shade")] == "blue"
    assert outputs[(computed, "o_plain")] == "plain-value"
    assert outputs[(computed, "o_chosen")] == redact.REDACTED
    assert outputs[(computed, "o_joined")] == redact.REDACTED
    # The nested template's default, which Heat rewrote to the value, is
    # redacted; its declaration (not hidden) is published as written.
    child, = [s.id for s in heat.stacks.list(show_nested=True)
              if s.to_dict().get("parent") == defaults]
    params = {(r[0], r[1]): (r[3], r[4])
              for r in result.tables["template_parameters"].rows}
    assert params[(child, "dbcred")] == (redact.REDACTED, False)
    assert params[(child, "colour")] == ("blue", False)


FAILS_NESTED = """
heat_template_version: 2018-08-31
parameters:
  n: {type: number}
resources:
  x: {type: OS::Heat::None}
"""
FAILS_PATTERN = """
heat_template_version: 2018-08-31
parameters:
  p: {type: string, constraints: [{allowed_pattern: '[0-9]+'}]}
resources:
  x: {type: OS::Heat::None}
"""
#: A hidden value relayed at run time (get_attr) to a typed property and to
#: constrained nested parameters: Heat's validation messages quote it.
FAILS = """
heat_template_version: 2018-08-31
parameters:
  hid: {type: string, hidden: true}
resources:
  relay: {type: OS::Heat::Value, properties: {value: {get_param: hid}}}
  num: {type: nested.yaml, properties: {n: {get_attr: [relay, value]}}}
  pat: {type: nested_pat.yaml, properties: {p: {get_attr: [relay, value]}}}
  intprop:
    type: OS::Heat::RandomString
    properties: {length: {get_attr: [relay, value]}}
"""


def test_validation_messages_quoting_a_hidden_value(local_heat, heat,
                                                    population, tmp_path):
    canary = "canary-invalid-%s" % uuid.uuid4().hex[:8]
    stack = _create(heat, "tsec-invalid", FAILS, parameters={"hid": canary},
                    files={"nested.yaml": FAILS_NESTED,
                           "nested_pat.yaml": FAILS_PATTERN})
    ident = "%s/%s" % (stack["stack_name"], stack["id"])
    try:
        assert stack["stack_status"] == "CREATE_FAILED"
        reasons = [stack["stack_status_reason"]] + [
            r.resource_status_reason for r in heat.resources.list(ident)]
        assert canary in json.dumps(reasons)       # Heat quotes it
        result = rconf.make_poller(tmp_path, local_heat.endpoint).poll()
        assert result.ok, result.errors
        assert canary not in rconf.as_json(result)
        shown = [r[8] for r in result.tables["resources"].rows
                 if r[0] == stack["id"] and r[8]]
        assert any("'%s'" % redact.REDACTED in r or
                   '"%s"' % redact.REDACTED in r for r in shown), shown
    finally:
        functional.delete_stack(heat, ident)
