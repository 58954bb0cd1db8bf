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
from heatclient import exc as heat_exc

from heatplug import core
from heatplug import manager
from heatplug import opts
from tests.functional import heat_fixture

HERE = pathlib.Path(__file__).parent
POPULATION = HERE / "population"
TERMINAL = ("COMPLETE", "FAILED")

#: The canary secrets the population plants (``population/``): a hidden
#: parameter, a CFN NoEcho default, a HOT hidden default and a software
#: config input's default.  None of them may reach a row.
CANARIES = ("canary-hidden-param-7Qz1", "canary-cfn-noecho-default-5Wm2",
            "canary-hot-hidden-default-8Rt4",
            "canary-hidden-config-input-3Kd9")

#: A nested template (pass it as ``child.yaml``): its parameter ``word`` is
#: the value of an ``OS::Heat::Value`` named ``echo``.
CHILD = """
heat_template_version: 2018-08-31
parameters:
  word: {type: string}
resources:
  echo:
    type: OS::Heat::Value
    properties: {value: {get_param: word}}
"""


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


def delete_stack(heat, ident, timeout=60):
    """Delete a stack and wait (up to ``timeout`` s) until the delete is no
    longer in progress; a stack Heat does not know is gone already."""
    try:
        heat.stacks.delete(ident)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if heat.stacks.get(ident).stack_status != "DELETE_IN_PROGRESS":
                return
            time.sleep(0.2)
    except heat_exc.HTTPNotFound:
        pass


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
    entries = [_population_entry(p)
               for p in sorted(POPULATION.glob("pop-*.yaml"))]
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


def poll_output(local_heat, *args, check=True):
    """``heatplug poll --format json`` against the local Heat: its output."""
    code, out = run_heatplug(local_heat, *args, "poll", "--format", "json",
                             check=check)
    return out


def poll_json(local_heat, *args, check=True):
    """``heatplug poll --format json`` against the local Heat, parsed."""
    return json.loads(poll_output(local_heat, *args, check=check))


def table_rows(data, table):
    """Rows of ``table`` from poll JSON, as a sorted list of tuples."""
    return sorted(tuple(r) for r in data["tables"][table]["rows"])


def records(data, table):
    """Rows of ``table`` from poll JSON, in its order, as dicts by column."""
    columns = data["tables"][table]["columns"]
    return [dict(zip(columns, r)) for r in data["tables"][table]["rows"]]


def column(data, table, name):
    return data["tables"][table]["columns"].index(name)


# -- in-process polls ---------------------------------------------------------

@pytest.fixture
def make_poller(local_heat, monkeypatch):
    """Makes in-process :class:`heatplug.core.Poller` s on the local Heat.

    The environment is the command line's (:func:`heatplug_env`): no OS_*
    variable but ``OS_AUTH_TYPE=none`` and ``OS_ENDPOINT``.
    ``make_poller(families, **options)`` enables the plugins ``families``
    and sets the other ``[heatplug]`` options.
    """
    for key in [k for k in os.environ if k.startswith("OS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("OS_AUTH_TYPE", "none")
    monkeypatch.setenv("OS_ENDPOINT", local_heat.endpoint)

    def make(families, **options):
        conf = opts.make_conf()
        conf.set_override("enabled_plugins", families, "heatplug")
        for key, value in options.items():
            conf.set_override(key, value, "heatplug")
        return core.Poller(conf, manager.build_plugin_manager(conf))
    return make


def tables(result, sort=True):
    """``{table: rows}`` of a poll no family failed; each table's rows
    sorted, or (``sort=False``) in the order the poll gave them."""
    assert result.ok, result.errors
    return {name: sorted(td.rows) if sort else td.rows
            for name, td in result.tables.items()}


def poll(poller, sort=True):
    """Poll once; no family may fail.  Returns ``(tables, stats)``: the
    rows of every table (see :func:`tables`) and the poll's stats."""
    result = poller.poll()
    return tables(result, sort), result.stats
