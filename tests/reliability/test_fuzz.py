"""Bad input: property-based tests of every family's translate stage.

hypothesis feeds each family's ``heatplug_translate`` arbitrary JSON-like
values (None, wrong types, unicode, huge strings, missing keys), both as
arbitrary records in the container the family's fetch returns and shaped
like Heat's records (the keys the family reads, with any value).  For every
example:

* translate returns (never raises) when the containers are of the types
  the family's own fetch builds (the records in them, Heat's answers, are
  anything);
* every row fits its declared table (width, scalar values);
* every record it skips is counted in ``skipped`` and named in a warning;
* a canary under a credential's name never reaches a row.

And the core: whatever a family's fetch returns (any JSON-like value), a
poll returns a result; a family whose translate cannot read it is reported
as failed (``translate <family>: ...``), never a crash.
"""

import logging

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

import heatplug
from heatplug import core
from heatplug import opts
from heatplug import manager
from heatplug.plugins import events
from heatplug.plugins import resource_types
from heatplug.plugins import resources
from heatplug.plugins import snapshots
from heatplug.plugins import software_configs
from heatplug.plugins import software_deployments
from heatplug.plugins import stack_details
from heatplug.plugins import stacks
from heatplug.plugins import templates
from tests.unit.conftest import FakeHeat
from tests.unit.conftest import StaticAuth

#: examples per property and family; CI-friendly (the whole file runs in
#: well under a minute)
EXAMPLES = 60

SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])

CANARY = "canary-fuzz-secret-Zq7"

# -- values -------------------------------------------------------------------

TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", " ", "CREATE_COMPLETE", "UPDATE_IN_PROGRESS", "_",
                     "http://h/x?Signature=abc", "\x00", "\udcff"[:0] + "é",
                     "{\"a\": 1}", "[1, 2", "nan", "None", "******"]),
    st.builds(lambda n, c: c * n, st.integers(10_000, 200_000),
              st.sampled_from("x\u00e9\U0001f600")),
)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(),
                   st.floats(allow_nan=True, allow_infinity=True), TEXT)
JSON = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12)


def shaped(keys, extra=JSON):
    """A dict with any subset of ``keys``, each with any value."""
    return st.fixed_dictionaries({}, optional={k: extra for k in keys})


LINKS = st.one_of(JSON, st.lists(shaped(["href", "rel"]), max_size=3),
                  st.just([{"rel": "stack", "href":
                            "http://h/v1/p/stacks/n/11111111"}]))
STATUS = st.one_of(JSON, st.sampled_from(
    ["CREATE_COMPLETE", "DELETE_IN_PROGRESS", "SNAPSHOT_FAILED", "X"]))

STACK = shaped(["id", "stack_name", "description", "creation_time",
                "updated_time", "deletion_time", "stack_status",
                "stack_status_reason", "stack_owner", "parent", "project",
                "stack_user_project_id", "tags"]).flatmap(
    lambda d: st.fixed_dictionaries(
        {"links": LINKS, "stack_status": STATUS}).map(
        lambda more: dict(d, **more)))

OUTPUT = shaped(["output_key", "output_value", "description",
                 "output_error"])
TEMPLATE = st.one_of(JSON, shaped(
    ["heat_template_version", "AWSTemplateFormatVersion", "description",
     "Description", "parameters", "Parameters", "resources", "Resources",
     "outputs", "Outputs"],
    extra=st.one_of(JSON, st.dictionaries(TEXT, st.one_of(JSON, shaped(
        ["type", "Type", "hidden", "NoEcho", "default", "Default",
         "constraints", "depends_on", "DependsOn", "value", "properties",
         "MinLength", "MaxValue", "AllowedValues"])), max_size=3))))
DETAIL = st.fixed_dictionaries(
    {"id": st.one_of(JSON, st.uuids().map(str))},
    optional={"description": JSON, "template_description": JSON,
              "timeout_mins": JSON, "disable_rollback": JSON,
              "parameters": st.one_of(JSON, st.dictionaries(TEXT, JSON)),
              "outputs": st.one_of(JSON, st.lists(OUTPUT, max_size=3)),
              "capabilities": JSON, "notification_topics": JSON,
              "template": TEMPLATE, "inherits_secret": JSON})
RESOURCE = shaped(["resource_name", "physical_resource_id", "resource_type",
                   "resource_status", "resource_status_reason",
                   "creation_time", "updated_time", "description",
                   "parent_resource", "required_by", "attributes",
                   "metadata"]).flatmap(
    lambda d: st.fixed_dictionaries({"links": LINKS}).map(
        lambda more: dict(d, **more)))
EVENT = shaped(["id", "resource_name", "logical_resource_id",
                "physical_resource_id", "resource_type", "event_time",
                "resource_status", "resource_status_reason"]).flatmap(
    lambda d: st.fixed_dictionaries({"links": LINKS}).map(
        lambda more: dict(d, **more)))
IO = shaped(["name", "type", "description", "default", "value",
             "replace_on_change", "hidden", "error_output"])
CONFIG = shaped(["id", "name", "group", "creation_time", "config",
                 "project", "options"]).flatmap(
    lambda d: st.fixed_dictionaries(
        {}, optional={"inputs": st.one_of(JSON, st.lists(IO, max_size=3)),
                      "outputs": st.one_of(JSON, st.lists(IO, max_size=3))}
    ).map(lambda more: dict(d, **more)))
DEPLOYMENT = shaped(["id", "config_id", "server_id", "action", "status",
                     "status_reason", "creation_time", "updated_time",
                     "input_values", "output_values"])

# family -> (module, strategy of what its fetch returns: the containers its
# fetch builds, holding anything where Heat's records go)
FAMILIES = {
    "stacks": (stacks, st.lists(st.one_of(STACK, JSON), max_size=5)),
    "stack_details": (stack_details,
                      st.lists(st.one_of(DETAIL, JSON), max_size=4)),
    "templates": (templates, st.lists(st.one_of(
        st.fixed_dictionaries({"stack_id": st.one_of(JSON, st.just("s1")),
                               "template": TEMPLATE}), JSON), max_size=4)),
    "snapshots": (snapshots, st.lists(st.one_of(
        st.fixed_dictionaries({"stack_id": st.one_of(JSON, st.just("s1")),
                               "snapshots": st.one_of(JSON, st.lists(
                                   shaped(list(snapshots.KEEP)),
                                   max_size=3))}), JSON), max_size=4)),
    "resources": (resources, st.fixed_dictionaries({}, optional={
        "resources": st.lists(st.one_of(RESOURCE, JSON), max_size=5),
        "templates": st.dictionaries(st.one_of(st.just("11111111"), TEXT),
                                     TEMPLATE, max_size=2)})),
    "resource_types": (resource_types, st.fixed_dictionaries({}, optional={
        "resource_types": st.lists(st.one_of(
            shaped(["resource_type", "description"]), TEXT, JSON),
            max_size=5),
        "support_status": st.dictionaries(
            st.sampled_from(resource_types.OTHER_STATUSES),
            st.lists(st.one_of(TEXT, JSON), max_size=3))})),
    "events": (events, st.fixed_dictionaries({}, optional={
        "events": st.lists(st.one_of(EVENT, JSON), max_size=5),
        "details": st.dictionaries(TEXT, st.one_of(
            JSON, shaped(["resource_type", "resource_properties",
                          "secret_properties"])), max_size=3)})),
    "software_configs": (software_configs,
                         st.lists(st.one_of(CONFIG, JSON), max_size=4)),
    "software_deployments": (software_deployments,
                             st.lists(st.one_of(DEPLOYMENT, JSON),
                                      max_size=4)),
}

SCALAR_TYPES = (str, int, float, bool, type(None))


class Warnings(logging.Handler):
    """Collects heatplug.translation's warnings."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def warnings_seen():
    handler = Warnings()
    logger = logging.getLogger("heatplug.translation")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def check_rows(module, translated):
    declared = {t.name: len(t.columns) for t in module.TABLES}
    assert isinstance(translated, dict)
    assert set(translated) <= set(declared)
    for table, rows in translated.items():
        for row in rows:
            assert len(row) == declared[table], table
            for value in row:
                assert isinstance(value, SCALAR_TYPES), (table, value)
                assert value != value or True     # NaN is allowed through


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_translate_never_raises_and_counts_what_it_skips(family,
                                                         warnings_seen):
    module, raw_strategy = FAMILIES[family]

    @SETTINGS
    @given(raw=raw_strategy)
    def prop(raw):
        warnings_seen.messages.clear()
        translated = module.heatplug_translate(raw=raw)
        check_rows(module, translated)
        skipped = list(getattr(translated, "skipped", ()))
        warned = [m for m in warnings_seen.messages
                  if m.startswith("skipped malformed ")]
        assert len(warned) == len(skipped)
        for message, entry in zip(warned, skipped):
            assert message == "skipped malformed " + entry
            assert len(entry) < 1000           # never the huge value itself

    prop()


SECRET_KEY = st.sampled_from(["deploy_password", "db_password", "api_key",
                              "auth_token", "secret", "Signature",
                              "private_key", "client_secret"])


def _with_canary(key, where):
    return {key: CANARY, "plain": "shown", "nested": {key: CANARY},
            "url": "http://h/v1/signal?Signature=%s" % CANARY,
            "list": [{"name": key, "value": CANARY, "default": CANARY}]} \
        if where else {key: CANARY}


@pytest.mark.parametrize("family", ["software_deployments",
                                    "software_configs", "events",
                                    "stack_details", "templates"])
def test_a_credential_never_reaches_a_row(family):
    """A canary under a credential's name, anywhere in a record's values,
    never appears in a row."""
    module, _ = FAMILIES[family]

    def raw_for(key, where, base):
        values = _with_canary(key, where)
        if family == "software_deployments":
            return [dict(base, id="d1", input_values=values,
                         output_values=values)]
        if family == "software_configs":
            return [dict(base, id="c1", options=values, config=values,
                         inputs=[{"name": key, "default": CANARY,
                                  "value": CANARY}])]
        if family == "events":
            return {"events": [dict(base, id="e1", links=[{
                "rel": "stack", "href": "http://h/v1/p/stacks/n/s1"}])],
                "details": {"e1": {"resource_type": "T",
                                   "resource_properties": values,
                                   "secret_properties": []}}}
        if family == "stack_details":
            return [dict(base, id="s1", parameters={key: CANARY},
                         outputs=[{"output_key": key,
                                   "output_value": CANARY}])]
        return [{"stack_id": "s1", "template": {
            "heat_template_version": "2018-08-31",
            "parameters": {key: {"type": "string", "default": CANARY},
                           "h": {"type": "string", "hidden": True,
                                 "default": CANARY}}}}]

    @SETTINGS
    @given(key=SECRET_KEY, where=st.booleans(),
           base=st.dictionaries(st.sampled_from(["name", "status", "group",
                                                 "resource_name"]), TEXT,
                                max_size=2))
    def prop(key, where, base):
        translated = module.heatplug_translate(raw=raw_for(key, where, base))
        text = repr({t: r for t, r in translated.items()})
        assert CANARY not in text

    prop()


# -- the core: any fetch result, no crash -------------------------------------

class FuzzFamily:
    """A built-in family's tables and translate, with a fetch returning
    whatever the test sets."""

    def __init__(self, module):
        self.module = module
        self.raw = None

    @heatplug.hookimpl
    def heatplug_tables(self):
        return self.module.TABLES

    @heatplug.hookimpl
    def heatplug_fetch(self, ctx):
        return self.raw

    @heatplug.hookimpl
    def heatplug_translate(self, raw):
        return self.module.heatplug_translate(raw=raw)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_poll_survives_any_fetch_result(family):
    module, raw_strategy = FAMILIES[family]
    conf = opts.make_conf()
    pm = manager.PluginManager(manager.new_pluggy_manager())
    pm.register(StaticAuth(FakeHeat([])), name="static-auth")
    fuzz = FuzzFamily(module)
    pm.register(fuzz, name=family)
    poller = core.Poller(conf, pm)

    @SETTINGS
    @given(raw=st.one_of(raw_strategy, JSON))
    def prop(raw):
        fuzz.raw = raw
        result = poller.poll()
        assert set(result.tables) == {t.name for t in module.TABLES}
        for name, message in result.errors.items():
            assert name == family
            assert message.startswith("translate %s: " % family), message
        result.to_json()

    prop()
