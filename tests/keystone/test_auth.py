"""heatplug's auth stage against a real Keystone and a Keystone-auth Heat.

Every way heatplug can authenticate (a password, an application credential,
a token) reads the same stacks as a direct read by the same user.
"""

import time
import uuid

import pytest
import requests

from tests.keystone import conftest

pytestmark = pytest.mark.keystone


def _common(kh):
    return {"auth_url": kh.auth_url, "region_name": kh.region}


def _password(kh):
    return dict(_common(kh), auth_type="password",
                username=kh.demo["user_name"], password=kh.demo["password"],
                project_name=kh.demo["project_name"],
                user_domain_name="Default", project_domain_name="Default")


def test_password_in_the_config_file(keystone_heat, heat, population,
                                     tmp_path):
    conf = conftest.write_conf(tmp_path / "heatplug.conf",
                               _password(keystone_heat))
    _, data = conftest.run_poll("--enable", "stacks", "--config-file",
                                str(conf))
    assert data["errors"] == {}
    rows = conftest.table_stack_rows(data)
    assert rows == conftest.stack_rows(heat)
    assert {r[1] for r in rows} >= set(conftest.STACKS)
    assert any(r[3] for r in rows)          # the nested stacks are there


def test_password_from_os_environment(keystone_heat, heat, population):
    kh = keystone_heat
    env = conftest.heatplug_env(
        OS_AUTH_TYPE="password", OS_AUTH_URL=kh.auth_url,
        OS_IDENTITY_API_VERSION="3", OS_USERNAME=kh.demo["user_name"],
        OS_PASSWORD=kh.demo["password"],
        OS_PROJECT_NAME=kh.demo["project_name"],
        OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default",
        OS_REGION_NAME=kh.region)
    _, data = conftest.run_poll("--enable", "stacks", env=env)
    assert data["errors"] == {}
    assert conftest.table_stack_rows(data) == conftest.stack_rows(heat)


@pytest.fixture
def application_credential(keystone_heat):
    """An application credential of user demo on project demo (deleted
    afterwards), created through Keystone's API: (id, secret)."""
    kh = keystone_heat
    token, body = kh.token()
    user_id = body["user"]["id"]
    url = "%s/users/%s/application_credentials" % (kh.auth_url, user_id)
    resp = requests.post(url, headers={"X-Auth-Token": token}, json={
        "application_credential": {
            "name": "heatplug-test-%s" % uuid.uuid4().hex[:8],
            "description": "heatplug tests/keystone"}}, timeout=30)
    assert resp.status_code == 201, resp.text
    cred = resp.json()["application_credential"]
    yield cred["id"], cred["name"], cred["secret"]
    requests.delete("%s/%s" % (url, cred["id"]),
                    headers={"X-Auth-Token": kh.token()[0]}, timeout=30)


def test_application_credential(keystone_heat, heat, population,
                                application_credential, tmp_path):
    cred_id, _, secret = application_credential
    conf = conftest.write_conf(tmp_path / "heatplug.conf", dict(
        _common(keystone_heat), auth_type="v3applicationcredential",
        application_credential_id=cred_id,
        application_credential_secret=secret))
    _, data = conftest.run_poll("--enable", "stacks", "--config-file",
                                str(conf))
    assert data["errors"] == {}
    assert conftest.table_stack_rows(data) == conftest.stack_rows(heat)


def test_application_credential_by_name(keystone_heat, heat, population,
                                        application_credential, tmp_path):
    _, name, secret = application_credential
    conf = conftest.write_conf(tmp_path / "heatplug.conf", dict(
        _common(keystone_heat), auth_type="v3applicationcredential",
        application_credential_name=name,
        application_credential_secret=secret,
        username=keystone_heat.demo["user_name"],
        user_domain_name="Default"))
    _, data = conftest.run_poll("--enable", "stacks", "--config-file",
                                str(conf))
    assert data["errors"] == {}
    assert conftest.table_stack_rows(data) == conftest.stack_rows(heat)


@pytest.mark.parametrize("auth_type", ["token", "v3token"])
def test_token(keystone_heat, heat, population, tmp_path, auth_type):
    """A token (re-scoped by keystoneauth to the project, catalog from
    Keystone)."""
    token, _ = keystone_heat.token()
    conf = conftest.write_conf(tmp_path / "heatplug.conf", dict(
        _common(keystone_heat), auth_type=auth_type, token=token,
        project_name=keystone_heat.demo["project_name"],
        project_domain_name="Default"))
    _, data = conftest.run_poll("--enable", "stacks", "--config-file",
                                str(conf))
    assert data["errors"] == {}
    assert conftest.table_stack_rows(data) == conftest.stack_rows(heat)


def test_token_with_an_endpoint(keystone_heat, heat, population, tmp_path):
    """A token used as it is, on an endpoint given in the configuration
    (``admin_token``: no Keystone call by heatplug at all)."""
    token, body = keystone_heat.token()
    endpoint = "%s/%s" % (keystone_heat.heat_url, body["project"]["id"])
    conf = conftest.write_conf(tmp_path / "heatplug.conf", dict(
        auth_type="admin_token", endpoint=endpoint, token=token))
    _, data = conftest.run_poll("--enable", "stacks", "--config-file",
                                str(conf))
    assert data["errors"] == {}
    assert conftest.table_stack_rows(data) == conftest.stack_rows(heat)


def test_a_revoked_token_is_an_error_not_a_silent_empty_table(
        keystone_heat, population, tmp_path):
    """A static token cannot be renewed: once revoked, the poll fails and
    says so, and no table claims to be fresh."""
    token, body = keystone_heat.token()
    keystone_heat.revoke(token)
    endpoint = "%s/%s" % (keystone_heat.heat_url, body["project"]["id"])
    conf = conftest.write_conf(tmp_path / "heatplug.conf", dict(
        auth_type="admin_token", endpoint=endpoint, token=token))
    code, data = conftest.run_poll("--enable", "stacks", "--config-file",
                                   str(conf), check=False)
    assert code == 1
    assert "401" in data["errors"]["stacks"] or \
        "Unauthorized" in data["errors"]["stacks"], data["errors"]
    assert data["tables"]["stacks"]["rows"] == []


def test_wrong_password_is_an_auth_error(keystone_heat, population,
                                         tmp_path):
    options = _password(keystone_heat)
    options["password"] = "not-the-password-%d" % time.time()
    conf = conftest.write_conf(tmp_path / "heatplug.conf", options)
    code, data = conftest.run_poll("--enable", "stacks", "--config-file",
                                   str(conf), check=False)
    assert code == 1
    assert data["errors"]["stacks"].startswith("auth: ") or \
        "401" in data["errors"]["stacks"], data["errors"]
    assert data["tables"]["stacks"]["rows"] == []


def test_heat_really_authenticates_through_keystone(keystone_heat,
                                                    population):
    """The Heat under test refuses requests without a valid Keystone token,
    and the stack user of a DeployedServer lives in Heat's own domain
    (stack_user_domain_name, managed by stack_domain_admin)."""
    kh = keystone_heat
    token, body = kh.token()
    stacks_url = "%s/%s/stacks" % (kh.heat_url, body["project"]["id"])
    assert requests.get(stacks_url, timeout=30).status_code == 401
    assert requests.get(stacks_url, headers={"X-Auth-Token": "bogus"},
                        timeout=30).status_code == 401
    resp = requests.get(stacks_url, headers={"X-Auth-Token": token},
                        timeout=30)
    assert resp.status_code == 200
    software = population["ks-software"]
    assert software["stack_user_project_id"]
    admin_token, _ = kh.token(user="admin", password=kh.admin_password,
                              project="admin")
    project = requests.get(
        "%s/projects/%s" % (kh.auth_url, software["stack_user_project_id"]),
        headers={"X-Auth-Token": admin_token}, timeout=30)
    assert project.status_code == 200
    assert project.json()["project"]["domain_id"] == \
        kh.summary["heat_domain"]["id"]
