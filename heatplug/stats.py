"""Counting what a poll costs: HTTP round trips, bytes and seconds.

Requests are counted at the HTTP layer (a ``requests`` transport adapter
mounted on the keystoneauth session), so redirects and re-authentication
count too.  Each request is attributed to the family whose fetch is running,
through a :mod:`contextvars` variable that the core sets and that the worker
pool carries into its threads.
"""

import collections
import contextlib
import contextvars
import itertools
import threading
import time

from heatplug import transport

current_family = contextvars.ContextVar("heatplug_family", default="core")
#: While set to a list, the ``Date`` header of each answer (Heat's clock)
#: is appended to it (see :meth:`heatplug.context.PollContext.stacks`).
answer_dates = contextvars.ContextVar("heatplug_answer_dates", default=None)


@contextlib.contextmanager
def attributed_to(name):
    """Attribute the HTTP requests made inside the block to ``name``."""
    token = current_family.set(name)
    try:
        yield
    finally:
        current_family.reset(token)


class Counters:
    """Thread-safe per-family counters of requests, bytes and seconds."""

    def __init__(self):
        self._lock = threading.Lock()
        self._calls = {}        # id -> (family, call, start): in flight
        self._ids = itertools.count()
        self.reset()

    def reset(self):
        with self._lock:
            self._requests = collections.Counter()
            self._bytes = collections.Counter()
            self._errors = collections.Counter()

    @contextlib.contextmanager
    def calling(self, call):
        """Remember ``call`` (``"GET /stacks?..."``) as in flight for the
        current family while the block runs (for :meth:`in_flight`)."""
        key = next(self._ids)
        self._calls[key] = (current_family.get(), call, time.monotonic())
        try:
            yield
        finally:
            del self._calls[key]

    def in_flight(self):
        """``{family: [(call, seconds in flight)]}`` of the calls under
        way, longest first (a poll's reset does not forget them)."""
        now, out = time.monotonic(), {}
        for family, call, start in sorted(list(self._calls.values()),
                                          key=lambda c: c[2]):
            out.setdefault(family, []).append((call, now - start))
        return out

    def record(self, family, nbytes, error=False):
        with self._lock:
            self._requests[family] += 1
            self._bytes[family] += nbytes
            if error:
                self._errors[family] += 1

    def snapshot(self):
        """Return ``{family: {"requests": n, "bytes": n, "errors": n}}``."""
        with self._lock:
            names = set(self._requests) | set(self._bytes)
            return {n: {"requests": self._requests[n],
                        "bytes": self._bytes[n],
                        "errors": self._errors[n]} for n in sorted(names)}


class CountingAdapter(transport.Adapter):
    """heatplug's HTTP adapter (:class:`heatplug.transport.Adapter`),
    recording every round trip in :class:`Counters`."""

    def __init__(self, counters, **kwargs):
        self.counters = counters
        super().__init__(**kwargs)

    def send(self, request, *args, **kwargs):
        family = current_family.get()
        try:
            response = super().send(request, *args, **kwargs)
        except Exception:
            self.counters.record(family, 0, error=True)
            raise
        # Reading .content here is what the caller does next anyway
        # (keystoneauth and heatclient never stream Heat's answers).
        self.counters.record(family, len(response.content or b""),
                             error=response.status_code >= 500)
        dates = answer_dates.get()
        if dates is not None:
            dates.append(response.headers.get("Date"))
        return response


def install(requests_session, counters, pool_size=10):
    """Mount a :class:`CountingAdapter` on a ``requests.Session``, with the
    TLS settings of the adapter mounted there before (keystoneauth's)."""
    adapter = CountingAdapter.like(
        requests_session.get_adapter("https://"), counters=counters,
        pool_connections=pool_size, pool_maxsize=pool_size)
    requests_session.mount("http://", adapter)
    requests_session.mount("https://", adapter)
    return adapter


class Stopwatch:
    """Wall and CPU seconds of a block (CPU of the whole process)."""

    def __enter__(self):
        self._wall = time.monotonic()
        self._cpu = time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.monotonic() - self._wall
        self.cpu = time.process_time() - self._cpu
        return False
