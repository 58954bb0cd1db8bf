"""Options: the committed sample is current, secrets are marked secret."""

import pathlib
import subprocess
import sys

from keystoneauth1 import loading as ks_loading

from heatplug import opts

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_sample_config_is_current(tmp_path):
    out = tmp_path / "sample"
    subprocess.run(
        [sys.executable, "-m", "oslo_config.generator",
         "--config-file",
         str(REPO / "etc/oslo-config-generator/heatplug.conf"),
         "--output-file", str(out)], check=True, cwd=REPO)
    sample = (REPO / "etc/heatplug.conf.sample").read_text()
    assert out.read_text() == sample, \
        "regenerate: oslo-config-generator --config-file " \
        "etc/oslo-config-generator/heatplug.conf"


def test_secret_options_are_secret():
    secret = {o.name for _, group in opts.list_opts() for o in group
              if o.secret}
    assert {"password"} <= secret


def test_every_listed_option_is_registered_or_an_auth_plugin_option():
    conf = opts.make_conf()
    # keystoneauth registers an auth plugin's own options when it loads it.
    plugin_opts = {o.name for o in
                   ks_loading.get_auth_plugin_conf_options("password")}
    for group, options in opts.list_opts():
        for opt in options:
            if group == opts.HEAT_GROUP and opt.name in plugin_opts:
                continue
            assert opt.dest in conf[group], (group, opt.name)
