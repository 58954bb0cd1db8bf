"""The snapshots family's translation, on recorded real Heat answers.

``tests/fixtures/snapshots.json`` is what the family's fetch returned from a
real local Heat holding the test population (``tests/functional/population``)
after these snapshots were taken (``heat.stacks.snapshot(ident, name)``):
``snap-simple-1`` and ``snap-simple-2`` of pop-simple, ``snap-nested-parent``
of pop-nested, ``snap-nested-child`` of pop-nested's template-resource child
(a nested stack, snapshotted on its own) and ``snap-of-failed`` of pop-fails;
recorded with::

    OS_AUTH_TYPE=none OS_ENDPOINT=http://127.0.0.1:PORT/v1/admin \\
        .venv/bin/python tools/record_fixtures.py snapshots
"""

import copy
import json
import pathlib

import pytest

from heatplug.plugins import snapshots

FIXTURE = (pathlib.Path(__file__).resolve().parents[2] / "fixtures"
           / "snapshots.json")


@pytest.fixture
def raw():
    return json.loads(FIXTURE.read_text())


def _by_name(rows):
    return {r[2]: r for r in rows["snapshots"]}


def test_one_record_per_stack_and_no_data_blob(raw):
    assert len(raw) == 8                 # every stack, nested ones included
    for record in raw:
        for snap in record["snapshots"]:
            assert set(snap) == set(snapshots.KEEP)     # "data" never kept
    assert "canary" not in json.dumps(raw)


def test_rows(raw):
    rows = snapshots.heatplug_translate(raw)
    assert rows.skipped == []
    by_name = _by_name(rows)
    assert sorted(by_name) == ["snap-nested-child", "snap-nested-parent",
                               "snap-of-failed", "snap-simple-1",
                               "snap-simple-2"]
    one = by_name["snap-simple-1"]
    assert one == ("1f0da8a4-46d4-443b-81a8-6e968095d213",
                   "1392038e-c501-43e9-8631-ea8fd212110a", "snap-simple-1",
                   "CREATE", "COMPLETE",
                   "Stack SNAPSHOT completed successfully",
                   "2026-11-25T18:01:48Z")
    assert by_name["snap-simple-2"][1] == one[1]        # same stack
    # A nested stack's own snapshot is listed under the nested stack only,
    # and the parent's snapshot adds none to its nested stacks.
    assert by_name["snap-nested-child"][1] == \
        "f27178b6-e461-43c8-bc1f-eebc73008c3e"
    assert by_name["snap-nested-parent"][1] == \
        "32e3acbe-e67e-4442-b328-632430c4999b"
    assert len(rows["snapshots"]) == 5
    assert {r[4] for r in rows["snapshots"]} == {"COMPLETE"}


def test_malformed_records_are_skipped_and_counted(raw):
    broken = copy.deepcopy(raw)
    simple = next(r for r in broken if len(r["snapshots"]) == 2)
    del simple["snapshots"][0]["id"]
    broken[0]["snapshots"] = "not a list"
    broken.append({"stack_id": None, "snapshots": [{"id": "x"}]})
    broken.append(42)
    rows = snapshots.heatplug_translate(broken)
    assert len(rows.skipped) == 4
    assert sorted(_by_name(rows)) == ["snap-nested-child",
                                      "snap-nested-parent", "snap-of-failed",
                                      "snap-simple-2"]
