"""The default auth stage: a keystoneauth1 session and a Heat client.

Two sources, in this order:

1. the ``[heat]`` group of heatplug's configuration, when ``auth_type`` is
   set there (any keystoneauth plugin: ``password``,
   ``v3applicationcredential``, ``token``, ``admin_token`` or ``none`` with
   ``endpoint`` for a noauth Heat, ...), loaded through
   :mod:`keystoneauth1.loading` as every OpenStack service does;
2. otherwise ``clouds.yaml`` (``[heat] cloud`` or ``OS_CLOUD``) and the
   ``OS_*`` environment variables, exactly as the ``openstack`` command line
   reads them (``OS_AUTH_TYPE=none OS_ENDPOINT=http://.../v1/admin`` reads a
   noauth Heat).
"""

import dataclasses
import logging

from heatclient import client as heat_client
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading

from heatplug import errors
from heatplug import hooks
from heatplug import opts
from heatplug import stats

LOG = logging.getLogger(__name__)

SERVICE_TYPE = "orchestration"
DEFAULT_TIMEOUT = 60.0
# Heat reads are idempotent GETs: retry refused connections and the 5xx a
# restarting or overloaded Heat answers, with keystoneauth's exponential
# backoff, unless [heat] sets these adapter options itself.
DEFAULT_RETRIES = {"connect_retries": 3, "connect_retry_delay": 0.5,
                   "status_code_retries": 3, "status_code_retry_delay": 0.5,
                   "retriable_status_codes": [500, 502, 503, 504]}


@dataclasses.dataclass
class Connection:
    """What the auth stage hands to every later stage.

    :param session: the :class:`keystoneauth1.session.Session` (token
        renewal and re-authentication on 401 are keystoneauth's).
    :param heat: a python-heatclient v1 client on that session.
    :param counters: the :class:`heatplug.stats.Counters` of its HTTP layer.
    """

    session: object
    heat: object
    counters: stats.Counters


def _from_conf(conf):
    group = opts.HEAT_GROUP
    auth = ks_loading.load_auth_from_conf_options(conf, group)
    sess = ks_loading.load_session_from_conf_options(
        conf, group, auth=auth,
        timeout=conf.heat.timeout or DEFAULT_TIMEOUT)
    interfaces = conf.heat.valid_interfaces or ["public"]
    return sess, dict(endpoint_override=conf.heat.endpoint_override,
                      region_name=conf.heat.region_name,
                      interface=interfaces[0])


def _from_clouds(conf):
    # Imported here: openstacksdk's config loader is only needed on this path.
    from openstack import config as os_config
    try:
        region = os_config.OpenStackConfig().get_one(cloud=conf.heat.cloud)
    except Exception as exc:
        raise errors.AuthError(
            "no Heat credentials: set [heat] auth_type in the configuration "
            "file, or OS_CLOUD / --os-cloud, or the OS_* environment "
            "variables (%s)" % exc) from exc
    if not region.config.get("auth_type"):
        raise errors.AuthError(
            "no Heat credentials: set [heat] auth_type in the configuration "
            "file, or OS_CLOUD / --os-cloud, or the OS_* environment "
            "variables")
    sess = region.get_session()
    if sess.timeout is None:
        sess.timeout = conf.heat.timeout or DEFAULT_TIMEOUT
    return sess, dict(
        endpoint_override=(conf.heat.endpoint_override
                           or region.get_endpoint(SERVICE_TYPE)),
        region_name=region.get_region_name(SERVICE_TYPE),
        interface=region.get_interface(SERVICE_TYPE) or "public")


def connect(conf):
    """Build a :class:`Connection` from ``conf`` (see the module docs)."""
    try:
        if conf.heat.auth_type:
            sess, where = _from_conf(conf)
        else:
            sess, where = _from_clouds(conf)
    except errors.AuthError:
        raise
    except (ks_exc.ClientException, ValueError) as exc:
        # keystoneauth's option errors (MissingRequiredOptions, ...) are
        # ClientExceptions too.
        raise errors.AuthError("cannot load Heat credentials: %s" % exc) \
            from exc
    counters = stats.Counters()
    stats.install(sess.session, counters,
                  pool_size=max(10, conf.heatplug.max_workers + 2))
    retries = {key: default if conf.heat[key] is None else conf.heat[key]
               for key, default in DEFAULT_RETRIES.items()}
    heat = heat_client.Client(
        "1", session=sess, service_type=SERVICE_TYPE,
        user_agent="heatplug", **retries,
        **{k: v for k, v in where.items() if v})
    LOG.debug("Heat client ready (region %s, interface %s, endpoint %s)",
              where.get("region_name"), where.get("interface"),
              where.get("endpoint_override") or "from the catalog")
    return Connection(session=sess, heat=heat, counters=counters)


@hooks.hookimpl(trylast=True)
def heatplug_auth(conf):
    """Default auth: keystoneauth1 from ``[heat]`` or clouds.yaml/``OS_*``."""
    return connect(conf)
