"""Resources whose names are not ASCII, against the real local Heat.

Heat 27 lists, creates and deletes them, but answers 404 to every
per-resource call for them (``GET .../resources/<name>/metadata``, the
resource show: its own URL decoding turns ``café`` into ``cafÃ©``).  A
404 from the metadata read is not "deleted since the list" then: the
resource must keep its rows from the list (defect F8), with no metadata
rows, and the other resources keep theirs.
"""

import logging

import pytest
from heatclient import exc as heat_exc

from heatplug import translation
from heatplug.plugins import resources as resources_family
from tests.functional import conftest

CAFE = "café"
DATA = "数据"

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "description": "f8 - resources with non-ASCII names",
    "resources": {
        # a type whose metadata heatplug reads on every poll
        CAFE: {"type": "OS::Heat::WaitConditionHandle",
               "metadata": {"m": "meta of the cafe"}},
        # a static type with a metadata section: read, then cached
        DATA: {"type": "OS::Heat::None", "metadata": {"m": "meta of data"},
               "depends_on": [CAFE]},
        # ASCII neighbours: untouched
        "plain": {"type": "OS::Heat::WaitConditionHandle",
                  "metadata": {"m": "meta of plain"}},
        "after": {"type": "OS::Heat::Value", "depends_on": [DATA],
                  "properties": {"value": "v"}},
    },
}


@pytest.fixture(scope="module")
def stack(heat):
    created = heat.stacks.create(stack_name="f8-non-ascii-names",
                                 template=TEMPLATE)
    ident = "f8-non-ascii-names/%s" % created["stack"]["id"]
    try:
        got = conftest.wait_for_stack(heat, ident)
        assert got["stack_status"] == "CREATE_COMPLETE", got
        yield got
    finally:
        conftest.delete_stack(heat, ident)


def _ident(stack):
    return "%s/%s" % (stack["stack_name"], stack["id"])


def _served(heat, stack, name):
    """Heat's metadata of resource ``name``, or None when it answers 404."""
    try:
        return heat.resources.metadata(_ident(stack), name)
    except heat_exc.HTTPNotFound:
        return None


def test_heat_lists_them_but_404s_their_metadata(heat, stack):
    listed = {r.resource_name for r in heat.resources.list(_ident(stack))}
    assert listed == {CAFE, DATA, "plain", "after"}
    assert _served(heat, stack, "plain") == {"m": "meta of plain"}
    # Heat 27's bug, what this module is about (if a later Heat serves
    # them, the tests below check their metadata instead).
    assert _served(heat, stack, CAFE) is None
    assert _served(heat, stack, DATA) is None


def _rows(result, table, sid):
    columns = [t for t in resources_family.TABLES if t.name == table][0] \
        .column_names
    return [dict(zip(columns, row)) for row in result.tables[table].rows
            if row[0] == sid]


def test_a_listed_resource_is_kept_when_its_metadata_404s(
        heat, stack, make_poller, caplog):
    sid = stack["id"]
    direct = {r.resource_name: r.to_dict()
              for r in heat.resources.list(_ident(stack), with_detail=True)}
    served = {name: _served(heat, stack, name) for name in direct}
    poller = make_poller(["resources"])
    for n in range(2):          # the first poll, then from the cache
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="heatplug"):
            result = poller.poll()
        assert result.ok, result.errors
        assert result.stats["families"]["resources"]["skipped"] == []
        rows = {r["resource_name"]: r
                for r in _rows(result, "resources", sid)}
        assert set(rows) == set(direct)
        for name, res in direct.items():
            got = rows[name]
            assert (got["stack_name"], got["physical_resource_id"],
                    got["resource_type"], got["resource_status"],
                    got["creation_time"], got["updated_time"]) == (
                stack["stack_name"], res["physical_resource_id"] or None,
                res["resource_type"], res["resource_status"],
                res["creation_time"], res["updated_time"]), name
        required = {(r["resource_name"], r["required_by"])
                    for r in _rows(result, "resources_required_by", sid)}
        assert required == {(name, other) for name, res in direct.items()
                            for other in res["required_by"]}
        assert (CAFE, DATA) in required and (DATA, "after") in required
        links = {(r["resource_name"], r["rel"])
                 for r in _rows(result, "resources_links", sid)}
        assert {(CAFE, "stack"), (DATA, "self"), ("plain", "self")} <= links
        attrs = {r["resource_name"]
                 for r in _rows(result, "resources_attributes", sid)}
        assert {CAFE, "plain", "after"} <= attrs
        meta = {(r["resource_name"], r["key"]): r["value"]
                for r in _rows(result, "resources_metadata", sid)}
        want = {(name, key): translation.scalar(value)
                for name, md in served.items() for key, value in
                (md or {}).items()}
        # No metadata rows for what Heat cannot serve; the rest as Heat's.
        assert meta == want
        assert meta[("plain", "m")] == "meta of plain"
        warnings = [r.getMessage() for r in caplog.records
                    if r.levelno == logging.WARNING]
        said = [r.getMessage() for r in caplog.records
                if "although it still lists" in r.getMessage()]
        for name in (CAFE, DATA):
            if served[name] is None:
                mentioned = [m for m in said if repr(name) in m]
                assert mentioned and sid in mentioned[0], said
                # a warning once, then at debug level
                assert any(repr(name) in m for m in warnings) == (n == 0)
