"""The stacks heatplug's tempest tests create (Python data: no package data
files needed).

Each ``*_stack(canary)`` returns the keyword arguments of
``OrchestrationClient.create_stack`` (less the name).  ``canary`` is a
random string planted as a secret (a hidden parameter's value or default, a
NoEcho default, a hidden-looking config input): no heatplug table may ever
show it.  Only resource types that need no other OpenStack service are used.
"""

HOT = "2018-08-31"

CHILD_YAML = """\
heat_template_version: 2018-08-31
description: heatplug tempest - a template resource
parameters:
  label:
    type: string
resources:
  value:
    type: OS::Heat::Value
    properties:
      value: {get_param: label}
  none:
    type: OS::Heat::None
outputs:
  value:
    value: {get_attr: [value, value]}
"""


def simple_stack(canary):
    """Parameters (one hidden), outputs (one carrying the secret), tags, a
    dependency, a timeout."""
    return dict(
        template={
            "heat_template_version": HOT,
            "description": "heatplug tempest - a plain stack",
            "parameters": {
                "db_password": {"type": "string", "hidden": True,
                                "description": "a hidden parameter"},
                "length": {"type": "number", "default": 8,
                           "constraints": [{"range": {"min": 4, "max": 64}}]},
            },
            "resources": {
                "token": {"type": "OS::Heat::RandomString",
                          "properties": {"length": {"get_param": "length"}}},
                "greeting": {"type": "OS::Heat::Value",
                             "depends_on": "token",
                             "properties": {"value": "hello"}},
                "carrier": {"type": "OS::Heat::Value", "properties": {
                    "value": {"str_replace": {
                        "template": "pw=$p",
                        "params": {"$p": {"get_param": "db_password"}}}}}},
            },
            "outputs": {
                "greeting": {"description": "not a secret",
                             "value": {"get_attr": ["greeting", "value"]}},
                "leak": {"description": "carries the hidden parameter",
                         "value": {"get_attr": ["carrier", "value"]}},
            },
        },
        parameters={"db_password": canary, "length": 12},
        tags=["heatplug", "policy"], timeout_mins=30)


def params_stack(canary):
    """Every HOT constraint kind, a hidden default, label, immutable,
    json/list/boolean types, conditions, a deletion policy, depends_on as a
    list."""
    return dict(
        template={
            "heat_template_version": HOT,
            "description": "heatplug tempest - parameter schemas",
            "parameters": {
                "unlock_code": {
                    "type": "string", "hidden": True, "default": canary,
                    "label": "Unlock code",
                    "constraints": [
                        {"length": {"min": 8},
                         "description": "at least 8 characters"},
                        {"allowed_pattern": "[A-Za-z0-9-]+"}]},
                "env": {"type": "string", "label": "Environment",
                        "immutable": True, "constraints": [
                            {"allowed_values": ["dev", "prod"],
                             "description": "dev or prod"}]},
                "replicas": {"type": "number", "default": 4, "constraints": [
                    {"range": {"min": 2, "max": 8}},
                    {"modulo": {"step": 2, "offset": 0}}]},
                "address": {"type": "string", "default": "192.0.2.10",
                            "constraints": [{"custom_constraint": "ip_addr"}]},
                "settings": {"type": "json",
                             "default": {"mode": "fast", "level": 3}},
                "zones": {"type": "comma_delimited_list", "default": "a,b"},
                "debug": {"type": "boolean", "default": False},
            },
            "conditions": {
                "is_prod": {"equals": [{"get_param": "env"}, "prod"]},
                "is_dev": {"equals": [{"get_param": "env"}, "dev"]},
            },
            "resources": {
                "plain": {"type": "OS::Heat::Value", "properties": {
                    "value": {"list_join": [",", {"get_param": "zones"}]}}},
                "kept": {"type": "OS::Heat::RandomString",
                         "deletion_policy": "Retain",
                         "condition": "is_prod",
                         "depends_on": ["plain"],
                         "properties": {"length": 8}},
                "dev_only": {"type": "OS::Heat::None",
                             "condition": "is_dev"},
            },
            "outputs": {
                "safe": {"description": "derived from a plain parameter",
                         "value": {"get_attr": ["plain", "value"]}},
                "direct": {"description": "the hidden parameter",
                           "value": {"get_param": "unlock_code"}},
                "settings": {"value": {"get_param": "settings"}},
            },
        },
        parameters={"env": "prod"})


def cfn_stack(canary):
    """A CloudFormation template: every CFN constraint, a NoEcho default,
    DependsOn as a string and a list, an output that fails to resolve."""
    return dict(template={
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "heatplug tempest - a CloudFormation template",
        "Parameters": {
            "AdminPass": {"Type": "String", "NoEcho": "true",
                          "Default": canary, "MinLength": "8",
                          "MaxLength": "64",
                          "Description": "a NoEcho parameter"},
            "Flavor": {"Type": "String", "Default": "m1.small",
                       "AllowedValues": ["m1.small", "m1.large"],
                       "ConstraintDescription": "a known flavor"},
            "Count": {"Type": "Number", "Default": "2", "MinValue": "1",
                      "MaxValue": "5"},
            "Label": {"Type": "String", "Default": "abc",
                      "AllowedPattern": "[a-z]+"},
        },
        "Resources": {
            "First": {"Type": "OS::Heat::RandomString",
                      "Properties": {"length": 8}},
            "Second": {"Type": "OS::Heat::Value", "DependsOn": "First",
                       "Properties": {"value": {"Fn::Join": [
                           "-", [{"Ref": "Label"}, {"Ref": "Flavor"}]]}}},
            "Third": {"Type": "OS::Heat::None",
                      "DependsOn": ["First", "Second"]},
        },
        "Outputs": {
            "Joined": {"Description": "label and flavor",
                       "Value": {"Fn::GetAtt": ["Second", "value"]}},
            "Broken": {"Description": "cannot be resolved",
                       "Value": {"Fn::Select": [{"Ref": "Label"},
                                                ["a", "b"]]}},
        },
    }, parameters={"Flavor": "m1.large"})


def nested_stack(canary=None):
    """Two nested stacks: a ResourceGroup and a template resource (files)."""
    return dict(template={
        "heat_template_version": HOT,
        "description": "heatplug tempest - nested stacks",
        "resources": {
            "group": {"type": "OS::Heat::ResourceGroup", "properties": {
                "count": 2, "resource_def": {
                    "type": "OS::Heat::RandomString",
                    "properties": {"length": 6}}}},
            "child": {"type": "child.yaml",
                      "properties": {"label": "from-parent"}},
        },
        "outputs": {"child_value": {
            "value": {"get_attr": ["child", "value"]}}},
    }, files={"child.yaml": CHILD_YAML})


def software_stack(canary):
    """Software configs and deployments through a template: a config with
    inputs (one secret by name), outputs and options, a structured config, a
    DeployedServer (a stack user in the stack user domain) and one
    deployment of each config."""
    return dict(template={
        "heat_template_version": HOT,
        "description": "heatplug tempest - software configs and "
                       "deployments",
        "resources": {
            "config": {"type": "OS::Heat::SoftwareConfig", "properties": {
                "group": "script",
                "config": "#!/bin/sh\necho \"hello $greeting\" > "
                          "$heat_outputs_path.result\n",
                "inputs": [
                    {"name": "greeting", "type": "String",
                     "description": "whom to greet", "default": "world"},
                    {"name": "api_password", "type": "String",
                     "description": "a secret by its name",
                     "default": canary}],
                "outputs": [{"name": "result",
                             "description": "the greeting"}],
                "options": {"retries": 3}}},
            "structured": {"type": "OS::Heat::StructuredConfig",
                           "properties": {"group": "ansible", "config": {
                               "tasks": [{"debug": {"msg": "hello"}}]}}},
            "server": {"type": "OS::Heat::DeployedServer", "properties": {
                "software_config_transport": "POLL_SERVER_HEAT"}},
            "deploy": {"type": "OS::Heat::SoftwareDeployment", "properties": {
                "config": {"get_resource": "config"},
                "server": {"get_resource": "server"},
                "signal_transport": "NO_SIGNAL",
                "input_values": {"greeting": "policy-writer"}}},
            "deploy_structured": {
                "type": "OS::Heat::StructuredDeployment",
                "properties": {"config": {"get_resource": "structured"},
                               "server": {"get_resource": "server"},
                               "signal_transport": "NO_SIGNAL"}},
        },
    })


def failing_stack(canary=None):
    """A stack whose create fails (a TestResource told to fail)."""
    return dict(template={
        "heat_template_version": HOT,
        "description": "heatplug tempest - a stack that fails",
        "resources": {
            "ok": {"type": "OS::Heat::RandomString"},
            "broken": {"type": "OS::Heat::TestResource", "depends_on": "ok",
                       "properties": {"fail": True, "value": "doomed"}},
        },
    })


def value_stack(value):
    """A one-resource stack whose Value is ``value`` (updated in place)."""
    return dict(template={
        "heat_template_version": HOT,
        "description": "heatplug tempest - a value to update",
        "parameters": {"value": {"type": "string", "default": value}},
        "resources": {"holder": {"type": "OS::Heat::Value", "properties": {
            "value": {"get_param": "value"}}}},
        "outputs": {"value": {"value": {"get_attr": ["holder", "value"]}}},
    })
