"""heatplug's built-in families: one Heat family per module.

Each module is a plain set of ``@heatplug.hookimpl`` functions, listed as an
entry point in the ``heatplug.plugins`` group of ``setup.cfg`` and loaded,
enabled and disabled exactly like a third party's plugin.
"""
