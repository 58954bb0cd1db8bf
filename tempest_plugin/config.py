"""Configuration of heatplug's tempest plugin (tempest.conf groups).

- ``[service_available] heatplug``: run the heatplug tests at all (off by
  default: heatplug is not an OpenStack service, and its tests need a Heat).
- ``[heatplug]``: where the orchestration API is (tempest's usual service
  client options: ``catalog_type``, ``endpoint_type``, ``region``,
  ``build_interval``, ``build_timeout``) and the heatplug options the tests
  run heatplug with (``enabled_plugins``, ``disabled_plugins``,
  ``max_workers``, ``poll_timeout``).
"""

from oslo_config import cfg

service_available_group = cfg.OptGroup(
    name="service_available", title="Available OpenStack Services")

ServiceAvailableGroup = [
    cfg.BoolOpt("heatplug", default=False,
                help="Whether to run heatplug's tests: they need Heat "
                     "(orchestration in the catalog) and heatplug "
                     "installed beside tempest."),
]

heatplug_group = cfg.OptGroup(
    name="heatplug", title="heatplug (Heat as relational tables) options")

HeatplugGroup = [
    cfg.StrOpt("catalog_type", default="orchestration",
               help="Catalog type of the orchestration (Heat) service."),
    cfg.StrOpt("endpoint_type", default="publicURL",
               choices=["public", "admin", "internal", "publicURL",
                        "adminURL", "internalURL"],
               help="The endpoint type of the orchestration service, for "
                    "tempest's client and for heatplug."),
    cfg.StrOpt("region", default="",
               help="Region of the orchestration service; empty means "
                    "[identity] region."),
    cfg.IntOpt("build_interval", default=1,
               help="Seconds between status checks of a stack, snapshot or "
                    "deletion."),
    cfg.IntOpt("build_timeout", default=300,
               help="Seconds a stack, snapshot or deletion may take."),
    cfg.ListOpt("enabled_plugins", default=[],
                help="heatplug's [heatplug] enabled_plugins: the table "
                     "plugins to run (empty: every installed one). The "
                     "tests compare every table of heatplug's own families "
                     "with Heat's API; a third party's tables are only "
                     "checked for errors."),
    cfg.ListOpt("disabled_plugins", default=[],
                help="heatplug's [heatplug] disabled_plugins."),
    cfg.IntOpt("max_workers", default=8, min=1, max=64,
               help="heatplug's [heatplug] max_workers."),
    cfg.IntOpt("poll_timeout", default=300, min=1,
               help="Seconds one heatplug poll may take before the test "
                    "fails."),
]
