"""The events family's translation, on recorded real Heat answers.

``tests/fixtures/events.json`` is what the family's fetch returned from a
real local Heat holding the test population (``tests/functional/population``)
plus ``rec-signal`` (a stack with HEAT_SIGNAL and CFN_SIGNAL deployments),
recorded with::

    OS_AUTH_TYPE=none OS_ENDPOINT=http://127.0.0.1:PORT/v1/admin \\
        .venv/bin/python tools/record_fixtures.py events

Heat's event details hold resolved property values: pop-params' hidden
default reaches the ``carrier`` resource's ``value`` in plain text, and
pop-software's secret-named config input its default.  Neither may reach a
row.
"""

import copy
import json
import pathlib

import pytest

from heatplug import redact
from heatplug import translation
from heatplug.plugins import events

FIXTURE = (pathlib.Path(__file__).resolve().parents[2] / "fixtures"
           / "events.json")
CANARIES = ("canary-hidden-config-input-3Kd9",
            "canary-hot-hidden-default-8Rt4")
COLUMNS = [c.name for c in events.TABLES[0].columns]


@pytest.fixture
def raw():
    return json.loads(FIXTURE.read_text())


@pytest.fixture
def rows(raw):
    return events.heatplug_translate(raw)


def _stack_of(event):
    href = next(link["href"] for link in event["links"]
                if link["rel"] == "stack")
    return href.split("/stacks/", 1)[1]


@pytest.fixture
def stacks(raw):
    """``{stack name: stack id}`` of every stack in the recording."""
    return dict(_stack_of(e).split("/") for e in raw["events"])


def _events(rows, **match):
    found = []
    for row in rows["events"]:
        rec = dict(zip(COLUMNS, row))
        if all(rec[k] == v for k, v in match.items()):
            found.append(rec)
    return found


def test_every_recorded_event_has_one_row(raw, rows):
    assert rows.skipped == []
    assert len(raw["events"]) == 68
    assert len(rows["events"]) == 68
    assert len({r[0] for r in rows["events"]}) == 68
    assert set(raw["details"]) == {e["id"] for e in raw["events"]}


def test_a_failed_resource(rows, stacks):
    failed, = _events(rows, resource_name="broken", status="FAILED")
    assert failed["stack_id"] == stacks["pop-fails"]
    assert failed["resource_type"] == "OS::Heat::TestResource"
    assert failed["resource_status"] == "CREATE_FAILED"
    assert (failed["action"], failed["status"]) == ("CREATE", "FAILED")
    assert failed["resource_status_reason"] == \
        "ValueError: resources.broken: Test Resource failed broken"
    assert failed["logical_resource_id"] == "broken"
    stack_failed, = _events(rows, resource_name="pop-fails",
                            resource_status="CREATE_FAILED")
    assert stack_failed["resource_type"] == "OS::Heat::Stack"
    assert stack_failed["physical_resource_id"] == stacks["pop-fails"]
    assert stack_failed["resource_status_reason"].startswith(
        "Resource CREATE failed: ValueError: resources.broken")


def test_nested_events_belong_to_their_nested_stack(rows, stacks):
    group = next(n for n in stacks if n.startswith("pop-nested-group-"))
    child = next(n for n in stacks if n.startswith("pop-nested-child-"))
    members = _events(rows, resource_name="0")
    assert len(members) == 2
    assert {m["stack_id"] for m in members} == {stacks[group]}
    assert {m["resource_type"] for m in members} == {"OS::Heat::RandomString"}
    assert [(m["action"], m["status"]) for m in members] == [
        ("CREATE", "IN_PROGRESS"), ("CREATE", "COMPLETE")]
    values = _events(rows, resource_name="value")
    assert {v["stack_id"] for v in values} == {stacks[child]}
    # the parent's resource that holds the child stack belongs to the parent
    holder = _events(rows, resource_name="child", status="COMPLETE")
    assert [h["stack_id"] for h in holder] == [stacks["pop-nested"]]
    assert holder[0]["physical_resource_id"] == stacks[child]
    assert holder[0]["resource_type"] == "pop_child.yaml"
    per_stack = {}
    for row in rows["events"]:
        per_stack[row[1]] = per_stack.get(row[1], 0) + 1
    assert per_stack[stacks["pop-nested"]] == 6
    assert per_stack[stacks[group]] == 6
    assert per_stack[stacks[child]] == 6
    assert sum(per_stack.values()) == 68


def test_links(rows, stacks):
    failed, = _events(rows, resource_name="broken", status="FAILED")
    links = sorted(r[1:] for r in rows["events_links"]
                   if r[0] == failed["id"])
    base = "http://127.0.0.1:18103/v1/admin/stacks/pop-fails/%s" \
        % stacks["pop-fails"]
    assert links == [
        (base, "stack"),
        (base + "/resources/broken", "resource"),
        (base + "/resources/broken/events/" + failed["id"], "self"),
    ]
    member = _events(rows, resource_name="0")[0]
    rels = {r[2]: r[1] for r in rows["events_links"] if r[0] == member["id"]}
    assert rels["root_stack"].endswith(
        "/stacks/pop-nested/%s" % stacks["pop-nested"])


def test_resource_properties(rows):
    token = _events(rows, resource_name="token")[0]
    assert [r[1:] for r in rows["events_resource_properties"]
            if r[0] == token["id"]] == [("length", 12)]
    group = _events(rows, resource_name="group")[0]
    props = {r[1]: r[2] for r in rows["events_resource_properties"]
             if r[0] == group["id"]}
    assert props["count"] == 2
    assert json.loads(props["resource_def"]) == {
        "properties": {"length": 6}, "type": "OS::Heat::RandomString"}
    deploy = _events(rows, resource_name="deploy")[0]
    props = {r[1]: r[2] for r in rows["events_resource_properties"]
             if r[0] == deploy["id"]}
    assert props["signal_transport"] == "NO_SIGNAL"
    assert json.loads(props["input_values"]) == {"greeting": "policy-writer"}


def test_hidden_parameter_in_a_property_is_redacted(raw, rows):
    carrier = _events(rows, resource_name="carrier")
    assert len(carrier) == 2
    for event in carrier:
        # Heat itself shows the hidden default in plain text ...
        assert raw["details"][event["id"]]["resource_properties"] == {
            "value": "code=canary-hot-hidden-default-8Rt4"}
        assert raw["details"][event["id"]]["secret_properties"] == ["value"]
        # ... heatplug does not.
        assert [r[1:] for r in rows["events_resource_properties"]
                if r[0] == event["id"]] == [("value", redact.REDACTED)]
    plain = _events(rows, resource_name="plain")[0]
    assert [r[1:] for r in rows["events_resource_properties"]
            if r[0] == plain["id"]] == [("value", "a,b")]


def test_random_string_values_are_redacted(rows):
    greeting = _events(rows, resource_name="greeting")[0]
    assert sorted(r[1:] for r in rows["events_resource_properties"]
                  if r[0] == greeting["id"]) == [
        ("type", "string"), ("value", redact.REDACTED)]


def test_secret_named_config_input_is_redacted(rows):
    config = [e for e in _events(rows, resource_name="config")
              if e["stack_id"] != _events(rows, resource_name="rec-signal")[0][
                  "stack_id"]][0]
    props = {r[1]: r[2] for r in rows["events_resource_properties"]
             if r[0] == config["id"]}
    inputs = {i["name"]: i for i in json.loads(props["inputs"])}
    assert inputs["api_password"]["default"] == redact.REDACTED
    assert inputs["api_password"]["description"] == "a hidden input"
    assert inputs["greeting"]["default"] == "world"


def test_no_canary_reaches_any_row(raw, rows):
    assert all(c in json.dumps(raw) for c in CANARIES)   # the test means it
    text = json.dumps(dict(rows))
    assert [c for c in CANARIES if c in text] == []


def test_malformed_events_are_skipped_and_counted(raw):
    bad = copy.deepcopy(raw)
    good = len(bad["events"])
    bad["events"].insert(0, {"id": "no-links", "resource_name": "x"})
    bad["events"].insert(1, "not an event")
    bad["events"].append(dict(bad["events"][5], id="bad-links",
                              links=[{"rel": "stack"}]))
    rows = events.heatplug_translate(bad)
    assert len(rows.skipped) == 3
    assert any("no-links" in s for s in rows.skipped)
    assert len(rows["events"]) == good
    assert not [r for r in rows["events_links"]
                if r[0] in ("no-links", "bad-links")]


def test_without_details(raw):
    rows = events.heatplug_translate({"events": raw["events"]})
    assert rows.skipped == []
    assert len(rows["events"]) == 68
    assert {r[COLUMNS.index("resource_type")] for r in rows["events"]} \
        == {None}
    assert rows["events_resource_properties"] == []


def test_unknown_template_redacts_every_property(raw):
    raw = copy.deepcopy(raw)
    for detail in raw["details"].values():
        detail["secret_properties"] = None
    rows = events.heatplug_translate(raw)
    assert rows["events_resource_properties"]
    assert {r[2] for r in rows["events_resource_properties"]} == \
        {redact.REDACTED}


def test_empty_and_missing_raw():
    for raw in (None, {}, {"events": [], "details": {}}):
        rows = events.heatplug_translate(raw)
        assert rows == {"events": [], "events_links": [],
                        "events_resource_properties": []}


# -- pure helpers ------------------------------------------------------------

def test_secret_properties_hot():
    template = {
        "heat_template_version": "2018-08-31",
        "parameters": {"code": {"type": "string", "hidden": True},
                       "db_password": {"type": "string"},
                       "name": {"type": "string"}},
        "resources": {
            "direct": {"type": "OS::Heat::Value", "properties": {
                "value": {"str_replace": {"template": "x=$c",
                                          "params": {"$c": {"get_param":
                                                            "code"}}}},
                "type": "string"}},
            "through": {"type": "OS::Heat::Value", "properties": {
                "value": {"get_attr": ["direct", "value"]},
                "other": {"get_param": "name"}}},
            "named": {"type": "OS::Heat::Value", "properties": {
                "value": {"get_param": "db_password"}}},
            "rand": {"type": "OS::Heat::RandomString",
                     "properties": {"length": 8}},
            "user": {"type": "OS::Heat::Value", "depends_on": ["direct"],
                     "properties": {"value": {"get_resource": "rand"}}},
            "clean": {"type": "OS::Heat::Value", "depends_on": "direct",
                      "properties": {"value": {"get_param": "name"}}},
        }}
    assert events.secret_properties(template) == {
        "direct": {"value"}, "through": {"value"}, "named": {"value"},
        "rand": set(), "user": {"value"}}


def test_secret_properties_cfn():
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"AdminPass": {"Type": "String", "NoEcho": "true"},
                       "Flavor": {"Type": "String", "NoEcho": "false"}},
        "Resources": {
            "A": {"Type": "OS::Heat::Value",
                  "Properties": {"value": {"Ref": "AdminPass"}}},
            "B": {"Type": "OS::Heat::Value",
                  "Properties": {"value": {"Fn::GetAtt": "A.value"},
                                 "flavor": {"Ref": "Flavor"}}},
            "C": {"Type": "OS::Heat::Value",
                  "Properties": {"value": {"Ref": "Flavor"}}}}}
    assert events.secret_properties(template) == {
        "A": {"value"}, "B": {"value"}}


def test_an_embedded_template_is_never_shown():
    """OS::Heat::Stack's ``template`` property is a whole template (text
    or a map), hidden defaults and literals included: redacted even when
    nothing else in the stack is secret."""
    child = "parameters:\n  word: {type: string, hidden: true, default: x}\n"
    template = {
        "heat_template_version": "2018-08-31",
        "parameters": {"code": {"type": "string", "hidden": True}},
        "resources": {
            "far": {"type": "OS::Heat::Stack", "properties": {
                "template": child, "timeout": 5}},
            "near": {"type": "OS::Heat::Stack", "properties": {
                "template": child,
                "parameters": {"label": {"get_param": "code"}}}},
            "plain": {"type": "OS::Heat::Value",
                      "properties": {"value": "template"}}}}
    assert events.secret_properties(template) == {
        "far": {"template"}, "near": {"template", "parameters"}}


def test_secret_properties_rejects_a_malformed_template():
    with pytest.raises(ValueError):
        events.secret_properties({"resources": ["not", "a", "map"]})


def test_signed_urls_inside_text_are_redacted():
    text = ("curl -X POST 'http://h:8000/v1/signal/x?Timestamp=1&"
            "Signature=abc' && echo http://example.com/plain")
    # inside a status reason: just the URL
    assert redact.scrub_text(text) == (
        "curl -X POST '%s' && echo http://example.com/plain"
        % redact.REDACTED)
    # a property value: heatplug.redact drops the whole text
    assert events.redacted("user_data", text) == redact.REDACTED
    assert events.redacted("user_data", "echo http://example.com/?a=1") == \
        "echo http://example.com/?a=1"
    assert events.redacted("db_password", "x") == redact.REDACTED
    assert events.redacted("k", {"name": "api_token", "value": "v",
                                 "description": "d"}) == {
        "name": "api_token", "value": redact.REDACTED, "description": "d"}


def test_split_status():
    assert translation.split_status("CREATE_IN_PROGRESS") == (
        "CREATE", "IN_PROGRESS")
    assert translation.split_status("SIGNAL_COMPLETE") == (
        "SIGNAL", "COMPLETE")
    assert translation.split_status("ROLLBACK_FAILED") == (
        "ROLLBACK", "FAILED")
    assert translation.split_status("INIT") == (None, "INIT")
    assert translation.split_status(None) == (None, None)


def test_trees_and_depths():
    stacks = [{"id": "r", "stack_name": "r", "parent": None},
              {"id": "a", "stack_name": "a", "parent": "r"},
              {"id": "b", "stack_name": "b", "parent": "a"},
              {"id": "lone", "stack_name": "lone", "parent": None},
              {"id": "orphan", "stack_name": "o", "parent": "gone"}]
    by_id, depth, trees = events._trees(stacks)
    assert depth == {"r": 0, "a": 1, "b": 2, "lone": 0, "orphan": 0}
    assert {k: sorted(v) for k, v in trees.items()} == {
        "r": ["a", "b"], "lone": [], "orphan": []}


def test_settled_marker_is_older_than_the_cutoff(raw):
    evs = [e for e in raw["events"] if "pop-simple" in _stack_of(e)]
    newest = events._event_epoch(evs[-1])
    assert events._settled_index(evs, newest) == len(evs) - 1
    assert events._settled_index(evs, newest - 3600) == -1
    assert events._settled_index([{"id": "x", "event_time": "junk"}],
                                 newest) == -1


def test_details_follow_the_option(conf):
    assert events.details_enabled(conf) is True
    conf.set_override("event_details", False, "heatplug")
    assert events.details_enabled(conf) is False


def test_secrets_flow_into_nested_stacks():
    by_id = {"p": {"id": "p", "stack_name": "top", "parent": None},
             "n1": {"id": "n1", "stack_name": "top-inner-abc123", "parent":
                    "p"},
             "n2": {"id": "n2", "stack_name": "top-clean-def456", "parent":
                    "p"},
             "n3": {"id": "n3", "stack_name": "top-inner-abc123-x-g7",
                    "parent": "n1"},
             "n4": {"id": "n4", "stack_name": "renamed", "parent": "p"}}
    analyses = {"p": {"inner": {"word"}, "clean": set()},
                "n1": {}, "n2": {"echo": set()}, "n3": {}, "n4": {}}
    link = "http://h/v1/a/stacks/top/p"
    events_ = [
        # the owner of n1 is found by name (no event), n2's by its event
        {"id": "e1", "resource_name": "clean", "physical_resource_id": "n2",
         "links": [{"rel": "stack", "href": link}]},
        # n4's owner is unknown: treated as secret
    ]
    owned = events.owners(by_id, events_)
    assert owned == {"n1": ("p", "inner"), "n2": ("p", "clean"),
                     "n3": ("n1", "x"), "n4": ("p", None)}
    assert events.effective_secrets(by_id, analyses, owned) == {
        "p": {"inner": {"word"}, "clean": set()},
        "n1": None,              # its owner 'inner' receives a secret
        "n2": {"echo": set()},   # 'clean' does not
        "n3": None,              # below a secret nested stack
        "n4": None,              # owner unknown
    }
    analyses["p"] = None         # the parent's template is unknown
    assert events.effective_secrets(by_id, analyses, owned)["n2"] is None


def test_secret_properties_of_owners_of_nested_stacks():
    template = {"resources": {
        "thing": {"type": "child.yaml",
                  "properties": {"word": "lit", "size": 2}},
        "inline": {"type": "OS::Heat::Stack", "properties": {
            "template": "...", "parameters": {"word": "lit", "n": 1}}},
        "group": {"type": "OS::Heat::ResourceGroup", "properties": {
            "count": 2, "resource_def": {"type": "child.yaml",
                                         "properties": {"word": "lit"}}}},
        "user": {"type": "OS::Heat::Value", "properties": {
            "value": {"get_attr": ["thing", "secret"]},
            "other": {"get_attr": ["thing", "plain"]}}},
        "later": {"type": "OS::Heat::Value", "properties": {
            "value": {"get_attr": ["user", "value"]}}},
        "unknown": {"type": "child.yaml", "properties": {"a": 1}}}}
    below = {"thing": {"word"}, "inline": {"word"}, "group": {"word"},
             "unknown": None}
    assert events.secret_properties(
        template, {"thing": {"secret"}}, below) == {
        # a value handed to a hidden parameter below
        "thing": {"word"}, "inline": {"parameters", "template"},
        "group": {"resource_def"},
        # what reads a nested stack's secret output, and what reads that
        "user": {"value"}, "later": {"value"},
        # a nested stack whose template is unknown: everything
        "unknown": {"*"}}
    # without the nested stacks' view, none of it (but an embedded template)
    assert events.secret_properties(template) == {"inline": {"template"}}
