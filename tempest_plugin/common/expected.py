"""What every heatplug table should hold, computed from Heat's own API.

:class:`HeatState` reads everything the tables cover through tempest's
orchestration client, by *other* calls than heatplug makes where Heat has a
choice (every stack's resources and events on their own instead of one
``nested_depth`` call per root stack; each resource type's schema for its
support status instead of the ``support_status`` filter), then
:func:`expected_tables` turns that into rows, one dict per row, keyed by
column name.  :func:`compare` checks heatplug's published tables against
them, column by column.

heatplug redacts secrets; a cell heatplug published as ``<redacted>`` (or a
JSON value or text with ``<redacted>`` inside) agrees with Heat's value when
everything outside the redacted parts is equal and Heat's value is not null.
The tests check separately that redaction neither leaks the secrets they
planted nor hides values that are not secret.

Nothing here imports heatplug: where both must read Heat the same way (the
``scalar``/``split_status`` conventions, HOT and CFN flag, number and
constraint parsing in ``_flag``, ``_number``, ``_hot_constraints``,
``_cfn_constraints``) the code is written again on purpose, so that a
mistake in heatplug's translation cannot make its own oracle agree with it.
"""

import concurrent.futures
import json
import re
from urllib import parse

REDACTED = "<redacted>"
STATES = ("IN_PROGRESS", "COMPLETE", "FAILED")
TEMPLATE_VERSION_KEYS = ("heat_template_version", "AWSTemplateFormatVersion",
                         "HeatTemplateFormatVersion")

#: family -> {table: key columns (None: the whole row is the key)}
TABLE_KEYS = {
    "stacks": {
        "stacks": ("id",),
        "stacks_links": None,
        "stacks_tags": None,
    },
    "stack_details": {
        "stack_details": ("stack_id",),
        "stack_parameters": ("stack_id", "key"),
        "stack_outputs": ("stack_id", "output_key"),
        "stack_capabilities": None,
        "stack_notification_topics": None,
    },
    "templates": {
        "templates": ("stack_id",),
        "template_parameters": ("stack_id", "name"),
        "template_parameter_constraints": ("stack_id", "parameter",
                                           "constraint", "description"),
        "template_resources": ("stack_id", "name"),
        "template_resources_depends_on": None,
        "template_outputs": ("stack_id", "name"),
    },
    "snapshots": {
        "snapshots": ("id",),
    },
    "resources": {
        "resources": ("stack_id", "resource_name"),
        "resources_required_by": None,
        "resources_links": None,
        "resources_attributes": ("stack_id", "resource_name", "key"),
        "resources_metadata": ("stack_id", "resource_name", "key"),
    },
    "resource_types": {
        "resource_types": ("resource_type",),
    },
    "events": {
        "events": ("id",),
        "events_links": None,
        "events_resource_properties": ("event_id", "key"),
    },
    "software_configs": {
        "software_configs": ("id",),
        "software_configs_inputs": ("config_id", "name"),
        "software_configs_outputs": ("config_id", "name"),
        "software_configs_options": ("config_id", "key"),
    },
    "software_deployments": {
        "software_deployments": ("id",),
        "software_deployments_input_values": ("deployment_id", "key"),
        "software_deployments_output_values": ("deployment_id", "key"),
    },
}

FAMILIES = tuple(TABLE_KEYS)


# -- cell values --------------------------------------------------------------

def scalar(value):
    """A cell as heatplug publishes it: scalars as they are, anything else
    as JSON with sorted keys."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def split_status(status):
    """``CREATE_IN_PROGRESS`` -> ``(CREATE, IN_PROGRESS)``."""
    if not isinstance(status, str) or "_" not in status:
        return None, status
    for state in STATES:
        if status.endswith("_" + state):
            return status[:-len(state) - 1], state
    action, _, state = status.partition("_")
    return action, state


def _text_matches(got, want):
    pattern = ".+?".join(re.escape(p) for p in got.split(REDACTED))
    return re.fullmatch(pattern, want, re.S) is not None


def _deep_matches(got, want):
    if got == REDACTED:
        return want is not None
    if isinstance(got, dict) and isinstance(want, dict):
        return set(got) == set(want) and all(
            _deep_matches(got[k], want[k]) for k in got)
    if isinstance(got, list) and isinstance(want, list):
        return len(got) == len(want) and all(
            _deep_matches(g, w) for g, w in zip(got, want))
    if isinstance(got, str) and isinstance(want, str) and REDACTED in got:
        return matches(got, want)
    return got == want


def matches(got, want):
    """Whether heatplug's cell ``got`` agrees with Heat's value ``want``
    (both as published: see :func:`scalar`), redaction allowed for."""
    if got == want:
        return True
    if got == REDACTED:
        return want is not None
    if isinstance(got, str) and REDACTED in got and isinstance(want, str):
        try:
            g, w = json.loads(got), json.loads(want)
        except ValueError:
            return _text_matches(got, want)
        return _deep_matches(g, w)
    return False


# -- reading Heat -------------------------------------------------------------

def _link(item, rel):
    for link in item.get("links") or ():
        if link.get("rel") == rel:
            return link.get("href")
    return None


def stack_of(href):
    """``(name, id)`` of the stack a Heat link points into."""
    path = parse.urlsplit(href).path
    rest = path.split("/stacks/", 1)[1].strip("/").split("/")
    return parse.unquote(rest[0]), parse.unquote(rest[1])


class HeatState:
    """Everything heatplug's families read, read through ``client``
    (a :class:`tempest_plugin.services.orchestration.OrchestrationClient`)
    with ``workers`` parallel requests."""

    def __init__(self, client, workers=8):
        self.client = client
        self.workers = workers
        self.requests = 0

    def _map(self, fn, items):
        items = list(items)
        with concurrent.futures.ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(fn, items))

    def read(self, families=FAMILIES):
        c = self.client
        self.stacks = c.list_stacks(show_nested=True,
                                    show_hidden=True)["stacks"]
        idents = ["%s/%s" % (s["stack_name"], s["id"]) for s in self.stacks]
        per_stack = set(families) & {"stack_details", "templates",
                                     "snapshots", "resources", "events"}
        self.details, self.templates, self.snapshots = {}, {}, {}
        self.resources, self.events = {}, {}
        if per_stack:
            def one(ident):
                sid = ident.rsplit("/", 1)[1]
                got = {}
                if "stack_details" in families:
                    got["details"] = c.show_stack(ident)["stack"]
                if "templates" in families:
                    got["template"] = dict(c.show_template(ident))
                if "snapshots" in families:
                    got["snapshots"] = c.list_snapshots(ident)["snapshots"]
                if "resources" in families:
                    got["resources"] = c.list_resources(
                        ident, with_detail=True)["resources"]
                if "events" in families:
                    got["events"] = c.list_events(ident)["events"]
                return sid, got
            for sid, got in self._map(one, idents):
                self.details[sid] = got.get("details")
                self.templates[sid] = got.get("template")
                self.snapshots[sid] = got.get("snapshots")
                self.resources[sid] = got.get("resources")
                self.events[sid] = got.get("events")
        if "resources" in families:
            todo = [(stack_of(_link(r, "stack")), r["resource_name"])
                    for rs in self.resources.values() for r in rs]
            self.metadata = dict(zip(
                [(sid, name) for (_, sid), name in todo],
                self._map(lambda item: c.show_resource_metadata(
                    "%s/%s" % item[0], item[1])["metadata"], todo)))
        if "events" in families:
            todo = [(stack_of(_link(e, "stack")), e)
                    for es in self.events.values() for e in es]
            self.event_details = dict(zip(
                [e["id"] for _, e in todo],
                self._map(lambda item: c.show_event(
                    "%s/%s" % item[0], item[1]["resource_name"],
                    item[1]["id"])["event"], todo)))
        if "resource_types" in families:
            self.resource_types = c.list_resource_types(
                with_description=True)["resource_types"]
            names = [t["resource_type"] if isinstance(t, dict) else t
                     for t in self.resource_types]
            self.type_schemas = dict(zip(names, self._map(
                lambda n: dict(c.show_resource_type(n)), names)))
        if "software_configs" in families:
            self.configs = c.list_software_configs()["software_configs"]
            self.config_details = dict(zip(
                [x["id"] for x in self.configs],
                self._map(lambda x: c.show_software_config(
                    x["id"])["software_config"], self.configs)))
        if "software_deployments" in families:
            self.deployments = c.list_software_deployments()[
                "software_deployments"]
        return self


# -- expected rows ------------------------------------------------------------

def _rows_stacks(st):
    out = {"stacks": [], "stacks_links": [], "stacks_tags": []}
    for s in st.stacks:
        action, state = split_status(s.get("stack_status"))
        out["stacks"].append(dict(
            id=s["id"], stack_name=s["stack_name"],
            description=s.get("description"),
            creation_time=s.get("creation_time"),
            updated_time=s.get("updated_time"),
            deletion_time=s.get("deletion_time"),
            stack_status=s.get("stack_status"), action=action, status=state,
            stack_status_reason=s.get("stack_status_reason"),
            stack_owner=s.get("stack_owner"), parent=s.get("parent"),
            project=s.get("project"),
            stack_user_project_id=s.get("stack_user_project_id")))
        for link in s.get("links") or ():
            out["stacks_links"].append(dict(stack_id=s["id"],
                                            href=link["href"],
                                            rel=link.get("rel")))
        tags = s.get("tags") or []
        if isinstance(tags, str):
            tags = [t for t in tags.split(",") if t]
        for tag in tags:
            out["stacks_tags"].append(dict(stack_id=s["id"], tag=tag))
    return out


def _rows_stack_details(st):
    out = {t: [] for t in TABLE_KEYS["stack_details"]}
    for sid, d in st.details.items():
        out["stack_details"].append(dict(
            stack_id=sid, description=d.get("description"),
            template_description=d.get("template_description"),
            timeout_mins=d.get("timeout_mins"),
            disable_rollback=d.get("disable_rollback")))
        for key, value in (d.get("parameters") or {}).items():
            out["stack_parameters"].append(dict(stack_id=sid, key=key,
                                                value=scalar(value)))
        for o in d.get("outputs") or ():
            out["stack_outputs"].append(dict(
                stack_id=sid, output_key=o["output_key"],
                output_value=scalar(o.get("output_value")),
                description=o.get("description"),
                output_error=o.get("output_error")))
        for cap in d.get("capabilities") or ():
            out["stack_capabilities"].append(dict(stack_id=sid,
                                                  capability=scalar(cap)))
        for topic in d.get("notification_topics") or ():
            out["stack_notification_topics"].append(dict(
                stack_id=sid, topic=scalar(topic)))
    return out


def _flag(value):
    """How Heat reads a template's boolean flag (hidden, NoEcho, ...)."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("false", "no", "0", "off", "")


def _number(value):
    if isinstance(value, str):
        for conv in (int, float):
            try:
                return conv(value)
            except ValueError:
                pass
    return value


def _cfn_constraints(schema):
    desc = schema.get("ConstraintDescription")
    found = []
    for kind, lo, hi in (("length", "MinLength", "MaxLength"),
                         ("range", "MinValue", "MaxValue")):
        if lo in schema or hi in schema:
            bounds = {}
            if lo in schema:
                bounds["min"] = _number(schema[lo])
            if hi in schema:
                bounds["max"] = _number(schema[hi])
            found.append((kind, bounds, desc))
    if "AllowedValues" in schema:
        found.append(("allowed_values", schema["AllowedValues"], desc))
    if "AllowedPattern" in schema:
        found.append(("allowed_pattern", schema["AllowedPattern"], desc))
    return found


def _hot_constraints(schema):
    found = []
    for entry in schema.get("constraints") or ():
        kind = next(k for k in entry if k != "description")
        found.append((kind, entry[kind], entry.get("description")))
    return found


def _rows_templates(st):
    out = {t: [] for t in TABLE_KEYS["templates"]}
    for sid, t in st.templates.items():
        version_key = next(k for k in TEMPLATE_VERSION_KEYS if k in t)
        hot = version_key == "heat_template_version"

        def key(name):
            return name if hot else name[0].upper() + name[1:]
        out["templates"].append(dict(
            stack_id=sid, version_key=version_key,
            template_version=scalar(t[version_key]),
            description=t.get(key("description"))))
        for name, schema in (t.get(key("parameters")) or {}).items():
            hidden = _flag(schema.get("hidden" if hot else "NoEcho"))
            out["template_parameters"].append(dict(
                stack_id=sid, name=name, type=schema.get(key("type")),
                default=scalar(schema.get(key("default"))), hidden=hidden,
                immutable=_flag(schema.get("immutable")) if hot else False,
                description=schema.get(key("description")),
                label=schema.get("label") if hot else None))
            found = (_hot_constraints if hot else _cfn_constraints)(schema)
            for kind, value, desc in found:
                out["template_parameter_constraints"].append(dict(
                    stack_id=sid, parameter=name, constraint=kind,
                    value=scalar(value), description=desc))
        for name, res in (t.get(key("resources")) or {}).items():
            cond = res.get("condition" if hot else "Condition")
            out["template_resources"].append(dict(
                stack_id=sid, name=name, type=res.get(key("type")),
                condition=scalar(cond),
                deletion_policy=res.get(
                    "deletion_policy" if hot else "DeletionPolicy")))
            deps = res.get("depends_on" if hot else "DependsOn") or []
            for dep in [deps] if isinstance(deps, str) else deps:
                out["template_resources_depends_on"].append(dict(
                    stack_id=sid, resource=name, depends_on=dep))
        for name, output in (t.get(key("outputs")) or {}).items():
            out["template_outputs"].append(dict(
                stack_id=sid, name=name,
                description=output.get(key("description"))))
    return out


def _rows_snapshots(st):
    return {"snapshots": [
        dict(id=s["id"], stack_id=sid, name=s.get("name"),
             action=s.get("action"), status=s.get("status"),
             status_reason=s.get("status_reason"),
             creation_time=s.get("creation_time"))
        for sid, snaps in st.snapshots.items() for s in snaps]}


def _rows_resources(st):
    out = {t: [] for t in TABLE_KEYS["resources"]}
    for asked, resources in st.resources.items():
        for r in resources:
            stack_name, sid = stack_of(_link(r, "stack"))
            assert sid == asked, (sid, asked)
            name = r["resource_name"]
            nested = _link(r, "nested")
            action, state = split_status(r.get("resource_status"))
            out["resources"].append(dict(
                stack_id=sid, resource_name=name, stack_name=stack_name,
                physical_resource_id=r.get("physical_resource_id") or None,
                resource_type=r.get("resource_type"),
                resource_status=r.get("resource_status"), action=action,
                status=state,
                resource_status_reason=r.get("resource_status_reason"),
                creation_time=r.get("creation_time"),
                updated_time=r.get("updated_time"),
                description=r.get("description"),
                parent_resource=r.get("parent_resource"),
                nested_stack_id=stack_of(nested)[1] if nested else None))
            for other in r.get("required_by") or ():
                out["resources_required_by"].append(dict(
                    stack_id=sid, resource_name=name, required_by=other))
            for link in r.get("links") or ():
                out["resources_links"].append(dict(
                    stack_id=sid, resource_name=name, href=link["href"],
                    rel=link.get("rel")))
            for key, value in (r.get("attributes") or {}).items():
                out["resources_attributes"].append(dict(
                    stack_id=sid, resource_name=name, key=key,
                    value=scalar(value)))
            for key, value in (st.metadata[(sid, name)] or {}).items():
                out["resources_metadata"].append(dict(
                    stack_id=sid, resource_name=name, key=key,
                    value=scalar(value)))
    return out


def _rows_resource_types(st):
    rows = []
    for item in st.resource_types:
        name = item["resource_type"] if isinstance(item, dict) else item
        support = st.type_schemas[name].get("support_status") or {}
        rows.append(dict(
            resource_type=name,
            description=item.get("description") if isinstance(item, dict)
            else None,
            support_status=support.get("status") or "SUPPORTED"))
    return {"resource_types": rows}


def _root_of(st, sid):
    by_id = {s["id"]: s for s in st.stacks}
    seen = set()
    while by_id.get(sid, {}).get("parent") and sid not in seen:
        seen.add(sid)
        sid = by_id[sid]["parent"]
    return by_id.get(sid)


def _rows_events(st):
    out = {t: [] for t in TABLE_KEYS["events"]}
    # Heat adds a 'root_stack' link to the events it lists for a whole tree
    # (nested_depth), not to those it lists per stack: heatplug may publish
    # it or not, but when it does, it must name the event's root stack.
    out[optional("events_links")] = []
    for events in st.events.values():
        for e in events:
            _, sid = stack_of(_link(e, "stack"))
            root = _root_of(st, sid)
            if root is not None:
                href = _link(e, "stack")
                base = href[:href.index("/stacks/") + len("/stacks/")]
                out[optional("events_links")].append(dict(
                    event_id=e["id"], rel="root_stack",
                    href="%s%s/%s" % (base, root["stack_name"],
                                      root["id"])))
            detail = st.event_details[e["id"]]
            action, state = split_status(e.get("resource_status"))
            out["events"].append(dict(
                id=e["id"], stack_id=sid,
                resource_name=e.get("resource_name"),
                logical_resource_id=e.get("logical_resource_id"),
                physical_resource_id=e.get("physical_resource_id"),
                resource_type=detail.get("resource_type"),
                event_time=e.get("event_time"),
                resource_status=e.get("resource_status"), action=action,
                status=state,
                resource_status_reason=e.get("resource_status_reason")))
            for link in e.get("links") or ():
                out["events_links"].append(dict(
                    event_id=e["id"], href=link["href"], rel=link.get("rel")))
            for key, value in (detail.get("resource_properties")
                               or {}).items():
                out["events_resource_properties"].append(dict(
                    event_id=e["id"], key=key, value=scalar(value)))
    return out


def _rows_software_configs(st):
    out = {t: [] for t in TABLE_KEYS["software_configs"]}
    for item in st.configs:
        cid = item["id"]
        d = st.config_details[cid]
        out["software_configs"].append(dict(
            id=cid, name=item.get("name"), group=item.get("group"),
            creation_time=item.get("creation_time"),
            config=scalar(d.get("config")), project=item.get("project")))
        for io in d.get("inputs") or ():
            out["software_configs_inputs"].append(dict(
                config_id=cid, name=io["name"], type=io.get("type"),
                description=io.get("description"),
                default=scalar(io.get("default")),
                value=scalar(io.get("value")),
                replace_on_change=io.get("replace_on_change")))
        for io in d.get("outputs") or ():
            out["software_configs_outputs"].append(dict(
                config_id=cid, name=io["name"], type=io.get("type"),
                description=io.get("description"),
                error_output=io.get("error_output")))
        for key, value in (d.get("options") or {}).items():
            out["software_configs_options"].append(dict(
                config_id=cid, key=key, value=scalar(value)))
    return out


def _rows_software_deployments(st):
    out = {t: [] for t in TABLE_KEYS["software_deployments"]}
    for d in st.deployments:
        out["software_deployments"].append(dict(
            id=d["id"], config_id=d.get("config_id"),
            server_id=d.get("server_id"), action=d.get("action"),
            status=d.get("status"), status_reason=d.get("status_reason"),
            creation_time=d.get("creation_time"),
            updated_time=d.get("updated_time")))
        for field, table in (("input_values",
                              "software_deployments_input_values"),
                             ("output_values",
                              "software_deployments_output_values")):
            for key, value in (d.get(field) or {}).items():
                out[table].append(dict(deployment_id=d["id"], key=key,
                                       value=scalar(value)))
    return out


BUILDERS = {
    "stacks": _rows_stacks,
    "stack_details": _rows_stack_details,
    "templates": _rows_templates,
    "snapshots": _rows_snapshots,
    "resources": _rows_resources,
    "resource_types": _rows_resource_types,
    "events": _rows_events,
    "software_configs": _rows_software_configs,
    "software_deployments": _rows_software_deployments,
}


def expected_tables(state, families=FAMILIES):
    """``{table: [row dict, ...]}`` for every table of ``families``."""
    tables = {}
    for family in families:
        tables.update(BUILDERS[family](state))
    return tables


# -- comparing ----------------------------------------------------------------

def optional(table):
    """The key, in :func:`expected_tables`, of rows ``table`` may hold."""
    return table + "?"


def _key_of(row, key_idx):
    return tuple(row[i] for i in key_idx)


def compare_table(name, columns, got_rows, want_dicts, key=None, limit=15,
                  optional_dicts=()):
    """Problems (strings) between heatplug's rows of table ``name`` and the
    rows Heat's API gives; empty when they agree.  Rows equal to one of
    ``optional_dicts`` may be published or not."""
    problems = []
    if optional_dicts:
        maybe = {tuple(d[c] for c in columns) for d in optional_dicts}
        got_rows = [r for r in got_rows if tuple(r) not in maybe]
    missing_cols = sorted({c for d in want_dicts for c in columns
                           if c not in d})
    if missing_cols:
        return ["%s: the test does not know column(s) %s"
                % (name, ", ".join(missing_cols))]
    want = [tuple(d[c] for c in columns) for d in want_dicts]
    got = [tuple(r) for r in got_rows]
    if key is None:
        extra = sorted(set(got) - set(want), key=repr)
        lost = sorted(set(want) - set(got), key=repr)
        if len(got) != len(set(got)) or len(want) != len(set(want)):
            problems.append("%s: duplicate rows (heatplug %d/%d distinct, "
                            "Heat %d/%d)" % (name, len(set(got)), len(got),
                                             len(set(want)), len(want)))
        problems += ["%s: row not in Heat: %r" % (name, r)
                     for r in extra[:limit]]
        problems += ["%s: row missing: %r" % (name, r) for r in lost[:limit]]
        return problems
    idx = [columns.index(c) for c in key]
    got_by, want_by = {}, {}
    for rows, by, who in ((got, got_by, "heatplug"), (want, want_by,
                                                      "Heat")):
        for row in rows:
            k = _key_of(row, idx)
            if k in by:
                problems.append("%s: two %s rows for key %r"
                                % (name, who, k))
            by[k] = row
    for k in sorted(set(got_by) - set(want_by), key=repr)[:limit]:
        problems.append("%s: row not in Heat: %r" % (name, got_by[k]))
    for k in sorted(set(want_by) - set(got_by), key=repr)[:limit]:
        problems.append("%s: row missing: %r" % (name, want_by[k]))
    for k in sorted(set(got_by) & set(want_by), key=repr):
        g, w = got_by[k], want_by[k]
        for col, gv, wv in zip(columns, g, w):
            if not matches(gv, wv):
                problems.append("%s %r: %s is %r, Heat says %r"
                                % (name, k, col, gv, wv))
    return problems[:limit * 4]


def compare(result, expected, families=FAMILIES):
    """Problems between a heatplug :class:`PollResult` and
    :func:`expected_tables`; empty when every table agrees."""
    problems = []
    for family in families:
        for name, key in TABLE_KEYS[family].items():
            td = result.tables.get(name)
            if td is None:
                problems.append("%s: not published" % name)
                continue
            if td.stale:
                problems.append("%s: stale" % name)
            problems += compare_table(
                name, list(td.table.column_names), td.rows,
                expected.get(name, []), key,
                optional_dicts=expected.get(optional(name), ()))
    return problems
