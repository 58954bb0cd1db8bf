"""The real local Heat for the Congress tests, and Congress stand-ins.

Re-exports the session fixtures of :mod:`tests.functional.conftest`
(``local_heat``, ``heat``, ``population``), so the Congress driver is tested
against the same real Heat and test population as the functional tests.
"""

import contextlib

from stevedore import named

from tests.functional.conftest import (  # noqa: F401
    heat, local_heat, population)


class FakeNode:
    """The DseNode methods a driver's poll() and get_status() call.

    ``poll()`` publishes every changed table with
    ``publish_table_sequenced`` (recorded here); ``get_status()`` asks for
    the subscriptions and subscribers.  No message bus.
    """

    node_id = "fake-node"

    def __init__(self):
        self.published = []

    def publish_table_sequenced(self, publisher, table, data, is_snapshot,
                                seqnum):
        self.published.append((publisher, table, data, is_snapshot, seqnum))

    def get_subscription(self, service_id):
        return {}

    def get_subscribers(self, service_id):
        return []


def bare_node(dse_node):
    """A ``congress.dse2.dse_node.DseNode`` without bus or database.

    Enough for its driver CRUD methods (``validate_create_datasource``,
    ``create_datasource_service``), which use only the class's
    ``loaded_drivers``.
    """
    class BareNode(dse_node.DseNode):
        def __init__(self):
            pass

        def __del__(self):
            pass

    return BareNode()


@contextlib.contextmanager
def heatplug_node(dse_node):
    """A :func:`bare_node` whose only driver is heatplug's, found the way
    Congress finds drivers (stevedore, the ``congress.datasource.drivers``
    entry point); ``DseNode.loaded_drivers`` is put back on exit."""
    mgr = named.NamedExtensionManager("congress.datasource.drivers",
                                      names=["heatplug"])
    saved = dse_node.DseNode.loaded_drivers
    dse_node.DseNode.loaded_drivers = {"heatplug": mgr["heatplug"]}
    try:
        yield bare_node(dse_node)
    finally:
        dse_node.DseNode.loaded_drivers = saved
