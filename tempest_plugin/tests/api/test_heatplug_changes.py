"""heatplug's tables follow Heat as stacks change between polls.

heatplug keeps caches between polls (stack details and templates by stack
status, event markers, config details, resource metadata), so a long-running
poller must be checked after changes, not only on a fresh start: one
heatplug, two polls, and between them a stack is updated, another deleted,
another created and a snapshot taken. After each poll every table agrees
with Heat's API.
"""

from tempest.lib import decorators

from tempest_plugin.common import expected
from tempest_plugin.common import templates
from tempest_plugin.tests import base


class HeatplugChangesTest(base.HeatplugBaseTest):

    @classmethod
    def resource_setup(cls):
        super().resource_setup()
        failed = cls.create_stacks({
            "updated": templates.value_stack("before"),
            "deleted": templates.value_stack("doomed"),
        })
        assert not failed, failed
        cls.hp = cls.start_heatplug()
        cls.families = cls.hp.families
        cls.first, cls.first_state, _ = cls.poll_and_read(cls.hp)

        c = cls.client
        updated = cls.stacks["updated"]
        c.update_stack(updated, parameters={"value": "after"},
                       **templates.value_stack("before"))
        cls.stacks["updated"] = c.wait_for_stack_status(updated, "UPDATE")
        deleted = cls.stacks.pop("deleted")
        c.delete_stack(deleted)
        c.wait_for_stack_deleted(deleted)
        cls.deleted = deleted
        failed = cls.create_stacks({"new": templates.nested_stack()})
        assert not failed, failed
        snap = c.create_snapshot(cls.stacks["updated"], "after-update")
        cls.snapshot = c.wait_for_snapshot(cls.stacks["updated"],
                                           snap["id"])

        cls.second, cls.second_state, _ = cls.poll_and_read(cls.hp)

    def _agrees(self, result, state):
        self.assertEqual({}, result.errors)
        families = [f for f in expected.FAMILIES if f in self.families]
        problems = expected.compare(
            result, expected.expected_tables(state, families), families)
        self.assertEqual([], problems)

    @decorators.idempotent_id("f0854f25-b0d5-49e0-ad06-1fa91bb7d6e7")
    def test_heatplug_first_poll_agrees(self):
        self._agrees(self.first, self.first_state)

    @decorators.idempotent_id("e3a65dac-253b-415e-86bc-553fd23ed733")
    def test_heatplug_poll_after_changes_agrees(self):
        self._agrees(self.second, self.second_state)
        self.assertEqual(2, self.second.stats["poll"])

    @decorators.idempotent_id("76cd2274-ca32-46ff-ae1c-b456eb117952")
    def test_heatplug_sees_the_changes(self):
        if "stacks" not in self.families:
            raise self.skipException("the stacks family is not enabled")
        stacks = {r["id"]: r for r in self.rows("stacks", self.second)}
        self.assertNotIn(self.deleted["id"], stacks)
        self.assertIn(self.stacks["new"]["id"], stacks)
        self.assertEqual("SNAPSHOT_COMPLETE",
                         stacks[self.stacks["updated"]["id"]]["stack_status"])
        if "stack_details" in self.families:
            outputs = {(r["stack_id"], r["output_key"]): r["output_value"]
                       for r in self.rows("stack_outputs", self.second)}
            self.assertEqual("after",
                             outputs[(self.stacks["updated"]["id"], "value")])
        if "events" in self.families:
            statuses = {r["resource_status"]
                        for r in self.rows("events", self.second)
                        if r["stack_id"] == self.stacks["updated"]["id"]}
            self.assertIn("UPDATE_COMPLETE", statuses)
            self.assertIn("SNAPSHOT_COMPLETE", statuses)
            gone = [r for r in self.rows("events", self.second)
                    if r["stack_id"] == self.deleted["id"]]
            self.assertEqual([], gone)
