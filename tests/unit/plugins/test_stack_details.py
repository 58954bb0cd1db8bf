"""The stack_details family's translation, on recorded real Heat answers.

``tests/fixtures/stack_details.json`` is what the family's fetch returned
from a real local Heat holding the test population
(``tests/functional/population``), recorded with::

    OS_AUTH_TYPE=none OS_ENDPOINT=http://127.0.0.1:PORT/v1/admin \\
        .venv/bin/python tools/record_fixtures.py stack_details

Heat returned pop-params' hidden default in plain text in two outputs
(``direct``, ``indirect``), and the template it holds in plain text too:
these tests check it never reaches a row.
"""

import copy
import json
import pathlib
import types

import pytest
from heatclient import exc as heat_exc

from heatplug import heat_templates
from heatplug import redact
from heatplug.plugins import stack_details
from tests.unit.conftest import FakeCtx

FIXTURE = (pathlib.Path(__file__).resolve().parents[2] / "fixtures"
           / "stack_details.json")
CANARIES = ("canary-hidden-param-7Qz1", "canary-cfn-noecho-default-5Wm2",
            "canary-hot-hidden-default-8Rt4")


@pytest.fixture
def raw():
    return json.loads(FIXTURE.read_text())


def _name(detail):
    params = detail["parameters"]
    return params.get("OS::stack_name") or params.get("AWS::StackName")


@pytest.fixture
def ids(raw):
    return {_name(d): d["id"] for d in raw}


def _rows(rows, table, sid):
    return sorted(r[1:] for r in rows[table] if r[0] == sid)


def test_every_recorded_stack_has_one_detail_row(raw, ids):
    rows = stack_details.heatplug_translate(raw)
    assert rows.skipped == []
    assert len(rows["stack_details"]) == len(raw) == 8
    details = {r[0]: r[1:] for r in rows["stack_details"]}
    assert details[ids["pop-simple"]] == (
        "pop-simple - a plain stack", "pop-simple - a plain stack", None,
        True)
    assert details[ids["pop-cfn"]][0] == \
        "pop-cfn - a CloudFormation-format template"
    group = next(i for n, i in ids.items() if n.startswith("pop-nested-group"))
    assert details[group] == ("No description", "No description", None, True)
    # Heat 27 hard-codes both to [].
    assert rows["stack_capabilities"] == []
    assert rows["stack_notification_topics"] == []


def test_parameters_include_heat_pseudo_parameters(raw, ids):
    rows = stack_details.heatplug_translate(raw)
    simple = ids["pop-simple"]
    assert _rows(rows, "stack_parameters", simple) == [
        ("OS::project_id", "admin"),
        ("OS::stack_id", simple),
        ("OS::stack_name", "pop-simple"),
        ("db_password", redact.REDACTED),
        ("length", "12"),
    ]
    cfn = dict(_rows(rows, "stack_parameters", ids["pop-cfn"]))
    assert cfn["AWS::StackName"] == "pop-cfn"
    assert cfn["AWS::StackId"].endswith("stacks/pop-cfn/%s" % ids["pop-cfn"])
    assert cfn["AdminPass"] == redact.REDACTED
    assert cfn["Flavor"] == "m1.large"
    params = dict(_rows(rows, "stack_parameters", ids["pop-params"]))
    assert params["unlock_code"] == redact.REDACTED
    assert params["settings"] == '{"mode": "fast", "level": 3}'   # Heat's str
    assert params["debug"] == "False"


def test_heat_masks_hidden_parameters_itself(raw, ids):
    by_id = {d["id"]: d for d in raw}
    assert by_id[ids["pop-simple"]]["parameters"]["db_password"] == "******"


def test_outputs_values_errors_and_descriptions(raw, ids):
    rows = stack_details.heatplug_translate(raw)
    assert _rows(rows, "stack_outputs", ids["pop-cfn"]) == [
        ("Broken", None, "an output that cannot be resolved",
         'Index to "Fn::Select" must be an integer'),
        ("Joined", "abc-m1.large", "the joined label and flavor", None),
    ]
    # A ResourceGroup's nested stack maps its members to their references,
    # and a RandomString's reference is its value: a generated secret.
    group = next(i for n, i in ids.items() if n.startswith("pop-nested-group"))
    (key, value, desc, err), = _rows(rows, "stack_outputs", group)
    assert (key, value, desc, err) == ("refs_map", redact.REDACTED,
                                       "No description given", None)
    heat_said, = next(d for d in raw if d["id"] == group)["outputs"]
    assert sorted(heat_said["output_value"]) == ["0", "1"]
    assert all(len(v) == 6 for v in heat_said["output_value"].values())
    assert _rows(rows, "stack_outputs", ids["pop-nested"]) == [
        ("child_value", "from-parent", "No description given", None)]


def test_outputs_carrying_a_hidden_parameter_are_redacted(raw, ids):
    by_id = {d["id"]: d for d in raw}
    heat_said = {o["output_key"]: o.get("output_value")
                 for o in by_id[ids["pop-params"]]["outputs"]}
    # Heat itself leaks the hidden default through outputs ...
    assert heat_said["direct"] == "canary-hot-hidden-default-8Rt4"
    assert heat_said["indirect"] == "code=canary-hot-hidden-default-8Rt4"
    rows = stack_details.heatplug_translate(raw)
    outputs = {r[0]: r[1] for r in _rows(rows, "stack_outputs",
                                         ids["pop-params"])}
    # ... heatplug does not, and keeps the outputs that are safe.
    assert outputs == {"direct": redact.REDACTED,
                       "indirect": redact.REDACTED,
                       "safe": "a,b", "replicas": 4,
                       "settings": '{"level": 3, "mode": "fast"}'}


def test_no_canary_reaches_any_row(raw):
    assert any(c in json.dumps(raw) for c in CANARIES)   # the test means it
    rows = stack_details.heatplug_translate(raw)
    text = json.dumps(dict(rows))
    assert not [c for c in CANARIES if c in text]


def test_template_is_read_for_stacks_with_outputs(raw, ids):
    with_template = {d["id"] for d in raw if "template" in d}
    assert with_template == {d["id"] for d in raw if d["outputs"]}
    assert ids["pop-software"] not in with_template
    assert {ids["pop-simple"], ids["pop-cfn"], ids["pop-params"],
            ids["pop-nested"]} <= with_template
    # Without it, the outputs of a stack with hidden parameters hide.
    assert {d["id"] for d in raw if stack_details.needs_template(d)} == {
        ids["pop-simple"], ids["pop-cfn"], ids["pop-params"]}


def test_taint_follows_resources(raw, ids):
    by_id = {d["id"]: d for d in raw}
    tainted = stack_details.tainted_outputs
    assert tainted(by_id[ids["pop-params"]]["template"], set()) == {
        "direct", "indirect"}
    assert tainted(by_id[ids["pop-simple"]]["template"], set()) == set()
    # A CFN Ref names a parameter or a resource: both are followed.
    assert tainted(by_id[ids["pop-cfn"]]["template"], {"Label"}) == {
        "Joined", "Broken"}
    assert tainted(by_id[ids["pop-cfn"]]["template"], set()) == set()


def test_without_the_template_outputs_of_a_secret_stack_are_hidden(raw, ids):
    record = next(d for d in raw if d["id"] == ids["pop-params"])
    del record["template"]
    rows = stack_details.heatplug_translate([record])
    assert {r[2] for r in rows["stack_outputs"]} == {redact.REDACTED}
    assert len(rows["stack_outputs"]) == 5


def test_malformed_records_are_skipped_and_counted(raw, ids):
    broken = copy.deepcopy(raw)
    by_id = {d["id"]: d for d in broken}
    by_id[ids["pop-simple"]]["parameters"] = "not a map"
    del by_id[ids["pop-nested"]]["outputs"][0]["output_key"]
    by_id[ids["pop-fails"]]["capabilities"] = 7
    broken.append("not a record")
    rows = stack_details.heatplug_translate(broken)
    assert len(rows.skipped) == 4
    assert any(s.startswith("stack detail %s: ValueError"
                            % ids["pop-simple"]) for s in rows.skipped)
    assert any(s.startswith("stack detail %s: KeyError" % ids["pop-nested"])
               for s in rows.skipped)
    gone = {ids["pop-simple"], ids["pop-nested"], ids["pop-fails"]}
    for table, table_rows in rows.items():   # no half records
        assert not [r for r in table_rows if r[0] in gone], table
    assert len(rows["stack_details"]) == len(raw) - 3
    assert _rows(rows, "stack_outputs", ids["pop-cfn"])[1][1] == \
        "abc-m1.large"


# -- fetch: the cache, 404s, the ids that disappear ------------------------

class FakeStacks:
    """Serves the recorded details: the Heat answers are the fixture's."""

    def __init__(self, details):
        self.details = {d["id"]: d for d in details}
        self.gets = []
        self.templates = []
        self.gone = set()

    def get(self, ident):
        self.gets.append(ident)
        sid = ident.split("/")[1]
        if sid in self.gone:
            raise heat_exc.HTTPNotFound()
        detail = {k: v for k, v in self.details[sid].items()
                  if k != "template"}
        return types.SimpleNamespace(to_dict=lambda: copy.deepcopy(detail))

    def template(self, ident):
        self.templates.append(ident)
        return copy.deepcopy(self.details[ident.split("/")[1]]["template"])


def _listed(raw, status="CREATE_COMPLETE"):
    ids = {_name(d): d["id"] for d in raw}
    return [{"id": d["id"], "stack_name": _name(d), "stack_status": status,
             "stack_status_reason": "done", "updated_time": None,
             # Heat names a nested stack <parent>-<resource>-<suffix>
             "parent": ids["pop-nested"] if _name(d).startswith(
                 "pop-nested-") else None}
            for d in raw]


def test_fetch_reads_each_stack_once_then_serves_the_cache(raw):
    heat = FakeStacks(raw)
    cache, state = {}, {}
    listed = _listed(raw)
    first = stack_details.heatplug_fetch(FakeCtx(listed, heat, cache,
                                                 state=state))
    # the templates of the stacks with outputs
    assert len(heat.gets) == 8 and len(heat.templates) == 6
    assert first == raw
    second = stack_details.heatplug_fetch(FakeCtx(listed, heat, cache,
                                                  state=state))
    assert len(heat.gets) == 8 and len(heat.templates) == 6
    assert second == first


def test_a_full_refresh_reads_every_detail_again(raw):
    heat = FakeStacks(raw)
    cache = {}
    listed = _listed(raw)
    stack_details.heatplug_fetch(FakeCtx(listed, heat, cache))
    again = stack_details.heatplug_fetch(
        FakeCtx(listed, heat, cache, full_refresh=True))
    assert len(heat.gets) == 16 and again == raw
    stack_details.heatplug_fetch(FakeCtx(listed, heat, cache))
    assert len(heat.gets) == 16


def test_fetch_rereads_a_stack_whose_signature_changed(raw, ids):
    heat = FakeStacks(raw)
    cache = {}
    stack_details.heatplug_fetch(FakeCtx(_listed(raw), heat, cache))
    for field, value in (("stack_status", "UPDATE_COMPLETE"),
                         ("stack_status_reason", "again"),
                         ("updated_time", "2026-01-01T00:00:00Z")):
        listed = _listed(raw)
        changed = next(s for s in listed if s["id"] == ids["pop-simple"])
        changed[field] = value
        before = len(heat.gets)
        stack_details.heatplug_fetch(FakeCtx(listed, heat, cache))
        assert heat.gets[before:] == ["pop-simple/%s" % ids["pop-simple"]]
        stack_details.heatplug_fetch(FakeCtx(_listed(raw), heat, cache))


def test_fetch_never_caches_an_action_in_progress(raw):
    heat = FakeStacks(raw)
    cache = {}
    listed = _listed(raw, "UPDATE_IN_PROGRESS")
    stack_details.heatplug_fetch(FakeCtx(listed, heat, cache))
    stack_details.heatplug_fetch(FakeCtx(listed, heat, cache))
    assert len(heat.gets) == 16


def test_fetch_skips_a_vanished_stack_and_forgets_dropped_ids(raw, ids):
    heat = FakeStacks(raw)
    cache = {}
    heat.gone.add(ids["pop-fails"])
    got = stack_details.heatplug_fetch(FakeCtx(_listed(raw), heat, cache))
    assert ids["pop-fails"] not in {d["id"] for d in got}
    assert len(got) == 7
    listed = [s for s in _listed(raw) if s["id"] != ids["pop-simple"]]
    stack_details.heatplug_fetch(FakeCtx(listed, heat, cache))
    assert set(cache["details"]) == {s["id"] for s in listed} - {
        ids["pop-fails"]}


def test_references_of_template_functions():
    refs = heat_templates.references
    assert refs({"get_param": "a.b"}) == ({"a.b"}, set())
    assert refs({"get_param": ["p", "key", 0]}) == ({"p"}, set())
    assert refs({"Fn::GetAtt": "Res.attr"}) == (set(), {"Res"})
    assert refs({"Ref": "X"}) == ({"X"}, {"X"})        # CFN: either kind
    assert refs({"str_replace": {
        "template": "$a-$b", "params": {
            "$a": {"get_attr": ["r1", "value"]},
            "$b": {"get_resource": "r2"}}}}) == (set(), {"r1", "r2"})


# -- OS::Heat::Stack: a root stack that a resource of another stack made -----

REMOTE_CHILD = """
heat_template_version: 2018-08-31
parameters:
  label: {type: string, default: nothing}
  word: {type: string, hidden: true, default: remote-default}
outputs:
  echo: {value: {get_param: label}}
  own: {value: {get_param: word}}
  plain: {value: plain-remote}
"""
REMOTE_PARENT = {
    "heat_template_version": "2018-08-31",
    "parameters": {"secret": {"type": "string", "hidden": True}},
    "resources": {
        "far": {"type": "OS::Heat::Stack", "properties": {
            "template": REMOTE_CHILD,
            "parameters": {"label": {"get_param": "secret"}}}},
        "far2": {"type": "OS::Heat::Stack",
                 "properties": {"template": REMOTE_CHILD}},
        "gone": {"type": "OS::Heat::Stack", "properties": {
            "template": REMOTE_CHILD, "context": {"region_name": "b"}}}},
    "outputs": {
        "far_leak": {"value": {"get_attr": ["far", "outputs", "echo"]}},
        "climb": {"value": {"get_attr": ["far2", "outputs", "own"]}},
        "far2_name": {"value": {"get_attr": ["far2", "stack_name"]}},
        "elsewhere": {"value": {"get_attr": ["gone", "outputs", "plain"]}}},
}


def _remote_heat():
    """What Heat answered for REMOTE_PARENT created with ``secret`` =
    ``handed-secret`` (a real Heat 27's answers, trimmed): the parent, the
    stacks its ``far`` and ``far2`` made (root stacks: the stack list links
    them to nothing) and an unrelated root stack named like one of them."""
    import yaml

    def outputs(**values):
        return [{"output_key": k, "output_value": v, "description":
                 "No description given"} for k, v in sorted(values.items())]

    def params(sid, name, **values):
        return dict({"OS::stack_id": sid, "OS::stack_name": name,
                     "OS::project_id": "admin"}, **values)

    child = yaml.safe_load(REMOTE_CHILD)
    details = {
        "p": {"parameters": params("p", "remote-parent", secret="******"),
              "outputs": outputs(far_leak="handed-secret",
                                 climb="remote-default",
                                 elsewhere="plain-remote",
                                 far2_name="remote-parent-far2-lfb2nyqq2vah"),
              "template": REMOTE_PARENT},
        "s1": {"parameters": params("s1", "remote-parent-far-ip5srz3nkmoq",
                                    label="handed-secret", word="******"),
               "outputs": outputs(echo="handed-secret",
                                  own="remote-default", plain="plain-remote"),
               "template": child},
        "s2": {"parameters": params("s2", "remote-parent-far2-lfb2nyqq2vah",
                                    label="nothing", word="******"),
               "outputs": outputs(echo="nothing", own="remote-default",
                                  plain="plain-remote"),
               "template": child},
        "s3": {"parameters": params("s3", "remote-parent-other-abcdefghijkl",
                                    label="own-label", word="******"),
               "outputs": outputs(echo="own-label", own="remote-default",
                                  plain="plain-remote"),
               "template": child},
    }
    listed = []
    for sid, detail in details.items():
        detail.update(id=sid, description="", template_description="",
                      timeout_mins=None, disable_rollback=True,
                      capabilities=[], notification_topics=[])
        listed.append({"id": sid, "parent": None,
                       "stack_name": detail["parameters"]["OS::stack_name"],
                       "stack_status": "CREATE_COMPLETE",
                       "stack_status_reason": "done", "updated_time": None})
    return listed, FakeStacks(list(details.values()))


def test_root_stacks_an_os_heat_stack_made_are_linked_by_name():
    listed, _ = _remote_heat()
    by_id = {s["id"]: s for s in listed}
    assert stack_details.remote_owners(by_id, {"p": REMOTE_PARENT}) == {
        "s1": ("p", "far"), "s2": ("p", "far2"),
        # not listed (another region): an id no stack has, unknown
        "p/gone": ("p", "gone")}
    assert stack_details.remote_owners(by_id, {"p": {"resources": {}}}) == {}


def test_secrets_flow_into_and_out_of_os_heat_stack_stacks():
    listed, heat = _remote_heat()
    rows = stack_details.heatplug_translate(
        stack_details.heatplug_fetch(FakeCtx(listed, heat)))
    outputs = {(r[0], r[1]): r[2] for r in rows["stack_outputs"]}
    params = {(r[0], r[1]): r[2] for r in rows["stack_parameters"]}
    hidden = redact.REDACTED
    # the parent's secret handed down into far's stack: nothing of it shows
    assert {k: v for k, v in params.items() if k[0] == "s1"} == {
        ("s1", k): hidden for k in ("OS::project_id", "OS::stack_id",
                                    "OS::stack_name", "label", "word")}
    assert {v for k, v in outputs.items() if k[0] == "s1"} == {hidden}
    # far2's hidden default climbs into the parent's output through the
    # resource's outputs attribute; the stack's name does not
    assert outputs[("p", "climb")] == hidden
    assert outputs[("p", "far2_name")] == "remote-parent-far2-lfb2nyqq2vah"
    assert outputs[("p", "far_leak")] == hidden
    # a stack in another region is unknown: what reads it is hidden
    assert outputs[("p", "elsewhere")] == hidden
    # far2's own stack, and a root stack no resource made, as they are
    assert outputs[("s2", "echo")] == "nothing"
    assert params[("s3", "label")] == "own-label"
    assert outputs[("s3", "echo")] == "own-label"
    assert "handed-secret" not in json.dumps(rows)
    assert "remote-default" not in json.dumps(rows)


def test_a_stack_a_secret_flows_into_shows_its_template_for_os_heat_stack():
    """A nested stack without outputs or secret parameters of its own,
    into which a parent's secret flows, hands it on to the stack its
    OS::Heat::Stack makes: its template is read to tell which."""
    mid = {"heat_template_version": "2018-08-31",
           "parameters": {"label": {"type": "string"}},
           "resources": {"far": {"type": "OS::Heat::Stack", "properties": {
               "template": REMOTE_CHILD,
               "parameters": {"label": {"get_param": "label"}}}}}}
    top = {"heat_template_version": "2018-08-31",
           "parameters": {"secret": {"type": "string", "hidden": True}},
           "resources": {"mid": {"type": "mid.yaml", "properties": {
               "label": {"get_param": "secret"}}}}}
    base = {"description": "", "template_description": "",
            "timeout_mins": None, "disable_rollback": True,
            "capabilities": [], "notification_topics": [], "outputs": []}
    details = [
        dict(base, id="t", parameters={"secret": "******"}, template=top),
        dict(base, id="m", parameters={"label": "handed-secret"},
             template=mid),
        dict(base, id="f", parameters={"label": "handed-secret",
                                       "word": "******"},
             template={"parameters": {"word": {"hidden": True}}})]
    listed = [{"id": sid, "stack_name": name, "parent": parent,
               "stack_status": "CREATE_COMPLETE",
               "stack_status_reason": "done", "updated_time": None}
              for sid, name, parent in (
                  ("t", "top", None), ("m", "top-mid-abcdefghijkl", "t"),
                  ("f", "top-mid-abcdefghijkl-far-mnopqrstuvwx", None))]
    heat = FakeStacks(details)
    rows = stack_details.heatplug_translate(
        stack_details.heatplug_fetch(FakeCtx(listed, heat)))
    assert "handed-secret" not in json.dumps(rows)
    assert sorted(i.split("/")[1] for i in heat.templates) == ["f", "m", "t"]


def test_owners_come_from_resource_links_where_heat_shortened_the_name():
    """Heat shortens a nested stack's name over 255 characters (first two
    characters, '-', the end): the name no longer tells its owner.  The
    shared resource lists' ``nested`` links do, so a hidden parameter
    handed down under a long resource name is still redacted below."""
    long_name = "r" * 244
    parent = {"heat_template_version": "2018-08-31",
              "parameters": {"secret": {"type": "string", "hidden": True}},
              "resources": {
                  long_name: {"type": "child.yaml", "properties": {
                      "word": {"get_param": "secret"}}},
                  "plain": {"type": "child.yaml",
                            "properties": {"word": "visible"}}}}
    child = {"parameters": {"word": {"type": "string"}},
             "outputs": {"echo": {"value": {"get_param": "word"}}}}
    base = {"description": "", "template_description": "",
            "timeout_mins": None, "disable_rollback": True,
            "capabilities": [], "notification_topics": []}
    full = "ab-%s-abcdefghijkl" % long_name
    shortened = "ab-" + full[-252:]          # Heat's reduced name
    details = [
        dict(base, id="p", parameters={"secret": "******"}, outputs=[],
             template=parent),
        dict(base, id="n1", parameters={"word": "handed-secret"},
             outputs=[{"output_key": "echo",
                       "output_value": "handed-secret"}], template=child),
        dict(base, id="n2", parameters={"word": "visible"},
             outputs=[{"output_key": "echo", "output_value": "visible"}],
             template=child)]
    listed = [{"id": sid, "stack_name": name, "parent": parent_id,
               "stack_status": "CREATE_COMPLETE",
               "stack_status_reason": "done", "updated_time": None}
              for sid, name, parent_id in (
                  ("p", "ab", None), ("n1", shortened, "p"),
                  ("n2", "ab-plain-mnopqrstuvwx", "p"))]

    def res(name, nested):
        return {"resource_name": name, "links": [
            {"rel": "stack", "href": "http://h/v1/a/stacks/ab/p"},
            {"rel": "nested", "href": "http://h/v1/a/stacks/x/%s" % nested}]}

    def rows(resource_list):
        ctx = FakeCtx(listed, FakeStacks(details))
        ctx.resource_list = resource_list
        out = stack_details.heatplug_translate(
            stack_details.heatplug_fetch(ctx))
        return {(r[0], r[1]): r[2] for r in out["stack_parameters"]}

    linked = rows([res(long_name, "n1"), res("plain", "n2")])
    assert linked[("n1", "word")] == redact.REDACTED
    assert linked[("n2", "word")] == "visible"
    # by names alone, the shortened one's owner cannot be told: redacted
    named = rows([])
    assert named[("n1", "word")] == redact.REDACTED
    assert named[("n2", "word")] == "visible"
