"""Evaluate Congress Datalog policy over plain tables with the real engine.

Later tests can state "these policy rules over these tables produce exactly
these violations" and get the answer Congress 11's own engine
(``congress.policy_engines.agnostic.Runtime``) would give, in-process, with
no server, message bus or database::

    from tests.congress.datalog import evaluate

    assert evaluate(
        {"stacks": [("id1", "s1", "CREATE_FAILED")]},
        ['failed(x) :- heat:stacks(id, x, "CREATE_FAILED")'],
        "failed(x)",
    ) == {("s1",)}

The steps copy the server's own paths:

* datasource policy: ``Runtime.initialize_datasource(name, schema)`` (what
  the policy-rule synchronizer calls), or a bare ``kind='datasource'`` policy
  when no schema is given;
* table data: ``Runtime.initialize_tables`` with
  ``compile.Fact(table, utils.tuple_to_congress(row))``, as
  ``DseRuntime.receive_data_full`` does when a driver publishes a table
  (``None`` becomes the string ``"None"``, ``True`` -> ``"True"``,
  numbers stay numbers, other values go through ``str``);
* rules: parsed one per string and applied with
  ``persistent=True`` through ``Runtime._safe_process_policy_update``, the
  call ``persistent_insert_rules`` (the REST API's rule insert) makes, so a
  rule the API would reject raises ``congress.exception.PolicyException``
  here too (instead of ``Runtime.insert`` quietly returning ``(False, errs)``);
* the policy is a plain ``nonrecursive`` theory, like the server's default
  ``classification`` policy.

Congress is imported lazily, so importing this module needs no Congress.
"""

from heatplug.congress import _compat


def make_runtime(tables, rules, theory="heat", schema=None,
                 policy="classification"):
    """Return a fresh Runtime holding TABLES in THEORY and RULES in POLICY.

    :param tables: ``{table_name: [row_tuple, ...]}`` for datasource THEORY
        (e.g. a driver's ``state``).  Every named table is (re)initialised,
        so an empty list means "this table exists and is empty".
    :param rules: Datalog rule strings, one rule each, for POLICY.
    :param schema: optional datasource schema as returned by a driver's
        ``get_schema()`` (``{table: ({'name': col, ...}, ...)}``); enables
        column references such as ``heat:stacks(stack_name=x)``.
    """
    _compat.init_config()
    from congress.datalog import base
    from congress.datalog import compile as dl_compile
    from congress.policy_engines import agnostic
    from congress import utils

    rt = agnostic.Runtime()
    rt.create_policy(policy)
    if schema is not None:
        rt.initialize_datasource(theory, schema)
    else:
        rt.create_policy(theory, kind=base.DATASOURCE_POLICY_TYPE)
    for table, rows in tables.items():
        facts = [dl_compile.Fact(table, utils.tuple_to_congress(tuple(row)))
                 for row in rows]
        rt.initialize_tables([table], facts, target=theory)
    for rule in rules:
        parsed = rt.parse(rule)
        if len(parsed) != 1:
            raise ValueError("expected exactly one rule in %r, got %d"
                             % (rule, len(parsed)))
        rt._safe_process_policy_update(parsed, policy, persistent=True)
    return rt


def select(rt, query, policy="classification", as_strings=False):
    """Answer QUERY (one Datalog literal) against POLICY of runtime RT.

    Returns the set of argument tuples of every true instance of QUERY
    (e.g. ``{("s1",)}`` for ``failed(x)``), or with ``as_strings=True`` the
    set of Congress's own renderings (``{'failed("s1")'}``).  String
    constants come back as ``str``, numbers as numbers.
    """
    parsed = rt.parse(query)
    if len(parsed) != 1:
        raise ValueError("expected exactly one query literal in %r" % query)
    answers = rt.select(parsed[0], policy)
    if as_strings:
        return {str(lit) for lit in answers}
    return {tuple(arg.name for arg in lit.arguments) for lit in answers}


def evaluate(tables, rules, query, theory="heat", schema=None,
             policy="classification", as_strings=False):
    """Evaluate QUERY over TABLES (in THEORY) and RULES (in POLICY).

    ``tables`` maps table name -> list of row tuples; ``rules`` is a list of
    Datalog rule strings; the result is a set of argument tuples (or of
    strings with ``as_strings=True``); see :func:`make_runtime` and
    :func:`select`.
    """
    rt = make_runtime(tables, rules, theory=theory, schema=schema,
                      policy=policy)
    return select(rt, query, policy=policy, as_strings=as_strings)
