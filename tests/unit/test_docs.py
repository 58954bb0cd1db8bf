"""Every hook is documented, in its docstring and in docs/plugins.md."""

import inspect
import pathlib

import pytest

from heatplug import hooks

REPO = pathlib.Path(__file__).resolve().parents[2]
SPECS = sorted(name for name in dir(hooks) if name.startswith("heatplug_"))


def test_there_are_hooks():
    assert "heatplug_write_action" in SPECS and len(SPECS) == 6


@pytest.mark.parametrize("name", SPECS)
def test_hook_docstring_is_complete(name):
    func = getattr(hooks, name)
    doc = inspect.getdoc(func)
    assert doc and doc.splitlines()[0].endswith("."), name
    assert "Called" in doc, "%s: say when in the lifecycle it is called" % name
    for param in inspect.signature(func).parameters:
        assert ":param %s:" % param in doc, (name, param)
    assert ":return" in doc or name == "heatplug_publish", name
    firstresult = getattr(func, "heatplug_spec")["firstresult"]
    assert ("Stops at first non-None result." in doc) == firstresult, name


@pytest.mark.parametrize("name", SPECS)
def test_hook_is_in_the_plugin_docs(name):
    text = (REPO / "docs" / "plugins.md").read_text()
    assert "### %s" % name in text


def builtin_plugins():
    """A manager with exactly the families heatplug itself ships."""
    import importlib.metadata

    from heatplug import manager
    from heatplug import opts
    conf = opts.make_conf()
    conf.set_override("enabled_plugins", sorted(
        ep.name for ep in importlib.metadata.entry_points(
            group=manager.ENTRY_POINT_GROUP)
        if ep.value.startswith("heatplug.plugins.")), "heatplug")
    return manager.build_plugin_manager(conf)


def test_table_reference_is_current():
    from heatplug import cli
    plugins = builtin_plugins()
    assert plugins.load_errors == {}
    expected = cli.table_reference(plugins)
    current = (REPO / "docs" / "tables.md").read_text()
    assert current == expected, (
        "regenerate: heatplug --enable <each built-in family> tables "
        "--format markdown > docs/tables.md (see tools/gen-table-docs)")


def test_every_column_is_described():
    for family, tables in builtin_plugins().tables().items():
        for t in tables:
            assert t.description and t.source, (family, t.name)
            for c in t.columns:
                assert c.description.strip(), (t.name, c.name)
