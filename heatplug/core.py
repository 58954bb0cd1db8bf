"""The lifecycle: auth -> fetch -> translate -> publish.

:class:`Poller` runs one poll at a time and nothing else.  It never imports
a family; it calls the hooks through :class:`heatplug.manager.PluginManager`.
A family that fails (at load, fetch or translate) is reported with its name;
its tables keep their last good rows and are marked stale; every other
family is published as usual.  A table its family has never read in this
process (it failed on every poll so far) has no last good rows: it is
published empty and marked *unknown* as well, so that a sink can tell "not
known" from "none".

What the poller keeps between polls: each family's cache, the last good
rows, the state of shared reads (:class:`heatplug.context.PollContext`),
the stack signatures each family last read successfully (for
``changed_stacks_only``), and the last translation of each family: translate
is pure, so when a family fetches exactly what it fetched last time (the
same digest of its serialization), its rows are reused instead of
translated again.  Every ``[heatplug]
full_refresh_every`` polls (the first included) a poll is a *full refresh*
(``ctx.full_refresh``): families re-verify their caches.

A poll that stalls (no progress for ``[heatplug] stall_timeout`` seconds:
a plugin that hangs, a Heat that trickles an answer's headers) gives up on
the families still running: they fail that poll as above, and are not
started again while their fetch goes on (threads cannot be stopped; the
pools' threads are daemon threads, :mod:`heatplug.workers`, so one stuck
for good does not keep the process from exiting).
"""

import concurrent.futures
import dataclasses
import hashlib
import logging
import pickle
import threading
import time

from heatplug import context
from heatplug import errors
from heatplug import stats
from heatplug import workers

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class TableData:
    """One published table: its declaration, its rows, and whether the
    rows are from an earlier poll because its family failed this time.

    :ivar stale: the family failed this poll; ``rows`` are its last good
        rows.
    :ivar unknown: the family has never fetched this table successfully in
        this process (always also ``stale``): ``rows`` is empty and means
        "not known", not "none".  A sink whose consumer reads an empty table
        as "there is none" (a policy engine) should leave it out.
    """

    table: object
    family: str
    rows: list
    stale: bool = False
    unknown: bool = False


@dataclasses.dataclass
class PollResult:
    """Everything one poll produced: what the publish hook receives.

    :ivar tables: ``{table_name: TableData}`` for every table of every
        enabled, loaded family.
    :ivar errors: ``{plugin_name: message}``; empty when all went well.
    :ivar stats: counts and timings (see :meth:`Poller.poll`).
    """

    tables: dict
    errors: dict
    stats: dict

    @property
    def ok(self):
        return not self.errors

    def to_json(self):
        """The stable ``--format json`` shape."""
        return {
            "tables": {name: {"columns": list(td.table.column_names),
                              "rows": [list(r) for r in td.rows],
                              "stale": td.stale, "unknown": td.unknown}
                       for name, td in sorted(self.tables.items())},
            "errors": dict(sorted(self.errors.items())),
            "stats": self.stats,
        }


def _check_rows(family, tables, translated):
    """Validate a translate result against the family's declared tables."""
    if not isinstance(translated, dict):
        raise errors.TranslateError(
            family, "translate returned %s, not a dict of tables"
            % type(translated).__name__)
    declared = {t.name: t for t in tables}
    unknown = sorted(set(translated) - set(declared))
    if unknown:
        raise errors.TranslateError(
            family, "rows for undeclared table(s): %s" % ", ".join(unknown))
    checked = {}
    for name, table in declared.items():
        rows = list(map(tuple, translated.get(name) or ()))
        width = len(table.columns)
        for bad in set(map(len, rows)) - {width}:
            raise errors.TranslateError(
                family, "table %s: a row has %d values, %d declared"
                % (name, bad, width))
        checked[name] = rows
    return checked


class _Hashing:
    """A file that hashes what is written to it (BLAKE2b)."""

    __slots__ = ("hash", "write")

    def __init__(self):
        self.hash = hashlib.blake2b()
        self.write = self.hash.update


def _digest(raw):
    """A digest of ``raw``'s value, or None when it cannot be serialized.

    ``pickle`` in *fast* mode (no memo) writes equal plain values (what a
    fetch returns) as equal bytes however their objects are shared, and
    about as fast as ``marshal``, whose format flags every object that has
    more than one reference: the same answer, once held by a family's
    cache as well, serialized differently, and the first poll after a cold
    poll or a full refresh translated most families again for nothing.
    Equal dicts built in another key order still serialize differently:
    that only costs a translation, never a wrong reuse.  A cycle (which
    fast mode refuses) or anything pickle cannot write gives None: no
    reuse.
    """
    out = _Hashing()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    try:
        pickler.dump(raw)
    except Exception:
        return None
    return out.hash.digest()


class Poller:
    """Runs polls for one configuration and keeps what must survive them.

    :param conf: the parsed :class:`oslo_config.cfg.ConfigOpts`.
    :param plugins: a :class:`heatplug.manager.PluginManager`.
    """

    def __init__(self, conf, plugins):
        self.conf = conf
        self.plugins = plugins
        self._conn = None
        self._conn_lock = threading.Lock()
        self._auth_call = None   # (future, poll) of an auth hook call that
        #                          has not answered yet
        self._last_good = {}     # table name -> rows of its last good poll
        self._caches = {}        # family name -> the family's cache dict
        self._state = {}         # what shared reads keep between polls
        self._signatures = {}    # family name -> signatures it last read
        self._translated = {}    # family name -> (raw digest, rows, skipped)
        self._abandoned = {}     # family name -> (future, poll) of a
        #                          fetch given up on that may still run
        self._progress = None    # the poll in progress: (ctx, families
        #                          done, families, start time)
        self.polls = 0

    # -- auth ----------------------------------------------------------------

    def connection(self):
        """The :class:`heatplug.auth.Connection`, built on first use.

        keystoneauth renews the token when it expires and re-authenticates
        once on a 401, so one connection serves every poll.

        The auth hook runs on a daemon thread, and is waited for at most
        ``[heatplug] stall_timeout`` seconds: an auth plugin that hangs
        (one that calls a Keystone that never answers) fails this poll
        with :class:`~heatplug.errors.AuthError` instead of holding it for
        ever.  It is not called again while that call runs; once the call
        ends, the next poll takes its connection (or its error).
        """
        with self._conn_lock:
            if self._conn is None:
                self._conn = self._authenticate()
            return self._conn

    def _authenticate(self):
        pending, fresh = self._auth_call, False
        if pending is None:
            pool = workers.WorkerPool(1, "heatplug-auth")
            pending = pool.submit(self.plugins.auth, self.conf)
            pool.shutdown(wait=False)
            self._auth_call, fresh = (pending, self.polls), True
        else:
            pending, since = pending
        stall = self.conf.heatplug.stall_timeout
        try:
            conn = pending.result(timeout=(stall or None) if fresh else 0)
        except concurrent.futures.TimeoutError:
            raise errors.AuthError(
                "the auth plugin gave no answer in %d s ([heatplug] "
                "stall_timeout); still running, not called again until it "
                "ends" % stall if fresh else
                "the auth plugin called in poll %d is still running; not "
                "called again until it ends" % since) from None
        except errors.HeatplugError:
            self._auth_call = None
            raise
        except Exception as exc:
            self._auth_call = None
            raise errors.AuthError(
                "%s: %s" % (type(exc).__name__, exc)) from exc
        self._auth_call = None
        return conn

    # -- one poll ------------------------------------------------------------

    def is_full_refresh(self, poll):
        """Whether poll number ``poll`` (1-based) is a full refresh."""
        every = self.conf.heatplug.full_refresh_every
        return poll == 1 or (every > 0 and (poll - 1) % every == 0)

    def _run_family(self, ctx, name, tables):
        fam = context.FamilyContext(ctx, name,
                                    self._caches.setdefault(name, {}),
                                    self._signatures.get(name))
        with stats.attributed_to(name), stats.Stopwatch() as watch:
            try:
                raw = self.plugins.fetch(name, fam)
            except errors.HeatplugError:
                raise
            except Exception as exc:
                raise errors.FetchError(
                    name, "%s: %s" % (type(exc).__name__, exc)) from exc
            rows, skipped = self._translate(name, tables, raw)
        return rows, skipped, watch.wall, fam.pending_signatures

    def _translate(self, name, tables, raw):
        """``(rows, skipped)`` of ``raw``: the last ones when ``raw`` is the
        last raw (the same BLAKE2b digest of its serialization), else from
        the translate hook."""
        blob = _digest(raw)
        last = self._translated.pop(name, None)
        if blob is not None and last is not None and last[0] == blob:
            rows, skipped = last[1], last[2]
        else:
            try:
                translated = self.plugins.translate(name, raw)
            except errors.HeatplugError:
                raise
            except Exception as exc:
                raise errors.TranslateError(
                    name, "%s: %s" % (type(exc).__name__, exc)) from exc
            rows = _check_rows(name, tables, translated)
            skipped = list(getattr(translated, "skipped", ()))
        if blob is not None:
            self._translated[name] = (blob, rows, skipped)
        return {t: list(r) for t, r in rows.items()}, list(skipped)

    def progress(self):
        """What the poll in progress has done so far, or None between polls:
        ``{"requests", "families_done", "families", "items_done", "items",
        "seconds"}`` (for progress reports; read from any thread)."""
        current = self._progress
        if current is None:
            return None
        ctx, done, total, started = current
        counted = self._conn.counters.snapshot() if self._conn else {}
        return {"requests": sum(c["requests"] for c in counted.values()),
                "families_done": len(done), "families": total,
                "items_done": ctx.items_done if ctx else 0,
                "items": ctx.items_total if ctx else 0,
                "seconds": time.monotonic() - started}

    def poll(self):
        """Run one poll; return the :class:`PollResult` it published.

        ``stats`` holds ``requests`` and ``bytes`` (HTTP round trips and
        bytes received, redirects included), ``seconds`` (wall) and
        ``cpu_seconds`` of the poll, ``rows``, ``stale_tables`` and
        ``unknown_tables`` (the stale tables never read yet), and per
        family the same counts plus ``skipped`` records and ``stale``.
        """
        self.polls += 1
        full_refresh = self.is_full_refresh(self.polls)
        families = self.plugins.tables()
        errs = {name: str(exc)
                for name, exc in self.plugins.load_errors.items()}
        fresh = {}
        fam_stats = {name: {"requests": 0, "bytes": 0, "seconds": 0.0,
                            "rows": 0, "skipped": [], "stale": False}
                     for name in families}
        counters = None
        with stats.Stopwatch() as watch:
            try:
                conn = self.connection()
                counters = conn.counters
                counters.reset()
            except errors.HeatplugError as exc:
                for name in families:
                    errs[name] = "auth: %s" % exc
                conn = None
            if conn is not None:
                fresh, run_errs, timings = self._fetch_all(conn, families,
                                                           full_refresh)
                errs.update(run_errs)
                for name, (seconds, skipped) in timings.items():
                    fam_stats[name]["seconds"] = round(seconds, 4)
                    fam_stats[name]["skipped"] = skipped

        result = self._assemble(families, fresh, errs, fam_stats)
        counted = counters.snapshot() if counters else {}
        for name, count in counted.items():
            if name in fam_stats:
                fam_stats[name]["requests"] = count["requests"]
                fam_stats[name]["bytes"] = count["bytes"]
        result.stats = {
            "poll": self.polls,
            "requests": sum(c["requests"] for c in counted.values()),
            "bytes": sum(c["bytes"] for c in counted.values()),
            "shared_requests": counted.get(context.SHARED,
                                           {}).get("requests", 0),
            "seconds": round(watch.wall, 4),
            "cpu_seconds": round(watch.cpu, 4),
            "full_refresh": full_refresh,
            "changed_stacks_only": bool(
                self.conf.heatplug.changed_stacks_only),
            "rows": sum(len(td.rows) for td in result.tables.values()),
            "stale_tables": sorted(n for n, td in result.tables.items()
                                   if td.stale),
            "unknown_tables": sorted(n for n, td in result.tables.items()
                                     if td.unknown),
            "families": fam_stats,
        }
        self._publish(result)
        per_family = ", ".join(
            "%s %d/%.1fs" % (name, f["requests"], f["seconds"])
            for name, f in sorted(fam_stats.items()))
        LOG.info("poll %d%s: %d requests, %d bytes, %.2f s wall, %.2f s CPU, "
                 "%d rows, %d error(s); per family (requests/seconds): %s",
                 self.polls, " (full refresh)" if full_refresh else "",
                 result.stats["requests"], result.stats["bytes"], watch.wall,
                 watch.cpu, result.stats["rows"], len(result.errors),
                 per_family)
        return result

    def _fetch_all(self, conn, families, full_refresh=True):
        """Fetch and translate every family, each in its own thread.

        A family whose fetch was given up on in an earlier poll and is
        still running is not started again (it fails this poll); the
        families still running when the poll stalls are given up on
        (:meth:`_wait`)."""
        fresh, errs, timings = {}, {}, {}
        for name in list(self._abandoned):
            future, poll = self._abandoned[name]
            if future.done():
                del self._abandoned[name]
                LOG.warning("family %s: the fetch given up on in poll %d "
                            "has ended; its answer is dropped", name, poll)
            elif name in families:
                errs[name] = str(errors.FetchError(
                    name, "the fetch given up on in poll %d is still "
                          "running; not started again until it ends"
                    % poll))
        todo = {n: t for n, t in families.items() if n not in errs}
        done = set()
        self._progress = (None, done, len(families), time.monotonic())
        items = workers.WorkerPool(self.conf.heatplug.max_workers,
                                   "heatplug-item")
        fams = workers.WorkerPool(max(1, len(todo)), "heatplug-family")
        stalled = False
        try:
            ctx = context.PollContext(conn, self.conf, items,
                                      full_refresh=full_refresh,
                                      state=self._state)
            self._progress = (ctx,) + self._progress[1:]
            futures = {fams.submit(self._run_family, ctx, name, tables):
                       name for name, tables in todo.items()}
            for future in self._wait(futures, ctx, conn.counters):
                name = futures[future]
                done.add(name)
                try:
                    rows, skipped, seconds, sigs = future.result()
                except errors.HeatplugError as exc:
                    LOG.error("%s", exc)
                    errs[name] = str(exc)
                    continue
                except Exception as exc:  # a bug in the core itself
                    LOG.exception("family %s failed unexpectedly", name)
                    errs[name] = "%s: %s" % (type(exc).__name__, exc)
                    continue
                fresh[name] = rows
                timings[name] = (seconds, skipped)
                self._signatures[name] = sigs
            left = {f: n for f, n in futures.items() if n not in done}
            errs.update(self._give_up(left, conn.counters))
            stalled = bool(left)
        finally:
            # Given up on: the item calls still queued are cancelled (the
            # fetches waiting for them fail and end); calls under way are
            # left to finish or hang on daemon threads.
            items.shutdown(wait=not stalled, cancel_futures=stalled)
            fams.shutdown(wait=not stalled)
            self._progress = None
        return fresh, errs, timings

    def _give_up(self, futures, counters):
        """Give up on the family ``futures`` (``{future: name}``) of a
        poll that stalled: remember them (not started again while they
        run) and return ``{name: error}``, each naming the Heat calls in
        flight for it."""
        flying, errs = counters.in_flight(), {}
        for future, name in futures.items():
            self._abandoned[name] = (future, self.polls)
            calls = ["%s (%.0f s)" % c for c in flying.get(name, [])]
            calls += ["%s (%.0f s, shared)" % c
                      for c in flying.get(context.SHARED, [])]
            err = errors.FetchError(
                name, "no progress for %d s (no Heat answer, no failed "
                      "try, no family finishing): given up on, still "
                      "running in the background ([heatplug] "
                      "stall_timeout); in flight: %s"
                % (self.conf.heatplug.stall_timeout,
                   ", ".join(calls) or "no Heat call"))
            LOG.error("%s", err)
            errs[name] = str(err)
        return errs

    def _wait(self, futures, ctx, counters):
        """Yield the family futures as they finish, until every one has or
        the poll has made no progress for ``[heatplug] stall_timeout``
        seconds: no HTTP try ended (answered or failed), no per-item call
        ended and no family finished."""
        stall = self.conf.heatplug.stall_timeout
        pending = set(futures)
        mark, since = None, time.monotonic()
        while pending:
            finished, pending = concurrent.futures.wait(
                pending, timeout=min(stall, 1.0) if stall else None,
                return_when=concurrent.futures.FIRST_COMPLETED)
            yield from finished
            now = time.monotonic()
            tries = sum(c["requests"] for c in counters.snapshot().values())
            if finished or (tries, ctx.items_done) != mark:
                mark, since = (tries, ctx.items_done), now
            elif stall and pending and now - since >= stall:
                return

    def _assemble(self, families, fresh, errs, fam_stats):
        tables = {}
        for name, declared in families.items():
            ok = name in fresh
            fam_stats[name]["stale"] = not ok
            for table in declared:
                if ok:
                    rows = fresh[name][table.name]
                    self._last_good[table.name] = rows
                else:
                    rows = self._last_good.get(table.name)
                # No last good rows (an empty table read once has some):
                # empty here means "not known", not "no rows".
                unknown = rows is None
                rows = [] if unknown else rows
                fam_stats[name]["rows"] += len(rows)
                tables[table.name] = TableData(table, name, rows,
                                               stale=not ok, unknown=unknown)
        return PollResult(tables=tables, errors=errs, stats={})

    def _publish(self, result):
        for sink in self.plugins.sinks():
            try:
                self.plugins.publish(sink, result)
            except Exception as exc:
                err = errors.PublishError(
                    sink, "%s: %s" % (type(exc).__name__, exc))
                LOG.error("%s", err)
                result.errors[sink] = str(err)

    # -- the reserved write path ---------------------------------------------

    def execute(self, action, args=None):
        """Carry out a write action through the reserved write-action hook.

        :raises WriteActionUnavailable: write actions are disabled, the
            action is not in the allowlist, or no plugin implements it.
        """
        opts = self.conf.heatplug
        if not opts.write_actions_enabled:
            raise errors.WriteActionUnavailable(
                "no write action available: write actions are disabled "
                "([heatplug] write_actions_enabled = false)")
        if action not in opts.write_actions_allowed:
            raise errors.WriteActionUnavailable(
                "no write action available: %r is not in [heatplug] "
                "write_actions_allowed" % action)
        result = self.plugins.write_action(self.connection(), action,
                                           dict(args or {}))
        if result is None:
            raise errors.WriteActionUnavailable(
                "no write action available: no plugin implements %r "
                "(heatplug ships none yet)" % action)
        return result
