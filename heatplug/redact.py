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
# ... except names that say which entry a value is (Heat's ``output_key``,
# CFN's ``ParameterKey``), or a key that is public: they hold no secret.
_NAMING_KEYS = {"outputkey", "parameterkey", "resourcekey",
                "sortkey", "primarykey", "partitionkey", "foreignkey",
                "publickey"}

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
    if re.sub(r"[_\-.\s]+", "", key).lower() in _NAMING_KEYS:
        return False
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


def secret_item(item):
    """True for a named item or key/value pair (a dict) whose value is a
    credential: it says ``"hidden": true``, or its ``name`` (or, in a pair,
    its ``key``) names a credential."""
    return item.get("hidden") is True or is_secret_key(item.get("name")) \
        or is_secret_key(pair_key(item))


#: The (key, value) entries of a key/value pair: tags, Heat's outputs
#: (``output_key``, ``output_value``), CFN's parameters and outputs.
PAIRS = (("key", "value"), ("Key", "Value"), ("output_key", "output_value"),
         ("OutputKey", "OutputValue"), ("ParameterKey", "ParameterValue"))
PAIR_KEYS = frozenset(k for k, _ in PAIRS)
#: The entries of a named item or pair that hold its value.
ITEM_VALUES = frozenset(("default", "Default") + tuple(v for _, v in PAIRS))


def pair_key(item):
    """The key of a key/value pair (``{"key": k, "value": v}``, or one of
    the other :data:`PAIRS`), else None."""
    for key, val in PAIRS:
        if key in item and val in item:
            return item[key]
    return None


# A URL: its scheme (a letter, then letters, digits, "+", "." or "-") and
# what follows "://".  Found from its "://" back (:func:`_urls`): a regex
# trying a scheme at every letter rescans a long run of such characters
# (a hex or base64 blob) from each one, quadratic in its length.
_URL_REST = re.compile(r"""://[^\s'"<>`]+""")
_SCHEME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789+.-")
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
# The password of a URL's userinfo (scheme://user:password@host/...): the
# authority ends at the first "/", "?" or "#" (RFC 3986), the password at its
# last "@" (an "@" left unencoded in a password stays in it).
_USERINFO = re.compile(
    r"(?P<head>^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@:]*:)(?P<pw>[^/?#]+)@")
# key: value, key=value, "key": "value", 'key': 'value'
# (A key starts where a run of key characters starts: trying one from every
# letter of a long run, a hex blob, would be quadratic in its length.)
_KEYED = re.compile(
    r"""(?<![A-Za-z0-9_.-])"""
    r"""(?P<key>["']?[A-Za-z0-9_.-]+["']?)(?P<sep>\s*[:=]\s*)"""
    r"""(?P<val>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|"""
    # an unquoted value, unless it is the next key ("failed: password: x")
    r"""(?!["']?[A-Za-z][A-Za-z0-9_.-]*["']?\s*[:=])[^\s,;&{}\[\])"']+)""")
# A command-line flag and the value after it on the same line: --password X,
# --db-password 'X', -password X (Go's flags).  "--password=X" is _KEYED's.
# Not a short flag glued to its value: nothing in "-pX" says whether it is a
# password or other flags ("-pv"), except the command it is given to
# (_COMMAND).
_FLAG = re.compile(
    r"""(?<![\w-])(?P<flag>--?[A-Za-z][A-Za-z0-9_.-]*)(?P<sep>[ \t]+)"""
    r"""(?P<val>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|(?!-)[^\s"']+)""")
_ARG = r"""(?P<val>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s"'`;|&]+)"""
# Commands whose password argument has a shape no name gives away, and the
# argument in each (a command runs to the end of its line, or to ; | &):
# - mysql and its tools (mysqldump, mysqladmin, mariadb, ...): -pX, and
#   mysqladmin's "password X" (set a new password);
# - sshpass -p X (or -pX);
# - curl -u user:X, --user user:X, --proxy-user user:X, -U user:X.
_COMMAND = re.compile(
    r"(?<![\w.-])(?P<cmd>mysql[\w-]*|mariadb[\w-]*|sshpass|curl)(?![\w.-])"
    r"[^\n;|&]*")
_COMMAND_ARGS = {
    "mysql": re.compile(r"(?<=\s)(?P<flag>-p)" + _ARG),
    "mysqladmin": re.compile(r"(?<=\s)(?P<flag>-p|password\s+(?![=:(]))" +
                             _ARG),
    "sshpass": re.compile(r"(?<=\s)(?P<flag>-p\s*)" + _ARG),
    "curl": re.compile(
        r"(?<=\s)(?P<flag>(?:-u|-U)\s*|--(?:proxy-)?user(?:\s+|=))"
        r"""(?P<val>["']?[^\s"':]*:)(?P<pw>[^\s"']+)"""),
}
# A password piped to chpasswd: echo "user:X" | chpasswd, and a cloud-config
# chpasswd list ("chpasswd:\n  list: |\n    user:X\n    user2:Y").
_CHPASSWD_PIPE = re.compile(
    r"""(?<![\w.-])(?P<user>[\w.-]+:)(?P<pw>[^\s"':|]+)"""
    r"""(?P<tail>["']?\s*\|\s*(?:sudo\s+)?chpasswd\b)""")
_CHPASSWD_LIST = re.compile(
    r"(?P<head>chpasswd:\s*\n(?P<indent>[ \t]+)list:\s*[|>]?[-+]?[ \t]*\n)"
    r"(?P<body>(?:(?P=indent)[ \t]+[^\n]*(?:\n|$))+)")
_CHPASSWD_ENTRY = re.compile(r"(?m)^(?P<user>\s*-?\s*[\w.-]+:)(?P<pw>\S+)")


# Heat's (and Python's) messages for a value that fails a property's type or
# a parameter's constraint quote the value, which may be a hidden
# parameter's (a status reason: "Property error: ...: Value 'x' is not an
# integer").  The value in each is redacted wherever such a message stands.
_INVALID_VALUE = [re.compile(p) for p in (
    r"(?P<head>\bValue ')(?P<v>[^'\n]*)(?P<tail>' is not an integer)",
    r"(?P<head>could not convert string to float: ')(?P<v>[^'\n]*)"
    r"(?P<tail>')",
    r"(?P<head>invalid literal for int\(\) with base \d+: ')"
    r"(?P<v>[^'\n]*)(?P<tail>')",
    r'(?P<head>")(?P<v>[^"\n]*)(?P<tail>" (?:does not match pattern|is not '
    r'a valid boolean|is not a map|is not an allowed value)\b)',
    r"(?P<head>(?<![\w.+-]))(?P<v>[-+]?[0-9][0-9.eE+-]*)(?P<tail> (?:is not "
    r"an integer\.|is out of range \(min|is not a multiple of))",
)]
_INVALID_HINTS = ("is not", "does not match", "could not convert",
                  "invalid literal", "is out of range")


def _invalid_values(text):
    for pattern in _INVALID_VALUE:
        text = pattern.sub(lambda m: m.group("head") + REDACTED +
                           m.group("tail"), text)
    return text


def _quoted(val):
    """:data:`REDACTED` in ``val``'s quotes, if it has any."""
    quote = val[0] if val[:1] in ("'", '"') else ""
    return "%s%s%s" % (quote, REDACTED, quote)


def _keyed(match):
    # what names it starts at a letter: "--password", "1token" name one
    key = match.group("key").strip("\"'").lstrip("0123456789_.-")
    if not is_secret_key(key):
        return match.group(0)
    return "%s%s%s" % (match.group("key"), match.group("sep"),
                       _quoted(match.group("val")))


def _flag(match):
    if not is_secret_key(match.group("flag").lstrip("-")):
        return match.group(0)
    return "%s%s%s" % (match.group("flag"), match.group("sep"),
                       _quoted(match.group("val")))


def _command(match):
    cmd = match.group("cmd")
    family = cmd if cmd in _COMMAND_ARGS else (
        "mysqladmin" if cmd.endswith("admin") else "mysql")
    args = _COMMAND_ARGS[family]
    if family == "curl":
        return args.sub(lambda m: "%s%s%s" % (m.group("flag"), m.group("val"),
                                              REDACTED), match.group(0))
    return args.sub(lambda m: m.group("flag") + _quoted(m.group("val")),
                    match.group(0))


def _chpasswd(text):
    text = _CHPASSWD_PIPE.sub(
        lambda m: m.group("user") + REDACTED + m.group("tail"), text)
    return _CHPASSWD_LIST.sub(lambda m: m.group("head") + _CHPASSWD_ENTRY.sub(
        lambda e: e.group("user") + REDACTED, m.group("body")), text)


def _urls(text):
    """``text`` with each URL in it passed through :func:`_url`."""
    out, done = [], 0
    for match in _URL_REST.finditer(text):
        start = match.start()
        while start > done and text[start - 1] in _SCHEME:
            start -= 1
        while start < match.start() and text[start] not in _LETTERS:
            start += 1
        if start == match.start():
            continue                    # no scheme before "://"
        out += [text[done:start], _url(text[start:match.end()])]
        done = match.end()
    return "".join(out) + text[done:] if out else text


def _url(url):
    if is_signed_url(url):
        return REDACTED
    return _USERINFO.sub(lambda m: m.group("head") + REDACTED + "@", url,
                         count=1)


def scrub_text(text):
    """Free text (a script, a status reason, a command's output) with the
    secrets inside it redacted; the rest is kept:

    - signed URLs, whole (``https://h/o?temp_url_sig=x``);
    - the password of a URL (``mysql://app:<redacted>@db/app``);
    - the values of credential-named keys (``password=x``,
      ``"api_key": "x"``, ``token: x``);
    - the value after a credential-named command-line flag
      (``--password x``, ``--os-password x``);
    - the password argument of commands whose password has no name:
      mysql's ``-px`` and mysqladmin's ``password x``, ``sshpass -p x``,
      ``curl -u user:x``, a ``user:x`` piped or listed to chpasswd;
    - the value quoted by Heat's message for a value that fails a
      property's type or a parameter's constraint (``Value '<redacted>' is
      not an integer``): it may be a hidden parameter's."""
    if "://" in text:
        text = _urls(text)
    if "=" in text or ":" in text:
        text = _KEYED.sub(_keyed, text)
    if "-" in text:
        text = _FLAG.sub(_flag, text)
    if "mysql" in text or "mariadb" in text or "sshpass" in text or \
            "curl" in text:
        text = _COMMAND.sub(_command, text)
    if "chpasswd" in text:
        text = _chpasswd(text)
    if any(hint in text for hint in _INVALID_HINTS):
        text = _invalid_values(text)
    return text


def scrub_with(val, string):
    """``val`` with secret-keyed entries and the values of secret named
    items and pairs replaced, recursively; each string is handed to
    ``string`` (which says what is secret inside it)."""
    if isinstance(val, str):
        return string(val)
    if isinstance(val, dict):
        named = secret_item(val)
        pair = pair_key(val) is not None
        return {k: REDACTED if v is not None and (
                    (named and k in ITEM_VALUES) or
                    (is_secret_key(k) and not (pair and k in PAIR_KEYS)))
                else scrub_with(v, string) for k, v in val.items()}
    if isinstance(val, (list, tuple)):
        return [scrub_with(v, string) for v in val]
    return val


def scrub_inside(val):
    """:func:`scrub`, but a string is free text (:func:`scrub_text`): only
    what is secret inside it is redacted."""
    return scrub_with(val, scrub_text)


def _scrub_string(text):
    return REDACTED if is_signed_url(text) else scrub_text(text)


def scrub(val):
    """Recursively replace secret-keyed entries and signed URLs in ``val``:
    a string that holds a signed URL is replaced whole, in any other the
    values of credential-named keys are (:func:`scrub_text`).

    A *named item* (``{"name": n, "value": v, "default": d, ...}``, the
    shape of software config inputs and deployment metadata, or ``{"key":
    n, "value": v}``, a key/value pair) has its ``value`` and ``default``
    (or ``Value`` and ``Default``) replaced when ``n`` names a credential
    (``deploy_password``) or the item says ``"hidden": true``.
    """
    return scrub_with(val, _scrub_string)
