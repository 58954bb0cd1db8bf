"""A fault-injecting HTTP proxy on loopback, for reliability tests.

It sits between heatplug and a real Heat (or any HTTP upstream) and, for
requests whose path matches a rule, injects one fault instead of (or on top
of) forwarding the request::

    proxy = FaultProxy("http://127.0.0.1:8004")
    proxy.start()                     # a free port on 127.0.0.1
    heatplug_endpoint = proxy.url + "/v1/admin"
    rule = proxy.add(r"/resource_types", "status", status=503, times=2)
    ...                               # the first two matching requests: 503
    rule.hits                         # how many requests the rule faulted
    proxy.requests(r"/resource_types")  # every such request it saw
    proxy.stop()

Faults (``kind``):

``status``    answer ``status`` (default 500) with a Heat-shaped JSON error
              body; ``headers`` adds headers (``Retry-After``).
``reset``     read the request, then close the socket with an RST.
``close``     read the request, then close the socket without answering.
``delay``     wait ``seconds`` before forwarding (a Heat slower than the
              client's timeout).
``truncate``  forward, then answer the first ``keep`` bytes (default: half)
              of Heat's body with a matching Content-Length: valid HTTP,
              truncated JSON.
``cut``       forward, then send Heat's headers (full Content-Length) and
              only part of the body before closing: an incomplete read.
``trickle``   forward, then send Heat's headers at once and its body
              ``step`` bytes (default 16) every ``pause`` seconds (default
              0.2): each read is quick, the whole body very slow.
``trickle-headers``  forward, then send Heat's status line and headers
              ``step`` bytes (default 1) every ``pause`` seconds (default
              0.1), then its body: each read is quick, the headers
              never seem to end.
``garbage``   answer 200, ``application/json``, with ``body`` (default: an
              HTML page): invalid JSON.
``query``     forward with the query rewritten by ``rewrite(query_dict)``.
``body``      forward, then answer ``rewrite(json_body)`` instead.
``hook``      call ``hook(method, path)`` and forward (to change the real
              Heat between two calls).

``refuse()`` closes the listening socket (and every open connection), so
new connections are refused; ``accept()`` listens again on the same port.

With ``identity=True`` the proxy also answers a minimal Keystone v3 under
``/identity`` (version document, ``POST /v3/auth/tokens`` with a catalog
whose orchestration endpoint is the proxy), so keystoneauth's password
plugin can authenticate and re-authenticate: Heat itself stays the real,
noauth one.  Tokens issued are counted in :attr:`FaultProxy.tokens`.

Traffic goes to loopback only: the upstream must be a 127.0.0.0/8 URL.
"""

import datetime
import http.client
import http.server
import json
import re
import socket
import socketserver
import ssl
import struct
import threading
import time
import urllib.parse
import uuid

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate",
              "proxy-authorization", "te", "trailers", "transfer-encoding",
              "upgrade", "content-length"}

KINDS = ("status", "reset", "close", "delay", "truncate", "cut", "garbage",
         "query", "body", "hook", "trickle", "trickle-headers")

REASONS = {401: "Unauthorized", 404: "Not Found",
           500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout"}


class Rule:
    """One fault: requests whose ``METHOD path?query`` matches ``pattern``
    (a regex, searched) get ``kind``, ``times`` times (None: always)."""

    def __init__(self, pattern, kind, times=None, method="GET", **params):
        if kind not in KINDS:
            raise ValueError("unknown fault %r" % kind)
        self.pattern = re.compile(pattern)
        self.kind = kind
        self.times = times
        self.method = method
        self.params = params
        self.hits = 0
        self._lock = threading.Lock()

    def claim(self, method, target):
        """True (and counted) when this rule faults this request."""
        if self.method and method != self.method:
            return False
        if not self.pattern.search(target):
            return False
        with self._lock:
            if self.times is not None and self.hits >= self.times:
                return False
            self.hits += 1
            return True

    def __repr__(self):
        return "<Rule %s %s x%s hits=%d>" % (self.kind, self.pattern.pattern,
                                             self.times, self.hits)


class Seen:
    """One request the proxy received."""

    __slots__ = ("at", "method", "target", "fault", "status")

    def __init__(self, at, method, target, fault):
        self.at = at
        self.method = method
        self.target = target
        self.fault = fault
        self.status = None

    def __repr__(self):
        return "<%.3f %s %s %s %s>" % (self.at, self.method, self.target,
                                       self.fault, self.status)


def heat_error(status, message):
    """A body shaped like Heat's error answers."""
    return json.dumps({"code": status, "title": REASONS.get(status, "Error"),
                       "explanation": message,
                       "error": {"message": message,
                                 "type": "FaultProxy", "traceback": None}})


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FaultProxy"

    def log_message(self, *args):       # quiet
        pass

    # every method goes through one place
    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status, body, headers=(), content_type="application/json",
              length=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status, REASONS.get(status))
        sent = {k.lower() for k, _ in headers}
        for key, value in headers:
            self.send_header(key, value)
        if "content-type" not in sent and content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length",
                         str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _handle(self):
        proxy = self.server.proxy
        target = self.path
        body = self._body()
        proxy.track(self.connection)
        if target.startswith("/identity") and proxy.identity:
            seen = proxy.record(self.command, target, "identity")
            seen.status = self._identity(target, body)
            return
        rule = proxy.match(self.command, target)
        seen = proxy.record(self.command, target, rule.kind if rule else None)
        kind, params = (rule.kind, rule.params) if rule else (None, {})
        try:
            seen.status = self._fault(kind, params, target, body)
        except (BrokenPipeError, ConnectionResetError):
            seen.status = "client gone"
            self.close_connection = True

    def _fault(self, kind, params, target, body):
        if kind == "status":
            status = params.get("status", 500)
            self._send(status, heat_error(
                status, params.get("message", "injected %d" % status)),
                headers=list(params.get("headers", {}).items()))
            return status
        if kind in ("reset", "close"):
            if kind == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET,
                                           socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return kind
        if kind == "garbage":
            self._send(200, params.get(
                "body", "<html><body>502 Bad Gateway</body></html>"))
            return 200
        if kind == "delay":
            time.sleep(params.get("seconds", 5))
        if kind == "hook":
            params["hook"](self.command, target)
        if kind == "query":
            parts = urllib.parse.urlsplit(target)
            query = dict(urllib.parse.parse_qsl(parts.query,
                                                keep_blank_values=True))
            query = params["rewrite"](query)
            target = urllib.parse.urlunsplit(
                parts._replace(query=urllib.parse.urlencode(query)))
        status, headers, data = self.server.proxy.forward(
            self.command, target, dict(self.headers), body)
        headers = [(k, self.server.proxy.relocate(v)
                    if k.lower() == "location" else v)
                   for k, v in headers if k.lower() not in HOP_BY_HOP]
        if kind == "body" and 200 <= status < 300:
            data = json.dumps(params["rewrite"](json.loads(data))).encode()
        if kind == "truncate":
            data = data[:params.get("keep", len(data) // 2)]
        if kind == "cut":
            self.close_connection = True
            headers.append(("Connection", "close"))
            self._send(status, data[:params.get("keep", len(data) // 2)],
                       headers=headers, content_type=None, length=len(data))
            self.connection.shutdown(socket.SHUT_RDWR)
            return status
        if kind == "trickle-headers":
            head = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "OK"))]
            head += ["%s: %s" % header for header in headers]
            head += ["Content-Length: %d" % len(data), "", ""]
            self._trickle("\r\n".join(head).encode("latin-1"),
                          params.get("step", 1), params.get("pause", 0.1))
            self.wfile.write(data)
            self.wfile.flush()
            return status
        if kind == "trickle":
            self._send(status, b"", headers=headers, content_type=None,
                       length=len(data))
            self._trickle(data, params.get("step", 16),
                          params.get("pause", 0.2))
            return status
        self._send(status, data, headers=headers, content_type=None)
        return status

    def _trickle(self, data, step, pause):
        """Send ``data`` ``step`` bytes at a time, ``pause`` seconds apart."""
        for i in range(0, len(data), step):
            self.wfile.write(data[i:i + step])
            self.wfile.flush()
            time.sleep(pause)

    # -- a minimal Keystone v3 ------------------------------------------------

    def _identity(self, target, body):
        proxy = self.server.proxy
        base = proxy.url + "/identity/v3"
        path = urllib.parse.urlsplit(target).path.rstrip("/")
        if self.command == "GET" and path in ("/identity", "/identity/v3"):
            self._send(200, json.dumps({"version": {
                "id": "v3.14", "status": "stable",
                "updated": "2020-04-07T00:00:00Z",
                "links": [{"rel": "self", "href": base + "/"}],
                "media-types": [{
                    "base": "application/json",
                    "type": "application/vnd.openstack.identity-v3+json"}],
            }}))
            return 200
        if self.command == "POST" and path == "/identity/v3/auth/tokens":
            token = proxy.issue_token(json.loads(body or b"{}"))
            if token is None:
                self._send(401, heat_error(401, "authentication failed"))
                return 401
            now = datetime.datetime.now(datetime.timezone.utc)
            stamp = "%Y-%m-%dT%H:%M:%S.000000Z"
            self._send(201, json.dumps({"token": {
                "methods": ["password"],
                "issued_at": now.strftime(stamp),
                "expires_at": (now + datetime.timedelta(hours=1)).strftime(
                    stamp),
                "user": {"id": "u1", "name": "heatplug",
                         "domain": {"id": "default", "name": "Default"}},
                "project": {"id": "admin", "name": "admin",
                            "domain": {"id": "default", "name": "Default"}},
                "roles": [{"id": "r1", "name": "reader"}],
                "catalog": [{
                    "type": "orchestration", "name": "heat", "id": "heat",
                    "endpoints": [{"id": "e1", "interface": interface,
                                   "region": "RegionOne",
                                   "region_id": "RegionOne",
                                   "url": proxy.url + "/v1/admin"}
                                  for interface in ("public", "internal")]}],
            }}), headers=[("X-Subject-Token", token)])
            return 201
        self._send(404, heat_error(404, "no such identity call"))
        return 404


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class FaultProxy:
    """The proxy.  See the module docs.

    :param upstream: ``http://127.0.0.1:PORT`` of the real service.
    :param tls: ``(certfile, keyfile)`` to serve HTTPS instead of HTTP.
    :param identity: also answer a minimal Keystone v3 under /identity.
    """

    def __init__(self, upstream, tls=None, identity=False, port=0,
                 upstream_timeout=60):
        parts = urllib.parse.urlsplit(upstream)
        if not (parts.hostname or "").startswith("127.") and \
                parts.hostname not in ("localhost", "::1"):
            raise ValueError("upstream must be on loopback: %s" % upstream)
        self.upstream = (parts.hostname, parts.port or 80)
        self.upstream_timeout = upstream_timeout
        self.tls = tls
        self.identity = identity
        self.port = port
        self.rules = []
        self.seen = []
        self.tokens = []            # tokens issued by the identity stub
        self.passwords = []         # passwords it was shown
        self.reject_passwords = False
        self._lock = threading.Lock()
        self._server = None
        self._thread = None
        self._conns = set()

    # -- life ---------------------------------------------------------------

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http",
                                      self.port)

    def start(self):
        server = _Server(("127.0.0.1", self.port), _Handler)
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)
            server.socket = ctx.wrap_socket(server.socket, server_side=True)
        server.proxy = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="faultproxy", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._drop_connections()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def refuse(self):
        """Stop listening (and drop open connections): connections to the
        port are refused until :meth:`accept`."""
        self.stop()

    def accept(self):
        """Listen again on the same port."""
        if self._server is None:
            self.start()

    def _drop_connections(self):
        with self._lock:
            conns, self._conns = self._conns, set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def track(self, conn):
        with self._lock:
            self._conns.add(conn)

    # -- rules --------------------------------------------------------------

    def add(self, pattern, kind, times=None, method="GET", **params):
        rule = Rule(pattern, kind, times=times, method=method, **params)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self):
        """Drop every rule and forget what was seen."""
        with self._lock:
            self.rules = []
            self.seen = []

    def forget(self):
        """Forget what was seen (the rules stay)."""
        with self._lock:
            self.seen = []

    def match(self, method, target):
        with self._lock:
            rules = list(self.rules)
        for rule in rules:
            if rule.claim(method, target):
                return rule
        return None

    def record(self, method, target, fault):
        seen = Seen(time.monotonic(), method, target, fault)
        with self._lock:
            self.seen.append(seen)
        return seen

    def requests(self, pattern=None, method=None):
        """What the proxy saw (optionally: matching ``pattern``)."""
        regex = re.compile(pattern) if pattern else None
        with self._lock:
            seen = list(self.seen)
        return [s for s in seen
                if (regex is None or regex.search(s.target))
                and (method is None or s.method == method)]

    # -- forwarding and identity ----------------------------------------------

    def forward(self, method, target, headers, body):
        conn = http.client.HTTPConnection(*self.upstream,
                                          timeout=self.upstream_timeout)
        try:
            headers = {k: v for k, v in headers.items()
                       if k.lower() not in HOP_BY_HOP and k.lower() != "host"}
            headers["Connection"] = "close"
            conn.request(method, target, body=body or None, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def relocate(self, location):
        """A Location header of the upstream, pointed at the proxy."""
        upstream = "http://%s:%d" % self.upstream
        if location.startswith(upstream):
            return self.url + location[len(upstream):]
        return location

    def issue_token(self, request):
        """A new token for a password auth request (None: reject it)."""
        try:
            password = request["auth"]["identity"]["password"]["user"][
                "password"]
        except (KeyError, TypeError):
            password = None
        with self._lock:
            self.passwords.append(password)
            if self.reject_passwords:
                return None
            token = "canary-token-%s" % uuid.uuid4().hex
            self.tokens.append(token)
            return token
