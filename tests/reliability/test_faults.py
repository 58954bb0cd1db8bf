"""The fault matrix: one fault at a time between heatplug and the real Heat.

A :class:`faultproxy.FaultProxy` on loopback sits in front of this
directory's real local Heat.  For each fault the test polls once cleanly
(the last good rows), once with the fault, and once after it, and checks:

* the poll returns (no hang, no exception) within a bound;
* the failed families, and only they, are in ``errors``, each message
  naming the family (``fetch <family>:``) and the Heat call
  (``GET /resource_types...``);
* their tables keep the last good rows and are marked stale, in the
  result, in ``stats.stale_tables`` and per family in the JSON output;
* every other family publishes fresh rows;
* retries are bounded (the proxy counts the attempts) and back off
  exponentially (0.5 s, 1 s, 2 s);
* the next poll without the fault is clean: the poll loop goes on.

Each test adds a line to the fault matrix printed at the end of the run.
"""

import pathlib
import tempfile
import threading
import time

import pytest

from heatplug import auth
from heatplug.plugins import events as events_family
from tests.reliability import conftest as rconf

# a short [heat] timeout keeps the slow-Heat fault quick
TIMEOUT = 1
# keystoneauth's exponential backoff with heatplug's defaults
BACKOFF = (0.5, 1.0, 2.0)

STACK_LIST = r"^/v1/admin/stacks\?show_nested=True"
# A call that one family alone makes (software_deployments is shared with
# resources), its tables and how the call shows in error messages.
CONFIGS = r"^/v1/admin/software_configs\?"
CONFIGS_CALL = "GET /software_configs?"
CONFIGS_TABLES = ["software_configs", "software_configs_inputs",
                  "software_configs_options", "software_configs_outputs"]
STACK_FAMILIES = {"stacks", "stack_details", "templates", "snapshots",
                  "resources", "events"}

MATRIX = []


@pytest.fixture(scope="module", autouse=True)
def fault_matrix(request):
    """Print the fault matrix (one line per fault) at the end."""
    yield MATRIX
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not MATRIX:
        return
    reporter.write_line("")
    reporter.write_line("fault matrix (fault | outcome | attempts | "
                        "poll seconds)")
    for line in MATRIX:
        reporter.write_line("  " + line)


def note(fault, outcome, attempts, seconds):
    MATRIX.append("%-46s | %-44s | %s | %.1f s" % (fault, outcome, attempts,
                                                   seconds))


@pytest.fixture(scope="module")
def shared_proxy(heat_url):
    from tests.reliability import faultproxy
    with faultproxy.FaultProxy(heat_url) as p:
        yield p


@pytest.fixture(scope="module")
def shared_poller(tmp_path_factory, shared_proxy, population):
    return rconf.make_poller(tmp_path_factory.mktemp("faults"),
                             shared_proxy.url + "/v1/admin", timeout=TIMEOUT)


@pytest.fixture
def proxy(shared_proxy):
    """The module's proxy, without rules."""
    shared_proxy.clear()
    yield shared_proxy
    shared_proxy.clear()
    shared_proxy.accept()


@pytest.fixture
def poller(shared_poller, proxy):
    """The module's poller (warm caches), through :func:`proxy`."""
    return shared_poller


@pytest.fixture
def cold_poller(tmp_path, proxy):
    """A new poller (cold caches) through the module's proxy."""
    return rconf.make_poller(tmp_path, proxy.url + "/v1/admin",
                             timeout=TIMEOUT)


def families_of(poller):
    return {name: [t.name for t in tables]
            for name, tables in poller.plugins.tables().items()}


def good_poll(poller):
    result = poller.poll()
    assert result.ok, result.errors
    assert not result.stats["stale_tables"]
    return result


def check_failed_cleanly(poller, good, result, failed, call):
    """``failed`` families (only) failed with an error naming the family
    and ``call``; their tables kept ``good``'s rows, marked stale (in the
    result and its JSON); every other family is fresh."""
    assert set(result.errors) == set(failed), result.errors
    for family in failed:
        message = result.errors[family]
        assert message.startswith("fetch %s: " % family), message
        assert call in message, message
    tables = families_of(poller)
    stale = sorted(t for f in failed for t in tables[f])
    data = result.to_json()
    assert data["stats"]["stale_tables"] == stale
    assert set(data["errors"]) == set(failed)
    for family, names in tables.items():
        assert data["stats"]["families"][family]["stale"] is (
            family in failed)
        for name in names:
            td = result.tables[name]
            assert td.stale is (family in failed), name
            if family in failed:
                assert td.rows == good.tables[name].rows, name
    # the fresh families did publish (Heat did not change meanwhile)
    for name in ("stacks", "resource_types", "software_deployments"):
        if name not in failed:
            assert rconf.rows(result, name) == rconf.rows(good, name)


def attempts(proxy, pattern):
    return proxy.requests(pattern)


def gaps(seen):
    return [round(b.at - a.at, 2) for a, b in zip(seen, seen[1:])]


def check_backoff(seen, extra=0.0):
    """Attempt gaps follow keystoneauth's exponential backoff."""
    for gap, delay in zip(gaps(seen), BACKOFF):
        assert delay * 0.9 <= gap <= delay + extra + 1.5, gaps(seen)


def timed_poll(poller, proxy=None):
    """Poll once; the proxy forgets what it saw before."""
    if proxy is not None:
        proxy.forget()
    start = time.monotonic()
    result = poller.poll()
    return result, time.monotonic() - start


# ---------------------------------------------------------------------------
# connection faults
# ---------------------------------------------------------------------------

def test_connection_refused(poller, proxy):
    good = good_poll(poller)
    proxy.refuse()
    try:
        result, seconds = timed_poll(poller, proxy)
    finally:
        proxy.accept()
    # nothing listens: every family that reads Heat fails
    failed = set(families_of(poller))
    assert set(result.errors) == failed
    for family, message in result.errors.items():
        assert message.startswith("fetch %s: ConnectFailure: GET /" % family)
        assert "Unable to establish connection" in message
    assert "GET /stacks?show_nested=True" in result.errors["stacks"]
    assert "GET /resource_types" in result.errors["resource_types"]
    check_failed_cleanly(poller, good, result, failed, "GET /")
    # 1 + 3 attempts per call (counted at the HTTP layer), with backoff
    assert result.stats["families"]["resource_types"]["requests"] == 4
    assert result.stats["shared_requests"] % 4 == 0
    assert sum(BACKOFF) <= seconds < sum(BACKOFF) + 5
    note("connection refused (whole poll)",
         "all %d families stale, errors name calls" % len(failed), "4/call",
         seconds)
    assert good_poll(poller).ok


def test_connection_refused_then_back(poller, proxy):
    good_poll(poller)
    proxy.refuse()
    threading.Timer(0.8, proxy.accept).start()
    result, seconds = timed_poll(poller, proxy)
    assert result.ok, result.errors
    assert not result.stats["stale_tables"]
    assert len(attempts(proxy, STACK_LIST)) == 1    # served after ...
    assert seconds >= 0.8                           # ... retrying
    note("connection refused for 0.8 s", "ok after retries",
         ">= 2 (stack list)", seconds)


@pytest.mark.parametrize("times", [2, None], ids=["transient", "persistent"])
def test_connection_reset(poller, proxy, times):
    good = good_poll(poller)
    rule = proxy.add(r"^/v1/admin/resource_types\?with_description",
                     "reset", times=times)
    result, seconds = timed_poll(poller, proxy)
    seen = attempts(proxy, r"/resource_types\?with_description")
    if times:
        assert result.ok, result.errors
        assert rule.hits == 2 and len(seen) == 3
        outcome = "ok after retries"
    else:
        check_failed_cleanly(poller, good, result, ["resource_types"],
                             "GET /resource_types?with_description=True")
        assert "ConnectFailure" in result.errors["resource_types"]
        assert rule.hits == 4 and len(seen) == 4
        outcome = "resource_types stale, others fresh"
    check_backoff(seen)
    note("connection reset (%s)" % ("x2" if times else "always"), outcome,
         len(seen), seconds)


# ---------------------------------------------------------------------------
# HTTP errors
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_persistent(poller, proxy, status):
    good = good_poll(poller)
    # the backoff is checked on 500; 502 and 503 say Retry-After: 0
    headers = {} if status == 500 else {"Retry-After": "0"}
    proxy.add(CONFIGS, "status", status=status, headers=headers)
    result, seconds = timed_poll(poller, proxy)
    seen = attempts(proxy, CONFIGS)
    check_failed_cleanly(poller, good, result, ["software_configs"],
                         CONFIGS_CALL)
    assert "injected %d" % status in result.errors["software_configs"]
    assert len(seen) == 4                      # 1 + 3 retries, no more
    if status == 500:
        check_backoff(seen)
    note("HTTP %d (always)%s" % (status, "" if status == 500 else
                                 ", Retry-After: 0"),
         "software_configs stale, others fresh", len(seen), seconds)


def test_5xx_transient_on_the_shared_stack_list(poller, proxy):
    good_poll(poller)
    for status in (500, 502, 503):
        proxy.clear()
        proxy.add(STACK_LIST, "status", status=status, times=1)
        result, seconds = timed_poll(poller, proxy)
        assert result.ok, result.errors
        assert len(attempts(proxy, STACK_LIST)) == 2
        note("HTTP %d once, on the shared stack list" % status,
             "ok after one retry", 2, seconds)


def test_5xx_on_the_shared_stack_list_keeps_every_stack_table(poller,
                                                              proxy):
    """What a Congress policy must never see: no stacks because Heat
    answered 500 once too often.  Every family that needs the stack list
    keeps its last good rows, marked stale; the others are fresh."""
    good = good_poll(poller)
    proxy.add(STACK_LIST, "status", status=500, headers={"Retry-After": "0"})
    result, seconds = timed_poll(poller, proxy)
    failed = set(result.errors)
    # the stack families, and any third-party family that reads the list
    assert STACK_FAMILIES <= failed
    check_failed_cleanly(poller, good, result, failed,
                         "GET /stacks?show_nested=True")
    assert not {"resource_types", "software_configs",
                "software_deployments"} & failed
    assert result.tables["stacks"].rows          # not empty: last good
    assert len(attempts(proxy, STACK_LIST)) == 4  # read once for all
    note("HTTP 500 (always), shared stack list",
         "%d stack families stale, others fresh" % len(failed), 4, seconds)


def test_retry_after_is_capped(poller, proxy, monkeypatch):
    monkeypatch.setattr(auth, "MAX_RETRY_AFTER", 1)
    good_poll(poller)
    proxy.add(r"^/v1/admin/resource_types\?with_description", "status",
              status=503, times=1, headers={"Retry-After": "3600"})
    result, seconds = timed_poll(poller, proxy)
    assert result.ok, result.errors
    seen = attempts(proxy, r"/resource_types\?with_description")
    assert len(seen) == 2 and 0.9 <= gaps(seen)[0] < 3
    note("HTTP 503 once with Retry-After: 3600",
         "ok; waited the cap, not an hour", 2, seconds)


def test_slower_than_the_timeout(poller, proxy):
    good = good_poll(poller)
    proxy.add(r"^/v1/admin/resource_types\?with_description", "delay",
              seconds=TIMEOUT + 1)
    result, seconds = timed_poll(poller, proxy)
    seen = attempts(proxy, r"/resource_types\?with_description")
    check_failed_cleanly(poller, good, result, ["resource_types"],
                         "GET /resource_types?with_description=True")
    assert "ConnectTimeout" in result.errors["resource_types"]
    assert "timed out" in result.errors["resource_types"]
    assert len(seen) == 4
    check_backoff(seen, extra=TIMEOUT)
    # 4 timeouts and the backoff between them, nothing more
    assert seconds < 4 * TIMEOUT + sum(BACKOFF) + 4
    note("response slower than the timeout (%d s)" % TIMEOUT,
         "resource_types stale, others fresh", len(seen), seconds)


def test_trickling_body(poller, proxy):
    """Heat's headers at once, its body 16 bytes every 0.2 s: each socket
    read is quick, the whole answer would take minutes."""
    good = good_poll(poller)
    proxy.add(r"^/v1/admin/resource_types\?with_description", "trickle")
    result, seconds = timed_poll(poller, proxy)
    seen = attempts(proxy, r"/resource_types\?with_description")
    check_failed_cleanly(poller, good, result, ["resource_types"],
                         "GET /resource_types?with_description=True")
    assert "timed out" in result.errors["resource_types"]
    assert len(seen) == 4
    check_backoff(seen, extra=TIMEOUT + 0.5)
    # each try gives up about TIMEOUT after the headers
    assert seconds < 4 * (TIMEOUT + 0.5) + sum(BACKOFF) + 4
    note("body trickled (16 bytes / 0.2 s)",
         "resource_types stale, others fresh", len(seen), seconds)


STALL = 2
TYPES = r"^/v1/admin/resource_types\?with_description"
TYPES_CALL = "GET /resource_types?with_description=True"


def test_trickling_headers_stall_only_their_family(poller, proxy):
    """Heat's status line and headers a byte every 0.1 s: no socket read
    ever times out and the answer never seems to come.  The poll gives up
    on that family once nothing has moved for [heatplug] stall_timeout
    seconds, naming the call in flight; the others publish; the family is
    not started again while its call goes on, and polls cleanly after."""
    good = good_poll(poller)
    poller.conf.set_override("stall_timeout", STALL, "heatplug")
    try:
        proxy.add(TYPES, "trickle-headers", times=1, pause=0.1)
        result, seconds = timed_poll(poller, proxy)
        check_failed_cleanly(poller, good, result, ["resource_types"],
                             TYPES_CALL)
        message = result.errors["resource_types"]
        assert "no progress for %d s" % STALL in message
        assert "in flight: %s (" % TYPES_CALL in message
        assert STALL <= seconds < STALL + 6
        note("headers trickled (1 byte / 0.1 s)",
             "resource_types stale (stalled), others fresh",
             len(attempts(proxy, TYPES)), seconds)

        # the call still trickles: the family is not started again
        result = poller.poll()
        assert set(result.errors) == {"resource_types"}
        assert "still running; not started again" in \
            result.errors["resource_types"]
        assert len(attempts(proxy, TYPES)) == 1
        assert rconf.rows(result, "stacks") == rconf.rows(good, "stacks")
    finally:
        poller.conf.clear_override("stall_timeout", "heatplug")
    # the trickle ends, the family's fetch with it; then a clean poll
    ended = poller._abandoned["resource_types"][0]
    ended.exception(timeout=120)
    result = good_poll(poller)
    assert rconf.rows(result, "resource_types") == rconf.rows(
        good, "resource_types")


def test_a_stalled_poll_does_not_keep_the_cli_from_exiting(proxy, tmp_path):
    """``heatplug poll`` prints what it has and exits although a thread
    is still stuck reading a trickled answer (minutes long)."""
    conf = rconf.write_conf(tmp_path / "heatplug.conf",
                            proxy.url + "/v1/admin", timeout=TIMEOUT)
    stall = tmp_path / "stall.conf"
    stall.write_text("[heatplug]\nstall_timeout = %d\n" % STALL)
    proxy.add(TYPES, "trickle-headers", times=1, pause=0.5)
    start = time.monotonic()
    proc = rconf.run_cli(["--config-file", str(conf), "--config-file",
                          str(stall), "poll"], timeout=120)
    seconds = time.monotonic() - start
    assert proc.returncode == 1, proc.stderr
    assert "fetch resource_types: no progress for %d s" % STALL in \
        proc.stderr + proc.stdout
    assert "stacks" in proc.stdout
    # the trickle alone would take minutes; the process needs a cold poll
    assert seconds < 60
    assert proxy.requests(TYPES)[0].status is None    # still trickling
    note("headers trickled, `heatplug poll`",
         "exits (rc 1) after the stall", 1, seconds)


# ---------------------------------------------------------------------------
# bad answers
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind,expect", [
    ("truncate", "is not valid JSON"),
    ("garbage", "is not valid JSON"),
    ("cut", CONFIGS_CALL),
], ids=["truncated-json", "invalid-json", "body-cut-short"])
def test_bad_answer(poller, proxy, kind, expect):
    good = good_poll(poller)
    proxy.add(CONFIGS, kind)
    result, seconds = timed_poll(poller, proxy)
    seen = attempts(proxy, CONFIGS)
    check_failed_cleanly(poller, good, result, ["software_configs"],
                         CONFIGS_CALL)
    assert expect in result.errors["software_configs"]
    assert len(seen) == 1          # an answer that arrived is not retried
    note({"truncate": "truncated JSON (valid HTTP)",
          "garbage": "invalid JSON (HTML, JSON content type)",
          "cut": "body cut short (incomplete read)"}[kind],
         "software_configs stale: " + result.errors[
             "software_configs"].split(": ")[1], len(seen), seconds)


def test_malformed_records_in_a_real_answer(poller, proxy, caplog):
    """Heat's stack list with malformed entries added: the poll completes;
    the bad records are skipped, counted and named in a warning."""
    good_poll(poller)

    def poison(body):
        body["stacks"] += [
            {"id": "bad-1", "stack_name": "bad-1", "links": "not a list",
             "stack_status": "CREATE_COMPLETE", "parent": None},
            {"id": None, "stack_name": None},
        ]
        return body

    proxy.add(STACK_LIST, "body", rewrite=poison)
    result, seconds = timed_poll(poller, proxy)
    skipped = result.stats["families"]["stacks"]["skipped"]
    assert len(skipped) == 2, skipped
    assert any(s.startswith("stack bad-1: ") for s in skipped)
    assert any(s.startswith("stack #") and "(no id): " in s for s in skipped)
    assert any("skipped malformed stack bad-1" in r.getMessage()
               for r in caplog.records)
    assert "stacks" not in result.errors
    # the families that read per stack skip the bad ones or fail cleanly
    for family, message in result.errors.items():
        assert message.startswith(("fetch %s: " % family,
                                   "translate %s: " % family)), message
    note("malformed records in the stack list",
         "2 skipped+counted+warned; %d famil%s failed" % (
             len(result.errors), "y" if len(result.errors) == 1 else "ies"),
         1, seconds)


# ---------------------------------------------------------------------------
# Heat changing under the poll
# ---------------------------------------------------------------------------

def test_404_for_a_stack_deleted_between_list_and_detail(cold_poller, proxy,
                                                         population):
    simple = population["pop-simple"]
    gone = r"^/v1/admin/stacks/pop-simple/%s(/|$|\?)" % simple["id"]
    good = good_poll(cold_poller)
    # a cold poller: caches would serve the stack without a call
    poller = rconf.make_poller(
        pathlib.Path(tempfile.mkdtemp()), proxy.url + "/v1/admin",
        timeout=TIMEOUT)
    rule = proxy.add(gone, "status", status=404,
                     message="The Stack (pop-simple) could not be found.")
    result, seconds = timed_poll(poller, proxy)
    assert result.ok, result.errors
    assert rule.hits >= 3       # detail, template, snapshots, resources ...
    assert len(attempts(proxy, gone)) == rule.hits     # 404: no retry
    sid = simple["id"]
    assert sid in {r[0] for r in result.tables["stacks"].rows}
    for table in ("stack_details", "templates", "snapshots", "resources"):
        before = {r for r in good.tables[table].rows if sid in r[:2]}
        after = {r for r in result.tables[table].rows if sid in r[:2]}
        if table != "snapshots":
            assert before, table
        assert not after, table
        # every other stack is still there
        assert {r for r in good.tables[table].rows if sid not in r[:2]} == \
            set(result.tables[table].rows), table
    note("404: stack deleted between list and detail",
         "ok; its per-stack rows left out", rule.hits, seconds)


def test_event_marker_pruned(cold_poller, proxy, monkeypatch):
    """An incremental events read whose marker Heat no longer has: Heat
    answers from the first event again; the family notices and re-reads."""
    monkeypatch.setattr(events_family, "SETTLE_SECONDS", 0)
    poller = cold_poller
    good = good_poll(poller)
    proxy.forget()
    warm = good_poll(poller)
    assert attempts(proxy, r"/events\?.*marker=")    # incremental reads
    assert rconf.rows(warm, "events") == rconf.rows(good, "events")

    def forget_marker(query):
        query["marker"] = "00000000-0000-0000-0000-000000000000"
        return query

    rule = proxy.add(r"/events\?.*marker=", "query", rewrite=forget_marker)
    result, seconds = timed_poll(poller, proxy)
    assert result.ok, result.errors
    assert rule.hits >= 1
    rereads = [s for s in attempts(proxy, r"/events\?")
               if "marker=" not in s.target]
    assert rereads                         # the trees were read again
    assert rconf.rows(result, "events") == rconf.rows(good, "events")
    note("event marker pruned by Heat", "ok; events re-read, none lost",
         "%d marker + %d full" % (rule.hits, len(rereads)), seconds)


# ---------------------------------------------------------------------------
# authentication
# ---------------------------------------------------------------------------

def test_401_without_reauthentication(poller, proxy):
    """A noauth/admin-token connection cannot re-authenticate: the family
    fails cleanly, once, with the call named."""
    good = good_poll(poller)
    proxy.add(CONFIGS, "status", status=401)
    result, seconds = timed_poll(poller, proxy)
    check_failed_cleanly(poller, good, result, ["software_configs"],
                         CONFIGS_CALL)
    assert "HTTPUnauthorized" in result.errors["software_configs"]
    assert len(attempts(proxy, CONFIGS)) == 1
    note("401, no way to re-authenticate (noauth)",
         "software_configs stale, others fresh", 1, seconds)


@pytest.fixture(scope="module")
def keystone_proxy(heat_url):
    """Another proxy, also answering a minimal Keystone v3 (its catalog
    points at the proxy)."""
    from tests.reliability import faultproxy
    with faultproxy.FaultProxy(heat_url, identity=True) as p:
        yield p


@pytest.fixture(scope="module")
def password_poller(tmp_path_factory, keystone_proxy, population):
    return rconf.make_poller(
        tmp_path_factory.mktemp("password"), auth_type="password",
        auth_url=keystone_proxy.url + "/identity/v3", username="heatplug",
        password=rconf.CANARY["configured_password"], project_name="admin",
        user_domain_name="Default", project_domain_name="Default",
        timeout=TIMEOUT)


def test_401_re_authenticates(password_poller, keystone_proxy):
    poller = password_poller
    keystone_proxy.clear()
    good_poll(poller)
    tokens = len(keystone_proxy.tokens)
    assert tokens >= 1
    rule = keystone_proxy.add(STACK_LIST, "status", status=401, times=1)
    result, seconds = timed_poll(poller, keystone_proxy)
    assert result.ok, result.errors
    assert rule.hits == 1
    assert len(keystone_proxy.tokens) == tokens + 1       # a new token ...
    assert len(attempts(keystone_proxy, STACK_LIST)) == 2  # ... and a retry
    note("401 once, password auth", "ok; re-authenticated, retried", 2,
         seconds)


def test_401_always_is_bounded(password_poller, keystone_proxy):
    poller = password_poller
    keystone_proxy.clear()
    good = good_poll(poller)
    tokens = len(keystone_proxy.tokens)
    keystone_proxy.add(CONFIGS, "status", status=401)
    result, seconds = timed_poll(poller, keystone_proxy)
    check_failed_cleanly(poller, good, result, ["software_configs"],
                         CONFIGS_CALL)
    assert len(attempts(keystone_proxy, CONFIGS)) == 2   # one re-auth retry
    assert len(keystone_proxy.tokens) == tokens + 1
    keystone_proxy.clear()
    note("401 always, password auth",
         "software_configs stale; one re-auth, no loop", 2, seconds)


def test_keystone_rejects_the_password_then_recovers(tmp_path,
                                                     keystone_proxy):
    poller = rconf.make_poller(
        tmp_path, auth_type="password",
        auth_url=keystone_proxy.url + "/identity/v3", username="heatplug",
        password=rconf.CANARY["configured_password"], project_name="admin",
        user_domain_name="Default", project_domain_name="Default",
        timeout=TIMEOUT)
    keystone_proxy.reject_passwords = True
    try:
        result, seconds = timed_poll(poller, keystone_proxy)
    finally:
        keystone_proxy.reject_passwords = False
    assert set(result.errors) == set(families_of(poller))
    assert all("Unauthorized" in m or "401" in m
               for m in result.errors.values()), result.errors
    assert rconf.CANARY["configured_password"] not in rconf.as_json(result)
    assert good_poll(poller).ok
    note("Keystone rejects the password", "every family errors; recovers",
         1, seconds)


# ---------------------------------------------------------------------------
# the poll loop
# ---------------------------------------------------------------------------

def test_the_poll_loop_survives_every_fault_in_turn(poller, proxy):
    good = good_poll(poller)
    polls = good.stats["poll"]
    no_wait = {"Retry-After": "0"}
    faults = [
        (r"^/v1/admin/resource_types\?with", "reset", {}),
        (CONFIGS, "status", {"status": 500, "headers": no_wait}),
        (STACK_LIST, "status", {"status": 503, "headers": no_wait}),
        (CONFIGS, "truncate", {}),
        (r"^/v1/admin/resource_types\?with", "garbage", {}),
        (CONFIGS, "status", {"status": 401}),
        (CONFIGS, "cut", {}),
    ]
    start = time.monotonic()
    for pattern, kind, params in faults:
        proxy.clear()
        proxy.add(pattern, kind, **params)
        result = poller.poll()
        assert result.errors, (kind, pattern)
        assert result.tables["stacks"].rows       # never published empty
        for td in result.tables.values():
            if td.stale:
                assert td.rows == good.tables[td.table.name].rows
    proxy.clear()
    final = good_poll(poller)
    assert not any(td.stale for td in final.tables.values())
    assert final.stats["poll"] == polls + len(faults) + 1
    note("%d faults in a row, then none" % len(faults),
         "every poll returned; last one clean", "-",
         time.monotonic() - start)


def test_congress_driver_status_shows_the_fault(proxy, population):
    """The Congress driver's get_status() names the stale tables and the
    error (family and call) of a fault."""
    driver = pytest.importorskip("heatplug.congress.driver",
                                 reason="the Congress driver is not here")
    from tests.congress.conftest import FakeNode
    d = driver.HeatplugDriver(name="heatplug", args={
        "endpoint": proxy.url + "/v1/admin", "poll_time": "0",
        "timeout": str(TIMEOUT)})
    d.node = FakeNode()
    d.poll()
    assert d.get_status()["stale_tables"] == []
    good = set(d.state["software_configs"])
    assert good
    proxy.add(CONFIGS, "status", status=503, headers={"Retry-After": "0"})
    d.poll()
    status = d.get_status()
    assert status["stale_tables"] == CONFIGS_TABLES
    message = status["plugin_errors"]["software_configs"]
    assert message.startswith("fetch software_configs: ")
    assert CONFIGS_CALL in message
    assert CONFIGS_CALL in status["last_error"]
    assert status["poll_stats"]["families"]["software_configs"][
        "stale"] is True
    assert d.state["software_configs"] == good
    proxy.clear()
    d.poll()
    assert d.get_status()["stale_tables"] == []
    note("HTTP 503 always, through the Congress driver",
         "get_status: stale_tables + plugin_errors", 4, 0)
