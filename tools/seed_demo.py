#!/usr/bin/env python3
"""Create heatplug's demo stacks in a (local) Heat and wait for them.

Run with the Heat venv's python (`tools/local-heat seed` does):

    seed_demo.py --endpoint http://127.0.0.1:8004/v1/admin
                 [--templates tools/demo-templates] [--timeout 120]

One stack per tools/demo-templates/<name>.yaml, named <name>. Idempotent: a
stack that already exists is not created again, only waited for. Exits
non-zero, naming the stack and Heat's reason, if any stack fails.
"""

import argparse
import glob
import os
import sys
import time

from heatclient import client as heat_client
from heatclient.common import template_utils
from heatclient import exc as heat_exc

POLL = 0.2


def parse_args(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--endpoint', required=True,
                   help='Heat endpoint incl. project, e.g. '
                        'http://127.0.0.1:8004/v1/admin')
    p.add_argument('--token', default='local-heat',
                   help='any token does for a noauth Heat')
    p.add_argument('--templates', default=os.path.join(here, 'demo-templates'))
    p.add_argument('--timeout', type=float, default=120,
                   help='seconds to wait for all stacks to complete')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # Loopback only: never through a proxy from the environment.
    os.environ['no_proxy'] = os.environ['NO_PROXY'] = '127.0.0.1,localhost'
    heat = heat_client.Client('1', endpoint=args.endpoint, token=args.token)

    paths = sorted(glob.glob(os.path.join(args.templates, '*.yaml')))
    if not paths:
        sys.exit('seed: no templates in %s' % args.templates)
    try:
        existing = {s.stack_name: s for s in heat.stacks.list()}
    except Exception as exc:
        sys.exit('seed: cannot list stacks at %s: %s' % (args.endpoint, exc))

    for path in paths:
        name = os.path.splitext(os.path.basename(path))[0]
        if name in existing:
            print('seed: %s exists (%s)' % (name,
                                            existing[name].stack_status))
            continue
        files, template = template_utils.get_template_contents(
            template_file=path)
        try:
            heat.stacks.create(stack_name=name, template=template,
                               files=files)
        except heat_exc.HTTPException as exc:
            sys.exit('seed: creating %s failed: %s' % (name, exc))
        print('seed: creating %s' % name)

    names = [os.path.splitext(os.path.basename(p))[0] for p in paths]
    pending = set(names)
    failed = []
    deadline = time.monotonic() + args.timeout
    while pending:
        for name in sorted(pending):
            stack = heat.stacks.get(name)
            status = stack.stack_status
            if status.endswith('_COMPLETE') and not status.startswith(
                    'DELETE'):
                print('seed: %s %s' % (name, status))
                pending.discard(name)
            elif not status.endswith('_IN_PROGRESS'):
                failed.append('%s is %s: %s' % (
                    name, status, stack.stack_status_reason))
                pending.discard(name)
        if pending and time.monotonic() > deadline:
            failed += ['%s still in progress after %ss' % (n, args.timeout)
                       for n in sorted(pending)]
            break
        if pending:
            time.sleep(POLL)
    if failed:
        for line in failed:
            print('seed: FAILED: ' + line, file=sys.stderr)
        print('seed: delete a broken stack (openstack stack delete NAME) '
              'and seed again', file=sys.stderr)
        return 1
    print('seed: %d demo stacks ready at %s' % (len(names), args.endpoint))
    return 0


if __name__ == '__main__':
    sys.exit(main())
