"""Fixtures for tests against the real local Heat.

The session starts one real Heat (``tools/local-heat``, a fresh state dir
and a free port) unless ``HEATPLUG_HEAT_ENDPOINT`` names a running one,
creates the test population (every template in ``population/``, each a
stack named after its file) and tears both down at the end.
"""

import concurrent.futures
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest
import yaml

from tests.functional import heat_fixture

HERE = pathlib.Path(__file__).parent
POPULATION = HERE / "population"
TERMINAL = ("COMPLETE", "FAILED")


@pytest.fixture(scope="session")
def local_heat():
    with heat_fixture.LocalHeat() as heat:
        yield heat


@pytest.fixture(scope="session")
def heat(local_heat):
    """A python-heatclient v1 client on the local Heat, for direct reads."""
    return local_heat.client()


def wait_for_stack(heat, ident, timeout=120):
    """Wait until the stack's status is terminal; return it as a dict."""
    deadline = time.monotonic() + timeout
    while True:
        stack = heat.stacks.get(ident).to_dict()
        if stack["stack_status"].endswith(TERMINAL) and \
                not stack["stack_status"].endswith("IN_PROGRESS"):
            return stack
        if time.monotonic() > deadline:
            raise AssertionError("stack %s still %s after %d s"
                                 % (ident, stack["stack_status"], timeout))
        time.sleep(0.2)


def create_stack(heat, name, template, parameters=None, files=None,
                 tags=None, wait=True):
    """Create a stack (template as text or dict) and wait until it settles."""
    if isinstance(template, str):
        template = yaml.safe_load(template)
    kwargs = {"tags": ",".join(tags)} if tags else {}
    created = heat.stacks.create(stack_name=name, template=template,
                                 parameters=parameters or {},
                                 files=files or {}, **kwargs)
    ident = "%s/%s" % (name, created["stack"]["id"])
    return wait_for_stack(heat, ident) if wait else ident


def _population_entry(path):
    spec = yaml.safe_load(path.read_text())
    files = {}
    for fname in spec.get("files", ()):
        files[fname] = (POPULATION / fname).read_text()
    return (path.stem, spec["template"], spec.get("parameters"), files,
            spec.get("tags"))


@pytest.fixture(scope="session")
def population(heat):
    """The standard test stacks, created once per session.

    Each ``population/pop-<name>.yaml`` holds ``template`` (a Heat template),
    optional ``parameters``, ``tags`` and ``files`` (names of sibling files
    passed as the stack's files).  Returns ``{name: stack dict}``, settled.
    """
    entries = [_population_entry(p) for p in sorted(POPULATION.glob("pop-*.yaml"))]
    existing = {s.stack_name for s in heat.stacks.list()}
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = {name: pool.submit(
            create_stack, heat, name, tmpl, params, files, tags)
            for name, tmpl, params, files, tags in entries
            if name not in existing}
        stacks = {name: f.result() for name, f in futures.items()}
    for name, *_ in entries:
        if name not in stacks:
            stack = heat.stacks.get(name).to_dict()
            stacks[name] = wait_for_stack(
                heat, "%s/%s" % (name, stack["id"]))
    return stacks


def heatplug_env(local_heat, **extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("OS_")}
    env.update(OS_AUTH_TYPE="none", OS_ENDPOINT=local_heat.endpoint)
    env.update(extra)
    return env


def run_heatplug(local_heat, *args, check=True):
    """Run the real ``heatplug`` command line; return (exit code, stdout)."""
    proc = subprocess.run(
        [sys.executable, "-m", "heatplug.cli", *args],
        env=heatplug_env(local_heat), capture_output=True, text=True,
        timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError("heatplug %s exited %d\nstdout:%s\nstderr:%s"
                             % (" ".join(args), proc.returncode,
                                proc.stdout[-3000:], proc.stderr[-3000:]))
    return proc.returncode, proc.stdout


def poll_json(local_heat, *args, check=True):
    """``heatplug poll --format json`` against the local Heat, parsed."""
    code, out = run_heatplug(local_heat, *args, "poll", "--format", "json",
                             check=check)
    return json.loads(out)


def table_rows(data, table):
    """Rows of ``table`` from poll JSON, as a sorted list of tuples."""
    return sorted(tuple(r) for r in data["tables"][table]["rows"])


def column(data, table, name):
    return data["tables"][table]["columns"].index(name)
