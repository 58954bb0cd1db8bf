"""Status reasons against the real local Heat: what a wait condition was
signalled with shows in Heat's stack and resource status reasons (the stack's
quotes the resource's), secrets included; heatplug's tables redact them."""

import json
import time

from tests.functional import conftest

TEMPLATE = """
heat_template_version: 2018-08-31
resources:
  handle: {type: OS::Heat::WaitConditionHandle}
  wait:
    type: OS::Heat::WaitCondition
    properties: {handle: {get_resource: handle}, timeout: 600}
"""
PASSWORD, SIGNATURE = "CANARY-R1-pw", "CANARY-R2-sig"
REASON = ('db setup failed: {"password": "%s"} log at '
          'https://s.example/o?temp_url_sig=%s&temp_url_expires=9'
          % (PASSWORD, SIGNATURE))


def _wait_for_resource(heat, ident, name, status, timeout=60):
    deadline = time.monotonic() + timeout
    while heat.resources.get(ident, name).resource_status != status:
        assert time.monotonic() < deadline, "%s never %s" % (name, status)
        time.sleep(0.1)


def test_a_failure_reason_with_secrets_stays_out_of_the_tables(
        local_heat, heat):
    ident = conftest.create_stack(heat, "reason-leak", TEMPLATE, wait=False)
    try:
        _wait_for_resource(heat, ident, "handle", "CREATE_COMPLETE")
        heat.resources.signal(ident, "handle", data={
            "status": "FAILURE", "reason": REASON, "id": "1"})
        stack = conftest.wait_for_stack(heat, ident)
        sid = stack["id"]
        # Heat shows both secrets: the test is not vacuous
        assert stack["stack_status"] == "CREATE_FAILED"
        heat_reasons = [stack["stack_status_reason"],
                        heat.resources.get(ident, "wait")
                        .resource_status_reason]
        for reason in heat_reasons:
            assert PASSWORD in reason and SIGNATURE in reason, reason

        data = conftest.poll_json(local_heat, "--enable", "stacks",
                                  "--enable", "resources")
        assert data["errors"] == {}
        out = json.dumps(data)
        assert PASSWORD not in out and SIGNATURE not in out
        (row,) = [r for r in conftest.records(data, "stacks")
                  if r["id"] == sid]
        (res,) = [r for r in conftest.records(data, "resources")
                  if r["stack_id"] == sid and r["resource_name"] == "wait"]
        for shown, heat_reason in zip(
                [row["stack_status_reason"], res["resource_status_reason"]],
                heat_reasons):
            # the reason is kept, but for its secrets
            assert shown == heat_reason.replace(PASSWORD, "<redacted>") \
                .replace("https://s.example/o?temp_url_sig=%s"
                         "&temp_url_expires=9" % SIGNATURE, "<redacted>")
            assert "db setup failed" in shown
    finally:
        conftest.delete_stack(heat, ident)
