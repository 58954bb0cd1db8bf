"""Fixtures for the reliability and security tests.

This directory has its own real local Heat (the fault and churn tests create,
update and delete stacks, which must not disturb tests/functional), its own
copy of the shared test population (``tests/functional/population``) plus
canary secrets, and a fault-injecting proxy (:mod:`faultproxy`) in front of
that Heat for every test that wants one.

``local_heat`` and ``heat`` are the session fixtures of
:mod:`tests.functional.conftest`, imported: pytest registers an imported
fixture as one of this conftest, so this directory's session starts a Heat
of its own with them.
"""

import json
import os
import pathlib
import subprocess
import sys
import uuid

import pytest

from heatplug import core
from heatplug import manager
from heatplug import opts
from tests.functional import conftest as functional
# re-exported session fixtures (see the module docstring); the functions
# below that take ``heat`` or ``local_heat`` get these fixtures' values
# (hence their noqa: F811)
from tests.functional.conftest import heat, local_heat  # noqa: F401
from tests.reliability import faultproxy

HERE = pathlib.Path(__file__).parent

#: Canary secrets planted in the Heat of this directory.  None of them may
#: appear in a table, the JSON output, a log line or an error message.
CANARY = {
    # hidden template parameters (values and defaults) of the population
    "hidden_param": "canary-hidden-param-7Qz1",
    "hidden_default": "canary-hot-hidden-default-8Rt4",
    "noecho_default": "canary-cfn-noecho-default-5Wm2",
    "hidden_config_input": "canary-hidden-config-input-3Kd9",
    # planted below
    "passed_hidden": "canary-passed-hidden-%s" % uuid.uuid4().hex[:8],
    "deploy_password": "canary-deploy-password-%s" % uuid.uuid4().hex[:8],
    "signature": "canary-signature-%s" % uuid.uuid4().hex[:8],
    "config_hidden_input": "canary-config-hidden-%s" % uuid.uuid4().hex[:8],
    "config_option": "canary-config-option-%s" % uuid.uuid4().hex[:8],
    "nested_hidden": "canary-nested-hidden-%s" % uuid.uuid4().hex[:8],
    # climbing out of nested stacks (CLIMB below): a nested template's
    # hidden default, and literals a parent hands to hidden parameters
    "climb_default": "canary-climb-default-%s" % uuid.uuid4().hex[:8],
    "handed_literal": "canary-handed-literal-%s" % uuid.uuid4().hex[:8],
    "handed_group": "canary-handed-group-%s" % uuid.uuid4().hex[:8],
    # OS::Heat::Stack (REMOTE below): a hidden parameter handed into the
    # root stack it makes, and that stack's hidden default climbing out
    "remote_handed": "canary-remote-handed-%s" % uuid.uuid4().hex[:8],
    "remote_default": "canary-remote-default-%s" % uuid.uuid4().hex[:8],
    # a hidden parameter a stack hands to software (SOFTWARE below)
    "software_hidden": "canary-software-hidden-%s" % uuid.uuid4().hex[:8],
    # credentials inside free text: a config's script, a deployment's stdout
    "script_password": "canary-script-password-%s" % uuid.uuid4().hex[:8],
    "stdout_password": "canary-stdout-password-%s" % uuid.uuid4().hex[:8],
    "configured_password": "canary-configured-password-%s"
                           % uuid.uuid4().hex[:8],
}

SIGNED_URL = ("http://127.0.0.1:8000/v1/signal/"
              "arn%%3Aopenstack%%3Aheat%%3A%%3A"
              "x?Timestamp=2024-01-01T00%%3A00%%3A00Z&SignatureMethod="
              "HmacSHA256&AWSAccessKeyId=k&SignatureVersion=2&Signature=%s"
              % CANARY["signature"])

#: A stack passing a hidden parameter to a nested template resource and
#: using it in an output of its own.
PASSED_HIDDEN = {
    "template": {
        "heat_template_version": "2018-08-31",
        "description": "canary - a hidden parameter passed on",
        "parameters": {"secret": {"type": "string", "hidden": True}},
        "resources": {
            "carrier": {"type": "OS::Heat::Value",
                        "properties": {"value": {"get_param": "secret"}}},
        },
        "outputs": {"leak": {"value": {"get_attr": ["carrier", "value"]}}},
    },
}

#: A hidden parameter handed to a nested stack's (non-hidden) parameter.
NESTED_CHILD = """
heat_template_version: 2018-08-31
parameters:
  label: {type: string}
resources:
  value:
    type: OS::Heat::Value
    properties: {value: {get_param: label}}
outputs:
  value: {value: {get_attr: [value, value]}}
"""
NESTED_HIDDEN = {
    "heat_template_version": "2018-08-31",
    "description": "canary - a hidden parameter handed to a nested stack",
    "parameters": {"secret": {"type": "string", "hidden": True}},
    "resources": {"child": {"type": "canary_child.yaml",
                            "properties": {"label": {"get_param": "secret"}}}},
}

#: Secrets that climb out of nested stacks.  A nested template with a hidden
#: parameter (its default a canary) that one of its outputs shows; a stack
#: using it as a template resource (its attribute ``secret``, a Value built
#: from that, an output ``leak``) and handing a literal canary to the hidden
#: parameter of another; on top, that stack nested once more (``top_leak``)
#: and a ResourceGroup handing the child another literal canary.  Heat
#: shows every canary (outputs, resource attributes, event properties):
#: test_secrets_climbing_out_of_nested_stacks.
CLIMB_CHILD = """
heat_template_version: 2018-08-31
parameters:
  word: {type: string, hidden: true, default: %s}
  label: {type: string, default: plain-label}
resources:
  keep:
    type: OS::Heat::Value
    properties: {value: {get_param: word}}
outputs:
  secret: {value: {get_attr: [keep, value]}}
  plain: {value: {get_param: label}}
""" % CANARY["climb_default"]
CLIMB_MIDDLE = """
heat_template_version: 2018-08-31
resources:
  inner: {type: canary_climb_child.yaml}
  user:
    type: OS::Heat::Value
    properties: {value: {get_attr: [inner, secret]}}
  given:
    type: canary_climb_child.yaml
    properties: {word: %s}
outputs:
  leak: {value: {get_attr: [inner, secret]}}
  fine: {value: plain-output}
""" % CANARY["handed_literal"]
CLIMB = {
    "heat_template_version": "2018-08-31",
    "description": "canary - secrets climbing out of nested stacks",
    "resources": {
        "mid": {"type": "canary_climb.yaml"},
        "many": {"type": "OS::Heat::ResourceGroup", "properties": {
            "count": 1, "resource_def": {
                "type": "canary_climb_child.yaml",
                "properties": {"word": CANARY["handed_group"]}}}},
    },
    "outputs": {"top_leak": {"value": {"get_attr": ["mid", "leak"]}},
                "members": {"value": {"get_attr": ["many", "secret"]}},
                "top_fine": {"value": {"get_attr": ["mid", "fine"]}}},
}
CLIMB_FILES = {"canary_climb_child.yaml": CLIMB_CHILD,
               "canary_climb.yaml": CLIMB_MIDDLE}

#: Secrets crossing OS::Heat::Stack, which makes a *root* stack of its own
#: (the stack list does not link it to its owner): a hidden parameter
#: handed to its stack's non-hidden ``label`` (shown there as a parameter
#: and the output ``echo``), and its stack's hidden default shown by the
#: output ``own`` and read by the owner's output ``climb``; the embedded
#: template holds that default too.  test_secrets_crossing_os_heat_stack.
REMOTE_CHILD = """
heat_template_version: 2018-08-31
parameters:
  label: {type: string, default: nothing}
  word: {type: string, hidden: true, default: %s}
outputs:
  echo: {value: {get_param: label}}
  own: {value: {get_param: word}}
  plain: {value: plain-remote}
""" % CANARY["remote_default"]
REMOTE = {
    "heat_template_version": "2018-08-31",
    "description": "canary - secrets crossing OS::Heat::Stack",
    "parameters": {"secret": {"type": "string", "hidden": True}},
    "resources": {
        "far": {"type": "OS::Heat::Stack", "properties": {
            "template": REMOTE_CHILD,
            "parameters": {"label": {"get_param": "secret"}}}},
        "far2": {"type": "OS::Heat::Stack",
                 "properties": {"template": REMOTE_CHILD}}},
    "outputs": {
        "far_leak": {"value": {"get_attr": ["far", "outputs", "echo"]}},
        "climb": {"value": {"get_attr": ["far2", "outputs", "own"]}},
        "far2_name": {"value": {"get_attr": ["far2", "stack_name"]}}},
}

#: A stack handing a hidden parameter, and a RandomString's value, to
#: software under innocent names: a script built with str_replace, a
#: cloud-config writing it to a file, a deployment's input values, a
#: structured deployment (Heat substitutes the input into the derived
#: config's body).  Heat shows it in the configs, the configs it derives
#: for the deployments, the deployments and the server's metadata:
#: test_secrets_a_stack_hands_to_software.
SOFTWARE = {
    "heat_template_version": "2018-08-31",
    "description": "canary - secrets handed to software configs",
    "parameters": {"dbpass": {"type": "string", "hidden": True}},
    "resources": {
        "server": {"type": "OS::Heat::DeployedServer", "properties": {
            "software_config_transport": "POLL_SERVER_HEAT"}},
        "token": {"type": "OS::Heat::RandomString",
                  "properties": {"length": 24}},
        "script": {"type": "OS::Heat::SoftwareConfig", "properties": {
            "group": "script", "inputs": [{"name": "conn"},
                                          {"name": "word"}],
            "config": {"str_replace": {
                "template": "#!/bin/sh\nmysql -u root -pDBP\n",
                "params": {"DBP": {"get_param": "dbpass"}}}}}},
        "cloud": {"type": "OS::Heat::CloudConfig", "properties": {
            "cloud_config": {"write_files": [{
                "path": "/etc/app.conf",
                "content": {"get_param": "dbpass"}}]}}},
        "plain": {"type": "OS::Heat::SoftwareConfig", "properties": {
            "group": "script", "config": "#!/bin/sh\necho plain\n",
            "inputs": [{"name": "conn"}, {"name": "word"}]}},
        "deploy": {"type": "OS::Heat::SoftwareDeployment", "properties": {
            "config": {"get_resource": "plain"},
            "server": {"get_resource": "server"},
            "signal_transport": "NO_SIGNAL",
            "input_values": {"conn": {"get_param": "dbpass"},
                             "word": {"get_attr": ["token", "value"]}}}},
        "sconfig": {"type": "OS::Heat::StructuredConfig", "properties": {
            "group": "Heat::Ungrouped", "config": {"db": {
                "get_input": "dbconn"}}, "inputs": [{"name": "dbconn"}]}},
        "sdeploy": {"type": "OS::Heat::StructuredDeployment", "properties": {
            "config": {"get_resource": "sconfig"},
            "server": {"get_resource": "server"},
            "signal_transport": "NO_SIGNAL",
            "input_values": {"dbconn": {"get_param": "dbpass"}}}},
        "fine": {"type": "OS::Heat::SoftwareDeployment", "properties": {
            "config": {"get_resource": "plain"},
            "server": {"get_resource": "server"},
            "signal_transport": "NO_SIGNAL",
            "input_values": {"conn": "plain-conn", "word": "plain-word"}}},
    },
}


@pytest.fixture(scope="session")
def heat_url(local_heat):  # noqa: F811
    """``http://127.0.0.1:PORT`` of the real Heat (the proxy's upstream)."""
    return local_heat.endpoint.rsplit("/v1/", 1)[0]


def _plant_canaries(heat):  # noqa: F811
    functional.create_stack(heat, "canary-passed", PASSED_HIDDEN["template"],
                            parameters={"secret": CANARY["passed_hidden"]})
    functional.create_stack(heat, "canary-nested", NESTED_HIDDEN,
                            parameters={"secret": CANARY["nested_hidden"]},
                            files={"canary_child.yaml": NESTED_CHILD})
    functional.create_stack(heat, "canary-climb", CLIMB, files=CLIMB_FILES)
    functional.create_stack(heat, "canary-remote", REMOTE,
                            parameters={"secret": CANARY["remote_handed"]})
    functional.create_stack(heat, "canary-software", SOFTWARE,
                            parameters={"dbpass": CANARY["software_hidden"]})
    config = heat.software_configs.create(
        name="canary-config", group="script",
        config="#!/bin/sh\nexport DB_PASSWORD=%s\ncurl -X POST '%s'\n" % (
            CANARY["script_password"], SIGNED_URL),
        # Heat 27 has no "hidden" for config inputs: a secret-named one
        inputs=[{"name": "db_password", "type": "String",
                 "default": CANARY["config_hidden_input"]}],
        outputs=[{"name": "result"}],
        options={"password": CANARY["config_option"]})
    config = config.to_dict() if hasattr(config, "to_dict") else config
    deployment = heat.software_deployments.create(
        config_id=config["id"], server_id=str(uuid.uuid4()),
        action="CREATE", status="IN_PROGRESS",
        input_values={"deploy_password": CANARY["deploy_password"],
                      "deploy_signal_id": SIGNED_URL,
                      "greeting": "hello"})
    deployment = deployment.to_dict() if hasattr(deployment, "to_dict") \
        else deployment
    # what an agent signals back: a script that printed a password
    heat.software_deployments.update(
        deployment["id"], status="COMPLETE", status_reason="done",
        output_values={"deploy_stdout": "connected with password=%s as app"
                       % CANARY["stdout_password"],
                       "deploy_status_code": 0})


@pytest.fixture(scope="session")
def population(heat):  # noqa: F811
    """The shared test population, plus this directory's canaries."""
    import concurrent.futures
    entries = [functional._population_entry(p)
               for p in sorted(functional.POPULATION.glob("pop-*.yaml"))]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(functional.create_stack, heat, name, tmpl,
                               params, files, tags)
                   for name, tmpl, params, files, tags in entries]
        futures.append(pool.submit(_plant_canaries, heat))
        for f in futures:
            f.result()
    return {s.stack_name: s.to_dict()
            for s in heat.stacks.list(show_nested=True)}


@pytest.fixture
def proxy(heat_url):
    """A :class:`faultproxy.FaultProxy` in front of the real Heat."""
    with faultproxy.FaultProxy(heat_url) as p:
        yield p


def write_conf(path, endpoint=None, **heat_opts):
    """A heatplug configuration file for a noauth Heat at ``endpoint``."""
    lines = ["[heatplug]", "max_workers = 4", "", "[heat]"]
    if endpoint:
        heat_opts.setdefault("auth_type", "none")
        heat_opts.setdefault("endpoint_override", endpoint)
    lines += ["%s = %s" % kv for kv in heat_opts.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def make_poller(tmp_path, endpoint=None, name="heatplug.conf", **heat_opts):
    """A :class:`heatplug.core.Poller` with every installed plugin, reading
    Heat at ``endpoint`` (``[heat]`` options as keyword arguments)."""
    conf = opts.make_conf(config_files=[str(write_conf(
        tmp_path / name, endpoint, **heat_opts))])
    return core.Poller(conf, manager.build_plugin_manager(conf))


def run_cli(args, env=None, timeout=300):
    """Run ``python -m heatplug.cli`` with no OS_* variables; return the
    CompletedProcess (stdout, stderr as text)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    clean.update(env or {})
    return subprocess.run([sys.executable, "-m", "heatplug.cli", *args],
                          env=clean, capture_output=True, text=True,
                          timeout=timeout, cwd=str(HERE))


def rows(result, table):
    """Rows of ``table`` of a :class:`PollResult` or of poll JSON."""
    if isinstance(result, dict):
        return sorted(tuple(r) for r in result["tables"][table]["rows"])
    return sorted(result.tables[table].rows)


def as_json(result):
    return json.dumps(result.to_json(), default=str)
