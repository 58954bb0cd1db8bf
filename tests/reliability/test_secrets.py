"""Secrets: canaries against the real Heat, TLS by default, write actions off.

This directory's Heat holds canary secrets (see ``conftest.CANARY``): hidden
template parameters (values, defaults, NoEcho), a hidden parameter passed on
to a nested stack and used in outputs, a deployment's ``deploy_password``
and signed signal URL, a secret-named config input and option, a signed URL
in a config body; password auth adds the configured password and the
tokens Keystone issues.  None of them may appear in any table, in the JSON
output, in any log line at debug level (keystoneauth's, heatclient's,
openstacksdk's included) or in an error message.
"""

import datetime
import json
import logging

import pytest
import yaml

import heatplug
from heatplug import auth
from heatplug import errors
from heatplug import log as hplog
from heatplug import redact
from tests.functional import conftest as functional
from tests.reliability import conftest as rconf
from tests.reliability import faultproxy

TIMEOUT = 2


def canaries(*extra):
    return list(rconf.CANARY.values()) + [e for e in extra if e]


def leaks(text, *extra):
    return [c for c in canaries(*extra) if c in text]


@pytest.fixture(scope="module")
def keystone_proxy(heat_url):
    with faultproxy.FaultProxy(heat_url, identity=True) as p:
        yield p


def password_conf(path, keystone_proxy, **extra):
    return rconf.write_conf(
        path, auth_type="password",
        auth_url=keystone_proxy.url + "/identity/v3", username="heatplug",
        password=rconf.CANARY["configured_password"], project_name="admin",
        user_domain_name="Default", project_domain_name="Default",
        timeout=TIMEOUT, **extra)


def poll_cli(conf_path, *args, env=None):
    proc = rconf.run_cli(["--config-file", str(conf_path), "-vv", *args,
                          "poll", "--format", "json"], env=env)
    return proc, json.loads(proc.stdout)


# ---------------------------------------------------------------------------
# the canaries are in Heat, and nowhere in what heatplug shows
# ---------------------------------------------------------------------------

def test_the_canaries_are_really_in_heat(heat, population):
    """Heat itself hands them out: the checks below would catch a leak."""
    passed = heat.stacks.get("canary-passed").to_dict()
    assert rconf.CANARY["passed_hidden"] in json.dumps(passed["outputs"])
    nested = [s for s in heat.stacks.list(show_nested=True)
              if s.stack_name.startswith("canary-nested-")]
    assert nested and rconf.CANARY["nested_hidden"] in json.dumps(
        heat.stacks.get(nested[0].id).to_dict()["parameters"])
    deployments = json.dumps([d.to_dict() for d in
                              heat.software_deployments.list()])
    assert rconf.CANARY["deploy_password"] in deployments
    assert rconf.CANARY["stdout_password"] in deployments
    configs = json.dumps([heat.software_configs.get(c.id).to_dict()
                          for c in heat.software_configs.list()])
    assert rconf.CANARY["script_password"] in configs
    assert rconf.CANARY["signature"] in deployments
    params = heat.stacks.template("pop-params")
    assert rconf.CANARY["hidden_default"] in json.dumps(params)


def _heat_shows(heat):
    """Where Heat itself hands out the canaries of ``rconf.CLIMB``:
    ``{canary: [where, ...]}``."""
    found = {}

    def look(where, value):
        text = json.dumps(value, default=str)
        for key in ("climb_default", "handed_literal", "handed_group"):
            if rconf.CANARY[key] in text:
                found.setdefault(key, []).append(where)

    stacks = {s.stack_name: s.id for s in heat.stacks.list(show_nested=True)}
    climb = [n for n in stacks if n == "canary-climb" or
             n.startswith("canary-climb-")]
    for name in climb:
        ident = "%s/%s" % (name, stacks[name])
        look("outputs of %s" % name, heat.stacks.get(ident).to_dict()[
            "outputs"])
        for res in heat.resources.list(ident, with_detail=True):
            look("attributes of %s" % res.resource_name,
                 res.to_dict().get("attributes"))
        for event in heat.events.list(ident):
            if event.physical_resource_id == stacks[name]:
                continue                    # the stack's own: no properties
            detail = heat.events.get(ident, event.resource_name, event.id)
            look("event properties of %s" % event.resource_name,
                 detail.to_dict().get("resource_properties"))
    return found


def test_secrets_climbing_out_of_nested_stacks(local_heat, heat, population,
                                               tmp_path):
    """A nested stack's secret reaches its parent through its outputs (the
    owner's attributes, and what the parent builds from them), and a
    literal a parent hands to a nested stack's hidden parameter shows in
    the owner's event properties.  Heat shows each; heatplug none."""
    shown = _heat_shows(heat)
    assert {"outputs of canary-climb", "attributes of user",
            "attributes of inner", "attributes of mid",
            "event properties of user"} <= set(shown["climb_default"])
    assert "event properties of given" in shown["handed_literal"]
    assert {"event properties of many", "event properties of 0",
            "outputs of canary-climb"} <= set(shown["handed_group"])

    result = rconf.make_poller(tmp_path, local_heat.endpoint).poll()
    assert result.ok, result.errors
    assert not leaks(rconf.as_json(result))
    # ... and what carries no secret still shows
    ids = {r[1]: r[0] for r in result.tables["stacks"].rows}  # id, name
    top = {r[1]: r[2] for r in result.tables["stack_outputs"].rows
           if r[0] == ids["canary-climb"]}
    assert top == {"top_leak": redact.REDACTED, "members": redact.REDACTED,
                   "top_fine": "plain-output"}
    climb = {i for n, i in ids.items() if n.startswith("canary-climb-")}
    child_plain = {r[2] for r in result.tables["stack_outputs"].rows
                   if r[1] == "plain" and r[0] in climb}
    assert child_plain == {"plain-label"}


def test_secrets_crossing_os_heat_stack(local_heat, heat, population,
                                        tmp_path):
    """OS::Heat::Stack makes a root stack: a secret handed into it shows in
    its parameters and outputs, its own hidden default climbs into its
    owner's output and sits in the owner's event properties (the embedded
    template).  Heat shows each; heatplug none, and still shows what
    carries no secret."""
    stacks = {s.stack_name: s for s in heat.stacks.list(show_nested=True)}
    made = {n[len("canary-remote-"):].rsplit("-", 1)[0]: s
            for n, s in stacks.items() if n.startswith("canary-remote-")}
    assert set(made) == {"far", "far2"}
    assert not made["far"].parent       # a root stack: nothing links it
    far = heat.stacks.get(made["far"].id).to_dict()
    handed = rconf.CANARY["remote_handed"]
    default = rconf.CANARY["remote_default"]
    assert handed in json.dumps(far["parameters"])
    assert handed in json.dumps(far["outputs"])
    owner = heat.stacks.get(stacks["canary-remote"].id).to_dict()
    assert default in json.dumps(owner["outputs"])
    ident = "canary-remote/%s" % stacks["canary-remote"].id
    shown = [heat.events.get(ident, e.resource_name, e.id).to_dict()
             for e in heat.events.list(ident) if e.resource_name == "far2"]
    assert any(default in json.dumps(e.get("resource_properties"))
               for e in shown)

    result = rconf.make_poller(tmp_path, local_heat.endpoint).poll()
    assert result.ok, result.errors
    assert not leaks(rconf.as_json(result))
    outputs = {r[1]: r[2] for r in result.tables["stack_outputs"].rows
               if r[0] == stacks["canary-remote"].id}
    assert outputs == {"far_leak": redact.REDACTED,
                       "climb": redact.REDACTED,
                       "far2_name": made["far2"].stack_name}
    far2 = {r[1]: r[2] for r in result.tables["stack_outputs"].rows
            if r[0] == made["far2"].id}
    assert far2 == {"echo": "nothing", "plain": "plain-remote",
                    "own": redact.REDACTED}


def test_secrets_a_stack_hands_to_software(local_heat, heat, population,
                                           tmp_path):
    """A hidden parameter (and a RandomString's value) handed to software
    configs and deployments under innocent names: Heat shows them in the
    configs, the configs it derives, the deployments and the server's
    metadata; heatplug in none, and still shows what carries no secret."""
    hidden = rconf.CANARY["software_hidden"]
    ident = "canary-software/%s" % heat.stacks.get("canary-software").id
    res = {r.resource_name: r for r in heat.resources.list(ident)}
    token = heat.resources.get(ident, "token").attributes["value"]
    deployments = {d.id: d.to_dict() for d in
                   heat.software_deployments.list()}
    configs = {c.id: heat.software_configs.get(c.id).to_dict()
               for c in heat.software_configs.list()}
    deploy = deployments[res["deploy"].physical_resource_id]
    assert deploy["input_values"]["conn"] == hidden
    assert deploy["input_values"]["word"] == token
    for name in ("script", "cloud"):
        assert hidden in json.dumps(
            configs[res[name].physical_resource_id]["config"])
    derived = configs[deployments[res["sdeploy"].physical_resource_id][
        "config_id"]]
    assert hidden in json.dumps(derived["config"])          # {"db": ...}
    assert hidden in json.dumps(heat.resources.metadata(ident, "server"))

    result = rconf.make_poller(tmp_path, local_heat.endpoint).poll()
    assert result.ok, result.errors
    text = rconf.as_json(result)
    assert not leaks(text, token)
    inputs = {(r[0], r[1]): r[2] for r in
              result.tables["software_deployments_input_values"].rows}
    fine = res["fine"].physical_resource_id
    assert inputs[(fine, "conn")] == "plain-conn"
    assert inputs[(fine, "word")] == "plain-word"
    assert inputs[(deploy["id"], "conn")] == redact.REDACTED
    # Heat's own inputs of a secret deployment's derived config: redacted
    # by name only
    derived_inputs = {r[1]: r[5] for r in
                      result.tables["software_configs_inputs"].rows
                      if r[0] == deploy["config_id"]}
    assert derived_inputs["conn"] == redact.REDACTED
    assert derived_inputs["deploy_server_id"] == \
        res["server"].physical_resource_id
    bodies = {r[0]: r[4] for r in result.tables["software_configs"].rows}
    assert bodies[res["plain"].physical_resource_id] == \
        "#!/bin/sh\necho plain\n"
    assert bodies[res["script"].physical_resource_id] == redact.REDACTED


def test_no_canary_in_tables_json_or_debug_logs(local_heat, population,
                                                tmp_path):
    conf = rconf.write_conf(tmp_path / "noauth.conf", local_heat.endpoint)
    proc, data = poll_cli(conf)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not data["errors"]
    assert not leaks(proc.stdout)
    assert not leaks(proc.stderr), [
        line for line in proc.stderr.splitlines() if leaks(line)][:3]
    # it was a debug log with Heat's traffic in it, bodies omitted
    assert "keystoneauth.session" in proc.stderr
    assert "GET" in proc.stderr and "RESP BODY" not in proc.stderr.replace(
        "RESP BODY: <body omitted", "")
    assert "<body omitted by heatplug" in proc.stderr
    # and the tables are there, redacted where the secrets were
    tables = data["tables"]
    assert tables["stacks"]["rows"] and tables["stack_outputs"]["rows"]
    assert redact.REDACTED in json.dumps(tables["stack_outputs"])
    assert redact.REDACTED in json.dumps(
        tables["software_deployments_input_values"])


def test_password_auth_no_password_no_token_anywhere(keystone_proxy,
                                                     population, tmp_path):
    keystone_proxy.clear()
    proc, data = poll_cli(password_conf(tmp_path / "pw.conf", keystone_proxy))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert keystone_proxy.passwords[-1] == rconf.CANARY["configured_password"]
    tokens = keystone_proxy.tokens
    assert tokens
    assert not leaks(proc.stdout, *tokens)
    assert not leaks(proc.stderr, *tokens)


def test_os_environment_password_stays_out_of_logs(keystone_proxy,
                                                   population, tmp_path):
    """The clouds.yaml / OS_* path (openstacksdk's loader) too."""
    keystone_proxy.clear()
    env = {"OS_AUTH_TYPE": "password",
           "OS_AUTH_URL": keystone_proxy.url + "/identity/v3",
           "OS_USERNAME": "heatplug",
           "OS_PASSWORD": rconf.CANARY["configured_password"],
           "OS_PROJECT_NAME": "admin", "OS_USER_DOMAIN_NAME": "Default",
           "OS_PROJECT_DOMAIN_NAME": "Default", "HOME": str(tmp_path),
           "OS_CLIENT_CONFIG_FILE": str(tmp_path / "none.yaml")}
    proc = rconf.run_cli(["-vv", "--enable", "stacks", "--enable",
                          "software_deployments", "poll", "--format",
                          "json"], env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert keystone_proxy.passwords[-1] == rconf.CANARY["configured_password"]
    assert not leaks(proc.stdout, *keystone_proxy.tokens)
    assert not leaks(proc.stderr, *keystone_proxy.tokens)


def test_no_canary_in_error_messages(keystone_proxy, population, tmp_path):
    """Faults everywhere (every error path at once), password auth: the
    errors in the JSON output and in the log carry no secret."""
    keystone_proxy.clear()
    no_wait = {"Retry-After": "0"}
    keystone_proxy.add(r"/software_deployments", "status", status=500,
                       headers=no_wait,
                       message="deploy_password=%s failed at %s" % (
                           rconf.CANARY["deploy_password"],
                           rconf.SIGNED_URL))
    keystone_proxy.add(r"/software_configs\?", "garbage",
                       body='{"password": "%s", "x": ' %
                       rconf.CANARY["configured_password"])
    keystone_proxy.add(r"/resource_types\?with", "status", status=401)
    # (every stack here is CREATE_COMPLETE: snapshots makes no call, so the
    # reset goes to the per-stack template reads)
    keystone_proxy.add(r"/template$", "reset")
    proc, data = poll_cli(password_conf(tmp_path / "pw.conf", keystone_proxy))
    assert proc.returncode == 1
    assert {"software_deployments", "software_configs", "resource_types",
            "templates"} <= set(data["errors"])
    assert not leaks(json.dumps(data["errors"]), *keystone_proxy.tokens)
    assert not leaks(proc.stdout, *keystone_proxy.tokens)
    assert not leaks(proc.stderr, *keystone_proxy.tokens)
    # the messages still say what failed
    assert "GET /software_deployments" in data["errors"][
        "software_deployments"]
    assert redact.REDACTED in data["errors"]["software_deployments"]


def test_in_process_debug_logs_and_results(tmp_path, keystone_proxy,
                                           population, caplog):
    """In-process use (the Congress driver's): every logger at DEBUG,
    whatever handler writes it, gets no body and no canary."""
    keystone_proxy.clear()
    keystone_proxy.add(r"/software_deployments", "status", status=503,
                       headers={"Retry-After": "0"},
                       message="deploy_password: %s" %
                       rconf.CANARY["deploy_password"])
    caplog.set_level(logging.DEBUG)
    poller = rconf.make_poller(
        tmp_path, name="pw.conf", auth_type="password",
        auth_url=keystone_proxy.url + "/identity/v3", username="heatplug",
        password=rconf.CANARY["configured_password"], project_name="admin",
        user_domain_name="Default", project_domain_name="Default",
        timeout=TIMEOUT)
    hplog.install()         # what a host that owns logging calls
    result = poller.poll()
    assert set(result.errors) == {"software_deployments", "resources"} or \
        "software_deployments" in result.errors
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "keystoneauth.session" in {r.name for r in caplog.records}
    assert "<body omitted by heatplug" in text
    assert not leaks(text, *keystone_proxy.tokens)
    assert not leaks(rconf.as_json(result), *keystone_proxy.tokens)
    errors_text = hplog.scrub(json.dumps(result.errors))
    assert not leaks(errors_text, *keystone_proxy.tokens)


# ---------------------------------------------------------------------------
# the scrubber itself
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("text,secret", [
    ('{"password": "hunter22", "user": "bob"}', "hunter22"),
    ("admin_password=hunter22&user=bob", "hunter22"),
    ("X-Auth-Token: gAAAAABtokenvalue", "gAAAAABtokenvalue"),
    ("see http://h:8000/v1/signal/x?Signature=abc%2Fdef&Timestamp=1 now",
     "Signature=abc%2Fdef"),
    ("curl https://swift/v1/AUTH_x/c/o?temp_url_sig=deadbeef&temp_url_"
     "expires=1", "deadbeef"),
    ("'deploy_signal_id': 'http://h/?sig=x1'", "sig=x1"),
])
def test_scrub(text, secret):
    scrubbed = hplog.scrub(text)
    assert secret not in scrubbed
    assert redact.REDACTED in scrubbed


def test_scrub_keeps_what_is_not_secret():
    text = ("GET /stacks?show_nested=True: token_length: 12, "
            "http://h/v1/admin/stacks/x/y, status CREATE_COMPLETE")
    assert hplog.scrub(text) == text


def test_scrub_registered_secrets():
    hplog.add_secret("s3cr3t-value-xyz")
    assert hplog.scrub("auth failed for s3cr3t-value-xyz") == \
        "auth failed for " + redact.REDACTED
    hplog.add_secret("ab")              # too short to be worth it
    assert hplog.scrub("abc") == "abc"


def test_formatter_scrubs_tracebacks():
    formatter = hplog.ScrubbingFormatter("%(message)s")
    try:
        raise RuntimeError("password=hunter22")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1,
                                   "failed: %s", ("db_password: hunter22",),
                                   exc_info=True)
        import sys
        record.exc_info = sys.exc_info()
    out = formatter.format(record)
    assert "hunter22" not in out and "RuntimeError" in out


def test_keystoneauth_bodies_are_omitted():
    hplog.quiet_http_bodies()
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    handler = Keep()
    # what keystoneauth logs: unsplit loggers, then split ones
    lines = {"keystoneauth.session": [
                 ("RESP BODY: %s", '{"secret": "in-a-body-1"}'),
                 ("REQ: curl -X POST http://h -d '%s'",
                  '{"password": "in-a-body-2"}')],
             "keystoneauth.session.body": [
                 ("%s", '{"outputs": "in-a-body-3"}')],
             "keystoneauth.session.request": [
                 ("curl -X POST http://h -d '%s'",
                  '{"password": "in-a-body-4"}')]}
    for name, messages in lines.items():
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        old = logger.level
        logger.setLevel(logging.DEBUG)
        try:
            for message, body in messages:
                logger.debug(message, body)
        finally:
            logger.setLevel(old)
            logger.removeHandler(handler)
    text = "\n".join(records)
    assert len(records) == 4 and "in-a-body" not in text, text
    assert "<body omitted by heatplug" in text


# ---------------------------------------------------------------------------
# TLS: verified by default
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .sign(key, hashes.SHA256()))
    where = tmp_path_factory.mktemp("tls")
    certfile, keyfile = where / "cert.pem", where / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return str(certfile), str(keyfile)


@pytest.fixture
def tls_proxy(heat_url, tls_files):
    with faultproxy.FaultProxy(heat_url, tls=tls_files) as p:
        yield p


def test_tls_is_verified_by_default(tmp_path, tls_proxy, population):
    poller = rconf.make_poller(tmp_path, tls_proxy.url + "/v1/admin",
                               timeout=TIMEOUT)
    assert poller.connection().session.verify is True
    result = poller.poll()
    assert "stacks" in result.errors
    assert "SSLError" in result.errors["stacks"]
    assert "CERTIFICATE_VERIFY_FAILED" in result.errors["stacks"]
    assert "GET /stacks?show_nested=True" in result.errors["stacks"]


def test_tls_with_the_ca_file(tmp_path, tls_proxy, tls_files, population):
    poller = rconf.make_poller(tmp_path, tls_proxy.url + "/v1/admin",
                               cafile=tls_files[0], timeout=TIMEOUT)
    result = poller.poll()
    assert result.ok, result.errors


def test_tls_off_only_when_asked_and_said_loudly(tmp_path, tls_proxy,
                                                 population, caplog):
    poller = rconf.make_poller(tmp_path, tls_proxy.url + "/v1/admin",
                               insecure="true", timeout=TIMEOUT)
    with caplog.at_level(logging.WARNING, logger="heatplug.auth"):
        assert poller.poll().ok
    assert poller.connection().session.verify is False
    assert any("NOT verified" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------------------
# write actions: off unless enabled, and then only from the allowlist
# ---------------------------------------------------------------------------

class Writer:
    def __init__(self):
        self.calls = []

    @heatplug.hookimpl
    def heatplug_write_action(self, conn, action, args):
        self.calls.append(action)
        return "done"


@pytest.mark.parametrize("enabled,allowed,action,ok", [
    (None, None, "stacks.delete", False),            # the default
    ("true", None, "stacks.delete", False),          # enabled, empty list
    ("false", "stacks.delete", "stacks.delete", False),
    ("true", "stacks.suspend", "stacks.delete", False),
    ("true", "stacks.suspend,stacks.delete", "stacks.delete", True),
])
def test_write_actions(tmp_path, local_heat, enabled, allowed, action, ok):
    conf = rconf.write_conf(tmp_path / "w.conf", local_heat.endpoint)
    extra = []
    if enabled is not None:
        extra.append("write_actions_enabled = %s" % enabled)
    if allowed is not None:
        extra.append("write_actions_allowed = %s" % allowed)
    text = conf.read_text().replace("[heatplug]\n",
                                    "[heatplug]\n" + "".join(
                                        e + "\n" for e in extra))
    conf.write_text(text)
    from heatplug import core, manager, opts
    cfg = opts.make_conf(config_files=[str(conf)])
    plugins = manager.build_plugin_manager(cfg)
    writer = Writer()
    plugins.register(writer, name="writer")
    poller = core.Poller(cfg, plugins)
    if ok:
        assert poller.execute(action) == "done"
        assert writer.calls == [action]
    else:
        with pytest.raises(errors.WriteActionUnavailable):
            poller.execute(action)
        assert writer.calls == []


def test_a_poll_only_reads(tmp_path, keystone_proxy, population):
    """Every request a poll sends to Heat is a GET (the only POST is the
    token request to Keystone)."""
    keystone_proxy.clear()
    poller = rconf.make_poller(
        tmp_path, auth_type="password",
        auth_url=keystone_proxy.url + "/identity/v3", username="heatplug",
        password=rconf.CANARY["configured_password"], project_name="admin",
        user_domain_name="Default", project_domain_name="Default")
    assert poller.poll().ok
    methods = {(s.method, s.target.startswith("/identity"))
               for s in keystone_proxy.requests()}
    assert methods <= {("GET", False), ("POST", True), ("GET", True)}
    assert ("GET", False) in methods


def test_default_retries_back_off_exponentially():
    assert auth.DEFAULT_RETRIES["connect_retry_delay"] is None
    assert auth.DEFAULT_RETRIES["status_code_retry_delay"] is None
    assert auth.DEFAULT_RETRIES["connect_retries"] == 3
    assert auth.DEFAULT_RETRIES["status_code_retries"] == 3


# -- event properties recorded under another template version ----------------

F5_V1 = """
heat_template_version: 2018-08-31
parameters:
  hid: {type: string, hidden: true}
resources:
  v: {type: OS::Heat::Value, properties: {value: {get_param: hid}}}
  gone:
    type: OS::Heat::Value
    properties: {value: {list_join: ['-', [pw, {get_param: hid}]]}}
"""
F5_V2 = """
heat_template_version: 2018-08-31
parameters:
  hid: {type: string, hidden: true}
resources:
  v: {type: OS::Heat::Value, properties: {value: {get_param: hid}}}
"""
F5_V2_FAIL = F5_V2 + """
  added:
    type: OS::Heat::Value
    properties: {value: {list_join: ['-', [new, {get_param: hid}]]}}
  boom:
    type: OS::Heat::TestResource
    depends_on: added
    properties: {fail: true}
"""
F5_PUBLIC = """
heat_template_version: 2018-08-31
resources:
  wait:
    type: OS::Heat::TestResource
    properties: {action_wait_secs: {create: 2}}
  v:
    type: OS::Heat::Value
    depends_on: wait
    properties: {value: public}
"""


def _event_properties(heat, ident):
    """``[(resource, status, properties)]`` of every resource event of a
    stack and the stacks below it, as Heat shows them."""
    found = []
    for event in heat.events.list(ident, nested_depth=3, sort_dir="asc"):
        event = event.to_dict()
        stack = next(link["href"] for link in event["links"]
                     if link["rel"] == "stack").split("/stacks/", 1)[1]
        if event["resource_name"] == stack.split("/")[0]:
            continue                # the stack's own: no properties
        shown = heat.events.get(stack, event["resource_name"], event["id"])
        found.append((event["resource_name"], event["resource_status"],
                      shown.to_dict().get("resource_properties")))
    return found


def _update(heat, ident, template, **kwargs):
    heat.stacks.update(ident, template=yaml.safe_load(template), **kwargs)
    return functional.wait_for_stack(heat, ident, timeout=200)


def _stack(heat, name, template, **kwargs):
    return functional.create_stack(heat, name, template, **kwargs)


def _properties_rows(result, resource):
    """``{(status, key): value}`` of ``resource``'s event property rows."""
    events = {r[0]: r for r in result.tables["events"].rows}
    return {(events[eid][7], key): value
            for eid, key, value in result.tables[
                "events_resource_properties"].rows
            if events[eid][2] == resource}


def test_event_properties_of_a_resource_an_update_removed(
        local_heat, heat, tmp_path):
    """An update removes a resource built from a hidden parameter: its
    DELETE events (new, first read after the update) and its CREATE events
    hold the old properties, which the current template cannot judge.  A
    poller that ran before the update and one started after show none."""
    canary = "canary-f5-removed-4Jw2"
    poller = rconf.make_poller(tmp_path, local_heat.endpoint)
    stack = _stack(heat, "f5-removed", F5_V1, parameters={"hid": canary})
    ident = "f5-removed/%s" % stack["id"]
    try:
        assert poller.poll().ok
        assert _update(heat, ident, F5_V2, existing=True)[
            "stack_status"] == "UPDATE_COMPLETE"
        shown = _event_properties(heat, ident)
        assert ("gone", "DELETE_COMPLETE",
                {"value": "pw-" + canary}) in shown
        for result in (poller.poll(), poller.poll(),
                       rconf.make_poller(tmp_path, local_heat.endpoint,
                                         name="cold.conf").poll()):
            assert result.ok, result.errors
            assert canary not in rconf.as_json(result)
            assert _properties_rows(result, "gone")[
                ("DELETE_COMPLETE", "value")] == redact.REDACTED
    finally:
        functional.delete_stack(heat, ident)


def test_event_properties_of_an_update_rolled_back(local_heat, heat,
                                                   tmp_path):
    """An update adds a resource built from a hidden parameter, fails and
    rolls back to the template without it: that resource's CREATE and
    DELETE events hold the hidden value, and the current template knows no
    such resource."""
    canary = "canary-f5-rollback-8Pq3"
    poller = rconf.make_poller(tmp_path, local_heat.endpoint)
    stack = _stack(heat, "f5-rollback", F5_V2, parameters={"hid": canary})
    ident = "f5-rollback/%s" % stack["id"]
    try:
        assert poller.poll().ok
        assert _update(heat, ident, F5_V2_FAIL, existing=True,
                       disable_rollback=False)[
            "stack_status"] == "ROLLBACK_COMPLETE"
        assert ("added", "DELETE_COMPLETE", {"value": "new-" + canary}) \
            in _event_properties(heat, ident)
        for result in (poller.poll(),
                       rconf.make_poller(tmp_path, local_heat.endpoint,
                                         name="cold.conf").poll()):
            assert result.ok, result.errors
            assert canary not in rconf.as_json(result)
            assert _properties_rows(result, "added")
    finally:
        functional.delete_stack(heat, ident)


def test_event_properties_before_an_update_dropped_the_secret(
        local_heat, heat, tmp_path):
    """A heatplug started after an update that dropped the hidden
    parameter altogether (the template now has no secret at all): the
    first version's events, and the update's UPDATE_IN_PROGRESS of ``v``
    (Heat records the old properties), show the hidden value in Heat but
    in no row; the update's UPDATE_COMPLETE, under the current template,
    still shows its properties (``v`` waits for ``wait``: Heat's times are
    to the second, and what an update records in the second it began
    counts as possibly older)."""
    canary = "canary-f5-cold-2Xv8"
    stack = _stack(heat, "f5-cold", F5_V1, parameters={"hid": canary})
    ident = "f5-cold/%s" % stack["id"]
    try:
        assert _update(heat, ident, F5_PUBLIC, parameters={})[
            "stack_status"] == "UPDATE_COMPLETE"
        shown = _event_properties(heat, ident)
        assert ("v", "CREATE_COMPLETE", {"value": canary}) in shown
        assert ("v", "UPDATE_IN_PROGRESS", {"value": canary}) in shown
        result = rconf.make_poller(tmp_path, local_heat.endpoint).poll()
        assert result.ok, result.errors
        assert canary not in rconf.as_json(result)
        assert _properties_rows(result, "v")[
            ("UPDATE_COMPLETE", "value")] == "public"
    finally:
        functional.delete_stack(heat, ident)


def test_event_properties_of_stacks_without_secrets_show(local_heat, heat,
                                                         tmp_path):
    """A stack without secrets, never updated, shows every event property;
    one updated shows those of the resources the update created or
    updated (recorded under the current template).  (Those of events
    recorded before the update are redacted: a template heatplug did not
    see may have had a secret.)"""
    plain = """
heat_template_version: 2018-08-31
resources:
  a: {type: OS::Heat::Value, properties: {value: plain-a}}
"""
    # Heat's times are to the second: what an update creates in the second
    # it began counts as possibly older; ``b`` is created two seconds in
    more = plain + """
  wait:
    type: OS::Heat::TestResource
    properties: {action_wait_secs: {create: 2}}
  b:
    type: OS::Heat::Value
    depends_on: wait
    properties: {value: plain-b}
"""
    once = _stack(heat, "plain-once", plain)
    twice = _stack(heat, "plain-twice", plain)
    idents = ["plain-once/%s" % once["id"], "plain-twice/%s" % twice["id"]]
    try:
        assert _update(heat, idents[1], more)[
            "stack_status"] == "UPDATE_COMPLETE"
        result = rconf.make_poller(tmp_path, local_heat.endpoint).poll()
        assert result.ok, result.errors
        events = {r[0]: r for r in result.tables["events"].rows}
        shown = {(events[eid][1], events[eid][2], events[eid][7], value)
                 for eid, key, value in result.tables[
                     "events_resource_properties"].rows}
        assert {(once["id"], "a", "CREATE_IN_PROGRESS", "plain-a"),
                (once["id"], "a", "CREATE_COMPLETE", "plain-a"),
                (twice["id"], "b", "CREATE_IN_PROGRESS", "plain-b"),
                (twice["id"], "b", "CREATE_COMPLETE", "plain-b")} <= shown
    finally:
        for ident in idents:
            functional.delete_stack(heat, ident)


def test_event_properties_showing_a_resource_facade(local_heat, heat,
                                                    tmp_path):
    """``resource_facade`` shows a nested stack its owner's metadata: built
    from a hidden parameter, it shows in the nested resource's event
    properties in Heat, in no row of heatplug; a nested property not using
    it still shows."""
    canary = "canary-facade-6Hn5"
    facade = """
heat_template_version: 2018-08-31
resources:
  fac:
    type: OS::Heat::Value
    properties: {value: {resource_facade: metadata}}
  relay:
    type: OS::Heat::Value
    properties: {value: {get_attr: [fac, value]}}
  other:
    type: OS::Heat::Value
    properties: {value: facade-plain}
"""
    parent = """
heat_template_version: 2018-08-31
parameters:
  faceme: {type: string, hidden: true}
resources:
  thing: {type: facade.yaml, metadata: {blob: {get_param: faceme}}}
"""
    stack = _stack(heat, "facade", parent, files={"facade.yaml": facade},
                   parameters={"faceme": canary})
    ident = "facade/%s" % stack["id"]
    try:
        assert stack["stack_status"] == "CREATE_COMPLETE"
        assert ("fac", "CREATE_COMPLETE", {"value": {"blob": canary}}) \
            in _event_properties(heat, ident)
        result = rconf.make_poller(tmp_path, local_heat.endpoint).poll()
        assert result.ok, result.errors
        assert canary not in rconf.as_json(result)
        assert _properties_rows(result, "relay")[
            ("CREATE_COMPLETE", "value")] == redact.REDACTED
        assert _properties_rows(result, "other")[
            ("CREATE_COMPLETE", "value")] == "facade-plain"
    finally:
        functional.delete_stack(heat, ident)
