"""heatplug's Congress datasource driver, with the real Congress 11.0.0 code.

* Loading: the exact ``DseNode.load_drivers()`` stevedore call, then
  Congress's own ``validate_create_datasource`` and
  ``create_datasource_service`` (in a child interpreter: loading the whole
  entry-point group monkey-patches the process with eventlet, as the real
  server is), polling the real local Heat there.
* The driver in-process against the real local Heat: state compared with
  direct heatclient reads and with the command line; Congress's ``poll()``
  with a stub DSE node (publishing, ``last_error``, ``get_status``); a
  failing family; ``lazy_tables``; ``poll_time`` and ``request_refresh()``
  through Congress's own poll loop; ``execute()``; secrets.

Policies over these tables are in ``test_policy.py``.
"""

import importlib.util
import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
import uuid
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from heatplug.congress import _compat

_compat.apply()
if importlib.util.find_spec("congress") is None:
    pytest.skip("openstack-congress is not installed", allow_module_level=True)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")     # eventlet, webob, oslo deprecations
    from congress import exception as congress_exc
    from keystoneauth1 import loading as ks_loading

    import heatplug
    from heatplug.congress import driver as hp_driver
    from heatplug import errors
    from heatplug import manager
    from heatplug import opts
    from heatplug import redact
    from tests.congress.conftest import FakeNode, heatplug_node
    from tests.functional import conftest as fconf
    from tests.functional import heat_fixture

pytestmark = pytest.mark.congress

ENTRY_POINT = "heatplug.congress.driver:HeatplugDriver"


def closed_endpoint():
    return "http://127.0.0.1:%d/v1/admin" % heat_fixture.free_port()


def make_driver(endpoint, name="heatplug", **config):
    """Create the driver the way Congress does: strings, plus ds_id."""
    args = dict({"endpoint": endpoint, "poll_time": "0"}, **config)
    args["ds_id"] = str(uuid.uuid4())
    return hp_driver.HeatplugDriver(name=name, args=args)


def rows_of(table):
    return {tuple(r) for r in table["rows"]}


def column(driver, table, name):
    return driver.get_column_map(table)[name]


def project(driver, table, *names):
    cols = [column(driver, table, n) for n in names]
    return {tuple(row[c] for c in cols) for row in driver.state[table]}


# --------------------------------------------------------------------------
# the entry point, loaded and created exactly as Congress does
# --------------------------------------------------------------------------

def test_entry_point_is_registered():
    from importlib import metadata
    eps = {ep.name: ep.value for ep in metadata.entry_points(
        group="congress.datasource.drivers")}
    assert eps["heatplug"] == ENTRY_POINT
    assert eps["heat"] == "congress.datasources.heatv1_driver:HeatV1Driver"


_LOADER = textwrap.dedent("""
    import collections, json, logging, sys, time, warnings
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)   # "Could not load 'nova'" etc.
    config = json.loads(sys.argv[1])
    out = {"hashable_before": hasattr(collections, "Hashable")}

    # 1. congress/dse2/dse_node.py:511-513, byte for byte
    import stevedore
    mgr = stevedore.extension.ExtensionManager(
        namespace='congress.datasource.drivers',
        invoke_on_load=False)
    ext = mgr['heatplug']
    out["plugin"] = ext.plugin.__module__ + ":" + ext.plugin.__name__
    out["hashable_after"] = hasattr(collections, "Hashable")
    import eventlet.patcher
    out["monkey_patched"] = eventlet.patcher.is_monkey_patched("socket")

    # 2. the server's own DseNode.load_drivers / validate / create path
    from heatplug.congress import _compat
    _compat.init_config()                 # what congress-server parses
    from congress.dse2 import dse_node
    dse_node.DseNode.load_drivers()
    out["info"] = dse_node.DseNode.get_driver_info("heatplug")
    out["schema_tables"] = sorted(
        dse_node.DseNode.get_driver_schema("heatplug"))
    class BareNode(dse_node.DseNode):
        def __init__(self):                   # no bus, no database
            pass

        def __del__(self):
            pass

    node = BareNode()
    req = {"id": "8f1b2ae4-5a47-4a4e-9d39-2f2f5cf1b5a1", "name": "heatplug",
           "driver": "heatplug", "description": "Heat through heatplug",
           "config": config, "enabled": True}
    node.validate_create_datasource(req)
    service = node.create_datasource_service(req)
    out["class"] = type(service).__module__ + ":" + type(service).__name__
    out["ds_id"] = service.ds_id
    out["name"] = service.name

    # 3. one update against the real Heat
    started = time.monotonic()
    service.update_from_datasource()
    out["seconds"] = time.monotonic() - started
    out["errors"] = service.last_result.errors
    out["requests"] = service.last_result.stats["requests"]
    out["state"] = {t: sorted([list(r) for r in rows], key=repr)
                    for t, rows in service.state.items()}
    print(json.dumps(out))
""")


def test_congress_loads_creates_and_polls_heatplug(local_heat, heat,
                                                   population, tmp_path):
    """The whole Congress path, in a child interpreter, on the real Heat."""
    config = {"endpoint": local_heat.endpoint, "poll_time": "30",
              "lazy_tables": [], "disabled_plugins": "example_counts"}
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))  # stevedore's cache
    proc = subprocess.run(
        [sys.executable, "-c", _LOADER, json.dumps(config)], env=env,
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])

    assert out["plugin"] == ENTRY_POINT == out["class"]
    # heatplug applied the shims itself, before importing Congress
    assert out["hashable_before"] is False and out["hashable_after"] is True
    assert out["monkey_patched"] is True        # as in congress-server
    assert out["info"]["id"] == "heatplug"
    assert out["info"]["secret"] == ["password"]
    assert "example_stack_counts" in out["schema_tables"]   # third party
    assert out["name"] == "heatplug"
    assert out["ds_id"] == "8f1b2ae4-5a47-4a4e-9d39-2f2f5cf1b5a1"

    assert out["errors"] == {}
    state = {t: {tuple(r) for r in rows} for t, rows in out["state"].items()}
    assert "example_stack_counts" not in state           # disabled
    stacks = heat.stacks.list(show_nested=True)
    assert {(r[0], r[1], r[6]) for r in state["stacks"]} == {
        (s.id, s.stack_name, s.stack_status) for s in stacks}
    assert {r[0] for r in state["software_deployments"]} == {
        d.id for d in heat.software_deployments.list()}


def test_congress_validates_the_config_dict():
    """Congress's own validate_create_datasource with heatplug's info."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _compat.init_config()
        from congress.dse2 import dse_node

    with heatplug_node(dse_node) as node:

        def req(config):
            return {"name": "heatplug", "driver": "heatplug",
                    "config": config}

        everything = {key: "x" for key in hp_driver.CONFIG_HELP}
        assert node.validate_create_datasource(req(everything))["id"] == \
            "heatplug"
        assert node.validate_create_datasource(req({"endpoint": "x"}))
        with pytest.raises(congress_exc.InvalidDriverOption):
            node.validate_create_datasource(req({"endpoint": "x",
                                                 "tenant": "x"}))
        # Congress masks the secret keys when it lists datasources
        assert dse_node.DseNode.get_driver_info("heatplug")["secret"] == [
            "password"]


def test_datasource_info():
    info = hp_driver.HeatplugDriver.get_datasource_info()
    assert info["id"] == "heatplug"
    assert info["secret"] == ["password"]
    assert set(info["config"]) == {
        "auth_url", "username", "password", "project_name", "tenant_name",
        "user_domain_name", "project_domain_name", "region", "endpoint",
        "interface", "cafile", "certfile", "keyfile", "insecure", "timeout",
        "poll_time", "lazy_tables", "enabled_plugins", "disabled_plugins",
        "max_workers", "full_refresh_every", "changed_stacks_only",
        "event_details", "stall_timeout", "write_actions_enabled",
        "write_actions_allowed"}
    from congress.datasources import constants
    assert set(info["config"].values()) == {constants.OPTIONAL}
    assert info["description"]


# --------------------------------------------------------------------------
# schema
# --------------------------------------------------------------------------

def _declared():
    """{table: Table} of every installed plugin, from heatplug itself."""
    plugins = manager.build_plugin_manager(opts.make_conf())
    return {t.name: t for ts in plugins.tables().values() for t in ts}


def test_class_schema_is_every_installed_plugin_in_congress_format():
    declared = _declared()
    schema = hp_driver.HeatplugDriver.get_schema()
    assert set(schema) == set(declared)
    assert "example_stack_counts" in schema            # a third party's
    for name, table in declared.items():
        assert schema[name] == tuple(
            {"name": c.name, "desc": c.description} for c in table.columns)
    assert hp_driver.HeatplugDriver.get_tablenames() == set(declared)
    assert hp_driver.HeatplugDriver.get_tablename("stacks") == "stacks"


def test_instance_schema_reflects_the_enabled_plugins():
    d = make_driver(closed_endpoint(), enabled_plugins="stacks,resources")
    assert set(d.get_schema()) == {
        "stacks", "stacks_links", "stacks_tags", "resources",
        "resources_required_by", "resources_links", "resources_attributes",
        "resources_metadata"}
    assert d.get_tablenames() == set(d.get_schema())
    assert d.get_tablename("events") is None
    assert set(d._table_deps) == set(d.get_schema())   # all registered
    assert d.state == {}                 # none read yet: none in state
    assert d.get_column_map("stacks")["stack_name"] == 1

    d = make_driver(closed_endpoint(),
                    disabled_plugins=["events", "example_counts"])
    tables = set(d.get_schema())
    assert "stacks" in tables and "example_stack_counts" not in tables
    assert not {t for t in tables if t.startswith("events")}

    d = make_driver(closed_endpoint())
    assert "example_stack_counts" in d.get_schema()    # third party, enabled


# --------------------------------------------------------------------------
# the config dict
# --------------------------------------------------------------------------

def test_password_config_maps_to_keystoneauth_options():
    d = hp_driver.HeatplugDriver(name="hp", args={
        "auth_url": "https://keystone.example:5000/v3", "username": "congress",
        "password": "pw-9Xq", "tenant_name": "service", "region": "RegionTwo",
        "endpoint": "https://heat.example:8004/v1/p1", "interface": "internal",
        "cafile": "/etc/ssl/ca.pem", "insecure": "true", "timeout": "30",
        "max_workers": "4", "stall_timeout": "120", "poll_time": "15",
        "full_refresh_every": "10", "changed_stacks_only": "true",
        "event_details": "false", "ds_id": "x"})
    heat = d.conf.heat
    assert heat.auth_type == "password"
    assert (heat.auth_url, heat.username, heat.password, heat.project_name,
            heat.user_domain_name, heat.project_domain_name) == (
        "https://keystone.example:5000/v3", "congress", "pw-9Xq", "service",
        "Default", "Default")
    assert heat.endpoint_override == "https://heat.example:8004/v1/p1"
    assert heat.region_name == "RegionTwo"
    assert heat.valid_interfaces == ["internal"]
    assert heat.cafile == "/etc/ssl/ca.pem" and heat.insecure is True
    assert heat.timeout == 30 and d.conf.heatplug.max_workers == 4
    assert d.conf.heatplug.stall_timeout == 120
    assert d.conf.heatplug.full_refresh_every == 10
    assert d.conf.heatplug.changed_stacks_only is True
    assert d.conf.heatplug.event_details is False
    assert d.poll_time == 15
    auth = ks_loading.load_auth_from_conf_options(d.conf, "heat")
    assert type(auth).__name__ == "Password"
    assert auth.auth_url == "https://keystone.example:5000/v3"


def test_noauth_config():
    d = make_driver("http://127.0.0.1:1/v1/admin")
    assert d.conf.heat.auth_type == "none"
    assert d.conf.heat.endpoint == "http://127.0.0.1:1/v1/admin"
    assert d.conf.heat.endpoint_override == "http://127.0.0.1:1/v1/admin"
    assert d.poll_time == 0 and d.ds_id


@pytest.mark.parametrize("args, message", [
    ({}, "needs auth_url"),
    ({"auth_url": "http://k/v3", "username": "u"},
     "needs: password, project_name"),
    ({"endpoint": "http://h", "tenant": "x"}, "unknown heatplug datasource "
                                              "option(s): tenant"),
    ({"endpoint": "http://h", "enabled_plugins": "nope"},
     "unknown heatplug plugin(s) nope"),
    ({"endpoint": "http://h", "insecure": "maybe"},
     "invalid value 'maybe' for insecure"),
    ({"endpoint": "http://h", "lazy_tables": 3}, "lazy_tables must be"),
])
def test_config_errors(args, message):
    with pytest.raises(errors.ConfigError, match=message.replace("(", r"\(")
                       .replace(")", r"\)")):
        hp_driver.HeatplugDriver(name="hp", args=args)


def test_bad_lazy_table_is_congress_bad_request():
    # Congress's validate_lazy_tables, which fails with AttributeError on
    # its own drivers (it runs before self.name is set).
    with pytest.raises(congress_exc.BadRequest, match="Invalid lazy tables"):
        make_driver(closed_endpoint(), lazy_tables=["no_such_table"])


# --------------------------------------------------------------------------
# the real Heat: update_from_datasource
# --------------------------------------------------------------------------

def test_update_from_datasource_matches_direct_reads(local_heat, heat,
                                                     population):
    d = make_driver(local_heat.endpoint)
    d.update_from_datasource()
    assert d.last_result.errors == {}

    stacks = list(heat.stacks.list(show_nested=True))
    assert project(d, "stacks", "id", "stack_name", "stack_status",
                   "parent") == {
        (s.id, s.stack_name, s.stack_status, getattr(s, "parent", None))
        for s in stacks}
    assert ("pop-fails", "CREATE_FAILED") in project(
        d, "stacks", "stack_name", "stack_status")
    assert project(d, "resources", "stack_id", "resource_name",
                   "resource_type", "resource_status") == {
        (s.id, r.resource_name, r.resource_type, r.resource_status)
        for s in stacks
        for r in heat.resources.list("%s/%s" % (s.stack_name, s.id))}
    assert project(d, "software_deployments", "id", "config_id",
                   "server_id", "status") == {
        (x.id, x.config_id, x.server_id, x.status)
        for x in heat.software_deployments.list()}
    assert project(d, "stacks_tags", "stack_id", "tag") == {
        (population["pop-simple"]["id"], "policy"),
        (population["pop-simple"]["id"], "demo")}

    # every table, row for row, is what `heatplug poll` prints
    data = fconf.poll_json(local_heat)
    assert set(d.state) == set(data["tables"])
    for table, rows in d.state.items():
        assert rows == rows_of(data["tables"][table]), table
    # rows are hashable tuples, None kept as None
    assert all(isinstance(r, tuple) for rows in d.state.values()
               for r in rows)
    assert None in {r[column(d, "stacks", "parent")]
                    for r in d.state["stacks"]}

    stats = d.last_result.stats
    assert stats["requests"] > 0 and stats["families"]["stacks"]["rows"] > 0


class ListInARow:
    """A translate wrapper that puts a list into a row, as a careless
    third-party plugin might."""

    @heatplug.hookimpl(wrapper=True)
    def heatplug_translate(self, raw):
        results = yield                  # one per implementation
        for tables in results:
            if "stacks_tags" in tables:
                tables["stacks_tags"] = [("s-1", ["a", "b"]), ("s-2", "c")]
        return results


def test_unhashable_values_become_json_strings(local_heat, population):
    d = make_driver(local_heat.endpoint, enabled_plugins="stacks")
    d.plugins.register(ListInARow(), name="list-in-a-row")
    d.update_from_datasource()
    assert d.state["stacks_tags"] == {("s-1", '["a", "b"]'), ("s-2", "c")}
    assert d.state["stacks"]


def _poll_with_node(d):
    d.node = d.node or FakeNode()
    d.poll()
    return d.node


class FetchFault:
    """A heatplug plugin (a fetch wrapper) that makes chosen families fail."""

    def __init__(self):
        self.failing = set()

    @heatplug.hookimpl(wrapper=True)
    def heatplug_fetch(self, ctx):
        if ctx.name in self.failing:
            raise RuntimeError("injected fault in %s" % ctx.name)
        return (yield)


NONE_TEMPLATE = {"heat_template_version": "2018-08-31",
                 "resources": {"nothing": {"type": "OS::Heat::None"}}}


def test_failing_family_keeps_last_good_rows_and_shows_in_status(
        local_heat, heat, population):
    d = make_driver(local_heat.endpoint)
    fault = FetchFault()
    d.plugins.register(fault, name="test-fault")
    node = _poll_with_node(d)
    assert d.last_error is None
    status = d.get_status()
    assert status["last_error"] == "None" and status["stale_tables"] == []
    assert status["number_of_updates"] == "1"
    good_deployments = set(d.state["software_deployments"])
    published_first = {table for _, table, *_ in node.published}
    assert {"stacks", "software_deployments"} <= published_first

    # Heat changes; then software_deployments fails on the next poll
    config = heat.software_configs.create(name="congress-stale",
                                          group="script", config="true")
    dep = heat.software_deployments.create(
        config_id=config.id, server_id=str(uuid.uuid4()), action="CREATE",
        status="COMPLETE", status_reason="", output_values={})
    stack = fconf.create_stack(
        heat, "congress-stale-%s" % uuid.uuid4().hex[:6], NONE_TEMPLATE)
    try:
        fault.failing = {"software_deployments"}
        node.published.clear()
        d.poll()

        # the other families were updated and published to the bus ...
        assert stack["id"] in {r[0] for r in d.state["stacks"]}
        assert "stacks" in {table for _, table, *_ in node.published}
        # ... the failing one kept its last good rows
        assert d.state["software_deployments"] == good_deployments
        assert dep.id not in {r[0] for r in d.state["software_deployments"]}
        assert "software_deployments" not in {
            table for _, table, *_ in node.published}

        assert isinstance(d.last_error, hp_driver.FamilyErrors)
        assert set(d.last_error.errors) == {"software_deployments"}
        status = d.get_status()
        assert "software_deployments: fetch software_deployments: " \
               "RuntimeError: injected fault in software_deployments" in \
               status["last_error"]
        assert status["number_of_updates"] == "2"
        stale = ["software_deployments", "software_deployments_input_values",
                 "software_deployments_output_values"]
        assert status["stale_tables"] == stale
        assert status["plugin_errors"] == {
            "software_deployments": "fetch software_deployments: "
            "RuntimeError: injected fault in software_deployments"}
        poll_stats = status["poll_stats"]
        assert poll_stats["poll"] == 2
        assert poll_stats["requests"] > 0 and poll_stats["bytes"] > 0
        assert poll_stats["seconds"] > 0
        fams = poll_stats["families"]
        assert fams["software_deployments"]["stale"] is True
        assert fams["stacks"]["stale"] is False
        assert set(fams["stacks"]) == {"requests", "bytes", "seconds", "rows",
                                       "skipped", "stale"}
        # (a steady poll of the resources family may need no request of
        # its own; events lists every root stack's events every poll)
        assert fams["events"]["requests"] > 0
        assert fams["stacks"]["rows"] == len(d.state["stacks"]) + len(
            d.state["stacks_links"]) + len(d.state["stacks_tags"])
        json.dumps(status)                         # what the API returns

        # the family recovers on the next poll
        fault.failing = set()
        d.poll()
        assert d.last_error is None
        assert dep.id in {r[0] for r in d.state["software_deployments"]}
        assert d.get_status()["stale_tables"] == []
    finally:
        heat.software_deployments.delete(dep.id)
        heat.software_configs.delete(config.id)
        heat.stacks.delete("%s/%s" % (stack["stack_name"], stack["id"]))


def test_heat_unreachable_keeps_last_good_rows(local_heat, heat, population):
    d = make_driver(local_heat.endpoint, enabled_plugins="stacks")
    _poll_with_node(d)
    good = set(d.state["stacks"])
    assert good and d.last_error is None
    # the same driver, its Heat client now pointed at a closed port
    client = d.poller.connection().heat.http_client    # a keystoneauth Adapter
    client.endpoint_override = closed_endpoint()
    client.connect_retries = 0
    d.poll()
    assert d.state["stacks"] == good
    assert "stacks: fetch stacks: ConnectFailure" in str(d.last_error)
    assert d.get_status()["stale_tables"] == ["stacks", "stacks_links",
                                              "stacks_tags"]


DEPLOYMENT_TABLES = ["software_deployments",
                     "software_deployments_input_values",
                     "software_deployments_output_values"]


def record_publish(d):
    """``{table: rows}`` of every ``publish()`` call Congress's ``poll()``
    makes, kept in a list per poll (cleared by the caller).

    The node alone would not show an empty table: DataService's
    ``publish()`` sends only a change, and an empty table never published
    is none.
    """
    calls = {}
    publish = d.publish

    def recording(table, data, use_snapshot=False):
        calls[table] = set(data)
        return publish(table, data, use_snapshot=use_snapshot)

    d.publish = recording
    return calls


def test_a_family_failing_from_the_first_poll_is_not_published(
        local_heat, heat, population):
    """Its tables were never read: not in ``state``, so Congress's
    ``poll()`` does not publish them and the row API does not answer "no
    rows"; the status says so; once the family succeeds they are
    published; a later failure keeps the rows, as usual."""
    d = make_driver(local_heat.endpoint)
    assert d.state == {}                   # nothing read yet
    fault = FetchFault()
    fault.failing = {"software_deployments"}
    d.plugins.register(fault, name="test-fault")
    published = record_publish(d)
    node = _poll_with_node(d)

    # the other families are in state and published ...
    assert d.state["stacks"] and d.state["software_configs"]
    assert published["stacks"] == d.state["stacks"]
    assert "software_configs" in {table for _, table, *_ in node.published}
    assert set(published) == set(d.state) == \
        set(d.table_family) - set(DEPLOYMENT_TABLES)
    # ... the failing one's tables are neither
    assert not set(DEPLOYMENT_TABLES) & set(d.state)
    assert not set(DEPLOYMENT_TABLES) & set(d.prior_state)
    with pytest.raises(congress_exc.NotFound, match="never been read: "
                       "plugin software_deployments failed"):
        d.get_row_data("software_deployments")
    assert d.get_row_data("stacks")

    status = d.get_status()
    assert status["unknown_tables"] == status["stale_tables"] == \
        DEPLOYMENT_TABLES
    assert status["poll_stats"]["families"]["software_deployments"][
        "stale"] is True
    assert isinstance(d.last_error, hp_driver.FamilyErrors)
    assert d.last_error.unknown_tables == DEPLOYMENT_TABLES
    assert "(stale tables, which keep their last good rows: none; tables " \
           "never read, not published: %s)" % ", ".join(DEPLOYMENT_TABLES) \
        in status["last_error"]
    json.dumps(status)

    # still failing: still not published
    published.clear()
    d.poll()
    assert not set(DEPLOYMENT_TABLES) & (set(d.state) | set(published))
    assert d.get_status()["unknown_tables"] == DEPLOYMENT_TABLES

    # the family succeeds: its tables are published with their rows
    fault.failing = set()
    published.clear()
    node.published.clear()
    d.poll()
    assert d.last_error is None
    status = d.get_status()
    assert status["unknown_tables"] == status["stale_tables"] == []
    deployments = {dep.id for dep in heat.software_deployments.list()}
    assert deployments, "the population has software deployments"
    assert {r[0] for r in d.state["software_deployments"]} == deployments
    for table in DEPLOYMENT_TABLES:
        assert published[table] == d.state[table]
    sent = {table: data for _, table, data, *_ in node.published}
    assert set(sent["software_deployments"][0]) == \
        d.state["software_deployments"]           # (to_add, to_del)
    assert d.get_row_data("software_deployments")

    # a failure now keeps the last good rows: stale, not unknown
    good = set(d.state["software_deployments"])
    fault.failing = {"software_deployments"}
    published.clear()
    d.poll()
    assert d.state["software_deployments"] == published[
        "software_deployments"] == good
    status = d.get_status()
    assert status["stale_tables"] == DEPLOYMENT_TABLES
    assert status["unknown_tables"] == []
    assert "never read" not in status["last_error"]


def test_heat_down_from_the_start_publishes_nothing(local_heat, population):
    """As Congress does for a driver whose polls fail: nothing published;
    every table once Heat answers."""
    d = make_driver(local_heat.endpoint,
                    enabled_plugins="stacks,software_configs")
    client = d.poller.connection().heat.http_client    # a keystoneauth Adapter
    endpoint = client.endpoint_override
    client.endpoint_override = closed_endpoint()
    client.connect_retries = 0
    published = record_publish(d)
    node = _poll_with_node(d)
    tables = sorted(d.table_family)
    assert d.state == {} and published == {} and node.published == []
    status = d.get_status()
    assert status["unknown_tables"] == status["stale_tables"] == tables
    assert "ConnectFailure" in status["last_error"]
    assert "tables never read, not published: " in status["last_error"]
    with pytest.raises(congress_exc.NotFound, match="plugin stacks failed"):
        d.get_row_data("stacks")

    client.endpoint_override = endpoint
    d.poll()
    assert d.last_error is None and d.get_status()["unknown_tables"] == []
    assert set(d.state) == set(published) == set(tables)
    assert d.state["stacks"] and published["stacks"] == d.state["stacks"]


def test_a_lazy_table_never_read_stays_unpublished(local_heat, population):
    """A lazy table activated while its family fails is not put in state
    (Congress's snapshot of a table not in state is empty, as before any
    poll); it is published once the family succeeds."""
    configs = ["software_configs", "software_configs_inputs",
               "software_configs_options", "software_configs_outputs"]
    d = make_driver(local_heat.endpoint, lazy_tables=",".join(configs),
                    enabled_plugins="stacks,software_configs")
    fault = FetchFault()
    fault.failing = {"software_configs"}
    d.plugins.register(fault, name="test-fault")
    published = record_publish(d)
    _poll_with_node(d)
    assert d.lazy_plugins == ["software_configs"]

    assert d.get_snapshot("software_configs") == set()   # activates it
    assert d.lazy_plugins == []
    assert d.last_result.stats["unknown_tables"] == configs
    assert "software_configs" not in d.state
    with pytest.raises(congress_exc.NotFound, match="never been read"):
        d.get_row_data("software_configs")
    with pytest.raises(congress_exc.LazyTable):      # not activated
        d.get_row_data("software_configs_inputs")
    published.clear()
    d.poll()
    assert "software_configs" not in set(d.state) | set(published)

    fault.failing = set()
    d.poll()
    assert d.state["software_configs"]
    assert published["software_configs"] == d.state["software_configs"]
    assert "software_configs_inputs" not in d.state   # still lazy


def test_poll_modes_from_the_driver_config(local_heat, population):
    """changed_stacks_only and event_details reach the poller: with
    nothing changed, a second poll makes no per-root-stack call, and no
    event detail is read at all."""
    families = "stacks,resources,events"
    default = make_driver(local_heat.endpoint, enabled_plugins=families)
    lean = make_driver(local_heat.endpoint, enabled_plugins=families,
                       changed_stacks_only="true", event_details="false",
                       full_refresh_every="0")
    polls = {}
    for name, d in (("default", default), ("lean", lean)):
        _poll_with_node(d)
        first = d.get_status()["poll_stats"]
        _poll_with_node(d)
        polls[name] = (first, d.get_status()["poll_stats"])
        assert d.last_error is None
        assert set(d.state["events"]) and set(d.state["resources"])
    (d_cold, d_steady), (l_cold, l_steady) = polls["default"], polls["lean"]
    assert d_steady["full_refresh"] is l_steady["full_refresh"] is False
    fam = "families"
    # default: each poll lists every root stack's resources and events
    assert d_steady[fam]["events"]["requests"] > 0
    assert d_steady["shared_requests"] > 2
    # changed_stacks_only, nothing changed: no per-root-stack call at all
    assert l_steady[fam]["events"]["requests"] == 0
    assert l_steady[fam]["resources"]["requests"] == 0
    assert l_steady["requests"] == l_steady["shared_requests"] <= 2
    # event_details off: the cold poll reads the event lists only
    assert 0 < l_cold[fam]["events"]["requests"] < \
        d_cold[fam]["events"]["requests"]
    assert not lean.state["events_resource_properties"]
    assert default.state["events_resource_properties"]
    # the same events (without their detail columns)
    assert {r[0] for r in lean.state["events"]} == \
        {r[0] for r in default.state["events"]}


# --------------------------------------------------------------------------
# lazy_tables
# --------------------------------------------------------------------------

EVENT_TABLES = ["events", "events_links", "events_resource_properties"]


def test_lazy_tables_turn_whole_families_off(local_heat, heat, population):
    d = make_driver(local_heat.endpoint, lazy_tables=",".join(
        EVENT_TABLES + ["stacks_tags"]))
    # the events family does not run at all; stacks runs, stacks_tags is
    # fetched but not published
    assert d.lazy_plugins == ["events"]
    assert "events" in d.conf.heatplug.disabled_plugins
    assert "events" not in d.plugins.names()
    assert "events" in d.get_schema()               # still in the schema
    d.update_from_datasource()
    assert "events" not in d.last_result.stats["families"]
    assert not set(EVENT_TABLES + ["stacks_tags"]) & set(d.state)
    with pytest.raises(congress_exc.LazyTable):
        d.get_row_data("events")
    with pytest.raises(congress_exc.LazyTable):
        d.get_row_data("stacks_tags")
    assert d.get_status()["lazy_plugins"] == ["events"]

    # a subscription activates a lazy table: the family runs again
    events = d.get_snapshot("events")
    assert d.lazy_plugins == [] and "events" in d.plugins.names()
    assert "events" not in d.conf.heatplug.disabled_plugins
    stack_ids = {s.id for s in heat.stacks.list(show_nested=True)}
    assert events and {r[column(d, "events", "stack_id")]
                       for r in events} <= stack_ids
    assert population["pop-fails"]["id"] in {
        r[column(d, "events", "stack_id")] for r in events}
    # only the activated table is published; its siblings stay lazy
    assert "events_links" not in d.state
    d.update_from_datasource()
    assert d.last_result.stats["families"]["events"]["rows"] > 0
    assert d.state["events"] and "events_links" not in d.state

    # a lazy table of a running family is served from the last poll
    tags = d.get_snapshot("stacks_tags")
    assert tags == {(population["pop-simple"]["id"], "policy"),
                    (population["pop-simple"]["id"], "demo")}


# --------------------------------------------------------------------------
# poll_time and request_refresh, through Congress's own poll loop
# --------------------------------------------------------------------------

def test_poll_loop_poll_time_and_request_refresh(local_heat, population):
    import eventlet

    d = make_driver(local_heat.endpoint, enabled_plugins="stacks",
                    poll_time="1")
    assert d.poll_time == 1 and d.initialized
    d.node = FakeNode()
    d._running = True                           # what DataService.start sets
    d.worker_greenthread = eventlet.spawn(d.poll_loop, d.poll_time)
    try:
        for _ in range(60):
            eventlet.sleep(0.1)
            if d.number_of_updates >= 3:
                break
        assert d.number_of_updates >= 3         # first at once, then every 1 s
    finally:
        d._running = False
        d.stop_polling_thread()

    d = make_driver(local_heat.endpoint, enabled_plugins="stacks")
    assert d.poll_time == 0                     # only on request_refresh
    d.node = FakeNode()
    d._running = True
    d.worker_greenthread = eventlet.spawn(d.poll_loop, d.poll_time)
    try:
        eventlet.sleep(0.3)
        assert d.number_of_updates == 0
        for expected in (1, 2):
            d.request_refresh()
            for _ in range(100):
                eventlet.sleep(0.05)
                if d.number_of_updates == expected:
                    break
            assert d.number_of_updates == expected
            assert d.last_error is None and d.state["stacks"]
    finally:
        d._running = False
        d.stop_polling_thread()


# --------------------------------------------------------------------------
# execute: only the reserved write-action hook
# --------------------------------------------------------------------------

def test_execute_is_refused_without_a_write_plugin():
    d = make_driver(closed_endpoint())
    args = {"positional": ["pop-fails"], "named": {}}
    with pytest.raises(hp_driver.WriteActionRefused,
                       match="datasource heatplug cannot execute "
                             "stacks.delete: no write action available: "
                             r"write actions are disabled"):
        d.execute("stacks.delete", args)
    assert d.get_actions() == {"results": []}

    d = make_driver(closed_endpoint(), write_actions_enabled="true",
                    write_actions_allowed="stacks.abandon")
    with pytest.raises(congress_exc.CongressException,
                       match="'stacks.delete' is not in"):
        d.execute("stacks.delete", args)

    d = make_driver(closed_endpoint(), write_actions_enabled="true",
                    write_actions_allowed=["stacks.delete"])
    with pytest.raises(errors.WriteActionUnavailable,
                       match="no plugin implements 'stacks.delete'"):
        d.execute("stacks.delete", args)
    # nothing falls through to heatclient: there is no stacks.delete client
    # call behind the refusal (the Heat port is closed and nothing was sent)
    assert d.poller.connection().counters.snapshot() == {}


def test_execute_reaches_a_write_plugin():
    calls = []

    class Writer:
        @heatplug.hookimpl
        def heatplug_write_action(self, conn, action, args):
            calls.append((action, args))
            return {"done": action}

    d = make_driver(closed_endpoint(), write_actions_enabled="true",
                    write_actions_allowed=["stacks.check"])
    d.plugins.register(Writer(), name="writer")
    assert d.execute("stacks.check", {"positional": ["s1"]}) == {
        "done": "stacks.check"}
    assert calls == [("stacks.check", {"positional": ["s1"], "named": {}})]


# --------------------------------------------------------------------------
# secrets
# --------------------------------------------------------------------------

PASSWORD = "canary-congress-pw-4Lr8"


class _Keystone(BaseHTTPRequestHandler):
    """A Keystone that refuses every token request (401)."""

    bodies = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).bodies.append(body)
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        answer = json.dumps({"error": {"code": 401, "title": "Unauthorized",
                                       "message": "The request you have "
                                       "made requires authentication."}})
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer.encode())

    def do_GET(self):
        self.send_response(300)
        answer = json.dumps({"versions": {"values": [{
            "id": "v3.14", "status": "stable", "links": [{
                "rel": "self", "href": self.server.url + "/v3/"}]}]}})
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def keystone():
    _Keystone.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Keystone)
    server.url = "http://127.0.0.1:%d" % server.server_address[1]
    thread = threading.Thread(target=server.serve_forever,
                              kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.url
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_password_never_in_status_logs_or_errors(keystone, caplog):
    caplog.set_level(logging.DEBUG)
    d = hp_driver.HeatplugDriver(name="hp", args={
        "auth_url": keystone + "/v3", "username": "congress",
        "password": PASSWORD, "project_name": "service", "poll_time": "0",
        "enabled_plugins": "stacks", "ds_id": "x"})
    d.node = FakeNode()
    d.poll()
    # the password really went to Keystone, which refused it
    assert any(PASSWORD.encode() in b for b in _Keystone.bodies)
    assert "stacks: fetch stacks: Unauthorized" in str(d.last_error)
    status = json.dumps(d.get_status())
    with pytest.raises(congress_exc.CongressException) as refused:
        d.execute("stacks.delete", {})
    for text in (status, str(d.last_error), str(refused.value),
                 caplog.text, repr(d.last_result.errors)):
        assert PASSWORD not in text
    assert "Unauthorized" in status or "401" in status


def test_scrub_hides_a_password_that_reaches_an_error(keystone):
    d = hp_driver.HeatplugDriver(name="hp", args={
        "auth_url": keystone + "/v3", "username": "congress",
        "password": PASSWORD, "project_name": "service", "poll_time": "0",
        "enabled_plugins": "stacks", "ds_id": "x"})
    d.last_error = RuntimeError("oops %s" % PASSWORD)
    assert d.get_status()["last_error"] == "oops <hidden>"
    assert redact.REDACTED not in d._scrub("nothing to hide")
