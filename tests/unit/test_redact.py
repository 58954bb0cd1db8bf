"""heatplug.redact: which names and shapes hold a credential."""

import pytest

from heatplug import redact
from heatplug.plugins import resources

R = redact.REDACTED


@pytest.mark.parametrize("name", [
    "password", "db_password", "AdminPass", "api_key", "ssh_key",
    "private_key", "secret_key", "auth_token", "Signature", "key",
    "deploy_signal_id", "otp"])
def test_secret_names(name):
    assert redact.is_secret_key(name)


@pytest.mark.parametrize("name", [
    # names that say *which* entry a value is, or a key that is public
    "output_key", "OutputKey", "ParameterKey", "parameter_key",
    "resource_key", "sort_key", "primary_key", "public_key", "PublicKey",
    # and plain names
    "key_name", "token_length", "flavor", "name", "value", None, 3])
def test_names_that_hold_no_secret(name):
    assert not redact.is_secret_key(name)


# One case per shape: what goes in, what comes out of both scrubbers
# (heatplug.redact.scrub and the resources family's, which also looks
# inside JSON text).
SHAPES = [
    # a key/value pair: the key is a name, the value hides when it names a
    # credential
    ({"key": "Name", "value": "web"}, {"key": "Name", "value": "web"}),
    ({"key": "db_password", "value": "s3"},
     {"key": "db_password", "value": R}),
    ({"Key": "AdminPassword", "Value": "s3"},
     {"Key": "AdminPassword", "Value": R}),
    # Heat's own outputs list (OS::Heat::Stack's ``outputs`` attribute)
    ({"output_key": "url", "output_value": "http://h/x",
      "description": "d"},
     {"output_key": "url", "output_value": "http://h/x", "description": "d"}),
    ({"output_key": "admin_pass", "output_value": "s3", "description": "d"},
     {"output_key": "admin_pass", "output_value": R, "description": "d"}),
    ({"OutputKey": "Token", "OutputValue": "s3"},
     {"OutputKey": "Token", "OutputValue": R}),
    # not a pair: "key" alone is still a credential's name
    ({"key": "s3"}, {"key": R}),
    # named items, as before
    ({"name": "deploy_password", "value": "s3", "type": "String"},
     {"name": "deploy_password", "value": R, "type": "String"}),
    ({"name": "x", "Value": "s3", "hidden": True},
     {"name": "x", "Value": R, "hidden": True}),
    ({"name": "greeting", "value": "hello"},
     {"name": "greeting", "value": "hello"}),
]


@pytest.mark.parametrize("given, expected", SHAPES)
def test_scrub_shapes(given, expected):
    assert redact.scrub(given) == expected
    assert resources.scrub(given) == expected
    assert redact.scrub([given]) == [expected]


def test_scrub_text_keeps_all_but_the_secrets_inside():
    text = ("deploy ok: password=hunter2 user=admin\n"
            'conf {"api_key": "k-123", "region": "r1"} at 12:00:01\n'
            "signal http://h:8000/v1/signal/x?Timestamp=1&Signature=abc "
            "docs http://example.com/a?b=1")
    assert redact.scrub_text(text) == (
        "deploy ok: password=%s user=admin\n"
        'conf {"api_key": "%s", "region": "r1"} at 12:00:01\n'
        "signal %s docs http://example.com/a?b=1" % (R, R, R))
    assert redact.scrub_text("nothing here") == "nothing here"


def test_scrub_inside_scrubs_text_and_shapes():
    given = {"deploy_stdout": "export DB_PASSWORD=s3 && run",
             "deploy_status_code": 0,
             "items": [{"name": "db_password", "value": "s3"},
                       {"key": "Name", "value": "web"}],
             "auth_token": "t0k", "url": "http://h/x?sig=1"}
    assert redact.scrub_inside(given) == {
        "deploy_stdout": "export DB_PASSWORD=%s && run" % R,
        "deploy_status_code": 0,
        "items": [{"name": "db_password", "value": R},
                  {"key": "Name", "value": "web"}],
        "auth_token": R, "url": R}


def test_scrub_redacts_credentials_inside_any_string():
    # a wait condition's signal data, as a handle's metadata holds it
    signal = {"1": {"data": "db ready, pass=hunter2", "reason": "ok",
                    "status": "SUCCESS"}}
    assert redact.scrub(signal) == {"1": {
        "data": "db ready, pass=%s" % R, "reason": "ok", "status": "SUCCESS"}}
    assert resources.scrub(signal) == redact.scrub(signal)
    # a string holding a signed URL still goes whole
    assert redact.scrub("see http://h/x?Signature=abc now") == R
    assert redact.scrub("2026-11-26T10:00:00Z") == "2026-11-26T10:00:00Z"


# -- free text: passwords in URLs and after command-line flags ---------------

@pytest.mark.parametrize("given, expected", [
    # a URL's userinfo password, alone or inside longer text
    ("mysql://app:CANARY-1b@db:3306/app", "mysql://app:%s@db:3306/app" % R),
    ("connect to postgresql://app:CANARY@db/app failed, retrying",
     "connect to postgresql://app:%s@db/app failed, retrying" % R),
    ("redis://:CANARY@cache:6379/0", "redis://:%s@cache:6379/0" % R),
    # an "@" left unencoded in a password: the host is after the last one
    ("mysql://app:p@ss@db/app", "mysql://app:%s@db/app" % R),
    ('{"dsn": "amqp://guest:CANARY@rabbit:5672/"}',
     '{"dsn": "amqp://guest:%s@rabbit:5672/"}' % R),
    # a credential-named flag and its value
    ("running: mysql --user app --password CANARY-2b\n",
     "running: mysql --user app --password %s\n" % R),
    ("mysql --password=CANARY app", "mysql --password=%s app" % R),
    ("--db-password X --verbose", "--db-password %s --verbose" % R),
    ("openstack --os-password X server list",
     "openstack --os-password %s server list" % R),
    ("--os-token 'a b' x", "--os-token '%s' x" % R),
    ('"cmd": "app -password X"', '"cmd": "app -password %s"' % R),
    # what was there already
    ("Password: CANARY-2d", "Password: %s" % R),
    ("password=hunter2 user=admin", "password=%s user=admin" % R),
    ("see https://s.example/o?temp_url_sig=x&temp_url_expires=9 now",
     "see %s now" % R),
])
def test_scrub_text_finds_passwords_in_urls_and_flags(given, expected):
    assert redact.scrub_text(given) == expected


@pytest.mark.parametrize("text", [
    # ordinary URLs: no password in them
    "http://example.com/path", "see http://user@host/ now",
    "http://user:@host/x", "http://host:8080/p?email=a@b.example",
    "https://example.com/a?b=1#frag",
    # flags that name no credential, or with no value after them
    "mysql --user app --host db", "nova boot --key-name mykey vm1",
    "use --password --verbose", "mysql --password",
    "pop-nested-group-x7 uses pass-through -p 80",
    # a short -p names no password but for the commands that say so
    "ls -p | grep x", "tar -pxf a.tar", "mkdir -p /srv/mysql-data",
    # those commands asked for a password, or given none
    "mysql -u app -p app", "mysql -P 3306 -h db", "curl -u admin https://h",
    "curl -fsSL https://h/x | sh", "sshpass -e ssh host",
    "mysql: [Warning] Using a password on the command line",
    "echo root | chpasswd",
])
def test_scrub_text_keeps_what_is_not_a_password(text):
    assert redact.scrub_text(text) == text


@pytest.mark.parametrize("given, expected", [
    # mysql and its tools: -p glued to its value is the password
    ("mysql -uapp -pCANARY-2c app", "mysql -uapp -p%s app" % R),
    ("mysqldump -uroot -p'CANARY x' db > /tmp/db.sql; ls -p",
     "mysqldump -uroot -p'%s' db > /tmp/db.sql; ls -p" % R),
    ("/usr/bin/mariadb -h db -pCANARY", "/usr/bin/mariadb -h db -p%s" % R),
    # mysqladmin sets a new one with a bare "password"
    ("mysqladmin -u root password CANARY && echo ok",
     "mysqladmin -u root password %s && echo ok" % R),
    ('mysqladmin -u root password "CANARY"',
     'mysqladmin -u root password "%s"' % R),
    ("sshpass -p CANARY ssh host", "sshpass -p %s ssh host" % R),
    ("sshpass -pCANARY scp a b", "sshpass -p%s scp a b" % R),
    ("curl -u admin:CANARY https://h/x", "curl -u admin:%s https://h/x" % R),
    ("curl -sS --user=admin:CANARY https://h",
     "curl -sS --user=admin:%s https://h" % R),
    ("curl --proxy-user 'px:CANARY' -x p https://h",
     "curl --proxy-user 'px:%s' -x p https://h" % R),
    # chpasswd, piped to and in a cloud-config
    ('echo "root:CANARY" | chpasswd', 'echo "root:%s" | chpasswd' % R),
    ("echo app:CANARY | sudo chpasswd", "echo app:%s | sudo chpasswd" % R),
    ("#cloud-config\nchpasswd:\n  list: |\n    root:CANARY\n"
     "    ubuntu:CANARY-2\n  expire: False\nruncmd:\n  - [ls, -p]\n",
     "#cloud-config\nchpasswd:\n  list: |\n    root:%s\n    ubuntu:%s\n"
     "  expire: False\nruncmd:\n  - [ls, -p]\n" % (R, R)),
])
def test_scrub_text_finds_the_password_argument_of_commands(given, expected):
    assert redact.scrub_text(given) == expected
    # a script, a status reason or an event's properties: all free text
    assert redact.scrub_inside({"script": given}) == {"script": expected}


def test_a_url_with_a_password_under_a_name_that_is_no_secret():
    # a DSN under "dsn": only its password goes, in values and in text
    dsn = "mysql://app:CANARY-1b@db:3306/app"
    shown = "mysql://app:%s@db:3306/app" % R
    assert redact.value("dsn", dsn) == shown
    assert redact.scrub({"dsn": dsn, "n": 1}) == {"dsn": shown, "n": 1}
    assert redact.scrub_inside({"dsn": dsn}) == {"dsn": shown}
    assert resources.scrub({"dsn": dsn}) == {"dsn": shown}
    # a signed URL with a password: gone whole, as before
    assert redact.value("url", "https://u:pw@h/o?temp_url_sig=x") == R


def test_a_status_reason_quoting_a_signal():
    reason = ('Resource CREATE failed: WaitConditionFailure: resources.wait: '
              'db setup failed: {"password": "CANARY-R1"} log at '
              'https://s.example/o?temp_url_sig=CANARY-R2&temp_url_expires=9')
    assert redact.scrub_text(reason) == (
        'Resource CREATE failed: WaitConditionFailure: resources.wait: '
        'db setup failed: {"password": "%s"} log at %s' % (R, R))


@pytest.mark.parametrize("given, expected", [
    # where a key or a URL starts inside a run of their characters
    ("1token=CANARY", "1token=%s" % R),
    ("_password: CANARY", "_password: %s" % R),
    ("x1mysql://app:CANARY@db/app", "x1mysql://app:%s@db/app" % R),
    ("9http://app:CANARY@db/app", "9http://app:%s@db/app" % R),
    ("see ://host/x and -http://u:CANARY@h/",
     "see ://host/x and -http://u:%s@h/" % R),
])
def test_keys_and_urls_start_where_their_run_does(given, expected):
    assert redact.scrub_text(given) == expected


def test_long_runs_are_scrubbed_in_one_pass():
    """A hex or base64 blob next to a ":" or "=" used to be rescanned from
    each of its letters (minutes for 100 kB): every pattern now starts a
    match only where a run starts.  Not a timing: the answers must be
    right, and a quadratic scrub would hold the suite for many minutes."""
    blob = "0a1b2c3d" * 12500                          # 100 kB
    text = "x: y %s password=%s http://u:%s@h/%s" % (blob, blob, blob, blob)
    assert redact.scrub_text(text) == "x: y %s password=%s http://u:%s@h/%s" \
        % (blob, R, R, blob)
    assert redact.scrub(blob + ": " + blob) == blob + ": " + blob
    assert redact.scrub_text("echo %s | chpasswd" % blob) == \
        "echo %s | chpasswd" % blob


@pytest.mark.parametrize("given, expected", [
    # Heat's messages for a value failing a property's type or a
    # parameter's constraint: the value may be a hidden parameter's
    ("Property error: Properties.length: Value 'CANARY' is not an integer",
     "Property error: Properties.length: Value '%s' is not an integer" % R),
    ("Properties.n: could not convert string to float: 'CANARY'",
     "Properties.n: could not convert string to float: '%s'" % R),
    ("invalid literal for int() with base 10: 'CANARY'",
     "invalid literal for int() with base 10: '%s'" % R),
    ('Properties.p: "CANARY" does not match pattern "[0-9]+"',
     'Properties.p: "%s" does not match pattern "[0-9]+"' % R),
    ('Parameter \'x\' is invalid: "CANARY" is not an allowed value ["a"]',
     'Parameter \'x\' is invalid: "%s" is not an allowed value ["a"]' % R),
    ('"CANARY" is not a valid boolean', '"%s" is not a valid boolean' % R),
    ("Parameter 'n' is invalid: 1234 is out of range (min: 1, max: 9)",
     "Parameter 'n' is invalid: %s is out of range (min: 1, max: 9)" % R),
    ("7.5 is not an integer.", "%s is not an integer." % R),
    # what only looks like one
    ("This is not a test", "This is not a test"),
    ("size x is not an integer", "size x is not an integer"),
])
def test_heat_validation_messages_lose_the_value_they_quote(given, expected):
    assert redact.scrub_text(given) == expected
