"""Lifecycle: isolation of families, last good rows, publish, write hook."""

import json
import threading
import time

import pytest

import heatplug
from heatplug import core
from heatplug import errors
from heatplug.plugins import stacks


class Family:
    """A configurable family for exercising the core."""

    def __init__(self, name, rows=None, fail=None, translate_fail=None):
        self.name = name
        self.rows = rows if rows is not None else [("a",)]
        self.fail = fail
        self.translate_fail = translate_fail
        self.fetches = 0

    @heatplug.hookimpl
    def heatplug_tables(self):
        return [heatplug.table(self.name, "test", "", ("x", "a column"))]

    @heatplug.hookimpl
    def heatplug_fetch(self, ctx):
        self.fetches += 1
        ctx.stacks()           # every family reads the shared stack list
        if self.fail:
            raise self.fail
        return list(self.rows)

    @heatplug.hookimpl
    def heatplug_translate(self, raw):
        if self.translate_fail:
            raise self.translate_fail
        return {self.name: raw}


class Sink:
    def __init__(self, fail=False):
        self.results = []
        self.fail = fail

    @heatplug.hookimpl
    def heatplug_publish(self, result):
        if self.fail:
            raise RuntimeError("sink is down")
        self.results.append(result)


def test_poll_publishes_every_family(conf, pm, static_auth, fake_heat):
    pm.register(Family("one", [("1",)]), name="one")
    pm.register(Family("two", [("2",), ("22",)]), name="two")
    sink = Sink()
    pm.register(sink, name="sink")
    result = core.Poller(conf, pm).poll()
    assert result.errors == {}
    assert {n: td.rows for n, td in result.tables.items()} == {
        "one": [("1",)], "two": [("2",), ("22",)]}
    assert sink.results == [result]
    # The stack list is read once per poll, however many families want it.
    assert fake_heat.calls == 1
    assert result.stats["rows"] == 3
    assert result.stats["families"]["two"]["rows"] == 2


def test_failing_family_keeps_last_good_rows_and_others_update(
        conf, pm, static_auth):
    one, two = Family("one", [("1",)]), Family("two", [("2",)])
    pm.register(one, name="one")
    pm.register(two, name="two")
    poller = core.Poller(conf, pm)
    assert poller.poll().ok
    two.fail = RuntimeError("Heat said 500")
    one.rows = [("1b",)]
    result = poller.poll()
    assert result.tables["one"].rows == [("1b",)]
    assert result.tables["one"].stale is False
    assert result.tables["two"].rows == [("2",)]
    assert result.tables["two"].stale is True
    assert result.errors == {"two": "fetch two: RuntimeError: Heat said 500"}
    assert result.stats["stale_tables"] == ["two"]
    # And it recovers.
    two.fail = None
    two.rows = [("2b",)]
    result = poller.poll()
    assert result.ok and result.tables["two"].rows == [("2b",)]


def test_a_table_never_read_is_unknown_not_empty(conf, pm, static_auth):
    """A family failing from the first poll on has no last good rows: its
    table is stale *and* unknown (its empty rows mean "not known"); once
    read, a failure keeps the last good rows and is never unknown again."""
    one, two = Family("one", [("1",)]), Family("two", [("2",)])
    two.fail = RuntimeError("Heat said 500")
    pm.register(one, name="one")
    pm.register(two, name="two")
    sink = Sink()
    pm.register(sink, name="sink")
    poller = core.Poller(conf, pm)

    result = poller.poll()
    assert sink.results == [result]          # what sinks are handed
    td = result.tables["two"]
    assert td.rows == [] and td.stale is True and td.unknown is True
    assert result.tables["one"].unknown is False
    assert result.tables["one"].stale is False
    assert result.stats["stale_tables"] == ["two"]
    assert result.stats["unknown_tables"] == ["two"]
    data = result.to_json()["tables"]
    assert data["two"] == {"columns": ["x"], "rows": [], "stale": True,
                           "unknown": True}
    assert data["one"] == {"columns": ["x"], "rows": [["1"]],
                           "stale": False, "unknown": False}

    result = poller.poll()                   # still failing: still unknown
    assert result.tables["two"].unknown
    assert result.stats["unknown_tables"] == ["two"]

    two.fail = None
    result = poller.poll()
    assert result.ok
    td = result.tables["two"]
    assert td.rows == [("2",)] and not td.stale and not td.unknown
    assert result.stats["stale_tables"] == result.stats[
        "unknown_tables"] == []

    two.fail = RuntimeError("Heat said 503")
    result = poller.poll()
    td = result.tables["two"]
    assert td.rows == [("2",)] and td.stale is True and td.unknown is False
    assert result.stats["stale_tables"] == ["two"]
    assert result.stats["unknown_tables"] == []
    assert result.to_json()["tables"]["two"] == {
        "columns": ["x"], "rows": [["2"]], "stale": True, "unknown": False}


def test_an_empty_table_read_once_is_not_unknown(conf, pm, static_auth):
    """No rows read successfully are rows: a later failure keeps them
    (none), stale but known."""
    two = Family("two", [])
    pm.register(two, name="two")
    poller = core.Poller(conf, pm)
    assert poller.poll().tables["two"].rows == []
    two.fail = RuntimeError("Heat said 500")
    result = poller.poll()
    assert result.tables["two"].stale and not result.tables["two"].unknown
    assert result.stats["unknown_tables"] == []


def test_translate_failure_is_named(conf, pm, static_auth):
    pm.register(Family("one", translate_fail=KeyError("id")), name="one")
    result = core.Poller(conf, pm).poll()
    assert result.errors == {"one": "translate one: KeyError: 'id'"}
    assert result.tables["one"].rows == [] and result.tables["one"].stale
    assert result.tables["one"].unknown


@pytest.mark.parametrize("rows,message", [
    ({"one": [("a", "b")]}, "a row has 2 values, 1 declared"),
    ({"other": []}, "undeclared table"),
])
def test_rows_must_match_the_schema(conf, pm, static_auth, rows, message):
    class Bad(Family):
        @heatplug.hookimpl
        def heatplug_translate(self, raw):
            return rows

    pm.register(Bad("one"), name="one")
    result = core.Poller(conf, pm).poll()
    assert message in result.errors["one"]


def test_shared_stack_list_failure_is_reported_per_family(
        conf, pm, static_auth, fake_heat):
    pm.register(Family("one"), name="one")
    pm.register(Family("two"), name="two")
    fake_heat.stack_list = ConnectionError("refused")
    result = core.Poller(conf, pm).poll()
    assert set(result.errors) == {"one", "two"}
    assert fake_heat.calls == 1          # the failing read is not repeated


def test_auth_failure_marks_every_family(conf, pm):
    class NoAuth:
        @heatplug.hookimpl
        def heatplug_auth(self, conf):
            raise errors.AuthError("keystone says no")

    pm.register(NoAuth(), name="noauth")
    pm.register(Family("one"), name="one")
    result = core.Poller(conf, pm).poll()
    assert result.errors == {"one": "auth: keystone says no"}


def test_an_auth_plugin_that_hangs_fails_the_poll_not_for_ever(
        conf, pm, static_auth):
    """The auth hook is waited for stall_timeout seconds; it is not called
    again while it runs, and its late connection serves the next poll."""
    release, calls = threading.Event(), []

    class Hanging:
        @heatplug.hookimpl(tryfirst=True)
        def heatplug_auth(self, conf):
            calls.append(threading.current_thread().name)
            release.wait(30)
            return static_auth.conn

    conf.set_override("stall_timeout", 1, "heatplug")
    pm.register(Hanging(), name="hanging")
    pm.register(Family("one", [("1",)]), name="one")
    poller = core.Poller(conf, pm)
    started = time.monotonic()
    result = poller.poll()
    assert time.monotonic() - started < 10
    assert result.errors == {"one": "auth: the auth plugin gave no answer in "
                             "1 s ([heatplug] stall_timeout); still running, "
                             "not called again until it ends"}
    assert result.tables["one"].unknown
    assert poller.poll().errors == {"one": "auth: the auth plugin called in "
                                    "poll 1 is still running; not called "
                                    "again until it ends"}
    release.set()
    deadline = time.monotonic() + 10
    while poller._auth_call[0].running() and time.monotonic() < deadline:
        time.sleep(0.01)
    result = poller.poll()
    assert result.ok and result.tables["one"].rows == [("1",)]
    assert len(calls) == 1 and calls[0].startswith("heatplug-auth")
    assert poller.connection() is static_auth.conn


def test_failing_sink_does_not_stop_other_sinks(conf, pm, static_auth):
    pm.register(Family("one"), name="one")
    good = Sink()
    pm.register(Sink(fail=True), name="bad-sink")
    pm.register(good, name="good-sink")
    result = core.Poller(conf, pm).poll()
    assert len(good.results) == 1
    assert result.errors == {
        "bad-sink": "publish bad-sink: RuntimeError: sink is down"}


def test_stacks_family_through_the_core(conf, pm, static_auth):
    pm.register(stacks, name="stacks")
    result = core.Poller(conf, pm).poll()
    rows = result.tables["stacks"].rows
    assert [(r[0], r[7], r[8]) for r in rows] == [
        ("s1", "CREATE", "COMPLETE"), ("s2", "CREATE", "FAILED")]


def test_json_shape_is_the_contract(conf, pm, static_auth):
    pm.register(Family("one", [("1",)]), name="one")
    data = core.Poller(conf, pm).poll().to_json()
    assert set(data) == {"tables", "errors", "stats"}
    assert data["tables"] == {"one": {"columns": ["x"], "rows": [["1"]],
                                      "stale": False, "unknown": False}}
    assert {"requests", "seconds", "bytes", "stale_tables",
            "unknown_tables"} <= set(data["stats"])
    json.dumps(data)


class TestWriteAction:
    def test_disabled_by_default(self, conf, pm, static_auth):
        with pytest.raises(errors.WriteActionUnavailable,
                           match="write actions are disabled"):
            core.Poller(conf, pm).execute("stacks.delete", {"id": "x"})

    def test_not_allowed(self, conf, pm, static_auth):
        conf.set_override("write_actions_enabled", True, "heatplug")
        with pytest.raises(errors.WriteActionUnavailable,
                           match="not in .* write_actions_allowed"):
            core.Poller(conf, pm).execute("stacks.delete", {"id": "x"})

    def test_no_implementation(self, conf, pm, static_auth):
        conf.set_override("write_actions_enabled", True, "heatplug")
        conf.set_override("write_actions_allowed", ["stacks.delete"],
                          "heatplug")
        with pytest.raises(errors.WriteActionUnavailable,
                           match="no write action available"):
            core.Poller(conf, pm).execute("stacks.delete", {"id": "x"})

    def test_dispatched_to_a_plugin(self, conf, pm, static_auth):
        conf.set_override("write_actions_enabled", True, "heatplug")
        conf.set_override("write_actions_allowed", ["noop"], "heatplug")
        seen = []

        class Writer:
            @heatplug.hookimpl
            def heatplug_write_action(self, conn, action, args):
                seen.append((conn, action, args))
                return "done"

        pm.register(Writer(), name="writer")
        assert core.Poller(conf, pm).execute("noop", {"a": 1}) == "done"
        assert seen == [(static_auth.conn, "noop", {"a": 1})]


def test_digest_sees_values_not_how_they_are_shared():
    """A fetch's answer held by a cache as well, or decoded from other
    answers, is the same value: the same digest (the translation is
    reused); another value, another digest; what cannot be serialized
    (a cycle) is never reused."""
    answer = [{"id": str(i), "status": "CREATE_COMPLETE", "n": i}
              for i in range(5)]
    one_decode = json.loads(json.dumps(answer))
    five_decodes = [json.loads(json.dumps(item)) for item in answer]
    cache = {item["id"]: item for item in one_decode}   # more references
    assert core._digest(one_decode) == core._digest(five_decodes) == \
        core._digest(answer)
    assert cache
    assert core._digest(answer) != core._digest(answer[:4])
    assert core._digest([1]) != core._digest([1.0]) != core._digest([True])
    cyclic = {"a": []}
    cyclic["a"].append(cyclic)
    assert core._digest(cyclic) is None


# -- a poll that stalls -------------------------------------------------------

class Hanging(Family):
    """A family whose fetch waits for ``release`` (once the shared stack
    list is read), then answers its rows."""

    def __init__(self, name, rows=None):
        super().__init__(name, rows)
        self.release = threading.Event()
        self.release.set()
        self.started = threading.Event()

    @heatplug.hookimpl
    def heatplug_fetch(self, ctx):
        self.fetches += 1
        ctx.stacks()
        self.started.set()
        self.release.wait(30)
        return list(self.rows)


def test_a_hanging_family_is_given_up_on_and_the_others_publish(
        conf, pm, static_auth, caplog):
    conf.set_override("stall_timeout", 1, "heatplug")
    hang, one = Hanging("hang", [("h",)]), Family("one", [("1",)])
    pm.register(hang, name="hang")
    pm.register(one, name="one")
    poller = core.Poller(conf, pm)
    assert poller.poll().ok
    try:
        hang.release.clear()
        one.rows = [("1b",)]
        start = time.monotonic()
        result = poller.poll()
        assert time.monotonic() - start < 5
        assert result.errors["hang"].startswith(
            "fetch hang: no progress for 1 s")
        assert "still running in the background" in result.errors["hang"]
        assert result.errors["hang"].endswith("in flight: no Heat call")
        assert result.tables["hang"].stale
        assert result.tables["hang"].rows == [("h",)]    # last good rows
        assert result.tables["one"].rows == [("1b",)]
        assert not result.tables["one"].stale
        assert list(result.errors) == ["hang"]

        # while it hangs, it is not started again; the others go on
        result = poller.poll()
        assert hang.fetches == 2
        assert "still running; not started again" in result.errors["hang"]
        assert result.tables["hang"].rows == [("h",)]
        assert result.tables["one"].rows == [("1b",)]
    finally:
        hang.release.set()
    # once it has ended (its late answer dropped), it runs again
    deadline = time.monotonic() + 5
    while poller._abandoned["hang"][0].running():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    hang.rows = [("h2",)]
    result = poller.poll()
    assert result.ok
    assert hang.fetches == 3
    assert result.tables["hang"].rows == [("h2",)]
    assert "the fetch given up on in poll 2 has ended" in caplog.text
    # no thread of the given-up poll is left
    deadline = time.monotonic() + 5
    while [t for t in threading.enumerate()
           if t.name.startswith("heatplug-")]:
        assert time.monotonic() < deadline, threading.enumerate()
        time.sleep(0.01)


class Slow(Family):
    """A family that takes ``len(items) * pause`` seconds, item by item on
    the worker pool."""

    def __init__(self, name, items, pause):
        super().__init__(name)
        self.items, self.pause = items, pause

    @heatplug.hookimpl
    def heatplug_fetch(self, ctx):
        self.fetches += 1
        ctx.stacks()
        return ctx.map(lambda i: (time.sleep(self.pause), (str(i),))[1],
                       self.items)


def test_a_slow_family_that_makes_progress_is_waited_for(conf, pm,
                                                         static_auth):
    conf.set_override("stall_timeout", 1, "heatplug")
    conf.set_override("max_workers", 1, "heatplug")
    pm.register(Slow("slow", range(5), 0.4), name="slow")
    result = core.Poller(conf, pm).poll()
    assert result.ok, result.errors
    assert result.stats["seconds"] >= 2
    assert result.tables["slow"].rows == [(str(i),) for i in range(5)]


def test_stall_timeout_0_waits_for_ever(conf, pm, static_auth):
    conf.set_override("stall_timeout", 0, "heatplug")
    hang = Hanging("hang")
    pm.register(hang, name="hang")
    hang.release.clear()
    started = time.monotonic()
    threading.Timer(1.5, hang.release.set).start()
    result = core.Poller(conf, pm).poll()
    # it waited for the release (1.5 s: past the 1 s stall checks), and
    # did not give up
    assert time.monotonic() - started >= 1.5
    assert result.ok, result.errors
    assert result.stats["seconds"] >= 1.0
