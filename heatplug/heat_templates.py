"""Reading Heat templates (HOT and CFN) for what depends on a secret.

Heat masks a hidden parameter in a stack's detail, but not in the outputs,
resource attributes or event properties computed from it.  Families that
publish those (``stack_details``, ``resources``, ``events``) ask this module
which outputs and resources depend on a hidden, NoEcho or secret-named
parameter, directly or through other resources, and redact them.

A secret also climbs out of a nested stack: the nested stack's outputs are
attributes of the resource that owns it in its parent (a template resource
has one attribute per output, ``OS::Heat::Stack`` and the groups have
``outputs``, ``refs`` ...), and whatever the parent builds from those.
:class:`NestedSecrets` follows that, from the leaves up.
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


#: Stands, among the parameters an expression names, for one whose name
#: is computed (``get_param: {get_param: which}``, ``get_param:
#: {list_join: ...}``): it may be any parameter, a secret one too
#: (:func:`depends`).
COMPUTED = "\0computed"


def references(expr):
    """``(parameters, resources)`` an unresolved template expression names
    (a CFN ``Ref`` name lands in both); :data:`COMPUTED` among the
    parameters for a name computed by a function."""
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
                    elif key not in _RESOURCE_FUNCS and \
                            isinstance(name, (dict, list)):
                        params.add(COMPUTED)
                todo.append(arg)
        elif isinstance(node, (list, tuple)):
            todo.extend(node)
    return params, resources


#: Attributes of a resource owning a nested stack that hold every output
#: (``OS::Heat::Stack``'s ``outputs``, a group's ``refs``, ``attributes``
#: ...), besides those named as an output; ``resource.<n>[.<attr>]`` picks
#: a group member's.
AGGREGATE_ATTRIBUTES = frozenset(("outputs", "outputs_list", "refs",
                                  "refs_map", "attributes", "show"))


def attribute_references(expr):
    """``{(resource, attribute)}``: the resource attributes an unresolved
    expression reads (``get_attr``, ``Fn::GetAtt``); the attribute is None
    when it is not a plain string (computed)."""
    found = set()
    todo = [expr]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            for key, arg in node.items():
                if key in ("get_attr", "Fn::GetAtt"):
                    if isinstance(arg, str):            # "Res.attr"
                        arg = arg.split(".", 1)
                    if isinstance(arg, (list, tuple)) and arg and \
                            isinstance(arg[0], str):
                        attr = arg[1] if len(arg) > 1 else None
                        found.add((arg[0], attr if isinstance(attr, str)
                                   else None))
                todo.append(arg)
        elif isinstance(node, (list, tuple)):
            todo.extend(node)
    return found


def depends(params, secret):
    """True when parameters an expression names (:func:`references`)
    include one in ``secret``: a computed name may be any of them."""
    return bool(secret) and (COMPUTED in params or not params.isdisjoint(
        secret))


def reads_secret(expr, partial):
    """True when ``expr`` reads an attribute that carries a nested stack's
    secret: ``partial`` is ``{owner: names of its secret outputs}``
    (:meth:`NestedSecrets.seeds`)."""
    if not partial:
        return False
    return any(res in partial and carries(attr, partial[res])
               for res, attr in attribute_references(expr))


def carries(attr, outputs):
    """True when the attribute ``attr`` (None: computed) of a resource
    owning a nested stack holds one of the nested stack's ``outputs``."""
    if attr is None or attr in AGGREGATE_ATTRIBUTES:
        return True
    if attr.startswith("resource."):
        parts = attr.split(".", 2)
        return len(parts) < 3 or parts[2] in outputs or \
            parts[2] in AGGREGATE_ATTRIBUTES
    return attr in outputs


def split_seeds(seeds, resources=()):
    """``(whole, partial)`` of a ``seeds`` argument: names whose every
    attribute carries a secret, and ``{name: secret attribute names}``.
    None stands for every one of ``resources``."""
    if seeds is None:
        return set(resources), {}
    if isinstance(seeds, dict):
        return ({n for n, v in seeds.items() if v is None},
                {n: v for n, v in seeds.items() if v is not None})
    return set(seeds), {}


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


def hidden_in_trees(templates, roots):
    """``templates`` (``{stack_id: template or its sections}``) with every
    parameter hidden whose name some template of the same tree (``roots``:
    ``{stack_id: root stack id}``) hides.

    Heat hands the environment's ``parameter_defaults`` to every stack of a
    tree by name: a root (or a nested template) hiding ``dbpass`` and a
    nested template declaring it plain both get the value, and Heat even
    rewrites the nested template's ``default`` to it.  So a name hidden
    anywhere in a tree is hidden in all of it.  Templates that need no
    change are returned as they are (no copy)."""
    names = {}
    for sid, template in templates.items():
        if isinstance(template, dict):
            try:
                hidden = hidden_parameters(template)
            except (TypeError, ValueError, AttributeError):
                continue
            if hidden:
                names.setdefault(roots.get(sid, sid), set()).update(hidden)
    if not names:
        return templates
    out = dict(templates)
    for sid, template in templates.items():
        tree = names.get(roots.get(sid, sid))
        if not tree or not isinstance(template, dict):
            continue
        for key, flag, true in (("parameters", "hidden", True),
                                ("Parameters", "NoEcho", "true")):
            params = template.get(key)
            if not isinstance(params, dict):
                continue
            marked = {n: dict(schema, **{flag: true})
                      for n, schema in params.items() if n in tree and
                      isinstance(schema, dict) and not is_hidden(schema)}
            if marked:
                out[sid] = dict(template, **{key: dict(params, **marked)})
            break
    return out


def secret_parameters(template, strict=False):
    """Names of the template's hidden, NoEcho or secret-named parameters."""
    params = section(template, "parameters", "Parameters", strict=strict)
    return hidden_parameters(template, strict) | {
        n for n in params if redact.is_secret_key(n)}


def tainted_resources(template, secret, strict=False, seeds=()):
    """``(attributes, metadata)``: names of the resources whose definition
    depends on a parameter in ``secret``, directly or through other
    resources (transitively), and of those whose metadata section does.

    :param seeds: resources whose attributes carry a secret whatever their
        definition says: names (every attribute), or ``{name: None (every
        attribute) or the names of the attributes that do}``
        (:meth:`NestedSecrets.seeds`); None: every resource, whole.  A
        resource reading such an attribute is tainted; a partial seed
        itself is not.
    """
    if not secret and seeds is not None and not seeds and not strict:
        return set(), set()         # nothing to depend on (the usual case)
    partial = split_seeds(seeds)[1]
    refs, meta_refs, reads = {}, {}, set()
    for name, definition in section(template, "resources", "Resources",
                                    strict=strict).items():
        if isinstance(definition, dict):
            meta = {k: v for k, v in definition.items() if k in _METADATA}
            meta_refs[name] = references(meta) + (reads_secret(meta,
                                                               partial),)
            definition = {k: v for k, v in definition.items()
                          if k not in _DEPENDS}
        if reads_secret(definition, partial):
            reads.add(name)
        refs[name] = references(definition)
    whole = split_seeds(seeds, refs)[0]
    attrs = (whole & set(refs)) | reads
    changed = bool(secret or attrs)
    while changed:
        changed = False
        for name, (p, r) in refs.items():
            if name not in attrs and (depends(p, secret) or r & attrs):
                attrs.add(name)
                changed = True
    meta = {name for name, (p, r, read) in meta_refs.items()
            if depends(p, secret) or r & attrs or read}
    return attrs, meta


#: Resource types whose value is a generated secret: a RandomString is how
#: templates make passwords (its reference and its ``value`` are the string).
GENERATED_SECRET_TYPES = frozenset(("OS::Heat::RandomString",))


def resource_type(definition):
    """A resource definition's type (HOT ``type`` or CFN ``Type``)."""
    if not isinstance(definition, dict):
        return None
    return definition.get("type", definition.get("Type"))


#: Resource types that make a stack of their own, a root stack rather than a
#: nested one (Heat's RemoteStack, possibly in another region or cloud): its
#: id is the resource's physical id, its name Heat's physical name of the
#: resource (``<stack>-<resource>-<12 characters>``), and its outputs are
#: the resource's ``outputs`` attribute.  A stack not listed counts as
#: unknown: every attribute of the resource carries a secret.
REMOTE_STACK_TYPES = frozenset(("OS::Heat::Stack",))


#: Properties that hold a whole template, as text or a map, by resource
#: type.  Like any template, it may carry literal secrets (a hidden
#: parameter's default, a password in a resource's properties), and
#: heatplug publishes no template's values (the ``templates`` family
#: publishes declarations only): such a property is redacted whole.
TEMPLATE_PROPERTIES = {"OS::Heat::Stack": frozenset(("template",))}


def remote_stacks(template):
    """Names of the template's resources of a :data:`REMOTE_STACK_TYPES`
    type (a type the stack's environment maps to one is not followed)."""
    return {name for name, definition in section(
        template, "resources", "Resources").items()
        if resource_type(definition) in REMOTE_STACK_TYPES}


def generated_secrets(template, strict=False):
    """Names of the template's resources of a
    :data:`GENERATED_SECRET_TYPES` type."""
    return {name for name, definition in section(
        template, "resources", "Resources", strict=strict).items()
        if resource_type(definition) in GENERATED_SECRET_TYPES}


def tainted_outputs(template, secret, strict=False, seeds=()):
    """Names of the outputs whose value depends on a parameter in
    ``secret``, on a resource that does, on a resource in ``seeds`` (see
    :func:`tainted_resources`), or on a generated secret itself (an output
    that is a RandomString's value; what another resource builds from one
    is not followed)."""
    attrs, _ = tainted_resources(template, secret, strict=strict,
                                 seeds=seeds)
    attrs |= generated_secrets(template, strict=strict)
    partial = split_seeds(seeds)[1]
    result = set()
    for name, definition in section(template, "outputs", "Outputs",
                                    strict=strict).items():
        params, resources = references(definition)
        if depends(params, secret) or resources & attrs or \
                reads_secret(definition, partial):
            result.add(name)
    return result


class NestedSecrets:
    """What the secrets of nested stacks make secret in the stacks above.

    A nested stack's outputs are attributes of the resource that owns it in
    its parent.  An output that depends on one of the nested stack's
    secrets (:func:`tainted_outputs`: a hidden, NoEcho or secret-named
    parameter of its own, a RandomString's value, or an owner of a stack
    below with such an output) makes its owner a *seed* of the parent: the
    owner's attributes, and whatever in the parent depends on them, carry
    the secret (:func:`tainted_resources` ``seeds``).

    :param templates: ``{stack_id: template}``: a template, or its
        parameters, resources and outputs sections (``{}`` for a stack
        known to have no outputs); a stack missing from it, or mapped to
        None, is unknown, and every output of an unknown stack counts as
        secret.
    :param owners: ``{nested stack id: (parent id, name of the parent's
        resource that owns it, or None when it cannot be told)}``.
    """

    def __init__(self, templates, owners):
        self.templates = templates
        self.children = {}
        for child, (parent, name) in owners.items():
            self.children.setdefault(parent, []).append((name, child))
        self._outputs = {}
        self._seeds = {}
        self._hidden = {}

    def _template(self, sid):
        template = self.templates.get(sid)
        return template if isinstance(template, dict) else None

    def secret_outputs(self, sid):
        """Names of ``sid``'s outputs that carry a secret; None when that
        cannot be told (its template is unknown or malformed)."""
        if sid not in self._outputs:
            self._outputs[sid] = None       # a cycle reads as unknown
            template, result = self._template(sid), None
            if template is not None:
                try:
                    result = tainted_outputs(
                        template, secret_parameters(template, strict=True),
                        strict=True, seeds=self.seeds(sid))
                except (ValueError, TypeError, AttributeError):
                    result = None
            self._outputs[sid] = result
        return self._outputs[sid]

    def seeds(self, sid):
        """``{resource: outputs}``: the resources of ``sid`` that own a
        nested stack with outputs that carry a secret, and the names of
        those outputs (their attributes of the same names, and those of
        :data:`AGGREGATE_ATTRIBUTES`, carry it), or None when the nested
        stack's outputs are unknown.  None when such a nested stack's
        owner cannot be named."""
        if sid in self._seeds:
            return self._seeds[sid]
        seeds = {}
        for name, child in self.children.get(sid, ()):
            outputs = self.secret_outputs(child)
            if outputs is None or outputs:
                if name is None:
                    seeds = None
                    break
                if name in seeds:       # a name that owns two stacks
                    outputs = None if outputs is None or seeds[name] is None \
                        else outputs | seeds[name]
                seeds[name] = None if outputs is None else set(outputs)
        self._seeds[sid] = seeds
        return seeds

    def hidden_below(self, sid):
        """``{resource: names}``: for each resource of ``sid`` that owns a
        nested stack, the hidden or NoEcho parameters of that stack and of
        every stack below it (a property handing a value to one of them
        hands on a secret); None for a resource when a template below it is
        unknown.  Keyed by None when an owner cannot be named."""
        if sid not in self._hidden:
            self._hidden[sid] = {}          # a cycle reads as nothing more
            result = {}
            for name, child in self.children.get(sid, ()):
                template = self._template(child)
                names = set()
                try:
                    names = None if template is None else \
                        hidden_parameters(template, strict=True)
                except (ValueError, TypeError, AttributeError):
                    names = None
                for below in self.hidden_below(child).values():
                    names = None if names is None or below is None \
                        else names | below
                if name in result:
                    names = None if names is None or result[name] is None \
                        else names | result[name]
                result[name] = names
            self._hidden[sid] = result
        return self._hidden[sid]
