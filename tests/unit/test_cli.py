"""``heatplug poll``'s output: what it says of a stale and an unknown table.

Runs the poll command (:func:`heatplug.cli.cmd_poll`) on the core with the
configurable families of ``test_core.py``.
"""

import io
import json
import types

from heatplug import cli
from heatplug import core
from tests.unit.test_core import Family


def _poll(conf, pm, fmt="table"):
    out = io.StringIO()
    code = cli.cmd_poll(conf, pm, types.SimpleNamespace(format=fmt), out)
    return code, out.getvalue()


def _heading(text, table):
    return next(line for line in text.splitlines()
                if line.startswith(table + " ("))


def test_text_output_tells_unknown_from_stale(conf, pm, static_auth):
    one, two = Family("one", [("1",)]), Family("two", [("2",)])
    two.fail = RuntimeError("Heat said 500")
    pm.register(one, name="one")
    pm.register(two, name="two")
    code, text = _poll(conf, pm)
    assert code == 1
    assert _heading(text, "one") == "one (1 row)"
    assert _heading(text, "two") == \
        "two (0 rows)  [unknown: two failed, never read]"
    assert "ERROR two: fetch two: RuntimeError: Heat said 500" in text


def test_text_output_marks_a_stale_table_with_its_last_rows(conf, pm,
                                                            static_auth):
    # cmd_poll polls once, as a new process: two polls of one poller here
    two = Family("two", [("2",)])
    pm.register(two, name="two")
    poller = core.Poller(conf, pm)
    assert poller.poll().ok
    two.fail = RuntimeError("Heat said 500")
    out = io.StringIO()
    cli._print_poll(poller.poll(), "table", out)
    assert _heading(out.getvalue(), "two") == \
        "two (1 row)  [stale: two failed]"
    assert "\n2\n" in out.getvalue()          # the last good row


def test_json_output_has_stale_and_unknown(conf, pm, static_auth):
    pm.register(Family("two", fail=RuntimeError("Heat said 500")),
                name="two")
    code, text = _poll(conf, pm, "json")
    data = json.loads(text)
    assert code == 1
    assert data["tables"]["two"] == {"columns": ["x"], "rows": [],
                                     "stale": True, "unknown": True}
    assert data["stats"]["unknown_tables"] == ["two"]
    assert data["stats"]["stale_tables"] == ["two"]
