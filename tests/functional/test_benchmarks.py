"""The benchmarks still run (nothing here is timed).

``benchmarks/`` is not part of the package and ``benchmarks/run`` is not
part of CI (it takes minutes and its numbers need a quiet machine), so a
change to heatplug could break a benchmark unnoticed until someone needs
its numbers.  Each benchmark program runs here once, at its smallest, on
the test population of the real local Heat, and what it reports is
checked for sense: the same work measured, the steady poll cheaper than
the cold one, rows on both sides of a comparison.
"""

import json
import pathlib
import sys

import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import bench_polls  # noqa: E402
import bench_translate  # noqa: E402
import cpu_floor  # noqa: E402


@pytest.fixture(autouse=True)
def _population(population):
    """Every test here reads the standard test stacks."""


def test_bench_polls(local_heat, tmp_path, monkeypatch):
    # bench_polls sets these for its process; put them back afterwards
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    out = tmp_path / "polls.json"
    results = bench_polls.main(["--endpoint", local_heat.endpoint,
                                "--cold", "1", "--steady", "1",
                                "--label", "smoke", "--json", str(out)])
    assert json.loads(out.read_text())["summary"] == results["summary"]
    s = results["summary"]
    hp, changed, congress = (s["heatplug"], s["heatplug_changed_only"],
                             s["congress"])
    # nothing changed: a steady poll makes no per-item call
    assert 0 < hp["steady"]["requests"] < hp["cold"]["requests"]
    assert changed["steady"]["requests"] < hp["steady"]["requests"]
    assert hp["steady"]["tables"] == hp["cold"]["tables"]
    assert hp["cold"]["tables"]["stacks"] >= len(
        [f for f in (pathlib.Path(__file__).parent / "population")
         .glob("pop-*.yaml")])
    # Congress lists the stacks three times and follows a redirect for
    # every per-stack call
    assert congress["cold"]["requests"] >= 3 + 4 * congress["cold"][
        "tables"]["stacks"]
    assert congress["cold"]["tables"]["stacks"] > 0
    assert results["population"]["stacks"] == hp["cold"]["tables"]["stacks"]


def test_bench_translate(tmp_path):
    out = tmp_path / "translate.json"
    results = bench_translate.main(["--stacks", "10", "--resources", "3",
                                    "--events", "4", "--repeat", "1",
                                    "--json", str(out)])
    assert json.loads(out.read_text())["speedup"] == results["speedup"]
    assert results["records"] == {"stacks": 10, "resources": 30,
                                  "events": 40}
    for reader in ("heatplug", "congress"):
        assert results[reader]["rows"] >= 10 + 30 + 40
        assert results[reader]["peak_bytes"] > 0


def test_cpu_floor(local_heat, tmp_path, capsys):
    out = tmp_path / "cpu.json"
    results = cpu_floor.main(["--endpoint", local_heat.endpoint,
                              "--calls", "3", "--rounds", "1",
                              "--json", str(out)])
    printed = capsys.readouterr().out
    assert json.loads(out.read_text())["layers"] == results["layers"]
    assert list(results["layers"]) == [name for name, _ in cpu_floor.layers(
        local_heat.endpoint, 1)]
    for name in results["layers"]:
        assert "| %s |" % name in printed
    shipped, bypass = results["polls"]["shipped"], \
        results["polls"]["without requests"]
    # the variant without requests does the same work (same calls, same
    # rows), every call of it sent straight to urllib3
    for kind in ("cold", "steady"):
        assert [m["sent_straight"] for m in bypass[kind]] == \
            [m["requests"] for m in bypass[kind]]
        assert [m["sent_straight"] for m in shipped[kind]] == [0]
        assert [m["requests"] for m in bypass[kind]] == \
            [m["requests"] for m in shipped[kind]]
        assert [m["tables"] for m in bypass[kind]] == \
            [m["tables"] for m in shipped[kind]]
    assert shipped["steady"][0]["requests"] < shipped["cold"][0]["requests"]
