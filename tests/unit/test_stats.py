"""Counting at the HTTP layer: every round trip, redirects included.

A tiny HTTP server on the loopback answers a bare stack id the way Heat
does (302 to ``{name}/{id}``); heatplug's own connection must count both
round trips and both bodies.
"""

import json

import pytest

from heatplug import auth
from heatplug import opts
from heatplug import stats
from tests.unit import conftest

STACK = {"id": "1234", "stack_name": "one", "stack_status": "CREATE_COMPLETE"}


@pytest.fixture
def server():
    with conftest.stub_server(conftest.AnswerHandler, paths=[],
                              answers={}) as srv:
        srv.answers.update({
            "/v1/admin/stacks/1234": (302, {
                "Location": "http://127.0.0.1:%d/v1/admin/stacks/one/1234"
                % srv.server_port}, b""),
            "/v1/admin/stacks/one/1234": (
                200, {"Content-Type": "application/json"},
                json.dumps({"stack": STACK}).encode()),
        })
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
