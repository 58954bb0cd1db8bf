"""The per-poll context: what a family's fetch may read, and how.

One :class:`PollContext` is built per poll by the core.  Reads that several
families need (the stack list above all) are made once per poll, here,
through :meth:`PollContext.shared`, and handed to every family that asks;
a family never imports another family to get them.  Each family sees the
poll through a :class:`FamilyContext`, which adds the family's own cache
(kept between polls) and attributes its HTTP requests to it.

The context also tells a family how much it must read this poll:

- :attr:`PollContext.full_refresh`: this poll re-verifies every cache
  (``[heatplug] full_refresh_every``; the first poll is one);
- :attr:`PollContext.changed_only`: ``[heatplug] changed_stacks_only`` is on
  and this is not a full refresh, so per-tree reads (resources, events,
  metadata, snapshots) are made only for what
  :meth:`FamilyContext.changed_root_stacks` and
  :meth:`FamilyContext.changed_stacks` return.

A stack's *signature* is ``(stack_status, stack_status_reason,
updated_time)`` from the stack list (:func:`stack_signature`); a root
stack's *tree signature* covers every stack of its tree
(:meth:`PollContext.tree_signatures`).  A stack in progress has no
signature: it always counts as changed.

A *root* stack is one whose parent is not in the stack list
(:func:`stack_roots`, :meth:`PollContext.root_stacks`): a stack without a
parent, and an *orphan* (:func:`orphans`), a nested stack whose parent is
gone.  Heat keeps the nested stack of a resource with ``deletion_policy:
Retain`` when its parent is deleted, and the nested stacks of an abandoned
stack; it still lists them (``parent`` is the deleted stack's id), with
their resources and events, and answers a per-tree read on them as on any
root.  Every per-tree read (resources, events) and every tree signature
starts from these roots.  Who owns an orphan is unknown: the families'
secret analysis treats it as a nested stack whose owner cannot be told
(whatever its parent handed it may be a secret).
"""

import concurrent.futures
import contextvars
import datetime
import email.utils
import logging
import threading
import urllib.parse

from heatclient import exc as heat_exc

from heatplug import heat_templates
from heatplug import stats

LOG = logging.getLogger(__name__)

SHARED = "shared"

#: ``nested_depth`` of the shared resource list.  Heat silently lowers it to
#: its ``max_nested_stack_depth`` (default 5) and never creates a stack deeper
#: than that, so any value at or above the server's cap means "every level";
#: this one is far above any sane cap.
RESOURCES_NESTED_DEPTH = 100

#: The :meth:`PollContext.shared` key of a stack's template.
TEMPLATE_KEY = "stack_template:%s"
#: The template sections :meth:`PollContext.templates` keeps: what the
#: families read to tell what carries a secret (``heatplug.heat_templates``).
TEMPLATE_SECTIONS = ("parameters", "Parameters", "resources", "Resources",
                     "outputs", "Outputs")


def stack_identifier(stack):
    """``name/id`` for a stack dict: Heat answers a bare id with a redirect."""
    return "%s/%s" % (stack["stack_name"], stack["id"])


def stack_signature(stack):
    """``(stack_status, stack_status_reason, updated_time)`` of a stack
    dict: what the stack list says about a change; None while the stack is
    IN_PROGRESS (it changes without saying so)."""
    status = stack.get("stack_status")
    if str(status or "").endswith("IN_PROGRESS"):
        return None
    return (status, stack.get("stack_status_reason"),
            stack.get("updated_time"))


def epoch(text):
    """Seconds since the epoch of a Heat time (``2026-11-26T10:00:00Z``,
    ``2026-11-26T10:00:00.123456``: UTC when no zone is given), or None
    when it is not one."""
    try:
        when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.timestamp()


def http_epoch(text):
    """Seconds since the epoch of an HTTP date (``Thu, 26 Nov 2026
    10:00:00 GMT``), or None when it is not one."""
    try:
        return email.utils.parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def stack_roots(stacks):
    """``{stack_id: root_id}`` for a stack list: each stack's top-most
    ancestor in the list (a stack whose parent is not listed is a root)."""
    by_id = {s.get("id"): s for s in stacks if s.get("id")}
    roots = {}
    for sid in by_id:
        chain, cur = [], sid
        while cur not in roots:
            chain.append(cur)
            parent = by_id[cur].get("parent")
            if not parent or parent not in by_id or parent in chain:
                roots[cur] = cur
                break
            cur = parent
        root = roots[cur]
        for c in chain:
            roots[c] = root
    return roots


def orphans(stacks):
    """Ids of the listed stacks whose ``parent`` is set but not listed: the
    nested stacks whose parent is gone (see the module docs).  Each is the
    root of its own tree (:func:`stack_roots`)."""
    listed = {s.get("id") for s in stacks if s.get("id")}
    return {s["id"] for s in stacks
            if s.get("id") and s.get("parent") and s["parent"] not in listed}


def owning_resource(stack, parent):
    """The name of the ``parent``'s resource that owns the nested ``stack``
    (both stack dicts), from Heat's naming (``<parent name>-<resource
    name>-<12 characters>``, ``StackResource.physical_resource_name``), or
    None."""
    prefix = "%s-" % parent.get("stack_name")
    name = str(stack.get("stack_name") or "")
    if not name.startswith(prefix) or "-" not in name[len(prefix):]:
        return None
    return name[len(prefix):].rsplit("-", 1)[0] or None


def link(record, rel):
    """The ``href`` of a Heat record's first link with relation ``rel``, or
    None (also when its ``links`` is malformed)."""
    links = record.get("links")
    if not isinstance(links, (list, tuple)):
        return None
    for item in links:
        if isinstance(item, dict) and item.get("rel") == rel:
            return item.get("href")
    return None


def _linked_stack_id(resource):
    """The id at the end of a resource's ``stack`` link, or None."""
    try:
        for link in resource.get("links") or ():
            if link.get("rel") == "stack":
                return link["href"].rstrip("/").rsplit("/", 1)[-1] or None
    except (AttributeError, KeyError, TypeError):
        pass
    return None


def to_dict(obj):
    """A heatclient resource (or a dict) as a plain dict.

    The dict is the decoded answer the resource was made from (its
    ``_info``), not the deep copy ``to_dict()`` makes: heatplug keeps no
    heatclient resource, so nothing else holds that dict, and the copies
    were about 9% of a cold poll's instructions (callgrind).  Anything
    without that attribute is asked for ``to_dict()``.
    """
    if isinstance(obj, dict):
        return obj
    info = getattr(obj, "_info", None)
    if type(info) is dict:
        return info
    return obj.to_dict()


class _Once:
    """A value computed once, by the first caller; the others wait for it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.done = False
        self.value = None
        self.error = None


class PollContext:
    """State and shared reads of one poll.

    :ivar conn: the :class:`heatplug.auth.Connection`.
    :ivar heat: the python-heatclient v1 client (``conn.heat``).
    :ivar conf: the :class:`oslo_config.cfg.ConfigOpts`.
    """

    def __init__(self, conn, conf, executor, full_refresh=True, state=None):
        self.conn = conn
        self.heat = conn.heat
        self.conf = conf
        #: this poll re-verifies every cache (see the module docs)
        self.full_refresh = bool(full_refresh)
        opts = getattr(conf, "heatplug", None)
        #: ``[heatplug] changed_stacks_only`` and not a full refresh
        self.changed_only = bool(
            getattr(opts, "changed_stacks_only", False)) and \
            not self.full_refresh
        self._executor = executor
        self._lock = threading.Lock()
        self._shared = {}
        # What shared reads keep between polls (the core hands the same
        # dict to every poll).
        self._state = {} if state is None else state
        #: per-item calls submitted to / finished on the worker pool (for
        #: progress reports)
        self.items_total = 0
        self.items_done = 0

    def shared(self, key, factory):
        """Return ``factory()``, computed at most once per poll for ``key``.

        Concurrent callers wait for the first one; an exception is kept and
        raised to every caller, so a failing read is not repeated.  Requests
        made by ``factory`` are counted under ``"shared"``.
        """
        with self._lock:
            once = self._shared.setdefault(key, _Once())
        with once.lock:
            if not once.done:
                try:
                    with stats.attributed_to(SHARED):
                        once.value = factory()
                except Exception as exc:
                    once.error = exc
                once.done = True
        if once.error is not None:
            raise once.error
        return once.value

    def stacks(self):
        """Every stack, nested and hidden ones included, as dicts: one
        ``GET /stacks?show_nested=True&show_hidden=True`` per poll.

        Hidden stacks carry a tag of Heat's ``hidden_stack_tags`` option
        (Sahara's clusters, for one); Heat leaves them out of a list that
        does not ask for them, but they are stacks like any other.
        """
        return self.shared("stacks", self._list_stacks)[0]

    def _list_stacks(self):
        dates = []
        token = stats.answer_dates.set(dates)
        try:
            stacks = [to_dict(s) for s in self.heat.stacks.list(
                show_nested=True, show_hidden=True)]
        finally:
            stats.answer_dates.reset(token)
        return stacks, http_epoch(dates[0]) if dates else None

    def stacks_listed_at(self):
        """Heat's clock when it answered this poll's stack list (the
        ``Date`` header of its answer), in seconds since the epoch; None
        when the answer did not say."""
        return self.shared("stacks", self._list_stacks)[1]

    def root_stacks(self):
        """The roots of the stack list's trees, in stack-list order: the
        stacks whose parent is not listed (:func:`stack_roots`), i.e. those
        without a parent and the orphans (:func:`orphans`: nested stacks
        whose parent is gone, which Heat lists with their resources and
        events).  Every per-tree read starts from these; the keys of
        :meth:`tree_signatures` are their ids."""
        roots = self.stack_roots()
        return [s for s in self.stacks()
                if s.get("id") and roots.get(s["id"]) == s["id"]]

    def template(self, stack):
        """The template of ``stack`` (a dict with ``id`` and
        ``stack_name``): one ``GET /stacks/{name}/{id}/template`` per poll,
        whichever families ask; Heat's 404 is raised."""
        return self.shared(TEMPLATE_KEY % stack["id"], lambda: to_dict(
            self.heat.stacks.template(stack_identifier(stack))))

    def templates(self, stacks):
        """``{stack_id: sections}``: the :data:`TEMPLATE_SECTIONS` of the
        template of each of ``stacks`` (stack dicts).

        A template is kept between polls with its stack's signature and
        read again (:meth:`template`, on the worker pool) only when the
        signature changed, the stack is in progress, or this is a full
        refresh: Heat changes a stack's template only in an action, which
        changes its signature.  A stack whose template answers 404 is left
        out; templates of stacks that left the stack list are dropped.
        A parameter whose name another template of the stack's tree hides
        is marked hidden (:func:`heatplug.heat_templates.hidden_in_trees`).
        Call it from a family's fetch, not from inside :meth:`map`.
        """
        listed = {s.get("id") for s in self.stacks()}
        with self._lock:
            kept = self._state.setdefault("templates", {})
            for sid in [sid for sid in kept if sid not in listed]:
                del kept[sid]
            stacks = [s for s in stacks if s.get("id")]
            found = {s["id"]: kept.get(s["id"]) for s in stacks}

        def hit(stack):
            entry, sig = found[stack["id"]], stack_signature(stack)
            if entry is None or sig is None or entry[0] != sig or \
                    self.full_refresh:
                return None
            return entry

        def read(stack):
            sig = stack_signature(stack)
            try:
                template = self.template(stack)
            except heat_exc.HTTPNotFound:
                return (sig, None)
            if not isinstance(template, dict):
                return (sig, template)      # malformed: the caller says so
            return (sig, {k: template[k] for k in TEMPLATE_SECTIONS
                          if k in template})

        entries = self.map_cached(read, stacks, hit)
        out = {}
        with self._lock:
            for stack, entry in zip(stacks, entries):
                if entry[1] is None:
                    kept.pop(stack["id"], None)
                    continue
                if stack["id"] in listed:
                    kept[stack["id"]] = entry
                out[stack["id"]] = entry[1]
            known = {sid: entry[1] for sid, entry in kept.items()}
        # A name hidden anywhere in a tree is hidden in all of it (Heat's
        # parameter_defaults reach every stack of a tree by name): judged
        # over every template of the tree read so far.
        marked = heat_templates.hidden_in_trees(dict(known, **out),
                                                self.stack_roots())
        return {sid: marked[sid] for sid in out}

    def token_project(self):
        """The id of the project heatplug's token is scoped to, or None.

        From keystoneauth, else from Heat's endpoint, whose path always ends
        with the project (``/v1/{project}``, the only form Heat routes; an
        endpoint given with ``admin_token`` or ``none`` auth has no other
        source).  Computed once per poll.
        """
        def find():
            client = getattr(self.heat, "http_client", None)
            if client is None:      # not python-heatclient's session client
                return None
            project = client.get_project_id()
            if not project:
                endpoint = client.get_endpoint() or ""
                project = urllib.parse.urlsplit(endpoint).path.rstrip(
                    "/").rpartition("/")[2] or None
            return project
        return self.shared("token_project", find)

    def other_project_stacks(self):
        """Ids of the listed stacks of projects other than the token's.

        Heat lists every project's stacks to a cloud admin (each with its
        ``project``) and reads most of their data for it, but answers two
        reads for the token's project only (``heat/db/api.py`` filters them
        by ``context.project_id``, even for an admin): a stack's event list
        with ``nested_depth``, and its snapshot list.  Empty when the token's
        project is unknown or Heat gives no projects (it does so to admins
        only).  Computed once per poll.
        """
        def compute():
            mine = self.token_project()
            if not mine:
                return frozenset()
            return frozenset(s["id"] for s in self.stacks()
                             if s.get("id") and s.get("project")
                             and s["project"] != mine)
        return self.shared("other_project_stacks", compute)

    def software_deployments(self):
        """Every software deployment, as dicts: one
        ``GET /software_deployments`` per poll, whoever asks."""
        return self.shared("software_deployments", lambda: [
            to_dict(d) for d in self.heat.software_deployments.list()])

    def stack_roots(self):
        """``{stack_id: root_id}`` for every listed stack (see
        :func:`stack_roots`); computed once per poll."""
        return self.shared("stack_roots", lambda: stack_roots(self.stacks()))

    def tree_signatures(self):
        """``{root_id: signature}`` of every tree: the sorted ``(id,
        status, status reason, updated time)`` of each of its stacks, or
        None when one of them is IN_PROGRESS.  Computed once per poll."""
        def compute():
            roots, members = self.stack_roots(), {}
            for stack in self.stacks():
                sid = stack.get("id")
                if sid:
                    members.setdefault(roots[sid], []).append(
                        (sid, stack_signature(stack)))
            return {root: (None if any(sig is None for _, sig in ms)
                           else tuple(sorted(ms)))
                    for root, ms in members.items()}
        return self.shared("tree_signatures", compute)

    def resources(self):
        """Every resource of every stack, nested stacks included, as dicts.

        One ``GET /stacks/{name}/{id}/resources`` per root stack
        (:meth:`root_stacks`: orphans included), with
        ``with_detail=True`` and ``nested_depth`` =
        :data:`RESOURCES_NESTED_DEPTH`, on the worker pool: Heat's own
        answers, attributes included; each names its stack in its ``stack``
        link.  A root stack deleted since the stack list (404) contributes
        nothing.  Call it from a family's fetch, not from inside :meth:`map`
        (its own calls wait for the pool).

        With ``changed_stacks_only`` (and not a full refresh), a root stack
        whose tree signature is what it was when its resources were last
        read is not read again: its resources from then are returned.
        """
        def read(stack):
            try:
                return [to_dict(r) for r in self.heat.resources.list(
                    stack_identifier(stack),
                    nested_depth=RESOURCES_NESTED_DEPTH, with_detail=True)]
            except heat_exc.HTTPNotFound:
                return []

        def read_all():
            roots = self.root_stacks()
            if not getattr(getattr(self.conf, "heatplug", None),
                           "changed_stacks_only", False):
                self._state.pop("resources", None)
                return [r for rs in self.map(read, roots) for r in rs]
            sigs = self.tree_signatures()
            kept = self._state.get("resources", {})
            todo = [s for s in roots if not self._unchanged(
                kept.get(s["id"]), sigs.get(s["id"]))]
            fresh = dict(zip([s["id"] for s in todo], self.map(read, todo)))
            cache, out = {}, []
            for stack in roots:
                sid = stack["id"]
                if sid in fresh:
                    cache[sid] = (sigs.get(sid), fresh[sid])
                else:
                    cache[sid] = kept[sid]
                out.extend(cache[sid][1])
            self._state["resources"] = cache    # roots that left: dropped
            return out

        def listed():
            # Only resources of stacks in this poll's stack list: a nested
            # stack created after the list was read has no stacks row yet
            # (its resources come with it next poll).  A resource whose
            # stack link cannot be read is kept for translate to skip.
            ids = {s.get("id") for s in self.stacks()} | {None}
            return [r for r in self.shared("resources:all", read_all)
                    if _linked_stack_id(r) in ids]
        return self.shared("resources", listed)

    def _unchanged(self, kept, signature):
        """Whether ``kept`` (``(signature, value)`` or None) still answers
        for a tree whose signature is now ``signature``."""
        return (self.changed_only and kept is not None
                and signature is not None and kept[0] == signature)

    def map(self, fn, items):
        """``[fn(item) for item in items]`` on the bounded worker pool.

        Results keep the order of ``items``; the first exception is raised
        (after every call has finished).  HTTP requests stay attributed to
        the calling family.
        """
        items = list(items)
        with self._lock:
            self.items_total += len(items)
        if len(items) <= 1:
            try:
                return [fn(item) for item in items]
            finally:
                self._count_done(len(items))
        futures = [self._executor.submit(contextvars.copy_context().run,
                                         fn, item) for item in items]
        for future in futures:
            future.add_done_callback(lambda _: self._count_done(1))
        concurrent.futures.wait(futures)
        return [f.result() for f in futures]

    def map_cached(self, fn, items, cached):
        """Like :meth:`map`, but an item for which ``cached(item)`` is not
        None is answered with that, at once, without a trip through the
        pool (a steady poll answers most items from its caches)."""
        items = list(items)
        answers = [cached(item) for item in items]
        todo = [i for i, answer in enumerate(answers) if answer is None]
        for i, answer in zip(todo, self.map(fn, [items[i] for i in todo])):
            answers[i] = answer
        return answers

    def _count_done(self, n):
        with self._lock:
            self.items_done += n


class FamilyContext:
    """What one family's fetch sees of a poll.

    :ivar name: the family's plugin name.
    :ivar cache: a dict private to the family, kept between polls (caches,
        event markers); empty on the first poll.
    """

    def __init__(self, poll, name, cache, signatures=None):
        self._poll = poll
        self.name = name
        self.cache = cache
        # What changed_root_stacks()/changed_stacks() compare with: the
        # signatures of this family's last successful poll (the core keeps
        # them); and what the core keeps if this poll succeeds.
        self._signatures = signatures or {}
        self.pending_signatures = {}

    conn = property(lambda self: self._poll.conn)
    heat = property(lambda self: self._poll.heat)
    conf = property(lambda self: self._poll.conf)
    full_refresh = property(lambda self: self._poll.full_refresh)
    changed_only = property(lambda self: self._poll.changed_only)

    def shared(self, key, factory):
        return self._poll.shared(key, factory)

    def stacks(self):
        return self._poll.stacks()

    def stacks_listed_at(self):
        return self._poll.stacks_listed_at()

    def root_stacks(self):
        return self._poll.root_stacks()

    def token_project(self):
        return self._poll.token_project()

    def template(self, stack):
        return self._poll.template(stack)

    def templates(self, stacks):
        return self._poll.templates(stacks)

    def other_project_stacks(self):
        return self._poll.other_project_stacks()

    def resources(self):
        return self._poll.resources()

    def software_deployments(self):
        return self._poll.software_deployments()

    def stack_roots(self):
        return self._poll.stack_roots()

    def tree_signatures(self):
        return self._poll.tree_signatures()

    def map(self, fn, items):
        return self._poll.map(fn, items)

    def map_cached(self, fn, items, cached):
        return self._poll.map_cached(fn, items, cached)

    def per_stack(self, kind, read, reuse=None, known=None):
        """Read one record per listed stack, once per stack signature.

        ``read(stack)`` (run on the worker pool) returns the stack's record;
        a stack that vanished since the stack list (``read`` returns None or
        raises Heat's 404) has none.  A record read in an
        earlier poll is answered again without a call when the stack's
        signature (:func:`stack_signature`) is what it was then, the stack
        is not in progress, this is not a full refresh, and ``reuse(stack,
        record)`` (default: always) says so.  The records are kept in
        ``self.cache[kind]`` with the signature they were read under; ids
        that left the stack list are dropped.  ``known(stack)``, when
        given, may answer a stack's record without a call (what Heat's code
        says it must be), or None; such answers skip the worker pool.

        Returns ``{stack_id: record}`` in stack-list order.  The signature
        kept is the one of this poll's stack list, taken *before* the read:
        a change after it changes the signature the next poll sees.
        """
        stacks = [s for s in self.stacks() if s.get("id")]
        kept = self.cache.get(kind, {})

        def hit(stack):
            found = kept.get(stack["id"])
            sig = stack_signature(stack)
            if (found is None or sig is None or found[0] != sig
                    or self.full_refresh
                    or (reuse is not None and not reuse(stack, found[1]))):
                record = None if known is None else known(stack)
                return None if record is None else (sig, record)
            return found

        def one(stack):
            sig = stack_signature(stack)
            try:
                record = read(stack)
            except heat_exc.HTTPNotFound:
                LOG.debug("%s: stack %s vanished before it was read", kind,
                          stack_identifier(stack))
                return None
            return None if record is None else (sig, record)

        results = self.map_cached(one, stacks, hit)
        fresh = {s["id"]: r for s, r in zip(stacks, results) if r is not None}
        self.cache[kind] = fresh
        return {sid: record for sid, (_, record) in fresh.items()}

    def _changed(self, kind, stacks, signatures):
        previous = self._signatures.get(kind, {})
        self.pending_signatures[kind] = {
            sid: sig for sid, sig in signatures.items() if sig is not None}
        if not self.changed_only:
            return list(stacks)
        return [s for s in stacks
                if signatures.get(s["id"]) is None
                or previous.get(s["id"]) != signatures[s["id"]]]

    def changed_root_stacks(self):
        """The root stacks (:meth:`PollContext.root_stacks`, orphans
        included) whose trees this family must read this poll.

        Every root stack, unless :attr:`changed_only`: then only those whose
        tree signature (:meth:`PollContext.tree_signatures`) differs from
        the one of this family's last successful poll, or that have a stack
        in progress.  (Only successful polls count: the core keeps the
        signatures of a poll whose fetch and translate both succeeded.)
        """
        return self._changed("trees", self.root_stacks(),
                             self.tree_signatures())

    def changed_stacks(self):
        """The stacks (nested ones included) this family must read this
        poll: every stack, unless :attr:`changed_only`: then only those
        whose own signature (:func:`stack_signature`) changed since this
        family's last successful poll, new ones and those in progress."""
        stacks = [s for s in self.stacks() if s.get("id")]
        return self._changed("stacks", stacks,
                             {s["id"]: stack_signature(s) for s in stacks})
