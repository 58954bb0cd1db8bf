#!/usr/bin/env python3
"""Create in Keystone what a Keystone-authenticated Heat needs (idempotent).

Run by ``tools/local-keystone setup-heat`` with the Keystone venv's python.
Reads the admin credentials from OS_AUTH_URL / OS_PASSWORD / OS_REGION_NAME
(user ``admin``, project ``admin``, domain ``Default``) and prints a JSON
summary of ids and URLs on stdout; progress goes to stderr.

Creates (or finds): project ``service``; user ``heat`` with role ``admin``
in it; roles ``heat_stack_owner``, ``heat_stack_user``, ``member``,
``reader``; domain ``heat`` with user ``heat_domain_admin`` (admin of that
domain); services ``heat`` (orchestration) and ``heat-cfn``
(cloudformation) with public/internal/admin endpoints; project ``demo``
with user ``demo`` (roles member + heat_stack_owner).
"""

import argparse
import json
import os
import sys

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3 as ks_v3
from keystoneclient.v3 import client as ks_client

INTERFACES = ('public', 'internal', 'admin')


def log(msg):
    sys.stderr.write('setup-heat: %s\n' % msg)


def find_one(manager, **filters):
    # list() filters server side on name (and domain); compare again locally
    # because some managers ignore unknown filters.
    name = filters.get('name')
    found = [x for x in manager.list(**filters)
             if name is None or x.name == name]
    return found[0] if found else None


def ensure_domain(ks, name, description):
    dom = find_one(ks.domains, name=name)
    if dom is None:
        dom = ks.domains.create(name=name, description=description)
        log('created domain %s' % name)
    return dom


def ensure_project(ks, name, domain, description):
    proj = find_one(ks.projects, name=name, domain=domain)
    if proj is None:
        proj = ks.projects.create(name=name, domain=domain,
                                  description=description)
        log('created project %s' % name)
    return proj


def ensure_role(ks, name):
    # Global roles only (domain_id None); bootstrap made admin/member/reader.
    role = next((r for r in ks.roles.list(name=name)
                 if r.name == name and not getattr(r, 'domain_id', None)),
                None)
    if role is None:
        role = ks.roles.create(name=name)
        log('created role %s' % name)
    return role


def ensure_user(ks, name, password, domain, default_project=None):
    user = find_one(ks.users, name=name, domain=domain)
    if user is None:
        user = ks.users.create(name=name, password=password, domain=domain,
                               default_project=default_project, enabled=True)
        log('created user %s' % name)
    elif not user.enabled or not _password_works(ks, user, password):
        # Only on a change: a password update revokes the user's tokens,
        # which would break a Heat already running with them.
        ks.users.update(user, password=password, enabled=True)
        log('reset password of user %s' % name)
    return user


def _password_works(ks, user, password):
    auth = ks_v3.Password(auth_url=ks.session.auth.auth_url,
                          user_id=user.id, password=password)
    try:
        ks_session.Session(auth=auth).get_token()
        return True
    except ks_exc.Unauthorized:
        return False


def ensure_grant(ks, role, user, project=None, domain=None):
    # role grants are idempotent (PUT).
    ks.roles.grant(role, user=user, project=project, domain=domain)


def ensure_service(ks, name, type_, description):
    svc = next((s for s in ks.services.list(type=type_) if s.name == name),
               None)
    if svc is None:
        svc = ks.services.create(name=name, type=type_,
                                 description=description, enabled=True)
        log('created service %s (%s)' % (name, type_))
    return svc


def ensure_endpoints(ks, service, url, region):
    ids = {}
    existing = ks.endpoints.list(service=service, region=region)
    for iface in INTERFACES:
        ep = next((e for e in existing if e.interface == iface), None)
        if ep is None:
            ep = ks.endpoints.create(service=service, url=url,
                                     interface=iface, region=region,
                                     enabled=True)
            log('created %s endpoint %s' % (iface, url))
        elif ep.url != url:
            ep = ks.endpoints.update(ep, url=url)
            log('moved %s endpoint to %s' % (iface, url))
        ids[iface] = ep.id
    return ids


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--heat-port', type=int, required=True,
                        help='port of heat-api (orchestration endpoints)')
    parser.add_argument('--cfn-port', type=int, default=8000,
                        help='port for the cloudformation endpoints '
                             '(heat-api-cfn; default 8000, not served)')
    parser.add_argument('--heat-host', default='127.0.0.1')
    args = parser.parse_args()

    auth_url = os.environ['OS_AUTH_URL']
    region = os.environ.get('OS_REGION_NAME', 'RegionOne')
    heat_pw = os.environ.get('HEATPLUG_KEYSTONE_HEAT_PASSWORD', 'heat-secret')
    dom_admin_pw = os.environ.get(
        'HEATPLUG_KEYSTONE_HEAT_DOMAIN_ADMIN_PASSWORD', 'heat-domain-secret')
    demo_pw = os.environ.get('HEATPLUG_KEYSTONE_DEMO_PASSWORD', 'demo-secret')

    auth = ks_v3.Password(auth_url=auth_url, username='admin',
                          password=os.environ['OS_PASSWORD'],
                          project_name='admin',
                          user_domain_id='default',
                          project_domain_id='default')
    sess = ks_session.Session(auth=auth)
    ks = ks_client.Client(session=sess, interface='public',
                          region_name=region)
    default = ks.domains.get('default')

    roles = {name: ensure_role(ks, name)
             for name in ('admin', 'member', 'reader',
                          'heat_stack_owner', 'heat_stack_user')}

    # Service project + the 'heat' service user (keystone_authtoken, trustee).
    service = ensure_project(ks, 'service', default, 'Service project')
    heat_user = ensure_user(ks, 'heat', heat_pw, default, service)
    ensure_grant(ks, roles['admin'], heat_user, project=service)

    # Domain for the users Heat creates for stacks (stack_user_domain_name)
    # and its admin (stack_domain_admin).
    heat_domain = ensure_domain(ks, 'heat', 'Owns users and projects '
                                            'created by heat')
    dom_admin = ensure_user(ks, 'heat_domain_admin', dom_admin_pw,
                            heat_domain)
    ensure_grant(ks, roles['admin'], dom_admin, domain=heat_domain)

    # Catalog. orchestration = heat-api with the project in the URL;
    # cloudformation = heat-api-cfn, conventionally port 8000 and '/v1'
    # without a project. heat-api-cfn is not run here, but Heat looks the
    # entry up (StructuredConfig, OS::Heat::Stack, metadata URLs) and fails
    # with "cloudformation endpoint is not in service catalog" without it.
    orch_url = 'http://%s:%d/v1/%%(tenant_id)s' % (args.heat_host,
                                                   args.heat_port)
    cfn_url = 'http://%s:%d/v1' % (args.heat_host, args.cfn_port)
    orch = ensure_service(ks, 'heat', 'orchestration', 'Orchestration')
    cfn = ensure_service(ks, 'heat-cfn', 'cloudformation',
                         'Orchestration (CloudFormation API)')
    orch_eps = ensure_endpoints(ks, orch, orch_url, region)
    cfn_eps = ensure_endpoints(ks, cfn, cfn_url, region)

    # A plain tenant to own stacks.
    demo = ensure_project(ks, 'demo', default, 'Demo project')
    demo_user = ensure_user(ks, 'demo', demo_pw, default, demo)
    for r in ('member', 'heat_stack_owner'):
        ensure_grant(ks, roles[r], demo_user, project=demo)

    admin_project = find_one(ks.projects, name='admin', domain=default)
    admin_user = find_one(ks.users, name='admin', domain=default)
    summary = {
        'auth_url': auth_url,
        'region': region,
        'default_domain_id': default.id,
        'admin': {'user_id': admin_user.id, 'user_name': 'admin',
                  'project_id': admin_project.id, 'project_name': 'admin'},
        'roles': {name: r.id for name, r in sorted(roles.items())},
        'service_project': {'id': service.id, 'name': 'service'},
        'heat_user': {'id': heat_user.id, 'name': 'heat',
                      'password': heat_pw, 'project': 'service',
                      'domain': 'Default'},
        'heat_domain': {'id': heat_domain.id, 'name': 'heat'},
        'heat_domain_admin': {'id': dom_admin.id,
                              'name': 'heat_domain_admin',
                              'password': dom_admin_pw},
        'orchestration': {'service_id': orch.id, 'url': orch_url,
                          'endpoint_ids': orch_eps},
        'cloudformation': {'service_id': cfn.id, 'url': cfn_url,
                           'endpoint_ids': cfn_eps},
        'demo': {'project_id': demo.id, 'project_name': 'demo',
                 'user_id': demo_user.id, 'user_name': 'demo',
                 'password': demo_pw,
                 'roles': ['member', 'heat_stack_owner']},
    }
    json.dump(summary, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write('\n')


if __name__ == '__main__':
    try:
        main()
    except ks_exc.ClientException as exc:
        # e.g. Unauthorized (wrong admin password), ConnectFailure.
        log('error: %s: %s' % (type(exc).__name__, exc))
        sys.exit(1)
