"""The auth stage against the real local Heat: every way to reach it."""

import json
import subprocess
import sys

from tests.functional import conftest


def _poll_with(args, env):
    proc = subprocess.run(
        [sys.executable, "-m", "heatplug.cli", "--enable", "stacks", *args,
         "poll", "--format", "json"],
        env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _stack_ids(data):
    return sorted(r[0] for r in data["tables"]["stacks"]["rows"])


def test_config_file_admin_token(local_heat, heat, population, tmp_path):
    conf = tmp_path / "heatplug.conf"
    conf.write_text("[heat]\nauth_type = admin_token\nendpoint = %s\n"
                    "token = any-token\n" % local_heat.endpoint)
    env = conftest.heatplug_env(local_heat)
    del env["OS_AUTH_TYPE"], env["OS_ENDPOINT"]
    data = _poll_with(["--config-file", str(conf)], env)
    assert _stack_ids(data) == sorted(
        s.id for s in heat.stacks.list(show_nested=True))


def test_config_file_none_with_endpoint_override(local_heat, population,
                                                 tmp_path):
    conf = tmp_path / "heatplug.conf"
    conf.write_text("[heat]\nauth_type = none\nendpoint_override = %s\n"
                    % local_heat.endpoint)
    env = conftest.heatplug_env(local_heat)
    del env["OS_AUTH_TYPE"], env["OS_ENDPOINT"]
    assert _stack_ids(_poll_with(["--config-file", str(conf)], env))


def test_clouds_yaml_and_os_cloud(local_heat, population, tmp_path):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds:\n  localheat:\n    auth_type: none\n"
                      "    auth:\n      endpoint: %s\n" % local_heat.endpoint)
    env = conftest.heatplug_env(local_heat, OS_CLIENT_CONFIG_FILE=str(clouds))
    del env["OS_AUTH_TYPE"], env["OS_ENDPOINT"]
    assert _stack_ids(_poll_with(["--os-cloud", "localheat"], env))


def test_no_credentials_is_a_clear_error(local_heat, tmp_path):
    env = conftest.heatplug_env(local_heat, HOME=str(tmp_path),
                                OS_CLIENT_CONFIG_FILE=str(tmp_path / "none"))
    del env["OS_AUTH_TYPE"], env["OS_ENDPOINT"]
    proc = subprocess.run(
        [sys.executable, "-m", "heatplug.cli", "--enable", "stacks", "poll",
         "--format", "json"], env=env, capture_output=True, text=True,
        timeout=120, cwd=tmp_path)
    assert proc.returncode == 1
    err = json.loads(proc.stdout)["errors"]["stacks"]
    assert err.startswith("auth: no Heat credentials")
