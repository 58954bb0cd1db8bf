"""heatplug.auth: the connection to Heat that ``auth.connect`` builds.

- a Heat answer through the connection: handed on without a deep copy
  (``context.to_dict``), a 2xx answer that is not JSON failing at the call
  (``BadResponse``), ``Retry-After`` still capped with every try counted;
  redirects still counted (test_stats.py);
- ``memoize_endpoint``: the endpoint from the catalog of the current token,
  looked up again whenever the token changes.

The requests-level HTTP path under it (heatplug.transport) is tested in
test_transport.py.
"""

import datetime
import json

from keystoneauth1 import access as ks_access
from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import fixture as ks_fixture
from keystoneauth1 import identity
from keystoneauth1 import noauth as ks_noauth
from keystoneauth1 import session as ks_session
import pytest
import requests

from heatplug import auth
from heatplug import context
from heatplug import stats
from tests.unit import conftest

STACK = conftest.STACK
JSON = conftest.JSON


def test_heat_answer_is_handed_on_without_a_copy(server, conn):
    body = json.dumps({"stack": STACK}).encode()
    server.answers["/v1/admin/stacks/one/1234"] = (200, JSON, body)
    stack = conn.heat.stacks.get("one/1234")
    assert context.to_dict(stack) == STACK
    assert context.to_dict(stack) is context.to_dict(stack)  # no deep copy
    assert context.to_dict(STACK) is STACK

    class Other:
        _info = "not a dict"

        def to_dict(self):
            return {"asked": True}

    assert context.to_dict(Other()) == {"asked": True}


@pytest.mark.parametrize("headers, body, message", [
    ({"Content-Type": "text/html"}, b"<html>busy</html>", "not JSON"),
    (JSON, b'{"stack": ', "not valid JSON"),
])
def test_bad_answers_still_fail_at_the_call(server, conn, headers, body,
                                            message):
    server.answers["/v1/admin/stacks/one/1234"] = (200, headers, body)
    with pytest.raises(auth.BadResponse, match=message) as err:
        conn.heat.stacks.get("one/1234")
    assert "GET /stacks/one/1234" in str(err.value)


def test_retry_after_is_still_capped_and_every_try_counted(
        server, conn, monkeypatch):
    monkeypatch.setattr(auth, "MAX_RETRY_AFTER", 0)
    body = json.dumps({"stack": STACK}).encode()
    server.answers["/v1/admin/stacks/one/1234"] = ([
        (503, {"Retry-After": "3600"}, b"{}"), (200, JSON, body)], {}, b"")
    with stats.attributed_to("stack_details"):
        stack = conn.heat.stacks.get("one/1234")   # would sleep an hour
    assert stack.stack_name == "one"
    assert server.paths == ["/v1/admin/stacks/one/1234"] * 2
    counted = conn.counters.snapshot()["stack_details"]
    assert counted == {"requests": 2, "bytes": 2 + len(body), "errors": 1}


# -- the endpoint from the catalog, once per token ---------------------------

class CatalogPlugin(identity.BaseIdentityPlugin):
    """An identity plugin whose every authentication returns a new token
    whose catalog puts Heat at ``self.heat_url``."""

    def __init__(self, expires_in=3600):
        super().__init__(auth_url="http://keystone.test/v3")
        self.heat_url = "http://heat-1.test/v1/p"
        self.expires_in = expires_in
        self.authentications = 0

    def get_auth_ref(self, session):
        self.authentications += 1
        token = ks_fixture.V3Token(
            project_id="p", expires=datetime.datetime.now(
                datetime.timezone.utc).replace(tzinfo=None)
            + datetime.timedelta(seconds=self.expires_in))
        service = token.add_service("orchestration")
        service.add_standard_endpoints(public=self.heat_url,
                                       internal=self.heat_url + "-internal",
                                       region="RegionOne")
        return ks_access.create(body=token, auth_token="t%d"
                                % self.authentications)


def _endpoint_session(plugin):
    sess = ks_session.Session(auth=plugin)
    lookups = []
    real = sess.get_endpoint

    def counting(auth=None, **kwargs):
        lookups.append(kwargs)
        return real(auth, **kwargs)

    sess.get_endpoint = counting
    return auth.memoize_endpoint(sess), lookups


HEAT = {"service_type": "orchestration", "interface": "public",
        "region_name": "RegionOne", "allow": {}}


def test_endpoint_is_looked_up_once_per_token():
    plugin = CatalogPlugin()
    sess, lookups = _endpoint_session(plugin)
    # the first lookup authenticates: kept from the second one on
    for _ in range(4):
        assert sess.get_endpoint(**HEAT) == "http://heat-1.test/v1/p"
    assert len(lookups) == 2 and plugin.authentications == 1
    # another filter: a lookup of its own
    internal = dict(HEAT, interface="internal")
    for _ in range(3):
        assert sess.get_endpoint(**internal) == \
            "http://heat-1.test/v1/p-internal"
    assert len(lookups) == 3
    # a new token (re-authentication after a 401) may move Heat
    plugin.heat_url = "http://heat-2.test/v1/p"
    assert sess.invalidate(plugin)
    for _ in range(3):
        assert sess.get_endpoint(**HEAT) == "http://heat-2.test/v1/p"
    assert len(lookups) == 5 and plugin.authentications == 2


def test_a_renewed_token_is_looked_up_again():
    plugin = CatalogPlugin()
    sess, lookups = _endpoint_session(plugin)
    assert sess.get_endpoint(**HEAT) == "http://heat-1.test/v1/p"
    plugin.heat_url = "http://heat-2.test/v1/p"
    # the token now counts as expiring soon: as Session.request does, the
    # auth headers first (they renew it), then the endpoint, from the
    # renewed token's catalog
    plugin.MIN_TOKEN_LIFE_SECONDS = 7200
    sess.get_auth_headers()
    del plugin.MIN_TOKEN_LIFE_SECONDS
    assert plugin.authentications == 2
    for _ in range(3):
        assert sess.get_endpoint(**HEAT) == "http://heat-2.test/v1/p"
    assert len(lookups) == 2 and plugin.authentications == 2


def test_a_token_renewed_during_the_lookup_is_not_kept():
    plugin = CatalogPlugin()
    sess = ks_session.Session(auth=plugin)
    real = sess.get_endpoint
    lookups = []

    def renewed_meanwhile(auth=None, **kwargs):
        # another thread renews the token while this lookup runs
        lookups.append(kwargs)
        endpoint = real(auth, **kwargs)
        if len(lookups) == 2:
            plugin.heat_url = "http://heat-2.test/v1/p"
            plugin.auth_ref = plugin.get_auth_ref(sess)
        return endpoint

    sess.get_endpoint = renewed_meanwhile
    auth.memoize_endpoint(sess)
    sess.get_endpoint(**HEAT)                # authenticates: not kept
    assert sess.get_endpoint(**HEAT) == "http://heat-1.test/v1/p"
    # that answer came from the old token: not kept with the new one
    for _ in range(3):
        assert sess.get_endpoint(**HEAT) == "http://heat-2.test/v1/p"
    assert len(lookups) == 3


def test_nothing_found_and_overrides_are_not_kept():
    plugin = CatalogPlugin()
    sess, lookups = _endpoint_session(plugin)
    missing = dict(HEAT, service_type="compute")
    for _ in range(2):
        with pytest.raises(ks_exc.EndpointNotFound):
            sess.get_endpoint(**missing)
    assert sess.get_endpoint(endpoint_override="http://o.test/v1",
                             **HEAT) == "http://o.test/v1"
    assert sess.get_endpoint(endpoint_override="http://o.test/v1",
                             **HEAT) == "http://o.test/v1"
    assert len(lookups) == 4


def test_plugins_without_a_token_are_left_to_keystoneauth():
    sess, lookups = _endpoint_session(
        ks_noauth.NoAuth(endpoint="http://heat.test/v1/admin"))
    for _ in range(2):
        assert sess.get_endpoint(**HEAT) == "http://heat.test/v1/admin"
    assert len(lookups) == 2


def test_requests_go_to_the_endpoint_of_the_current_token(monkeypatch):
    plugin = CatalogPlugin()
    sess = auth.memoize_endpoint(ks_session.Session(auth=plugin))
    sent = []

    def send(request, **kwargs):
        sent.append(request.url)
        resp = requests.Response()
        resp.status_code, resp._content = 200, b"{}"
        resp.request, resp.url = request, request.url
        return resp

    monkeypatch.setattr(sess.session, "send", send)
    heat = ks_adapter.Adapter(sess, service_type="orchestration",
                              interface="public", region_name="RegionOne")
    heat.get("/stacks")
    plugin.heat_url = "http://heat-2.test/v1/p"
    heat.get("/stacks")                      # same token: same endpoint
    sess.invalidate()
    heat.get("/stacks")                      # new token: its catalog
    assert sent == ["http://heat-1.test/v1/p/stacks"] * 2 + [
        "http://heat-2.test/v1/p/stacks"]
