"""Counting at the HTTP layer: every round trip, redirects included.

A tiny HTTP server on the loopback answers a bare stack id the way Heat
does (302 to ``{name}/{id}``); heatplug's own connection must count both
round trips and both bodies.
"""

import http.server
import json

import pytest

from heatplug import auth
from heatplug import opts
from heatplug import stats
from tests.unit import conftest

STACK = {"id": "1234", "stack_name": "one", "stack_status": "CREATE_COMPLETE"}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.paths.append(self.path)
        if self.path == "/v1/admin/stacks/1234":
            body = b""
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:%d/v1/admin/"
                             "stacks/one/1234" % self.server.server_port)
        elif self.path == "/v1/admin/stacks/one/1234":
            body = json.dumps({"stack": STACK}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        else:
            body = b"{}"
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    with conftest.stub_server(Handler, paths=[]) as srv:
        yield srv


def test_a_redirect_counts_as_two_round_trips(server, tmp_path):
    conf_file = tmp_path / "heatplug.conf"
    conf_file.write_text(
        "[heat]\nauth_type = none\nendpoint_override = "
        "http://127.0.0.1:%d/v1/admin\n" % server.server_port)
    conf = opts.make_conf(config_files=[str(conf_file)])
    conn = auth.connect(conf)
    with stats.attributed_to("stack_details"):
        stack = conn.heat.stacks.get("1234")       # a bare id: redirected
    assert stack.stack_name == "one"
    assert server.paths == ["/v1/admin/stacks/1234",
                            "/v1/admin/stacks/one/1234"]
    counted = conn.counters.snapshot()["stack_details"]
    assert counted["requests"] == 2
    assert counted["bytes"] == len(json.dumps({"stack": STACK}))
