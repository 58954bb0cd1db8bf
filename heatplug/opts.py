"""Configuration options.

Options are registered only through :func:`list_opts`, so the sample file
that ``oslo-config-generator --namespace heatplug`` prints (committed as
``etc/heatplug.conf.sample``) can never drift from the code.
"""

import copy

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

HEAT_GROUP = "heat"

HEATPLUG_OPTS = [
    cfg.ListOpt(
        "enabled_plugins", default=[],
        help="Plugins (entry points in the 'heatplug.plugins' group) to "
             "enable. Empty means every installed plugin. Naming a plugin "
             "that is not installed is an error."),
    cfg.ListOpt(
        "disabled_plugins", default=[],
        help="Plugins to disable; applied after enabled_plugins. A disabled "
             "plugin is never imported."),
    cfg.IntOpt(
        "max_workers", default=8, min=1, max=64,
        help="Size of the worker pool for per-stack and per-item Heat calls "
             "(shared by every family; each family's own list calls run in "
             "its own thread besides)."),
    cfg.IntOpt(
        "full_refresh_every", default=30, min=0,
        help="Every this many polls (counting the first), a poll is a full "
             "refresh: every cache is re-verified (stack details, "
             "templates and resource metadata are read again, events are "
             "listed from the first one, and with changed_stacks_only every "
             "root stack is read). Software config bodies and event details "
             "are kept: Heat never changes them. 0: only the first poll."),
    cfg.BoolOpt(
        "changed_stacks_only", default=False,
        help="Between full refreshes, read resources, events, resource "
             "metadata and snapshots only for the root stacks whose tree "
             "changed (a stack of the tree added, removed, or with a new "
             "status, status reason or updated time; trees with a stack in "
             "progress are always read). Far fewer Heat calls, but what "
             "changes without touching a stack's status (signals to "
             "resources and their events, software deployments pushed to a "
             "server's metadata, live attribute values, a deleted "
             "snapshot) shows only at the next full refresh."),
    cfg.IntOpt(
        "stall_timeout", default=600, min=0,
        help="Seconds a poll waits without progress (no Heat answer, no "
             "failed try, no family finishing) before it gives up on the "
             "families still running: their tables keep their last good "
             "rows (stale), the other families publish, and a family given "
             "up on is not started again until its fetch ends (it goes on "
             "in the background: a thread cannot be stopped). Guards "
             "against a plugin that hangs and a Heat (or proxy) that "
             "trickles an answer's headers. Keep it above twice [heat] "
             "timeout (one try may wait that long for an answer). 0: wait "
             "for ever."),
    cfg.BoolOpt(
        "event_details", default=True,
        help="Read each event's detail (resource type and properties: one "
             "call per event, once ever, since events never change). Off: "
             "the events family makes only its list calls."),
    cfg.BoolOpt(
        "write_actions_enabled", default=False,
        help="Allow write actions (the reserved write-action hook). Off by "
             "default; even when on, only actions in write_actions_allowed "
             "are carried out."),
    cfg.ListOpt(
        "write_actions_allowed", default=[],
        help="The write actions that may be carried out when "
             "write_actions_enabled is true."),
]

CLOUD_OPTS = [
    cfg.StrOpt(
        "cloud",
        help="Name of a cloud in clouds.yaml to read credentials from. Used "
             "only when auth_type is not set in this group; when neither is "
             "set, the OS_CLOUD and OS_* environment variables are used, as "
             "the openstack command line does."),
]


def _heat_group_opts():
    return (CLOUD_OPTS
            + ks_loading.get_session_conf_options()
            + ks_loading.get_adapter_conf_options(include_deprecated=False)
            + ks_loading.get_auth_common_conf_options())


def list_opts():
    """Every option heatplug registers, by group (the oslo.config entry point).

    The ``[heat]`` group also lists the options of the ``password`` auth
    plugin for the sample file; keystoneauth registers each auth plugin's own
    options when the plugin is loaded, as aodh does.
    """
    return [
        ("heatplug", copy.deepcopy(HEATPLUG_OPTS)),
        (HEAT_GROUP, copy.deepcopy(
            _heat_group_opts()
            + ks_loading.get_auth_plugin_conf_options("password"))),
    ]


def register_opts(conf):
    """Register heatplug's options on ``conf`` (a :class:`cfg.ConfigOpts`)."""
    conf.register_opts(HEATPLUG_OPTS, group="heatplug")
    conf.register_opts(_heat_group_opts(), group=HEAT_GROUP)
    return conf


def make_conf(args=(), config_files=None):
    """Build a fresh, parsed :class:`cfg.ConfigOpts` (no global state)."""
    conf = register_opts(cfg.ConfigOpts())
    conf(list(args), project="heatplug", validate_default_values=True,
         default_config_files=list(config_files or []))
    return conf
