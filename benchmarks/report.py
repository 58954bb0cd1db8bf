"""Turn benchmark results into the tables and the plot of docs/performance.md.

    python benchmarks/report.py --results benchmarks/results \
        [--doc docs/performance.md] [--png docs/performance.png]

Reads ``polls-S<n>.json`` (bench_polls.py) for every size found and
``translate.json`` (bench_translate.py); prints the markdown; with
``--doc``, replaces what lies between the ``<!-- results:start -->`` and
``<!-- results:end -->`` markers of that file; with ``--png``, draws the
plot (matplotlib, Agg backend).
"""

import argparse
import glob
import json
import os
import re
import sys

START, END = "<!-- results:start -->", "<!-- results:end -->"
RUNS = (("congress", "Congress HeatV1Driver"),
        ("heatplug", "heatplug"),
        ("heatplug_changed_only", "heatplug, changed_stacks_only"))


def load(results):
    polls = {}
    for path in glob.glob(os.path.join(results, "polls-S*.json")):
        size = int(re.search(r"polls-S(\d+)\.json$", path).group(1))
        with open(path) as f:
            polls[size] = json.load(f)
    translate = None
    path = os.path.join(results, "translate.json")
    if os.path.exists(path):
        with open(path) as f:
            translate = json.load(f)
    meta = {}
    path = os.path.join(results, "meta.json")
    if os.path.exists(path):
        with open(path) as f:
            meta = json.load(f)
    return dict(sorted(polls.items())), translate, meta


def _num(value, digits=2):
    return ("%%.%df" % digits) % value


def poll_table(size, data):
    s = data["summary"]
    pop = data.get("population", {})
    order = ("stacks", "resources", "events", "configs", "deployments")
    out = ["#### S = %d root stacks (%s)" % (size, ", ".join(
        "%s %s" % (pop[k], k) for k in order if k in pop))]
    out.append("")
    out.append("| poll | reader | round trips | wall s | CPU s | CPU / wall "
               "| Heat CPU s | Heat CPU ms / round trip | rows |")
    out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: "
               "| ---: | ---: |")
    for kind, label in (("cold", "cold"), ("steady", "steady"),
                        ("full_refresh", "full refresh")):
        for run, name in RUNS:
            m = (s.get(run) or {}).get(kind)
            if not m:
                continue
            out.append("| %s | %s | %d | %s | %s | %s | %s | %.1f | %d |" % (
                label, name, m["requests"], _num(m["seconds"]),
                _num(m["cpu_seconds"]),
                "%.1f%%" % (100 * m["cpu_seconds"] / m["seconds"]),
                _num(m["heat_cpu_seconds"], 1),
                1000 * m["heat_cpu_seconds"] / max(1, m["requests"]),
                m["rows"]))
    out.append("")
    polls = {run: len((data["raw"].get(run) or {}).get("steady", ()))
             for run, _ in RUNS}
    out.append("Medians of %s; load average %s at the start, %s at the end."
               % (", ".join("%s %s polls" % (p, k) for k, p in (
                   ("cold", max(len((data["raw"].get(r) or {}).get(
                       "cold", ())) for r, _ in RUNS)),
                   ("steady", max(polls.values())))),
                  "/".join("%.1f" % x for x in data["loadavg_start"]),
                  "/".join("%.1f" % x for x in data["loadavg_end"])))
    return "\n".join(out)


def targets(size, data, translate):
    """``[(target, measured, holds)]`` at ``size``."""
    s = data["summary"]
    cg, hp, co = (s.get(r) or {} for r, _ in RUNS)
    rows = []
    if cg.get("cold") and hp.get("cold"):
        rows.append(("cold poll wall <= Congress's",
                     "%.2f s vs %.2f s" % (hp["cold"]["seconds"],
                                           cg["cold"]["seconds"]),
                     hp["cold"]["seconds"] <= cg["cold"]["seconds"]))
    if cg.get("steady") and hp.get("steady"):
        rows.append(("steady poll round trips <= 1/2 Congress's",
                     "%d vs %d (%.0f%%)" % (
                         hp["steady"]["requests"], cg["steady"]["requests"],
                         100 * hp["steady"]["requests"]
                         / cg["steady"]["requests"]),
                     2 * hp["steady"]["requests"]
                     <= cg["steady"]["requests"]))
        rows.append(("steady poll wall <= 1/2 Congress's",
                     "%.2f s vs %.2f s (%.0f%%)" % (
                         hp["steady"]["seconds"], cg["steady"]["seconds"],
                         100 * hp["steady"]["seconds"]
                         / cg["steady"]["seconds"]),
                     2 * hp["steady"]["seconds"] <= cg["steady"]["seconds"]))
    if cg.get("steady") and co.get("steady"):
        rows.append(("changed-stacks-only steady round trips <= 1/10 "
                     "Congress's",
                     "%d vs %d" % (co["steady"]["requests"],
                                   cg["steady"]["requests"]),
                     10 * co["steady"]["requests"]
                     <= cg["steady"]["requests"]))
    for run, name in RUNS[1:]:
        for kind in ("cold", "steady"):
            m = (s.get(run) or {}).get(kind)
            if m:
                ratio = m["cpu_seconds"] / m["seconds"]
                rows.append(("%s %s CPU <= 10%% of wall" % (name, kind),
                             "%.1f%% (%.2f s of %.2f s)" % (
                                 100 * ratio, m["cpu_seconds"], m["seconds"]),
                             ratio <= 0.10))
    return rows


def translate_table(t):
    out = ["| translator | rows | CPU s (median of %d) | rows/s | peak MiB |"
           % len(t["heatplug"]["runs"]),
           "| --- | ---: | ---: | ---: | ---: |"]
    for name, label in (("congress", "Congress convert_objs + state"),
                        ("heatplug", "heatplug translate + row check")):
        r = t[name]
        out.append("| %s | %d | %.2f | %.0f | %.1f |" % (
            label, r["rows"], r["cpu_seconds"], r["rows_per_second"],
            r["peak_bytes"] / 2 ** 20))
    out.append("")
    out.append("%(stacks)d stacks, %(resources)d resources, %(events)d "
               "events. " % t["records"] +
               "heatplug/Congress: **%.1fx** rows/s, **%.2fx** peak memory."
               % (t["speedup"], t["peak_ratio"]))
    return "\n".join(out)


def rows_table(polls):
    size = max(polls)
    s = polls[size]["summary"]
    hp = s["heatplug"]["steady"]["tables"]
    cg = s.get("congress", {}).get("steady", {}).get("tables", {})
    out = ["Rows per table at S = %d (steady poll):" % size, "",
           "| table | heatplug | Congress |", "| --- | ---: | ---: |"]
    for name in sorted(set(hp) | set(cg)):
        out.append("| %s | %s | %s |" % (name, hp.get(name, ""),
                                         cg.get(name, "")))
    return "\n".join(out)


def markdown(polls, translate, meta):
    parts = []
    if meta.get("command"):
        parts.append("Made by `%s` on %s (%s)." % (
            meta["command"], meta.get("date", "?"), meta.get("machine", "")))
        parts.append("")
    parts.append("### Polls against the real local Heat")
    parts.append("")
    for size, data in polls.items():
        parts.append(poll_table(size, data))
        parts.append("")
    if polls:
        parts.append("### Targets")
        parts.append("")
        parts.append("| S | target | measured | holds |")
        parts.append("| ---: | --- | --- | --- |")
        for size, data in polls.items():
            for target, measured, holds in targets(size, data, translate):
                parts.append("| %d | %s | %s | %s |" % (
                    size, target, measured, "yes" if holds else "**no**"))
        if translate:
            parts.append("| - | translation >= 5x Congress's rows/s | %.1fx "
                         "| %s |" % (translate["speedup"], "yes" if translate[
                             "speedup"] >= 5 else "**no**"))
            parts.append("| - | translation peak memory <= Congress's | "
                         "%.2fx | %s |" % (translate["peak_ratio"], "yes" if
                                           translate["peak_ratio"] <= 1
                                           else "**no**"))
        parts.append("")
    if translate:
        parts.append("### Translation alone (synthetic records)")
        parts.append("")
        parts.append(translate_table(translate))
        parts.append("")
    if polls:
        parts.append(rows_table(polls))
        parts.append("")
    return "\n".join(parts)


def plot(polls, translate, path):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    sizes = list(polls)
    kinds = ("cold", "steady")
    fig, axes = plt.subplots(1, 3 if translate else 2, figsize=(15, 4.6))
    colors = {"congress": "#999999", "heatplug": "#d9480f",
              "heatplug_changed_only": "#1c7ed6"}
    groups = [(size, kind) for size in sizes for kind in kinds]
    width = 0.27
    for ax, key, title in ((axes[0], "requests", "HTTP round trips per poll"),
                           (axes[1], "seconds",
                            "wall seconds per poll (median)")):
        for i, (run, label) in enumerate(RUNS):
            values = []
            for size, kind in groups:
                m = (polls[size]["summary"].get(run) or {}).get(kind)
                values.append(m[key] if m else 0)
            xs = [g + (i - 1) * width for g in range(len(groups))]
            bars = ax.bar(xs, values, width, label=label, color=colors[run])
            for x, v in zip(xs, values):
                if v:
                    ax.annotate(("%d" if key == "requests" else "%.1f") % v,
                                (x, v), ha="center", va="bottom", fontsize=7)
            del bars
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels(["S=%d\n%s" % g for g in groups])
        ax.set_title(title)
        if key == "requests":
            ax.set_yscale("log")
            ax.set_ylim(top=ax.get_ylim()[1] * 12)    # room for the legend
        else:
            ax.set_ylim(top=ax.get_ylim()[1] * 1.25)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8, loc="upper left", ncol=2)
    if translate:
        ax = axes[2]
        names = ("congress", "heatplug")
        rps = [translate[n]["rows_per_second"] / 1000 for n in names]
        mem = [translate[n]["peak_bytes"] / 2 ** 20 for n in names]
        xs = range(len(names))
        ax.bar([x - 0.2 for x in xs], rps, 0.4, color="#2b8a3e",
               label="k rows/s")
        ax.bar([x + 0.2 for x in xs], mem, 0.4, color="#f08c00",
               label="peak MiB")
        for x, v in zip(xs, rps):
            ax.annotate("%.0f" % v, (x - 0.2, v), ha="center", va="bottom",
                        fontsize=8)
        for x, v in zip(xs, mem):
            ax.annotate("%.0f" % v, (x + 0.2, v), ha="center", va="bottom",
                        fontsize=8)
        ax.set_xticks(list(xs))
        ax.set_xticklabels(["Congress", "heatplug"])
        ax.set_title("translation: %(stacks)d stacks, %(resources)d "
                     "resources,\n%(events)d events" % translate["records"])
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def update_doc(path, text):
    with open(path) as f:
        doc = f.read()
    if START not in doc or END not in doc:
        raise SystemExit("report: %s has no %s ... %s markers"
                         % (path, START, END))
    head, rest = doc.split(START, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w") as f:
        f.write(head + START + "\n" + text.rstrip() + "\n" + END + tail)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--results", required=True)
    p.add_argument("--doc")
    p.add_argument("--png")
    args = p.parse_args(argv)
    polls, translate, meta = load(args.results)
    if not polls and not translate:
        raise SystemExit("report: no results in %s" % args.results)
    text = markdown(polls, translate, meta)
    sys.stdout.write(text + "\n")
    if args.png:
        plot(polls, translate, args.png)
    if args.doc:
        update_doc(args.doc, text)


if __name__ == "__main__":
    main()
