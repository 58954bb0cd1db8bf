"""Fixtures for unit tests: fresh managers that depend on nothing installed."""

import types

import pytest

import heatplug
from heatplug import auth
from heatplug import manager
from heatplug import opts
from heatplug import stats


@pytest.fixture
def conf():
    return opts.make_conf()


@pytest.fixture
def pm():
    """A fresh :class:`heatplug.manager.PluginManager` with only the specs."""
    return manager.PluginManager(manager.new_pluggy_manager())


class FakeHeat:
    """Just enough of a heatclient for the core's shared stack list.

    Unit tests of the core use it; everything that talks to Heat is also
    tested against the real local Heat in tests/functional.
    """

    def __init__(self, stacks=()):
        self.stack_list = list(stacks)
        self.calls = 0
        self.stacks = types.SimpleNamespace(list=self._list)

    def _list(self, show_nested=False):
        self.calls += 1
        if isinstance(self.stack_list, Exception):
            raise self.stack_list
        return [dict(s) for s in self.stack_list]


class StaticAuth:
    """An auth plugin that hands out a fixed connection."""

    def __init__(self, heat):
        self.conn = auth.Connection(session=None, heat=heat,
                                    counters=stats.Counters())

    @heatplug.hookimpl
    def heatplug_auth(self, conf):
        return self.conn


@pytest.fixture
def fake_heat():
    return FakeHeat([{"id": "s1", "stack_name": "one",
                      "stack_status": "CREATE_COMPLETE", "parent": None},
                     {"id": "s2", "stack_name": "two",
                      "stack_status": "CREATE_FAILED", "parent": None}])


@pytest.fixture
def static_auth(pm, fake_heat):
    plugin = StaticAuth(fake_heat)
    pm.register(plugin, name="static-auth")
    return plugin
