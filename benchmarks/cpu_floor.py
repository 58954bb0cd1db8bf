"""heatplug's CPU per Heat call: layer by layer, and how low it could go.

    python benchmarks/cpu_floor.py --endpoint http://127.0.0.1:18201/v1/admin \
        --heat-pid PID [--calls 300] [--rounds 3]

Against a populated local Heat (``benchmarks/run --keep-heat`` leaves one
running; or ``tools/local-heat start --state-dir /tmp/heat-bench`` on the
state it left).  Prints two tables:

1. What one GET (a stack's template) costs the client, ``--calls`` times
   in a row through each layer of the HTTP stack a family's call walks
   through: python-heatclient, keystoneauth's session, requests' session
   (heatplug's lean path), requests' transport adapter, urllib3's
   connection pool, ``http.client`` alone.  CPU of this process per call.
2. Cold and steady polls (``--rounds`` of each, alternating): heatplug as
   it ships, and heatplug with requests taken out from under keystoneauth
   (``straight_to_urllib3``: keystoneauth's requests session hands each
   request straight to urllib3's connection pool, skipping requests'
   request preparation, session merging and transport adapter).  CPU per
   round trip and CPU / wall.  The second is the most an HTTP client of
   heatplug's own could save; it is a measurement only (no retries on
   connection errors, no proxies), never what heatplug runs.
"""

import argparse
import contextlib
import datetime
import http.client
import itertools
import json
import os
import statistics
import sys
import time
from unittest import mock
import urllib.parse

import requests
import urllib3

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import bench_polls  # noqa: E402
from heatplug import auth  # noqa: E402
from heatplug import context  # noqa: E402
from heatplug import opts  # noqa: E402
from heatplug import stats  # noqa: E402
from heatplug import transport  # noqa: E402


def per_call(calls, call):
    """CPU seconds of this process per call of ``call``."""
    call()
    c0 = time.process_time()
    for _ in range(calls):
        call()
    return (time.process_time() - c0) / calls


def layers(endpoint, calls):
    """[(layer, CPU seconds per call)] for one template GET."""
    with mock.patch.dict(os.environ, OS_AUTH_TYPE="none",
                         OS_ENDPOINT=endpoint):
        conn = auth.connect(opts.make_conf())
    stack = context.to_dict(next(iter(conn.heat.stacks.list())))
    ident = context.stack_identifier(stack)
    url = "%s/stacks/%s/template" % (endpoint, ident)
    parts = urllib.parse.urlsplit(url)
    headers = {"Accept": "application/json", "User-Agent": "heatplug"}
    session = conn.session.session
    adapter = session.get_adapter(url)
    prepared = requests.Request("GET", url, headers=headers).prepare()
    pool = adapter.poolmanager.connection_from_url(url)
    raw = http.client.HTTPConnection(parts.hostname, parts.port)

    def bare():
        raw.request("GET", parts.path, headers=headers)
        return json.loads(raw.getresponse().read())

    return [
        ("python-heatclient stacks.template",
         per_call(calls, lambda: conn.heat.stacks.template(ident))),
        ("keystoneauth Session.get",
         per_call(calls, lambda: conn.session.get(
             url, authenticated=False).json())),
        ("requests Session.request (heatplug's lean path)",
         per_call(calls, lambda: session.request(
             "GET", url, headers=headers, allow_redirects=False).json())),
        ("requests' transport adapter send",
         per_call(calls, lambda: adapter.send(prepared).json())),
        ("urllib3 connection pool urlopen",
         per_call(calls, lambda: json.loads(pool.urlopen(
             "GET", parts.path, headers=headers, retries=False).data))),
        ("http.client alone", per_call(calls, bare)),
    ]


def straight_to_urllib3(requests_session):
    """Make ``requests_session.request`` send keystoneauth's plain requests
    straight through the urllib3 pool requests' adapter would have used
    (measurement only: see the module docstring).  The round trips are
    still counted and the response hooks still run."""
    adapter = requests_session.get_adapter("http://")
    lean = requests_session.request
    hooks = requests_session.hooks.get("response", [])
    pools = {}

    def request(method, url, headers=None, data=None, timeout=None,
                allow_redirects=True, **rest):
        if (allow_redirects or any(rest.get(k) for k in (
                "params", "files", "json", "auth", "cookies", "hooks",
                "proxies", "stream"))
                or not url.startswith("http://")):
            return lean(method, url, headers=headers, data=data,
                        timeout=timeout, allow_redirects=allow_redirects,
                        **rest)
        netloc, _, path = url[len("http://"):].partition("/")
        pool = pools.get(netloc)
        if pool is None:
            pool = pools[netloc] = adapter.poolmanager.connection_from_url(
                url)
        merged = dict(requests_session.headers)
        merged.update(headers or {})
        prepared = requests.PreparedRequest()
        prepared.method, prepared.url = method, url
        prepared.headers, prepared.body = merged, data
        start = time.perf_counter()
        raw = pool.urlopen(
            method, "/" + path, body=data, headers=merged, redirect=False,
            assert_same_host=False, preload_content=False,
            decode_content=False, retries=adapter.max_retries,
            timeout=urllib3.Timeout(connect=timeout, read=timeout))
        response = adapter.build_response(prepared, raw)
        next(sent_straight)
        adapter.counters.record(stats.current_family.get(),
                                len(response.content or b""),
                                error=response.status_code >= 500)
        response.elapsed = datetime.timedelta(
            seconds=time.perf_counter() - start)
        for hook in hooks:
            response = hook(response) or response
        return response

    requests_session.request = request
    return requests_session


#: How many requests :func:`straight_to_urllib3` sent (``next`` on an
#: itertools.count is atomic: the workers share it).
sent_straight = itertools.count()


# ``install`` is bound here, to heatplug's own: polls() patches
# transport.install with this function.
def _install_without_requests(requests_session, install=transport.install):
    install(requests_session)
    return straight_to_urllib3(requests_session)


def polls(endpoint, heat_pid, rounds):
    """{variant: {"cold": [...], "steady": [...]}} of poll measurements,
    the variants taking turns."""
    out = {"shipped": {"cold": [], "steady": []},
           "without requests": {"cold": [], "steady": []}}
    for _ in range(rounds):
        for variant, kinds in out.items():
            patch = (mock.patch.object(transport, "install",
                                       _install_without_requests)
                     if variant == "without requests"
                     else contextlib.nullcontext())
            with patch:
                poller = bench_polls.heatplug_poller(endpoint)
                for kind in ("cold", "steady"):
                    before = next(sent_straight)
                    m = bench_polls.heatplug_poll(poller, heat_pid)
                    m["sent_straight"] = next(sent_straight) - before - 1
                    kinds[kind].append(m)
                    print("  %-16s %-6s %5d round trips  %5.2f s wall  "
                          "%5.3f s CPU  %4.1f%%" % (
                              variant, kind, m["requests"], m["seconds"],
                              m["cpu_seconds"],
                              100 * m["cpu_seconds"] / m["seconds"]),
                          file=sys.stderr, flush=True)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--heat-pid", type=int, default=0)
    p.add_argument("--calls", type=int, default=300)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    started = time.strftime("%Y-%m-%d %H:%M")

    table = layers(args.endpoint, args.calls)
    print("\nOne template GET, %d in a row (%s):\n" % (args.calls, started))
    print("| what is called | client CPU per call |\n| --- | ---: |")
    for name, seconds in table:
        print("| %s | %.2f ms |" % (name, seconds * 1e3))

    results = polls(args.endpoint, args.heat_pid, args.rounds)
    print("\nPolls, median of %d each, alternating (load average %s):\n"
          % (args.rounds, "/".join("%.1f" % x for x in os.getloadavg())))
    print("| | round trips | wall | CPU | CPU per round trip | CPU / wall "
          "| Heat CPU per round trip |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for variant, kinds in results.items():
        for kind, ms in kinds.items():
            med = statistics.median
            print("| %s, %s | %d | %.2f s | %.3f s | %.2f ms | %.1f%% | "
                  "%.1f ms |" % (
                      variant, kind, med(m["requests"] for m in ms),
                      med(m["seconds"] for m in ms),
                      med(m["cpu_seconds"] for m in ms),
                      med(1e3 * m["cpu_seconds"] / m["requests"]
                          for m in ms),
                      med(100 * m["cpu_seconds"] / m["seconds"] for m in ms),
                      med(1e3 * m["heat_cpu_seconds"] / m["requests"]
                          for m in ms)))
    out = {"date": started, "calls": args.calls, "layers": dict(table),
           "polls": results}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return out


if __name__ == "__main__":
    main()
