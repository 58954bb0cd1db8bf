"""The templates family against the real local Heat.

Every table is compared with direct heatclient reads (``stacks.template``)
of the same Heat: HOT templates, pop-cfn's CloudFormation template and the
templates Heat generated for nested stacks.
"""

import json

import pytest

from heatplug import redact
from heatplug import translation
from tests.functional import conftest

CANARIES = ("canary-cfn-noecho-default-5Wm2", "canary-hot-hidden-default-8Rt4")


@pytest.fixture(scope="module")
def data(local_heat, population):
    return conftest.poll_json(local_heat, "--enable", "templates")


@pytest.fixture(scope="module")
def heat_templates(heat, data):
    return {s.id: heat.stacks.template("%s/%s" % (s.stack_name, s.id))
            for s in heat.stacks.list(show_nested=True)}


def _hot(template):
    return "heat_template_version" in template


def _sec(template, hot_key):
    return template.get(hot_key if _hot(template) else hot_key.capitalize()) \
        or {}


def _rows_of(data, table, sid):
    return [r[1:] for r in conftest.table_rows(data, table) if r[0] == sid]


def test_no_errors_nothing_skipped(data):
    assert data["errors"] == {}
    assert data["stats"]["families"]["templates"]["skipped"] == []


def test_templates_match_heat(data, heat_templates, population):
    expected = []
    for sid, t in heat_templates.items():
        if _hot(t):
            expected.append((sid, "heat_template_version",
                             t["heat_template_version"], t.get("description")))
        else:
            expected.append((sid, "AWSTemplateFormatVersion",
                             t["AWSTemplateFormatVersion"],
                             t.get("Description")))
    assert conftest.table_rows(data, "templates") == sorted(expected)
    assert _rows_of(data, "templates", population["pop-cfn"]["id"]) == [
        ("AWSTemplateFormatVersion", "2010-09-09",
         "pop-cfn - a CloudFormation-format template")]


def test_parameters_match_heat(data, heat_templates, population):
    expected = []
    for sid, t in heat_templates.items():
        for name, p in _sec(t, "parameters").items():
            if _hot(t):
                hidden = bool(p.get("hidden", False))
                expected.append((sid, name, p.get("type"), translation.scalar(
                    redact.value(name, p.get("default"), hidden=hidden)),
                    hidden, bool(p.get("immutable", False)),
                    p.get("description"), p.get("label")))
            else:
                hidden = p.get("NoEcho") == "true"
                expected.append((sid, name, p.get("Type"), redact.value(
                    name, p.get("Default"), hidden=hidden), hidden, False,
                    p.get("Description"), None))
    assert conftest.table_rows(data, "template_parameters") == \
        sorted(expected)
    params = {r[0]: r[1:] for r in _rows_of(
        data, "template_parameters", population["pop-params"]["id"])}
    assert params["unlock_code"] == ("string", redact.REDACTED, True, False,
                                     "a hidden parameter with a default",
                                     "Unlock code")
    cfn = {r[0]: r[1:] for r in _rows_of(
        data, "template_parameters", population["pop-cfn"]["id"])}
    assert cfn["AdminPass"][:3] == ("String", redact.REDACTED, True)


def test_hidden_defaults_heat_returns_never_reach_a_row(data, heat_templates):
    assert all(c in json.dumps(heat_templates) for c in CANARIES)
    assert [c for c in CANARIES if c in json.dumps(data)] == []


def test_constraints(data, heat_templates, population):
    # HOT constraints are Heat's own list, row for row.
    expected = sorted(
        (sid, name, kind, translation.scalar(c[kind]), c.get("description"))
        for sid, t in heat_templates.items() if _hot(t)
        for name, p in _sec(t, "parameters").items()
        for c in p.get("constraints", ())
        for kind in c if kind != "description")
    cfn = population["pop-cfn"]["id"]
    got = [r for r in conftest.table_rows(
        data, "template_parameter_constraints") if r[0] != cfn]
    assert got == expected
    # CFN constraints in HOT's vocabulary.
    assert sorted(_rows_of(data, "template_parameter_constraints", cfn)) == [
        ("AdminPass", "length", '{"max": 64, "min": 8}', None),
        ("Count", "range", '{"max": 5, "min": 1}', None),
        ("Flavor", "allowed_values", '["m1.small", "m1.large"]',
         "must be a known flavor"),
        ("Label", "allowed_pattern", "[a-z]+", None)]
    assert heat_templates[cfn]["Parameters"]["AdminPass"]["MinLength"] == "8"


def test_resources_and_dependencies_match_heat(data, heat_templates,
                                               population):
    expected, deps = [], []
    for sid, t in heat_templates.items():
        hot = _hot(t)
        for name, r in _sec(t, "resources").items():
            expected.append((sid, name, r.get("type" if hot else "Type"),
                             r.get("condition" if hot else "Condition"),
                             r.get("deletion_policy" if hot
                                   else "DeletionPolicy")))
            dep = r.get("depends_on" if hot else "DependsOn") or []
            for d in [dep] if isinstance(dep, str) else dep:
                deps.append((sid, name, d))
    assert conftest.table_rows(data, "template_resources") == sorted(expected)
    assert conftest.table_rows(data, "template_resources_depends_on") == \
        sorted(deps)
    assert _rows_of(data, "template_resources_depends_on",
                    population["pop-cfn"]["id"]) == [
        ("Second", "First"), ("Third", "First"), ("Third", "Second")]
    # The nested stack of pop-nested's ResourceGroup: Heat's generated
    # template, members named 0 and 1.
    nested = [sid for sid, t in heat_templates.items()
              if set(_sec(t, "resources")) == {"0", "1"}]
    assert len(nested) == 1
    assert _rows_of(data, "templates", nested[0]) == [
        ("heat_template_version", "2015-04-30", None)]


def test_outputs_match_heat(data, heat_templates):
    expected = sorted(
        (sid, name, o.get("description" if _hot(t) else "Description"))
        for sid, t in heat_templates.items()
        for name, o in _sec(t, "outputs").items())
    assert conftest.table_rows(data, "template_outputs") == expected


def test_one_template_request_per_stack(data, heat_templates):
    stats = data["stats"]
    # Template reads go through ctx.shared (stack_details may need the same
    # template in the same poll), so they count as shared requests.
    assert stats["requests"] == 1 + len(heat_templates)
    assert stats["shared_requests"] == 1 + len(heat_templates)


def test_templates_and_stack_details_share_template_reads(local_heat,
                                                          population):
    both = conftest.poll_json(local_heat, "--enable", "templates",
                              "--enable", "stack_details")
    alone = conftest.poll_json(local_heat, "--enable", "stack_details")
    stacks = both["stats"]["families"]["stack_details"]["requests"]
    assert both["stats"]["shared_requests"] == 1 + stacks
    assert alone["stats"]["shared_requests"] < 1 + stacks
    assert both["stats"]["requests"] == 1 + 2 * stacks
