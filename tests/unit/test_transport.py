"""heatplug.transport, the requests-level HTTP path under keystoneauth:
what it saves per request must not change what a request does.

- ``memoize_environment``: requests' proxies and CA bundle from the
  environment, worked out once per (environment, origin) instead of at
  every request, must equal requests' own answer, and follow a change of
  the environment at once; a connection from ``auth.connect`` reads the
  environment once per origin;
- ``parse_json_once``: one JSON decode per answer, also for a Heat answer
  read through ``auth.connect`` (heatplug's check and heatclient both
  read it);
- ``lean_requests`` and ``Adapter``: a plain request sent and answered
  exactly as ``requests`` does it (compared side by side against a real
  HTTP server), cookies, netrc and anything unusual still requests' own;
  a body still arriving after the read timeout abandoned; the counting
  adapter still keystoneauth's (TCP keep-alive, TLS settings).
"""

import gc
import http.server
import json
import socket
import ssl
import time
import weakref

from keystoneauth1 import session as ks_session
import pytest
import requests
from requests import utils as requests_utils
import urllib3

from heatplug import stats
from heatplug import transport
from tests.unit import conftest

STACK = conftest.STACK
JSON = conftest.JSON

PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                   "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY",
                   "REQUEST_METHOD", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")

URLS = ("http://127.0.0.1:8004/v1/admin/stacks/a/1",
        "http://127.0.0.1:8004/v1/admin/stacks/b/2?x=1",
        "https://heat.example.com/v1/p/stacks",
        "http://heat.example.com:8004/v1/p/stacks",
        "http://keystone.internal:5000/v3/auth/tokens")

ENVIRONMENTS = (
    {},
    {"http_proxy": "http://proxy:3128"},
    {"HTTP_PROXY": "http://upper:3128", "https_proxy": "http://s:3128"},
    {"http_proxy": "http://lower:1", "HTTP_PROXY": "http://upper:2"},
    {"ALL_PROXY": "socks5://all:1080", "no_proxy": "127.0.0.1,.example.com"},
    {"https_proxy": "http://p:1", "NO_PROXY": "heat.example.com"},
    {"http_proxy": "http://p:1", "no_proxy": "heat.example.com:8004"},
    {"http_proxy": "http://p:1", "no_proxy": "127.0.0.0/8"},
    {"http_proxy": "http://p:1", "no_proxy": "*"},
    {"HTTP_PROXY": "http://cgi:1", "REQUEST_METHOD": "GET"},
    {"REQUESTS_CA_BUNDLE": "/etc/ca.pem"},
    {"CURL_CA_BUNDLE": "/etc/curl.pem", "http_proxy": "http://p:1"},
)

REQUEST_SETTINGS = (
    # (proxies, stream, verify, cert)
    ({}, False, True, None),
    ({}, None, None, None),
    ({}, False, False, None),
    ({}, False, "/my/ca.pem", ("c", "k")),
    ({"http": "http://explicit:1"}, False, True, None),
    ({"no_proxy": "keystone.internal"}, True, True, None),
)


@pytest.fixture
def clean_environment(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _set_environment(monkeypatch, environment):
    for name in PROXY_VARIABLES:
        if name in environment:
            monkeypatch.setenv(name, environment[name])
        else:
            monkeypatch.delenv(name, raising=False)


def _settings(session, url, proxies, stream, verify, cert):
    return session.merge_environment_settings(
        url, dict(proxies), stream, verify, cert)


def test_memoized_environment_settings_are_requests_own(clean_environment):
    plain = requests.Session()
    memoized = transport.memoize_environment(requests.Session())
    assert "merge_environment_settings" in vars(memoized)
    # One memoized session through every environment, twice: a changed
    # environment must be seen at the next request, a memo hit must
    # answer what requests itself answers.
    for _ in range(2):
        for environment in ENVIRONMENTS:
            _set_environment(clean_environment, environment)
            for url in URLS:
                for settings in REQUEST_SETTINGS:
                    assert (_settings(memoized, url, *settings)
                            == _settings(plain, url, *settings)), \
                        (environment, url, settings)


def test_session_settings_still_merge(clean_environment):
    clean_environment.setenv("http_proxy", "http://env:1")
    plain, memoized = requests.Session(), requests.Session()
    transport.memoize_environment(memoized)
    for sess in (plain, memoized):
        sess.proxies = {"https": "http://session:2"}
        sess.verify = "/session/ca.pem"
        sess.cert = "/session/cert.pem"
        sess.stream = True
    for settings in REQUEST_SETTINGS:
        assert (_settings(memoized, URLS[0], *settings)
                == _settings(plain, URLS[0], *settings))


def test_trust_env_off_is_left_to_requests(clean_environment):
    clean_environment.setenv("http_proxy", "http://env:1")
    sess = transport.memoize_environment(requests.Session())
    sess.trust_env = False
    got = _settings(sess, URLS[0], {}, False, True, None)
    assert got["proxies"] == {}
    assert got["verify"] is True


def test_environment_is_read_once_per_origin(clean_environment,
                                             monkeypatch):
    reads = []
    real = requests_utils.get_environ_proxies

    def counting(url, no_proxy=None):
        reads.append(url)
        return real(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests_utils, "get_environ_proxies", counting)
    sess = transport.memoize_environment(requests.Session())
    for url in URLS[:2]:                 # one origin, two paths
        _settings(sess, url, {}, False, True, None)
    assert len(reads) == 1
    _settings(sess, URLS[2], {}, False, True, None)   # another origin
    assert len(reads) == 2
    clean_environment.setenv("HTTPS_PROXY", "http://new:1")
    got = _settings(sess, URLS[2], {}, False, True, None)
    assert len(reads) == 3               # the environment changed
    assert got["proxies"]["https"] == "http://new:1"


def test_memo_is_bounded(clean_environment):
    sess = transport.memoize_environment(requests.Session())
    for port in range(3 * transport._ENVIRONMENT_MEMO_SIZE):
        _settings(sess, "http://h:%d/" % (port + 1), {}, False, True, None)
    memo = [c.cell_contents for c in
            sess.merge_environment_settings.__closure__
            if isinstance(c.cell_contents, dict)]
    assert memo and len(memo[0]) <= transport._ENVIRONMENT_MEMO_SIZE


def test_a_session_class_of_its_own_is_left_alone():
    class Own(requests.Session):
        def merge_environment_settings(self, *args):
            return super().merge_environment_settings(*args)

    sess = transport.memoize_environment(Own())
    assert "merge_environment_settings" not in vars(sess)


def test_connection_reads_the_environment_once_per_origin(
        server, conn, monkeypatch, clean_environment):
    reads = []
    real = requests_utils.get_environ_proxies
    monkeypatch.setattr(requests_utils, "get_environ_proxies",
                        lambda url, no_proxy=None: reads.append(url)
                        or real(url, no_proxy=no_proxy))
    body = json.dumps({"stack": STACK}).encode()
    server.answers["/v1/admin/stacks/one/1234"] = (200, JSON, body)
    for _ in range(3):
        conn.heat.stacks.get("one/1234")
    assert len(reads) == 1


# -- one decode per answer ----------------------------------------------------

def _response(body, content_type="application/json"):
    resp = requests.Response()
    resp.status_code, resp._content = 200, body
    resp.headers["Content-Type"] = content_type
    resp.encoding = "utf-8"
    return resp


@pytest.fixture
def decodes(monkeypatch):
    """The JSON texts requests decodes."""
    seen = []
    real = requests.models.complexjson.loads

    def counting(*args, **kwargs):
        seen.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(requests.models.complexjson, "loads", counting)
    return seen


def test_json_is_decoded_once(decodes):
    resp = transport.parse_json_once(_response(b'{"a": [1, 2]}'))
    assert isinstance(resp, requests.Response)
    first = resp.json()
    assert resp.json() is first and resp.json() == {"a": [1, 2]}
    assert len(decodes) == 1
    # keyword arguments: decoded afresh, the kept result untouched
    assert resp.json(parse_int=str) == {"a": ["1", "2"]}
    assert len(decodes) == 2 and resp.json() is first


def test_a_body_that_is_not_json_fails_at_every_call(decodes):
    resp = transport.parse_json_once(_response(b"<html>", "text/html"))
    for _ in range(2):
        with pytest.raises(ValueError):
            resp.json()
    assert len(decodes) == 2


def test_a_decoded_answer_is_freed_without_the_garbage_collector():
    resp = transport.parse_json_once(_response(b'{"a": 1}'))
    resp.json()
    gone = weakref.ref(resp)
    gc.disable()
    try:
        del resp
        assert gone() is None        # no reference cycle
    finally:
        gc.enable()


def test_heat_answer_is_decoded_once(server, conn, decodes):
    body = json.dumps({"stack": STACK}).encode()
    server.answers["/v1/admin/stacks/one/1234"] = (200, JSON, body)
    stack = conn.heat.stacks.get("one/1234")
    assert stack.to_dict() == STACK
    assert len(decodes) == 1


# -- the lean request path (transport.lean_requests, transport.Adapter) -----

class EchoHandler(http.server.BaseHTTPRequestHandler):
    """Records each request (method, path, headers, body) in the server's
    ``seen`` and answers 200 with the server's ``extra`` headers and a JSON
    body; ``/redirect`` answers 302 to ``/``."""

    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append((self.command, self.path,
                                 sorted(self.headers.items()), body))
        payload = json.dumps({"path": self.path}).encode()
        self.send_response(302 if self.path == "/redirect" else 200)
        if self.path == "/redirect":
            self.send_header("Location", "/")
        for name, value in self.server.extra:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def echo():
    with conftest.stub_server(EchoHandler, seen=[], extra=[]) as srv:
        srv.url = "http://127.0.0.1:%d" % srv.server_port
        yield srv


def _sessions():
    """A plain requests session and a lean one, each with a response hook
    that records the responses it sees."""
    out = []
    for lean in (False, True):
        sess = requests.Session()
        sess.headers["User-Agent"] = "heatplug-test"
        hooked = []
        sess.hooks["response"].append(
            lambda r, *a, seen=hooked, **k: seen.append(r))
        if lean:
            transport.lean_requests(sess)
        out.append((sess, hooked))
    return out


def _view(resp):
    """What a caller can see of a response (the fields keystoneauth and
    heatclient read)."""
    return (resp.status_code, resp.reason, resp.url,
            sorted((k, v) for k, v in resp.headers.items() if k != "Date"),
            resp.encoding, resp.content, resp.json(), resp.history,
            resp.is_redirect, resp.request.method, resp.request.url,
            sorted(resp.request.headers.items()), resp.request.body,
            len(resp.cookies), type(resp.elapsed))


KEYSTONEAUTH_CALLS = (
    # what keystoneauth's Session.request hands to requests
    ("GET", "/v1/admin/stacks?show_nested=True",
     {"X-Auth-Token": "t", "Accept": "application/json"}, None),
    ("POST", "/v1/admin/stacks", {"Content-Type": "application/json"},
     b'{"stack_name": "x"}'),
    ("PUT", "/v1/admin/stacks/x/1", {"Content-Type": "application/json"},
     '{"template": "caf\u00e9"}'),
    ("DELETE", "/v1/admin/stacks/x/1", {}, None),
    ("PATCH", "/v1/admin/stacks/x/1", {"User-Agent": None}, b"{}"),
    ("GET", "/redirect", {}, None),
)


@pytest.mark.parametrize("method, path, headers, data", KEYSTONEAUTH_CALLS)
def test_lean_request_sends_and_answers_as_requests_does(echo, method, path,
                                                         headers, data):
    views, sent, nexts = [], [], []
    for sess, hooked in _sessions():
        echo.seen.clear()
        resp = sess.request(method, echo.url + path, headers=dict(headers),
                            data=data, allow_redirects=False, timeout=5,
                            verify=True)
        assert hooked == [resp]               # response hooks ran, once
        views.append(_view(resp))
        sent.append(echo.seen[:])
        nexts.append(resp.next and resp.next.url)
    assert views[1] == views[0]
    assert sent[1] == sent[0] and len(sent[0]) == 1
    # the one difference: the lean path leaves Response.next unset
    assert nexts == ([echo.url + "/", None] if path == "/redirect"
                     else [None, None])


def test_lean_request_takes_the_lean_path(echo, monkeypatch):
    full = []
    real = requests.Session.request
    monkeypatch.setattr(requests.Session, "request",
                        lambda *a, **k: full.append(a[1:3]) or real(*a, **k))
    sess = transport.lean_requests(requests.Session())
    sess.request("GET", echo.url + "/a", allow_redirects=False)
    assert full == []
    sess.request("GET", echo.url + "/b")            # follows redirects
    sess.request("GET", echo.url + "/c", allow_redirects=False,
                 params={"x": 1})
    sess.request("POST", echo.url + "/d", allow_redirects=False,
                 json={"x": 1})
    sess.request("POST", echo.url + "/e", allow_redirects=False,
                 data={"form": "field"})
    sess.request("GET", echo.url + "/f", allow_redirects=False,
                 auth=("user", "pass"))
    assert [call[1] for call in full] == [
        echo.url + p for p in ("/b", "/c", "/d", "/e", "/f")]


def test_lean_request_keeps_cookies_as_requests_does(echo, monkeypatch):
    echo.extra = [("Set-Cookie", "SERVERID=heat-2; Path=/")]
    full = []
    real = requests.Session.request
    monkeypatch.setattr(requests.Session, "request",
                        lambda *a, **k: full.append(a[2]) or real(*a, **k))
    cookies = []
    for sess, _ in _sessions():
        echo.seen.clear()
        first = sess.request("GET", echo.url + "/1", allow_redirects=False)
        assert first.cookies.get("SERVERID") == "heat-2"
        sess.request("GET", echo.url + "/2", allow_redirects=False)
        cookies.append([dict(h).get("Cookie") for _, _, h, _ in echo.seen])
    assert cookies[1] == cookies[0] == [None, "SERVERID=heat-2"]
    # the plain session's two requests and the lean one's second (the
    # session holds a cookie now) went the full way
    assert full == [echo.url + "/1", echo.url + "/2", echo.url + "/2"]


def test_lean_request_reads_netrc_as_requests_does(echo, tmp_path,
                                                   monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login heat password s3cret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    sent = []
    for sess, _ in _sessions():
        echo.seen.clear()
        sess.request("GET", echo.url + "/", allow_redirects=False)
        sent.append(dict(echo.seen[0][2]).get("Authorization"))
    assert sent[1] == sent[0] and sent[0].startswith("Basic ")


def test_lean_request_fails_as_requests_does():
    with conftest.stub_server(EchoHandler, seen=[], extra=[]) as srv:
        url = "http://127.0.0.1:%d/" % srv.server_port
    errors = []
    for sess, hooked in _sessions():
        with pytest.raises(requests.ConnectionError) as err:
            sess.request("GET", url, allow_redirects=False, timeout=2)
        errors.append(type(err.value))
        assert hooked == []
    assert errors[0] is errors[1]


def test_a_session_class_with_its_own_request_is_left_alone():
    class Own(requests.Session):
        def request(self, *args, **kwargs):
            return super().request(*args, **kwargs)

    assert "request" not in vars(transport.lean_requests(Own()))


def test_adapter_builds_responses_as_requests_does(echo):
    views = []
    for extra in ([], [("Set-Cookie", "a=1")]):
        echo.extra = extra
        for adapter in (requests.adapters.HTTPAdapter(),
                        transport.Adapter()):
            sess = requests.Session()
            sess.mount("http://", adapter)
            resp = sess.get(echo.url + "/x", allow_redirects=False)
            views.append((_view(resp), dict(resp.cookies)))
    assert views[1] == views[0] and views[3] == views[2]
    assert views[2][1] == {"a": "1"}


class TrickleHandler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive: answers a JSON body of the server's
    ``size`` bytes, ``step`` bytes every ``pause`` seconds, and records the
    client's (address, port) of every request in ``peers``."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.server.peers.append(self.client_address)
        body = b'"' + b"x" * (self.server.size - 2) + b'"'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for i in range(0, len(body), self.server.step):
                self.wfile.write(body[i:i + self.server.step])
                self.wfile.flush()
                if i + self.server.step < len(body):
                    time.sleep(self.server.pause)
        except OSError:
            self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def trickle():
    with conftest.stub_server(TrickleHandler, peers=[], size=200_000,
                              step=200_000, pause=0) as srv:
        srv.url = "http://127.0.0.1:%d/" % srv.server_port
        yield srv


def _counting_session():
    sess = transport.lean_requests(requests.Session())
    counters = stats.Counters()
    stats.install(sess, counters)
    return sess, counters


def test_a_trickling_body_is_abandoned_after_the_read_timeout(trickle):
    trickle.size, trickle.step, trickle.pause = 100, 2, 0.1   # 5 s in all
    sess, counters = _counting_session()
    start = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout,
                       match="still arriving 0.5 s after its headers"):
        sess.request("GET", trickle.url, allow_redirects=False, timeout=0.5)
    assert 0.5 <= time.monotonic() - start < 1.5
    assert counters.snapshot()["core"]["errors"] == 1
    # the half-read connection is not reused: the next request gets a new
    # one, and an answer that comes at once still reads in full
    trickle.size, trickle.step, trickle.pause = 300_000, 300_000, 0
    resp = sess.request("GET", trickle.url, allow_redirects=False,
                        timeout=0.5)
    assert len(resp.content) == 300_000 and resp.json().startswith("xx")
    assert trickle.peers[0] != trickle.peers[1]


def test_bodies_read_within_the_timeout_keep_the_connection(trickle):
    trickle.size, trickle.step, trickle.pause = 3000, 1000, 0.05
    sess, counters = _counting_session()
    bodies = [sess.request("GET", trickle.url, allow_redirects=False,
                           timeout=(5, 2)).content for _ in range(3)]
    assert bodies[0] == bodies[1] == bodies[2] and len(bodies[0]) == 3000
    assert len(set(trickle.peers)) == 1            # one kept-alive connection
    assert counters.snapshot()["core"] == {"requests": 3, "bytes": 9000,
                                           "errors": 0}
    # a streamed answer is left to the caller (the counting adapter reads
    # every body to count it; transport.Adapter alone does not)
    plain = requests.Session()
    plain.mount("http://", transport.Adapter())
    resp = plain.get(trickle.url, stream=True, timeout=2)
    assert not resp._content_consumed and len(resp.content) == 3000


@pytest.mark.parametrize("timeout, limit", [
    (60, 60.0), (2.5, 2.5), ((3, 7), 7.0), ((3, None), None), (None, None),
    (0, None), (True, None), ("60", None),
    (urllib3.Timeout(connect=1, read=4), 4.0), (urllib3.Timeout(), None),
])
def test_read_timeout_of_a_requests_timeout(timeout, limit):
    assert transport._read_timeout(timeout) == limit


def test_the_counting_adapter_is_keystoneauths_own():
    sess = ks_session.Session(tls_min_version="1.3", tls_ciphers="HIGH")
    adapter = stats.install(sess.session, stats.Counters(), pool_size=3)
    assert sess.session.get_adapter("https://x") is adapter
    assert isinstance(adapter, ks_session.TCPKeepAliveAdapter)
    assert (adapter.tls_min_version, adapter.tls_ciphers) == ("1.3", "HIGH")
    pool_kw = adapter.poolmanager.connection_pool_kw
    assert (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1) in \
        pool_kw["socket_options"]
    assert pool_kw["ssl_context"].minimum_version == ssl.TLSVersion.TLSv1_3
    assert pool_kw["maxsize"] == 3
    # mounted over a plain requests adapter (or a keystoneauth without TLS
    # settings): keystoneauth's defaults
    plain = stats.install(requests.Session(), stats.Counters())
    assert (plain.tls_min_version, plain.tls_ciphers) == (None, None)
    assert "ssl_context" not in plain.poolmanager.connection_pool_kw
