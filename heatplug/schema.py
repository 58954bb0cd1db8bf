"""Table declarations: what a family promises to publish.

A family declares its tables once (:func:`heatplug.hooks.heatplug_tables`);
the core checks every translated row against the declaration, and the docs
and the Congress driver's schema are generated from it.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Column:
    """One column of a table."""

    name: str
    description: str


@dataclasses.dataclass(frozen=True)
class Table:
    """A relational table a family publishes.

    :param name: table name, unique across all plugins (Congress style:
        ``stacks``, ``stacks_links``, ...).
    :param columns: ordered columns; every row has exactly this many values.
    :param description: what one row means.
    :param source: the Heat API call(s) the rows come from.
    """

    name: str
    columns: tuple
    description: str
    source: str = ""

    def __post_init__(self):
        object.__setattr__(self, "columns", tuple(self.columns))
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError("table %s declares a column twice: %s"
                             % (self.name, names))

    @property
    def column_names(self):
        return tuple(c.name for c in self.columns)


def table(name, description, source, *columns):
    """Shorthand for a :class:`Table` and its columns::

        table("stacks", "...", "GET /stacks", ("id", "..."), ...)
    """
    return Table(name=name, description=description, source=source,
                 columns=tuple(Column(n, d) for n, d in columns))
