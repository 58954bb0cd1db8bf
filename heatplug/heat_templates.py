"""Reading Heat templates (HOT and CFN) for what depends on a secret.

Heat masks a hidden parameter in a stack's detail, but not in the outputs
or resource attributes computed from it.  Families that publish those
(``stack_details``, ``resources``) ask this module which outputs and
resources depend on a hidden, NoEcho or secret-named parameter, directly or
through other resources, and redact them.
"""

from heatplug import redact

_PARAM_FUNCS = ("get_param",)
_RESOURCE_FUNCS = ("get_attr", "get_resource", "Fn::GetAtt")
_EITHER_FUNCS = ("Ref",)     # CFN: a parameter or a resource
_FUNCS = _PARAM_FUNCS + _RESOURCE_FUNCS + _EITHER_FUNCS
_DEPENDS = ("depends_on", "DependsOn")
_METADATA = ("metadata", "Metadata")


def _first(func, arg):
    if isinstance(arg, (list, tuple)):
        return arg[0] if arg else None
    if func == "Fn::GetAtt" and isinstance(arg, str):    # "Res.attr"
        return arg.split(".", 1)[0]
    return arg


def references(expr):
    """``(parameters, resources)`` an unresolved template expression names
    (a CFN ``Ref`` name lands in both)."""
    params, resources = set(), set()
    todo = [expr]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            for key, arg in node.items():
                if key in _FUNCS:
                    name = _first(key, arg)
                    if isinstance(name, str):
                        if key not in _RESOURCE_FUNCS:
                            params.add(name)
                        if key not in _PARAM_FUNCS:
                            resources.add(name)
                todo.append(arg)
        elif isinstance(node, (list, tuple)):
            todo.extend(node)
    return params, resources


def section(template, *keys, strict=False):
    """The first of ``keys`` (``"parameters", "Parameters"``) in ``template``.

    :param strict: raise ``ValueError`` when the section is neither a map
        nor empty (otherwise such a section reads as empty).
    """
    for key in keys:
        if key in template:
            value = template[key]
            if isinstance(value, dict):
                return value
            if strict and value:
                raise ValueError("template section %s is a %s, not a map"
                                 % (key, type(value).__name__))
            return {}
    return {}


def is_hidden(schema):
    """True when a parameter schema says ``hidden`` (HOT) or ``NoEcho``."""
    if not isinstance(schema, dict):
        return False
    for key in ("hidden", "NoEcho"):
        if key in schema:
            val = schema[key]
            if isinstance(val, bool):
                return val
            # Heat parses strings; anything but a clear "false" is hidden.
            return str(val).strip().lower() not in ("false", "no", "0",
                                                    "off", "")
    return False


def hidden_parameters(template, strict=False):
    """Names of the template's hidden (HOT) or NoEcho (CFN) parameters."""
    params = section(template, "parameters", "Parameters", strict=strict)
    return {n for n, schema in params.items() if is_hidden(schema)}


def secret_parameters(template, strict=False):
    """Names of the template's hidden, NoEcho or secret-named parameters."""
    params = section(template, "parameters", "Parameters", strict=strict)
    return hidden_parameters(template, strict) | {
        n for n in params if redact.is_secret_key(n)}


def tainted_resources(template, secret, strict=False):
    """``(attributes, metadata)``: names of the resources whose definition
    depends on a parameter in ``secret``, directly or through other
    resources (transitively), and of those whose metadata section does."""
    if not secret and not strict:
        return set(), set()         # nothing to depend on (the usual case)
    refs, meta_refs = {}, {}
    for name, definition in section(template, "resources", "Resources",
                                    strict=strict).items():
        if isinstance(definition, dict):
            meta_refs[name] = references(
                {k: v for k, v in definition.items() if k in _METADATA})
            definition = {k: v for k, v in definition.items()
                          if k not in _DEPENDS}
        refs[name] = references(definition)
    attrs = set()
    changed = bool(secret)
    while changed:
        changed = False
        for name, (p, r) in refs.items():
            if name not in attrs and (p & secret or r & attrs):
                attrs.add(name)
                changed = True
    meta = {name for name, (p, r) in meta_refs.items()
            if p & secret or r & attrs}
    return attrs, meta


def tainted_outputs(template, secret, strict=False):
    """Names of the outputs whose value depends on a parameter in
    ``secret`` or on a resource that does."""
    attrs, _ = tainted_resources(template, secret, strict=strict)
    result = set()
    for name, definition in section(template, "outputs", "Outputs",
                                    strict=strict).items():
        params, resources = references(definition)
        if params & secret or resources & attrs:
            result.add(name)
    return result
