"""Create the benchmark population in a (local) Heat and wait for it.

    python benchmarks/populate.py --endpoint http://127.0.0.1:18201/v1/admin \
        --stacks 100

``S`` root stacks named ``bench-<kind>-NNN``, a third of each kind
(``benchmarks/templates``):

- ``simple``: a RandomString and a Value, outputs, a hidden parameter;
- ``nested``: a ResourceGroup of two RandomStrings (one nested stack);
- ``software``: a SoftwareConfig, a StructuredConfig, a DeployedServer and a
  NO_SIGNAL SoftwareDeployment (Heat derives one more config for it).

Idempotent: stacks that exist are kept (and waited for); the script exits
non-zero if any stack fails.  Prints a one-line JSON summary.
"""

import argparse
import concurrent.futures
import json
import os
import pathlib
import sys
import time

import yaml
from heatclient import client as heat_client

HERE = pathlib.Path(__file__).resolve().parent
KINDS = ("simple", "nested", "software")


def names(count):
    """``[(stack name, kind)]`` of a population of ``count`` root stacks."""
    return [("bench-%s-%03d" % (KINDS[i % 3], i), KINDS[i % 3])
            for i in range(count)]


def client(endpoint):
    return heat_client.Client("1", endpoint=endpoint, token="bench")


def wait(heat, idents, timeout):
    deadline = time.monotonic() + timeout
    pending = set(idents)
    failed = []
    while pending:
        listed = {s.id: s for s in heat.stacks.list()}
        for ident in sorted(pending):
            stack = listed.get(ident.rsplit("/", 1)[1])
            status = stack.stack_status if stack else "MISSING"
            if status.endswith("IN_PROGRESS"):
                continue
            pending.discard(ident)
            if not status.endswith("_COMPLETE"):
                failed.append("%s %s %s" % (ident, status, getattr(
                    stack, "stack_status_reason", "")))
        if pending and time.monotonic() > deadline:
            raise SystemExit("populate: %d stacks still in progress after "
                             "%d s" % (len(pending), timeout))
        if pending:
            time.sleep(0.5)
    if failed:
        raise SystemExit("populate: failed stacks:\n  " + "\n  ".join(failed))


def populate(endpoint, count, timeout=900, workers=4):
    heat = client(endpoint)
    templates = {k: yaml.safe_load((HERE / "templates" / ("%s.yaml" % k))
                                   .read_text()) for k in KINDS}
    existing = {s.stack_name: s.id for s in heat.stacks.list()}
    extra = sorted(set(n for n in existing if n.startswith("bench-"))
                   - {n for n, _ in names(count)})
    if extra:
        raise SystemExit("populate: this Heat holds %d more benchmark stacks "
                         "than S=%d (%s, ...): use a fresh one"
                         % (len(extra), count, extra[0]))
    todo = [(n, k) for n, k in names(count) if n not in existing]

    def create(item):
        name, kind = item
        body = heat.stacks.create(stack_name=name, template=templates[kind])
        return "%s/%s" % (name, body["stack"]["id"])

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        idents = list(pool.map(create, todo))
    idents += ["%s/%s" % (n, existing[n]) for n, _ in names(count)
               if n in existing]
    wait(heat, idents, timeout)
    stacks = [s.to_dict() for s in heat.stacks.list(show_nested=True)]
    return {"root_stacks": count, "created": len(todo),
            "stacks": len(stacks),
            "seconds": round(time.monotonic() - started, 1)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--stacks", type=int, required=True,
                   help="number of root stacks (S)")
    p.add_argument("--timeout", type=float, default=900)
    args = p.parse_args(argv)
    os.environ["no_proxy"] = os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    print(json.dumps(populate(args.endpoint, args.stacks, args.timeout)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
