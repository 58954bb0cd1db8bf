"""The ``resources`` family: every resource of every stack, nested included.

Reads, per poll:

- the shared resource list (:meth:`heatplug.context.PollContext.resources`):
  one ``GET /stacks/{name}/{id}/resources?nested_depth=100&with_detail=True``
  per *root* stack (one whose parent is not listed: a nested stack whose
  parent is gone, kept by ``deletion_policy: Retain`` or an abandon, is the
  root of its own tree, :meth:`heatplug.context.PollContext.root_stacks`).
  Heat lowers ``nested_depth`` to its
  ``max_nested_stack_depth`` (default 5) and refuses to create a stack deeper
  than that cap, so one call reaches every nested stack, ResourceGroup members
  and template resources alike.  ``with_detail`` adds each resource's
  ``description`` and its ``attributes`` (resolved live by Heat: for a type
  with a ``show`` attribute, e.g. a Nova server, Heat calls that service per
  resource), but never its properties, and the API layer drops the
  ``metadata`` that Heat's engine computed;
- ``GET /stacks/{name}/{id}/resources/{resource}/metadata`` per resource, on
  the worker pool and cached between polls (see :func:`heatplug_fetch`),
  except where Heat's own code says what it is (:func:`known_metadata`).
  A 404 there does not by itself mean the resource is gone: Heat 27
  answers 404 for a resource whose name is not ASCII, which it lists.
  Only then (no extra call otherwise), ``GET /stacks/{name}/{id}/resources``
  (no detail) once per stack with such a 404: a resource it still lists
  is kept, with its last good metadata (stale, with a warning) or none,
  and one it no longer lists (or whose stack answers 404) is left out as
  deleted since the list (:func:`_settle_not_found`);
- ``GET /stacks/{name}/{id}/template`` per listed stack
  (:meth:`heatplug.context.PollContext.templates`: shared with the other
  families that read templates, and cached between polls while the stack's
  (status, status reason, updated_time) is unchanged).

Secrets.  Heat does not mask attributes: a resource whose properties use a
hidden parameter (HOT ``hidden``, CFN ``NoEcho``, or a secret-looking name)
shows it in plain text, e.g. ``OS::Heat::Value``'s ``value``.  From each
stack's template the family works out which resources depend on such a
parameter, directly or through other resources (transitively), and publishes
every attribute of those as ``<redacted>``, and every metadata value too when
the template's metadata section is what depends on it.  A nested stack owned
by such a resource (its parameters, or a ResourceGroup's inlined definition,
carry the secret) has all its attributes and metadata redacted, as has a
stack whose template could not be read.  Secrets climb out of nested stacks
too: a resource that owns a nested stack (or, ``OS::Heat::Stack``, a stack
of its own) with outputs that carry a secret has the attributes that hold
them redacted (those named as the outputs, and ``outputs``, ``refs``,
``attributes``, ... that hold them all; every attribute when the nested
stack's template could not be read), and so has whatever in its stack
reads them (:class:`heatplug.heat_templates.NestedSecrets`, at every level).
A nested stack whose parent is gone (:func:`heatplug.context.orphans`) has
an owner that cannot be told, so what its parent handed it is unknown: all
its attributes and metadata are redacted, and those of the stacks below it.
Credentials Heat itself generates (a RandomString's value, a handle's token
and ``curl_cli``, server passwords, signed URLs, deployment credentials in
server metadata) are redacted by name and shape.  The configs Heat pushes
into a server's ``deployments`` metadata for deployments a stack built from
its secrets (:func:`heatplug.stack_secrets.software_secrets`) have their
``config``, ``inputs`` and ``options`` redacted.  Not covered: what a
template builds from a RandomString into attributes (its value is redacted,
``hello-<value>`` in a Value is not: following RandomStrings would redact
every server named with a random suffix; the software analysis does follow
them).

A resource is identified by its stack's id and its name (Heat's own resource
identity is ``stacks/{name}/{id}/resources/{resource}``); the stack is the one
named by the resource's ``stack`` link, its nested stack the one named by its
``nested`` link.
"""

import json
import logging

from heatclient import exc as heat_exc

import heatplug
from heatplug import context
from heatplug import heat_templates
from heatplug import redact
from heatplug import stack_secrets
from heatplug import translation

LOG = logging.getLogger(__name__)

LIST_SOURCE = ("GET /v1/{project}/stacks/{name}/{id}/resources"
               "?nested_depth=100&with_detail=True (resources.list, once per "
               "root stack)")
TEMPLATE_SOURCE = ("GET /v1/{project}/stacks/{name}/{id}/template (per stack, "
                   "cached; which resources depend on hidden parameters)")
METADATA_SOURCE = ("GET /v1/{project}/stacks/{name}/{id}/resources/{resource}"
                   "/metadata (resources.metadata, per resource, cached)")

# Resource types whose metadata Heat rewrites without touching the resource's
# status or updated_time: servers get their ``deployments`` pushed whenever a
# software deployment for them is created, updated or deleted (also through
# the software-deployments API) and re-resolve their template metadata after a
# signal to any resource of their stack; wait condition handles merge every
# signal into their metadata.  Their metadata is read on every poll, except
# for the servers of DEPLOYMENT_PUSH_TYPES below.
LIVE_METADATA_TYPES = frozenset((
    "OS::Nova::Server",
    "OS::Heat::DeployedServer",
    "AWS::EC2::Instance",
    "OS::Heat::WaitConditionHandle",
    "OS::Heat::UpdateWaitConditionHandle",
    "AWS::CloudFormation::WaitConditionHandle",
))

# Servers (heat/engine/resources/server_base.py) whose template definition has
# no metadata section: re-resolving it after a signal changes nothing, so
# their metadata changes behind their back only when Heat pushes software
# deployments to them, and what it pushes is the config of each deployment
# naming them as server (service_software_config.py,
# metadata_software_deployments): their cached metadata is reused while those
# config ids (from the software deployment list) are the same.
DEPLOYMENT_PUSH_TYPES = frozenset(("OS::Nova::Server",
                                   "OS::Heat::DeployedServer"))

# Any other cached metadata is re-read after this many polls, which bounds the
# staleness left by the rarer paths (a template resource re-resolving its
# template metadata after a signal; third-party resource types).
METADATA_MAX_AGE = 10

# Heat's own resource types that never write their metadata themselves (in
# Heat 27 only servers, AWS instances and load balancers, wait condition
# handles and template resources call metadata_set): Heat stores the
# template definition's metadata section when the resource leaves INIT and
# keeps it until the resource is updated, adopted or a software deployment
# names it as its server.  See known_metadata().
STATIC_METADATA_TYPES = frozenset((
    "OS::Heat::RandomString", "OS::Heat::Value", "OS::Heat::None",
    "OS::Heat::TestResource", "OS::Heat::ResourceGroup",
    "OS::Heat::ResourceChain", "OS::Heat::SoftwareConfig",
    "OS::Heat::StructuredConfig", "OS::Heat::MultipartMime",
    "OS::Heat::CloudConfig", "OS::Heat::SoftwareComponent",
    "OS::Heat::SoftwareDeployment", "OS::Heat::SoftwareDeploymentGroup",
    "OS::Heat::StructuredDeployment", "OS::Heat::StructuredDeploymentGroup",
    "OS::Heat::WaitCondition", "OS::Heat::Stack",
))

# Attributes that are credentials whatever their name says: Heat itself keeps
# a RandomString's value encrypted (it is how templates make passwords), and a
# signal handle's curl_cli embeds its token or signed URL.
SECRET_ATTRIBUTES = {
    "OS::Heat::RandomString": frozenset(("value",)),
}
SECRET_ATTRIBUTE_NAMES = frozenset(("curl_cli",))

KEY = (("stack_id", "resources.stack_id: the stack the resource is in"),
       ("resource_name", "resources.resource_name"))

TABLES = [
    heatplug.table(
        "resources",
        "One row per resource of every stack, nested stacks included; keyed "
        "by (stack_id, resource_name).", LIST_SOURCE,
        ("stack_id", "id of the stack the resource belongs to (stacks.id), "
                     "from its 'stack' link"),
        ("resource_name", "the resource's name in its stack's template "
                          "(Heat's logical_resource_id is the same)"),
        ("stack_name", "name of that stack"),
        ("physical_resource_id", "id of the underlying object (a server id, "
                                 "a nested stack id, ...), None when there "
                                 "is none (Heat answers '')"),
        ("resource_type", "e.g. OS::Heat::ResourceGroup, or a template "
                          "resource's file name"),
        ("resource_status", "Heat's combined status, e.g. CREATE_COMPLETE"),
        ("action", "the action part of resource_status: INIT, CREATE, "
                   "UPDATE, DELETE, ROLLBACK, SUSPEND, RESUME, CHECK, ..."),
        ("status", "the state part of resource_status: IN_PROGRESS, "
                   "COMPLETE, FAILED"),
        ("resource_status_reason", "why the resource is in its status; "
                                   "secrets inside it are '<redacted>'"),
        ("creation_time", "ISO 8601 creation time"),
        ("updated_time", "ISO 8601 time of the last change (Heat reports the "
                         "creation time until the first one)"),
        ("description", "the resource's description in its template"),
        ("parent_resource", "for a resource of a nested stack, the name of "
                            "the resource that owns that stack in the parent "
                            "stack (stacks.parent); else None"),
        ("nested_stack_id", "id of the nested stack this resource owns "
                            "(ResourceGroup, template resource, "
                            "OS::Heat::Stack, ...), from its 'nested' link; "
                            "else None"),
    ),
    heatplug.table(
        "resources_required_by",
        "Dependencies: one row per resource of the same stack that depends "
        "on this one.", LIST_SOURCE,
        *KEY,
        ("required_by", "name of a resource in the same stack that requires "
                        "this one"),
    ),
    heatplug.table(
        "resources_links", "The links of each resource (self, stack, "
                           "nested).", LIST_SOURCE,
        *KEY,
        ("href", "link URL"),
        ("rel", "link relation: self, stack or nested"),
    ),
    heatplug.table(
        "resources_attributes",
        "Resource data: each resource's attributes as Heat resolves them "
        "now, one row per attribute; credentials redacted.",
        LIST_SOURCE + "; " + TEMPLATE_SOURCE,
        *KEY,
        ("key", "attribute name"),
        ("value", "attribute value: a scalar, or JSON for lists and dicts; "
                  "'<redacted>' for credentials"),
    ),
    heatplug.table(
        "resources_metadata",
        "Resource metadata (the template's metadata section plus what Heat "
        "adds, e.g. a server's software deployments), one row per top-level "
        "key; credentials and signed URLs redacted.",
        METADATA_SOURCE + "; " + TEMPLATE_SOURCE,
        *KEY,
        ("key", "metadata key"),
        ("value", "metadata value: a scalar, or JSON for lists and dicts; "
                  "secrets inside it are '<redacted>'"),
    ),
]


@heatplug.hookimpl
def heatplug_tables():
    return TABLES


# -- fetch --------------------------------------------------------------------

#: ``(stack_name, stack_id)`` from a ``.../stacks/{name}/{id}`` link.
stack_of = stack_secrets.stack_of


_GONE = object()


def _signature(resource):
    return (resource.get("resource_status"), resource.get("updated_time"),
            resource.get("physical_resource_id"))


def _reusable(entry, resource, poll, pushed=None):
    """Whether the cached metadata ``entry`` still answers for ``resource``.

    :param pushed: for a server Heat only pushes deployments to (see
        :data:`DEPLOYMENT_PUSH_TYPES`), the config ids of the deployments
        naming it now; None for any other resource.
    """
    if entry is None or entry["signature"] != list(_signature(resource)):
        return False
    status = resource.get("resource_status") or ""
    if status.endswith("IN_PROGRESS") or \
            poll - entry["poll"] >= METADATA_MAX_AGE:
        return False
    if resource.get("resource_type") in LIVE_METADATA_TYPES:
        return pushed is not None and entry.get("pushed") == list(pushed)
    return True


def _definition(resource, template):
    """The resource's definition in its stack's template, or None."""
    if not isinstance(template, dict):
        return None
    section = None
    for key in ("resources", "Resources"):
        if isinstance(template.get(key), dict):
            section = template[key]
    definition = (section or {}).get(resource.get("resource_name"))
    return definition if isinstance(definition, dict) else None


def _without_metadata_section(resource, template):
    definition = _definition(resource, template)
    return definition is not None and \
        "metadata" not in definition and "Metadata" not in definition


def known_metadata(resource, template, servers):
    """The metadata of ``resource`` when Heat's own code says what it is
    (``{}``), else None (it must be read).

    True for a resource of a :data:`STATIC_METADATA_TYPES` type that is
    INIT or CREATE (never updated nor adopted: Heat stored its template
    definition's metadata when it left INIT), whose definition in
    ``template`` (its stack's current template) has no metadata section, and
    that no software deployment names as its server (``servers``: their
    ``server_id`` values; Heat pushes a deployment's metadata to whatever
    resource has that physical id).
    """
    if resource.get("resource_type") not in STATIC_METADATA_TYPES:
        return None
    status = resource.get("resource_status") or ""
    if not (status.startswith("INIT_") or status.startswith("CREATE_")):
        return None
    if resource.get("physical_resource_id") in servers:
        return None
    return {} if _without_metadata_section(resource, template) else None


@heatplug.hookimpl
def heatplug_fetch(ctx):
    """``{"resources": [...], "templates": {stack_id: template}}``.

    ``resources`` is the shared resource list, each resource with its
    ``metadata`` added.  Metadata is cached in ``ctx.cache`` per (stack id,
    resource name) with the signature (resource_status, updated_time,
    physical_resource_id); it is re-read when the signature changed, while
    the resource is IN_PROGRESS, on every poll for
    :data:`LIVE_METADATA_TYPES` (for the servers of
    :data:`DEPLOYMENT_PUSH_TYPES`: when the configs of the deployments
    naming them changed), after :data:`METADATA_MAX_AGE` polls and on a full
    refresh (``ctx.full_refresh``).  With ``changed_stacks_only``, the
    cached metadata of a resource whose tree did not change
    (``ctx.changed_root_stacks()``) is reused while its signature holds,
    whatever its type or age.  Metadata that :func:`known_metadata` can tell
    is not read, except at a full refresh after the first poll (and never
    again for a resource where Heat answered otherwise).  A resource whose
    metadata read answers 404 is left out only when its stack's resource
    list, read again, no longer has it (it or its stack was deleted
    meanwhile); otherwise it is kept (:func:`_settle_not_found`).
    ``templates`` holds the parameters, resources and outputs
    sections of the template of every listed stack (``ctx.templates``);
    ``orphans``, when there are any, the ids of the listed stacks whose
    parent is gone (:func:`heatplug.context.orphans`).
    """
    poll = ctx.cache["polls"] = ctx.cache.get("polls", 0) + 1
    cache = ctx.cache.setdefault("metadata", {})
    keyed = []
    idents = {}
    for resource in ctx.resources():
        try:
            name, sid = stack_of(context.link(resource, "stack"))
            key = "%s/%s" % (sid, resource["resource_name"])
        except (TypeError, ValueError, KeyError, AttributeError):
            # Malformed: let translate skip and count it.
            keyed.append((None, None, resource))
            continue
        idents[sid] = "%s/%s" % (name, sid)
        keyed.append((key, idents[sid], resource))

    # Every listed stack's: a nested stack without resources of its own
    # can still hand a secret up through its outputs (_Secrets).
    templates = ctx.templates(ctx.stacks())
    # Every physical id a software deployment ever named as its server while
    # heatplug watched (Heat leaves {"deployments": []} there after the last
    # one goes), as long as a resource has it.
    servers = ctx.cache.setdefault("deployment_servers", set())
    servers.update(d.get("server_id") for d in ctx.software_deployments())
    servers.intersection_update(r.get("physical_resource_id")
                                for _, _, r in keyed)
    configs = {}        # server id -> the config ids Heat pushes to it
    for deployment in ctx.software_deployments():
        configs.setdefault(deployment.get("server_id"), []).append(
            str(deployment.get("config_id")))
    roots = ctx.stack_roots()
    changed = {s["id"] for s in ctx.changed_root_stacks()}
    # A full refresh after the first poll re-verifies known metadata too.
    reverify = ctx.full_refresh and poll > 1

    def known(key, res):
        return known_metadata(res, templates.get(key.split("/", 1)[0]),
                              servers)

    def pushed(key, res):
        """The config ids Heat pushes to a server that has no template
        metadata section; None for any other resource."""
        if res.get("resource_type") not in DEPLOYMENT_PUSH_TYPES or \
                not _without_metadata_section(
                    res, templates.get(key.split("/", 1)[0])):
            return None
        return sorted(configs.get(res.get("physical_resource_id"), ()))

    def needs_read(key, res):
        sid = key.split("/", 1)[0]
        entry = cache.get(key)
        if not reverify and not (entry and entry.get("read_always")):
            found = known(key, res)
            if found is not None:
                cache[key] = {"signature": list(_signature(res)),
                              "poll": poll, "metadata": found, "known": True}
                return False
        if ctx.full_refresh or entry is None or entry.get("known") or \
                entry.get("unserved"):
            return True
        if ctx.changed_only and roots.get(sid) is not None and \
                roots[sid] not in changed:
            return entry["signature"] != list(_signature(res))
        return not _reusable(entry, res, poll, pushed(key, res))

    todo = [(key, ident, res) for key, ident, res in keyed
            if key is not None and needs_read(key, res)]

    def read(item):
        key, ident, res = item
        try:
            return ctx.heat.resources.metadata(ident, res["resource_name"])
        except heat_exc.HTTPNotFound:
            return _GONE

    not_found = []
    for (key, ident, res), metadata in zip(todo, ctx.map(read, todo)):
        if metadata is _GONE:
            not_found.append((key, ident, res))
        else:
            entry = cache.get(key) or {}
            cache[key] = {"signature": list(_signature(res)), "poll": poll,
                          "metadata": metadata, "pushed": pushed(key, res),
                          # Heat said otherwise once: never assume again.
                          "read_always": entry.get("read_always") or (
                              metadata != known(key, res) and
                              known(key, res) is not None)}
    gone = _settle_not_found(ctx, not_found, cache, poll)
    LOG.debug("resources: %d resources, %d metadata reads, %d gone",
              len(keyed), len(todo), len(gone))

    out = []
    for key, _, res in keyed:
        if key in gone:
            continue
        record = dict(res)
        if key is not None:
            record["metadata"] = cache[key]["metadata"]
        out.append(record)
    seen = {key for key, _, _ in keyed}
    for key in set(cache) - seen:
        del cache[key]
    # The configs Heat derived for deployments a stack built from its
    # secrets: Heat pushes them into their servers' metadata.
    pushed_ids = {d.get("config_id") for d in ctx.software_deployments()}
    found = stack_secrets.software_secrets(ctx, templates)
    secret = found["configs"] & pushed_ids
    # The software resources whose config or deployment carries a secret
    # (a RandomString's value included): their attributes show it too.
    # (Only those: found["configs"] also holds every resource a secret
    # reaches, generated ones included, which attributes do not follow.)
    made = {d.get("id") for d in ctx.software_deployments()}
    software = {r.get("physical_resource_id") for r in out
                if r.get("resource_type") in SOFTWARE_CONFIG_TYPES or
                r.get("physical_resource_id") in made} & (
        found["configs"] | found["deployments"])
    result = {"resources": out, "templates": templates,
              "secret_configs": sorted(secret, key=str)}
    if software:            # no key: none (as in answers recorded before)
        result["secret_software"] = sorted(software, key=str)
    orphans = context.orphans(ctx.stacks())
    if orphans:             # no key: none (as in answers recorded before)
        result["orphans"] = sorted(orphans)
    return result


#: Resource types whose physical id is a software config's id: their
#: ``config`` attribute is its body.
SOFTWARE_CONFIG_TYPES = frozenset((
    "OS::Heat::SoftwareConfig", "OS::Heat::StructuredConfig",
    "OS::Heat::CloudConfig", "OS::Heat::MultipartMime",
    "OS::Heat::SoftwareComponent"))


def _settle_not_found(ctx, not_found, cache, poll):
    """The keys of the resources of ``not_found`` (``(key, ident,
    resource)`` whose metadata read answered 404) that are gone.

    A 404 says either "deleted since the resource list" or "Heat cannot
    serve this item although it lists it" (Heat 27 answers 404 to every
    per-resource call for a resource whose name is not ASCII: its own URL
    decoding).  The resource show cannot tell them apart (it 404s the same
    way), so each stack with such a 404 has its resources listed again
    (``GET /stacks/{name}/{id}/resources``, no detail, one call per stack,
    on the worker pool; nothing when no read answered 404): a resource
    still listed is kept, one not listed any more (or whose stack answers
    404) is gone.  A kept resource keeps its last good metadata if there is
    any (said to be stale in a warning), else it has none (no metadata
    rows); its metadata is read again on every poll until Heat answers.
    """
    if not not_found:
        return set()
    idents = sorted({ident for _, ident, _ in not_found})

    def listed(ident):
        try:
            return {context.to_dict(r).get("resource_name")
                    for r in ctx.heat.resources.list(ident)}
        except heat_exc.HTTPNotFound:
            return set()            # the stack is gone
    names = dict(zip(idents, ctx.map(listed, idents)))
    gone = set()
    for key, ident, res in not_found:
        name = res["resource_name"]
        if name not in names[ident]:
            gone.add(key)
            cache.pop(key, None)
            continue
        entry = cache.get(key)
        first = not (entry and entry.get("unserved"))
        if entry is None or entry.get("metadata") is None:
            cache[key] = {"signature": list(_signature(res)), "poll": poll,
                          "metadata": None, "unserved": True}
            kept = "publishing no metadata for it"
        else:
            entry["unserved"] = True
            kept = ("keeping its metadata last read %d poll(s) ago, which "
                    "may be stale" % (poll - entry["poll"]))
        (LOG.warning if first else LOG.debug)(
            "resources: Heat answered 404 to the metadata of resource %r of "
            "stack %s although it still lists the resource (Heat cannot "
            "serve it, e.g. Heat 27 with a non-ASCII resource name): "
            "keeping the resource, %s", name, ident, kept)
    return gone


# -- translate ----------------------------------------------------------------

def _json_container(text):
    text = text.strip()
    if not (text.startswith("{") or text.startswith("[")):
        return None
    try:
        decoded = json.loads(text)
    except ValueError:
        return None
    return decoded if isinstance(decoded, (dict, list)) else None


def scrub(val):
    """:func:`heatplug.redact.scrub`, and also inside the shapes Heat uses.

    - a named item (``{"name": n, "value": v, "default": d, "hidden": h}``,
      as in software config inputs and deployment metadata): ``value`` and
      ``default`` are redacted when the item is hidden or ``n`` names a
      credential (``deploy_password``, ``deploy_signal_id``, ...); the
      same for a key/value pair (``{"key": n, "value": v}``);
    - a string holding a JSON object or list (a wait condition handle's
      ``signal`` attribute) is scrubbed inside.
    """
    return redact.scrub_with(val, _scrub_string)


def _scrub_string(text):
    decoded = _json_container(text)
    if decoded is not None:
        cleaned = scrub(decoded)
        return text if cleaned == decoded else json.dumps(cleaned,
                                                          sort_keys=True)
    return redact.scrub(text)


def _attribute(rtype, key, val):
    if val is not None and (key in SECRET_ATTRIBUTE_NAMES or
                            key in SECRET_ATTRIBUTES.get(rtype, ()) or
                            redact.is_secret_key(key)):
        return redact.REDACTED
    return scrub(val)


def _mapping(value, what):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError("%s is a %s, not a dict"
                        % (what, type(value).__name__))
    return value


# -- which resources carry a hidden parameter ---------------------------------

#: ``(attributes, metadata)`` names of a template's resources that carry a
#: secret (:func:`heatplug.stack_secrets.tainted`).
tainted = stack_secrets.tainted


def _stack_and_nested(resource):
    """The hrefs of the resource's ``stack`` and ``nested`` links (the
    first of each), in one pass."""
    stack = nested = None
    for link in resource.get("links") or ():
        if isinstance(link, dict):
            rel = link.get("rel")
            if rel == "stack" and stack is None:
                stack = link.get("href")
            elif rel == "nested" and nested is None:
                nested = link.get("href")
    return stack, nested


def _resource_rows(res, secrets, secret_configs=frozenset(),
                   secret_software=frozenset()):
    """The rows of one resource, one list per table (in TABLE_NAMES order);
    raises on a malformed resource.

    Plain tuples: heatplug_translate makes every value a scalar at the end
    (translation.normalize)."""
    name = res["resource_name"]
    if not isinstance(name, str) or not name:
        raise ValueError("resource_name %r" % (name,))
    stack_href, nested = _stack_and_nested(res)
    stack_name, sid = stack_of(stack_href)
    get = res.get
    rtype = get("resource_type")
    status = get("resource_status")
    action, state = translation.split_status(status)
    main = [(sid, name, stack_name, get("physical_resource_id") or None,
             rtype, status, action, state,
             redact.scrub_inside(get("resource_status_reason")),
             get("creation_time"), get("updated_time"), get("description"),
             get("parent_resource"),
             stack_of(nested)[1] if nested else None)]
    # Heat lists required_by from a set: its order changes between answers
    required = [(sid, name, other)
                for other in sorted(get("required_by") or (), key=str)]
    links = [(sid, name, link.get("href"), link.get("rel"))
             for link in get("links") or ()]
    attributes = _mapping(get("attributes"), "attributes")
    attrs = []
    if attributes:
        hide = get("physical_resource_id") in secret_software or \
            secrets.attributes(sid, name) or secrets.climbing(sid, name)
        attrs = [(sid, name, key,
                  redact.value(key, attributes[key], hidden=True)
                  if hide is True or hide and heat_templates.carries(key, hide)
                  else _attribute(rtype, key, attributes[key]))
                 for key in sorted(attributes, key=str)]
    metadata = _mapping(get("metadata"), "metadata")
    meta = []
    if metadata:
        hide = secrets.metadata(sid, name)
        meta = [(sid, name, key,
                 redact.REDACTED if metadata[key] is not None and (
                     hide or redact.is_secret_key(key))
                 else scrub(_pushed(key, metadata[key], secret_configs)))
                for key in sorted(metadata, key=str)]
    return main, required, links, attrs, meta


#: What a config pushed into a server's ``deployments`` metadata carries that
#: a stack's secret can reach.
PUSHED_SECRET_KEYS = ("config", "inputs", "options")


def _pushed(key, value, secret_configs):
    """A server's ``deployments`` metadata (the configs Heat derived for its
    deployments) with the body, inputs and options of each config in
    ``secret_configs`` (a stack built it from its secrets) redacted."""
    if key != "deployments" or not secret_configs or \
            not isinstance(value, list):
        return value
    return [{k: redact.REDACTED if k in PUSHED_SECRET_KEYS and v is not None
             else v for k, v in item.items()}
            if isinstance(item, dict) and item.get("id") in secret_configs
            else item for item in value]


TABLE_NAMES = ("resources", "resources_required_by", "resources_links",
               "resources_attributes", "resources_metadata")


@heatplug.hookimpl
def heatplug_translate(raw):
    rows = translation.Rows(*TABLE_NAMES)
    raw = raw or {}
    resources = [r for r in raw.get("resources") or () if isinstance(r, dict)]
    secrets = stack_secrets.ResourceSecrets(
        resources, raw.get("templates"), orphans=raw.get("orphans"))
    secret_configs = frozenset(raw.get("secret_configs") or ())
    secret_software = frozenset(raw.get("secret_software") or ())
    tables = [rows[name] for name in TABLE_NAMES]
    for res in raw.get("resources") or ():
        try:
            out = _resource_rows(res, secrets, secret_configs,
                                 secret_software)
        except Exception:
            # Malformed: translate it again under rows.record(), which skips
            # and reports it (translation is pure: it fails the same way).
            ident = None
            if isinstance(res, dict):
                ident = "%s in %s" % (res.get("resource_name"),
                                      context.link(res, "stack"))
            out = None
            with rows.record("resource", ident):
                out = _resource_rows(res, secrets, secret_configs,
                                     secret_software)
            if out is None:
                continue
        for table, table_rows in zip(tables, out):
            table.extend(table_rows)
    return translation.normalize(rows)
