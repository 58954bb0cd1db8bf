"""Record what families fetch from a real Heat, as translation fixtures.

    OS_AUTH_TYPE=none OS_ENDPOINT=http://127.0.0.1:8004/v1/admin \
        python tools/record_fixtures.py stacks resources ...

writes ``tests/fixtures/<family>.json``: exactly the raw value the family's
``heatplug_fetch`` returned, which its translation tests feed to
``heatplug_translate``.  Record against the local Heat populated with the
test stacks (``tests/functional/population``), never against a production
cloud: the files are committed.
"""

import argparse
import json
import pathlib
import sys

from heatplug import context
from heatplug import core
from heatplug import manager
from heatplug import opts

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("families", nargs="+")
    parser.add_argument("--out", type=pathlib.Path, default=OUT)
    args = parser.parse_args(argv)
    conf = opts.make_conf()
    conf.set_override("enabled_plugins", args.families, "heatplug")
    plugins = manager.build_plugin_manager(conf)
    if plugins.load_errors:
        sys.exit("cannot load: %s" % plugins.load_errors)
    poller = core.Poller(conf, plugins)
    conn = poller.connection()
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        ctx = context.PollContext(conn, conf, pool)
        for name in args.families:
            raw = plugins.fetch(name, context.FamilyContext(ctx, name, {}))
            args.out.mkdir(parents=True, exist_ok=True)
            path = args.out / ("%s.json" % name)
            path.write_text(json.dumps(raw, indent=1, sort_keys=True,
                                       default=str) + "\n")
            print("wrote %s" % path)


if __name__ == "__main__":
    main()
