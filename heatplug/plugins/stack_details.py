"""The ``stack_details`` family: what "show stack" adds to the stack list.

One ``GET /stacks/{name}/{id}`` per stack (nested stacks included, from the
shared stack list): Heat has no list form of the detail.  The detail adds
the real template description (the list's ``description`` is always ``""``:
Heat's list formats a database summary), ``timeout_mins``,
``disable_rollback``, the parameters (Heat's pseudo-parameters included:
``OS::stack_id``, ``OS::stack_name``, ``OS::project_id`` for HOT,
``AWS::StackId``, ``AWS::StackName``, ``AWS::Region`` for CFN), the resolved
outputs, ``capabilities`` and ``notification_topics`` (both hard-coded to
``[]`` by Heat 27: "not implemented").  Its ``tags`` are the list's tags
(``[]`` where the list says ``null``), so no table here repeats them
(see ``stacks_tags``).

Secrets:

- Heat masks a hidden parameter's value as ``******`` in the detail
  (``Parameter.__str__``); heatplug publishes :data:`heatplug.redact.REDACTED`
  in its place, and redacts secret-named parameters too.
- Heat does **not** mask outputs: an output that uses a hidden parameter
  shows the secret in plain text.  For a stack that has outputs, the family
  also reads the template (``GET /stacks/{name}/{id}/template``, through
  ``ctx.templates``: shared with the other families that read templates,
  cached while the stack's signature holds) and redacts every output whose
  value depends on a hidden or secret-named parameter, directly
  (``get_param``/``Ref``) or through resources
  (``get_attr``/``get_resource``/``Fn::GetAtt``/``Ref``, transitively), or
  that is a RandomString's value (``heat_templates.tainted_outputs``).
- A nested stack's outputs are attributes of the parent's resource that
  owns it: an output of the parent that depends on such a resource whose
  nested stack has an output that carries a secret (or could not be read)
  is redacted too, at every level (``secret_seeds`` in the fetched record;
  ``heat_templates.NestedSecrets``).
- Heat masks a hidden parameter only in the stack that declares it: a
  secret a parent passes into a nested stack's non-hidden parameter shows
  in the nested stack's detail, parameters and outputs.  A nested stack
  whose owning resource (from Heat's ``<parent>-<resource>-<suffix>``
  naming; where that tells none, or a name the parent's template lacks, as
  when Heat shortened a name over 255 characters, from the shared resource
  lists' ``nested`` links, :func:`heatplug.stack_secrets.owners`; still
  unknown counts as tainted) depends on a secret of its parent, and every stack
  below it, has *every* parameter and output redacted
  (``inherits_secret`` in the fetched record).
- ``OS::Heat::Stack`` makes a root stack, which the stack list does not
  link to its owner: :func:`remote_owners` links it by Heat's naming (or
  the resource's physical id, when the resource lists are read), so
  secrets flow into it and out of it as for a nested stack; one that is
  not listed (another region or cloud) is unknown, and every output that
  reads its resource's attributes is redacted.  The template of a stack a
  secret flows into is read when a root stack is named like one it made.

Cache (``ctx.cache``, kept between polls): the detail of a stack is reused
while its signature (stack_status, stack_status_reason, updated_time) in the
shared list is unchanged and the stack is not IN_PROGRESS (outputs and
templates move during an action without changing the signature); ids that
left the list are dropped.  Outputs that read live attributes are therefore
as of the stack's last status change, or of the last full refresh
(``ctx.full_refresh``), which reads every detail again.
"""

import logging

import heatplug
from heatplug import context
from heatplug import heat_templates
from heatplug import redact
from heatplug import stack_secrets
from heatplug import translation

LOG = logging.getLogger(__name__)

SOURCE = "GET /v1/{project}/stacks/{name}/{id} (stacks.get), per stack"
TEMPLATE_SOURCE = ("GET /v1/{project}/stacks/{name}/{id}/template, for "
                   "stacks with outputs or hidden parameters")

#: What Heat shows in place of a hidden parameter's value.
HEAT_MASK = "******"

TABLES = [
    heatplug.table(
        "stack_details",
        "One row per stack (nested ones included): the scalars of Heat's "
        "stack detail that the stack list does not carry.", SOURCE,
        ("stack_id", "stacks.id"),
        ("description", "the template's description (Heat: 'No description' "
                        "when the template has none)"),
        ("template_description", "the template's description, as Heat "
                                 "reports it separately"),
        ("timeout_mins", "the stack's create/update timeout in minutes, or "
                         "None for Heat's default"),
        ("disable_rollback", "True when a failed create is not rolled back"),
    ),
    heatplug.table(
        "stack_parameters",
        "One row per parameter of each stack, Heat's pseudo-parameters "
        "(OS::stack_id, OS::stack_name, OS::project_id; AWS::StackId, "
        "AWS::StackName, AWS::Region for CFN templates) included.",
        SOURCE,
        ("stack_id", "stacks.id"),
        ("key", "parameter name"),
        ("value", "the value as Heat shows it (always a string: Heat "
                  "formats every value with str()); '<redacted>' for a "
                  "hidden or secret-named parameter"),
    ),
    heatplug.table(
        "stack_outputs",
        "One row per output of each stack, resolved by Heat.",
        SOURCE + "; " + TEMPLATE_SOURCE,
        ("stack_id", "stacks.id"),
        ("output_key", "output name"),
        ("output_value", "the resolved value: a scalar, or JSON for a list "
                         "or map; None when it failed to resolve; "
                         "'<redacted>' when it depends on a hidden parameter"),
        ("description", "the output's description (Heat: 'No description "
                        "given' when the template has none)"),
        ("output_error", "why the output failed to resolve, else None"),
    ),
    heatplug.table(
        "stack_capabilities",
        "One row per capability of each stack (Heat 27 always reports "
        "none: not implemented).", SOURCE,
        ("stack_id", "stacks.id"),
        ("capability", "a capability (JSON when not a string)"),
    ),
    heatplug.table(
        "stack_notification_topics",
        "One row per notification topic of each stack (Heat 27 always "
        "reports none: not implemented).", SOURCE,
        ("stack_id", "stacks.id"),
        ("topic", "a notification topic (JSON when not a string)"),
    ),
]

TABLE_NAMES = tuple(t.name for t in TABLES)

#: The detail keys translate reads; the rest (links, status, times, owner,
#: parent, tags) is the stack list's.
KEEP = ("id", "description", "template_description", "timeout_mins",
        "disable_rollback", "parameters", "outputs", "capabilities",
        "notification_topics")


def _secret_params(parameters):
    """Names of parameters whose values Heat masked or that look secret."""
    if not isinstance(parameters, dict):
        return set()
    return {k for k, v in parameters.items()
            if v == HEAT_MASK or redact.is_secret_key(k)}


def needs_template(detail):
    """True when, without the template, no output of this detail can be
    shown: it has outputs and hidden or secret-named parameters."""
    return bool(detail.get("outputs")) and \
        bool(_secret_params(detail.get("parameters")))


@heatplug.hookimpl
def heatplug_tables():
    return TABLES


@heatplug.hookimpl
def heatplug_fetch(ctx):
    def one(stack):
        detail = context.to_dict(ctx.heat.stacks.get(
            context.stack_identifier(stack)))
        return {k: detail.get(k) for k in KEEP}

    # Cached per stack signature (ctx.per_stack): a detail changes only
    # with the stack's status, status reason or updated time.
    fresh = ctx.per_stack("details", one)
    stacks = [s for s in ctx.stacks() if s.get("id")]
    by_id = {s["id"]: s for s in stacks}
    # The templates that tell which outputs carry a secret, and what flows
    # from a parent with secrets into its nested stacks (cached per stack
    # signature by ctx.templates).
    wanted = [by_id[sid] for sid, record in fresh.items() if sid in by_id
              and (record.get("outputs") or
                   _secret_params(record.get("parameters")))]
    templates, asked = {}, set()
    named = _named_roots(by_id)
    may_own = _owner_names(named)

    def resolve(linked):
        nested = {sid: linked.get(sid) or (
            s["parent"], context.owning_resource(s, by_id[s["parent"]]))
            for sid, s in by_id.items() if s.get("parent") in by_id}
        return _checked(_with_linked(
            dict(nested, **remote_owners(by_id, templates, named)), linked),
            templates)

    linked = None
    while True:
        asked.update(s["id"] for s in wanted)
        templates.update(ctx.templates(wanted) if wanted else {})
        owners = resolve(linked or {})
        if linked is None and any(name is None for sid, (_, name)
                                  in owners.items() if sid in by_id):
            # A name that does not tell its owner (Heat shortens names over
            # 255 characters): the resource lists' links do.
            linked = _linked_owners(ctx, by_id)
            owners = resolve(linked)
        inherits = _inherited_secrets(stacks, fresh, templates, owners)
        # A stack a secret flows into hands it on to the stacks its
        # OS::Heat::Stack resources made, which only its template tells.
        wanted = [by_id[sid] for sid in inherits if sid not in asked and
                  by_id[sid].get("stack_name") in may_own]
        if not wanted:
            break
    # A stack without outputs hands nothing up; one whose template could
    # not be read, anything.
    nested = heat_templates.NestedSecrets(
        {sid: templates.get(sid) if record.get("outputs") else {}
         for sid, record in fresh.items()}, owners)
    for sid, record in fresh.items():
        for key, value in (
                ("inherits_secret", sid in inherits or None),
                ("template", templates.get(sid)
                 if record.get("outputs") else None),
                ("secret_seeds", _seeds(nested.seeds(sid)))):
            if value is None:
                record.pop(key, None)
            else:
                record[key] = value
    return list(fresh.values())


def _seeds(seeds):
    """The ``secret_seeds`` of a record (``{resource: [outputs] or None}``,
    see ``NestedSecrets.seeds``): None (left out) when there are none;
    ``"*"`` when an owner could not be named."""
    if seeds is None:
        return "*"
    return {name: None if outputs is None else sorted(outputs)
            for name, outputs in seeds.items()} or None


def _linked_owners(ctx, by_id):
    """``{stack id: (owner's stack id, resource name)}`` of the listed
    stacks, from the shared resource lists (exact:
    :func:`heatplug.stack_secrets.owners`; no call of this family's).  When
    they cannot be read this poll, ``{}``: Heat's naming then tells
    owners, except for names Heat shortened."""
    try:
        found = stack_secrets.owners(ctx.resources())
    except Exception as exc:
        LOG.warning("stack_details: resource lists not read (%s: %s): "
                    "nested stacks' owners told by their names",
                    type(exc).__name__, exc)
        return {}
    return {sid: owner for sid, owner in found.items()
            if sid in by_id and owner[0] in by_id}


def _checked(owners, templates):
    """``owners`` with every resource name its owner's template (when
    known) does not have made None: a name misread from a stack name Heat
    shortened is an owner that cannot be told, not another resource."""
    out = {}
    for sid, (pid, name) in owners.items():
        template = templates.get(pid)
        if name is not None and isinstance(template, dict):
            try:
                if name not in heat_templates.section(
                        template, "resources", "Resources"):
                    name = None
            except TypeError:       # a malformed name (unhashable)
                name = None
        out[sid] = (pid, name)
    return out


def _with_linked(owners, linked):
    """``owners`` (told by names) corrected by ``linked`` (told by links):
    a link wins, and a stand-in for an unlisted stack
    (:func:`remote_owners`) goes when a link names that stack."""
    found = set(linked.values())
    owners = {sid: owner for sid, owner in owners.items()
              if not ("/" in sid and owner in found)}
    owners.update(linked)
    return owners


def remote_owners(by_id, templates, named=None):
    """``{stack id: (owner's stack id, resource name)}`` for the root stacks
    that a resource of :data:`heatplug.heat_templates.REMOTE_STACK_TYPES`
    (OS::Heat::Stack) made, in a stack of ``templates``: told by Heat's
    naming (``<owner's name>-<resource>-<suffix>``,
    :func:`heatplug.context.owning_resource`), as the stack list does not
    link them.  Such a resource with no listed stack of that name (another
    region or cloud; not made yet) owns an unknown stack: it maps an id no
    stack has, ``"<stack id>/<resource>"``, so that every one of its
    attributes counts as secret.

    :param by_id: the stack list, ``{id: stack}``.
    :param named: :func:`_named_roots` of ``by_id``, when the caller has it.
    """
    if named is None:
        named = _named_roots(by_id)
    result = {}
    for pid, template in templates.items():
        if pid not in by_id or not isinstance(template, dict):
            continue
        try:
            remote = heat_templates.remote_stacks(template)
        except (AttributeError, TypeError):
            continue
        for name in remote:
            made = [sid for sid in named.get(
                "%s-%s" % (by_id[pid].get("stack_name"), name), ())
                if sid != pid]
            for sid in made:
                result[sid] = (pid, name)
            if not made:
                result["%s/%s" % (pid, name)] = (pid, name)
    return result


def _named_roots(by_id):
    """``{name less its last "-<suffix>": [ids]}`` of the listed root
    stacks: the names under which a resource's physical name finds them."""
    named = {}
    for sid, stack in by_id.items():
        name = stack.get("stack_name")
        if not stack.get("parent") and isinstance(name, str) and \
                "-" in name:
            named.setdefault(name.rsplit("-", 1)[0], []).append(sid)
    return named


def _owner_names(named):
    """The names a stack must have for a listed root stack to be named as
    one of its resources would name the stack it makes
    (``<name>-<resource>-<suffix>``); ``named``: :func:`_named_roots`."""
    result = set()
    for key in named:
        result.update(key[:i] for i, char in enumerate(key)
                      if char == "-" and 0 < i < len(key) - 1)
    return result


def _inherited_secrets(stacks, fresh, templates, owners):
    """Ids of the nested stacks a parent's secret may flow into.

    Heat masks a hidden parameter only in the stack that declares it: the
    value a parent passes to a nested stack's (non-hidden) parameter shows
    in the nested stack's parameters and outputs.  A nested stack inherits
    the secrets of its parent when the parent's resource that owns it
    depends on a hidden or secret-named parameter of the parent (or when
    that cannot be told), and every descendant of such a stack does too.
    """
    by_id = {s["id"]: s for s in stacks}
    tainted, memo = {}, {}

    def tainted_of(pid):
        """Resource names of stack ``pid`` that carry its secrets; None for
        "all of them" (unknown)."""
        if pid in tainted:
            return tainted[pid]
        record = fresh.get(pid)
        result = set()
        if record is None:
            result = None
        else:
            params = record.get("parameters")
            secret = (set(params) if inherits(pid) and
                      isinstance(params, dict) else _secret_params(params))
            if secret:
                template = templates.get(pid)
                try:
                    secret |= heat_templates.hidden_parameters(template)
                    result = heat_templates.tainted_resources(
                        template, secret)[0]
                except (ValueError, TypeError, AttributeError):
                    result = None
        tainted[pid] = result
        return result

    def inherits(sid, seen=()):
        if sid in memo:
            return memo[sid]
        pid = by_id.get(sid, {}).get("parent") or \
            owners.get(sid, (None, None))[0]
        if not pid:
            memo[sid] = False
            return False
        if pid not in by_id or pid in seen:
            memo[sid] = True        # unknown parent: be safe
            return True
        result = inherits(pid, seen + (sid,))
        if not result:
            carriers = tainted_of(pid)
            owner = owners.get(sid, (None, None))[1]
            result = carriers is None or bool(carriers) and (
                owner is None or owner in carriers)
        memo[sid] = result
        return result

    return {sid for sid in by_id if inherits(sid)}


# -- template analysis: which outputs carry a hidden parameter -------------

def tainted_outputs(template, secret_params, seeds=()):
    """Output names whose value depends on one of ``secret_params``, on a
    parameter the template marks hidden/NoEcho, or on a resource in
    ``seeds``, directly or through resources (transitively), or that are a
    RandomString's value."""
    secret = set(secret_params) | heat_templates.hidden_parameters(
        template, strict=True)
    return heat_templates.tainted_outputs(template, secret, strict=True,
                                          seeds=seeds)


# -- translation -------------------------------------------------------------

def _items(value):
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ValueError("expected a list, got %s" % type(value).__name__)
    return list(value)


@heatplug.hookimpl
def heatplug_translate(raw):
    rows = translation.Rows(*TABLE_NAMES)
    for detail in raw or ():
        ident = detail.get("id") if isinstance(detail, dict) else None
        with rows.record("stack detail", ident):
            sid = detail["id"]
            if not isinstance(sid, str) or not sid:
                raise ValueError("no stack id")
            rows.add("stack_details", sid, detail.get("description"),
                     detail.get("template_description"),
                     detail.get("timeout_mins"),
                     detail.get("disable_rollback"))

            parameters = detail.get("parameters") or {}
            if not isinstance(parameters, dict):
                raise ValueError("parameters is a %s, not a map"
                                 % type(parameters).__name__)
            secret = _secret_params(parameters)
            template = detail.get("template")
            seeds = detail.get("secret_seeds") or {}
            hidden_outputs = set()
            if detail.get("inherits_secret"):
                # a parent's secret flows in: nothing here can be shown
                secret = set(parameters)
                hidden_outputs = None
            elif seeds == "*":
                # a nested stack hands up a secret, through an owner whose
                # name cannot be told: no output is known to be safe
                hidden_outputs = None
            elif isinstance(template, dict):
                secret |= heat_templates.hidden_parameters(template,
                                                           strict=True)
                hidden_outputs = tainted_outputs(template, secret, seeds)
            elif needs_template(detail) or seeds:
                # No template to tell which outputs are safe: show none.
                hidden_outputs = None
            for key in sorted(parameters, key=str):
                rows.add("stack_parameters", sid, key,
                         redact.value(key, parameters[key],
                                      hidden=key in secret))

            for output in _items(detail.get("outputs")):
                key = output["output_key"]
                hide = hidden_outputs is None or key in hidden_outputs
                value = output.get("output_value")
                error = output.get("output_error")
                if hide:
                    value = redact.value(key, value, hidden=True)
                    error = redact.value(key, error, hidden=True)
                else:
                    value = redact.value(key, value)
                    error = redact.scrub(error)
                rows.add("stack_outputs", sid, key, value,
                         output.get("description"), error)

            for cap in _items(detail.get("capabilities")):
                rows.add("stack_capabilities", sid, cap)
            for topic in _items(detail.get("notification_topics")):
                rows.add("stack_notification_topics", sid, topic)
    return rows
