"""The ``heatplug`` command line: ``poll``, ``tables`` and ``plugins``.

The command line is one sink among others: it registers a publish hook
implementation that keeps the poll's result, then prints it.
"""

import argparse
import json
import logging
import sys

import heatplug
from heatplug import core
from heatplug import errors
from heatplug import log as hplog
from heatplug import manager
from heatplug import opts
from heatplug import progress

LOG = logging.getLogger(__name__)

MAX_CELL = 60


class CliSink:
    """A publish sink that keeps the last poll's result for printing."""

    def __init__(self):
        self.result = None

    @heatplug.hookimpl
    def heatplug_publish(self, result):
        self.result = result


def _cell(value):
    text = "" if value is None else str(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 3] + "..."


def format_table(name, columns, rows, note=""):
    """A readable, column-aligned rendering of one table."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells])
              for i, c in enumerate(columns)]
    line = "  ".join
    out = ["%s (%d row%s)%s" % (name, len(rows), "" if len(rows) == 1 else "s",
                                note),
           line(c.ljust(w) for c, w in zip(columns, widths)).rstrip(),
           line("-" * w for w in widths)]
    out += [line(c.ljust(w) for c, w in zip(r, widths)).rstrip()
            for r in cells]
    return "\n".join(out)


def _print_poll(result, fmt, out):
    if fmt == "json":
        data = result.to_json()
        data["errors"] = {k: hplog.scrub(v) for k, v in data["errors"].items()}
        json.dump(data, out, indent=1, sort_keys=False)
        out.write("\n")
        return
    for name, td in sorted(result.tables.items()):
        if td.unknown:      # its "0 rows" are not known to be none
            note = "  [unknown: %s failed, never read]" % td.family
        elif td.stale:
            note = "  [stale: %s failed]" % td.family
        else:
            note = ""
        out.write(format_table(name, td.table.column_names, td.rows, note))
        out.write("\n\n")
    s = result.stats
    out.write("%d requests, %d bytes, %.2f s, %d rows\n"
              % (s["requests"], s["bytes"], s["seconds"], s["rows"]))
    for plugin, message in sorted(result.errors.items()):
        out.write("ERROR %s: %s\n" % (plugin, hplog.scrub(message)))


def cmd_poll(conf, plugins, args, out):
    sink = CliSink()
    plugins.register(sink, name="heatplug.cli")
    poller = core.Poller(conf, plugins)
    with progress.shown(poller):        # on stderr, if it is a terminal
        result = poller.poll()
    _print_poll(sink.result or result, args.format, out)
    return 0 if result.ok else 1


def table_reference(plugins):
    """The Markdown table reference (``docs/tables.md``) for ``plugins``."""
    lines = ["# Table reference", "",
             "Generated from the plugins' own table declarations by",
             "`heatplug tables --format markdown`; `tests/unit/test_docs.py`",
             "checks it is current.", ""]
    for family, tables in plugins.tables().items():
        lines += ["## Plugin `%s`" % family, ""]
        for t in tables:
            lines += ["### `%s`" % t.name, "", t.description, "",
                      "From: `%s`" % t.source, "",
                      "| column | description |", "| --- | --- |"]
            lines += ["| `%s` | %s |" % (c.name,
                                         c.description.replace("|", "\\|"))
                      for c in t.columns]
            lines.append("")
    return "\n".join(lines)


def cmd_tables(conf, plugins, args, out):
    tables = [(family, t) for family, ts in plugins.tables().items()
              for t in ts]
    if args.format == "markdown":
        out.write(table_reference(plugins))
    elif args.format == "json":
        doc = {"tables": {t.name: {
            "family": family, "description": t.description,
            "source": t.source,
            "columns": [{"name": c.name, "description": c.description}
                        for c in t.columns]} for family, t in tables}}
        json.dump(doc, out, indent=1)
        out.write("\n")
    else:
        for family, t in tables:
            out.write("%s  (plugin %s; from %s)\n  %s\n"
                      % (t.name, family, t.source, t.description))
            for c in t.columns:
                out.write("    %-24s %s\n" % (c.name, c.description))
            out.write("\n")
    return 0 if not plugins.load_errors else 1


def cmd_plugins(conf, plugins, args, out):
    rows = []
    for name in plugins.installed:
        if name in plugins.load_errors:
            state = "failed"
        elif name in plugins.unavailable:
            state = "unavailable"
        elif name in plugins.enabled:
            state = "enabled"
        else:
            state = "disabled"
        rows.append({"name": name, "state": state,
                     "tables": [t.name for t in plugins.tables_of(name)]
                     if state == "enabled" else [],
                     "error": str(plugins.load_errors.get(name, ""))
                     or plugins.unavailable.get(name)})
    if args.format == "json":
        json.dump({"plugins": rows}, out, indent=1)
        out.write("\n")
    else:
        for r in rows:
            out.write("%-20s %-11s %s\n" % (
                r["name"], r["state"],
                r["error"] or ", ".join(r["tables"])))
    return 0 if not plugins.load_errors else 1


COMMANDS = {"poll": cmd_poll, "tables": cmd_tables, "plugins": cmd_plugins}


def build_parser():
    parser = argparse.ArgumentParser(
        prog="heatplug",
        description="Read OpenStack Heat's state as relational tables.")
    parser.add_argument("--config-file", action="append", default=[],
                        metavar="PATH",
                        help="heatplug configuration file (repeatable)")
    parser.add_argument("--os-cloud", metavar="NAME",
                        help="cloud in clouds.yaml (default: OS_CLOUD)")
    parser.add_argument("--enable", action="append", default=[],
                        metavar="PLUGIN",
                        help="enable only these plugins (repeatable)")
    parser.add_argument("--disable", action="append", default=[],
                        metavar="PLUGIN", help="disable a plugin (repeatable)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log more (-v info, -vv debug) to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_ in (("poll", "poll Heat once and print every table"),
                        ("tables", "list tables, columns and descriptions"),
                        ("plugins", "list discovered plugins")):
        p = sub.add_parser(name, help=help_)
        formats = ("table", "json") + (
            ("markdown",) if name == "tables" else ())
        p.add_argument("--format", choices=formats, default="table")
    return parser


def main(argv=None, out=None):
    args = build_parser().parse_args(argv)
    out = out or sys.stdout
    # Every line scrubbed of secrets; keystoneauth's HTTP bodies omitted.
    hplog.setup((logging.WARNING, logging.INFO, logging.DEBUG)[
        min(args.verbose, 2)])
    try:
        conf = opts.make_conf(config_files=args.config_file)
        if args.os_cloud:
            conf.set_override("cloud", args.os_cloud, group=opts.HEAT_GROUP)
        if args.enable:
            conf.set_override("enabled_plugins", args.enable, "heatplug")
        if args.disable:
            conf.set_override(
                "disabled_plugins",
                list(conf.heatplug.disabled_plugins) + args.disable,
                "heatplug")
        plugins = manager.build_plugin_manager(conf)
        return COMMANDS[args.command](conf, plugins, args, out)
    except errors.HeatplugError as exc:
        sys.stderr.write("heatplug: error: %s\n" % hplog.scrub(exc))
        return 2


if __name__ == "__main__":
    sys.exit(main())
