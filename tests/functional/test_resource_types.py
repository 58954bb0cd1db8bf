"""The resource_types family against the real local Heat.

The table is compared with heatclient's own ``resource_types.list``, with
descriptions and filtered by every support status Heat knows.
"""

import pytest

from tests.functional import conftest

STATUSES = ("SUPPORTED", "DEPRECATED", "UNSUPPORTED", "UNKNOWN", "HIDDEN")


@pytest.fixture(scope="module")
def data(local_heat):
    return conftest.poll_json(local_heat, "--enable", "resource_types")


def test_no_errors_nothing_skipped(data):
    assert data["errors"] == {}
    fam = data["stats"]["families"]["resource_types"]
    assert fam["skipped"] == []
    # Cold: the list with descriptions, then one list per status that is
    # not SUPPORTED.
    assert fam["requests"] == 4
    assert data["stats"]["shared_requests"] == 0


def test_types_match_heat(heat, data):
    described = {t.resource_type: t.description
                 for t in heat.resource_types.list(with_description=True)}
    status = {}
    for s in STATUSES:
        for t in heat.resource_types.list(filters={"support_status": s}):
            assert t.resource_type not in status, t.resource_type
            status[t.resource_type] = s
    assert set(status) == set(described)
    expected = sorted((name, description, status[name])
                      for name, description in described.items())
    assert conftest.table_rows(data, "resource_types") == expected
    names = [r[0] for r in expected]
    assert "OS::Heat::ResourceGroup" in names
    assert "OS::Heat::SoftwareDeployment" in names
    # The local Heat has no Nova: Heat leaves its types out.
    assert "OS::Nova::Server" not in names


def test_the_table_names_every_type_the_population_uses(data, heat,
                                                        population):
    names = {r[0] for r in conftest.table_rows(data, "resource_types")}
    used = {r.resource_type for s in heat.stacks.list()
            for r in heat.resources.list("%s/%s" % (s.stack_name, s.id),
                                         nested_depth=5)}
    # Template resources (pop_child.yaml) are not types Heat lists.
    assert {t for t in used if "::" in t} <= names
    assert any(not t.endswith(".yaml") for t in used)


def test_second_poll_is_one_request(make_poller):
    poller = make_poller(["resource_types"])
    first = poller.poll()
    second = poller.poll()
    assert first.ok and second.ok, (first.errors, second.errors)
    assert first.stats["families"]["resource_types"]["requests"] == 4
    assert second.stats["families"]["resource_types"]["requests"] == 1
    assert sorted(second.tables["resource_types"].rows) == \
        sorted(first.tables["resource_types"].rows)
    assert len(first.tables["resource_types"].rows) > 30
