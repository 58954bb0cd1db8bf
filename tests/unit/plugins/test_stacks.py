"""The stacks family's translation."""

import json

from heatplug import redact
from heatplug.plugins import stacks

R = redact.REDACTED
COLUMNS = {t.name: t.column_names for t in stacks.TABLES}
SID = "73b08937-9796-441e-9648-9fe3d9bda01e"

#: A wait condition signalled FAILURE with a password and a signed URL in
#: its reason, as Heat's stack list quotes it (recorded from a real Heat 27).
FAILED_REASON = (
    'Resource CREATE failed: WaitConditionFailure: resources.wait: db setup '
    'failed: {"password": "CANARY-R1"} log at '
    'https://s.example/o?temp_url_sig=CANARY-R2&temp_url_expires=9')


def _stack(**extra):
    stack = {"id": SID, "stack_name": "wcfail", "description": "",
             "creation_time": "2026-11-26T13:10:43Z", "updated_time": None,
             "deletion_time": None, "stack_status": "CREATE_FAILED",
             "stack_status_reason": FAILED_REASON, "stack_owner": None,
             "parent": None, "stack_user_project_id": "p1",
             "links": [{"href": "http://h/v1/admin/stacks/wcfail/" + SID,
                        "rel": "self"}],
             "tags": "a,b"}
    stack.update(extra)
    return stack


def _row(rows):
    assert rows.skipped == []
    (row,) = rows["stacks"]
    return dict(zip(COLUMNS["stacks"], row))


def test_rows_of_a_stack():
    rows = stacks.heatplug_translate([_stack()])
    row = _row(rows)
    assert (row["id"], row["stack_name"], row["stack_status"],
            row["action"], row["status"]) == (
        SID, "wcfail", "CREATE_FAILED", "CREATE", "FAILED")
    assert rows["stacks_tags"] == [(SID, "a"), (SID, "b")]
    assert rows["stacks_links"] == [
        (SID, "http://h/v1/admin/stacks/wcfail/" + SID, "self")]


def test_the_status_reason_keeps_all_but_its_secrets():
    rows = stacks.heatplug_translate([_stack()])
    assert _row(rows)["stack_status_reason"] == (
        'Resource CREATE failed: WaitConditionFailure: resources.wait: db '
        'setup failed: {"password": "%s"} log at %s' % (R, R))
    assert "CANARY" not in json.dumps(dict(rows))


def test_other_secrets_in_a_status_reason():
    for reason, shown in [
            ("Resource CREATE failed: Error: resources.dep: Deployment to "
             "server failed: mysql --user app --password CANARY x",
             "Resource CREATE failed: Error: resources.dep: Deployment to "
             "server failed: mysql --user app --password %s x" % R),
            ("Resource CREATE failed: cannot reach "
             "mysql://app:CANARY@db:3306/app",
             "Resource CREATE failed: cannot reach "
             "mysql://app:%s@db:3306/app" % R),
            ("Stack CREATE completed successfully",
             "Stack CREATE completed successfully"),
            ("", ""), (None, None)]:
        row = _row(stacks.heatplug_translate(
            [_stack(stack_status_reason=reason)]))
        assert row["stack_status_reason"] == shown
