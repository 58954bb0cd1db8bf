"""heatplug.heat_templates: what carries a secret, within a stack and
climbing out of nested stacks (NestedSecrets)."""

from heatplug import heat_templates as ht

#: A nested template: a hidden parameter that one output shows.
CHILD = {
    "parameters": {"word": {"type": "string", "hidden": True},
                   "label": {"type": "string"}},
    "resources": {"keep": {"type": "OS::Heat::Value",
                           "properties": {"value": {"get_param": "word"}}}},
    "outputs": {"secret": {"value": {"get_attr": ["keep", "value"]}},
                "plain": {"value": {"get_param": "label"}}},
}
#: Its parent: reads both outputs of the child it owns (``inner``).
PARENT = {
    "resources": {
        "inner": {"type": "child.yaml"},
        "user": {"type": "OS::Heat::Value",
                 "properties": {"value": {"get_attr": ["inner", "secret"]}}},
        "bystander": {"type": "OS::Heat::Value",
                      "properties": {"value": {"get_attr": ["inner",
                                                            "plain"]}}},
        "whole": {"type": "OS::Heat::Value",
                  "properties": {"value": {"get_attr": ["inner",
                                                        "outputs"]}}},
        "ref": {"type": "OS::Heat::Value",
                "properties": {"value": {"get_resource": "inner"}}},
    },
    "outputs": {"leak": {"value": {"get_attr": ["user", "value"]}},
                "fine": {"value": {"get_attr": ["bystander", "value"]}},
                "cfn": {"value": {"Fn::GetAtt": "inner.secret"}},
                "computed": {"value": {"get_attr": [
                    "inner", {"get_param": "which"}]}}},
}
#: On top: the parent nested once more, and a group of children.
TOP = {
    "resources": {
        "mid": {"type": "parent.yaml"},
        "many": {"type": "OS::Heat::ResourceGroup", "properties": {
            "count": 2, "resource_def": {"type": "child.yaml",
                                         "properties": {"word": "w"}}}},
    },
    "outputs": {"top_leak": {"value": {"get_attr": ["mid", "leak"]}},
                "top_fine": {"value": {"get_attr": ["mid", "fine"]}},
                "member": {"value": {"get_attr": ["many",
                                                  "resource.0.secret"]}},
                "member_plain": {"value": {"get_attr": [
                    "many", "resource.0.plain"]}},
                "count": {"value": {"get_attr": ["many", "refs"]}}},
}
#: What Heat generates for the group's nested stack.
GROUP = {"resources": {"0": {"type": "child.yaml"},
                       "1": {"type": "child.yaml"}},
         "outputs": {"refs_map": {"value": {"0": {"get_resource": "0"},
                                            "1": {"get_resource": "1"}}},
                     "secret": {"value": [{"get_attr": ["0", "secret"]},
                                          {"get_attr": ["1", "secret"]}]}}}


def tree():
    templates = {"top": TOP, "mid": PARENT, "inner": CHILD, "group": GROUP,
                 "m0": CHILD, "m1": CHILD}
    owners = {"mid": ("top", "mid"), "inner": ("mid", "inner"),
              "group": ("top", "many"), "m0": ("group", "0"),
              "m1": ("group", "1")}
    return ht.NestedSecrets(templates, owners)


def test_outputs_carry_their_own_secrets_and_climb():
    nested = tree()
    assert nested.secret_outputs("inner") == {"secret"}
    # the parent: what reads 'secret' (directly, through 'user', through an
    # aggregating attribute, in CFN's form, or by a computed name); not
    # what reads 'plain' or the owner's reference (the nested stack's id)
    assert nested.seeds("mid") == {"inner": {"secret"}}
    assert nested.secret_outputs("mid") == {"leak", "cfn", "computed"}
    attrs, _ = ht.tainted_resources(PARENT, set(),
                                    seeds=nested.seeds("mid"))
    assert attrs == {"user", "whole"}
    # two levels up, and through a group's generated stack
    assert nested.seeds("group") == {"0": {"secret"}, "1": {"secret"}}
    assert nested.secret_outputs("group") == {"secret"}
    assert nested.seeds("top") == {"mid": {"leak", "cfn", "computed"},
                                   "many": {"secret"}}
    assert nested.secret_outputs("top") == {"top_leak", "member", "count"}


def test_unknown_templates_and_owners_hide_everything_above():
    nested = ht.NestedSecrets({"p": PARENT}, {"inner": ("p", "inner")})
    # the child's template is unknown: every attribute of its owner
    assert nested.secret_outputs("inner") is None
    assert nested.seeds("p") == {"inner": None}
    assert nested.secret_outputs("p") == {"leak", "fine", "cfn", "computed"}
    attrs, _ = ht.tainted_resources(PARENT, set(), seeds={"inner": None})
    assert attrs == {"inner", "user", "bystander", "whole", "ref"}
    # an owner that cannot be named: every resource of the parent
    nested = ht.NestedSecrets({"p": PARENT, "c": CHILD}, {"c": ("p", None)})
    assert nested.seeds("p") is None
    assert nested.secret_outputs("p") == {"leak", "fine", "cfn", "computed"}
    # a stack known to have no outputs hands nothing up
    nested = ht.NestedSecrets({"p": PARENT, "c": {}}, {"c": ("p", "inner")})
    assert nested.seeds("p") == {}
    assert nested.secret_outputs("p") == set()


def test_a_cycle_reads_as_unknown_and_ends():
    nested = ht.NestedSecrets({"a": PARENT, "b": PARENT},
                              {"a": ("b", "inner"), "b": ("a", "inner")})
    # (Heat makes no such thing; the walk must end all the same)
    assert "computed" in nested.seeds("a")["inner"]
    assert nested.hidden_below("a") == {"inner": set()}


def test_hidden_parameters_below_an_owner():
    nested = tree()
    assert nested.hidden_below("mid") == {"inner": {"word"}}
    assert nested.hidden_below("top") == {"mid": {"word"},
                                          "many": {"word"}}
    nested = ht.NestedSecrets({"p": PARENT}, {"inner": ("p", "inner")})
    assert nested.hidden_below("p") == {"inner": None}


def test_an_output_that_is_a_random_string_is_secret():
    template = {
        "resources": {"pw": {"type": "OS::Heat::RandomString"},
                      "name": {"type": "OS::Heat::Value", "properties": {
                          "value": {"list_join": ["-", [
                              "web", {"get_attr": ["pw", "value"]}]]}}}},
        "outputs": {"value": {"value": {"get_attr": ["pw", "value"]}},
                    "ref": {"value": {"get_resource": "pw"}},
                    "joined": {"value": {"list_join": [
                        ":", ["u", {"get_resource": "pw"}]]}},
                    # what another resource builds from one is not followed
                    "name": {"value": {"get_attr": ["name", "value"]}}}}
    assert ht.tainted_outputs(template, set()) == {"value", "ref", "joined"}


def test_attribute_references():
    expr = {"a": [{"get_attr": ["r", "x", "k"]}, {"Fn::GetAtt": "s.y"},
                  {"Fn::GetAtt": ["t", "z"]},
                  {"get_attr": ["u", {"get_param": "p"}]}, {"get_attr": "v"},
                  {"get_resource": "w"}]}
    assert ht.attribute_references(expr) == {
        ("r", "x"), ("s", "y"), ("t", "z"), ("u", None), ("v", None)}


def test_a_computed_parameter_name_may_be_a_secret_one():
    """``get_param`` whose name a function computes resolves to whichever
    parameter the name says: a hidden one too (tester F3)."""
    template = {
        "parameters": {"hid": {"type": "string", "hidden": True},
                       "which": {"type": "string", "default": "hid"},
                       "shown": {"type": "string"}},
        "resources": {
            "chosen": {"type": "OS::Heat::Value", "properties": {
                "value": {"get_param": {"get_param": "which"}}}},
            "joined": {"type": "OS::Heat::Value", "properties": {
                "value": {"get_param": {"list_join": ["", ["h", "id"]]}}}},
            "path": {"type": "OS::Heat::Value", "properties": {
                "value": {"get_param": [{"get_param": "which"}, "k"]}}},
            "plain": {"type": "OS::Heat::Value", "properties": {
                "value": {"get_param": "shown"}}},
        },
        "outputs": {"o": {"value": {"get_attr": ["chosen", "value"]}},
                    "p": {"value": {"get_attr": ["plain", "value"]}}},
    }
    params, _ = ht.references({"get_param": {"get_param": "which"}})
    assert params == {ht.COMPUTED, "which"}
    secret = ht.secret_parameters(template)
    assert ht.tainted_resources(template, secret)[0] == {
        "chosen", "joined", "path"}
    assert ht.tainted_outputs(template, secret) == {"o"}
    # without a secret parameter, a computed name carries none
    assert ht.tainted_resources(template, set())[0] == set()
