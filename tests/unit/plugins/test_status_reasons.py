"""Every family that publishes a status reason scrubs it: Heat's reasons
quote what a wait condition, a deployment or a cloud said, credentials
included (a stack's reason quotes the failing resource's)."""

import json

import pytest

from heatplug import redact
from heatplug.plugins import events
from heatplug.plugins import resources
from heatplug.plugins import snapshots
from heatplug.plugins import software_deployments
from heatplug.plugins import stacks

R = redact.REDACTED
SID = "73b08937-9796-441e-9648-9fe3d9bda01e"
STACK_HREF = "http://h:8004/v1/admin/stacks/wcfail/" + SID

REASON = ('WaitConditionFailure: resources.wait: db setup failed: '
          '{"password": "CANARY-R1"} log at '
          'https://s.example/o?temp_url_sig=CANARY-R2&temp_url_expires=9 '
          'dsn mysql://app:CANARY-R3@db:3306/app; ran mysql --password '
          'CANARY-R4')
SHOWN = ('WaitConditionFailure: resources.wait: db setup failed: '
         '{"password": "%s"} log at %s dsn mysql://app:%s@db:3306/app; '
         'ran mysql --password %s' % (R, R, R, R))


def _stacks(reason):
    return stacks, [{"id": SID, "stack_name": "wcfail",
                     "stack_status": "CREATE_FAILED",
                     "stack_status_reason": reason}]


def _resources(reason):
    return resources, {"resources": [{
        "resource_name": "wait", "resource_type": "OS::Heat::WaitCondition",
        "resource_status": "CREATE_FAILED", "resource_status_reason": reason,
        "physical_resource_id": "", "attributes": {}, "metadata": {},
        "links": [{"href": STACK_HREF + "/resources/wait", "rel": "self"},
                  {"href": STACK_HREF, "rel": "stack"}]}],
        "templates": {SID: {"heat_template_version": "2018-08-31",
                            "resources": {}}}}


def _snapshots(reason):
    return snapshots, [{"stack_id": SID, "snapshots": [{
        "id": "snap-1", "name": "s", "action": "CREATE", "status": "FAILED",
        "status_reason": reason, "creation_time": "2026-11-26T13:10:43Z"}]}]


def _events(reason):
    return events, {"events": [{
        "id": "ev-1", "resource_name": "wait", "logical_resource_id": "wait",
        "physical_resource_id": "", "event_time": "2026-11-26T13:10:43Z",
        "resource_status": "CREATE_FAILED", "resource_status_reason": reason,
        "links": [{"href": STACK_HREF, "rel": "stack"}]}]}


def _deployments(reason):
    return software_deployments, [{
        "id": "dep-1", "config_id": "c", "server_id": "s",
        "action": "CREATE", "status": "FAILED", "status_reason": reason}]


FAMILIES = {"stacks": ("stacks", "stack_status_reason", _stacks),
            "resources": ("resources", "resource_status_reason", _resources),
            "snapshots": ("snapshots", "status_reason", _snapshots),
            "events": ("events", "resource_status_reason", _events),
            "software_deployments": ("software_deployments", "status_reason",
                                     _deployments)}


def _reason(family, reason):
    table, column, make = FAMILIES[family]
    module, raw = make(reason)
    rows = module.heatplug_translate(raw)
    assert rows.skipped == []
    (row,) = rows[table]
    columns = next(t for t in module.TABLES if t.name == table).column_names
    return dict(zip(columns, row))[column], rows


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_secrets_in_a_status_reason_are_redacted(family):
    shown, rows = _reason(family, REASON)
    assert shown == SHOWN
    assert "CANARY" not in json.dumps(dict(rows))


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("reason", [
    None, "", "state changed", "Stack CREATE completed successfully",
    "Resource CREATE failed: Error: resources.broken: Went to status "
    "error due to \"Unknown\"",
    "Deployment exited with non-zero status code: 2 (see "
    "http://example.com/docs/deploy#errors)"])
def test_a_status_reason_without_secrets_is_kept(family, reason):
    assert _reason(family, reason)[0] == reason


@pytest.mark.parametrize("family", ["stacks", "resources", "snapshots"])
def test_the_column_says_so(family):
    table, column, make = FAMILIES[family]
    module = make(None)[0]
    described = {c.name: c.description for t in module.TABLES
                 if t.name == table for c in t.columns}
    assert "'<redacted>'" in described[column]
