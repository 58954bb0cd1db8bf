"""Tokens that expire or are revoked between polls and during one.

One in-process :class:`heatplug.core.Poller` (password auth, every family)
keeps its keystoneauth session across polls, as the Congress driver does.
Keystone's tokens here live :data:`conftest.TOKEN_EXPIRATION` seconds, so
keystoneauth renews them for real every few seconds; revoking the token
heatplug holds makes Heat refuse it (401) and keystoneauth re-authenticate.
Either way no poll may be lost: no family errors, no stale table, and the
tables equal those of a poll with a fresh connection.

Every HTTP exchange of the Poller's session is recorded (a ``requests``
response hook), so the tests see which token each Heat request carried and
which requests were refused.
"""

import threading
import time

import pytest

import heatplug
from heatplug import core
from heatplug import manager
from heatplug import opts

from tests.keystone import conftest

pytestmark = pytest.mark.keystone


class Recorder:
    """Records (status, method, url, token, sent, received) of every
    response, in the order they came back (``sent`` and ``received`` on
    the ``time.perf_counter`` clock requests times them with)."""

    def __init__(self, heat_url):
        self.heat_url = heat_url
        self.lock = threading.Lock()
        self.log = []

    def __call__(self, resp, *args, **kwargs):
        received = time.perf_counter()
        with self.lock:
            self.log.append((resp.status_code, resp.request.method,
                             resp.request.url,
                             resp.request.headers.get("X-Auth-Token"),
                             received - resp.elapsed.total_seconds(),
                             received))
        return resp

    def mark(self):
        with self.lock:
            return len(self.log)

    def heat_requests(self, since=0):
        with self.lock:
            return [e for e in self.log[since:]
                    if e[2].startswith(self.heat_url)]

    def token_requests(self, since=0):
        with self.lock:
            return [e for e in self.log[since:]
                    if e[1] == "POST" and e[2].endswith("/auth/tokens")]


def _poller(kh, tmp_path, extra_plugins=()):
    conf_file = conftest.write_conf(tmp_path / "heatplug.conf", {
        "auth_type": "password", "auth_url": kh.auth_url,
        "region_name": kh.region, "username": kh.demo["user_name"],
        "password": kh.demo["password"],
        "project_name": kh.demo["project_name"],
        "user_domain_name": "Default", "project_domain_name": "Default"})
    conf = opts.make_conf(config_files=[str(conf_file)])
    plugins = manager.build_plugin_manager(conf)
    assert not plugins.load_errors, plugins.load_errors
    for name, plugin in extra_plugins:
        plugins.register(plugin, name=name)
    poller = core.Poller(conf, plugins)
    conn = poller.connection()
    recorder = Recorder(kh.heat_url)
    conn.session.session.hooks["response"].append(recorder)
    return poller, conn, recorder


def _tables(result):
    return {name: sorted(td.rows, key=repr)
            for name, td in result.tables.items()}


def _assert_complete(result, reference, resolved_by_heat=False):
    """No error, nothing stale, every table as in ``reference``.

    ``resolved_by_heat``: the token was revoked while Heat was answering.
    Heat resolves some resources' ``show`` attribute (software configs and
    deployments, ...) by calling its own API with the caller's token; a
    request Heat let in just before the revocation makes that call just
    after it, and Heat answers 200 with those attributes resolved one by
    one instead (``format_resource_attributes`` swallows the 401).  Then
    ``resources_attributes`` must still have rows for every resource, not
    the same rows.
    """
    assert result.errors == {}
    assert result.stats["stale_tables"] == []
    got = _tables(result)
    assert set(got) == set(reference)
    for name in sorted(reference):
        if resolved_by_heat and name == "resources_attributes":
            assert {r[:2] for r in got[name]} == \
                {r[:2] for r in reference[name]}, name
            continue
        assert got[name] == reference[name], name


@pytest.fixture(scope="module")
def reference(keystone_heat, population, tmp_path_factory):
    """Every table, from a poll on a connection of its own."""
    poller, _, _ = _poller(keystone_heat,
                           tmp_path_factory.mktemp("reference"))
    result = poller.poll()
    assert result.errors == {}
    tables = _tables(result)
    assert tables["stacks"] and tables["resources"] and tables["events"]
    return tables


def _current_token(conn):
    return conn.session.auth.get_access(conn.session).auth_token


def _seconds_until_stale(conn):
    """Seconds until keystoneauth will no longer use the current token."""
    expires = conn.session.auth.get_access(conn.session).expires
    return expires.timestamp() - conftest.MIN_TOKEN_LIFE - time.time()


def _wait_until_stale(conn):
    wait = _seconds_until_stale(conn)
    assert wait < conftest.TOKEN_EXPIRATION - conftest.MIN_TOKEN_LIFE + 1
    if wait > -0.1:
        time.sleep(wait + 0.3)


def _assert_replaced(heat_calls, old, conn):
    """Heat refused ``old`` (401) at least once, only ``old``, and once a
    refused request was retried nothing used ``old`` again."""
    refused = [i for i, e in enumerate(heat_calls) if e[0] == 401]
    assert refused, "no request reached Heat with the revoked token"
    assert all(heat_calls[i][3] == old for i in refused)
    # Requests in flight on the old token when the first refusal came back
    # are refused too, or answered if Heat checked the token before it was
    # revoked (families run in parallel, and answers come back in any
    # order); but no request sent once a refusal was back succeeded with
    # the old token, and none sent after the last refusal used it.
    first_back = min(heat_calls[i][5] for i in refused)
    last_back = max(heat_calls[i][5] for i in refused)
    assert not [e for e in heat_calls
                if e[3] == old and e[0] != 401 and e[4] > first_back]
    assert not [e for e in heat_calls if e[3] == old and e[4] > last_back]
    assert _current_token(conn) != old
    # Every refused request was retried with success: as many 2xx answers
    # after a refusal as there were refusals, at least.
    ok_after = [e for e in heat_calls[refused[0]:] if e[0] < 400]
    assert len(ok_after) >= len(refused)


def test_token_expiring_between_polls_is_renewed(keystone_heat, reference,
                                                 tmp_path):
    poller, conn, rec = _poller(keystone_heat, tmp_path)
    _assert_complete(poller.poll(), reference)
    first = {e[3] for e in rec.heat_requests()}

    _wait_until_stale(conn)          # the token's time is up, for real
    mark = rec.mark()
    result = poller.poll()
    _assert_complete(result, reference)
    second = {e[3] for e in rec.heat_requests(mark)}
    assert second and not second & first, "the old token was used again"
    assert len(rec.token_requests(mark)) >= 1
    assert not [e for e in rec.heat_requests(mark) if e[0] == 401]


def test_token_expiring_during_a_poll_is_renewed(keystone_heat, reference,
                                                 tmp_path):
    """One family's fetch waits, mid-poll, until the token is due for
    renewal: its later requests (and other families') use a new one."""

    class SlowDown:
        done = False

        @heatplug.hookimpl(wrapper=True)
        def heatplug_fetch(self, ctx):
            if ctx.name == "stack_details" and not self.done:
                self.done = True
                ctx.stacks()             # the shared list, on the old token
                _wait_until_stale(conn)
            return (yield)

    slow = SlowDown()
    poller, conn, rec = _poller(keystone_heat, tmp_path,
                                [("slow-down", slow)])
    # Start with a fresh token, so the wait is at most ~5 s.
    conn.session.invalidate()
    mark = rec.mark()
    result = poller.poll()
    assert slow.done
    _assert_complete(result, reference)
    tokens = [e[3] for e in rec.heat_requests(mark)]
    assert len(set(tokens)) >= 2, "no renewal during the poll"
    assert not [e for e in rec.heat_requests(mark) if e[0] == 401]


def test_token_revoked_between_polls_is_replaced(keystone_heat, reference,
                                                 tmp_path):
    poller, conn, rec = _poller(keystone_heat, tmp_path)
    _assert_complete(poller.poll(), reference)
    old = _current_token(conn)
    keystone_heat.revoke(old)

    mark = rec.mark()
    result = poller.poll()
    _assert_complete(result, reference)
    _assert_replaced(rec.heat_requests(mark), old, conn)


def test_token_revoked_during_a_poll_is_replaced(keystone_heat, reference,
                                                 tmp_path):
    """The token is revoked while the families run in parallel: requests in
    flight on the old token are refused, each is retried once with a new
    token, and every family completes."""

    class Revoker:
        revoked = None

        @heatplug.hookimpl(wrapper=True)
        def heatplug_fetch(self, ctx):
            if ctx.name == "stack_details" and self.revoked is None:
                ctx.stacks()             # the shared list, on the old token
                self.revoked = _current_token(conn)
                keystone_heat.revoke(self.revoked)
            return (yield)

    revoker = Revoker()
    poller, conn, rec = _poller(keystone_heat, tmp_path,
                                [("revoker", revoker)])
    mark = rec.mark()
    result = poller.poll()
    assert revoker.revoked
    _assert_complete(result, reference, resolved_by_heat=True)
    heat_calls = rec.heat_requests(mark)
    assert any(e[3] == revoker.revoked and e[0] == 200 for e in heat_calls), \
        "the token was revoked before the poll used it"
    _assert_replaced(heat_calls, revoker.revoked, conn)


def test_requests_per_poll(keystone_heat, reference, tmp_path):
    """What a warm poll costs against the Keystone-auth Heat (printed for
    the record; bounded so a regression shows)."""
    poller, conn, rec = _poller(keystone_heat, tmp_path)
    cold = poller.poll()
    warm = poller.poll()
    _assert_complete(warm, reference)
    stacks = len(reference["stacks"])
    print("\nrequests per poll: cold %d, warm %d (%d stacks); seconds: cold "
          "%.2f, warm %.2f" % (cold.stats["requests"], warm.stats["requests"],
                               stacks, cold.stats["seconds"],
                               warm.stats["seconds"]))
    assert warm.stats["requests"] <= cold.stats["requests"]
