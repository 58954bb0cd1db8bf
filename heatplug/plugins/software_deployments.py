"""The ``software_deployments`` family: every software deployment, with its
input and output values.

Reads, per poll: one ``GET /software_deployments`` (the shared
``ctx.software_deployments()``, which ``resources`` reads too).  The list
already holds everything ``GET /software_deployments/{id}`` would (Heat
formats both the same way, input and output values included), and Heat
neither pages it nor
takes ``limit``/``marker``; an admin sees every project's deployments.
Deployments change (status, outputs), so nothing is cached.

Input values carry credentials (``deploy_password``, ``deploy_signal_id``
signed URLs, Zaqar queue ids, anything the template passes), and outputs
carry whatever the server printed: every value goes through
:mod:`heatplug.redact`, and signed URLs and credential-named
``key=value`` are redacted inside text too (``redact.scrub_inside``).

A deployment a stack built from its secrets (its ``input_values``, or the
config it deploys, depend on a hidden or secret-named parameter or a
RandomString's value, :func:`heatplug.stack_secrets.software_secrets`) has
every input value but Heat's own ``deploy_*`` ones redacted whole
(``secret`` in the fetched record).  Output values are what the server
signalled: scrubbed as text, not followed.
"""

import heatplug
from heatplug import redact
from heatplug import stack_secrets
from heatplug import translation

SOURCE = "GET /v1/{project}/software_deployments (software_deployments.list)"

TABLES = [
    heatplug.table(
        "software_deployments", "One row per software deployment.", SOURCE,
        ("id", "deployment UUID"),
        ("config_id", "software_configs.id of the config it deploys (the "
                      "config Heat derived for this deployment)"),
        ("server_id", "id of the server it deploys to"),
        ("action", "CREATE, UPDATE, DELETE, SUSPEND, RESUME, ..."),
        ("status", "IN_PROGRESS, COMPLETE or FAILED"),
        ("status_reason", "why it is in its status"),
        ("creation_time", "ISO 8601 creation time"),
        ("updated_time", "ISO 8601 time of the last update, or None"),
    ),
    heatplug.table(
        "software_deployments_input_values", "The input values of each "
        "deployment; credentials and signed URLs redacted.", SOURCE,
        ("deployment_id", "software_deployments.id"),
        ("key", "input name"),
        ("value", "input value (JSON for lists and maps); '<redacted>' for "
                  "secrets"),
    ),
    heatplug.table(
        "software_deployments_output_values", "The output values each "
        "deployment signalled (deploy_stdout, deploy_stderr, "
        "deploy_status_code, the config's outputs).", SOURCE,
        ("deployment_id", "software_deployments.id"),
        ("key", "output name"),
        ("value", "output value (JSON for lists and maps); '<redacted>' for "
                  "secrets"),
    ),
]


@heatplug.hookimpl
def heatplug_tables():
    return TABLES


@heatplug.hookimpl
def heatplug_fetch(ctx):
    # Shared: the resources family reads the same list (which resources a
    # deployment names as its server).  Copies where marked: the list is.
    deployments = ctx.software_deployments()
    secret = stack_secrets.secret_ids(ctx, "deployments", deployments)
    return [dict(d, secret=True) if d.get("id") in secret else d
            for d in deployments]


def redacted(key, val, hidden=False):
    """A value as it may appear in a row (``hidden``: redacted whole)."""
    return redact.scrub_inside(redact.value(key, val, hidden=hidden))


def _values(rows, table, owner, mapping, secret=False):
    if mapping is None:
        return
    if not isinstance(mapping, dict):
        raise TypeError("%s is a %s, not a map" % (table,
                                                   type(mapping).__name__))
    for key in sorted(mapping, key=str):
        rows.add(table, owner, key, redacted(
            key, mapping[key],
            hidden=secret and not stack_secrets.heat_input(key)))


@heatplug.hookimpl
def heatplug_translate(raw):
    rows = translation.Rows("software_deployments",
                            "software_deployments_input_values",
                            "software_deployments_output_values")
    for dep in raw or ():
        ident = dep.get("id") if isinstance(dep, dict) else None
        with rows.record("software deployment", ident):
            did = dep["id"]
            if not did:
                raise ValueError("no id")
            rows.add("software_deployments", did, dep.get("config_id"),
                     dep.get("server_id"), dep.get("action"),
                     dep.get("status"),
                     redact.scrub_inside(dep.get("status_reason")),
                     dep.get("creation_time"), dep.get("updated_time"))
            _values(rows, "software_deployments_input_values", did,
                    dep.get("input_values"), dep.get("secret") is True)
            _values(rows, "software_deployments_output_values", did,
                    dep.get("output_values"))
    return rows
