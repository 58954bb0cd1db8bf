#!/usr/bin/env python3
"""Write a tempest.conf for the local Keystone (and optionally Heat).

Used by ``tools/tempest-setup``; stdlib only, any python3::

    gen_tempest_conf.py --output WS/etc/tempest.conf --workspace-dir WS \
        --keystone-url http://127.0.0.1:5000 [--heat-available true] \
        [--heatplug-available true [--heatplug-option KEY=VALUE ...]]

Only Keystone (and, with --heat-available, Heat) exist locally, so every
other service is marked unavailable and no server validation is tried.
--heatplug-available turns on heatplug's own tempest plugin
(``[service_available] heatplug``); each --heatplug-option sets an option of
its ``[heatplug]`` group (enabled_plugins, disabled_plugins, max_workers,
poll_timeout, build_timeout, build_interval, catalog_type, endpoint_type,
region; see tempest_plugin/config.py).
"""

import argparse
import configparser
import os
import sys


def parse_bool(text):
    low = text.strip().lower()
    if low in ('true', 'yes', '1', 'on'):
        return True
    if low in ('false', 'no', '0', 'off'):
        return False
    raise argparse.ArgumentTypeError('expected true or false, got %r' % text)


def build(args):
    base = args.keystone_url.rstrip('/')
    if base.endswith('/v3'):
        base = base[:-3]
    ws = os.path.abspath(args.workspace_dir)

    conf = configparser.ConfigParser(interpolation=None)
    conf.optionxform = str  # keep option names as written
    conf['DEFAULT'] = {
        'log_dir': os.path.join(ws, 'logs'),
        'log_file': 'tempest.log',
    }
    conf['oslo_concurrency'] = {'lock_path': os.path.join(ws, 'tempest_lock')}
    conf['auth'] = {
        # Tempest creates a project + user per test class through the admin
        # account, so nothing else needs to be pre-created.
        'use_dynamic_credentials': 'true',
        'admin_username': args.admin_username,
        'admin_password': args.admin_password,
        'admin_project_name': args.admin_project,
        'admin_domain_name': 'Default',
        'default_credentials_domain_name': 'Default',
        # No neutron: do not try to create networks for dynamic credentials.
        'create_isolated_networks': 'false',
    }
    conf['identity'] = {
        'uri_v3': base + '/v3',
        'auth_version': 'v3',
        'region': args.region,
        'v3_endpoint_type': 'public',
        'admin_role': 'admin',
    }
    # Deprecated and without effect in tempest 47 (v2 tests are gone);
    # set anyway so an older tempest does not try identity v2.
    conf['identity-feature-enabled'] = {'api_v2': 'false'}
    conf['service_available'] = {
        'nova': 'false',
        'cinder': 'false',
        'neutron': 'false',
        'glance': 'false',
        'swift': 'false',
        # Registered by heat-tempest-plugin; harmless without the plugin.
        'heat': 'true' if args.heat_available else 'false',
        # Registered by heatplug's own plugin (tempest_plugin/).
        'heatplug': 'true' if args.heatplug_available else 'false',
    }
    conf['validation'] = {'run_validation': 'false'}
    if args.heat_available:
        # heat-tempest-plugin's options (group [heat_plugin]); it uses fixed
        # accounts, not dynamic ones: the 'demo' user that
        # 'tools/local-keystone setup-heat' creates (member +
        # heat_stack_owner in project demo).
        conf['heat_plugin'] = {
            'auth_url': base + '/v3',
            'region': args.region,
            'username': args.heat_username,
            'password': args.heat_password,
            'project_name': args.heat_project,
            'admin_username': args.admin_username,
            'admin_password': args.admin_password,
            'admin_project_name': args.admin_project,
            'user_domain_name': 'Default',
            'project_domain_name': 'Default',
            # Scenario tests boot servers (nova/neutron/glance): not here.
            'skip_scenario_tests': 'true',
        }
    if args.heatplug_available:
        heatplug = {'catalog_type': 'orchestration',
                    'endpoint_type': 'publicURL',
                    'build_interval': '1',
                    'build_timeout': '300',
                    'poll_timeout': '300'}
        for item in args.heatplug_option:
            key, _, value = item.partition('=')
            heatplug[key.strip()] = value.strip()
        conf['heatplug'] = heatplug
    return conf


def heatplug_option(text):
    key, sep, _ = text.partition('=')
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError('expected KEY=VALUE, got %r' % text)
    return text


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--output', required=True, help='tempest.conf to write')
    p.add_argument('--workspace-dir', required=True,
                   help='the tempest workspace (holds logs/, tempest_lock/)')
    p.add_argument('--keystone-url', required=True,
                   help='Keystone base URL, with or without /v3')
    p.add_argument('--heat-available', type=parse_bool, default=False)
    p.add_argument('--heatplug-available', type=parse_bool, default=False,
                   help="[service_available] heatplug (heatplug's tempest "
                        "plugin)")
    p.add_argument('--heatplug-option', type=heatplug_option,
                   action='append', default=[], metavar='KEY=VALUE',
                   help='an option of the [heatplug] group (repeatable)')
    p.add_argument('--region', default='RegionOne')
    p.add_argument('--admin-username', default='admin')
    p.add_argument('--admin-project', default='admin')
    p.add_argument('--admin-password',
                   default=os.environ.get('HEATPLUG_KEYSTONE_ADMIN_PASSWORD',
                                          'admin-secret'))
    p.add_argument('--heat-username', default='demo')
    p.add_argument('--heat-project', default='demo')
    p.add_argument('--heat-password',
                   default=os.environ.get('HEATPLUG_KEYSTONE_DEMO_PASSWORD',
                                          'demo-secret'))
    args = p.parse_args(argv)

    conf = build(args)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, 'w') as f:
        f.write('# Written by tools/gen_tempest_conf.py; regenerated by '
                'tools/tempest-setup.\n')
        conf.write(f)
    return 0


if __name__ == '__main__':
    sys.exit(main())
