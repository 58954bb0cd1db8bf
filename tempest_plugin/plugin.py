"""heatplug's tempest plugin (entry point ``tempest.test_plugins``).

Laid out like openstack/heat-tempest-plugin: this module, ``config.py``
for the options, ``services/`` for the orchestration client, ``tests/``.
"""

import os

from tempest import config
from tempest.test_discover import plugins

from tempest_plugin import config as heatplug_config


class HeatplugTempestPlugin(plugins.TempestPlugin):

    def load_tests(self):
        base_path = os.path.split(os.path.dirname(
            os.path.abspath(__file__)))[0]
        full_test_dir = os.path.join(base_path, "tempest_plugin", "tests")
        return full_test_dir, base_path

    def register_opts(self, conf):
        config.register_opt_group(conf,
                                  heatplug_config.service_available_group,
                                  heatplug_config.ServiceAvailableGroup)
        config.register_opt_group(conf, heatplug_config.heatplug_group,
                                  heatplug_config.HeatplugGroup)

    def get_opt_lists(self):
        return [
            (heatplug_config.heatplug_group.name,
             heatplug_config.HeatplugGroup),
            (heatplug_config.service_available_group.name,
             heatplug_config.ServiceAvailableGroup),
        ]

    def get_service_clients(self):
        params = {
            "name": "heatplug_orchestration",
            "service_version": "heatplug.orchestration",
            "module_path": "tempest_plugin.services.orchestration",
            "client_names": ["OrchestrationClient"],
        }
        params.update(config.service_client_config("heatplug"))
        return [params]
