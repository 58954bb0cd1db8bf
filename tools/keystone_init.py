#!/usr/bin/env python3
r"""Run several ``keystone-manage`` commands in ONE Python process.

Used by ``tools/local-keystone start``, with the Keystone venv's python::

    keystone_init.py CONFIG_FILE -- db_sync \
        -- fernet_setup --keystone-user u ...

Each ``keystone-manage`` run spends ~2.6 s importing keystone; start-up
needs four of them (db_sync, fernet_setup, credential_setup, bootstrap),
so running them in one process saves ~8 s per start.
"""

import sys


def split_commands(args):
    cmds, cur = [], []
    for a in args:
        if a == '--':
            if cur:
                cmds.append(cur)
            cur = []
        else:
            cur.append(a)
    if cur:
        cmds.append(cur)
    return cmds


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    config_file = sys.argv[1]
    commands = split_commands(sys.argv[2:])
    # Keystone's config parser would also read our own sys.argv.
    sys.argv = ['keystone-manage']

    from keystone.cmd import cli
    import keystone.conf

    conf = keystone.conf.CONF
    first = True
    for cmd in commands:
        argv = ['keystone-manage', '--config-file', config_file] + cmd
        sys.stderr.write('keystone_init: keystone-manage %s\n' % ' '.join(cmd))
        sys.stderr.flush()
        if first:
            # Registers the sub-command option, sets up sql and logging.
            cli.main(argv=argv)
            first = False
        else:
            # oslo.config clears and re-parses when called again.
            conf(args=argv[1:], project='keystone')
            conf.command.cmd_class.main()


if __name__ == '__main__':
    main()
