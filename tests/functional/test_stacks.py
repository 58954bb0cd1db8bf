"""The stacks family and the command line against the real local Heat."""

import json

from tests.functional import conftest

# Heat's hidden_stack_tags in the local Heat (tools/heat_config.py HIDDEN_TAG)
HIDDEN_TAG = "heatplug-hidden"


def test_stacks_table_matches_heat(local_heat, heat, population):
    data = conftest.poll_json(local_heat, "--enable", "stacks")
    assert data["errors"] == {}
    expected = sorted(
        (s.id, s.stack_name, s.stack_status, s.parent)
        for s in heat.stacks.list(show_nested=True))
    cols = [conftest.column(data, "stacks", c)
            for c in ("id", "stack_name", "stack_status", "parent")]
    got = sorted(tuple(r[i] for i in cols)
                 for r in data["tables"]["stacks"]["rows"])
    assert got == expected
    names = {r[1] for r in got}
    assert {"pop-simple", "pop-nested", "pop-software",
            "pop-fails"} <= names
    assert len([r for r in got if r[3]]) >= 2       # nested stacks present


def test_hidden_stacks_are_listed(local_heat, heat, population):
    """A stack tagged with one of Heat's ``hidden_stack_tags`` (the local
    Heat hides ``heatplug-hidden``) is left out of a plain stack list but
    is a stack all the same: heatplug lists it, its nested stack and its
    tags."""
    template = {"heat_template_version": "2018-08-31", "resources": {
        "group": {"type": "OS::Heat::ResourceGroup", "properties": {
            "count": 1, "resource_def": {"type": "OS::Heat::None"}}}}}
    stack = conftest.create_stack(heat, "hidden-one", template,
                                  tags=[HIDDEN_TAG, "mine"])
    try:
        assert stack["stack_status"] == "CREATE_COMPLETE"
        plain = {s.id for s in heat.stacks.list(show_nested=True)}
        assert stack["id"] not in plain         # Heat does hide it
        data = conftest.poll_json(local_heat, "--enable", "stacks")
        assert data["errors"] == {}
        i = {c: conftest.column(data, "stacks", c)
             for c in ("id", "stack_name", "parent")}
        rows = conftest.table_rows(data, "stacks")
        assert [r[i["stack_name"]] for r in rows
                if r[i["id"]] == stack["id"]] == ["hidden-one"]
        assert len([r for r in rows if r[i["parent"]] == stack["id"]]) == 1
        assert sorted(r[1] for r in conftest.table_rows(data, "stacks_tags")
                      if r[0] == stack["id"]) == [HIDDEN_TAG,
                                                  "mine"]
    finally:
        conftest.delete_stack(heat, "hidden-one/%s" % stack["id"])


def test_status_is_split_for_policies(local_heat, population):
    data = conftest.poll_json(local_heat, "--enable", "stacks")
    i = {c: conftest.column(data, "stacks", c)
         for c in ("stack_name", "action", "status")}
    rows = {r[i["stack_name"]]: (r[i["action"]], r[i["status"]])
            for r in data["tables"]["stacks"]["rows"]}
    assert rows["pop-fails"] == ("CREATE", "FAILED")
    assert rows["pop-simple"] == ("CREATE", "COMPLETE")


def test_links_and_tags(local_heat, heat, population):
    data = conftest.poll_json(local_heat, "--enable", "stacks")
    simple = population["pop-simple"]["id"]
    assert sorted(r[1] for r in conftest.table_rows(data, "stacks_tags")
                  if r[0] == simple) == ["demo", "policy"]
    links = [r for r in conftest.table_rows(data, "stacks_links")
             if r[0] == simple]
    assert [r[2] for r in links] == ["self"]
    assert links[0][1].endswith("/stacks/pop-simple/%s" % simple)


def test_one_stack_list_request_per_poll(local_heat, population):
    data = conftest.poll_json(local_heat, "--enable", "stacks")
    stats = data["stats"]
    assert stats["requests"] == 1
    assert stats["shared_requests"] == 1
    assert stats["bytes"] > 0 and stats["seconds"] > 0


def test_disabled_family_is_absent_and_others_intact(local_heat, population):
    data = conftest.poll_json(local_heat, "--enable", "stacks", "--enable",
                              "example_counts", "--disable", "stacks")
    assert "stacks" not in data["tables"]
    assert data["tables"]["example_stack_counts"]["rows"]


def test_third_party_plugin_sees_the_real_heat(local_heat, heat, population):
    data = conftest.poll_json(local_heat, "--enable", "example_counts")
    counts = dict(conftest.table_rows(data, "example_stack_counts"))
    statuses = [s.stack_status for s in heat.stacks.list(show_nested=True)]
    assert counts == {s: statuses.count(s) for s in set(statuses)}


def test_human_output_and_exit_status(local_heat, population):
    code, out = conftest.run_heatplug(local_heat, "--enable", "stacks",
                                      "poll")
    assert code == 0
    assert "stacks (" in out and "pop-simple" in out


def test_unreachable_heat_fails_cleanly(local_heat):
    class Nowhere:
        endpoint = "http://127.0.0.1:9/v1/admin"

    code, out = conftest.run_heatplug(Nowhere, "--enable", "stacks", "poll",
                                      "--format", "json", check=False)
    assert code == 1
    data = json.loads(out)
    assert "stacks" in data["errors"]
    assert data["tables"]["stacks"]["rows"] == []
