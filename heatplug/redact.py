"""Keeping secrets out of tables and logs.

Heat hands out credentials in plain sight: a software deployment's inputs
carry ``deploy_password`` and signed signal URLs, templates mark some
parameters ``hidden``, configs mark some inputs hidden.  Translators pass
every value that could carry one through :func:`value`, so a policy reader
only ever sees :data:`REDACTED` in its place.
"""

import functools
import re
from urllib import parse

REDACTED = "<redacted>"

# Key names whose values are credentials, whatever the value looks like:
# any key that mentions one of these ...
_SECRET_ANYWHERE = re.compile(
    r"(pass(word|wd|phrase)|secret|credential|private[_-]?key|api[_-]?key|"
    r"access[_-]?key|auth[_-]?key|signal[_-]?id|queue[_-]?id)", re.IGNORECASE)
# ... or whose last word is one of these ("auth_token", but not
# "token_length").
_SECRET_LAST_WORD = {"token", "tokens", "signature", "sig", "key", "pass",
                     "pwd", "psk", "otp"}

# Query parameters that make a URL a bearer credential (AWS/CFN signed
# signal URLs, Swift temp URLs, pre-signed S3-style URLs, tokens).
_SIGNED_QUERY = re.compile(
    r"(signature|temp_url_sig|x-amz-signature|awsaccesskeyid|x-amz-credential|"
    r"token|sig)", re.IGNORECASE)


def is_secret_key(key):
    """True when a key name says its value is a credential."""
    if not isinstance(key, str):
        return False
    return _is_secret_name(key)


@functools.lru_cache(maxsize=8192)
def _is_secret_name(key):
    # Cached: translations ask about the same few hundred names (property,
    # attribute, input and parameter names) again and again.
    if _SECRET_ANYWHERE.search(key):
        return True
    words = re.split(r"[_\-.\s]+|(?<=[a-z])(?=[A-Z])", key.strip())
    return bool(words) and words[-1].lower() in _SECRET_LAST_WORD


def is_signed_url(text):
    """True for a URL whose query string carries a signature or a token."""
    if not isinstance(text, str) or "://" not in text or "?" not in text:
        return False
    try:
        query = parse.urlsplit(text.strip()).query
    except ValueError:
        return False
    return any(_SIGNED_QUERY.fullmatch(k) or _SIGNED_QUERY.search(k)
               for k, _ in parse.parse_qsl(query, keep_blank_values=True))


def value(key, val, hidden=False):
    """``val``, or :data:`REDACTED` when it is (or may carry) a secret.

    :param key: the name the value is stored under (a parameter, an input).
    :param val: the value; nested dicts and lists are scrubbed recursively.
    :param hidden: the template or config marked it hidden.
    """
    if val is None:
        return None
    if hidden or is_secret_key(key):
        return REDACTED
    return scrub(val)


def scrub(val):
    """Recursively replace secret-keyed entries and signed URLs in ``val``.

    A *named item* (``{"name": n, "value": v, "default": d, ...}``, the
    shape of software config inputs and deployment metadata) has its
    ``value`` and ``default`` replaced when ``n`` names a credential
    (``deploy_password``) or the item says ``"hidden": true``.
    """
    if isinstance(val, str):
        return REDACTED if is_signed_url(val) else val
    if isinstance(val, dict):
        named = val.get("hidden") is True or is_secret_key(val.get("name"))
        return {k: REDACTED if named and k in ("value", "default")
                and v is not None else value(k, v) for k, v in val.items()}
    if isinstance(val, (list, tuple)):
        return [scrub(v) for v in val]
    return val
