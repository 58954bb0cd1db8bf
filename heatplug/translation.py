"""Helpers for pure translation: raw Heat dicts in, table rows out.

:class:`Rows` collects a family's rows and skips (and counts) a malformed
record instead of failing the whole family; :func:`scalar` makes any value
fit a Congress column.
"""

import contextlib
import functools
import itertools
import json
import logging

from heatplug import log

LOG = logging.getLogger(__name__)

SCALARS = (str, int, float, bool, type(None))
_EXACT_SCALARS = frozenset(SCALARS)


def scalar(value):
    """A column value: scalars as they are, anything else as sorted JSON."""
    if isinstance(value, SCALARS):
        return value
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return str(value)


def as_row(values):
    """A tuple of values as a row: itself when every value is an exact
    scalar (nearly always: the hot path of every translation), else each
    value through :func:`scalar`."""
    if _EXACT_SCALARS.issuperset(map(type, values)):
        return values
    return tuple(map(scalar, values))


def normalize(rows):
    """Make every value of every row of ``rows`` (``{table: [tuple]}``, a
    :class:`Rows` too) a scalar, in place; return ``rows``.

    For translations that build their tuples directly instead of through
    :meth:`Rows.add`: one pass per table, in C, finds that every value is
    an exact scalar already (nearly always); a table where one is not goes
    through :func:`as_row` row by row.
    """
    for table, table_rows in rows.items():
        if not _EXACT_SCALARS.issuperset(
                map(type, itertools.chain.from_iterable(table_rows))):
            rows[table] = [as_row(tuple(r)) for r in table_rows]
    return rows


#: the longest reason or record name a skipped record is reported with
MAX_REASON = 200


def _short(value):
    try:
        text = str(value)
    except Exception as exc:  # a value whose str() fails: say so
        text = "<%s: str() failed: %s>" % (type(value).__name__,
                                           type(exc).__name__)
    return text if len(text) <= MAX_REASON else text[:MAX_REASON] + "..."


def split_status(status):
    """Heat's combined status, ``"CREATE_IN_PROGRESS"`` ->
    ``("CREATE", "IN_PROGRESS")``; anything else -> ``(None, status)``."""
    if isinstance(status, str):
        return _split_status(status)
    return None, status


@functools.lru_cache(maxsize=256)
def _split_status(status):
    if "_" not in status:
        return None, status
    for state in ("IN_PROGRESS", "COMPLETE", "FAILED"):
        if status.endswith("_" + state):
            return status[:-len(state) - 1], state
    action, _, state = status.partition("_")
    return action, state


class Rows(dict):
    """``{table: [row, ...]}`` plus the records that were skipped.

    Use :meth:`record` around the translation of one record: a record whose
    translation raises is skipped, counted in :attr:`skipped` and logged
    with a warning naming it (by ``ident``, or as ``<kind> #<n> (no id)``,
    its position among the records); the rows it had already added are
    removed, so a table never holds half a record.  The warning and the
    count say what was wrong with the record, never its values: the message
    is scrubbed (:func:`heatplug.log.scrub`) and cut to :data:`MAX_REASON`
    characters.
    """

    def __init__(self, *tables):
        super().__init__((t, []) for t in tables)
        self.skipped = []
        self._records = 0       # records seen, to name one without an id

    def add(self, table, *values):
        self[table].append(as_row(values))

    @contextlib.contextmanager
    def record(self, kind, ident=None):
        self._records += 1
        marks = {t: len(rows) for t, rows in self.items()}
        try:
            yield
        except Exception as exc:  # a malformed record: skip it, keep going
            for t, n in marks.items():
                del self[t][n:]
            what = log.scrub("%s %s" % (kind, _short(ident))
                             if ident is not None else
                             "%s #%d (no id)" % (kind, self._records))
            reason = "%s: %s" % (type(exc).__name__, log.scrub(_short(exc)))
            LOG.warning("skipped malformed %s: %s", what, reason)
            self.skipped.append("%s: %s" % (what, reason))


def key_values(rows, table, owner_id, mapping):
    """Add one ``(owner_id, key, value)`` row per item of ``mapping``."""
    for key, value in sorted((mapping or {}).items(),
                             key=lambda kv: str(kv[0])):
        rows.add(table, owner_id, key, value)
