"""Which resources carry a stack's secrets, across the stacks of a tree.

Heat masks a hidden parameter only where it is declared; whatever a
template builds from it (a resource's attributes, a software config's body,
a deployment's input values, a nested stack's parameters and outputs) is
shown in plain text.  :class:`ResourceSecrets` reads the resource lists
(each resource names its stack in its ``stack`` link and its nested stack
in its ``nested`` link) and the stacks' templates
(:meth:`heatplug.context.PollContext.templates`) and tells, for each
resource, whether its attributes or its metadata carry a secret: the
template analysis is :mod:`heatplug.heat_templates`'s, over every stack of
a tree (secrets flow down into nested stacks and climb out of them).

:func:`software_secrets` applies it to the software families: which
software configs and deployments a stack built from its secrets.
"""

import functools
import logging
from urllib import parse

from heatplug import context
from heatplug import heat_templates

LOG = logging.getLogger(__name__)


def stack_of(href):
    """``(stack_name, stack_id)`` from a ``.../stacks/{name}/{id}`` link."""
    return _stack_of(href)


@functools.lru_cache(maxsize=4096)
def _stack_of(href):
    # Cached: every resource of a stack links to the same stack URL.
    parts = [parse.unquote(p) for p in
             parse.urlsplit(href).path.rstrip("/").split("/")]
    i = len(parts) - 1 - parts[::-1].index("stacks")
    name, sid = parts[i + 1], parts[i + 2]
    if not name or not sid:
        raise ValueError("no stack name/id in %r" % href)
    return name, sid


def owners(resources):
    """``{stack id: (owner's stack id, resource name)}`` from Heat's
    resource lists: each resource's ``nested`` link names the stack it owns
    (template resources, groups, ...), and an ``OS::Heat::Stack``'s
    physical id the root stack it made
    (``heat_templates.REMOTE_STACK_TYPES``).  Exact, where Heat's naming of
    nested stacks is not (it shortens names over 255 characters)."""
    result = {}
    for res in resources:
        try:
            nested = context.link(res, "nested")
            if nested:
                nested = stack_of(nested)[1]
            elif res.get("resource_type") in \
                    heat_templates.REMOTE_STACK_TYPES:
                nested = res.get("physical_resource_id")
            if nested:
                result[nested] = (stack_of(context.link(res, "stack"))[1],
                                  res["resource_name"])
        except (TypeError, ValueError, KeyError, AttributeError):
            continue
    return result


def tainted(template, seeds=()):
    """``(attributes, metadata)``: names of the resources of ``template``
    whose definition depends on a hidden or secret-named parameter or on a
    resource in ``seeds`` (that owns a nested stack handing up a secret;
    None: every resource), directly or through other resources
    (transitively), and of those whose metadata section does."""
    return heat_templates.tainted_resources(
        template, heat_templates.secret_parameters(template), seeds=seeds)


class ResourceSecrets:
    """Which resources' attributes and metadata carry a secret.

    :param resources: Heat's resource lists (every stack of the trees).
    :param templates: ``{stack_id: template}``; a stack missing from it
        (its template could not be read) is unknown: all its resources
        carry a secret.
    :param orphans: ids of the stacks whose parent is gone
        (:func:`heatplug.context.orphans`): their owner, and so what it
        handed them, is unknown.
    :param generated: count a generated secret (a RandomString, see
        ``heat_templates.GENERATED_SECRET_TYPES``) as a secret, so that
        what is built from its value carries it too.  Not for attributes in
        general: every server named with a random suffix would be hidden.
    """

    def __init__(self, resources, templates, orphans=(), generated=False):
        self.templates = templates if isinstance(templates, dict) else {}
        self.orphans = frozenset(orphans) if isinstance(
            orphans, (list, tuple, set, frozenset)) else frozenset()
        self.generated = generated
        self.owner = owners(resources)   # stack id -> (stack id, name)
        self.nested = heat_templates.NestedSecrets(
            self.templates, {child: (parent, name) for child, (parent, name)
                             in self.owner.items()})
        self._tainted = {}
        self._whole = {}

    def _of(self, sid):
        if sid not in self._tainted:
            template = self.templates.get(sid)
            result = None
            if isinstance(template, dict):
                seeds = self.nested.seeds(sid)
                if self.generated and seeds is not None:
                    seeds = dict(seeds, **dict.fromkeys(
                        heat_templates.generated_secrets(template)))
                try:
                    result = tainted(template, seeds)
                except (ValueError, TypeError, AttributeError):
                    result = None
            self._tainted[sid] = result
        return self._tainted[sid]

    def climbing(self, sid, name):
        """For a resource owning a nested stack whose outputs carry a
        secret: True when all its attributes do (the outputs are unknown),
        else the names of the secret outputs (the attributes of the same
        names, and the aggregating ones, carry them); None otherwise."""
        seeds = self.nested.seeds(sid)
        if seeds is None:
            return True
        if name not in seeds:
            return None
        return True if seeds[name] is None else seeds[name]

    def whole_stack(self, sid, _seen=()):
        """True when every resource of stack ``sid`` is to be redacted: its
        template is unknown, its parent is gone (its owner is unknown), or
        the resource owning it is tainted."""
        if sid not in self._whole:
            if sid in self.orphans or self._of(sid) is None:
                self._whole[sid] = True
            else:
                owner = self.owner.get(sid)
                self._whole[sid] = bool(
                    owner and owner[0] not in _seen and
                    self.attributes(*owner, _seen=_seen + (sid,)))
        return self._whole[sid]

    def attributes(self, sid, name, _seen=()):
        """True when the attributes of resource ``name`` of stack ``sid``
        carry a secret."""
        return self.whole_stack(sid, _seen) or name in self._of(sid)[0]

    def metadata(self, sid, name):
        """True when its metadata carries a secret."""
        return self.whole_stack(sid) or name in self._of(sid)[1]


def tainted_physical_ids(resources, templates, orphans=(), generated=False):
    """The physical ids of the resources whose attributes carry a secret
    (:class:`ResourceSecrets`)."""
    secrets = ResourceSecrets(resources, templates, orphans=orphans,
                              generated=generated)
    out = set()
    for res in resources:
        try:
            phys = res.get("physical_resource_id")
            if phys and secrets.attributes(
                    stack_of(context.link(res, "stack"))[1],
                    res["resource_name"]):
                out.add(phys)
        except (TypeError, ValueError, KeyError, AttributeError):
            continue
    return out


#: Heat names the inputs it adds to every deployment (and its derived
#: config) ``deploy_*``: server id, action, signal transport and id,
#: credentials.  They are Heat's, not the template's: redacted by name and
#: shape, never because a stack's secret flows into the deployment.
HEAT_INPUT_PREFIX = "deploy_"


def heat_input(name):
    """True for an input Heat adds to every deployment (``deploy_*``)."""
    return isinstance(name, str) and name.startswith(HEAT_INPUT_PREFIX)


def software_secrets(ctx, templates=None):
    """``{"configs": ids, "deployments": ids}``: the software configs and
    deployments a stack built from its secrets (shared per poll).

    A stack makes a config or a deployment through a resource whose
    physical id is its id (``OS::Heat::SoftwareConfig``,
    ``StructuredConfig``, ``CloudConfig``, ``MultipartMime``,
    ``SoftwareDeployment``, ``StructuredDeployment``, a deployment group's
    members, ...); when that resource's definition depends on a hidden or
    secret-named parameter or on a generated secret (directly, through
    other resources, or because a secret flows into its stack), the
    config's body, inputs and options, or the deployment's input values,
    carry it.  Heat derives a config for each deployment (its
    ``config_id``), holding the deployment's input values and the source
    config's body: that config carries it too.  Reads the shared resource
    lists, templates and deployment list; a read that fails fails the
    caller's fetch (:func:`secret_ids` falls back instead).

    :param templates: ``ctx.templates(ctx.stacks())``, when the caller has
        it already.
    """
    def compute():
        resources = ctx.resources()
        tainted = tainted_physical_ids(
            resources, ctx.templates(ctx.stacks()) if templates is None
            else templates, orphans=context.orphans(ctx.stacks()),
            generated=True)
        linked = {r.get("physical_resource_id") for r in resources}
        deployments, configs = set(), set(tainted)
        for dep in ctx.software_deployments():
            if dep.get("id") in tainted:
                deployments.add(dep.get("id"))
                configs.add(dep.get("config_id"))
            if dep.get("id") in linked:
                linked.add(dep.get("config_id"))
        return {"configs": configs, "deployments": deployments,
                "linked": linked}

    return ctx.shared("software_secrets", compute)


def in_the_making(stacks, listed_at=None):
    """The Heat time (seconds since the epoch) from which a software config
    or deployment may be one a stack is making and no resource links yet:
    the start of the action of the earliest stack IN_PROGRESS, or else the
    stack list's answer (``listed_at``: a stack begun after it is not in
    it), or, when the answer gave no time, the last change of any listed
    stack.  None: any time (a stack's time is not one)."""
    busy, changes = [], []
    for stack in stacks:
        when = epoch_of(stack)
        if str(stack.get("stack_status") or "").endswith("IN_PROGRESS"):
            if when is None:
                return None
            busy.append(when)
        changes.append(when)
    if listed_at is None:
        if None in changes or not changes:
            return None
        listed_at = max(changes)
    return min(busy + [listed_at])


def epoch_of(stack):
    """When a stack last changed: its action's start (``updated_time``,
    or ``creation_time`` before any update), in seconds."""
    return context.epoch(stack.get("updated_time") or
                         stack.get("creation_time"))


def _made_since(record, since):
    when = context.epoch(record.get("creation_time"))
    return since is None or when is None or when >= since


def secret_ids(ctx, kind, records):
    """The ids of the ``records`` (software ``"configs"`` or
    ``"deployments"``, ``kind``; dicts with an ``id`` and a
    ``creation_time``) that a stack built from its secrets
    (:func:`software_secrets`).

    When that cannot be told this poll (a read it needs failed: the stack
    list, a resource list, a template), the family's verdicts of its last
    poll stand, kept in ``ctx.cache``, and an id it has not judged yet
    counts as secret: the family still publishes, redacting more, never
    less.

    An id that no resource links may be a stack's in the making: made in
    the moment between the poll's resource lists and its software lists,
    its resource not listed yet.  It is redacted for the poll, and judged
    on the next, when it is new since the family's last poll, or, on the
    family's first poll (when every id is new, and those made through the
    API would all wait), when it was made since :func:`in_the_making`:
    while this poll ran, or while a stack was IN_PROGRESS.
    """
    ids = {r.get("id") for r in records if r.get("id")}
    try:
        found = software_secrets(ctx)
        secret = found[kind] & ids
        unlinked = ids - found["linked"]
        if "judged" in ctx.cache:
            secret |= unlinked - ctx.cache["judged"]
        elif unlinked:
            since = in_the_making(ctx.stacks(), ctx.stacks_listed_at())
            secret |= {r["id"] for r in records if r.get("id") in unlinked
                       and _made_since(r, since)}
    except Exception as exc:
        judged = ctx.cache.get("judged", set())
        secret = {i for i in ids if i not in judged} | (
            ids & ctx.cache.get("secret", set()))
        LOG.warning("%s: which software %s carry a stack's secrets cannot "
                    "be told this poll (%s: %s): the last poll's verdicts "
                    "stand, and %d not judged yet are redacted", ctx.name,
                    kind, type(exc).__name__, exc, len(ids - judged))
        return secret
    ctx.cache["judged"], ctx.cache["secret"] = ids, secret
    return secret
