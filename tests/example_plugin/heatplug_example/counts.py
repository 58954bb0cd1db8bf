"""A third-party family: stack counts per status, from the shared stack list.

It shows the whole contract a third party needs: declare tables, fetch
through the core's shared reads, translate purely.
"""

import collections

import heatplug


@heatplug.hookimpl
def heatplug_tables():
    return [heatplug.table(
        "example_stack_counts", "How many stacks are in each status.",
        "the core's shared stack list",
        ("stack_status", "a Heat stack status"),
        ("count", "how many stacks have it"))]


@heatplug.hookimpl
def heatplug_fetch(ctx):
    return [s.get("stack_status") for s in ctx.stacks()]


@heatplug.hookimpl
def heatplug_translate(raw):
    counts = collections.Counter(raw)
    return {"example_stack_counts": sorted(counts.items())}
