"""heatplug's tempest plugin: heatplug's tables checked against Heat's API.

Registered through the ``tempest.test_plugins`` entry point
(``heatplug_tests = tempest_plugin.plugin:HeatplugTempestPlugin``) and laid
out like openstack/heat-tempest-plugin:

- ``plugin.py``: the :class:`tempest.test_discover.plugins.TempestPlugin`
  (tests, options, the orchestration service client);
- ``config.py``: ``[service_available] heatplug`` and the ``[heatplug]``
  group (orchestration endpoint, timeouts, heatplug's own options);
- ``services/orchestration/``: a tempest ``RestClient`` for Heat's v1 API
  (tempest 47 has none);
- ``common/``: the stacks the tests create, running heatplug with the
  test's credentials, and the expected rows of every table from Heat's API;
- ``tests/api/``: the tests (every test id contains ``heatplug``).

Run them with ``tools/run-tempest`` (a local Keystone and a
Keystone-authenticated Heat, then ``tempest run --regex heatplug``).
"""
