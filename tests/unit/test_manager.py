"""Discovery (stevedore) and the typed facade over pluggy."""

import os
import sys
import textwrap

import pluggy
import pytest

import heatplug
from heatplug import errors
from heatplug import manager
from heatplug import opts
from heatplug.plugins import stacks


def test_select_all_by_default():
    assert manager.select(["a", "b", "c"], [], []) == ["a", "b", "c"]


def test_select_enabled_then_disabled():
    assert manager.select(["a", "b", "c"], ["c", "a"], ["a"]) == ["c"]


@pytest.mark.parametrize("enabled,disabled", [(["nope"], []), ([], ["nope"])])
def test_select_unknown_name_is_named(enabled, disabled):
    with pytest.raises(errors.ConfigError, match="nope"):
        manager.select(["a"], enabled, disabled)


def test_register_family_declares_tables(pm):
    pm.register(stacks, name="stacks")
    assert pm.families() == ["stacks"]
    assert [t.name for t in pm.tables_of("stacks")] == [
        "stacks", "stacks_links", "stacks_tags"]


def test_misspelled_hook_fails_loudly(pm):
    class Typo:
        @heatplug.hookimpl
        def heatplug_fecth(self, ctx):
            return []

    with pytest.raises(pluggy.PluginValidationError, match="heatplug_fecth"):
        pm.register(Typo(), name="typo")


def test_table_name_clash_names_both_plugins(pm):
    pm.register(stacks, name="stacks")

    class Clash:
        @heatplug.hookimpl
        def heatplug_tables(self):
            return [heatplug.table("stacks", "dup", "", ("id", "x"))]

    with pytest.raises(errors.PluginLoadError, match="'stacks'.*'stacks'"):
        pm.register(Clash(), name="clash")


def test_fetch_calls_only_the_named_family(pm):
    calls = []

    def family(name):
        class F:
            @heatplug.hookimpl
            def heatplug_tables(self):
                return [heatplug.table(name, "", "", ("x", "x"))]

            @heatplug.hookimpl
            def heatplug_fetch(self, ctx):
                calls.append(name)
                return name
        return F()

    pm.register(family("one"), name="one")
    pm.register(family("two"), name="two")
    assert pm.fetch("two", ctx=None) == "two"
    assert calls == ["two"]


def test_wrappers_still_apply_to_one_family(pm):
    seen = []

    class Timing:
        @heatplug.hookimpl(wrapper=True)
        def heatplug_fetch(self, ctx):
            result = yield
            seen.append(result)
            return result

    pm.register(stacks, name="stacks")
    pm.register(Timing(), name="timing")
    ctx = type("Ctx", (), {"stacks": lambda self: [{"id": "x"}]})()
    assert pm.fetch("stacks", ctx) == [{"id": "x"}]
    # A non-firstresult hook: the wrapper sees the list of results (one).
    assert seen == [[[{"id": "x"}]]]


def _fake_distribution(tmp_path, entry_points):
    """A real installed distribution on sys.path (a dist-info directory)."""
    dist = tmp_path / "heatplug_fake-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: heatplug-fake\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[heatplug.plugins]\n" + "".join(
            "%s = %s\n" % item for item in entry_points.items()))


@pytest.fixture
def fake_plugins(tmp_path, monkeypatch):
    """Install two plugins via a real entry point, one that cannot import."""
    (tmp_path / "fake_good.py").write_text(textwrap.dedent("""
        import heatplug

        @heatplug.hookimpl
        def heatplug_tables():
            return [heatplug.table("fake_good", "", "", ("x", "x"))]
        """))
    (tmp_path / "fake_broken.py").write_text(
        "raise ImportError('fake_broken needs libfoo')\n")
    (tmp_path / "fake_unavailable.py").write_text(
        "from heatplug.manager import PluginUnavailable\n"
        "raise PluginUnavailable('needs Heat 2099')\n")
    _fake_distribution(tmp_path, {"fake_good": "fake_good",
                                  "fake_broken": "fake_broken",
                                  "fake_unavailable": "fake_unavailable"})
    monkeypatch.syspath_prepend(str(tmp_path))
    for mod in ("fake_good", "fake_broken", "fake_unavailable"):
        monkeypatch.delitem(sys.modules, mod, raising=False)
    return tmp_path


def test_discovery_finds_entry_points(fake_plugins):
    found = manager.discover()
    assert {"fake_good", "fake_broken", "fake_unavailable",
            "stacks"} <= set(found)


def test_broken_plugin_is_named_and_others_load(fake_plugins):
    conf = opts.make_conf()
    conf.set_override("enabled_plugins",
                      ["fake_good", "fake_broken", "fake_unavailable"],
                      "heatplug")
    pm = manager.build_plugin_manager(conf)
    assert pm.families() == ["fake_good"]
    err = pm.load_errors["fake_broken"]
    assert isinstance(err, errors.PluginLoadError)
    assert err.plugin == "fake_broken"
    assert "fake_broken needs libfoo" in str(err)
    assert pm.unavailable == {"fake_unavailable": "needs Heat 2099"}
    assert "fake_unavailable" not in pm.load_errors


def test_disabled_plugin_is_never_imported(fake_plugins):
    conf = opts.make_conf()
    conf.set_override("enabled_plugins", ["fake_good", "fake_broken"],
                      "heatplug")
    conf.set_override("disabled_plugins", ["fake_broken"], "heatplug")
    pm = manager.build_plugin_manager(conf)
    assert pm.load_errors == {}
    assert "fake_broken" not in sys.modules
    assert pm.families() == ["fake_good"]
    assert pm.enabled == ["fake_good"]


def test_unknown_enabled_name_is_an_error(conf):
    conf.set_override("enabled_plugins", ["no_such_family"], "heatplug")
    with pytest.raises(errors.ConfigError, match="no_such_family"):
        manager.build_plugin_manager(conf)


def test_pip_installed_third_party_plugin_is_found():
    """tests/example_plugin is pip-installed into the test venv by the
    README's test command; it is found through its entry point."""
    conf = opts.make_conf()
    pm = manager.build_plugin_manager(conf)
    assert "example_counts" in pm.installed
    assert "example_counts" in pm.families()
    assert [t.name for t in pm.tables_of("example_counts")] == [
        "example_stack_counts"]
    assert pm.plugin("example_counts").__file__.startswith(
        os.path.dirname(os.path.dirname(pluggy.__file__)))
