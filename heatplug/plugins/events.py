"""The ``events`` family: every event of every stack, nested stacks included.

Reads, per poll:

- one ``GET /stacks/{name}/{id}/events?nested_depth=N&sort_dir=asc`` per
  root stack (paged with ``limit``/``marker``; Heat has no default page
  size for events, the family asks for :data:`PAGE_SIZE` at a time);
- ``GET /stacks/{name}/{id}/resources/{resource}/events/{id}`` ("show event
  details": ``resource_type`` and ``resource_properties``) once per event
  *ever*, through ``ctx.map``: events never change, so the answer is kept by
  event id until the event goes away.  Not for a stack's own events: Heat
  records every one of them with type ``OS::Heat::Stack`` and no properties
  (:func:`stack_event_detail`).

Events are immutable, so a root stack's events are kept in ``ctx.cache``
between polls and later polls ask only for the events after the last one
seen (``marker``, ascending order).  What Heat 27 does that shapes the code
(all seen on the real Heat):

- An unknown ``marker`` (a pruned event, a purged stack) is **not** an
  error: Heat looks the marker up, finds nothing and silently pages from the
  *first* event again.  The family notices (an answer that repeats an event
  it already holds from before the marker) and re-reads the tree.
- Heat prunes a stack's oldest events (``max_events_per_stack``, default
  1000, a server option heatplug cannot read) only while creating a new
  event for that stack, so only a stack that got new events since the last
  read can have lost cached ones: each such stack that also has events
  cached from before is checked with one
  ``GET .../events?sort_dir=asc&limit=1`` (its oldest event), every tree's
  checks together on the worker pool, and the cached events older than that
  are dropped (:func:`_prune_checks`, :func:`_settle_pruned`).  A poll that
  brings no new event makes no such call.
- ``nested_depth`` lists only the events of stacks that have resources: a
  root stack without nested stacks is read without it, and a nested stack
  whose events are missing from its tree's answer is read on its own.
- ``nested_depth`` lists only the events of the *token's* project, even to
  a cloud admin (who is listed every project's stacks): another project's
  tree (``ctx.other_project_stacks()``) is read a stack at a time, and so
  is a tree whose answer has no event of its root.
- A nested stack whose parent is gone (``deletion_policy: Retain``, an
  abandoned parent: :func:`heatplug.context.orphans`) is the root of its
  own tree (``ctx.root_stacks()``); ``nested_depth`` finds a tree's stacks
  by their resources' root stack, still the deleted parent, and lists none
  of its events, so its tree is read a stack at a time too.  Who owns it
  is unknown: every property of its events, and of those of the stacks
  below it, is redacted (:func:`effective_secrets`).
- Events are ordered by (creation time, database id); an event committed
  late could sort before the marker, so the marker is the newest event older
  than :data:`SETTLE_SECONDS` before the previous read, and the overlap is
  de-duplicated by id.
- The list gives ``resource_status`` as ``ACTION_STATE`` (e.g.
  ``CREATE_COMPLETE``) and no ``resource_type``; only the detail has it.
- The detail holds the *resolved* property values the resource had at the
  event (the old ones while an update is in progress): a hidden parameter
  shows in plain text.  So the family reads the template of each stack that
  has new events, and of its ancestors (``GET /stacks/{name}/{id}/template``,
  shared with ``templates`` and ``stack_details`` through ``ctx.shared``),
  and redacts the properties that depend on a hidden or secret-named
  parameter or on a ``RandomString`` (transitively through other resources),
  and every property of a nested stack whose owning resource receives one
  (:func:`effective_secrets`), and the properties of a nested stack using
  ``resource_facade`` when its owner's metadata or policies carry a secret
  (:func:`facade_secrets`).  An event that may have been recorded under
  another template version (an update, a rollback: events do not say)
  cannot be judged with the current one: every property of it is redacted
  (:func:`judged_elsewhere`, :func:`_verdict`).  What to redact is decided
  when the detail is read and kept with it, and decided again (never
  relaxing) when the tree's signature changes.

Modes (see :mod:`heatplug.context`): a full refresh (``ctx.full_refresh``)
lists every tree's events from the first one again (the details are kept:
an event never changes); with ``changed_stacks_only`` only the trees of
``ctx.changed_root_stacks()`` are listed, the others keep their cached
events until their tree changes or the next full refresh.

Event details can be switched off with ``[heatplug] event_details = false``.
"""

import functools
import logging
import time

from heatclient import exc as heat_exc

import heatplug
from heatplug import context
from heatplug import heat_templates
from heatplug import redact
from heatplug import translation

LOG = logging.getLogger(__name__)

#: events asked for per request (Heat itself sets no limit on events)
PAGE_SIZE = 500

#: the marker of an incremental read is the newest cached event created at
#: least this many seconds before the previous read (clock skew and late
#: commits); the overlap is read again and de-duplicated
SETTLE_SECONDS = 60

#: where the switch for event details will live: ``[heatplug] event_details``

LIST_SOURCE = ("GET /v1/{project}/stacks/{name}/{id}/events?nested_depth=N"
               "&sort_dir=asc&limit&marker (events.list), one per root stack")
SHOW_SOURCE = ("GET /v1/{project}/stacks/{name}/{id}/resources/{resource}/"
               "events/{event_id} (events.get), once per event ever")

TABLES = [
    heatplug.table(
        "events", "One row per event of every stack, nested stacks "
        "included.", LIST_SOURCE + "; resource_type from " + SHOW_SOURCE,
        ("id", "event UUID"),
        ("stack_id", "id of the stack the event belongs to (the nested "
                     "stack for an event of a nested stack)"),
        ("resource_name", "name of the resource, or the stack's name for an "
                          "event of the stack itself"),
        ("logical_resource_id", "the resource's name in its template (same "
                                "as resource_name)"),
        ("physical_resource_id", "id of the underlying object, e.g. the "
                                 "nested stack's id; may be empty"),
        ("resource_type", "e.g. OS::Heat::RandomString (from the event "
                          "details; None when details are off)"),
        ("event_time", "ISO 8601 time of the event"),
        ("resource_status", "Heat's combined status, e.g. CREATE_COMPLETE"),
        ("action", "the action part of resource_status: CREATE, UPDATE, "
                   "DELETE, SIGNAL, CHECK, ..."),
        ("status", "the state part of resource_status: IN_PROGRESS, "
                   "COMPLETE, FAILED"),
        ("resource_status_reason", "why: Heat's message for the event"),
    ),
    heatplug.table(
        "events_links", "The links of each event (self, resource, stack; "
        "and root_stack on every event of a tree with nested stacks).",
        LIST_SOURCE,
        ("event_id", "events.id"),
        ("href", "link URL"),
        ("rel", "link relation"),
    ),
    heatplug.table(
        "events_resource_properties", "The resource's properties as the "
        "event recorded them, one row per top-level property; secrets "
        "redacted.", SHOW_SOURCE + "; what to redact from GET /v1/{project}"
        "/stacks/{name}/{id}/template (stacks.template, shared)",
        ("event_id", "events.id"),
        ("key", "property name"),
        ("value", "property value (JSON for lists and maps); '<redacted>' "
                  "for secrets"),
    ),
]


@heatplug.hookimpl
def heatplug_tables():
    return TABLES


def details_enabled(conf):
    """Whether to fetch event details (``[heatplug] event_details``)."""
    return conf.heatplug.event_details


# -- fetch -------------------------------------------------------------------

class _MarkerLost(Exception):
    """Heat answered from the first event again: the marker is gone."""


def _stack_link(event):
    """``(name/id, id)`` of the stack an event belongs to, from its links."""
    for link in event.get("links") or ():
        if isinstance(link, dict) and link.get("rel") == "stack":
            return _stack_of_href(link["href"])
    raise KeyError("event %s has no stack link" % event.get("id"))


@functools.lru_cache(maxsize=4096)
def _stack_of_href(href):
    # Cached: every event of a stack links to the same stack URL.
    path = href.split("/stacks/", 1)[1].strip("/")
    name, _, sid = path.rpartition("/")
    return "%s/%s" % (name, sid), sid


def _with_root_link(event, href):
    """``event``, with a ``root_stack`` link to ``href`` if it has none (a
    copy: the cached event is left as Heat answered it)."""
    links = event.get("links")
    if not href or not isinstance(links, list) or any(
            isinstance(link, dict) and link.get("rel") == "root_stack"
            for link in links):
        return event
    return dict(event, links=links + [{"href": href, "rel": "root_stack"}])


def _stack_id(event):
    try:
        return _stack_link(event)[1]
    except (KeyError, IndexError, AttributeError, TypeError):
        return None


def _event_epoch(event):
    return context.epoch(event.get("event_time"))


def _list(ctx, ident, depth, marker=None, limit=PAGE_SIZE):
    kwargs = {"sort_dir": "asc", "limit": limit}
    if depth:
        kwargs["nested_depth"] = depth
    if marker:
        kwargs["marker"] = marker
    return [context.to_dict(e) for e in ctx.heat.events.list(ident, **kwargs)]


def _read_after(ctx, ident, depth, marker, known):
    """Every event after ``marker`` (all of them for None), in Heat's order.

    :param known: ids of the events at or before the marker.
    :raises _MarkerLost: the answer repeats one of them.
    """
    seen = set(known)
    out = []
    while True:
        page = _list(ctx, ident, depth, marker)
        for event in page:
            eid = event.get("id")
            if eid is not None:
                if eid in seen:
                    raise _MarkerLost(eid)
                seen.add(eid)
            out.append(event)
        if len(page) < PAGE_SIZE:
            return out
        marker = page[-1].get("id")
        if not marker:
            raise ValueError("Heat returned an event without an id")


def _read_all(ctx, ident, depth):
    for _ in range(3):
        try:
            return _read_after(ctx, ident, depth, None, ())
        except _MarkerLost:   # an event between two pages was pruned
            LOG.info("events of %s changed while paging; reading again",
                     ident)
    raise RuntimeError("events of %s keep changing while paging" % ident)


def _settled_index(events, cutoff):
    """Index of the newest event created no later than ``cutoff``, or -1."""
    for i in range(len(events) - 1, -1, -1):
        when = _event_epoch(events[i])
        if when is not None and when <= cutoff and events[i].get("id"):
            return i
    return -1


def _prune_checks(events, new_ids):
    """``[(stack id, ident)]``: the stacks whose cached events Heat may have
    pruned, each to be checked with one call (its oldest event).

    Heat deletes a stack's oldest events only in ``event_create`` (heat/db/
    api.py), while it adds an event to that same stack, once the stack
    holds ``max_events_per_stack``.  So only a stack with an event in
    ``new_ids`` (new since the last read) can have lost events, and only
    one with events from before can have lost cached ones, whatever its
    number of events (the server's limit is not known).  No new event, no
    check.  The checks of every tree run together on the worker pool
    (:func:`_settle_pruned`).
    """
    fresh, older = set(), set()
    for event in events:
        (fresh if event.get("id") in new_ids else older).add(_stack_id(event))
    return [(sid, next(_stack_link(e)[0] for e in events
                       if _stack_id(e) == sid))
            for sid in sorted(s for s in fresh & older if s)]


def _drop_pruned(events, sid, oldest):
    """``events`` less those of stack ``sid`` older than ``oldest`` (its
    oldest event in Heat now); None when that event is not among them (the
    tree must be read again)."""
    own = [e.get("id") for e in events if _stack_id(e) == sid]
    if oldest.get("id") not in own:
        return None
    pruned = set(own[:own.index(oldest["id"])])
    if pruned:
        LOG.info("%d pruned events of stack %s dropped", len(pruned), sid)
        events = [e for e in events if e.get("id") not in pruned]
    return events


def _settle_pruned(ctx, entries, live, now):
    """Run the prune checks of every entry read this poll (its ``checks``)
    on the worker pool, drop the events Heat pruned, and read again the
    trees where that cannot be told."""
    checks = [(key, sid, ident) for key, entry in entries.items()
              if entry is not None for sid, ident in entry.pop("checks", ())]

    def oldest(check):
        try:
            return _list(ctx, check[2], None, limit=1)
        except heat_exc.HTTPNotFound:
            return []           # gone since the stack list

    again = set()
    for (key, sid, _), answer in zip(checks, ctx.map(oldest, checks)):
        entry = entries[key]
        if answer and key not in again:
            events = _drop_pruned(entry["events"], sid, answer[0])
            if events is None:
                again.add(key)
            else:
                entry["events"] = events
    again = sorted(again)
    entries.update(zip(again, ctx.map(
        lambda key: _read_entry(ctx, entries[key]["ident"],
                                entries[key]["depth"], None, live, now),
        again)))


def _read_entry(ctx, ident, depth, old, live, now):
    """Read one tree (or one stack): a new cache entry, or None if gone."""
    if old is not None and old.get("depth") != depth:
        old = None          # the tree gained or lost its nested stacks
    events, checks = None, []
    try:
        if old is not None:
            cached = old["events"]
            m = _settled_index(cached, old["read_at"] - SETTLE_SECONDS)
            if m >= 0:
                head = cached[:m + 1]
                try:
                    tail = _read_after(ctx, ident, depth, cached[m]["id"],
                                       {e.get("id") for e in head})
                except _MarkerLost:
                    LOG.info("event marker of %s is gone (pruned?): "
                             "reading all its events again", ident)
                else:
                    head = [e for e in head if _stack_id(e) in live]
                    old_ids = {e.get("id") for e in cached}
                    new_ids = {e.get("id") for e in tail} - old_ids
                    events = head + tail
                    checks = _prune_checks(events, new_ids) if new_ids \
                        else []
        if events is None:
            events, checks = _read_all(ctx, ident, depth), []
    except heat_exc.HTTPNotFound:
        return None         # the stack went away since the stack list
    entry = {"ident": ident, "depth": depth, "events": events,
             "read_at": now}
    if checks:
        entry["checks"] = checks        # for _settle_pruned
    return entry


def _trees(stacks):
    """``{root_id: [descendant ids]}`` and every stack's depth."""
    by_id = {s["id"]: s for s in stacks}
    depth, root_of = {}, {}

    def walk(sid):
        if sid in depth:
            return depth[sid], root_of[sid]
        chain, cur = [], sid
        while True:
            chain.append(cur)
            parent = by_id[cur].get("parent")
            if not parent or parent not in by_id or parent in chain:
                d, root = 0, cur
                break
            if parent in depth:
                d, root = depth[parent] + 1, root_of[parent]
                break
            cur = parent
        for sid_ in reversed(chain):
            depth[sid_], root_of[sid_] = d, root
            d += 1
        return depth[sid], root_of[sid]

    trees = {}
    for sid in by_id:
        _, root = walk(sid)
        trees.setdefault(root, [])
        if sid != root:
            trees[root].append(sid)
    return by_id, depth, trees


def _fetch_detail(ctx, details, judge, event):
    try:
        ident, _ = _stack_link(event)
        shown = context.to_dict(ctx.heat.events.get(
            ident, event["resource_name"], event["id"]))
    except heat_exc.HTTPNotFound:
        return              # pruned or deleted since the list: try again later
    except (KeyError, IndexError, AttributeError, TypeError):
        LOG.warning("event %s: cannot tell where its details are",
                    event.get("id"))
        return
    details[event["id"]] = {
        "resource_type": shown.get("resource_type"),
        "resource_properties": shown.get("resource_properties"),
        # None: every value is redacted (see effective_secrets, _verdict)
        "secret_properties": judge(event),
    }


#: what Heat records for a stack's own event (``Stack._add_event`` in
#: heat/engine/stack.py: type ``OS::Heat::Stack``, no properties)
STACK_EVENT_TYPE = "OS::Heat::Stack"


def stack_event_detail(event):
    """The detail of a stack's own event, known without a call, or None.

    Heat records a stack's state changes as events whose resource name is
    the stack's name, whose physical resource id is the stack's id, whose
    type is ``OS::Heat::Stack`` and which have no properties.
    """
    try:
        ident, sid = _stack_link(event)
    except (KeyError, IndexError, AttributeError, TypeError):
        return None
    if (not sid or event.get("physical_resource_id") != sid
            or event.get("resource_name") != ident.rsplit("/", 1)[0]):
        return None
    return {"resource_type": STACK_EVENT_TYPE, "resource_properties": {},
            "secret_properties": []}


def owners(by_id, events):
    """``{nested stack id: (parent id, name of the parent's resource that
    owns it, or None)}`` for every listed nested stack whose parent is
    listed: from the parent's events (the owner's ``physical_resource_id``
    is the nested stack's id, or its name), else from Heat's naming
    (:func:`heatplug.context.owning_resource`)."""
    named = {}
    for event in events:
        phys = event.get("physical_resource_id")
        if phys:
            named.setdefault((_stack_id(event), phys),
                             event.get("resource_name"))
    result = {}
    for sid, stack in by_id.items():
        parent = by_id.get(stack.get("parent"))
        if parent is not None:
            name = named.get((parent["id"], sid)) or named.get(
                (parent["id"], stack.get("stack_name"))) or \
                context.owning_resource(stack, parent)
            result[sid] = (parent["id"], name)
    # A root stack that a resource of another stack made (OS::Heat::Stack,
    # whose physical id is the stack's id): its template is not read with
    # the owner's tree, so the owner counts as handing on, and up, anything.
    for (owner_stack, phys), name in named.items():
        if phys in by_id and phys != owner_stack and owner_stack in by_id \
                and not by_id[phys].get("parent") and phys not in result:
            result[phys] = (owner_stack, name)
    return result


def effective_secrets(by_id, analyses, owned):
    """``{stack_id: {resource: {property, ...}}}`` for every analysed stack,
    or None for a stack whose every property must be redacted: its template
    is unknown, or a secret flows into it from its parent (through the
    parent's resource that owns it: which parameter it lands in is not
    followed, so the whole nested stack is treated as secret), or its
    parent is gone (:func:`heatplug.context.orphans`: what the parent handed
    it is unknown).

    :param by_id: the stack list, ``{id: stack}``.
    :param analyses: ``{stack_id: secret_properties(template) or None}``.
    :param owned: :func:`owners`.
    """
    memo = {}

    def effective(sid, seen=()):
        if sid in memo:
            return memo[sid]
        own = analyses.get(sid)
        parent_id = by_id.get(sid, {}).get("parent")
        if parent_id and parent_id not in by_id:
            own = None          # an orphan: its owner is unknown
        if own is not None and parent_id in by_id and sid not in seen:
            parent = effective(parent_id, seen + (sid,))
            name = owned.get(sid, (None, None))[1]
            if parent is None or name is None or parent.get(name):
                own = None
        memo[sid] = own
        return own

    return {sid: effective(sid) for sid in analyses}


def _analyse(ctx, by_id, stack_ids, owned):
    """``(secrets, names)``: :func:`effective_secrets` of ``stack_ids``
    (whole trees: a secret flows down from a parent and up from a nested
    stack), from their templates (``ctx.templates``), and ``{stack_id: the
    names of the resources of its template}`` (None: unknown)."""
    templates = ctx.templates([by_id[sid] for sid in stack_ids])
    nested = heat_templates.NestedSecrets(templates, owned)
    facades = {}

    def facade(sid):
        """Whether ``sid``'s owner shows a secret through
        ``resource_facade`` (its metadata or policies carry one)."""
        parent, name = owned.get(sid, (None, None))
        if parent is None:
            return False
        if parent not in facades:
            template, found = templates.get(parent), None
            if template is not None:
                try:
                    found = facade_secrets(template, nested.seeds(parent))
                except (ValueError, TypeError, AttributeError):
                    found = None
            facades[parent] = found
        found = facades[parent]
        return found is None or name is None or name in found

    analyses, names = {}, {}
    for sid in stack_ids:
        template, result, known = templates.get(sid), None, None
        if template is not None:
            try:
                result = secret_properties(template, nested.seeds(sid),
                                           nested.hidden_below(sid),
                                           facade=facade(sid))
                known = set(heat_templates.section(
                    template, "resources", "Resources", strict=True))
            except (ValueError, TypeError, AttributeError) as exc:
                LOG.warning("template of stack %s not understood (%s): "
                            "every property of its events is redacted",
                            context.stack_identifier(by_id[sid]), exc)
                result = None
        analyses[sid], names[sid] = result, known
    return effective_secrets(by_id, analyses, owned), names


#: an event's resource states whose recorded properties are the ones the
#: resource has under the template in force since its stack's last action
#: began: a resource created (new or a replacement), or updated, by it.
#: Heat records a resource's *stored* properties in an event, so an
#: ``UPDATE_IN_PROGRESS`` (and ``UPDATE_FAILED``) holds the old ones, and
#: the ``DELETE_*`` of a resource an update removed or replaced too.
CURRENT_STATES = frozenset(("CREATE_IN_PROGRESS", "CREATE_COMPLETE",
                            "CREATE_FAILED", "UPDATE_COMPLETE"))

#: stack actions that set ``updated_time`` but keep the stack's template
#: (heat/engine/stack.py: every action but CREATE sets it when it begins;
#: UPDATE, ROLLBACK and RESTORE switch templates, these do not)
SAME_TEMPLATE_ACTIONS = frozenset(("CHECK", "SUSPEND", "RESUME",
                                   "SNAPSHOT"))

#: actions whose events may hold another template's properties on any
#: stack (a stack updated since the stack list was read included)
_OTHER_TEMPLATE_STATES = frozenset(("UPDATE_IN_PROGRESS", "UPDATE_FAILED"))
_OTHER_TEMPLATE_ACTIONS = frozenset(("DELETE", "ROLLBACK"))


def history(stack):
    """``(since, same)`` of a stack dict: the epoch at which its last
    action other than CREATE began (``updated_time``; None: never; +inf
    when it cannot be read), and whether that action keeps the template
    (:data:`SAME_TEMPLATE_ACTIONS`)."""
    updated = (stack or {}).get("updated_time")
    if not updated:
        return None, True
    since = context.epoch(updated)
    action, _ = translation.split_status((stack or {}).get("stack_status"))
    return (float("inf") if since is None else since,
            action in SAME_TEMPLATE_ACTIONS)


def judged_elsewhere(event, since, same):
    """True when ``event``'s properties may have been recorded under a
    template other than its stack's current one, which then cannot judge
    them (every property is redacted).  Heat's events do not say which
    template version they were recorded under, so (``since``, ``same``:
    :func:`history` of the event's stack):

    - a resource's ``UPDATE_IN_PROGRESS``/``UPDATE_FAILED``, ``DELETE_*``
      and ``ROLLBACK_*`` events hold the properties it had before (an
      update's old definition; also when the update began after the stack
      list was read);
    - on a stack whose template may have changed (``updated_time`` set),
      every event recorded up to the moment its last action began
      (``event_time <= updated_time``: Heat's times are to the second), and
      when that action may have changed the template (an update, rollback
      or restore), every later event but those of :data:`CURRENT_STATES`.
    """
    status = event.get("resource_status")
    action, _ = translation.split_status(status)
    if status in _OTHER_TEMPLATE_STATES or action in _OTHER_TEMPLATE_ACTIONS:
        return True
    if since is None:
        return False
    when = _event_epoch(event)
    if when is None or when <= since:
        return True
    return not same and status not in CURRENT_STATES


def _verdict(secrets, names, histories, event):
    """What :func:`_fetch_detail` keeps as an event's
    ``secret_properties``: a sorted list, or None (every property): its
    stack's analysis (:func:`effective_secrets`), unless the event may
    have been recorded under another template (:func:`judged_elsewhere`)
    or its resource is not in the current one (removed, or added by an
    update rolled back since): then None."""
    sid = _stack_id(event)
    by_resource = secrets.get(sid)
    if by_resource is None:
        return None
    if stack_event_detail(event) is not None:
        return []           # the stack's own: no properties
    name = event.get("resource_name")
    known = names.get(sid)
    if known is None or name not in known or \
            judged_elsewhere(event, *histories.get(sid, (None, True))):
        return None
    return sorted(by_resource.get(name, ()))


def _merged(kept, now):
    """``secret_properties`` never relax: the union (None: everything)."""
    if kept is None or now is None:
        return None
    return sorted(set(kept) | set(now))


@heatplug.hookimpl
def heatplug_fetch(ctx):
    return fetch(ctx)


def fetch(ctx, detail=None, now=None):
    """Read every event, incrementally; return ``{"events", "details"}``.

    :param detail: fetch event details; None: :func:`details_enabled`.
    :param now: the time of this read (seconds since the epoch).
    """
    if detail is None:
        detail = details_enabled(ctx.conf)
    now = time.time() if now is None else now
    by_id, depth, trees = _trees(ctx.stacks())
    live = set(by_id)
    cache = ctx.cache.setdefault("trees", {})

    def name_id(sid):
        return context.stack_identifier(by_id[sid])

    # A full refresh reads every tree from its first event; in
    # changed-stacks-only mode the trees that did not change keep their
    # cached entries (their strays too).
    old = {} if ctx.full_refresh else cache
    changed = {s["id"] for s in ctx.changed_root_stacks()}
    kept = {root for root in trees
            if root not in changed and root in cache}
    # Heat answers nested_depth with the events of the token's project only
    # (even to an admin), so another project's tree is read a stack at a
    # time: its root here, its nested stacks as strays below.  So is the
    # tree of a nested stack whose parent is gone (context.orphans): Heat
    # finds a nested_depth list's stacks by their resources' root stack,
    # which is still the deleted parent, and lists none of its events.
    others = ctx.other_project_stacks() | context.orphans(ctx.stacks())
    jobs = []
    for root, nested in trees.items():
        if root in kept:
            continue
        tree_depth = max([depth[n] for n in nested] or [0])
        # nested_depth lists only stacks that have resources: a lone stack
        # is read without it, so a stack without resources still shows
        flat = not nested or root in others
        jobs.append((root, name_id(root), None if flat else tree_depth + 1))
    entries = dict(zip(
        [j[0] for j in jobs],
        ctx.map(lambda j: _read_entry(ctx, j[1], j[2], old.get(j[0]),
                                      live, now), jobs)))
    # A tree answer without a single event of its root, which always has
    # some: Heat left the tree out (another project's, though the stack
    # list did not say so).  Its root is read on its own, then its nested
    # stacks as strays.
    lost = [(root, ident) for root, ident, tree_depth in jobs
            if tree_depth is not None and entries.get(root) is not None
            and not any(_stack_id(e) == root
                        for e in entries[root]["events"])]
    for root, ident in lost:
        LOG.info("Heat listed no event of %s with nested_depth: reading "
                 "the stacks of its tree one at a time", ident)
    entries.update(zip([root for root, _ in lost], ctx.map(
        lambda item: _read_entry(ctx, item[1], None, None, live, now),
        lost)))
    entries.update((root, cache[root]) for root in kept)

    # Nested stacks whose events are missing from their tree's answer (no
    # resources of their own): read each on its own.
    strays, kept_strays = [], []
    for root, nested in trees.items():
        entry = entries.get(root)
        if not nested or entry is None:
            continue
        seen = {_stack_id(e) for e in entry["events"]}
        missing = [sid for sid in nested if sid not in seen]
        if root in kept:
            kept_strays += [sid for sid in missing if sid in cache]
            missing = [sid for sid in missing if sid not in cache]
        strays += missing
    entries.update(zip(strays, ctx.map(
        lambda sid: _read_entry(ctx, name_id(sid), None, old.get(sid), live,
                                now), strays)))
    _settle_pruned(ctx, entries, live, now)
    entries.update((sid, cache[sid]) for sid in kept_strays)
    strays += kept_strays

    cache.clear()
    cache.update((sid, e) for sid, e in entries.items() if e is not None)
    # Heat links every event of a tree it lists with nested_depth to the
    # tree's root ("root_stack"); an event of a stack read on its own gets
    # the same link, so every event of a tree with nested stacks has one.
    root_links = {}
    for root, nested in trees.items():
        href = context.link(by_id[root], "self") if nested else None
        if href:
            root_links.update((sid, href) for sid in [root] + nested)
    # Only the events of stacks in this poll's stack list are published: a
    # nested stack created after the list was read has no stacks row yet.
    # Its events stay cached and are published with it next poll.
    events, ids, cached_ids = [], set(), set()
    for sid in list(trees) + strays:
        for event in cache.get(sid, {}).get("events", ()):
            cached_ids.add(event.get("id"))
            sid_of = _stack_id(event)
            if event.get("id") not in ids and (sid_of in live
                                               or sid_of is None):
                ids.add(event.get("id"))
                events.append(_with_root_link(event, root_links.get(sid_of)))

    details = ctx.cache.setdefault("details", {})
    for gone in set(details) - cached_ids:
        del details[gone]
    if not detail:
        details.clear()
        return {"events": events, "details": {}}
    missing = []
    for event in events:
        if event.get("id") and event["id"] not in details:
            known = stack_event_detail(event)
            if known is not None:
                details[event["id"]] = known
            else:
                missing.append(event)
    # What carries a secret is decided from the templates of whole trees (a
    # secret flows down from a parent and up from a nested stack): for the
    # trees with new events, and again for those that changed since their
    # events' details were read, which can only add to what is redacted (a
    # nested stack listed since, e.g. one created just after the stack list
    # was read).  Kept per tree with its signature.
    roots = ctx.stack_roots()
    signatures = ctx.tree_signatures()
    analysed = ctx.cache.setdefault("analysed", {})
    for gone in set(analysed) - set(trees):
        del analysed[gone]
    todo = {roots[sid] for sid in map(_stack_id, missing) if sid in roots}
    todo.update(roots[sid] for sid in map(_stack_id, events)
                if sid in roots and (signatures.get(roots[sid]) is None or
                                     analysed.get(roots[sid]) !=
                                     signatures[roots[sid]]))
    if todo:
        owned = owners(by_id, events)
        secrets, names = _analyse(
            ctx, by_id, [sid for root in sorted(todo)
                         for sid in [root] + trees[root]], owned)
        judge = functools.partial(
            _verdict, secrets, names,
            {sid: history(by_id[sid]) for sid in secrets})
        for event in events:
            found = details.get(event.get("id"))
            if found is not None and _stack_id(event) in secrets:
                found["secret_properties"] = _merged(
                    found.get("secret_properties"), judge(event))
        analysed.update((root, signatures.get(root)) for root in todo)
        ctx.map(lambda e: _fetch_detail(ctx, details, judge, e), missing)
    return {"events": events,
            "details": {e["id"]: details[e["id"]] for e in events
                        if e.get("id") in details}}


# -- translate ---------------------------------------------------------------

def redacted(key, val, hidden=False):
    """A property value as it may appear in a row."""
    if type(val) in _NUMBERS:       # nothing inside to scrub
        return redact.REDACTED if hidden or redact.is_secret_key(key) \
            else val
    return redact.scrub_inside(redact.value(key, val, hidden=hidden))


_NUMBERS = frozenset((int, float, bool))


# -- which properties carry a hidden parameter --------------------------------

def secret_properties(template, seeds=(), hidden_below=None, facade=False):
    """``{resource: {property, ...}}``: the properties whose value depends
    on a hidden (or secret-named) parameter, on a generated secret
    (``heat_templates.GENERATED_SECRET_TYPES``), or on a resource in
    ``seeds`` (one owning a nested stack that hands up a secret, see
    :class:`heatplug.heat_templates.NestedSecrets`; None: any resource),
    directly or through other resources' attributes (transitively); and the
    properties of a resource that owns a nested stack which hand a value to
    one of its hidden parameters (``hidden_below``, that class's
    :meth:`~heatplug.heat_templates.NestedSecrets.hidden_below`: named as
    the parameter, or holding a map with that key, as ``OS::Heat::Stack``'s
    ``parameters`` and a group's ``resource_def`` do); and the properties
    that hold a whole template (``heat_templates.TEMPLATE_PROPERTIES``:
    ``OS::Heat::Stack``'s ``template``).  ``{"*"}`` stands for every
    property.  Heat records resolved property values in events,
    hidden parameters in plain text included.

    :param facade: the stack's owner shows a secret through
        ``resource_facade`` (:func:`facade_secrets`): every property using
        it is secret, and so are the attributes of its resource (what
        reads them is tainted)."""
    secret = heat_templates.secret_parameters(template, strict=True)
    resources = heat_templates.section(template, "resources", "Resources",
                                       strict=True)
    whole, partial = heat_templates.split_seeds(seeds, resources)
    whole |= heat_templates.generated_secrets(template)
    if facade:
        whole |= {name for name, definition in resources.items()
                  if _uses_facade(definition)}
    tainted, _ = heat_templates.tainted_resources(
        template, secret, strict=True,
        seeds={**partial, **dict.fromkeys(whole)})
    hidden_below = hidden_below or {}
    result = {}
    for name, definition in resources.items():
        if not isinstance(definition, dict):
            continue
        props = definition.get("properties", definition.get("Properties"))
        below = hidden_below.get(name, set()) if None not in hidden_below \
            else _union(hidden_below.get(name, set()), hidden_below[None])
        keys = set(heat_templates.TEMPLATE_PROPERTIES.get(
            heat_templates.resource_type(definition), ()))
        if name not in tainted and not (below is None or below):
            if keys:
                result[name] = keys
            continue
        if below is None or not isinstance(props or {}, dict):
            result[name] = {"*"}
            continue
        for key, expr in (props or {}).items():
            p, r = heat_templates.references(expr)
            if heat_templates.depends(p, secret) or r & tainted or \
                    key in below or \
                    heat_templates.reads_secret(expr, partial) or \
                    _mentions(expr, below) or \
                    (facade and _uses_facade(expr)):
                keys.add(key)
        result[name] = keys
    return result


#: what HOT's ``resource_facade`` (CFN's ``Fn::ResourceFacade``) shows a
#: nested stack of the resource that owns it
FACADE_SECTIONS = ("metadata", "Metadata", "deletion_policy",
                   "DeletionPolicy", "update_policy", "UpdatePolicy")
FACADE_FUNCTIONS = frozenset(("resource_facade", "Fn::ResourceFacade"))


def facade_secrets(template, seeds=()):
    """Names of the resources whose metadata, deletion or update policy
    (what ``resource_facade`` shows the nested stack a resource owns)
    depends on a hidden or secret-named parameter, a generated secret, a
    resource in ``seeds`` (see :func:`secret_properties`) or a resource
    that does."""
    secret = heat_templates.secret_parameters(template, strict=True)
    resources = heat_templates.section(template, "resources", "Resources",
                                       strict=True)
    whole, partial = heat_templates.split_seeds(seeds, resources)
    whole |= heat_templates.generated_secrets(template)
    tainted, _ = heat_templates.tainted_resources(
        template, secret, strict=True,
        seeds={**partial, **dict.fromkeys(whole)})
    found = set()
    for name, definition in resources.items():
        if not isinstance(definition, dict):
            continue
        shown = {k: v for k, v in definition.items() if k in FACADE_SECTIONS}
        p, r = heat_templates.references(shown)
        if heat_templates.depends(p, secret) or r & tainted or \
                heat_templates.reads_secret(shown, partial):
            found.add(name)
    return found


def _uses_facade(expr):
    """True when ``expr`` calls ``resource_facade`` anywhere."""
    return _mentions(expr, FACADE_FUNCTIONS)


def _union(a, b):
    return None if a is None or b is None else a | b


def _mentions(expr, names):
    """True when a map anywhere in ``expr`` has a key in ``names``."""
    todo = [expr]
    while todo and names:
        node = todo.pop()
        if isinstance(node, dict):
            if any(k in names for k in node):
                return True
            todo.extend(node.values())
        elif isinstance(node, (list, tuple)):
            todo.extend(node)
    return False


def _event_rows(event, details):
    """``(events row, links rows, property rows)`` of one event; raises on a
    malformed one."""
    eid = event["id"]
    if not eid:
        raise ValueError("no id")
    _, stack_id = _stack_link(event)
    detail = details.get(eid) or {}
    get = event.get
    status = get("resource_status")
    action, state = translation.split_status(status)
    # Plain tuples: heatplug_translate makes every value a scalar at the end
    # (translation.normalize).
    row = (eid, stack_id, get("resource_name"), get("logical_resource_id"),
           get("physical_resource_id"),
           detail.get("resource_type") or get("resource_type"),
           get("event_time"), status, action, state,
           redact.scrub_inside(get("resource_status_reason")))
    links = [(eid, link["href"], link.get("rel"))
             for link in get("links") or ()]
    props = detail.get("resource_properties") or {}
    secret = detail.get("secret_properties")
    properties = []
    for key in sorted(props, key=str):
        hide = secret is None or "*" in secret or key in secret
        properties.append((eid, key, redacted(key, props[key], hidden=hide)))
    return row, links, properties


@heatplug.hookimpl
def heatplug_translate(raw):
    rows = translation.Rows("events", "events_links",
                            "events_resource_properties")
    raw = raw or {}
    details = raw.get("details") or {}
    events = rows["events"]
    links = rows["events_links"]
    properties = rows["events_resource_properties"]
    for event in raw.get("events") or ():
        try:
            row, link_rows, property_rows = _event_rows(event, details)
        except Exception:
            # Malformed: translate it again under rows.record(), which skips
            # and reports it (translation is pure: it fails the same way).
            ident = event.get("id") if isinstance(event, dict) else None
            row = None
            with rows.record("event", ident):
                row, link_rows, property_rows = _event_rows(event, details)
            if row is None:
                continue
        events.append(row)
        links.extend(link_rows)
        properties.extend(property_rows)
    return translation.normalize(rows)
