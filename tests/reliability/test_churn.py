"""Churn: many polls while stacks are created, updated and deleted.

A background thread keeps changing the real Heat (stacks with a
ResourceGroup and a nested template resource are created, updated so that
nested stacks come and go, and deleted) while the test polls back to back.
Every poll must return, with no family failing, with tables consistent
within the poll (no row of a stack-keyed table whose stack row is missing),
and memory, threads and open files must stay flat across the polls.
"""

import gc
import os
import random
import threading
import time
import uuid

import pytest
from heatclient import exc as heat_exc

from tests.reliability import conftest as rconf

POLLS = 20
#: polls before memory is measured (caches fill up first)
WARM_UP = 5
#: how much RSS may grow from the end of the warm-up to the last poll
MAX_RSS_GROWTH_KB = 40 * 1024
MAX_CHURN_STACKS = 4

#: a nested template: its parameter ``label`` is its output ``value``
CHILD = rconf.NESTED_CHILD

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "description": "churn",
    "parameters": {"count": {"type": "number", "default": 1},
                   "label": {"type": "string", "default": "a"}},
    "resources": {
        "group": {"type": "OS::Heat::ResourceGroup",
                  "properties": {"count": {"get_param": "count"},
                                 "resource_def": {
                                     "type": "churn_child.yaml",
                                     "properties": {"label": "member"}}}},
        "child": {"type": "churn_child.yaml",
                  "properties": {"label": {"get_param": "label"}}},
        "none": {"type": "OS::Heat::None"},
    },
}

#: tables whose rows name a stack, and the column that does
STACK_KEYED = {
    "stacks_links": "stack_id", "stacks_tags": "stack_id",
    "stack_details": "stack_id", "stack_parameters": "stack_id",
    "stack_outputs": "stack_id", "templates": "stack_id",
    "template_parameters": "stack_id", "template_resources": "stack_id",
    "template_outputs": "stack_id", "snapshots": "stack_id",
    "resources": "stack_id", "resources_links": "stack_id",
    "resources_attributes": "stack_id", "resources_metadata": "stack_id",
    "resources_required_by": "stack_id",
}


def rss_kb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_fds():
    return len(os.listdir("/proc/self/fd"))


class Churner(threading.Thread):
    """Creates, updates and deletes stacks until stopped."""

    def __init__(self, heat):
        super().__init__(name="churner", daemon=True)
        self.heat = heat
        self.stop = threading.Event()
        self.ops = {"create": 0, "update": 0, "delete": 0, "refused": 0}
        self.mine = {}          # id -> name
        self.error = None
        self.rng = random.Random(42)

    def run(self):
        try:
            while not self.stop.is_set():
                self.step()
                self.stop.wait(0.5)
        except Exception as exc:  # reported by the test
            self.error = exc

    def step(self):
        rng = self.rng
        live = self.live()
        if len(live) < MAX_CHURN_STACKS and (not live or rng.random() < 0.5):
            name = "churn-%s" % uuid.uuid4().hex[:8]
            created = self.heat.stacks.create(
                stack_name=name, template=TEMPLATE,
                parameters={"count": rng.randint(0, 1)},
                files={"churn_child.yaml": CHILD})
            self.mine[created["stack"]["id"]] = name
            self.ops["create"] += 1
            return
        sid, stack = rng.choice(sorted(live.items()))
        ident = "%s/%s" % (stack["stack_name"], sid)
        try:
            if stack["stack_status"].endswith("IN_PROGRESS"):
                return
            if rng.random() < 0.6:
                self.heat.stacks.update(
                    ident, template=TEMPLATE,
                    files={"churn_child.yaml": CHILD},
                    parameters={"count": rng.randint(0, 2),
                                "label": uuid.uuid4().hex[:6]})
                self.ops["update"] += 1
            else:
                self.heat.stacks.delete(ident)
                self.ops["delete"] += 1
        except (heat_exc.HTTPConflict, heat_exc.HTTPBadRequest,
                heat_exc.HTTPNotFound):
            self.ops["refused"] += 1     # it moved meanwhile: fine

    def live(self):
        return {s.id: s.to_dict() for s in self.heat.stacks.list()
                if s.id in self.mine
                and s.stack_status != "DELETE_COMPLETE"}

    def clean_up(self, timeout=120):
        """Delete every stack it made and wait until they are gone."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            live = self.live()
            if not live:
                return
            for sid, stack in live.items():
                if not stack["stack_status"].endswith("IN_PROGRESS") or \
                        stack["stack_status"] == "CREATE_IN_PROGRESS":
                    try:
                        self.heat.stacks.delete(
                            "%s/%s" % (stack["stack_name"], sid))
                    except heat_exc.HTTPException:
                        pass
            time.sleep(0.5)
        raise AssertionError("churn stacks left: %s" % sorted(self.live()))


def inconsistencies(result, with_events=True):
    """Rows of a fresh stack-keyed table whose stack is not in the fresh
    stacks table of the same poll."""
    if result.tables["stacks"].stale:
        return []
    ids = {r[0] for r in result.tables["stacks"].rows}
    found = []
    keyed = dict(STACK_KEYED, **({"events": "stack_id"} if with_events
                                 else {}))
    for table, column in keyed.items():
        td = result.tables.get(table)
        if td is None or td.stale:
            continue
        index = td.table.column_names.index(column)
        found += [(table, row[index]) for row in td.rows
                  if row[index] not in ids]
    return found


@pytest.fixture
def churner(local_heat, population):
    churn = Churner(local_heat.client())
    churn.start()
    yield churn
    churn.stop.set()
    churn.join(30)
    churn.clean_up()


def test_polls_under_churn(tmp_path, local_heat, churner, request):
    poller = rconf.make_poller(tmp_path, local_heat.endpoint, timeout=30)
    rss, threads, fds, seconds = [], [], [], []
    errors, broken = {}, []
    for n in range(POLLS):
        result = poller.poll()
        seconds.append(result.stats["seconds"])
        if result.errors:
            errors[n + 1] = result.errors
        bad = inconsistencies(result)
        if bad:
            broken.append((n + 1, bad, len(bad)))
        del result
        gc.collect()
        rss.append(rss_kb())
        threads.append(threading.active_count())
        fds.append(open_fds())
    churner.stop.set()
    churner.join(30)
    assert churner.error is None, churner.error
    ops = churner.ops
    line = ("churn: %d polls (%.1f s each on average), %s; RSS %d -> %d kB "
            "(after poll %d -> %d), threads %d -> %d, fds %d -> %d"
            % (POLLS, sum(seconds) / len(seconds), ops, rss[WARM_UP - 1],
               rss[-1], WARM_UP, POLLS, threads[WARM_UP - 1], threads[-1],
               fds[WARM_UP - 1], fds[-1]))
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_line(line)
    # Heat really changed under the polls
    assert ops["create"] >= 3 and ops["update"] + ops["delete"] >= 3, ops
    # no family failed
    assert not errors, errors
    # flat: memory, threads, sockets and files
    assert rss[-1] - rss[WARM_UP - 1] < MAX_RSS_GROWTH_KB, line
    assert threads[-1] <= threads[WARM_UP - 1] + 1, line
    assert fds[-1] <= fds[WARM_UP - 1] + 5, line
    # every poll was consistent: no row of a stack missing from its list
    assert not broken, [(n, sorted({t for t, _ in bad}))
                        for n, bad, _ in broken]


@pytest.fixture
def hidden_nested(proxy, population):
    """A poll result in which a nested stack is newer than the stack list
    (the proxy hides it from the list, as if it was created just after)."""
    nested = [s for s in population.values()
              if s.get("parent") == population["pop-nested"]["id"]]
    hidden = nested[0]["id"]

    def hide(body):
        body["stacks"] = [s for s in body["stacks"] if s["id"] != hidden]
        return body

    proxy.add(r"^/v1/admin/stacks\?show_nested=True", "body", rewrite=hide)
    return hidden


def _poll_hiding(tmp_path, proxy, hidden):
    result = rconf.make_poller(tmp_path, proxy.url + "/v1/admin").poll()
    assert result.ok, result.errors
    assert hidden not in {r[0] for r in result.tables["stacks"].rows}
    return result


def test_resources_of_a_nested_stack_newer_than_the_list(tmp_path, proxy,
                                                         hidden_nested):
    result = _poll_hiding(tmp_path, proxy, hidden_nested)
    bad = [b for b in inconsistencies(result) if b[0].startswith("resources")]
    assert not bad, sorted({t for t, _ in bad})


def test_events_of_a_nested_stack_newer_than_the_list(tmp_path, proxy,
                                                      hidden_nested):
    result = _poll_hiding(tmp_path, proxy, hidden_nested)
    bad = [b for b in inconsistencies(result) if b[0] == "events"]
    assert not bad, len(bad)


def test_nothing_else_of_a_nested_stack_newer_than_the_list(tmp_path, proxy,
                                                            hidden_nested):
    result = _poll_hiding(tmp_path, proxy, hidden_nested)
    bad = inconsistencies(result)
    assert not bad, sorted({t for t, _ in bad})
