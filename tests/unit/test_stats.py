"""Counting at the HTTP layer: every round trip, redirects included.

A tiny HTTP server on the loopback answers a bare stack id the way Heat
does (302 to ``{name}/{id}``); heatplug's own connection must count both
round trips and both bodies.
"""

import json
import time

import pytest

from heatplug import auth
from heatplug import context
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


def test_the_dates_of_answers_are_heard_while_asked_for(server, tmp_path):
    """Heat's clock, from each answer's Date header, for the calls made
    while :data:`stats.answer_dates` holds a list (the stack list's)."""
    conf_file = tmp_path / "heatplug.conf"
    conf_file.write_text(
        "[heat]\nauth_type = none\nendpoint_override = "
        "http://127.0.0.1:%d/v1/admin\n" % server.server_port)
    conn = auth.connect(opts.make_conf(config_files=[str(conf_file)]))
    conn.heat.stacks.get("one/1234")
    dates = []
    token = stats.answer_dates.set(dates)
    try:
        before = time.time()
        conn.heat.stacks.get("1234")                # two answers
    finally:
        stats.answer_dates.reset(token)
    conn.heat.stacks.get("one/1234")
    assert len(dates) == 2
    heard = [context.http_epoch(d) for d in dates]
    assert all(int(before) <= h <= time.time() for h in heard)
    assert context.http_epoch("not a date") is None
    assert context.http_epoch(None) is None


def test_calls_in_flight_are_named_per_family_until_they_end():
    counters = stats.Counters()
    with stats.attributed_to("events"):
        with counters.calling("GET /stacks/a/1/events"):
            with stats.attributed_to("shared"):
                with counters.calling("GET /stacks?show_nested=True"):
                    counters.reset()      # a new poll forgets no call
                    flying = counters.in_flight()
            assert {f: [c for c, _ in calls] for f, calls in
                    counters.in_flight().items()} == {
                "events": ["GET /stacks/a/1/events"]}
    assert counters.in_flight() == {}
    assert [call for call, _ in flying["events"]] == [
        "GET /stacks/a/1/events"]
    assert [call for call, _ in flying["shared"]] == [
        "GET /stacks?show_nested=True"]
    assert flying["events"][0][1] >= flying["shared"][0][1] >= 0


def test_a_failing_call_leaves_the_calls_in_flight():
    counters = stats.Counters()
    with pytest.raises(RuntimeError):
        with counters.calling("GET /software_configs"):
            raise RuntimeError("refused")
    assert counters.in_flight() == {}
