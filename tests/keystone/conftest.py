"""Fixtures for tests on a real Keystone and a Keystone-authenticated Heat.

The session starts both once (``tools/keystone-heat start`` on free ports, a
temporary state dir) and stops them at the end:

- Keystone's token lifetime is short (:data:`TOKEN_EXPIRATION` seconds), so
  keystoneauth (which renews a token with less than 120 s left) renews the
  tokens it holds every few seconds, for real;
- Heat's keystonemiddleware caches no validated token
  (``token_cache_time = -1``): a token revoked in Keystone is refused by
  Heat at once, as it would be by every Heat once its cache expires.

The stacks belong to project ``demo`` (user ``demo``: member and
heat_stack_owner), which is what heatplug reads in these tests.
"""

import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest
import requests
from heatclient import client as heat_client
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "tools", "keystone-heat")

#: Keystone's token lifetime in these tests: keystoneauth renews a token once
#: it has less than 120 s left, so every token here is used for ~5 s.
TOKEN_EXPIRATION = 125
#: keystoneauth's own margin (keystoneauth1.identity.base.BaseIdentityPlugin)
MIN_TOKEN_LIFE = 120

TERMINAL = ("COMPLETE", "FAILED")

# Loopback traffic must never go through a proxy from the environment.
os.environ["no_proxy"] = "127.0.0.1,localhost" + (
    "," + os.environ["no_proxy"] if os.environ.get("no_proxy") else "")
os.environ["NO_PROXY"] = os.environ["no_proxy"]


class KeystoneHeat:
    """The running pair: URLs, the setup-heat summary, handy clients."""

    def __init__(self, state_dir, env, summary):
        self.state_dir = state_dir
        self.env = env
        self.summary = summary
        self.auth_url = env["KEYSTONE_AUTH_URL"]
        self.heat_url = env["HEAT_URL"]
        self.region = summary.get("region", "RegionOne")
        self.demo = summary["demo"]
        self.admin_password = os.environ.get(
            "HEATPLUG_KEYSTONE_ADMIN_PASSWORD", "admin-secret")

    @property
    def heat_log(self):
        return os.path.join(self.state_dir, "heat", "heat.log")

    @property
    def keystone_log(self):
        return os.path.join(self.state_dir, "keystone", "keystone.log")

    def demo_auth(self):
        return v3.Password(auth_url=self.auth_url,
                           username=self.demo["user_name"],
                           password=self.demo["password"],
                           project_name=self.demo["project_name"],
                           user_domain_name="Default",
                           project_domain_name="Default")

    def heat(self, auth=None):
        """A heatclient on a fresh keystoneauth session (demo by default)."""
        sess = ks_session.Session(auth=auth or self.demo_auth())
        return heat_client.Client("1", session=sess,
                                  service_type="orchestration",
                                  region_name=self.region)

    def token(self, user=None, password=None, project=None):
        """A new project-scoped token (password method): (token, body)."""
        user = user or self.demo["user_name"]
        resp = requests.post(self.auth_url + "/auth/tokens", json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "domain": {"id": "default"},
                "password": password or self.demo["password"]}}},
            "scope": {"project": {
                "name": project or self.demo["project_name"],
                "domain": {"id": "default"}}}}}, timeout=30)
        resp.raise_for_status()
        return resp.headers["X-Subject-Token"], resp.json()["token"]

    def revoke(self, token):
        """Revoke ``token`` in Keystone (its owner may revoke it)."""
        resp = requests.delete(self.auth_url + "/auth/tokens", headers={
            "X-Auth-Token": token, "X-Subject-Token": token}, timeout=30)
        assert resp.status_code == 204, resp.text
        check = requests.get(self.auth_url + "/auth/tokens", headers={
            "X-Auth-Token": self.token()[0], "X-Subject-Token": token},
            timeout=30)
        assert check.status_code == 404, "token still valid after revoke"


def _script(*args, timeout=1200):
    proc = subprocess.run([SCRIPT, *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError("tools/keystone-heat %s failed (exit %d):\n%s\n%s"
                           % (" ".join(args), proc.returncode, proc.stdout,
                              proc.stderr[-5000:]))
    return proc.stdout


@pytest.fixture(scope="session")
def keystone_heat():
    state_dir = tempfile.mkdtemp(prefix="heatplug-keystone-heat-")
    started = False
    try:
        t0 = time.monotonic()
        out = _script("start", "--state-dir", state_dir,
                      "--keystone-port", "auto", "--heat-port", "auto",
                      "--token-expiration", str(TOKEN_EXPIRATION),
                      "--token-cache-time", "-1")
        started = True
        sys.stderr.write("keystone-heat: started in %.1f s\n"
                         % (time.monotonic() - t0))
        env = dict(line.split("=", 1) for line in out.splitlines()
                   if "=" in line)
        with open(env["SUMMARY"]) as f:
            summary = json.load(f)
        yield KeystoneHeat(state_dir, env, summary)
    finally:
        if started or os.path.exists(os.path.join(state_dir, "keystone")):
            _script("stop", "--state-dir", state_dir, timeout=180)
        if os.environ.get("HEATPLUG_KEEP_STATE"):
            sys.stderr.write("keystone-heat: state kept in %s\n" % state_dir)
        else:
            shutil.rmtree(state_dir, ignore_errors=True)


def wait_for_stack(heat, ident, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        stack = heat.stacks.get(ident).to_dict()
        status = stack["stack_status"]
        if status.endswith(TERMINAL):
            return stack
        if time.monotonic() > deadline:
            raise AssertionError("stack %s still %s after %d s"
                                 % (ident, status, timeout))
        time.sleep(0.2)


CHILD = {
    "heat_template_version": "2018-08-31",
    "parameters": {"label": {"type": "string"}},
    "resources": {"value": {"type": "OS::Heat::Value",
                            "properties": {"value": {"get_param": "label"}}}},
    "outputs": {"value": {"value": {"get_attr": ["value", "value"]}}},
}

#: name -> (template, files); every stack of project demo in these tests.
STACKS = {
    "ks-simple": ({
        "heat_template_version": "2018-08-31",
        "description": "a plain stack",
        "resources": {"token": {"type": "OS::Heat::RandomString"},
                      "value": {"type": "OS::Heat::Value",
                                "properties": {"value": "hello"}}},
    }, {}),
    "ks-nested": ({
        "heat_template_version": "2018-08-31",
        "description": "nested stacks",
        "resources": {
            "group": {"type": "OS::Heat::ResourceGroup", "properties": {
                "count": 2,
                "resource_def": {"type": "OS::Heat::RandomString"}}},
            "child": {"type": "child.yaml",
                      "properties": {"label": "from-parent"}}},
    }, {"child.yaml": json.dumps(CHILD)}),
    "ks-software": ({
        "heat_template_version": "2018-08-31",
        "description": "a deployment (the stack user domain at work)",
        "resources": {
            "config": {"type": "OS::Heat::SoftwareConfig", "properties": {
                "group": "script", "config": "#!/bin/sh\necho hi\n"}},
            "server": {"type": "OS::Heat::DeployedServer"},
            "deploy": {"type": "OS::Heat::SoftwareDeployment", "properties": {
                "config": {"get_resource": "config"},
                "server": {"get_resource": "server"},
                "signal_transport": "NO_SIGNAL"}}},
    }, {}),
}


@pytest.fixture(scope="session")
def heat(keystone_heat):
    """heatclient as demo, for the direct reads the tables are compared to."""
    return keystone_heat.heat()


@pytest.fixture(scope="session")
def population(keystone_heat, heat):
    """The stacks of :data:`STACKS`, created once and settled."""
    def create(name, template, files):
        created = heat.stacks.create(stack_name=name, template=template,
                                     files=files)
        return wait_for_stack(heat, "%s/%s" % (name, created["stack"]["id"]))

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(len(STACKS)) as pool:
        futures = {name: pool.submit(create, name, *spec)
                   for name, spec in STACKS.items()}
        stacks = {name: f.result() for name, f in futures.items()}
    sys.stderr.write("keystone-heat: %d stacks created in %.1f s\n"
                     % (len(stacks), time.monotonic() - t0))
    failed = {n: s["stack_status_reason"] for n, s in stacks.items()
              if s["stack_status"] != "CREATE_COMPLETE"}
    assert not failed, failed
    return stacks


def heatplug_env(**extra):
    """The environment without any OS_* variable (plus ``extra``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(extra)
    return env


def write_conf(path, heat_options, heatplug_options=None):
    """Write a heatplug.conf with these [heat] (and [heatplug]) options."""
    lines = ["[heat]"] + ["%s = %s" % kv for kv in heat_options.items()]
    if heatplug_options:
        lines += ["", "[heatplug]"] + ["%s = %s" % kv
                                       for kv in heatplug_options.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_poll(*args, env=None, check=True):
    """``heatplug ARGS poll --format json`` in a subprocess; (code, data)."""
    proc = subprocess.run(
        [sys.executable, "-m", "heatplug.cli", *args, "poll", "--format",
         "json"], env=env or heatplug_env(), capture_output=True, text=True,
        timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError("heatplug exited %d\nstdout: %s\nstderr: %s"
                             % (proc.returncode, proc.stdout[-3000:],
                                proc.stderr[-3000:]))
    return proc.returncode, json.loads(proc.stdout)


def stack_rows(heat):
    """(id, name, status, parent) of every stack, read directly."""
    return sorted((s.id, s.stack_name, s.stack_status, s.parent)
                  for s in heat.stacks.list(show_nested=True))


def table_stack_rows(data):
    cols = data["tables"]["stacks"]["columns"]
    idx = [cols.index(c) for c in ("id", "stack_name", "stack_status",
                                   "parent")]
    return sorted(tuple(r[i] for i in idx)
                  for r in data["tables"]["stacks"]["rows"])
