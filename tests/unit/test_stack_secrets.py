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

    def __init__(self, fail=None):
        self.name = "software_configs"
        self.cache = {}
        self.fail = fail

    def shared(self, key, factory):
        if self.fail:
            raise self.fail
        return factory()

    def resources(self):
        return RESOURCES

    def stacks(self):
        return [{"id": "s1"}]

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


def test_without_an_analysis_last_verdicts_stand_and_new_ids_are_secret(
        caplog):
    ctx = Ctx()
    ids = ["id-script", "id-plain", "derived-1"]
    assert stack_secrets.secret_ids(ctx, "configs", ids) == {
        "id-script", "derived-1"}
    ctx.fail = RuntimeError("GET /stacks: 503")
    assert stack_secrets.secret_ids(ctx, "configs", ids + ["new"]) == {
        "id-script", "derived-1", "new"}
    assert "cannot be told this poll (RuntimeError: GET /stacks: 503)" in \
        caplog.text
    # and on a first poll, everything
    assert stack_secrets.secret_ids(Ctx(RuntimeError("x")), "configs",
                                    ids) == set(ids)


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
    poll, judged on the next.  Not on the first poll."""
    ctx = Ctx()
    first = ["id-deploy", "id-fine", "api-1"]
    assert stack_secrets.secret_ids(ctx, "deployments", first) == {
        "id-deploy"}
    # (each poll has its own shared reads: the fake computes them again)
    second = first + ["api-2"]
    assert stack_secrets.secret_ids(ctx, "deployments", second) == {
        "id-deploy", "api-2"}
    assert stack_secrets.secret_ids(ctx, "deployments", second) == {
        "id-deploy"}
