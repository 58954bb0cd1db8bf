"""The HTTP path under keystoneauth: what heatplug changes in requests.

keystoneauth sends every request to Heat through a ``requests.Session``.
Measured on a cold poll (docs/performance.md), requests' own code was most
of heatplug's CPU: work that does nothing for a client of Heat's API,
repeated at every request.  Each change here skips such work and must not
change what a request does (tests/unit/test_transport.py compares with
requests' own behaviour):

- :func:`lean_requests`: a plain request is prepared and sent without the
  cookie jars and redirect machinery (Heat sets no cookie; keystoneauth
  follows redirects itself);
- :class:`Adapter`: keystoneauth's own transport adapter (TCP keep-alive),
  building responses without asking ``cookielib`` about an answer that
  sets no cookie, and giving up on a body still arriving after the read
  timeout (a trickling server; not a saving, a bound);
- :func:`memoize_environment`: proxies and CA bundle from the environment
  worked out once per (environment, origin);
- :func:`parse_json_once`: one JSON decode per answer.

:func:`install` applies the three session-level ones; the adapter is
mounted by :func:`heatplug.stats.install` (which counts through it).  These
lean on requests' and keystoneauth's internals as of requests 2.3x and
keystoneauth1 5.x: revisit them on upgrades.
"""

import datetime
import os
import time
import urllib.parse
import urllib.request

from keystoneauth1 import session as ks_session
import requests
from requests import cookies as requests_cookies
from requests import hooks as requests_hooks
from requests import sessions as requests_sessions
from requests import structures as requests_structures
from requests import utils as requests_utils
import urllib3
from urllib3 import exceptions as urllib3_exceptions


#: At most this much of an answer's body per socket read.
_BODY_READ = 64 * 1024


def _sets_cookies(headers):
    return "set-cookie" in headers or "set-cookie2" in headers


def _read_timeout(timeout):
    """The read timeout in a requests ``timeout`` (seconds), or None."""
    if isinstance(timeout, tuple):
        timeout = timeout[1] if len(timeout) == 2 else None
    elif isinstance(timeout, urllib3.Timeout):
        timeout = timeout.read_timeout
    if (isinstance(timeout, (int, float)) and not isinstance(timeout, bool)
            and timeout > 0):
        return float(timeout)
    return None


def _read_body(response, limit):
    """Read ``response``'s body, abandoning it when it is still arriving
    ``limit`` seconds after the headers (:class:`Adapter`)."""
    raw = response.raw
    deadline = time.monotonic() + limit
    chunks = []
    try:
        while True:
            chunk = raw.read1(_BODY_READ, decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
            if time.monotonic() > deadline and not raw.closed:
                response.close()      # the connection is not reused
                raise requests.exceptions.ReadTimeout(
                    "the answer's body was still arriving %g s after its "
                    "headers (%d bytes so far)" % (
                        limit, sum(map(len, chunks))),
                    request=response.request, response=response)
    # what requests.Response.iter_content makes of urllib3's errors
    except urllib3_exceptions.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc)
    except urllib3_exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc)
    except urllib3_exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ConnectionError(exc)
    except urllib3_exceptions.SSLError as exc:
        raise requests.exceptions.SSLError(exc)
    response._content = b"".join(chunks)
    response._content_consumed = True


class Adapter(ks_session.TCPKeepAliveAdapter):
    """keystoneauth's transport adapter (TCP keep-alive, Nagle off, the
    session's TLS ciphers and minimum version), with two changes:

    - a body must arrive within the read timeout of its headers.  The
      timeout bounds each socket read; a server (or proxy) that trickles a
      body a few bytes at a time would otherwise hold a worker for as long
      as it keeps sending.  The body is read here (unless the caller
      streams it), a socket read at a time, and a body still arriving
      after the read timeout is abandoned with
      ``requests.exceptions.ReadTimeout`` (keystoneauth retries it as a
      timeout).  An answer thus takes at most the header wait plus twice
      the timeout; a server that trickles its *headers* is left to the
      poll's stall watch (``[heatplug] stall_timeout``, :mod:`heatplug.core`).
      With an urllib3 that has no ``HTTPResponse.read1``, requests reads
      the body as before;
    - responses are built without asking ``cookielib`` for the cookies of
      an answer that sets none (Heat never does); an answer that sets one
      is built by requests itself.
    """

    def send(self, request, stream=False, timeout=None, verify=True,
             cert=None, proxies=None):
        response = super().send(request, stream=stream, timeout=timeout,
                                verify=verify, cert=cert, proxies=proxies)
        limit = None if stream else _read_timeout(timeout)
        if limit is not None and hasattr(response.raw, "read1"):
            _read_body(response, limit)
        return response

    def build_response(self, req, resp):
        if _sets_cookies(resp.headers):
            return super().build_response(req, resp)
        # requests.adapters.HTTPAdapter.build_response, less the cookies
        response = requests.Response()
        response.status_code = resp.status
        response.headers = requests_structures.CaseInsensitiveDict(
            resp.headers)
        response.encoding = requests_utils.get_encoding_from_headers(
            response.headers)
        response.raw = resp
        response.reason = resp.reason
        response.url = (req.url.decode("utf-8")
                        if isinstance(req.url, bytes) else req.url)
        response.request = req
        response.connection = self
        return response

    @classmethod
    def like(cls, mounted, **kwargs):
        """An adapter with the TLS settings of ``mounted`` (the one
        keystoneauth mounted on its session; a keystoneauth older than
        those settings has neither)."""
        for name in ("tls_ciphers", "tls_min_version"):
            if getattr(mounted, name, None) is not None:
                kwargs[name] = getattr(mounted, name)
        return cls(**kwargs)


class _DecodedOnce(requests.Response):
    """A response whose ``json()`` decodes the body once (see
    :func:`parse_json_once`)."""

    def json(self, **kwargs):
        if kwargs:
            return super().json(**kwargs)
        try:
            return self._heatplug_json
        except AttributeError:
            # a body that is not JSON raises here, at every call
            self._heatplug_json = super().json()
            return self._heatplug_json


def parse_json_once(resp, *args, **kwargs):
    """A requests response hook: ``resp.json()`` decodes the body once.

    keystoneauth's ``LegacyJsonAdapter`` (heatclient's ``SessionClient``)
    decodes every answer and heatclient drops that result; ``auth._checked``
    and heatclient's managers then call ``resp.json()`` again.  The first
    successful decode is kept and returned to every later call; a body that
    is not JSON raises ``ValueError`` at every call, as before, and a call
    with keyword arguments decodes afresh.  (The response becomes a
    :class:`_DecodedOnce`, a subclass: a closure on the response would make
    a reference cycle that keeps every answer alive until the garbage
    collector runs.)
    """
    if type(resp) is requests.Response:
        resp.__class__ = _DecodedOnce
    return resp


#: The environment variables that decide what requests does with an http or
#: https URL: its proxy (``select_proxy`` looks up the URL's scheme and
#: ``all``), the proxy exceptions, the CGI rule that drops ``HTTP_PROXY``,
#: and the CA bundle.
_REQUESTS_ENVIRONMENT = tuple(
    name for key in ("http", "https", "all", "no")
    for name in (key + "_proxy", key.upper() + "_PROXY")) + (
    "REQUEST_METHOD", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
#: Different (environment, origin) pairs remembered, at most.
_ENVIRONMENT_MEMO_SIZE = 64


class _WithoutEnvironment:
    """A ``requests.Session`` seen with ``trust_env`` off (the rest of its
    attributes are the session's own)."""

    trust_env = False

    def __init__(self, session):
        self._session = session

    def __getattr__(self, name):
        return getattr(self._session, name)


def memoize_environment(requests_session):
    """Make ``requests_session`` read its proxies from the environment once
    per origin, not at every request.

    With ``trust_env`` on (the default), ``requests`` works out every
    request's proxies from the environment: ``get_environ_proxies`` scans
    all of ``os.environ`` up to four times (``getproxies_environment``) and
    applies ``no_proxy``: about 0.1 ms of CPU per request (unless
    ``no_proxy`` names the host, which ends it early), as much as the rest
    of ``requests.Session.request`` before the adapter.  What it finds
    depends only on the request's origin (scheme, host and port) and on the
    environment variables in :data:`_REQUESTS_ENVIRONMENT`, so the answer
    is kept per (those variables' values, origin): a changed variable is
    seen at the next request, exactly as before.  (Python also reads
    ``*_proxy`` variables spelled in mixed case, ``Http_Proxy``; one of
    those that appears or changes after the first request to an origin is
    not seen.)
    Everything else (netrc, merging with the session's and the request's
    own settings) is still requests' own code.  On platforms whose proxies
    come from system settings (macOS, Windows), and for a session class of
    its own, nothing changes.
    """
    merge = requests.Session.merge_environment_settings
    if (requests_utils.getproxies
            is not urllib.request.getproxies_environment
            or requests_utils.proxy_bypass
            is not urllib.request.proxy_bypass_environment
            or type(requests_session).merge_environment_settings
            is not merge):
        return requests_session
    without_environment = _WithoutEnvironment(requests_session)
    memo = {}
    environ_get = os.environ.get

    def merge_environment_settings(url, proxies, stream, verify, cert):
        if not requests_session.trust_env:
            return merge(requests_session, url, proxies, stream, verify, cert)
        environment = tuple(map(environ_get, _REQUESTS_ENVIRONMENT))
        no_proxy = proxies.get("no_proxy") if proxies is not None else None
        parts = urllib.parse.urlsplit(url)
        key = (environment, parts.scheme, parts.netloc, no_proxy)
        env_proxies = memo.get(key)
        if env_proxies is None:
            env_proxies = requests_utils.get_environ_proxies(
                url, no_proxy=no_proxy)
            if len(memo) >= _ENVIRONMENT_MEMO_SIZE:
                memo.clear()
            memo[key] = env_proxies
        # What requests.Session.merge_environment_settings does with the
        # environment, from the values just read ...
        if proxies is not None:
            for name, value in env_proxies.items():
                proxies.setdefault(name, value)
        if verify is True or verify is None:
            bundle, curl_bundle = environment[-2:]
            verify = bundle or curl_bundle or verify
        # ... and the rest is its own code.
        return merge(without_environment, url, proxies, stream, verify,
                     cert)

    requests_session.merge_environment_settings = merge_environment_settings
    return requests_session


def lean_requests(requests_session):
    """Make ``requests_session.request`` skip the work that does nothing
    for heatplug's requests.

    keystoneauth sends every request through ``requests.Session.request``
    with redirects off (it follows them itself).  For such a request
    requests still builds and merges two cookie jars, asks ``cookielib``
    which cookies to send, runs its redirect machinery to find that there
    is none and extracts cookies from every answer, for Heat, which sets no
    cookie.  When a request is of that plain kind (no params, files, json,
    per-request auth, cookies or hooks, no redirects, not streamed) and the
    session holds no cookie and no auth, it is prepared and sent here with
    requests' own pieces in requests' own order
    (``PreparedRequest.prepare_*``, the session's header merge, hooks and
    environment settings, the mounted adapter), and cookies are extracted
    only when the answer sets one.  The one thing left out:
    ``Response.next`` (the request a redirect would lead to, which
    keystoneauth does not read) stays unset.  Anything else goes to
    ``requests.Session.request`` unchanged; so does every request once the
    session holds a cookie (a load balancer's sticky cookie, say), and a
    request for which ``~/.netrc`` would give credentials.  A session class
    of its own is left alone.  With :class:`Adapter`, about a tenth of a
    poll's CPU (A/B in docs/performance.md).
    """
    if type(requests_session).request is not requests.Session.request:
        return requests_session
    full = requests_session.request
    session = requests_session

    def request(method, url, params=None, data=None, headers=None,
                cookies=None, files=None, auth=None, timeout=None,
                allow_redirects=True, proxies=None, hooks=None, stream=None,
                verify=None, cert=None, json=None):
        if (allow_redirects or params or cookies is not None or files
                or auth is not None or hooks or json is not None or stream
                or proxies or not isinstance(url, str)
                or not isinstance(data, (type(None), bytes, str))
                or session.auth is not None or session.params
                or len(session.cookies)
                or (session.trust_env
                    and requests_utils.get_netrc_auth(url))):
            return full(method, url, params=params, data=data,
                        headers=headers, cookies=cookies, files=files,
                        auth=auth, timeout=timeout,
                        allow_redirects=allow_redirects, proxies=proxies,
                        hooks=hooks, stream=stream, verify=verify, cert=cert,
                        json=json)
        prep = requests.PreparedRequest()
        prep.prepare_method(method)
        prep.prepare_url(url, None)
        prep.prepare_headers(requests_sessions.merge_setting(
            headers, session.headers,
            dict_class=requests_structures.CaseInsensitiveDict))
        prep.prepare_body(data or {}, None, None)
        prep.prepare_hooks(session.hooks)
        settings = session.merge_environment_settings(
            prep.url, {}, stream, verify, cert)
        adapter = session.get_adapter(prep.url)
        start = time.perf_counter()
        resp = adapter.send(prep, timeout=timeout, **settings)
        resp.elapsed = datetime.timedelta(
            seconds=time.perf_counter() - start)
        resp = requests_hooks.dispatch_hook("response", prep.hooks, resp,
                                            timeout=timeout, **settings)
        if _sets_cookies(resp.headers):
            requests_cookies.extract_cookies_to_jar(session.cookies, prep,
                                                    resp.raw)
        resp.content  # noqa: B018 -- read the body now, as requests does
        return resp

    requests_session.request = request
    return requests_session


def install(requests_session):
    """Apply :func:`memoize_environment`, :func:`lean_requests` and
    :func:`parse_json_once` (a response hook, after those already there)
    to ``requests_session``."""
    memoize_environment(requests_session)
    lean_requests(requests_session)
    requests_session.hooks.setdefault("response", []).append(parse_json_once)
    return requests_session
