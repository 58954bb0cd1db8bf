"""Logging that never carries a secret.

Three layers, each enough on its own for what it covers:

1. **No HTTP bodies.**  keystoneauth logs every response body at debug
   level (``RESP BODY: ...`` on ``keystoneauth.session``, or on
   ``keystoneauth.session.body`` when its loggers are split).  Heat's
   answers hold secrets in plain text that no pattern can find: outputs
   computed from hidden parameters, hidden parameter defaults in templates,
   deployment input values.  :func:`quiet_http_bodies` puts a filter on
   those loggers that replaces every body with its length (and request
   bodies, ``-d '...'``, likewise).  :func:`heatplug.auth.connect` installs
   it, so every user of heatplug's connection gets it.
2. **Known secrets.**  The auth stage registers the configured credentials
   (:func:`add_secret`: the password, a token, an application credential
   secret); :func:`scrub` replaces every occurrence.
3. **Secret-looking text.**  :func:`scrub` also redacts signed URLs
   (:func:`heatplug.redact.is_signed_url`), the value of any
   ``key: value`` / ``key=value`` / ``"key": "value"`` whose key names a
   credential (:func:`heatplug.redact.is_secret_key`), and credential
   headers (``X-Auth-Token: ...``).

:class:`ScrubbingFormatter` (the command line's) scrubs each formatted line,
traceback included; :class:`ScrubFilter` does the same to a record for
handlers whose formatter is someone else's (``install()`` adds it to the
root logger's handlers, e.g. under Congress's oslo.log).
"""

import logging
import re
import threading

from heatplug import redact

#: What a body is replaced with in keystoneauth's debug lines.
BODY_OMITTED = "<body omitted by heatplug: %d characters>"

#: keystoneauth's loggers (keystoneauth1 5.x names them keystoneauth.*).
KEYSTONEAUTH_SESSION = "keystoneauth.session"
BODY_LOGGERS = (KEYSTONEAUTH_SESSION, KEYSTONEAUTH_SESSION + ".body",
                KEYSTONEAUTH_SESSION + ".request",
                KEYSTONEAUTH_SESSION + ".response")

DEFAULT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_lock = threading.Lock()
_secrets = set()

# A secret shorter than this is not registered: replacing every "abc" in
# every log line would make logs unreadable and protect nothing.
MIN_SECRET_LENGTH = 4

_REQUEST_BODY = re.compile(r"""( -d ')(.*)'$""", re.DOTALL)
_RESP_BODY = ("RESP BODY:", "RESP BODY")


def add_secret(value):
    """Never log ``value`` (a configured password, token, ...)."""
    if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def forget_secrets():
    """Drop every registered secret (for tests)."""
    with _lock:
        _secrets.clear()


def scrub(text):
    """``text`` without registered secrets, signed URLs and the values of
    secret-named keys."""
    if not isinstance(text, str):
        text = str(text)
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, redact.REDACTED)
    return redact.scrub_text(text)


def _without_body(record):
    """Rewrite a keystoneauth record so that it carries no HTTP body
    (once: a logger filter and a handler filter may both see it)."""
    if getattr(record, "heatplug_quiet", False):
        return
    record.heatplug_quiet = True
    message = record.getMessage()
    if record.name == KEYSTONEAUTH_SESSION + ".body":
        text = BODY_OMITTED % len(message)
    elif message.startswith(_RESP_BODY):
        body = message.split(":", 1)[1] if ":" in message else ""
        text = "RESP BODY: " + BODY_OMITTED % len(body.strip())
    else:
        found = _REQUEST_BODY.search(message)
        if found is None:
            return
        text = message[:found.start()] + found.group(1) + (
            BODY_OMITTED % len(found.group(2))) + "'"
    record.msg, record.args = text, None


class BodyFilter(logging.Filter):
    """A logger filter that drops HTTP bodies from keystoneauth's records
    (it keeps the record: the request line and status stay useful)."""

    def filter(self, record):
        _without_body(record)
        return True


_BODY_FILTER = BodyFilter()


def quiet_http_bodies():
    """Install :class:`BodyFilter` on keystoneauth's session loggers
    (idempotent).  Logger filters apply to every record logged there,
    whatever handler (pytest's, oslo.log's, ours) ends up writing it."""
    for name in BODY_LOGGERS:
        logger = logging.getLogger(name)
        if _BODY_FILTER not in logger.filters:
            logger.addFilter(_BODY_FILTER)


class ScrubFilter(logging.Filter):
    """A handler filter: the record's message (and traceback) scrubbed."""

    def filter(self, record):
        if record.name.startswith(KEYSTONEAUTH_SESSION):
            _without_body(record)
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(
                record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


class ScrubbingFormatter(logging.Formatter):
    """A formatter whose every line (traceback included) is scrubbed."""

    def format(self, record):
        if record.name.startswith(KEYSTONEAUTH_SESSION):
            _without_body(record)
        return scrub(super().format(record))


def install(logger=None):
    """Add a :class:`ScrubFilter` to every handler of ``logger`` (default:
    the root logger) and quiet HTTP bodies; for hosts that own logging
    (Congress's oslo.log).  Idempotent."""
    logger = logger or logging.getLogger()
    for handler in logger.handlers:
        if not any(isinstance(f, ScrubFilter) for f in handler.filters):
            handler.addFilter(ScrubFilter())
    quiet_http_bodies()


def setup(level=logging.WARNING, stream=None, fmt=DEFAULT_FORMAT):
    """The command line's logging: one stderr handler on the root logger,
    with a :class:`ScrubbingFormatter`; HTTP bodies quieted.

    Like :func:`logging.basicConfig`, it leaves a root logger that already
    has handlers alone (heatplug run inside another program, or under
    pytest) apart from :func:`install` on them; returns the new handler, or
    None then.
    """
    root = logging.getLogger()
    if any(not getattr(h, "_heatplug", False) for h in root.handlers):
        install(root)
        return None
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ScrubbingFormatter(fmt))
    handler.addFilter(ScrubFilter())
    for old in list(root.handlers):
        if getattr(old, "_heatplug", False):
            root.removeHandler(old)
    handler._heatplug = True
    root.addHandler(handler)
    root.setLevel(level)
    quiet_http_bodies()
    return handler
