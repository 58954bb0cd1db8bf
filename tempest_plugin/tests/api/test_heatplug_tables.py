"""heatplug's tables agree with Heat's API, table by table.

Congress's own tempest test for Heat only checked that the driver reported
no error; these check the data.  The class creates, with tempest's dynamic
credentials and its own orchestration client, stacks of every kind heatplug
reads (plain, parameter schemas, CloudFormation, nested, software configs
and deployments, a failed one), a snapshot and a software config and
deployment made directly through the API.  Then heatplug polls once, with
the same credentials (password auth through Keystone), and every table of
every family is compared with what Heat's API answers right after.
"""

import json
import uuid

from tempest.lib import decorators

from tempest_plugin.common import expected
from tempest_plugin.common import templates
from tempest_plugin.tests import base

REDACTED = expected.REDACTED


class HeatplugTablesTest(base.HeatplugBaseTest):

    @classmethod
    def resource_setup(cls):
        super().resource_setup()
        canary = cls.canary
        failed = cls.create_stacks({
            "simple": templates.simple_stack(canary),
            "params": templates.params_stack(canary),
            "cfn": templates.cfn_stack(canary),
            "nested": templates.nested_stack(),
            "software": templates.software_stack(canary),
            "fails": templates.failing_stack(),
        })
        assert failed == ["fails"], "unexpected create results: %s" % {
            k: (s["stack_status"], s["stack_status_reason"])
            for k, s in cls.stacks.items()}

        c = cls.client
        snap = c.create_snapshot(cls.stacks["simple"], "heatplug-snap")
        cls.snapshot = c.wait_for_snapshot(cls.stacks["simple"], snap["id"])
        assert cls.snapshot["status"] == "COMPLETE", cls.snapshot

        # A config and a deployment made directly through the API, the
        # deployment signalled with outputs as a server would.
        cls.api_config = c.create_software_config(
            name="heatplug-api-config", group="script",
            config="#!/bin/sh\necho api\n",
            inputs=[{"name": "target", "type": "String",
                     "default": "world"}],
            outputs=[{"name": "answer", "type": "String"}],
            options={"mode": "direct"})["software_config"]
        cls.addClassResourceCleanup(c.delete_software_config,
                                    cls.api_config["id"])
        dep = c.create_software_deployment(
            config_id=cls.api_config["id"], server_id=str(uuid.uuid4()),
            action="CREATE", status="IN_PROGRESS",
            input_values={"target": "tables"})["software_deployment"]
        cls.addClassResourceCleanup(c.delete_software_deployment, dep["id"])
        cls.api_deployment = c.update_software_deployment(
            dep["id"], status="COMPLETE", status_reason="signalled by test",
            output_values={"answer": "42", "deploy_status_code": 0,
                           "deploy_stdout": "ok"})["software_deployment"]

        cls.hp = cls.start_heatplug()
        cls.families = cls.hp.families
        cls.result, cls.state, _ = cls.poll_and_read(cls.hp)

    # -- the poll as a whole --------------------------------------------------

    @decorators.idempotent_id("75f6ae9a-8069-496c-838c-1ab1d31e7702")
    def test_heatplug_poll_is_complete(self):
        """No family failed, nothing is stale, every table of every enabled
        family is published."""
        self.assertEqual({}, self.result.errors)
        self.assertEqual([], self.result.stats["stale_tables"])
        declared = {t.name for ts in self.hp.plugins.tables().values()
                    for t in ts}
        self.assertEqual(declared, set(self.result.tables))
        known = [f for f in expected.FAMILIES if f in self.families]
        self.assertTrue(known, "none of heatplug's own families is enabled")
        for family in known:
            self.assertLessEqual(set(expected.TABLE_KEYS[family]), declared)

    @decorators.idempotent_id("fffcb303-7ba8-485f-a8c1-4bff825d3988")
    def test_heatplug_tables_hold_what_the_test_created(self):
        """Guards the comparisons against agreeing on empty tables."""
        if "stacks" not in self.families:
            raise self.skipException("the stacks family is not enabled")
        stacks = {r["id"]: r for r in self.rows("stacks")}
        for key, stack in self.stacks.items():
            self.assertIn(stack["id"], stacks, key)
        self.assertEqual(
            ("CREATE", "FAILED"),
            (stacks[self.stacks["fails"]["id"]]["action"],
             stacks[self.stacks["fails"]["id"]]["status"]))
        nested = [r for r in stacks.values()
                  if r["parent"] == self.stacks["nested"]["id"]]
        self.assertEqual(2, len(nested))
        self.assertIsNotNone(
            stacks[self.stacks["software"]["id"]]["stack_user_project_id"])
        if "snapshots" in self.families:
            self.assertIn((self.snapshot["id"], self.stacks["simple"]["id"],
                           "COMPLETE"),
                          [(r["id"], r["stack_id"], r["status"])
                           for r in self.rows("snapshots")])
        if "software_deployments" in self.families:
            deps = {r["id"]: r for r in self.rows("software_deployments")}
            self.assertIn(self.api_deployment["id"], deps)
            self.assertGreaterEqual(len(deps), 3)
            outputs = {(r["deployment_id"], r["key"]): r["value"] for r in
                       self.rows("software_deployments_output_values")}
            self.assertEqual("42",
                             outputs[(self.api_deployment["id"], "answer")])
        if "resources" in self.families:
            members = [r for r in self.rows("resources")
                       if r["parent_resource"] == "group"]
            self.assertEqual(2, len(members))
        if "events" in self.families:
            self.assertGreater(len(self.rows("events")),
                               2 * len(self.stacks))

    @decorators.idempotent_id("314d0d1b-633a-45d6-aa59-a8c2f5228cfa")
    def test_heatplug_secrets_are_redacted_and_nothing_else(self):
        """The planted secret appears in no cell; values that are not
        secret are shown."""
        for name, td in self.result.tables.items():
            for row in td.rows:
                self.assertNotIn(self.canary, json.dumps(row, default=str),
                                 "a secret leaked into table %s" % name)
        simple = self.stacks["simple"]["id"]
        if "stack_details" in self.families:
            params = {(r["stack_id"], r["key"]): r["value"]
                      for r in self.rows("stack_parameters")}
            self.assertEqual(REDACTED, params[(simple, "db_password")])
            self.assertEqual("12", params[(simple, "length")])
            outputs = {(r["stack_id"], r["output_key"]): r["output_value"]
                       for r in self.rows("stack_outputs")}
            self.assertEqual("hello", outputs[(simple, "greeting")])
            self.assertEqual(REDACTED, outputs[(simple, "leak")])
        if "resources" in self.families:
            attrs = {(r["stack_id"], r["resource_name"], r["key"]): r["value"]
                     for r in self.rows("resources_attributes")}
            self.assertEqual("hello", attrs[(simple, "greeting", "value")])
            self.assertEqual(REDACTED, attrs[(simple, "carrier", "value")])
        if "templates" in self.families:
            tparams = {(r["stack_id"], r["name"]): r
                       for r in self.rows("template_parameters")}
            self.assertEqual(
                REDACTED,
                tparams[(self.stacks["params"]["id"],
                         "unlock_code")]["default"])
            self.assertEqual(
                "192.0.2.10",
                tparams[(self.stacks["params"]["id"], "address")]["default"])

    # -- family by family -----------------------------------------------------

    @decorators.idempotent_id("29fca0a7-8bab-4e1c-803c-abad826ebd83")
    def test_heatplug_stacks_tables(self):
        self.assert_family_agrees("stacks")

    @decorators.idempotent_id("cc608186-0561-45ef-8b0a-b73b0307f9a2")
    def test_heatplug_stack_details_tables(self):
        self.assert_family_agrees("stack_details")

    @decorators.idempotent_id("75d6522f-7a4f-4a23-ba86-5bcead5c9add")
    def test_heatplug_templates_tables(self):
        self.assert_family_agrees("templates")

    @decorators.idempotent_id("c21f635c-b5c3-4e6f-9639-0e52f932d5e3")
    def test_heatplug_snapshots_table(self):
        self.assert_family_agrees("snapshots")

    @decorators.idempotent_id("2791929f-94a3-4b58-9837-37cd0f743f84")
    def test_heatplug_resources_tables(self):
        self.assert_family_agrees("resources")

    @decorators.idempotent_id("b0ebcdc4-d3fe-489f-82cb-fb8118a7933a")
    def test_heatplug_resource_types_table(self):
        self.assert_family_agrees("resource_types")

    @decorators.idempotent_id("05b65726-985a-4444-ad4f-333cb0c0713f")
    def test_heatplug_events_tables(self):
        self.assert_family_agrees("events")

    @decorators.idempotent_id("413383ea-59ba-4a5f-be8a-4008b88bdec7")
    def test_heatplug_software_configs_tables(self):
        self.assert_family_agrees("software_configs")

    @decorators.idempotent_id("6fea3e52-fe1b-49eb-9594-d9af2d2c6444")
    def test_heatplug_software_deployments_tables(self):
        self.assert_family_agrees("software_deployments")
