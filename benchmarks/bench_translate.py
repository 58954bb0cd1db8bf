"""Translation benchmark: heatplug's translate against Congress's translator.

    python benchmarks/bench_translate.py [--stacks 2000] [--resources 20]
        [--events 50] [--repeat 3] [--json OUT]

Synthetic records shaped like Heat 27's answers (the recorded fixtures in
tests/fixtures give the shapes): ``--stacks`` root stacks, each with
``--resources`` resources and ``--events`` events.  The same records are
translated by

- heatplug: the ``stacks``, ``resources`` and ``events`` families'
  ``heatplug_translate`` plus the core's row check (what a poll runs;
  resource and event records carry what heatplug's fetch adds: metadata,
  templates for the secret analysis, event details), and
- Congress 11.0.0: ``HeatV1Driver``'s ``_translate_stacks``,
  ``_translate_resources`` and ``_translate_events`` (``convert_objs`` and
  the state update of ``update_state_on_changed``, exactly what its poll
  runs; the stacks are attribute objects, as heatclient hands them).

Prints, for each, the rows produced, the median CPU seconds of ``--repeat``
runs (the two interleaved: the machine's speed drifts), rows per second,
and the peak memory the translation allocated (``tracemalloc``, in a
separate run: tracing slows Python down).
"""

import argparse
import gc
import json
import os
import statistics
import sys
import time
import tracemalloc
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from heatplug import core  # noqa: E402
from heatplug.plugins import events as events_family  # noqa: E402
from heatplug.plugins import resources as resources_family  # noqa: E402
from heatplug.plugins import stacks as stacks_family  # noqa: E402

BASE = "http://127.0.0.1:8004/v1/admin"
TYPES = ("OS::Heat::RandomString", "OS::Heat::Value", "OS::Heat::None",
         "OS::Heat::SoftwareConfig")


def _uuid(kind, *numbers):
    digits = "".join("%06d" % n for n in numbers)[-12:].rjust(12, "0")
    return "%08x-0000-4000-8000-%s" % (kind, digits)


def make_records(n_stacks, n_resources, n_events):
    """``(stacks, resources, templates, events, details)`` as Heat's list
    answers, as plain dicts."""
    stacks, resources, templates, events, details = [], [], {}, [], {}
    for i in range(n_stacks):
        sid, name = _uuid(1, i), "stack-%05d" % i
        href = "%s/stacks/%s/%s" % (BASE, name, sid)
        stacks.append({
            "id": sid, "stack_name": name, "description": "",
            "creation_time": "2026-11-25T18:00:00Z",
            "updated_time": None, "deletion_time": None,
            "stack_status": "CREATE_COMPLETE",
            "stack_status_reason": "Stack CREATE completed successfully",
            "stack_owner": None, "parent": None, "project": "admin",
            "stack_user_project_id": "u-%d" % i, "tags": None,
            "links": [{"href": href, "rel": "self"}]})
        template = {"heat_template_version": "2018-08-31", "parameters": {
            "length": {"type": "number", "default": 8}}, "resources": {}}
        for j in range(n_resources):
            rname = "res%02d" % j
            rtype = TYPES[j % len(TYPES)]
            template["resources"][rname] = {
                "type": rtype, "properties": {"length": {
                    "get_param": "length"}}}
            resources.append({
                "resource_name": rname, "logical_resource_id": rname,
                "resource_type": rtype,
                "physical_resource_id": "%s-%s-x%04d" % (name, rname, j),
                "resource_status": "CREATE_COMPLETE",
                "resource_status_reason": "state changed",
                "creation_time": "2026-11-25T18:00:01Z",
                "updated_time": "2026-11-25T18:00:02Z", "description": "",
                "required_by": ["res%02d" % ((j + 1) % n_resources)],
                "attributes": {"value": "v%d-%d" % (i, j)},
                "metadata": {},
                "links": [{"href": href + "/resources/" + rname,
                           "rel": "self"}, {"href": href, "rel": "stack"}]})
        templates[sid] = template
        for k in range(n_events):
            eid = _uuid(2, i, k)
            rname = "res%02d" % (k % n_resources)
            events.append({
                "id": eid, "event_time": "2026-11-25T18:00:%02dZ" % (k % 60),
                "resource_name": rname, "logical_resource_id": rname,
                "physical_resource_id": "%s-%s-x%04d" % (name, rname, k),
                "resource_status": ("CREATE_IN_PROGRESS", "CREATE_COMPLETE")[
                    k % 2], "resource_status_reason": "state changed",
                "links": [
                    {"href": "%s/resources/%s/events/%s" % (href, rname,
                                                            eid),
                     "rel": "self"},
                    {"href": "%s/resources/%s" % (href, rname),
                     "rel": "resource"},
                    {"href": href, "rel": "stack"}]})
            details[eid] = {"resource_type": TYPES[k % len(TYPES)],
                            "resource_properties": {"length": 8},
                            "secret_properties": []}
    return stacks, resources, templates, events, details


# -- heatplug ----------------------------------------------------------------

FAMILIES = (stacks_family, resources_family, events_family)


def heatplug_inputs(records):
    stacks, resources, templates, events, details = records
    return [stacks, {"resources": resources, "templates": templates},
            {"events": events, "details": details}]


def heatplug_translate(inputs):
    rows = 0
    for family, raw in zip(FAMILIES, inputs):
        tables = family.heatplug_translate(raw)
        checked = core._check_rows(family.__name__, family.TABLES, tables)
        rows += sum(len(r) for r in checked.values())
    return rows


# -- Congress ----------------------------------------------------------------

class HeatObject:
    """What heatclient hands Congress: attributes, not a dict."""

    def __init__(self, info):
        self.__dict__.update(info)


def congress_driver():
    from heatplug.congress import _compat
    _compat.init_config()
    from keystoneauth1 import session as ks_session
    from keystoneauth1 import token_endpoint
    from congress.datasources import datasource_utils
    from congress.datasources import heatv1_driver

    def noauth_session(creds, headers=None):
        return ks_session.Session(auth=token_endpoint.Token(
            creds["endpoint"], "bench"), additional_headers=headers)

    args = {"auth_url": "http://unused", "username": "admin",
            "password": "unused", "project_name": "admin", "poll_time": 0,
            "endpoint": BASE}
    with mock.patch.object(datasource_utils, "get_keystone_session",
                           noauth_session):
        return heatv1_driver.HeatV1Driver(name="heat", args=args)


def congress_inputs(records):
    """What HeatV1Driver's update methods hand their translators."""
    stacks, resources, _, events, _ = records
    by_name = {s["stack_name"]: s["id"] for s in stacks}

    def with_stack(record):
        stack_name = record["links"][-1]["href"].rsplit("/", 2)[1]
        return dict(record, stack_id=by_name[stack_name])
    return ({"stacks": [HeatObject(s) for s in stacks]},
            {"resources": [with_stack(r) for r in resources]},
            {"events": [with_stack(e) for e in events]})


def congress_translate(driver, inputs):
    stacks, resources, events = inputs
    driver._translate_stacks(stacks)
    driver._translate_resources(resources)
    driver._translate_events(events)
    return sum(len(rows) for rows in driver.state.values())


# -- measuring ---------------------------------------------------------------

def timed(fn, repeat):
    results, rows = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        rows = fn()
        results.append(time.process_time() - start)
    return rows, statistics.median(results), results


def peak(fn):
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    top = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return top - base


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--stacks", type=int, default=2000)
    p.add_argument("--resources", type=int, default=20)
    p.add_argument("--events", type=int, default=50)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    import logging
    logging.basicConfig(level=logging.WARNING)

    records = make_records(args.stacks, args.resources, args.events)
    hp_inputs = heatplug_inputs(records)
    driver = congress_driver()
    cg_inputs = congress_inputs(records)

    # Congress's state keeps the rows of its last translation: start each
    # run from a fresh driver, as a fresh process would.
    def congress_run():
        return congress_translate(congress_driver(), cg_inputs)

    # Interleaved, so that both see the same machine (its speed drifts).
    hp_all, cg_all = [], []
    for _ in range(args.repeat):
        hp_rows, _, runs = timed(lambda: heatplug_translate(hp_inputs), 1)
        hp_all += runs
        cg_rows, _, runs = timed(congress_run, 1)
        cg_all += runs
    hp_cpu, cg_cpu = statistics.median(hp_all), statistics.median(cg_all)
    hp_peak = peak(lambda: heatplug_translate(hp_inputs))
    cg_peak = peak(congress_run)
    del driver
    out = {
        "records": {"stacks": args.stacks,
                    "resources": args.stacks * args.resources,
                    "events": args.stacks * args.events},
        "heatplug": {"rows": hp_rows, "cpu_seconds": hp_cpu,
                     "runs": hp_all, "rows_per_second": hp_rows / hp_cpu,
                     "peak_bytes": hp_peak},
        "congress": {"rows": cg_rows, "cpu_seconds": cg_cpu,
                     "runs": cg_all, "rows_per_second": cg_rows / cg_cpu,
                     "peak_bytes": cg_peak},
    }
    out["speedup"] = (out["heatplug"]["rows_per_second"]
                      / out["congress"]["rows_per_second"])
    out["peak_ratio"] = hp_peak / cg_peak
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, sort_keys=True)
    for name in ("heatplug", "congress"):
        r = out[name]
        print("  %-9s %8d rows  %6.2f s CPU  %9.0f rows/s  peak %6.1f MiB"
              % (name, r["rows"], r["cpu_seconds"], r["rows_per_second"],
                 r["peak_bytes"] / 2 ** 20))
    print("  heatplug/Congress: %.1fx rows/s, %.2fx peak memory"
          % (out["speedup"], out["peak_ratio"]))
    return out


if __name__ == "__main__":
    main()
