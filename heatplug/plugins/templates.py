"""The ``templates`` family: each stack's template, as Heat stored it.

One ``GET /stacks/{name}/{id}/template`` per stack (nested stacks included:
a nested stack's template is the generated one for a ResourceGroup, or the
file of a template resource), from the shared stack list; Heat has no list
form.  Both template formats are read: HOT (``heat_template_version``,
``parameters``/``resources``/``outputs``, lower case) and CFN
(``AWSTemplateFormatVersion`` or Heat's legacy ``HeatTemplateFormatVersion``,
``Parameters``/``Resources``/``Outputs``).

Only declarations are published, never unresolved property values (which
may hold literal secrets): versions, descriptions, the parameters'
schemas, the resources' names, types, ``depends_on`` (a child table: one row
per dependency, ``depends_on``/``DependsOn`` as a string or a list),
``condition`` and ``deletion_policy``, and the outputs' names and
descriptions.  Heat returns a hidden (HOT ``hidden: true``, CFN ``NoEcho``)
parameter's ``default`` in plain text: it is published as ``<redacted>``, as
are the ``allowed_values`` of a hidden parameter.  So is the default of a
parameter whose name another template of the stack's tree hides: Heat hands
the environment's ``parameter_defaults`` to every stack of a tree by name
and writes the value into a nested template's default
(:func:`heatplug.heat_templates.hidden_in_trees`, over the shared templates:
no extra call).

Constraints are published in HOT's vocabulary whatever the format:
``length``, ``range`` (``{"min": .., "max": ..}``), ``modulo``,
``allowed_values``, ``allowed_pattern``, ``custom_constraint``; CFN's
``MinLength``/``MaxLength`` become one ``length`` row, ``MinValue``/
``MaxValue`` one ``range`` row, with CFN's ``ConstraintDescription`` as the
description.

Cache (``ctx.cache``, kept between polls): a stack's template is reused
while its (stack_status, stack_status_reason, updated_time) is unchanged and
it is not IN_PROGRESS (an update swaps the template mid-action), except on
a full refresh (``ctx.full_refresh``), which reads every template again;
ids that left the list are dropped.
"""

import logging

import heatplug
from heatplug import heat_templates
from heatplug import redact
from heatplug import translation

LOG = logging.getLogger(__name__)

SOURCE = ("GET /v1/{project}/stacks/{name}/{id}/template (stacks.template), "
          "per stack")

#: Version keys, in the order Heat checks them.
VERSION_KEYS = ("heat_template_version", "AWSTemplateFormatVersion",
                "HeatTemplateFormatVersion")

TABLES = [
    heatplug.table(
        "templates", "One row per stack: its template's version and "
        "description.", SOURCE,
        ("stack_id", "stacks.id"),
        ("version_key", "heat_template_version (HOT), "
                        "AWSTemplateFormatVersion (CFN) or "
                        "HeatTemplateFormatVersion (Heat's legacy CFN-like)"),
        ("template_version", "the version, e.g. 2018-08-31 or 2010-09-09"),
        ("description", "the template's description, None when it has none"),
    ),
    heatplug.table(
        "template_parameters", "One row per parameter declared in a "
        "stack's template.", SOURCE,
        ("stack_id", "stacks.id"),
        ("name", "parameter name"),
        ("type", "declared type, as written (string, number, json, "
                 "comma_delimited_list, boolean; CFN String, Number, "
                 "CommaDelimitedList, Json, ...)"),
        ("default", "the default (JSON for a list or map), None when there "
                    "is none; '<redacted>' for a hidden or secret-named "
                    "parameter, or one another template of its tree "
                    "hides"),
        ("hidden", "True for HOT hidden: true or CFN NoEcho: true"),
        ("immutable", "True when the parameter cannot be changed by an "
                      "update (HOT immutable)"),
        ("description", "the parameter's description"),
        ("label", "the parameter's label (HOT), else None"),
    ),
    heatplug.table(
        "template_parameter_constraints", "One row per constraint of a "
        "template parameter, in HOT's vocabulary.", SOURCE,
        ("stack_id", "stacks.id"),
        ("parameter", "template_parameters.name"),
        ("constraint", "length, range, modulo, allowed_values, "
                       "allowed_pattern or custom_constraint"),
        ("value", "the constraint: a scalar, or JSON ({'min': .., "
                  "'max': ..} for length and range, a list for "
                  "allowed_values; '<redacted>' for a hidden parameter's "
                  "allowed_values)"),
        ("description", "the constraint's description (CFN: "
                        "ConstraintDescription), else None"),
    ),
    heatplug.table(
        "template_resources", "One row per resource declared in a stack's "
        "template.", SOURCE,
        ("stack_id", "stacks.id"),
        ("name", "resource name in the template"),
        ("type", "resource type, e.g. OS::Heat::RandomString, or a "
                 "template file name for a template resource"),
        ("condition", "the resource's condition (a name, a boolean, or JSON "
                      "for an expression), else None"),
        ("deletion_policy", "Delete, Retain or Snapshot when declared (HOT's "
                            "lower-case aliases delete, retain, snapshot "
                            "read as these); JSON for a function such as "
                            "{\"get_param\": \"dp\"}, which Heat resolves "
                            "to one of them; else None"),
    ),
    heatplug.table(
        "template_resources_depends_on", "One row per explicit dependency "
        "(depends_on / DependsOn) of a template resource.", SOURCE,
        ("stack_id", "stacks.id"),
        ("resource", "template_resources.name"),
        ("depends_on", "name of the resource it depends on"),
    ),
    heatplug.table(
        "template_outputs", "One row per output declared in a stack's "
        "template (values: see stack_outputs).", SOURCE,
        ("stack_id", "stacks.id"),
        ("name", "output name"),
        ("description", "the output's description, else None"),
    ),
]

TABLE_NAMES = tuple(t.name for t in TABLES)

#: Every spelling of a deletion policy Heat accepts, and the policy it names:
#: Delete, Retain, Snapshot and, in HOT from 2016-10-14 on, their lower-case
#: aliases (``deletion_policies`` in heat/engine/hot/template.py and
#: cfn/template.py).  Heat compares exactly: "RETAIN" is no policy, and a
#: template that says so is refused.
DELETION_POLICIES = {
    "Delete": "Delete", "Retain": "Retain", "Snapshot": "Snapshot",
    "delete": "Delete", "retain": "Retain", "snapshot": "Snapshot",
}


# Resource and output keys translate reads; everything else (properties,
# metadata, update policies, output values) is dropped at fetch.
_RESOURCE_KEEP = ("type", "Type", "depends_on", "DependsOn", "condition",
                  "Condition", "deletion_policy", "DeletionPolicy")
_OUTPUT_KEEP = ("description", "Description")


def slim(template):
    """The template without what translate never reads (property values,
    metadata, output values): smaller to keep, fewer secrets held."""
    if not isinstance(template, dict):
        return template
    out = dict(template)
    for section, keep in (("resources", _RESOURCE_KEEP),
                          ("Resources", _RESOURCE_KEEP),
                          ("outputs", _OUTPUT_KEEP),
                          ("Outputs", _OUTPUT_KEEP)):
        items = out.get(section)
        if isinstance(items, dict):
            out[section] = {
                name: ({k: v for k, v in d.items() if k in keep}
                       if isinstance(d, dict) else d)
                for name, d in items.items()}
    for key in ("conditions", "Conditions", "Mappings", "parameter_groups"):
        out.pop(key, None)
    return out


@heatplug.hookimpl
def heatplug_tables():
    return TABLES


@heatplug.hookimpl
def heatplug_fetch(ctx):
    def one(stack):
        # ctx.template: other families read templates too; within a poll
        # the call is made once
        return {"stack_id": stack["id"],
                "template": slim(ctx.template(stack))}

    # Cached per stack signature (ctx.per_stack): Heat changes a stack's
    # template only through an action that changes the signature.
    records = list(ctx.per_stack("templates", one).values())
    # A name another template of the tree hides is hidden here too (Heat's
    # parameter_defaults reach every stack of a tree by name, and Heat
    # writes the value into a nested template's default): the shared
    # templates say which (heat_templates.hidden_in_trees); the same reads.
    try:
        sections = ctx.templates(ctx.stacks())
    except Exception as exc:
        LOG.warning("templates: which parameters a tree hides cannot be "
                    "told this poll (%s: %s): every parameter's default "
                    "and allowed values are redacted",
                    type(exc).__name__, exc)
        sections = None
    out = []
    for record in records:
        template = sections.get(record["stack_id"]) if sections else None
        try:
            hidden = sorted(heat_templates.hidden_parameters(template)) \
                if template is not None else True
        except (TypeError, ValueError, AttributeError):
            hidden = True
        out.append(dict(record, hidden=hidden))
    return out


# -- translation -------------------------------------------------------------

def _section(template, hot, cfn):
    key = hot if hot in template else cfn
    section = template.get(key)
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ValueError("template section %s is a %s, not a map"
                         % (key, type(section).__name__))
    return section


def _sorted(section):
    return sorted(section.items(), key=lambda kv: str(kv[0]))


def _flag(value, default=False):
    """Heat's reading of a boolean template flag; unclear means True."""
    if value is None:
        return default
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


def _min_max(lo, hi):
    rng = {}
    if lo is not None:
        rng["min"] = _number(lo)
    if hi is not None:
        rng["max"] = _number(hi)
    return rng


_HOT_CONSTRAINTS = ("length", "range", "modulo", "allowed_values",
                    "allowed_pattern", "custom_constraint")


def hot_constraints(schema):
    """``[(kind, value, description)]`` of a HOT parameter schema."""
    found = []
    constraints = schema.get("constraints") or []
    if not isinstance(constraints, list):
        raise ValueError("constraints is a %s, not a list"
                         % type(constraints).__name__)
    for entry in constraints:
        if not isinstance(entry, dict):
            raise ValueError("a constraint is a %s, not a map"
                             % type(entry).__name__)
        kinds = [k for k in entry if k != "description"]
        if len(kinds) != 1:
            raise ValueError("a constraint names %d kinds: %s"
                             % (len(kinds), sorted(kinds)))
        found.append((kinds[0], entry[kinds[0]], entry.get("description")))
    return found


def cfn_constraints(schema):
    """``[(kind, value, description)]`` of a CFN parameter schema."""
    desc = schema.get("ConstraintDescription")
    found = []
    if "MinLength" in schema or "MaxLength" in schema:
        found.append(("length", _min_max(schema.get("MinLength"),
                                         schema.get("MaxLength")), desc))
    if "MinValue" in schema or "MaxValue" in schema:
        found.append(("range", _min_max(schema.get("MinValue"),
                                        schema.get("MaxValue")), desc))
    if "AllowedValues" in schema:
        found.append(("allowed_values", schema["AllowedValues"], desc))
    if "AllowedPattern" in schema:
        found.append(("allowed_pattern", schema["AllowedPattern"], desc))
    return found


def _depends_on(value):
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ValueError("depends_on is neither a name nor a list of names")


def deletion_policy(value):
    """A resource's deletion policy as Heat names it (Delete, Retain or
    Snapshot); a function (``{"get_param": "dp"}``), which Heat resolves
    against the stack's parameters, or a string Heat does not know, as
    written."""
    if isinstance(value, str):
        return DELETION_POLICIES.get(value, value)
    return value


def _translate_one(rows, sid, template, also_hidden=()):
    """``also_hidden``: names hidden elsewhere in the stack's tree; True:
    every parameter (which ones is unknown)."""
    if not isinstance(template, dict):
        raise ValueError("template is a %s, not a map"
                         % type(template).__name__)
    version_key = next((k for k in VERSION_KEYS if k in template), None)
    if version_key is None:
        raise ValueError("no template version key")
    hot = version_key == "heat_template_version"
    rows.add("templates", sid, version_key, template[version_key],
             template.get("description" if hot else "Description"))

    for name, schema in _sorted(_section(template, "parameters",
                                         "Parameters")):
        if not isinstance(schema, dict):
            raise ValueError("parameter %s is a %s, not a map"
                             % (name, type(schema).__name__))
        masked = also_hidden is True or name in also_hidden
        if hot:
            hidden = _flag(schema.get("hidden"))
            found = hot_constraints(schema)
            rows.add("template_parameters", sid, name, schema.get("type"),
                     redact.value(name, schema.get("default"),
                                  hidden=hidden or masked),
                     hidden, _flag(schema.get("immutable")),
                     schema.get("description"), schema.get("label"))
        else:
            hidden = _flag(schema.get("NoEcho"))
            found = cfn_constraints(schema)
            rows.add("template_parameters", sid, name, schema.get("Type"),
                     redact.value(name, schema.get("Default"),
                                  hidden=hidden or masked),
                     hidden, False, schema.get("Description"), None)
        for kind, value, desc in found:
            if kind == "allowed_values":
                value = redact.value(name, value, hidden=hidden or masked)
            rows.add("template_parameter_constraints", sid, name, kind,
                     value, desc)

    for name, res in _sorted(_section(template, "resources", "Resources")):
        if not isinstance(res, dict):
            raise ValueError("resource %s is a %s, not a map"
                             % (name, type(res).__name__))
        if hot:
            rtype, deps, cond, policy = (
                res.get("type"), res.get("depends_on"), res.get("condition"),
                res.get("deletion_policy"))
        else:
            rtype, deps, cond, policy = (
                res.get("Type"), res.get("DependsOn"), res.get("Condition"),
                res.get("DeletionPolicy"))
        rows.add("template_resources", sid, name, rtype, cond,
                 deletion_policy(policy))
        for dep in _depends_on(deps):
            rows.add("template_resources_depends_on", sid, name, dep)

    for name, out in _sorted(_section(template, "outputs", "Outputs")):
        if not isinstance(out, dict):
            raise ValueError("output %s is a %s, not a map"
                             % (name, type(out).__name__))
        rows.add("template_outputs", sid, name,
                 out.get("description" if hot else "Description"))


@heatplug.hookimpl
def heatplug_translate(raw):
    rows = translation.Rows(*TABLE_NAMES)
    for record in raw or ():
        ident = record.get("stack_id") if isinstance(record, dict) else None
        with rows.record("template of stack", ident):
            sid = record["stack_id"]
            if not isinstance(sid, str) or not sid:
                raise ValueError("no stack id")
            hidden = record.get("hidden", ())
            _translate_one(rows, sid, record["template"],
                           hidden if hidden is True else frozenset(hidden))
    return rows
