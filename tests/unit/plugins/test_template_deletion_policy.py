"""template_resources.deletion_policy: Heat's name for the policy.

Heat (heat/engine/template_common.py ``_rsrc_defn_args``) resolves a
resource's deletion policy and looks it up, exactly, in the template class's
``deletion_policies``: Delete, Retain, Snapshot in every format, and from
HOT 2016-10-14 on also delete, retain, snapshot.  "RETAIN" is refused
(``Invalid deletion policy``), so no stored template says so.  The policy
may be a function (``{"get_param": "dp"}``): it stays JSON.
"""

import json

import pytest

from heatplug.plugins import templates

SID = "c89accd3-6331-4962-b90a-8b1bba227235"
COLUMNS = next(t.column_names for t in templates.TABLES
               if t.name == "template_resources")


def _policies(template):
    rows = templates.heatplug_translate([{"stack_id": SID,
                                          "template": template}])
    assert rows.skipped == []
    return {r["name"]: r["deletion_policy"] for r in
            (dict(zip(COLUMNS, row)) for row in rows["template_resources"])}


def test_hot_policies_in_heats_spelling():
    # what the tester created on a real Heat 27 (2021-04-16 accepts each)
    template = {
        "heat_template_version": "2021-04-16",
        "parameters": {"dp": {"type": "string", "default": "Retain"}},
        "resources": {
            "a": {"type": "OS::Heat::None",
                  "deletion_policy": {"get_param": "dp"}},
            "b": {"type": "OS::Heat::None", "deletion_policy": "retain"},
            "c": {"type": "OS::Heat::None", "deletion_policy": "delete"},
            "d": {"type": "OS::Heat::None", "deletion_policy": "snapshot"},
            "e": {"type": "OS::Heat::None", "deletion_policy": "Retain"},
            "f": {"type": "OS::Heat::None"}}}
    assert _policies(template) == {
        "a": json.dumps({"get_param": "dp"}), "b": "Retain",
        "c": "Delete", "d": "Snapshot", "e": "Retain", "f": None}


def test_cfn_policies():
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"DP": {"Type": "String", "Default": "Snapshot"}},
        "Resources": {
            "A": {"Type": "OS::Heat::None", "DeletionPolicy": "Delete"},
            "B": {"Type": "OS::Heat::None",
                  "DeletionPolicy": {"Ref": "DP"}},
            "C": {"Type": "OS::Heat::None"}}}
    assert _policies(template) == {"A": "Delete",
                                   "B": json.dumps({"Ref": "DP"}),
                                   "C": None}


@pytest.mark.parametrize("given, shown", [
    ("Delete", "Delete"), ("Retain", "Retain"), ("Snapshot", "Snapshot"),
    ("delete", "Delete"), ("retain", "Retain"), ("snapshot", "Snapshot"),
    # Heat refuses any other spelling: shown as written, never guessed
    ("RETAIN", "RETAIN"), ("Keep", "Keep"),
    (None, None), ({"get_param": "dp"}, {"get_param": "dp"})])
def test_deletion_policy(given, shown):
    assert templates.deletion_policy(given) == shown


def test_the_column_says_what_it_holds():
    description = next(c.description for t in templates.TABLES
                       if t.name == "template_resources" for c in t.columns
                       if c.name == "deletion_policy")
    assert "Delete, Retain or Snapshot" in description
    assert "JSON for a function" in description
