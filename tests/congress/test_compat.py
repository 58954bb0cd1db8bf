"""Congress 11.0.0 used in-process on Python 3.10+ through heatplug's shims.

Needs only ``openstack-congress==11.0.0`` (installed ``--no-deps`` plus the
few runtime deps listed in docs/dev/congress-driver-contract.md) and
``heatplug.congress._compat``; skipped when Congress is not installed.
"""

import collections
import collections.abc
import importlib.util
import inspect
import json
import pathlib
import subprocess
import sys
import textwrap
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest

_ROOT = pathlib.Path(__file__).resolve().parents[2]
if importlib.util.find_spec("heatplug") is None:  # plain `pytest`, no install
    sys.path.insert(0, str(_ROOT))

from heatplug.congress import _compat  # noqa: E402

_compat.apply()
if importlib.util.find_spec("congress") is None:
    pytest.skip("openstack-congress is not installed", allow_module_level=True)

with warnings.catch_warnings():
    # eventlet, webob, oslo.utils and oslo.service warn about deprecations
    # when Congress imports them; not ours to fix.
    warnings.simplefilter("ignore")
    from congress.datasources import datasource_driver
    from congress.datasources import datasource_utils
    from congress.datasources import heatv1_driver
    from congress import exception as congress_exc

    _compat.init_config()
    # imported for its side effects, under this warning filter and after
    # init_config() (it reads cfg.CONF at import time)
    import congress.policy_engines.agnostic  # noqa: F401

try:
    from tests.congress.conftest import FakeNode
    from tests.congress.datalog import evaluate, make_runtime, select
except ImportError:  # tests/congress is on sys.path (pytest rootdir insert)
    from conftest import FakeNode
    from datalog import evaluate, make_runtime, select

pytestmark = pytest.mark.congress


# --------------------------------------------------------------------------
# the shims
# --------------------------------------------------------------------------

def test_apply_is_idempotent_and_installs_the_shims():
    assert _compat.apply() == []
    assert collections.Hashable is collections.abc.Hashable
    assert collections.MutableSet is collections.abc.MutableSet
    assert collections.Mapping is collections.abc.Mapping
    assert collections.Sequence is collections.abc.Sequence
    assert collections.Iterable is collections.abc.Iterable

    def f(a, b=2, *rest, **kw):
        pass

    spec = inspect.getargspec(f)
    assert spec == (["a", "b"], "rest", "kw", (2,))
    assert spec.keywords == "kw"


def test_apply_touches_only_what_is_missing(monkeypatch):
    sentinel = object()
    monkeypatch.setattr(collections, "Sized", sentinel, raising=False)
    monkeypatch.delattr(collections, "Container", raising=False)
    monkeypatch.setattr(inspect, "getargspec", sentinel, raising=False)
    assert _compat.apply() == ["collections.Container"]
    assert collections.Sized is sentinel
    assert inspect.getargspec is sentinel
    assert collections.Container is collections.abc.Container


@pytest.mark.skipif(sys.version_info < (3, 10),
                    reason="the aliases still exist before Python 3.10")
def test_congress_breaks_without_the_shims():
    """The failures the shims fix (fresh interpreter, no apply())."""
    script = textwrap.dedent("""
        import warnings
        warnings.simplefilter("ignore")
        from congress.datasources import datasource_driver as dd
        try:
            dd.DataSourceDriver.convert_objs(
                [{"a": 1}],
                {"translation-type": "HDICT", "table-name": "t",
                 "selector-type": "DICT_SELECTOR",
                 "field-translators": (
                     {"fieldname": "a",
                      "translator": {"translation-type": "VALUE"}},)})
        except AttributeError as e:
            print("convert:", e)
        try:
            import congress.datalog.compile
        except AttributeError as e:
            print("datalog:", e)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True,
                         text=True, timeout=120).stdout
    assert "convert: module 'collections' has no attribute 'Hashable'" in out
    assert "datalog: module 'collections' has no attribute 'MutableSet'" in out


# --------------------------------------------------------------------------
# a PollingDataSourceDriver subclass, in-process, without server or bus
# --------------------------------------------------------------------------

class TinyDriver(datasource_driver.PollingDataSourceDriver,
                 datasource_driver.ExecutionDriver):
    """The smallest polling driver: one table fed from ``self.rows``."""

    value_trans = {"translation-type": "VALUE"}
    stacks_translator = {
        "translation-type": "HDICT",
        "table-name": "stacks",
        "selector-type": "DICT_SELECTOR",
        "field-translators": (
            {"fieldname": "id", "translator": value_trans},
            {"fieldname": "stack_name", "translator": value_trans},
            {"fieldname": "stack_status", "translator": value_trans},
            {"fieldname": "tags", "translator": value_trans},
        ),
    }
    TRANSLATORS = [stacks_translator]

    def __init__(self, name="", args=None):
        super().__init__(name, args=args)
        datasource_driver.ExecutionDriver.__init__(self)
        self.rows = []
        self.initialize_update_methods()
        self._init_end_start_poll()

    @staticmethod
    def get_datasource_info():
        return {"id": "tiny", "description": "test driver",
                "config": {"poll_time": "(optional)",
                           "lazy_tables": "(optional)"},
                "secret": []}

    def initialize_update_methods(self):
        self.add_update_method(
            lambda: self._translate_stacks({"stacks": list(self.rows)}),
            self.stacks_translator)

    @datasource_utils.update_state_on_changed("stacks")
    def _translate_stacks(self, obj):
        return self.convert_objs(obj["stacks"], self.stacks_translator)


ROWS = [{"id": "id1", "stack_name": "s1", "stack_status": "CREATE_FAILED",
         "tags": ["a", "b"]},
        {"id": "id2", "stack_name": "s2", "stack_status": "CREATE_COMPLETE",
         "tags": None}]
STACKS = {("id1", "s1", "CREATE_FAILED", "['a', 'b']"),
          ("id2", "s2", "CREATE_COMPLETE", None)}


def test_driver_constructs_without_server_or_bus():
    d = TinyDriver(name="tiny", args={"poll_time": 0})
    assert d.initialized is True
    assert d.node is None and d._running is False
    assert d.worker_greenthread is None          # no poller: never start()ed
    assert d.poll_time == 0 and d.lazy_tables == []
    assert d.service_id == d.name == "tiny"
    # registering a translator creates its (empty) tables in state
    assert d.state == {"stacks": set()}
    assert d.last_error is None and d.number_of_updates == 0
    assert set(d.update_methods) == {"stacks"}
    assert d._table_deps == {"stacks": ["stacks"]}
    assert TinyDriver.get_schema() == {"stacks": (
        {"name": "id", "desc": None}, {"name": "stack_name", "desc": None},
        {"name": "stack_status", "desc": None}, {"name": "tags", "desc": None},
    )}
    assert d.get_tablenames() == {"stacks"}
    assert d.get_column_map("stacks") == {"id": 0, "stack_name": 1,
                                          "stack_status": 2, "tags": 3}


def test_update_from_datasource_fills_state():
    d = TinyDriver(name="tiny", args={})
    d.rows = ROWS
    d.update_from_datasource()
    # unhashable values (the list) become str() via collections.Hashable
    assert d.state == {"stacks": STACKS}
    assert d.get_snapshot("stacks") == STACKS
    # get_row_data (the API's rows) passes rows through tuple_to_congress
    assert {r["data"] for r in d.get_row_data("stacks")} == {
        ("id1", "s1", "CREATE_FAILED", "['a', 'b']"),
        ("id2", "s2", "CREATE_COMPLETE", "None")}
    assert d.number_of_updates == 0            # only poll() counts


def test_poll_without_bus_records_the_publish_error():
    d = TinyDriver(name="tiny", args={})
    d.rows = ROWS
    d.poll()
    assert d.state == {"stacks": STACKS}         # state was still updated
    assert isinstance(d.last_error, AttributeError)
    assert "publish_table_sequenced" in str(d.last_error)
    assert d.number_of_updates == 1 and d.last_updated_time is not None
    with pytest.raises(AttributeError):          # get_status needs the node
        d.get_status()


def test_poll_and_get_status_with_a_stub_node():
    d = TinyDriver(name="tiny", args={})
    d.node = FakeNode()
    d.rows = ROWS
    d.poll()
    assert d.last_error is None and d.number_of_updates == 1
    [(publisher, table, (to_add, to_del), is_snapshot, seqnum)] = \
        d.node.published
    assert (publisher, table, is_snapshot, seqnum) == ("tiny", "stacks",
                                                       False, 0)
    assert set(to_add) == STACKS and to_del == []

    d.poll()                                     # no change: nothing sent
    assert len(d.node.published) == 1 and d.number_of_updates == 2

    d.rows = ROWS[:1]
    d.poll()                                     # a delta is published
    assert d.node.published[-1][2] == [[], [("id2", "s2", "CREATE_COMPLETE",
                                             None)]]
    status = d.get_status()
    assert status == {"last_updated": str(d.last_updated_time),
                      "last_error": "None", "number_of_updates": "3",
                      "initialized": "True", "subscriptions": [],
                      "subscribers": []}


def test_poll_catches_datasource_exceptions():
    d = TinyDriver(name="tiny", args={})
    d.node = FakeNode()
    d.rows = ROWS
    d.poll()
    d.update_methods["stacks"] = mock.Mock(side_effect=RuntimeError("boom"))
    d.poll()
    assert isinstance(d.last_error, RuntimeError)
    assert d.get_status()["last_error"] == "boom"
    assert d.number_of_updates == 2
    assert d.state == {"stacks": STACKS}         # previous state is kept


def test_lazy_tables():
    d = TinyDriver(name="tiny", args={"lazy_tables": ["stacks"]})
    assert d._table_deps == {}                   # translator not registered
    assert d.get_tablenames() == {"stacks"}      # ...but still in the schema
    with pytest.raises(congress_exc.LazyTable):
        d.get_row_data("stacks")
    d.rows = ROWS
    assert d.get_snapshot("stacks") == STACKS    # registers and updates
    assert d._table_deps == {"stacks": ["stacks"]}


def test_request_refresh_queues_one_request():
    d = TinyDriver(name="tiny", args={})
    d.request_refresh()
    assert d.refresh_request_queue.qsize() == 1
    # A second call would block forever without the poller greenthread:
    # eventlet's Queue.put() blocks on a full queue instead of raising Full.


class FakeStacks:
    __module__ = "fakeclient.v1.stacks"

    def create(self, fields):
        """Create a stack.

        :param fields: the stack body
        """
        return fields


class FakeClient:
    __module__ = "fakeclient.v1.client"

    def __init__(self):
        self.stacks = FakeStacks()


def test_execution_driver_paths_that_use_getargspec():
    d = TinyDriver(name="tiny", args={})
    client = FakeClient()
    # datasource_utils.inspect_methods -> inspect.getargspec
    d.add_executable_client_methods(client, "fakeclient.v1.")
    assert d.get_actions() == {"results": [{
        "name": "stacks.create",
        "args": [{"name": "fields", "desc": "fields: the stack body"}],
        "description": "Create a stack. "}]}
    # ExecutionDriver._execute_api with structured args -> getargspec
    d.method_structured_args = {"stacks.create": {"named": frozenset(
        ["fields"])}}
    result = d._execute_api(client, "stacks.create",
                            {"positional": ['{"stack_name": "s1"}']})
    assert result == {"stack_name": "s1"}


# --------------------------------------------------------------------------
# how Congress's DseNode loads drivers (dse_node.py:511)
# --------------------------------------------------------------------------

def test_stevedore_loading_like_dse_node():
    """The exact DseNode.load_drivers() call, in a child interpreter.

    Loading the whole group imports ``congress.tests.fake_datasource``, and
    ``congress/tests/__init__.py`` runs ``eventlet.monkey_patch()``: the
    process that makes this call ends up monkey-patched.
    """
    script = textwrap.dedent("""
        import json, logging, sys, warnings
        warnings.simplefilter("ignore")
        logging.disable(logging.CRITICAL)   # "Could not load 'nova'" etc.
        sys.path.insert(0, %r)
        from heatplug.congress import _compat
        _compat.apply()
        import eventlet.patcher
        import stevedore
        mgr = stevedore.extension.ExtensionManager(
            namespace="congress.datasource.drivers", invoke_on_load=False)
        driver = mgr["heat"]
        info = driver.plugin.get_datasource_info()
        print(json.dumps({
            "plugin": driver.plugin.__module__ + ":" + driver.plugin.__name__,
            "info": info,
            "monkey_patched": eventlet.patcher.is_monkey_patched("socket"),
        }))
    """ % str(_ROOT))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True,
                          text=True, timeout=120)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["plugin"] == "congress.datasources.heatv1_driver:HeatV1Driver"
    info = out["info"]
    assert info["id"] == "heat" and info["secret"] == ["password"]
    assert {k for k, v in info["config"].items() if v == "required"} == {
        "auth_url", "username", "password", "project_name"}
    assert out["monkey_patched"] is True


# --------------------------------------------------------------------------
# Congress's own HeatV1Driver against a noauth endpoint
# --------------------------------------------------------------------------

class _StubHeat(BaseHTTPRequestHandler):
    """Canned answers for the four list calls HeatV1Driver makes."""

    seen = []
    STACK = {"id": "id1", "stack_name": "s1", "description": "d",
             "creation_time": "t0", "updated_time": None,
             "stack_status": "CREATE_FAILED", "stack_status_reason": "r",
             "stack_owner": None, "parent": None,
             "links": [{"href": "http://h/stacks/s1/id1", "rel": "self"}]}
    ROUTES = {
        "/v1/admin/stacks": {"stacks": [STACK]},
        "/v1/admin/software_deployments": {"software_deployments": []},
        "/v1/admin/stacks/id1/resources": {"resources": [{
            "physical_resource_id": "p1", "logical_resource_id": "r1",
            "resource_name": "r1", "resource_type": "OS::Heat::None",
            "creation_time": "t1", "updated_time": "t1",
            "resource_status": "CREATE_COMPLETE",
            "resource_status_reason": "", "links": []}]},
        "/v1/admin/stacks/id1/events": {"events": []},
    }

    def do_GET(self):
        path = self.path.split("?")[0]
        type(self).seen.append((path, self.headers.get("X-Auth-Token")))
        body = json.dumps(self.ROUTES.get(path, {})).encode()
        self.send_response(200 if path in self.ROUTES else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def stub_heat():
    _StubHeat.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StubHeat)
    thread = threading.Thread(target=server.serve_forever,
                              kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/v1/admin" % server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(5)


HEAT_ARGS = {"auth_url": "http://127.0.0.1:1/v3", "username": "admin",
             "password": "secret", "project_name": "admin", "poll_time": 0}


def test_heatv1_driver_constructor_authenticates():
    from keystoneauth1 import exceptions as ks_exc

    with pytest.raises(ks_exc.ConnectFailure):
        heatv1_driver.HeatV1Driver(name="heat", args=dict(HEAT_ARGS))


def noauth_session(creds, headers=None):
    """Stand-in for datasource_utils.get_keystone_session: no Keystone."""
    from keystoneauth1 import session, token_endpoint

    return session.Session(
        auth=token_endpoint.Token(creds["endpoint"], "noauth-token"),
        additional_headers=headers)


def test_heatv1_driver_against_noauth_endpoint(stub_heat):
    args = dict(HEAT_ARGS, endpoint=stub_heat)
    with mock.patch.object(datasource_utils, "get_keystone_session",
                           noauth_session):
        d = heatv1_driver.HeatV1Driver(name="heat", args=args)
    assert d.heat.http_client.endpoint_override == stub_heat
    d.update_from_datasource()
    assert d.state["stacks"] == {("id1", "s1", "d", "t0", None,
                                  "CREATE_FAILED", "r", None, None)}
    assert d.state["stacks_links"] == {("id1", "http://h/stacks/s1/id1",
                                        "self")}
    assert d.state["resources"] == {("p1", "r1", "id1", "r1",
                                     "OS::Heat::None", "t1", "t1",
                                     "CREATE_COMPLETE", "")}
    assert d.state["deployments"] == set() and d.state["events"] == set()
    assert {token for _, token in _StubHeat.seen} == {"noauth-token"}
    # one poll = stacks.list() three times + per-stack resources and events
    assert sorted(p for p, _ in _StubHeat.seen) == sorted([
        "/v1/admin/stacks", "/v1/admin/stacks", "/v1/admin/stacks",
        "/v1/admin/software_deployments",
        "/v1/admin/stacks/id1/resources", "/v1/admin/stacks/id1/events"])

    # Congress's own rules over Congress's own Heat tables
    assert evaluate(d.state,
                    ['failed(x) :- heat:stacks(id, x, d, c, u, '
                     '"CREATE_FAILED", r, o, p)'],
                    "failed(x)", schema=d.get_schema()) == {("s1",)}


# --------------------------------------------------------------------------
# Congress's Datalog engine, in-process
# --------------------------------------------------------------------------

def test_runtime_as_in_the_brief():
    from oslo_config import cfg

    _compat.init_config()
    assert cfg.CONF.datasource_sync_period == 60
    from congress.policy_engines import agnostic

    rt = agnostic.Runtime()
    rt.create_policy("heat")
    rt.create_policy("classification")
    for fact in ('stacks("id1","s1","CREATE_FAILED")',
                 'stacks("id2","s2","CREATE_COMPLETE")'):
        assert rt.insert(fact, "heat")[0] is True
    permitted, _ = rt.insert(
        'failed(x) :- heat:stacks(id, x, "CREATE_FAILED")', "classification")
    assert permitted is True
    assert rt.select("failed(x)", "classification") == 'failed("s1")'
    # Runtime.insert reports errors instead of raising them
    permitted, errors = rt.insert("bad(x, y) :- heat:stacks(x, z, w)",
                                  "classification")
    assert permitted is False and "y found in head" in str(errors[0])


def test_evaluate_helper():
    tables = {"stacks": [("id1", "s1", "CREATE_FAILED"),
                         ("id2", "s2", "CREATE_COMPLETE"),
                         ("id3", None, "CREATE_FAILED")]}
    rules = ['failed(x) :- heat:stacks(id, x, "CREATE_FAILED")']
    assert evaluate(tables, rules, "failed(x)") == {("s1",), ("None",)}
    assert evaluate(tables, rules, "failed(x)", as_strings=True) == {
        'failed("s1")', 'failed("None")'}
    assert evaluate(tables, rules, 'failed("s2")') == set()
    assert evaluate(tables, [], "heat:stacks(i, n, s)") == {
        ("id1", "s1", "CREATE_FAILED"), ("id2", "s2", "CREATE_COMPLETE"),
        ("id3", "None", "CREATE_FAILED")}


def test_evaluate_negation_numbers_and_schema():
    schema = {"stacks": ({"name": "id"}, {"name": "stack_name"},
                         {"name": "stack_status"}),
              "resources": ({"name": "stack_id"}, {"name": "count"})}
    tables = {"stacks": [("id1", "s1", "CREATE_COMPLETE"),
                         ("id2", "s2", "CREATE_COMPLETE")],
              "resources": [("id1", 3), ("id2", 12)]}
    rules = [
        "big(name) :- heat:stacks(id=i, stack_name=name), "
        "heat:resources(stack_id=i, count=n), gt(n, 10)",
        "small(name) :- heat:stacks(id=i, stack_name=name), not big(name)",
    ]
    assert evaluate(tables, rules, "big(x)", schema=schema) == {("s2",)}
    assert evaluate(tables, rules, "small(x)", schema=schema) == {("s1",)}
    assert evaluate(tables, [], "heat:resources(i, n)", schema=schema) == {
        ("id1", 3), ("id2", 12)}


def test_evaluate_rejects_what_the_api_rejects():
    with pytest.raises(congress_exc.PolicyException, match="found in head"):
        evaluate({}, ["bad(x, y) :- heat:stacks(x)"], "bad(x, y)")
    with pytest.raises(congress_exc.PolicyException, match="Parse failure"):
        evaluate({}, ["bad(x) :- "], "bad(x)")


def test_one_runtime_many_queries():
    rt = make_runtime({"stacks": [("id1", "s1", "CREATE_FAILED")]},
                      ['failed(x) :- heat:stacks(id, x, "CREATE_FAILED")'])
    assert select(rt, "failed(x)") == {("s1",)}
    assert select(rt, "failed(x)", as_strings=True) == {'failed("s1")'}


def test_driver_state_through_the_engine():
    """Driver tables + policy rules -> exactly these violations."""
    d = TinyDriver(name="tiny", args={})
    d.rows = ROWS
    d.update_from_datasource()
    rules = ['error(name) :- heat:stacks(stack_name=name, '
             'stack_status="CREATE_FAILED")',
             'untagged(name) :- heat:stacks(stack_name=name, tags="None")']
    assert evaluate(d.state, rules, "error(x)",
                    schema=TinyDriver.get_schema()) == {("s1",)}
    assert evaluate(d.state, rules, "untagged(x)",
                    schema=TinyDriver.get_schema()) == {("s2",)}
