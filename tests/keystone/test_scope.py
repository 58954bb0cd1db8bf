"""Which account heatplug needs, and which project it sees (real Keystone
and a Keystone-authenticated Heat with Heat's default policies).

- A user with only the ``reader`` role in a project reads every table of
  every built-in family, exactly as a member of that project does: the
  account an operator should give a policy datasource.
- Heat scopes what heatplug reads to the token's project. A cloud admin's
  token (role ``admin`` in project ``admin``) sees the stacks of project
  ``admin`` only, while Heat's software config and deployment lists show an
  admin every project's (docs/congress.md, "Which project heatplug sees").
"""

import re
import time
import uuid

import pytest
import requests

from tests.keystone import conftest

pytestmark = pytest.mark.keystone

_PROJECT_IN_URL = re.compile(r"/v1/[^/]+/")


def _password_options(kh, user, password, project):
    return {"auth_url": kh.auth_url, "region_name": kh.region,
            "auth_type": "password", "username": user, "password": password,
            "project_name": project, "user_domain_name": "Default",
            "project_domain_name": "Default"}


def _poll(kh, tmp_path, name, user, password, project):
    conf = conftest.write_conf(tmp_path / ("%s.conf" % name),
                               _password_options(kh, user, password, project))
    _, data = conftest.run_poll("--config-file", str(conf))
    return data


def _rows(data, table, drop=(), any_project=False):
    """A table's rows, sorted, without the ``drop`` columns; with
    ``any_project``, Heat URLs name no project (Heat builds some links of
    another project's stack with the token's project in their path)."""
    cols = data["tables"][table]["columns"]
    keep = [i for i, c in enumerate(cols) if c not in drop]

    def value(v):
        return _PROJECT_IN_URL.sub("/v1/-/", v) if (
            any_project and isinstance(v, str)) else v
    return sorted((tuple(value(r[i]) for i in keep)
                   for r in data["tables"][table]["rows"]), key=repr)


def _column(data, table, column):
    cols = data["tables"][table]["columns"]
    return {r[cols.index(column)] for r in data["tables"][table]["rows"]}


@pytest.fixture(scope="module")
def reader(keystone_heat):
    """A user whose only role is ``reader`` in project demo (deleted
    afterwards): (name, password)."""
    kh = keystone_heat
    token, _ = kh.token(user="admin", password=kh.admin_password,
                        project="admin")
    headers = {"X-Auth-Token": token}
    name = "heatplug-reader-%s" % uuid.uuid4().hex[:8]
    password = uuid.uuid4().hex
    resp = requests.post(kh.auth_url + "/users", headers=headers, json={
        "user": {"name": name, "password": password, "domain_id": "default",
                 "enabled": True}}, timeout=30)
    assert resp.status_code == 201, resp.text
    user_id = resp.json()["user"]["id"]
    try:
        roles = requests.get(kh.auth_url + "/roles", params={"name": "reader"},
                             headers=headers, timeout=30).json()["roles"]
        assert len(roles) == 1, roles
        grant = requests.put("%s/projects/%s/users/%s/roles/%s" % (
            kh.auth_url, kh.demo["project_id"], user_id, roles[0]["id"]),
            headers=headers, timeout=30)
        assert grant.status_code == 204, grant.text
        assigned = requests.get(kh.auth_url + "/role_assignments", params={
            "user.id": user_id, "include_names": "true"}, headers=headers,
            timeout=30).json()["role_assignments"]
        assert [(a["role"]["name"], a["scope"]["project"]["name"])
                for a in assigned] == [("reader", "demo")]
        yield name, password
    finally:
        requests.delete("%s/users/%s" % (kh.auth_url, user_id),
                        headers={"X-Auth-Token": kh.token(
                            user="admin", password=kh.admin_password,
                            project="admin")[0]}, timeout=30)


def test_a_reader_reads_every_table_as_a_member_does(keystone_heat,
                                                     population, reader,
                                                     tmp_path):
    kh = keystone_heat
    as_reader = _poll(kh, tmp_path, "reader", reader[0], reader[1], "demo")
    as_member = _poll(kh, tmp_path, "member", kh.demo["user_name"],
                      kh.demo["password"], kh.demo["project_name"])
    assert as_reader["errors"] == {}
    assert as_member["errors"] == {}
    assert set(as_reader["tables"]) == set(as_member["tables"])
    for table in as_member["tables"]:
        assert _rows(as_reader, table) == _rows(as_member, table), table
    # Every family had something to read: a reader is not answered with
    # empty lists where a member gets rows.
    for table in ("stacks", "stack_details", "templates", "resources",
                  "resources_metadata", "events", "resource_types",
                  "software_configs", "software_deployments"):
        assert as_member["tables"][table]["rows"], table
    stats = as_reader["stats"]["families"]
    assert not any(f.get("stale") or f.get("skipped")
                   for f in stats.values()), stats


@pytest.fixture(scope="module")
def snapshotted(keystone_heat, heat, population):
    """A stack of project demo with a snapshot (deleted afterwards)."""
    template, _ = conftest.STACKS["ks-simple"]
    created = heat.stacks.create(stack_name="ks-scope-snapshotted",
                                 template=template)
    ident = "ks-scope-snapshotted/%s" % created["stack"]["id"]
    try:
        conftest.wait_for_stack(heat, ident)
        snap = heat.stacks.snapshot(ident, "scope")
        stack = conftest.wait_for_stack(heat, ident)
        assert stack["stack_status"] == "SNAPSHOT_COMPLETE", stack
        yield stack["id"], snap["id"]
    finally:
        # Gone before the next module: other tests compare whole tables
        # between polls.
        heat.stacks.delete(ident)
        deadline = time.monotonic() + 120
        while any(s.stack_name == "ks-scope-snapshotted"
                  for s in heat.stacks.list()):
            assert time.monotonic() < deadline, "stack not deleted"
            time.sleep(0.5)


def test_an_admin_reads_every_projects_stacks_but_not_their_snapshots(
        keystone_heat, heat, population, snapshotted, tmp_path):
    """What docs/congress.md tells operators.  Heat lists a cloud admin
    every project's stacks (here: project demo's; the admin's own project
    has none) and reads their resources, details, templates and events for
    it, but lists a stack's events with ``nested_depth``, and its
    snapshots, for the token's project only: heatplug reads another
    project's tree a stack at a time, so an admin's event tables are a
    member's, and has no snapshot of another project's stacks."""
    kh = keystone_heat
    as_admin = _poll(kh, tmp_path, "admin", "admin", kh.admin_password,
                     "admin")
    as_member = _poll(kh, tmp_path, "member", kh.demo["user_name"],
                      kh.demo["password"], kh.demo["project_name"])
    assert as_admin["errors"] == {}
    assert as_member["errors"] == {}
    # Every project's stacks, each with its project (Heat gives it to an
    # admin only).
    assert _column(as_admin, "stacks", "id") == \
        _column(as_member, "stacks", "id")
    assert _column(as_admin, "stacks", "project") == {kh.demo["project_id"]}
    assert _column(as_member, "stacks", "project") == {None}
    assert _column(as_admin, "software_configs", "project") == \
        {kh.demo["project_id"]}
    # The rest as a member of project demo reads it.  Not compared:
    # resource types (Heat's policy shows an admin more), the project
    # columns (above), the project in link URLs, and snapshots (below).
    for table in set(as_member["tables"]) - {"resource_types", "snapshots"}:
        assert _rows(as_admin, table, ("project",), any_project=True) == \
            _rows(as_member, table, ("project",), any_project=True), table
    assert as_member["tables"]["events"]["rows"]
    assert {sid for sid in _column(as_member, "events", "stack_id")} == \
        _column(as_member, "stacks", "id")
    # Snapshots: Heat lists none of another project's to an admin.
    stack_id, snapshot_id = snapshotted
    assert (snapshot_id, stack_id) in {
        tuple(r[:2]) for r in as_member["tables"]["snapshots"]["rows"]}
    assert as_admin["tables"]["snapshots"]["rows"] == []
    # Software configs and deployments: Heat shows an admin every
    # project's (here all demo's: the admin project has none).
    assert _column(as_member, "software_configs", "id")
    assert _column(as_member, "software_deployments", "id")
