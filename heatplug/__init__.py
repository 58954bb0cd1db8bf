"""heatplug: OpenStack Heat's state as relational tables, through plugins.

The public API is small: the hook markers for plugin authors, the table
declarations, and the entry points the command line and Congress use.
"""

from heatplug.hooks import hookimpl, hookspec
from heatplug.schema import Column, Table, table

__all__ = ["hookimpl", "hookspec", "Column", "Table", "table"]
