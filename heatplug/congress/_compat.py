"""Shims that let ``openstack-congress==11.0.0`` run on Python 3.10+.

Congress 11.0.0 (the last release, 2020) was written for Python <= 3.9.
Call :func:`apply` once *before* importing anything from ``congress``.  It is
idempotent and only adds attributes that are missing, so on an interpreter
that still has them it changes nothing.

Shims (line numbers are in the 11.0.0 wheel):

``collections.<ABC>`` aliases (removed from ``collections`` in Python 3.10)
    Restores the pre-3.10 aliases ``collections.Hashable``,
    ``collections.MutableSet``, ``Mapping``, ``Sequence``, ``Iterable``, ...
    (the ABCs that 3.9's ``collections`` still re-exported, less
    ``ByteString``, deprecated since 3.12 and used by nothing here).
    Proven needed by Congress itself:

    * ``congress/datalog/utility.py:440`` --
      ``class OrderedSet(collections.MutableSet)`` runs at import time, so
      ``congress.datalog.compile`` / ``congress.policy_engines.agnostic``
      fail to import without it.
    * ``congress/datasources/datasource_driver.py:805`` --
      ``DataSourceDriver._extract_value`` does
      ``isinstance(value, collections.Hashable)`` for every VALUE column, so
      every ``convert_objs()`` / ``update_from_datasource()`` fails without
      it (the module still imports; the failure is at translation time).

    The other aliases are not referenced by Congress 11's own code; they are
    restored as the same one-line loop so that older third-party code on
    other Congress paths (other drivers) behaves as on 3.9.

``inspect.getargspec`` (removed in Python 3.11)
    Re-implemented on ``inspect.getfullargspec`` returning the old
    ``ArgSpec(args, varargs, keywords, defaults)`` named tuple.  Used by:

    * ``congress/datasources/datasource_utils.py:120`` -- ``inspect_methods``,
      called by ``ExecutionDriver.add_executable_client_methods`` (most
      OpenStack drivers call it in ``__init__``; ``HeatV1Driver`` does not).
    * ``congress/datasources/datasource_driver.py:1628`` and ``:1630`` --
      ``ExecutionDriver._execute_api`` when the action has
      ``method_structured_args``.
    * (``congress/cfg_validator/parsing.py:217`` -- not on heatplug's paths.)

Things that need no shim but matter when using Congress in-process:

* Importing ``congress.policy_engines.agnostic`` (or ``dse2.dse_node``)
  reads ``cfg.CONF.datasource_sync_period`` at import time, in decorators in
  ``congress/synchronizer/policy_rule_synchronizer.py:159`` and
  ``datasource_synchronizer.py:81``: import ``congress.common.config`` (which
  registers the option) first.  :func:`init_config` does that and also
  parses an empty config (``cfg.CONF([], project='congress')``).
* ``congress/datalog/compile.py:47`` appends
  ``<site-packages>/antlr3runtime/Python3/`` to ``sys.path`` on import (that
  is where Congress's bundled ``antlr3`` lives).
"""

import collections
import collections.abc
import inspect

# The ABCs ``collections`` still re-exported in Python 3.9 (less ByteString).
_COLLECTIONS_ABC_ALIASES = (
    'Awaitable', 'Coroutine', 'AsyncIterable', 'AsyncIterator',
    'AsyncGenerator', 'Hashable', 'Iterable', 'Iterator', 'Generator',
    'Reversible', 'Sized', 'Container', 'Callable', 'Collection', 'Set',
    'MutableSet', 'Mapping', 'MutableMapping', 'MappingView', 'KeysView',
    'ItemsView', 'ValuesView', 'Sequence', 'MutableSequence',
)

ArgSpec = collections.namedtuple(
    'ArgSpec', ['args', 'varargs', 'keywords', 'defaults'])


def _getargspec(func):
    """Python <= 3.10 ``inspect.getargspec`` on top of ``getfullargspec``.

    Like the original it raises ValueError for functions with keyword-only
    parameters (annotations, which the original also refused, are ignored).
    """
    spec = inspect.getfullargspec(func)
    if spec.kwonlyargs:
        raise ValueError("Function has keyword-only parameters or annotations"
                         ", use inspect.signature() API which can support "
                         "them")
    return ArgSpec(spec.args, spec.varargs, spec.varkw, spec.defaults)


def apply():
    """Install the shims listed in the module docstring (idempotent).

    Returns the list of names that this call added (empty when everything
    was already present, e.g. on a second call or on Python <= 3.9).
    """
    added = []
    for name in _COLLECTIONS_ABC_ALIASES:
        if not hasattr(collections, name) and hasattr(collections.abc, name):
            setattr(collections, name, getattr(collections.abc, name))
            added.append('collections.' + name)
    if not hasattr(inspect, 'getargspec'):
        inspect.getargspec = _getargspec
        added.append('inspect.getargspec')
    return added


def init_config(args=None):
    """Register Congress's options and parse a (by default empty) config.

    Needed before importing ``congress.policy_engines.agnostic``, which reads
    ``cfg.CONF.datasource_sync_period`` at import time.  Parses only once:
    later calls leave an already parsed ``cfg.CONF`` alone.
    """
    apply()
    from oslo_config import cfg

    import congress.common.config  # noqa: F401  (registers the options)

    try:
        cfg.CONF.config_file  # raises NoSuchOptError until parsed
    except cfg.NoSuchOptError:
        cfg.CONF(args or [], project='congress')
    return cfg.CONF
