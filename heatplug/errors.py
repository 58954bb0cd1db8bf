"""Exception types.  Every error heatplug raises is a :class:`HeatplugError`.

Errors that belong to one plugin carry its name in ``plugin`` and chain the
underlying cause (``raise ... from exc``), so a report can always say which
family failed and why.
"""


class HeatplugError(Exception):
    """Root of every heatplug error."""


class ConfigError(HeatplugError):
    """The configuration is invalid (unknown plugin name, bad option)."""


class AuthError(HeatplugError):
    """No keystoneauth session or Heat client could be built."""


class PluginError(HeatplugError):
    """An error that belongs to one named plugin."""

    stage = "plugin"

    def __init__(self, plugin, message):
        self.plugin = plugin
        self.message = message
        super().__init__("%s %s: %s" % (self.stage, plugin, message))


class PluginLoadError(PluginError):
    """A plugin's entry point could not be imported or registered."""

    stage = "load"


class FetchError(PluginError):
    """A family's fetch stage failed (Heat unreachable, bad answer, ...)."""

    stage = "fetch"


class TranslateError(PluginError):
    """A family's translate stage failed, or its rows break its schema."""

    stage = "translate"


class PublishError(PluginError):
    """A sink failed to publish a poll's tables."""

    stage = "publish"


class WriteActionUnavailable(HeatplugError):
    """A write action was requested, but no plugin may or can carry it out."""
