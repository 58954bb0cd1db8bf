"""Which software configs and deployments a stack built from its secrets
(:mod:`heatplug.stack_secrets`), and what the software families and the
server metadata then hide.  The real-Heat counterpart is
``tests/reliability/test_secrets.py::test_secrets_a_stack_hands_to_software``.
"""


from heatplug import redact
from heatplug import stack_secrets
from heatplug.plugins import resources
from heatplug.plugins import software_configs
from heatplug.plugins import software_deployments

LINK = "http://h/v1/admin/stacks/app/s1"

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "parameters": {"dbpass": {"type": "string", "hidden": True},
                   "name": {"type": "string"}},
    "resources": {
        "token": {"type": "OS::Heat::RandomString"},
        "script": {"type": "OS::Heat::SoftwareConfig", "properties": {
            "config": {"str_replace": {"template": "p=DBP", "params": {
                "DBP": {"get_param": "dbpass"}}}}}},
        "plain": {"type": "OS::Heat::SoftwareConfig",
                  "properties": {"config": {"get_param": "name"}}},
        "deploy": {"type": "OS::Heat::SoftwareDeployment", "properties": {
            "config": {"get_resource": "plain"},
            "input_values": {"key": {"get_attr": ["token", "value"]}}}},
        "fine": {"type": "OS::Heat::SoftwareDeployment", "properties": {
            "config": {"get_resource": "plain"},
            "input_values": {"x": {"get_param": "name"}}}},
    }}


def _resource(name, physical):
    return {"resource_name": name, "physical_resource_id": physical,
            "links": [{"rel": "stack", "href": LINK}]}


RESOURCES = [_resource(n, "id-" + n) for n in TEMPLATE["resources"]]


def test_tainted_physical_ids():
    templates = {"s1": TEMPLATE}
    assert stack_secrets.tainted_physical_ids(
        RESOURCES, templates, generated=True) == {
        "id-token", "id-script", "id-deploy"}
    # attributes in general do not follow RandomStrings
    assert stack_secrets.tainted_physical_ids(RESOURCES, templates) == {
        "id-script"}
    # a stack whose template is unknown: everything of it
    assert stack_secrets.tainted_physical_ids(RESOURCES, {}) == {
        "id-" + n for n in TEMPLATE["resources"]}


class Ctx:
    """The shared reads software_secrets needs, one poll at a time."""

    def __init__(self, fail=None, stacks=None, listed_at=None):
        self.name = "software_configs"
        self.listed_at = listed_at
        self.cache = {}
        self.fail = fail
        self._stacks = [{"id": "s1", "stack_status": "CREATE_COMPLETE",
                         "creation_time": "2026-11-26T10:00:00Z"}] \
            if stacks is None else stacks

    def shared(self, key, factory):
        if self.fail:
            raise self.fail
        return factory()

    def resources(self):
        return RESOURCES

    def stacks(self):
        return self._stacks

    def stacks_listed_at(self):
        return self.listed_at

    def templates(self, stacks):
        return {"s1": TEMPLATE}

    def software_deployments(self):
        return [{"id": "id-deploy", "config_id": "derived-1"},
                {"id": "id-fine", "config_id": "derived-2"}]


def test_software_secrets_include_the_derived_configs():
    got = stack_secrets.software_secrets(Ctx())
    assert got["deployments"] == {"id-deploy"}
    assert {"id-script", "derived-1"} <= got["configs"]
    assert not {"id-plain", "derived-2"} & got["configs"]


def _records(*ids, made="2026-11-26T09:00:00Z"):
    return [{"id": i, "creation_time": made} for i in ids]


def test_without_an_analysis_last_verdicts_stand_and_new_ids_are_secret(
        caplog):
    ctx = Ctx()
    ids = _records("id-script", "id-plain", "derived-1")
    assert stack_secrets.secret_ids(ctx, "configs", ids) == {
        "id-script", "derived-1"}
    ctx.fail = RuntimeError("GET /stacks: 503")
    assert stack_secrets.secret_ids(ctx, "configs", ids + _records("new")) == {
        "id-script", "derived-1", "new"}
    assert "cannot be told this poll (RuntimeError: GET /stacks: 503)" in \
        caplog.text
    # and on a first poll, everything
    assert stack_secrets.secret_ids(Ctx(RuntimeError("x")), "configs",
                                    ids) == {r["id"] for r in ids}


def test_a_secret_config_hides_its_body_inputs_and_options():
    config = {"id": "c1", "name": "n", "group": "script", "secret": True,
              "config": "#!/bin/sh\necho s3cr3t\n",
              "inputs": [{"name": "conn", "value": "s3cr3t"},
                         {"name": "deploy_server_id", "value": "srv-1"},
                         {"name": "none", "default": None}],
              "options": {"level": "s3cr3t"}}
    plain = dict(config, id="c2", secret=False)
    rows = software_configs.heatplug_translate([config, plain])
    bodies = {r[0]: r[4] for r in rows["software_configs"]}
    assert bodies == {"c1": redact.REDACTED, "c2": config["config"]}
    inputs = {(r[0], r[1]): r[5] for r in rows["software_configs_inputs"]}
    assert inputs[("c1", "conn")] == redact.REDACTED
    assert inputs[("c1", "deploy_server_id")] == "srv-1"     # Heat's own
    assert inputs[("c1", "none")] is None
    assert inputs[("c2", "conn")] == "s3cr3t"
    options = {r[0]: r[2] for r in rows["software_configs_options"]}
    assert options == {"c1": redact.REDACTED, "c2": "s3cr3t"}


def test_a_secret_deployment_hides_its_input_values():
    dep = {"id": "d1", "secret": True, "input_values": {
        "conn": "s3cr3t", "deploy_server_id": "srv-1", "gone": None}}
    rows = software_deployments.heatplug_translate(
        [dep, dict(dep, id="d2", secret=False)])
    values = {(r[0], r[1]): r[2]
              for r in rows["software_deployments_input_values"]}
    assert values == {("d1", "conn"): redact.REDACTED,
                      ("d1", "deploy_server_id"): "srv-1",
                      ("d1", "gone"): None,
                      ("d2", "conn"): "s3cr3t",
                      ("d2", "deploy_server_id"): "srv-1",
                      ("d2", "gone"): None}


def test_a_servers_pushed_configs_hide_what_a_secret_reached():
    pushed = [{"id": "derived-1", "name": "n", "group": "script",
               "config": "p=s3cr3t", "inputs": [{"name": "conn",
                                                 "value": "s3cr3t"}],
               "options": {}},
              {"id": "derived-2", "config": "fine", "inputs": []}]
    got = resources._pushed("deployments", pushed, frozenset({"derived-1"}))
    assert got == [{"id": "derived-1", "name": "n", "group": "script",
                    "config": redact.REDACTED, "inputs": redact.REDACTED,
                    "options": redact.REDACTED}, pushed[1]]
    assert resources._pushed("other", pushed, {"derived-1"}) is pushed
    assert resources._pushed("deployments", "text", {"x"}) == "text"


def test_a_new_unlinked_id_waits_one_poll():
    """An id no resource links, new since the family's last poll, may be a
    stack's in the making (its resource not listed yet): redacted for that
    poll, judged on the next.  On the first poll, only one made since a
    stack last changed (see the next test)."""
    ctx = Ctx()
    first = _records("id-deploy", "id-fine", "api-1")
    assert stack_secrets.secret_ids(ctx, "deployments", first) == {
        "id-deploy"}
    # (each poll has its own shared reads: the fake computes them again)
    second = first + _records("api-2")
    assert stack_secrets.secret_ids(ctx, "deployments", second) == {
        "id-deploy", "api-2"}
    assert stack_secrets.secret_ids(ctx, "deployments", second) == {
        "id-deploy"}


def _stack(status, created, updated=None):
    return {"id": "s-" + created, "stack_status": status,
            "creation_time": created, "updated_time": updated}


def test_on_a_first_poll_an_unlinked_id_made_since_the_poll_began_waits():
    """On a family's first poll every id is new: one that no resource links
    waits a poll only when a stack may be making it: made since the stack
    list's answer (Heat's clock: a stack begun after it is not in it), or
    since the action of a stack IN_PROGRESS began.  The real-Heat
    counterpart is ``tests/functional/test_software_configs.py::
    test_a_first_poll_holds_back_what_is_made_while_it_runs``."""
    made = {"old": "2026-11-26T08:00:00Z", "mid": "2026-11-26T09:30:00Z",
            "same": "2026-11-26T10:00:00Z", "new": "2026-11-26T11:00:00Z",
            "odd": "yesterday", "none": None}
    records = [{"id": i, "creation_time": t} for i, t in made.items()]

    def first_poll(*stacks, listed_at=None):
        return stack_secrets.secret_ids(
            Ctx(stacks=list(stacks), listed_at=listed_at), "configs", records)

    # made since the stack list's answer; a time that is not one: may be
    listed_at = stack_secrets.context.epoch("2026-11-26T10:00:00Z")
    assert first_poll(_stack("CREATE_COMPLETE", "2026-11-26T07:00:00Z"),
                      _stack("CREATE_COMPLETE", "?"),
                      listed_at=listed_at) == {"same", "new", "odd", "none"}
    # ... or since the action of a stack IN_PROGRESS began
    assert first_poll(_stack("UPDATE_IN_PROGRESS", "2026-11-20T00:00:00Z",
                             "2026-11-26T09:00:00Z"),
                      listed_at=listed_at) == {
        "mid", "same", "new", "odd", "none"}
    assert first_poll(_stack("CREATE_IN_PROGRESS", "?"),
                      listed_at=listed_at) == set(made)
    # An answer without a Date: what came after the last change of any
    # stack
    assert first_poll(
        _stack("CREATE_COMPLETE", "2026-11-26T07:00:00Z"),
        _stack("UPDATE_FAILED", "2026-11-20T00:00:00Z",
               "2026-11-26T10:00:00Z")) == {"same", "new", "odd", "none"}
    # a stack IN_PROGRESS since 09:00 may be making what came since
    assert first_poll(
        _stack("CREATE_COMPLETE", "2026-11-26T10:00:00Z"),
        _stack("UPDATE_IN_PROGRESS", "2026-11-20T00:00:00Z",
               "2026-11-26T09:00:00Z")) == {
        "mid", "same", "new", "odd", "none"}
    # a stack whose time is not one, or none listed: any may be
    assert first_poll(_stack("CREATE_COMPLETE", "?")) == set(made)
    assert first_poll() == set(made)
    # the next poll judges them all: what no stack links shows
    ctx = Ctx(stacks=[])
    assert stack_secrets.secret_ids(ctx, "configs", records) == set(made)
    assert stack_secrets.secret_ids(ctx, "configs", records) == set()


def test_the_software_families_hand_their_records_to_the_rule():
    """What the families pass is what the rule reads: the creation times
    of Heat's config and deployment lists."""
    class Heat:
        class software_configs:
            @staticmethod
            def list(**kwargs):
                return [{"id": "c-new", "name": "n", "group": "script",
                         "creation_time": "2026-11-26T11:00:00Z"}]

            @staticmethod
            def get(cid):
                return {"id": cid, "config": "x", "inputs": [],
                        "outputs": [], "options": {}}

    ctx = Ctx(stacks=[_stack("CREATE_COMPLETE", "2026-11-26T10:00:00Z")])
    ctx.heat = Heat
    ctx.map = lambda fn, items: [fn(i) for i in items]
    assert software_configs.heatplug_fetch(ctx)[0].get("secret") is True
    ctx = Ctx(stacks=[_stack("CREATE_COMPLETE", "2026-11-26T12:00:00Z")])
    ctx.heat = Heat
    ctx.map = lambda fn, items: [fn(i) for i in items]
    assert "secret" not in software_configs.heatplug_fetch(ctx)[0]
