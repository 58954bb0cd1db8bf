"""Helpers for pure translation: raw Heat dicts in, table rows out.

:class:`Rows` collects a family's rows and skips (and counts) a malformed
record instead of failing the whole family; :func:`scalar` makes any value
fit a Congress column.
"""

import contextlib
import json
import logging

LOG = logging.getLogger(__name__)

SCALARS = (str, int, float, bool, type(None))


def scalar(value):
    """A column value: scalars as they are, anything else as sorted JSON."""
    if isinstance(value, SCALARS):
        return value
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return str(value)


class Rows(dict):
    """``{table: [row, ...]}`` plus the records that were skipped.

    Use :meth:`record` around the translation of one record: a record whose
    translation raises is skipped, counted in :attr:`skipped` and logged
    with a warning naming it; the rows it had already added are removed, so
    a table never holds half a record.
    """

    def __init__(self, *tables):
        super().__init__((t, []) for t in tables)
        self.skipped = []

    def add(self, table, *values):
        self[table].append(tuple(scalar(v) for v in values))

    @contextlib.contextmanager
    def record(self, kind, ident=None):
        marks = {t: len(rows) for t, rows in self.items()}
        try:
            yield
        except Exception as exc:  # a malformed record: skip it, keep going
            for t, n in marks.items():
                del self[t][n:]
            what = "%s %s" % (kind, ident if ident is not None else "?")
            LOG.warning("skipped malformed %s: %s: %s",
                        what, type(exc).__name__, exc)
            self.skipped.append("%s: %s: %s" % (what, type(exc).__name__,
                                                exc))


def key_values(rows, table, owner_id, mapping):
    """Add one ``(owner_id, key, value)`` row per item of ``mapping``."""
    for key, value in sorted((mapping or {}).items(), key=lambda kv: str(kv[0])):
        rows.add(table, owner_id, key, value)
