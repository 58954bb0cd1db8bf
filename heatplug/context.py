"""The per-poll context: what a family's fetch may read, and how.

One :class:`PollContext` is built per poll by the core.  Reads that several
families need (the stack list above all) are made once per poll, here,
through :meth:`PollContext.shared`, and handed to every family that asks;
a family never imports another family to get them.  Each family sees the
poll through a :class:`FamilyContext`, which adds the family's own cache
(kept between polls) and attributes its HTTP requests to it.
"""

import concurrent.futures
import contextvars
import logging
import threading

from heatclient import exc as heat_exc

from heatplug import stats

LOG = logging.getLogger(__name__)

SHARED = "shared"

#: ``nested_depth`` of the shared resource list.  Heat silently lowers it to
#: its ``max_nested_stack_depth`` (default 5) and never creates a stack deeper
#: than that, so any value at or above the server's cap means "every level";
#: this one is far above any sane cap.
RESOURCES_NESTED_DEPTH = 100


def stack_identifier(stack):
    """``name/id`` for a stack dict: Heat answers a bare id with a redirect."""
    return "%s/%s" % (stack["stack_name"], stack["id"])


def to_dict(obj):
    """A heatclient resource (or a dict) as a plain dict."""
    if isinstance(obj, dict):
        return obj
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

    def __init__(self, conn, conf, executor):
        self.conn = conn
        self.heat = conn.heat
        self.conf = conf
        self._executor = executor
        self._lock = threading.Lock()
        self._shared = {}

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
        """Every stack, nested ones included, as dicts: one
        ``GET /stacks?show_nested=True`` per poll."""
        return self.shared("stacks", lambda: [
            to_dict(s) for s in self.heat.stacks.list(show_nested=True)])

    def root_stacks(self):
        """The stacks that have no parent."""
        return [s for s in self.stacks() if not s.get("parent")]

    def resources(self):
        """Every resource of every stack, nested stacks included, as dicts.

        One ``GET /stacks/{name}/{id}/resources`` per root stack, with
        ``with_detail=True`` and ``nested_depth`` =
        :data:`RESOURCES_NESTED_DEPTH`, on the worker pool: Heat's own
        answers, attributes included; each names its stack in its ``stack``
        link.  A root stack deleted since the stack list (404) contributes
        nothing.  Call it from a family's fetch, not from inside :meth:`map`
        (its own calls wait for the pool).
        """
        def read(stack):
            try:
                return [to_dict(r) for r in self.heat.resources.list(
                    stack_identifier(stack),
                    nested_depth=RESOURCES_NESTED_DEPTH, with_detail=True)]
            except heat_exc.HTTPNotFound:
                return []
        return self.shared("resources", lambda: [
            r for rs in self.map(read, self.root_stacks()) for r in rs])

    def map(self, fn, items):
        """``[fn(item) for item in items]`` on the bounded worker pool.

        Results keep the order of ``items``; the first exception is raised
        (after every call has finished).  HTTP requests stay attributed to
        the calling family.
        """
        items = list(items)
        if len(items) <= 1:
            return [fn(item) for item in items]
        futures = [self._executor.submit(contextvars.copy_context().run,
                                         fn, item) for item in items]
        concurrent.futures.wait(futures)
        return [f.result() for f in futures]


class FamilyContext:
    """What one family's fetch sees of a poll.

    :ivar name: the family's plugin name.
    :ivar cache: a dict private to the family, kept between polls (caches,
        event markers); empty on the first poll.
    """

    def __init__(self, poll, name, cache):
        self._poll = poll
        self.name = name
        self.cache = cache

    conn = property(lambda self: self._poll.conn)
    heat = property(lambda self: self._poll.heat)
    conf = property(lambda self: self._poll.conf)

    def shared(self, key, factory):
        return self._poll.shared(key, factory)

    def stacks(self):
        return self._poll.stacks()

    def root_stacks(self):
        return self._poll.root_stacks()

    def resources(self):
        return self._poll.resources()

    def map(self, fn, items):
        return self._poll.map(fn, items)
