"""The stack_details family against the real local Heat.

Every table is compared with direct heatclient reads (``stacks.get``) of the
same Heat; the canaries of the population (hidden parameters, a hidden
default that Heat itself leaks through outputs) must never reach a row.
"""

import json

import pytest

from heatplug import redact
from heatplug import translation
from tests.functional import conftest

CANARIES = ("canary-hidden-param-7Qz1", "canary-cfn-noecho-default-5Wm2",
            "canary-hot-hidden-default-8Rt4")

TIMEOUT_TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "description": "f1-details - timeout and rollback",
    "parameters": {"word": {"type": "string", "default": "one"}},
    "resources": {"v": {"type": "OS::Heat::Value",
                        "properties": {"value": {"get_param": "word"}}}},
    "outputs": {"word": {"description": "the word",
                         "value": {"get_attr": ["v", "value"]}}},
}


def _create(heat, name, **kwargs):
    created = heat.stacks.create(stack_name=name, template=TIMEOUT_TEMPLATE,
                                 **kwargs)
    return conftest.wait_for_stack(
        heat, "%s/%s" % (name, created["stack"]["id"]))


def _delete(heat, stack):
    conftest.delete_stack(heat, "%s/%s" % (stack["stack_name"], stack["id"]))


@pytest.fixture(scope="module")
def timed_stack(heat, population):
    """A stack with a timeout and rollback enabled (the population can't)."""
    stack = _create(heat, "f1-details-timeout", timeout_mins=17,
                    disable_rollback=False)
    yield stack
    _delete(heat, stack)


@pytest.fixture(scope="module")
def data(local_heat, population, timed_stack):
    return conftest.poll_json(local_heat, "--enable", "stack_details")


@pytest.fixture(scope="module")
def details(heat, data):
    """Heat's own details of every stack the poll saw."""
    return {s.id: heat.stacks.get("%s/%s" % (s.stack_name, s.id)).to_dict()
            for s in heat.stacks.list(show_nested=True)}


def test_no_errors_nothing_skipped(data):
    assert data["errors"] == {}
    assert data["stats"]["families"]["stack_details"]["skipped"] == []


def test_details_match_heat(data, details, population, timed_stack):
    expected = sorted((sid, d["description"], d["template_description"],
                       d["timeout_mins"], d["disable_rollback"])
                      for sid, d in details.items())
    assert conftest.table_rows(data, "stack_details") == expected
    rows = {r[0]: r for r in conftest.table_rows(data, "stack_details")}
    assert rows[timed_stack["id"]][3:] == (17, False)
    assert rows[population["pop-simple"]["id"]][1:] == (
        "pop-simple - a plain stack", "pop-simple - a plain stack", None,
        True)


def test_list_description_is_empty_detail_has_it(heat, details, population):
    """Why this family publishes description: the list's is always ''."""
    listed = {s.id: s.description for s in heat.stacks.list(show_nested=True)}
    assert set(listed.values()) == {""}
    assert details[population["pop-nested"]["id"]]["description"] == \
        "pop-nested - nested stacks"


def test_parameters_match_heat(data, details, population):
    expected = sorted(
        (sid, k, redact.value(k, v, hidden=(v == "******")))
        for sid, d in details.items() for k, v in d["parameters"].items())
    assert conftest.table_rows(data, "stack_parameters") == expected
    simple = population["pop-simple"]["id"]
    assert [r[1:] for r in conftest.table_rows(data, "stack_parameters")
            if r[0] == simple] == [
        ("OS::project_id", "admin"), ("OS::stack_id", simple),
        ("OS::stack_name", "pop-simple"), ("db_password", redact.REDACTED),
        ("length", "12")]
    cfn = dict(r[1:] for r in conftest.table_rows(data, "stack_parameters")
               if r[0] == population["pop-cfn"]["id"])
    assert cfn["AWS::StackName"] == "pop-cfn"
    assert cfn["AdminPass"] == redact.REDACTED


def test_outputs_match_heat(data, details, population):
    params = population["pop-params"]["id"]
    # Heat leaks pop-params' hidden default through two outputs, and the
    # RandomStrings of pop-nested's group through its nested stack's
    # refs_map (a RandomString's reference is its value).
    group = next(sid for sid, d in details.items() if d["parameters"].get(
        "OS::stack_name", "").startswith("pop-nested-group-"))
    tainted = {(params, "direct"), (params, "indirect"),
               (group, "refs_map")}
    heat_params = {o["output_key"]: o["output_value"]
                   for o in details[params]["outputs"]}
    assert heat_params["direct"] == "canary-hot-hidden-default-8Rt4"
    refs, = details[group]["outputs"]
    assert len(refs["output_value"]) == 2
    expected = []
    for sid, d in details.items():
        for o in d["outputs"]:
            key = o["output_key"]
            hide = (sid, key) in tainted
            value = redact.value(key, o.get("output_value"), hidden=hide)
            expected.append((sid, key, translation.scalar(value),
                             o.get("description"), o.get("output_error")))
    assert conftest.table_rows(data, "stack_outputs") == sorted(expected)
    rows = {(r[0], r[1]): r[2:]
            for r in conftest.table_rows(data, "stack_outputs")}
    assert rows[(params, "direct")][0] == redact.REDACTED
    assert rows[(params, "indirect")][0] == redact.REDACTED
    assert rows[(params, "safe")][0] == "a,b"
    assert rows[(population["pop-cfn"]["id"], "Broken")] == (
        None, "an output that cannot be resolved",
        'Index to "Fn::Select" must be an integer')


def test_capabilities_and_topics_are_empty_like_heat(data, details):
    assert all(d["capabilities"] == [] and d["notification_topics"] == []
               for d in details.values())
    assert data["tables"]["stack_capabilities"]["rows"] == []
    assert data["tables"]["stack_notification_topics"]["rows"] == []


def test_canaries_never_reach_a_row(local_heat, population):
    data = conftest.poll_json(local_heat, "--enable", "stack_details",
                              "--enable", "templates", "--enable",
                              "snapshots")
    assert data["errors"] == {}
    text = json.dumps(data)
    assert [c for c in CANARIES if c in text] == []


def test_one_detail_request_per_stack(data, details):
    stats = data["stats"]
    assert stats["families"]["stack_details"]["requests"] == len(details)
    # The stack list, plus the templates of the stacks whose outputs must be
    # checked for secrets (those with outputs; the others have no hidden
    # parameter here that could flow into a nested stack).
    needs = [d for d in details.values() if d["outputs"]]
    assert len(needs) >= 6 and len(needs) < len(details)
    assert not [d for d in details.values() if not d["outputs"] and
                "******" in d["parameters"].values()]
    assert stats["shared_requests"] == 1 + len(needs)
    assert stats["requests"] == 1 + len(details) + len(needs)


@pytest.fixture
def poller(make_poller):
    return make_poller(["stack_details"])


def _fam(result):
    return result.stats["families"]["stack_details"]


def test_cache_serves_unchanged_stacks_and_rereads_changed_ones(
        heat, poller, population, timed_stack):
    first = poller.poll()
    assert first.errors == {}
    count = _fam(first)["requests"]
    assert count == len(list(heat.stacks.list(show_nested=True)))
    second = poller.poll()
    assert _fam(second)["requests"] == 0
    assert second.tables["stack_outputs"].rows == \
        first.tables["stack_outputs"].rows

    stack = _create(heat, "f1-details-cache")
    try:
        third = poller.poll()
        assert _fam(third)["requests"] == 1           # only the new stack
        ident = "%s/%s" % (stack["stack_name"], stack["id"])
        heat.stacks.update(ident, existing=True, parameters={"word": "two"})
        conftest.wait_for_stack(heat, ident)
        fourth = poller.poll()
        assert _fam(fourth)["requests"] == 1          # only the updated one
        outputs = {r[:2]: r[2] for r in fourth.tables["stack_outputs"].rows}
        assert outputs[(stack["id"], "word")] == "two"
    finally:
        _delete(heat, stack)
    fifth = poller.poll()
    assert _fam(fifth)["requests"] == 0
    assert stack["id"] not in {r[0] for r in
                               fifth.tables["stack_details"].rows}
    assert stack["id"] not in poller._caches["stack_details"]["details"]
