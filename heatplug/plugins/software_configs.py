"""The ``software_configs`` family: every software config, with its body,
inputs, outputs and options.

Reads, per poll: ``GET /software_configs`` (paged with ``limit``/``marker``;
Heat sets no default page size; an admin sees every project's configs and
gets their ``project``), then ``GET /software_configs/{id}`` for each config
not seen before (the list has no body, inputs, outputs or options).
Software configs are immutable (Heat has no update call, only create and
delete), so the details are kept in ``ctx.cache`` by id and dropped when
the id leaves the list: a warm poll costs one request.

The configs Heat derives for each deployment carry the deployment's input
*values* (``deploy_*`` inputs, including ``deploy_password`` and signed
signal URLs for signalling deployments): every input value and default goes
through :mod:`heatplug.redact`, by input name.

A config a stack built from its secrets (a hidden or secret-named parameter,
a RandomString's value, a secret flowing into a nested stack: the body of a
``SoftwareConfig`` made with ``str_replace`` from a hidden parameter, a
``CloudConfig`` writing it to a file, the config Heat derived for a
deployment whose input values carry it) has its body, its option values and
the default and value of every input but Heat's own ``deploy_*`` ones
redacted whole (:func:`heatplug.stack_secrets.software_secrets`, which reads
the shared resource lists and templates: no extra call when the
``resources`` family is enabled; ``secret`` in the fetched record).
"""

import logging

from heatclient import exc as heat_exc

import heatplug
from heatplug import context
from heatplug import redact
from heatplug import stack_secrets
from heatplug import translation

LOG = logging.getLogger(__name__)

#: configs asked for per list request
PAGE_SIZE = 500

LIST_SOURCE = "GET /v1/{project}/software_configs?limit&marker " \
              "(software_configs.list)"
SHOW_SOURCE = "GET /v1/{project}/software_configs/{id} " \
              "(software_configs.get), once per config id"

TABLES = [
    heatplug.table(
        "software_configs", "One row per software config.",
        LIST_SOURCE + "; config from " + SHOW_SOURCE,
        ("id", "software config UUID"),
        ("name", "config name"),
        ("group", "the tool that applies it: script, ansible, puppet, "
                  "Heat::Ungrouped, ..."),
        ("creation_time", "ISO 8601 creation time"),
        ("config", "the config body (text; JSON for a structured config), "
                   "signed URLs and secret-keyed values redacted"),
        ("project", "id of the owning project (None unless the reader is "
                    "an admin)"),
    ),
    heatplug.table(
        "software_configs_inputs", "The inputs of each config.", SHOW_SOURCE,
        ("config_id", "software_configs.id"),
        ("name", "input name"),
        ("type", "String, Number, CommaDelimitedList, Json or Boolean"),
        ("description", "input description"),
        ("default", "default value; '<redacted>' for a secret"),
        ("value", "the value a deployment gave it (derived configs only); "
                  "'<redacted>' for a secret"),
        ("replace_on_change", "True when a change of the value replaces "
                              "the deployment (None: Heat's default, False)"),
    ),
    heatplug.table(
        "software_configs_outputs", "The outputs of each config.",
        SHOW_SOURCE,
        ("config_id", "software_configs.id"),
        ("name", "output name"),
        ("type", "output type"),
        ("description", "output description"),
        ("error_output", "True when a value in this output means the "
                         "deployment failed"),
    ),
    heatplug.table(
        "software_configs_options", "The tool-specific options of each "
        "config.", SHOW_SOURCE,
        ("config_id", "software_configs.id"),
        ("key", "option name"),
        ("value", "option value (JSON for lists and maps)"),
    ),
]


@heatplug.hookimpl
def heatplug_tables():
    return TABLES


# -- fetch -------------------------------------------------------------------

def _list_all(ctx):
    """Every config of the list, paged; a vanished marker restarts at the
    first page, so configs are de-duplicated by id."""
    configs, seen, marker = [], set(), None
    for _ in range(10000):
        kwargs = {"limit": PAGE_SIZE}
        if marker:
            kwargs["marker"] = marker
        page = [context.to_dict(c)
                for c in ctx.heat.software_configs.list(**kwargs)]
        for config in page:
            if config.get("id") not in seen:
                seen.add(config.get("id"))
                configs.append(config)
        if len(page) < PAGE_SIZE or not page[-1].get("id"):
            return configs
        marker = page[-1]["id"]
    raise RuntimeError("software config list does not end")


_DETAIL_KEYS = ("config", "inputs", "outputs", "options")


def _show(ctx, details, config_id):
    try:
        shown = context.to_dict(ctx.heat.software_configs.get(config_id))
    except heat_exc.HTTPNotFound:
        return              # deleted since the list
    details[config_id] = {k: shown.get(k) for k in _DETAIL_KEYS}


@heatplug.hookimpl
def heatplug_fetch(ctx):
    configs = _list_all(ctx)
    details = ctx.cache.setdefault("details", {})
    ids = {c.get("id") for c in configs}
    for gone in set(details) - ids:
        del details[gone]
    ctx.map(lambda cid: _show(ctx, details, cid),
            [c["id"] for c in configs
             if c.get("id") and c["id"] not in details])
    secret = stack_secrets.secret_ids(ctx, "configs", configs)
    out = []
    for config in configs:
        if config.get("id") in details:
            out.append(dict(config, **details[config["id"]]))
            if config["id"] in secret:
                out[-1]["secret"] = True
        elif config.get("id") is None:
            out.append(config)      # translate counts it as malformed
    return out


# -- translate ---------------------------------------------------------------

def _io_value(io, key, secret=False):
    """An input's default or value, redacted when the input is secret, or
    when the config is and the input is not one of Heat's ``deploy_*``."""
    val = io.get(key)
    if val is None:
        return None
    name = io.get("name")
    hidden = io.get("hidden") is True or secret and \
        not stack_secrets.heat_input(name)
    return redact.scrub_inside(redact.value(name, val, hidden=hidden))


@heatplug.hookimpl
def heatplug_translate(raw):
    rows = translation.Rows("software_configs", "software_configs_inputs",
                            "software_configs_outputs",
                            "software_configs_options")
    for config in raw or ():
        ident = config.get("id") if isinstance(config, dict) else None
        with rows.record("software config", ident):
            cid = config["id"]
            if not cid:
                raise ValueError("no id")
            secret = config.get("secret") is True
            body = config.get("config")
            rows.add("software_configs", cid, config.get("name"),
                     config.get("group"), config.get("creation_time"),
                     redact.value("config", body, hidden=True) if secret
                     else redact.scrub_inside(body),
                     config.get("project"))
            for io in config.get("inputs") or ():
                rows.add("software_configs_inputs", cid, io["name"],
                         io.get("type"), io.get("description"),
                         _io_value(io, "default", secret),
                         _io_value(io, "value", secret),
                         io.get("replace_on_change"))
            for io in config.get("outputs") or ():
                rows.add("software_configs_outputs", cid, io["name"],
                         io.get("type"), io.get("description"),
                         io.get("error_output"))
            options = config.get("options") or {}
            if not isinstance(options, dict):
                raise TypeError("options is a %s" % type(options).__name__)
            for key in sorted(options, key=str):
                rows.add("software_configs_options", cid, key,
                         redact.scrub_inside(redact.value(
                             key, options[key], hidden=secret)))
    return rows
