#!/usr/bin/env python3
"""Helpers for tools/local-heat; run with the Heat venv's python.

    heat_config.py write --state-dir D --port P --venv V [--isolated-projects]
        Write heat.conf, policy.yaml and token_response.json into D (noauth).
    heat_config.py write --state-dir D --port P --venv V --keystone SUMMARY
                         [--token-cache-time S]
        Write a Keystone-authenticated heat.conf and policy.yaml into D, from
        the JSON summary that `tools/local-keystone setup-heat` prints.
    heat_config.py fix-sqlite --db FILE
        Rebuild Heat's integer-id tables with AUTOINCREMENT (idempotent).
    heat_config.py wait --port P --pid PID [--timeout S]
        Wait until the server with that pid answers GET http://127.0.0.1:P/.

`write` appends the text of the environment variable HEATPLUG_HEAT_EXTRA_CONF,
when set and not empty, to heat.conf as it is (heat.conf syntax, section
headers included: a line `[DEFAULT]`, then `max_events_per_stack = 20`): a
test that needs a Heat option the default configuration leaves alone sets
it for its own `tools/local-heat start` (tests/functional/heat_fixture.py
LocalHeat(extra_conf=...)).  Unset, heat.conf is unchanged.

Only the standard library is used, so this also runs with a plain python3.
"""

import argparse
import json
import os
import re
import sqlite3
import sys
import time
import urllib.error
import urllib.request

HOST = '127.0.0.1'
# The server adds this header to every response, so 'wait' can tell our
# process from anything else that happens to answer on the port.
PID_HEADER = 'X-Local-Heat-Pid'
# Heat's hidden_stack_tags in every local Heat (see heat_conf).
HIDDEN_TAG = 'heatplug-hidden'
FAKE_KEYSTONE = ('heat.engine.clients.os.keystone.fake_keystoneclient.'
                 'FakeKeystoneClient')
# Extra heat.conf text `write` appends (see the module docs).
EXTRA_CONF_ENV = 'HEATPLUG_HEAT_EXTRA_CONF'


def _with_extra(conf_text):
    """``conf_text`` with the text of :data:`EXTRA_CONF_ENV` appended."""
    extra = os.environ.get(EXTRA_CONF_ENV, '').strip()
    if not extra:
        return conf_text
    return '%s\n# From %s (a test asked for it):\n%s\n' % (
        conf_text, EXTRA_CONF_ENV, extra)


def _write(path, text):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def heat_conf(state_dir, port, venv, policy_file, token_file):
    db = os.path.join(state_dir, 'heat.sqlite')
    paste = os.path.join(venv, 'etc', 'heat', 'api-paste.ini')
    if not os.path.isfile(paste):
        raise SystemExit('heat_config: %s not found (is the Heat venv '
                         'installed?)' % paste)
    return f"""\
# Written by tools/local-heat: a one-process Heat for tests. Do not edit;
# it is rewritten on every start.
[DEFAULT]
# Engine name (RPC server name); each instance has its own fake:// bus.
host = local-heat-{port}
# No broker: the fake driver works only inside one process, which is why
# tools/heat_server.py runs the API and the engine together.
transport_url = fake://
# Engine-side Keystone calls (stack users, trusts, ec2 keys) go to a fake.
keystone_backend = {FAKE_KEYSTONE}
deferred_auth_method = password
# startup_sanity_check() insists on exactly 32 characters.
auth_encryption_key = heatplug-local-heat-key-32-chars
enable_stack_abandon = true
enable_stack_adopt = true
# Tests create many stacks in one server; the default quota is 512.
max_stacks_per_tenant = 10000
# Stacks with this tag are left out of Heat's stack list unless it is asked
# with show_hidden (Sahara's clusters are hidden this way); the tests check
# that heatplug still sees them.
hidden_stack_tags = {HIDDEN_TAG}
debug = false

[database]
connection = sqlite:///{db}
# Durability does not matter here; skipping fsync makes writes much faster.
sqlite_synchronous = false

[paste_deploy]
# 'noauth': any X-Auth-Token is accepted; role admin, project admin
# (override the project with an X-Auth-Project header).
flavor = noauth
api_paste_config = {paste}

[noauth]
# Fake Keystone token whose catalog lists orchestration and cloudformation;
# OS::Heat::Stack and StructuredConfig look their endpoints up there.
token_response = {token_file}

[oslo_policy]
# oslo.policy 6 enforces the new scoped defaults, which need roles noauth
# never sends (every call was 403); use the deprecated role-based rules.
enforce_new_defaults = false
enforce_scope = false
policy_file = {policy_file}
"""


def keystone_heat_conf(state_dir, port, venv, policy_file, summary,
                       token_cache_time=None):
    """heat.conf for a Heat behind a real Keystone (the default paste flavor).

    ``summary`` is the JSON ``tools/local-keystone setup-heat`` printed: the
    Keystone URL, the ``heat`` service user, the ``heat`` stack user domain
    and its ``heat_domain_admin``.
    """
    db = os.path.join(state_dir, 'heat.sqlite')
    paste = os.path.join(venv, 'etc', 'heat', 'api-paste.ini')
    if not os.path.isfile(paste):
        raise SystemExit('heat_config: %s not found (is the Heat venv '
                         'installed?)' % paste)
    try:
        auth_url = summary['auth_url'].rstrip('/')
        region = summary.get('region') or 'RegionOne'
        heat_user = summary['heat_user']
        domain = summary['heat_domain']['name']
        domain_admin = summary['heat_domain_admin']
    except (KeyError, TypeError, AttributeError) as exc:
        raise SystemExit('heat_config: the Keystone summary lacks %s (is it '
                         'the output of local-keystone setup-heat?)' % exc)
    base = auth_url[:-3] if auth_url.endswith('/v3') else auth_url
    v3 = base + '/v3'
    cache = ''
    if token_cache_time is not None:
        cache = ('# Seconds a validated token is cached (-1: never; every '
                 'request is\n# checked with Keystone, so a revoked token '
                 'fails at once).\ntoken_cache_time = %d\n'
                 % token_cache_time)

    def password_auth(user, project=True):
        lines = ['auth_type = password', 'auth_url = %s' % v3,
                 'username = %s' % user['name'],
                 'password = %s' % user['password'],
                 'user_domain_name = %s' % user.get('domain', 'Default')]
        if project:
            lines += ['project_name = %s' % user.get('project', 'service'),
                      'project_domain_name = %s' % user.get('domain',
                                                            'Default')]
        return '\n'.join(lines)

    return f"""\
# Written by tools/local-heat start --keystone: a one-process Heat for tests
# that authenticates through a real Keystone. Do not edit; it is rewritten on
# every start.
[DEFAULT]
host = local-heat-{port}
transport_url = fake://
# The engine's Keystone calls (trusts, stack domain users and projects, ec2
# keys) go to the real Keystone (the default keystone_backend); deferred
# operations use trusts to the [trustee] user (the default, and the only
# method left: deferred_auth_method is deprecated).
auth_encryption_key = heatplug-local-heat-key-32-chars
region_name_for_services = {region}
# Users and projects Heat creates for stacks (DeployedServer, wait
# conditions, software deployments) live in their own domain, managed by
# its own admin.
stack_user_domain_name = {domain}
stack_domain_admin = {domain_admin['name']}
stack_domain_admin_password = {domain_admin['password']}
enable_stack_abandon = true
enable_stack_adopt = true
max_stacks_per_tenant = 10000
hidden_stack_tags = {HIDDEN_TAG}
debug = false

[database]
connection = sqlite:///{db}
sqlite_synchronous = false

[paste_deploy]
# No flavor: the default pipeline, with keystonemiddleware's authtoken.
api_paste_config = {paste}

[keystone_authtoken]
www_authenticate_uri = {v3}
region_name = {region}
{password_auth(heat_user)}
{cache}
[trustee]
# Heat acts on stacks later (deletes, signals) through trusts to this user.
{password_auth(heat_user, project=False)}

[clients_keystone]
auth_uri = {base}

[clients]
endpoint_type = publicURL

[oslo_policy]
# Heat's own defaults (member creates, reader reads, admin sees all).
policy_file = {policy_file}
"""


def keystone_policy_yaml():
    return ('# Written by tools/local-heat start --keystone: no overrides, '
            'Heat\'s\n# defaults apply.\n{}\n')


def policy_yaml(isolated_projects):
    lines = [
        '# Written by tools/local-heat. Rules the noauth admin needs that the',
        '# defaults deny (even with enforce_new_defaults = false).',
        '"software_deployments:metadata": ""',
        '"stacks:global_index": ""',
        '"software_configs:global_index": ""',
    ]
    if isolated_projects:
        lines += [
            '# --isolated-projects: nobody is a cloud admin, so each project',
            '# (X-Auth-Project header) sees only its own stacks and configs.',
            '"context_is_admin": "!"',
        ]
    return '\n'.join(lines) + '\n'


def token_response(port):
    base = 'http://%s:%d' % (HOST, port)

    def service(stype, name, url):
        return {
            'id': name, 'type': stype, 'name': name,
            'endpoints': [
                {'id': '%s-%s' % (name, iface), 'interface': iface,
                 'region': 'RegionOne', 'region_id': 'RegionOne', 'url': url}
                for iface in ('public', 'internal', 'admin')],
        }

    domain = {'id': 'default', 'name': 'Default'}
    return {'token': {
        'methods': ['token'],
        'issued_at': '2020-01-01T00:00:00.000000Z',
        'expires_at': '2099-01-01T00:00:00.000000Z',
        'user': {'id': 'admin', 'name': 'admin', 'domain': domain},
        'project': {'id': 'admin', 'name': 'admin', 'domain': domain},
        'roles': [{'id': 'admin', 'name': 'admin'}],
        'catalog': [
            service('orchestration', 'heat', base + '/v1/admin'),
            # Nothing serves the CFN API here; the URL only has to exist for
            # resources that compute metadata/signal URLs from it.
            service('cloudformation', 'heat-cfn', base + '/v1'),
        ],
    }}


def cmd_write(args):
    state_dir = os.path.abspath(args.state_dir)
    os.makedirs(state_dir, exist_ok=True)
    policy_file = os.path.join(state_dir, 'policy.yaml')
    token_file = os.path.join(state_dir, 'token_response.json')
    if args.keystone:
        if args.isolated_projects:
            raise SystemExit('heat_config: --isolated-projects is for the '
                             'noauth Heat only')
        try:
            with open(args.keystone) as f:
                summary = json.load(f)
        except (OSError, ValueError) as exc:
            raise SystemExit('heat_config: cannot read the Keystone summary '
                             '%s: %s' % (args.keystone, exc))
        _write(policy_file, keystone_policy_yaml())
        if os.path.exists(token_file):
            os.unlink(token_file)       # a leftover of a noauth start
        _write(os.path.join(state_dir, 'heat.conf'), _with_extra(
            keystone_heat_conf(state_dir, args.port,
                               os.path.abspath(args.venv), policy_file,
                               summary, args.token_cache_time)))
        return
    _write(policy_file, policy_yaml(args.isolated_projects))
    _write(token_file, json.dumps(token_response(args.port), indent=2) + '\n')
    _write(os.path.join(state_dir, 'heat.conf'), _with_extra(
        heat_conf(state_dir, args.port, os.path.abspath(args.venv),
                  policy_file, token_file)))


# `id INTEGER NOT NULL, ... PRIMARY KEY (id)` as SQLAlchemy emits it.
_ID_COL = re.compile(r'^(\s*)id INTEGER NOT NULL,', re.M)
_PK = re.compile(r',\s*PRIMARY KEY \(id\)')


def cmd_fix_sqlite(args):
    """Give every integer-id table AUTOINCREMENT.

    Without it sqlite hands out max(rowid)+1, so an id freed by a delete is
    reused; Heat deletes some rows by stale integer ids and then removes the
    new owner's row ("ResourcePropertiesData with id N not found", stacks
    stuck in UPDATE_IN_PROGRESS). Follows sqlite's documented 12-step table
    rebuild: create the new table, copy, drop the old one, rename, re-index.
    """
    conn = sqlite3.connect(args.db, isolation_level=None)
    try:
        conn.execute('PRAGMA foreign_keys = OFF')
        conn.execute('BEGIN IMMEDIATE')
        # Heat itself leaves dangling references (sqlite does not enforce
        # them), so only complain about ones the rebuild would add.
        dangling = set(conn.execute('PRAGMA foreign_key_check').fetchall())
        tables = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%'").fetchall()
        fixed = []
        for name, sql in tables:
            if 'AUTOINCREMENT' in sql or not (_ID_COL.search(sql) and
                                              _PK.search(sql)):
                continue
            indexes = [r[0] for r in conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = ? AND sql IS NOT NULL", (name,))]
            new_sql = _PK.sub('', _ID_COL.sub(
                r'\1id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,', sql, 1))
            tmp = name + '__autoinc'
            new_sql = new_sql.replace('CREATE TABLE %s ' % name,
                                      'CREATE TABLE "%s" ' % tmp, 1)
            if tmp not in new_sql:
                raise SystemExit('heat_config: cannot rewrite table %s' % name)
            conn.execute(new_sql)
            conn.execute('INSERT INTO "%s" SELECT * FROM "%s"' % (tmp, name))
            conn.execute('DROP TABLE "%s"' % name)
            conn.execute('ALTER TABLE "%s" RENAME TO "%s"' % (tmp, name))
            for index_sql in indexes:
                conn.execute(index_sql)
            fixed.append(name)
        problems = [p for p in conn.execute('PRAGMA foreign_key_check')
                    if p not in dangling]
        if problems:
            conn.execute('ROLLBACK')
            raise SystemExit('heat_config: foreign key check failed: %r'
                             % problems[:5])
        conn.execute('COMMIT')
    finally:
        conn.close()
    if fixed:
        print('heat_config: AUTOINCREMENT added to: %s' % ', '.join(fixed))


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited child not yet reaped) is not alive for our purposes.
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return True


def cmd_wait(args):
    url = 'http://%s:%d/' % (HOST, args.port)
    # Never send loopback traffic through a proxy from the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + args.timeout
    last = 'no answer yet'
    while time.monotonic() < deadline:
        if not _pid_alive(args.pid):
            print('heat_config: server process %d exited' % args.pid,
                  file=sys.stderr)
            return 1
        headers = None
        try:
            with opener.open(url, timeout=2) as resp:
                status, headers = resp.status, resp.headers
        except urllib.error.HTTPError as exc:   # Heat answers / with 300
            status, headers = exc.code, exc.headers
        except OSError as exc:
            last = str(exc)
        if headers is not None:
            owner = headers.get(PID_HEADER)
            if owner != str(args.pid):
                last = 'port %d answered, but not by pid %d (%s=%s)' % (
                    args.port, args.pid, PID_HEADER, owner)
            elif status != 503:                  # 503: still starting
                return 0
            else:
                last = 'still starting'
        time.sleep(0.1)
    print('heat_config: %s did not answer within %ss (%s)'
          % (url, args.timeout, last), file=sys.stderr)
    return 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('write')
    p.add_argument('--state-dir', required=True)
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--venv', required=True)
    p.add_argument('--isolated-projects', action='store_true')
    p.add_argument('--keystone', metavar='SUMMARY_JSON',
                   help='write a Keystone-authenticated heat.conf from '
                        'this setup-heat summary')
    p.add_argument('--token-cache-time', type=int, default=None,
                   help='[keystone_authtoken] token_cache_time (-1: no '
                        'cache); only with --keystone')
    p.set_defaults(func=cmd_write)
    p = sub.add_parser('fix-sqlite')
    p.add_argument('--db', required=True)
    p.set_defaults(func=cmd_fix_sqlite)
    p = sub.add_parser('wait')
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--pid', type=int, required=True)
    p.add_argument('--timeout', type=float, default=60)
    p.set_defaults(func=cmd_wait)
    args = parser.parse_args(argv)
    return args.func(args) or 0


if __name__ == '__main__':
    sys.exit(main())
