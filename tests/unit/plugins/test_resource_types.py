"""The ``resource_types`` family on a recorded real Heat answer.

``tests/fixtures/resource_types.json`` is what the family's fetch returned
from the local Heat (Heat 27, no Nova/Neutron/... in its catalog): re-record
it with ``tools/record_fixtures.py resource_types``.
"""

import copy
import json
import pathlib
import types

import pytest

from heatplug.plugins import resource_types as family

FIXTURE = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / \
    "resource_types.json"


@pytest.fixture(scope="module")
def raw():
    return json.loads(FIXTURE.read_text())


def by_name(rows):
    return {r[0]: r for r in rows["resource_types"]}


def test_types(raw):
    rows = family.heatplug_translate(copy.deepcopy(raw))
    assert rows.skipped == []
    types_ = by_name(rows)
    assert len(types_) == 36
    # Only types whose service this Heat can reach: no Nova, no Neutron.
    assert "OS::Nova::Server" not in types_
    assert not [n for n in types_ if n.startswith("OS::Neutron::")]
    name, description, status = types_["OS::Heat::RandomString"]
    assert description.startswith("A resource which generates a random "
                                  "string.")
    assert status == "SUPPORTED"
    assert types_["AWS::CloudFormation::Stack"][1] == \
        "Represents a child stack to allow composition of templates."
    # Heat's placeholder for a class without a docstring, kept verbatim.
    assert types_["AWS::EC2::SecurityGroup"][1] == "No description available"
    assert {r[2] for r in rows["resource_types"]} == {"SUPPORTED"}
    assert raw["support_status"] == {"DEPRECATED": [], "UNKNOWN": [],
                                     "UNSUPPORTED": []}


def test_support_status_from_the_filtered_lists(raw):
    data = copy.deepcopy(raw)
    data["support_status"]["DEPRECATED"] = ["OS::Heat::InstanceGroup"]
    data["support_status"]["UNSUPPORTED"] = ["OS::Heat::TestResource"]
    types_ = by_name(family.heatplug_translate(data))
    assert types_["OS::Heat::InstanceGroup"][2] == "DEPRECATED"
    assert types_["OS::Heat::TestResource"][2] == "UNSUPPORTED"
    assert types_["OS::Heat::None"][2] == "SUPPORTED"


def test_bare_names_from_an_older_heat(raw):
    data = {"resource_types": [t["resource_type"]
                               for t in raw["resource_types"]],
            "support_status": raw["support_status"]}
    rows = family.heatplug_translate(data)
    assert len(rows["resource_types"]) == 36
    assert by_name(rows)["OS::Heat::Value"] == ("OS::Heat::Value", None,
                                                "SUPPORTED")


def test_malformed_records_are_skipped_and_counted(raw):
    data = copy.deepcopy(raw)
    data["resource_types"][3:3] = [{"description": "no name"}, 42,
                                   {"resource_type": ""}]
    rows = family.heatplug_translate(data)
    assert len(rows.skipped) == 3
    assert rows["resource_types"] == \
        family.heatplug_translate(copy.deepcopy(raw))["resource_types"]


class FakeCtx:
    """The parts of a FamilyContext the fetch uses, over the recording."""

    full_refresh = False

    def __init__(self, raw):
        self.cache = {}
        self.calls = []
        self.raw = raw
        self.heat = types.SimpleNamespace(
            resource_types=types.SimpleNamespace(list=self._list))

    def _list(self, **kwargs):
        self.calls.append(kwargs)
        if "filters" in kwargs:
            names = self.raw["support_status"][
                kwargs["filters"]["support_status"]]
            return [types.SimpleNamespace(to_dict=lambda n=n: n)
                    for n in names]
        return [types.SimpleNamespace(to_dict=lambda t=t: dict(t))
                for t in self.raw["resource_types"]]

    def map(self, fn, items):
        return [fn(i) for i in items]


def test_fetch_reads_statuses_only_when_the_list_changes(raw):
    ctx = FakeCtx(copy.deepcopy(raw))
    assert family.heatplug_fetch(ctx) == raw
    assert len(ctx.calls) == 4
    ctx.calls.clear()
    assert family.heatplug_fetch(ctx) == raw
    assert ctx.calls == [{"with_description": True}]
    ctx.calls.clear()
    ctx.raw["resource_types"].pop()
    family.heatplug_fetch(ctx)
    assert len(ctx.calls) == 4


def test_a_full_refresh_reads_the_statuses_again(raw):
    ctx = FakeCtx(copy.deepcopy(raw))
    family.heatplug_fetch(ctx)
    ctx.calls.clear()
    ctx.full_refresh = True
    assert family.heatplug_fetch(ctx) == raw
    assert len(ctx.calls) == 4
