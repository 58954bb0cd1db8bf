"""The local Heat's HTTP server (tools/heat_server.py): HTTP/1.1 keep-alive.

Against the real local Heat: many requests (lists, redirects, errors,
bodies, HEAD, create and delete) over one connection, and the connection is
closed when the client asks. In-process, with small WSGI apps, the cases
Heat itself does not produce: responses of unknown length, application
errors, bodies the application does not read, chunked request bodies, idle
connections and stopping.
"""

import http.client
import importlib.util
import json
import pathlib
import socket
import threading
import time
import urllib.parse
import uuid

import pytest

from tests.functional import heat_fixture

HEADERS = {"X-Auth-Token": "local-heat", "Accept": "application/json"}
JSON = dict(HEADERS, **{"Content-Type": "application/json"})
EMPTY_TEMPLATE = {"heat_template_version": "2018-08-31",
                  "resources": {"nothing": {"type": "OS::Heat::None"}}}


def _load_heat_server():
    path = pathlib.Path(heat_fixture.REPO) / "tools" / "heat_server.py"
    spec = importlib.util.spec_from_file_location("heat_server_under_test",
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)     # stdlib imports only at load time
    return module


heat_server = _load_heat_server()


# ---- helpers ----------------------------------------------------------------

class KeptAlive:
    """One http.client connection that must never be replaced."""

    def __init__(self, host, port):
        self.conn = http.client.HTTPConnection(host, port, timeout=60)
        self.conn.connect()
        self.sock = self.conn.sock
        self.local = self.sock.getsockname()
        self.count = 0

    def request(self, method, path, body=None, headers=HEADERS):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        self.count += 1
        # The server neither announced nor did a close, and http.client did
        # not open a new socket for this request.
        assert not resp.will_close, (method, path, resp.getheaders())
        assert self.conn.sock is self.sock, (method, path)
        assert self.sock.getsockname() == self.local
        return resp, data

    def close(self):
        self.conn.close()


def raw_exchange(port, request, timeout=30):
    """Send raw bytes, read until the server closes; return what came."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        received = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                raise AssertionError("server kept the connection open "
                                     "after: %r" % received[:300])
            if not chunk:
                return received
            received += chunk


def split_responses(data):
    """Status codes and header blocks of the responses in `data`."""
    statuses = []
    for block in data.split(b"HTTP/1.1 ")[1:]:
        statuses.append(int(block[:3]))
    return statuses


# ---- the real local Heat ----------------------------------------------------

@pytest.fixture(scope="module")
def heat_addr(local_heat):
    url = urllib.parse.urlsplit(local_heat.endpoint)
    return url.hostname, url.port, url.path.rstrip("/")


def test_many_requests_over_one_connection(heat_addr):
    host, port, base = heat_addr
    c = KeptAlive(host, port)
    try:
        resp, data = c.request("GET", base + "/stacks")
        assert resp.status == 200
        assert "stacks" in json.loads(data)

        # A POST whose body Heat reads: template validate.
        resp, data = c.request("POST", base + "/validate",
                               {"template": EMPTY_TEMPLATE}, JSON)
        assert resp.status == 200, data
        assert "Parameters" in json.loads(data)
        resp, data = c.request("POST", base + "/validate",
                               {"template": {"no": "version"}}, JSON)
        assert resp.status == 400, data

        # A body Heat never reads (no such route): the server must skip it
        # or the next request on the connection would start inside it.
        filler = {"junk": "x" * 200000}
        resp, data = c.request("POST", base + "/no-such-thing", filler, JSON)
        assert resp.status == 404
        resp, data = c.request("GET", base + "/stacks", b"y" * 300000,
                               dict(HEADERS, **{"Content-Type":
                                                "text/plain"}))
        assert resp.status == 200 and "stacks" in json.loads(data)
        resp, data = c.request("PUT", base + "/stacks/nope/nope", filler,
                               JSON)
        assert resp.status == 400          # read, then refused

        # HEAD: headers only (Heat has no HEAD route: 405), no body bytes.
        resp, data = c.request("HEAD", base + "/stacks")
        assert resp.status == 405 and data == b""

        # Errors.
        name = "ka-%s" % uuid.uuid4().hex[:8]
        resp, data = c.request("GET", base + "/stacks/" + name)
        assert resp.status == 404

        # Create (201), redirect of the bare name (302), wait, delete (204).
        resp, data = c.request("POST", base + "/stacks",
                               {"stack_name": name,
                                "template": EMPTY_TEMPLATE}, JSON)
        assert resp.status == 201, data
        stack_id = json.loads(data)["stack"]["id"]
        resp, data = c.request("GET", base + "/stacks/" + name)
        assert resp.status == 302
        location = urllib.parse.urlsplit(resp.getheader("Location")).path
        assert location == "%s/stacks/%s/%s" % (base, name, stack_id)
        deadline = time.monotonic() + 120
        while True:
            resp, data = c.request("GET", location)
            assert resp.status == 200
            status = json.loads(data)["stack"]["stack_status"]
            if not status.endswith("IN_PROGRESS"):
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.1)
        assert status == "CREATE_COMPLETE"
        resp, data = c.request("DELETE", location)
        assert resp.status == 204 and data == b""

        resp, data = c.request("GET", base + "/stacks")
        assert resp.status == 200
        assert "stacks" in json.loads(data)
        assert c.count >= 13
    finally:
        c.close()


def test_connection_close_is_honoured(heat_addr):
    host, port, base = heat_addr
    got = raw_exchange(port, (
        "GET %s/stacks HTTP/1.1\r\nHost: %s\r\nX-Auth-Token: x\r\n"
        "Connection: close\r\n\r\n" % (base, host)).encode())
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"\r\nConnection: close" in head
    assert "stacks" in json.loads(body)


def test_http10_client_gets_one_response(heat_addr):
    host, port, base = heat_addr
    got = raw_exchange(port, (
        "GET %s/stacks HTTP/1.0\r\nX-Auth-Token: x\r\n\r\n" % base).encode())
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"200"
    assert "stacks" in json.loads(body)


def test_pipelined_requests_then_close(heat_addr):
    """Two requests sent at once; the second asks to close."""
    host, port, base = heat_addr
    one = ("GET %s/stacks HTTP/1.1\r\nHost: h\r\nX-Auth-Token: x\r\n\r\n"
           % base)
    two = ("POST %s/validate HTTP/1.1\r\nHost: h\r\nX-Auth-Token: x\r\n"
           "Content-Type: application/json\r\nContent-Length: %d\r\n"
           "Connection: close\r\n\r\n%s")
    body = json.dumps({"template": EMPTY_TEMPLATE})
    two = two % (base, len(body), body)
    got = raw_exchange(port, (one + two).encode())
    assert split_responses(got) == [200, 200]


# ---- in process, with small WSGI apps ---------------------------------------

def toy_app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/echo":
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    if path == "/ignore-body":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ignored"]
    if path == "/stream":           # no Content-Length, several blocks
        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter([b"one ", b"two ", b"three"])
    if path == "/boom":
        raise RuntimeError("boom")
    if path == "/boom-late":
        def gen():
            yield b"partial"
            raise RuntimeError("late boom")
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", "100")])
        return gen()
    if path == "/empty":
        start_response("204 No Content", [])
        return [b"should never be sent"]
    if path == "/redirect":
        start_response("302 Found", [("Location", "/echo"),
                                     ("Content-Length", "0")])
        return []
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]


@pytest.fixture
def toy_server(request):
    timeout = getattr(request, "param", None)

    class Handler(heat_server.QuietHandler):
        pass
    if timeout:
        Handler.timeout = timeout
    server = heat_server.simple_server.make_server(
        "127.0.0.1", 0, toy_app,
        server_class=heat_server.ThreadingWSGIServer, handler_class=Handler)
    accepted = []
    real_process = server.process_request

    def counting(req, addr):
        accepted.append(addr)
        return real_process(req, addr)
    server.process_request = counting
    server.accepted = accepted
    thread = threading.Thread(target=server.serve_forever, args=(0.05,),
                              daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_toy_keep_alive_bodies_and_errors(toy_server):
    port = toy_server.server_address[1]
    c = KeptAlive("127.0.0.1", port)
    try:
        resp, data = c.request("POST", "/echo", b"hello", HEADERS)
        assert (resp.status, data) == (200, b"hello")
        resp, data = c.request("POST", "/ignore-body", b"x" * 300000,
                               HEADERS)
        assert (resp.status, data) == (200, b"ignored")
        resp, data = c.request("PATCH", "/echo", b'{"a": 1}', HEADERS)
        assert (resp.status, data) == (200, b'{"a": 1}')
        resp, data = c.request("GET", "/redirect")
        assert resp.status == 302 and data == b""
        resp, data = c.request("DELETE", "/empty")
        assert resp.status == 204 and data == b""
        resp, data = c.request("HEAD", "/echo")
        assert resp.status == 200 and data == b""
        resp, data = c.request("GET", "/nothing-here")
        assert (resp.status, data) == (404, b"not found")
        resp, data = c.request("GET", "/echo")
        assert (resp.status, data) == (200, b"")
    finally:
        c.close()
    assert len(toy_server.accepted) == 1


def test_toy_chunked_request_body(toy_server):
    port = toy_server.server_address[1]
    c = KeptAlive("127.0.0.1", port)
    try:
        # No length given: http.client sends it chunked.
        resp, data = c.request("PUT", "/echo", iter([b"abc", b"defgh"]))
        assert (resp.status, data) == (200, b"abcdefgh")
        resp, data = c.request("GET", "/echo")
        assert resp.status == 200
    finally:
        c.close()
    assert len(toy_server.accepted) == 1


@pytest.mark.parametrize("path,status,body", [
    ("/stream", b"200", b"one two three"),      # length unknown: EOF ends it
    ("/boom", b"500", None),                    # app error before headers
    ("/boom-late", b"200", b"partial"),         # app error mid-body
])
def test_toy_close_when_response_cannot_be_framed(toy_server, path, status,
                                                  body):
    port = toy_server.server_address[1]
    got = raw_exchange(port, (
        "GET %s HTTP/1.1\r\nHost: h\r\n\r\n"
        "GET /echo HTTP/1.1\r\nHost: h\r\n\r\n" % path).encode())
    head, _, rest = got.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == status
    if body is not None:
        assert rest == body            # and no second response after it
    else:
        assert b"\r\nConnection: close" in head
        assert len(split_responses(got)) == 1


def test_toy_connection_close_and_http10(toy_server):
    port = toy_server.server_address[1]
    for request in (
            b"GET /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
            b"GET /echo HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET /echo HTTP/1.0\r\n\r\nGET /echo HTTP/1.0\r\n\r\n",
            b"GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
            b"GET /echo HTTP/1.0\r\n\r\n"):
        got = raw_exchange(port, request)
        assert split_responses(got) == [200], got


def test_toy_expect_100_continue(toy_server):
    port = toy_server.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 100 ")
        s.sendall(b"data")
        got = b""
        while not got.endswith(b"data"):
            got += s.recv(1000)
        assert got.startswith(b"HTTP/1.1 200 ")


@pytest.mark.parametrize("toy_server", [0.5], indirect=True)
def test_toy_idle_connection_is_dropped(toy_server):
    port = toy_server.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: h\r\n\r\n")
        started = time.monotonic()
        got = b""
        while True:
            chunk = s.recv(1000)
            if not chunk:
                break
            got += chunk
        assert split_responses(got) == [200]
        assert 0.3 < time.monotonic() - started < 5


def test_toy_stopping_server_closes_kept_connections(toy_server):
    port = toy_server.server_address[1]
    c = KeptAlive("127.0.0.1", port)
    try:
        resp, data = c.request("GET", "/echo")
        toy_server.closing = True
        c.conn.request("GET", "/echo")
        resp = c.conn.getresponse()
        assert resp.status == 200 and resp.will_close
        resp.read()
    finally:
        c.close()


def test_toy_pipelined_with_stray_crlf(toy_server):
    port = toy_server.server_address[1]
    got = raw_exchange(port, (
        b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi\r\n"
        b"POST /ignore-body HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"
        b"abcde"
        b"GET /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"))
    assert split_responses(got) == [200, 200, 200]
    assert b"\r\n\r\nhiHTTP/1.1 200" in got and got.endswith(b"\r\n\r\n")
    assert len(toy_server.accepted) == 1
