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
from heatclient import exc as heat_exc
# heatclient.client.Client("1", ...) imports its v1 package on first use
# (heatclient.v1 -> oslo_utils.strutils compiles its regular expressions):
# a few hundred milliseconds of CPU that would otherwise land in the first
# poll's measured CPU.  Importing it here makes it part of loading heatplug.
from heatclient.v1 import client as _heat_v1_client  # noqa: F401
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import identity as ks_identity
from keystoneauth1 import loading as ks_loading

from heatplug import errors
from heatplug import hooks
from heatplug import log
from heatplug import opts
from heatplug import redact
from heatplug import stats
from heatplug import transport

LOG = logging.getLogger(__name__)

SERVICE_TYPE = "orchestration"
DEFAULT_TIMEOUT = 60.0
# Heat reads are idempotent GETs: retry refused connections, timeouts and
# the 5xx a restarting or overloaded Heat answers, 3 times, unless [heat]
# sets these adapter options itself.  The delays are left unset: keystoneauth
# then backs off exponentially (0.5 s, 1 s, 2 s, ... at most 60 s); a delay
# that is set is a *fixed* delay in keystoneauth.
DEFAULT_RETRIES = {"connect_retries": 3, "connect_retry_delay": None,
                   "status_code_retries": 3, "status_code_retry_delay": None,
                   "retriable_status_codes": [500, 502, 503, 504]}
#: keystoneauth sleeps for a retriable answer's Retry-After seconds, however
#: many; heatplug caps them so a confused proxy cannot stall a poll.
MAX_RETRY_AFTER = 10

# [heat] options whose values are credentials but whose names do not say so.
_SECRET_OPTIONS = ("passcode", "totp")


class BadResponse(ValueError):
    """Heat answered a call with something that is not its JSON."""


def _annotate(exc, call):
    """Make ``exc`` (raised by ``call``) name the call, once; and keep
    secrets out of its message."""
    if getattr(exc, "heatplug_call", None):
        return
    try:
        exc.heatplug_call = call
    except AttributeError:
        return
    if isinstance(exc, heat_exc.HTTPException):
        error = exc.error.get("error") if isinstance(exc.error, dict) \
            else None
        if isinstance(error, dict):
            error["message"] = log.scrub("%s: %s" % (
                call, error.get("message") or type(exc).__doc__))
            error.pop("traceback", None)
        return
    if exc.args and isinstance(exc.args[0], str):
        message = log.scrub("%s: %s" % (call, exc.args[0]))
        exc.args = (message,) + exc.args[1:]
        if isinstance(getattr(exc, "message", None), str):
            exc.message = message


def _checked(resp, call):
    """``resp``, after checking that a 2xx answer with a body is JSON.

    heatclient reads a body that does not parse as ``None`` or as bytes and
    then fails far from the call (``TypeError: 'NoneType' object is not
    subscriptable``); here it fails at once, naming the call.  The parsed
    body stays with the response for heatclient's own ``resp.json()``
    (:func:`heatplug.transport.parse_json_once`).
    """
    if not 200 <= resp.status_code < 300 or not resp.content:
        return resp
    ctype = resp.headers.get("Content-Type", "")
    if "json" not in ctype:
        raise BadResponse("%s: Heat answered HTTP %d with %d bytes of %s, "
                          "not JSON" % (call, resp.status_code,
                                        len(resp.content), ctype or
                                        "no Content-Type"))
    try:
        resp.json()
    except ValueError as exc:
        raise BadResponse("%s: Heat's answer (HTTP %d, %d bytes) is not "
                          "valid JSON: %s" % (call, resp.status_code,
                                              len(resp.content), exc)) \
            from None
    return resp


def name_calls(http_client, counters):
    """Wrap a heatclient ``SessionClient`` so that every error names the
    Heat call (``GET /stacks?show_nested=True: ...``) and a 2xx answer that
    is not JSON is an error (:class:`BadResponse`) at the call; each call
    is in ``counters``' (:class:`heatplug.stats.Counters`) ``in_flight``
    while it runs (a stalled poll names what it waits for)."""
    request = http_client.request

    def named_request(url, method, **kwargs):
        call = "%s %s" % (method, url)
        try:
            with counters.calling(call):
                resp = request(url, method, **kwargs)
        except Exception as exc:
            _annotate(exc, call)
            raise
        return _checked(resp, call)

    http_client.request = named_request
    return http_client


def _cap_retry_after(resp, *args, **kwargs):
    """A requests response hook: at most :data:`MAX_RETRY_AFTER` seconds
    of ``Retry-After`` (an HTTP date is dropped: keystoneauth would fall
    back to its own backoff for it anyway)."""
    value = resp.headers.get("Retry-After")
    if value is None:
        return resp
    try:
        seconds = int(value)
    except ValueError:
        del resp.headers["Retry-After"]
        return resp
    if not 0 <= seconds <= MAX_RETRY_AFTER:
        resp.headers["Retry-After"] = str(MAX_RETRY_AFTER)
    return resp


def _register_secrets(values):
    """Tell :mod:`heatplug.log` never to log the credentials in ``values``
    (``{option name: value}``)."""
    for key, value in values.items():
        if isinstance(value, str) and (redact.is_secret_key(key)
                                       or key in _SECRET_OPTIONS):
            log.add_secret(value)


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
    values = {}
    for name in conf[group]:
        try:
            values[name] = conf[group][name]
        except Exception:  # an option that cannot be read is no secret
            continue
    _register_secrets(values)
    # split_loggers: response bodies go to keystoneauth.session.body, which
    # heatplug.log quiets (bodies carry secrets no pattern can find).
    sess = ks_loading.load_session_from_conf_options(
        conf, group, auth=auth, split_loggers=True,
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
    _register_secrets(region.config.get("auth") or {})
    sess = region.get_session()
    if sess.timeout is None:
        sess.timeout = conf.heat.timeout or DEFAULT_TIMEOUT
    return sess, dict(
        endpoint_override=(conf.heat.endpoint_override
                           or region.get_endpoint(SERVICE_TYPE)),
        region_name=region.get_region_name(SERVICE_TYPE),
        interface=region.get_interface(SERVICE_TYPE) or "public")


def retry_refused_in_parallel(sess):
    """Make keystoneauth retry every request refused with a 401, not only
    the first of a burst.

    keystoneauth retries a 401 once, after ``Session.invalidate()``, and
    only when that returns True.  When parallel requests are refused
    together (a revoked token; the families run in parallel), the first one
    invalidates the token and re-authenticates, and every other one finds
    nothing left to invalidate and gives up: its family's poll is lost.  For
    an identity plugin, nothing left to invalidate means another thread's
    re-authentication is under way, so the retry is worth it: it waits for
    the new token (``get_access`` holds the plugin's lock).  Plugins that
    cannot re-authenticate (``admin_token``, ``none``) are not retried.
    """
    original = sess.invalidate

    def invalidate(auth=None):
        if original(auth):
            return True
        return isinstance(auth or sess.auth, ks_identity.BaseIdentityPlugin)

    sess.invalidate = invalidate
    return sess


#: Endpoints remembered per session, at most (one per endpoint filter).
_ENDPOINT_MEMO_SIZE = 16


def memoize_endpoint(sess):
    """Make ``sess`` (a keystoneauth session) look a service's endpoint up
    in the token's catalog once per token, not at every request.

    Without ``endpoint_override``, keystoneauth finds the endpoint of every
    request in the service catalog of the current token
    (``get_endpoint_data``: ``normalize_catalog`` deep-copies the whole
    catalog, then filters it and checks the version data), about 0.2 ms of
    CPU per request on a three-service catalog and more on a real cloud's.
    For an identity plugin the answer depends only on the endpoint filter
    and the token (its catalog and project; version discovery is cached by
    the plugin): it is kept per (plugin, filter) together with the plugin's
    ``auth_ref`` (the token) it was found with, and looked up again as soon
    as that changes (token renewed, re-authentication after a 401,
    ``invalidate``).  A
    request still renews an expiring token first (``get_auth_headers``
    comes before the endpoint in ``Session.request``).  Other plugins
    (``none``, ``admin_token``) and explicit endpoint overrides go to
    keystoneauth as before; so does a lookup that found nothing.
    """
    original = sess.get_endpoint
    memo = {}

    def get_endpoint(auth=None, **kwargs):
        plugin = auth or sess.auth
        if (kwargs.get("endpoint_override")
                or not isinstance(plugin, ks_identity.BaseIdentityPlugin)):
            return original(auth, **kwargs)
        access = plugin.auth_ref
        key = (id(plugin), repr(sorted(kwargs.items())))
        found = memo.get(key)
        if (found is not None and access is not None
                and found[0] is plugin and found[1] is access):
            return found[2]
        endpoint = original(auth, **kwargs)
        # Kept only when the token was the same before and after the lookup
        # (not when the lookup itself, or another thread meanwhile, fetched
        # a new one: the next request keeps it).
        if endpoint and access is not None and plugin.auth_ref is access:
            if len(memo) >= _ENDPOINT_MEMO_SIZE:
                memo.clear()
            memo[key] = (plugin, access, endpoint)
        return endpoint

    sess.get_endpoint = get_endpoint
    return sess


def connect(conf):
    """Build a :class:`Connection` from ``conf`` (see the module docs).

    Reliability and secrecy (docs/reliability.md): bounded retries with
    exponential backoff (:data:`DEFAULT_RETRIES`), ``Retry-After`` capped
    (:data:`MAX_RETRY_AFTER`), a timeout on every request, every error
    naming its Heat call (:func:`name_calls`), TLS verified unless
    ``[heat] insecure`` says otherwise, credentials and HTTP bodies kept
    out of the logs (:mod:`heatplug.log`).
    """
    log.quiet_http_bodies()
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
        raise errors.AuthError("cannot load Heat credentials: %s"
                               % log.scrub(exc)) from exc
    if sess.verify is False:
        LOG.warning("TLS certificates of Heat and Keystone are NOT verified "
                    "([heat] insecure = true, or verify: false in "
                    "clouds.yaml)")
    retry_refused_in_parallel(sess)
    memoize_endpoint(sess)
    counters = stats.Counters()
    stats.install(sess.session, counters,
                  # the worker pool plus one thread per family
                  pool_size=conf.heatplug.max_workers + 16)
    sess.session.hooks.setdefault("response", []).append(_cap_retry_after)
    transport.install(sess.session)
    retries = {key: default if conf.heat[key] is None else conf.heat[key]
               for key, default in DEFAULT_RETRIES.items()}
    heat = heat_client.Client(
        "1", session=sess, service_type=SERVICE_TYPE,
        user_agent="heatplug", **retries,
        **{k: v for k, v in where.items() if v})
    name_calls(heat.http_client, counters)
    LOG.debug("Heat client ready (region %s, interface %s, endpoint %s)",
              where.get("region_name"), where.get("interface"),
              where.get("endpoint_override") or "from the catalog")
    return Connection(session=sess, heat=heat, counters=counters)


@hooks.hookimpl(trylast=True)
def heatplug_auth(conf):
    """Default auth: keystoneauth1 from ``[heat]`` or clouds.yaml/``OS_*``."""
    return connect(conf)
