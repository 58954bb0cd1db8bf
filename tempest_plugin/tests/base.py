"""Base class of heatplug's tempest tests."""

import time

from oslo_log import log as logging
from tempest import config
from tempest.lib.common.utils import data_utils
from tempest.lib import exceptions as lib_exc
from tempest import test

from tempest_plugin.common import expected
from tempest_plugin.common import runner

CONF = config.CONF
LOG = logging.getLogger(__name__)


class HeatplugBaseTest(test.BaseTestCase):
    """Creates stacks with tempest's credentials and clients, runs heatplug
    with the same credentials, compares the tables with Heat's API."""

    credentials = ["primary"]

    @classmethod
    def skip_checks(cls):
        super().skip_checks()
        if not CONF.service_available.heatplug:
            raise cls.skipException("[service_available] heatplug is false")

    @classmethod
    def setup_clients(cls):
        super().setup_clients()
        cls.client = \
            cls.os_primary.heatplug_orchestration.OrchestrationClient()

    @classmethod
    def resource_setup(cls):
        super().resource_setup()
        cls.stacks = {}
        cls.canary = data_utils.rand_name("heatplug-canary")
        # One cleanup for every stack: delete them all, then wait.
        cls.addClassResourceCleanup(cls._delete_stacks)

    # -- stacks ---------------------------------------------------------------

    @classmethod
    def create_stacks(cls, specs):
        """Create ``{key: create_stack kwargs}`` in parallel (Heat works on
        them together) and wait for each; ``cls.stacks[key]`` is the
        settled stack. Returns the keys whose create failed."""
        pending = {}
        for key, spec in specs.items():
            name = data_utils.rand_name("heatplug-" + key)
            body = cls.client.create_stack(name, **spec)["stack"]
            pending[key] = {"stack_name": name, "id": body["id"]}
            cls.stacks[key] = pending[key]
        failed = []
        for key, ident in pending.items():
            stack = cls.client.wait_for_stack_status(ident, "CREATE")
            cls.stacks[key] = stack
            if stack["stack_status"] != "CREATE_COMPLETE":
                failed.append(key)
        return failed

    @classmethod
    def _delete_stacks(cls):
        started = []
        for stack in cls.stacks.values():
            try:
                cls.client.delete_stack(stack)
                started.append(stack)
            except lib_exc.NotFound:
                pass
        for stack in started:
            cls.client.wait_for_stack_deleted(stack)

    # -- heatplug -------------------------------------------------------------

    @classmethod
    def start_heatplug(cls):
        hp = runner.Heatplug(cls.os_primary.credentials)
        cls.addClassResourceCleanup(hp.close)
        return hp

    @classmethod
    def poll_and_read(cls, hp):
        """One heatplug poll, then Heat's own answers right after it."""
        t0 = time.monotonic()
        result = hp.poll()
        t1 = time.monotonic()
        families = [f for f in expected.FAMILIES if f in hp.families]
        state = expected.HeatState(cls.client).read(families)
        LOG.info("heatplug poll %d: %s requests, %s bytes, %.2f s (Heat's "
                 "API read back in %.2f s); errors %s",
                 result.stats["poll"], result.stats["requests"],
                 result.stats["bytes"], t1 - t0, time.monotonic() - t1,
                 result.errors)
        return result, state, families

    # -- assertions -----------------------------------------------------------

    def assert_family_agrees(self, family):
        """Every table of ``family`` agrees with Heat's API."""
        if family not in self.families:
            raise self.skipException("heatplug family %s is not enabled"
                                     % family)
        self.assertNotIn(family, self.result.errors)
        want = expected.expected_tables(self.state, [family])
        problems = expected.compare(self.result, want, [family])
        self.assertEqual([], problems,
                         "heatplug's %s tables disagree with Heat's API"
                         % family)

    def rows(self, table, result=None):
        """The rows of ``table`` as dicts."""
        td = (result or self.result).tables[table]
        cols = td.table.column_names
        return [dict(zip(cols, row)) for row in td.rows]
