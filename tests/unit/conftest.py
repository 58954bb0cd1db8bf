"""Fixtures for unit tests: fresh managers that depend on nothing installed,
and a stub Heat on the loopback with a real connection to it
(``server``, ``conn``; test_auth.py, test_transport.py)."""

import contextlib
import http.server
import threading
import types

import pytest

import heatplug
from heatplug import auth
from heatplug import context
from heatplug import manager
from heatplug import opts
from heatplug import stats


@pytest.fixture
def conf():
    conf = opts.make_conf()
    # Nothing here waits on a real Heat: a poll that hangs (a deadlock) is
    # given up on in seconds, and the test fails, rather than in 10 minutes.
    conf.set_override("stall_timeout", 20, "heatplug")
    return conf


@pytest.fixture
def pm():
    """A fresh :class:`heatplug.manager.PluginManager` with only the specs."""
    return manager.PluginManager(manager.new_pluggy_manager())


class FakeHeat:
    """Just enough of a heatclient for the core's shared stack list.

    Unit tests of the core use it; everything that talks to Heat is also
    tested against the real local Heat in tests/functional.
    """

    def __init__(self, stacks=()):
        self.stack_list = list(stacks)
        self.calls = 0
        self.stacks = types.SimpleNamespace(list=self._list)

    def _list(self, show_nested=False, show_hidden=False):
        self.calls += 1
        if isinstance(self.stack_list, Exception):
            raise self.stack_list
        return [dict(s) for s in self.stack_list]


class FakeCtx:
    """The parts of a :class:`heatplug.context.FamilyContext` a family's
    fetch uses, over a given stack list and a fake heatclient.

    ``stacks`` is this poll's stack list, ``heat_stacks`` what the fetch
    finds as ``ctx.heat.stacks``, ``cache`` the family's cache and
    ``state`` what the poll's shared reads keep (pass the same dicts again
    for the next poll).  No worker pool: :meth:`map` and
    :meth:`map_cached` call one item after the other.
    """

    def __init__(self, stacks=(), heat_stacks=None, cache=None,
                 full_refresh=False, changed_only=False, state=None):
        self._stacks = stacks
        self.heat = types.SimpleNamespace(stacks=heat_stacks)
        self.cache = {} if cache is None else cache
        self.full_refresh = full_refresh
        self.changed_only = changed_only
        # what the poll's shared reads keep between polls (pass the same
        # dict again for the next poll)
        self._lock = threading.Lock()
        self._state = {} if state is None else state
        self._memo = {}

    def stacks(self):
        return self._stacks

    def stack_roots(self):
        return context.stack_roots(self._stacks)

    #: what ``resources()`` answers: Heat's resource lists
    resource_list = ()

    def resources(self):
        return list(self.resource_list)

    def shared(self, key, factory):
        # once per poll (per fake), as the real one
        if key not in self._memo:
            self._memo[key] = factory()
        return self._memo[key]

    def map(self, fn, items):
        return [fn(i) for i in items]

    def map_cached(self, fn, items, cached):
        return [cached(i) if cached(i) is not None else fn(i) for i in items]

    # The real per-stack cache and template reads, over this fake's stacks,
    # cache, heat_stacks and map_cached.
    per_stack = context.FamilyContext.per_stack
    template = context.PollContext.template
    templates = context.PollContext.templates


class StaticAuth:
    """An auth plugin that hands out a fixed connection."""

    def __init__(self, heat):
        self.conn = auth.Connection(session=None, heat=heat,
                                    counters=stats.Counters())

    @heatplug.hookimpl
    def heatplug_auth(self, conf):
        return self.conn


@pytest.fixture
def fake_heat():
    return FakeHeat([{"id": "s1", "stack_name": "one",
                      "stack_status": "CREATE_COMPLETE", "parent": None},
                     {"id": "s2", "stack_name": "two",
                      "stack_status": "CREATE_FAILED", "parent": None}])


@pytest.fixture
def static_auth(pm, fake_heat):
    plugin = StaticAuth(fake_heat)
    pm.register(plugin, name="static-auth")
    return plugin


class AnswerHandler(http.server.BaseHTTPRequestHandler):
    """Answers GETs from the server's ``answers``: ``{path: (status,
    headers, body)}`` (or a list of those, answered in turn, the last one
    from then on); any other path is a 404 with ``{}``.  Every path asked
    for is appended to the server's ``paths``."""

    def do_GET(self):
        self.server.paths.append(self.path)
        status, headers, body = self.server.answers.get(
            self.path, (404, {}, b"{}"))
        if isinstance(status, list):     # answered in turn
            status, headers, body = status.pop(0) if len(status) > 1 \
                else status[0]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def stub_server(handler, **attrs):
    """A threaded HTTP server on a free loopback port, serving with the
    ``http.server`` request handler class ``handler``; ``attrs`` are set
    on the server (the handler reads them as ``self.server.<name>``)."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    for name, value in attrs.items():
        setattr(srv, name, value)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


# A stack as the stub Heat (``server``) answers it, with this Content-Type.
STACK = {"id": "1234", "stack_name": "one", "stack_status": "CREATE_COMPLETE"}

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def server():
    with stub_server(AnswerHandler, paths=[], answers={}) as srv:
        yield srv


@pytest.fixture
def conn(server, tmp_path):
    conf_file = tmp_path / "heatplug.conf"
    conf_file.write_text(
        "[heat]\nauth_type = none\nendpoint_override = "
        "http://127.0.0.1:%d/v1/admin\nstatus_code_retries = 1\n"
        % server.server_port)
    return auth.connect(opts.make_conf(config_files=[str(conf_file)]))
