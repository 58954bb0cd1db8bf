"""Poll benchmark: heatplug and Congress's own HeatV1Driver, side by side.

    python benchmarks/bench_polls.py \
        --endpoint http://127.0.0.1:18201/v1/admin \
        [--heat-pid PID] [--cold 3] [--steady 5] [--label S=100] [--json OUT]

Both run in this process, one after the other, against the same Heat:

- ``heatplug`` (every built-in family; ``[heatplug]`` defaults), and
  ``heatplug changed-only`` (``changed_stacks_only = true``);
- ``congress``: Congress 11.0.0's ``HeatV1Driver`` constructed the way
  Congress does (``datasource_utils.get_keystone_session`` patched to a
  noauth session, see docs/dev/congress-driver-contract.md section 6), each
  poll being ``update_from_datasource()`` (the Heat calls and translation of
  ``poll()``, without the message bus).

For each: ``--cold`` cold polls (a new poller / driver each time: empty
caches) and ``--steady`` polls of one poller after its cold poll, the
readers taking turns poll by poll (the machine's load drifts, and it slows
a reader bound by Heat's CPU more than one bound by Heat's latency).  Measured
per poll: HTTP round trips and bytes (a counting adapter on the session,
redirects included), wall seconds, CPU seconds of this process, CPU seconds
of the Heat server process (``--heat-pid``), and rows per table.
"""

import argparse
import contextlib
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from heatplug import core  # noqa: E402
from heatplug import manager  # noqa: E402
from heatplug import opts  # noqa: E402
from heatplug import stats  # noqa: E402

#: heatplug's own families (an installed third-party plugin is left out)
FAMILIES = ("stacks", "stack_details", "templates", "snapshots", "resources",
            "resource_types", "events", "software_configs",
            "software_deployments")


def heat_cpu(pid):
    """CPU seconds (user + system) the Heat server process used so far."""
    if not pid:
        return 0.0
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def measured(heat_pid):
    """Wall, CPU of this process and CPU of Heat over the block."""
    out = {}
    h0, c0, t0 = heat_cpu(heat_pid), time.process_time(), time.monotonic()
    yield out
    out["seconds"] = time.monotonic() - t0
    out["cpu_seconds"] = time.process_time() - c0
    out["heat_cpu_seconds"] = heat_cpu(heat_pid) - h0


# -- heatplug ----------------------------------------------------------------

def heatplug_poller(endpoint, **overrides):
    conf_file = tempfile.NamedTemporaryFile("w", suffix=".conf",
                                            delete=False)
    with conf_file:
        conf_file.write("[heat]\nauth_type = none\nendpoint_override = %s\n"
                        % endpoint)
    conf = opts.make_conf(config_files=[conf_file.name])
    os.unlink(conf_file.name)
    conf.set_override("enabled_plugins", list(FAMILIES), "heatplug")
    for key, value in overrides.items():
        conf.set_override(key, value, "heatplug")
    return core.Poller(conf, manager.build_plugin_manager(conf))


def heatplug_poll(poller, heat_pid):
    with measured(heat_pid) as m:
        result = poller.poll()
    if result.errors:
        raise RuntimeError("heatplug poll failed: %s" % result.errors)
    s = result.stats
    return dict(m, requests=s["requests"], bytes=s["bytes"],
                full_refresh=s.get("full_refresh"),
                families={n: {"requests": f["requests"],
                              "seconds": f["seconds"]}
                          for n, f in s["families"].items()},
                tables={n: len(td.rows) for n, td in result.tables.items()})


# -- Congress ----------------------------------------------------------------

class CongressRunner:
    """Congress's HeatV1Driver, built as Congress builds it."""

    def __init__(self, endpoint):
        from heatplug.congress import _compat
        _compat.init_config()
        from keystoneauth1 import session as ks_session
        from keystoneauth1 import token_endpoint
        from congress.datasources import datasource_utils
        from congress.datasources import heatv1_driver
        self.counters = stats.Counters()
        counters = self.counters

        def noauth_session(creds, headers=None):
            sess = ks_session.Session(
                auth=token_endpoint.Token(creds["endpoint"], "bench"),
                additional_headers=headers)
            stats.install(sess.session, counters)
            return sess

        args = {"auth_url": "http://unused", "username": "admin",
                "password": "unused", "project_name": "admin",
                "poll_time": 0, "endpoint": endpoint}
        with mock.patch.object(datasource_utils, "get_keystone_session",
                               noauth_session):
            self.driver = heatv1_driver.HeatV1Driver(name="heat", args=args)

    def poll(self, heat_pid):
        self.counters.reset()
        with measured(heat_pid) as m:
            self.driver.update_from_datasource()
        counted = self.counters.snapshot()
        return dict(m, requests=sum(c["requests"] for c in counted.values()),
                    bytes=sum(c["bytes"] for c in counted.values()),
                    tables={t: len(rows)
                            for t, rows in self.driver.state.items()})


# -- the runs ----------------------------------------------------------------

class Reader:
    """One of the compared readers: makes a cold poller and polls it."""

    def __init__(self, name, make, poll, cold, log):
        self.name, self.make, self._poll = name, make, poll
        self.cold_left = cold
        self.log = log
        self.current = None
        self.results = {"cold": [], "steady": []}

    def poll(self, kind):
        if kind == "cold":
            self.current = self.make()
        measured = self._poll(self.current)
        self.results.setdefault(kind, []).append(measured)
        self.log(kind, len(self.results[kind]), measured)
        return measured


def run_all(endpoint, heat_pid, cold, steady, runs, log, **extra):
    """The readers of ``runs``, interleaved poll by poll (the machine's
    load drifts, and it slows a reader bound by Heat's CPU more than one
    bound by Heat's latency): ``cold`` cold polls each (a new poller or
    driver each time; heatplug changed-only: one, its cold poll is
    heatplug's), then ``steady`` polls each of the last one, then for
    heatplug one more, a full refresh (``full_refresh_every`` is set so
    that it falls there)."""
    def heatplug(**overrides):
        options = dict(extra, full_refresh_every=steady + 1, **overrides)
        return lambda: heatplug_poller(endpoint, **options)

    readers = []
    if "heatplug" in runs:
        readers.append(Reader("heatplug", heatplug(),
                              lambda p: heatplug_poll(p, heat_pid), cold,
                              log("heatplug")))
    if "changed-only" in runs:
        readers.append(Reader("heatplug_changed_only",
                              heatplug(changed_stacks_only=True),
                              lambda p: heatplug_poll(p, heat_pid), 1,
                              log("heatplug changed-only")))
    if "congress" in runs:
        readers.append(Reader("congress", lambda: CongressRunner(endpoint),
                              lambda r: r.poll(heat_pid), cold,
                              log("congress")))
    for _ in range(cold):
        for reader in readers:
            if reader.cold_left:
                reader.cold_left -= 1
                reader.poll("cold")
    for _ in range(steady):
        for reader in readers:
            measured = reader.poll("steady")
            assert not measured.get("full_refresh")
    for reader in readers:
        if reader.name.startswith("heatplug"):
            assert reader.poll("full_refresh")["full_refresh"]
    return {reader.name: reader.results for reader in readers}


def summary(polls):
    """Medians of a list of poll measurements; tables from the last one."""
    if not polls:
        return None
    med = {k: statistics.median(p[k] for p in polls)
           for k in ("requests", "bytes", "seconds", "cpu_seconds",
                     "heat_cpu_seconds")}
    med["polls"] = len(polls)
    med["tables"] = polls[-1]["tables"]
    if "families" in polls[-1]:
        med["families"] = polls[-1]["families"]
    med["rows"] = sum(polls[-1]["tables"].values())
    return med


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--heat-pid", type=int, default=0)
    p.add_argument("--cold", type=int, default=3)
    p.add_argument("--steady", type=int, default=5)
    p.add_argument("--label", default="")
    p.add_argument("--stacks", type=int, default=0,
                   help="root stacks in the population (for the report)")
    p.add_argument("--runs", default="heatplug,changed-only,congress")
    p.add_argument("--max-workers", type=int, default=None)
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    os.environ["no_proxy"] = os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    logging.basicConfig(level=logging.WARNING)

    def logger(name):
        def log(kind, i, m):
            print("  %-22s %-12s %d: %5d requests %9d bytes %6.2f s wall "
                  "%5.2f s CPU %6.2f s Heat CPU" % (
                      name, kind, i, m["requests"], m["bytes"], m["seconds"],
                      m["cpu_seconds"], m["heat_cpu_seconds"]), flush=True)
        return log

    extra = {}
    if args.max_workers:
        extra["max_workers"] = args.max_workers
    results = {"label": args.label, "endpoint": args.endpoint,
               "loadavg_start": os.getloadavg()}
    raw = run_all(args.endpoint, args.heat_pid, args.cold, args.steady,
                  args.runs.split(","), logger, **extra)
    results["loadavg_end"] = os.getloadavg()
    if "heatplug" in raw:
        tables = raw["heatplug"]["cold"][-1]["tables"]
        results["population"] = {
            "root stacks": args.stacks or "?",
            "stacks": tables.get("stacks"),
            "resources": tables.get("resources"),
            "events": tables.get("events"),
            "deployments": tables.get("software_deployments"),
            "configs": tables.get("software_configs")}
    results["raw"] = raw
    results["summary"] = {name: {kind: summary(polls)
                                 for kind, polls in r.items()}
                          for name, r in raw.items()}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
    return results


if __name__ == "__main__":
    main()
