"""Run heatplug in-process with a tempest test's own credentials.

The test's credentials (dynamic ones, normally) become a heatplug
configuration file with ``[heat] auth_type = password``, exactly as an
operator would write it, plus the ``[heatplug]`` options from tempest.conf's
``[heatplug]`` group.  :class:`Heatplug` keeps one
:class:`heatplug.core.Poller` (and so one keystoneauth session and the
families' caches) across polls, as a long-running Congress driver does.
"""

import concurrent.futures
import os
import shutil
import tempfile

from tempest import config

CONF = config.CONF

#: tempest's endpoint types -> keystoneauth interfaces
INTERFACES = {"publicURL": "public", "adminURL": "admin",
              "internalURL": "internal"}


def conf_text(credentials):
    """The heatplug.conf for ``credentials`` (tempest KeystoneV3Credentials)
    and tempest.conf's ``[heatplug]`` options."""
    opts = CONF.heatplug
    heat = {
        "auth_type": "password",
        "auth_url": CONF.identity.uri_v3,
        "username": credentials.username,
        "password": credentials.password,
        "user_domain_name": credentials.user_domain_name or "Default",
        "project_name": credentials.project_name,
        "project_domain_name": credentials.project_domain_name or "Default",
        "region_name": opts.region or CONF.identity.region,
        "valid_interfaces": INTERFACES.get(opts.endpoint_type,
                                           opts.endpoint_type),
    }
    if CONF.identity.disable_ssl_certificate_validation:
        heat["insecure"] = "true"
    if CONF.identity.ca_certificates_file:
        heat["cafile"] = CONF.identity.ca_certificates_file
    heatplug = {"max_workers": opts.max_workers}
    if opts.enabled_plugins:
        heatplug["enabled_plugins"] = ",".join(opts.enabled_plugins)
    if opts.disabled_plugins:
        heatplug["disabled_plugins"] = ",".join(opts.disabled_plugins)
    lines = ["# Written by heatplug's tempest plugin", "[heat]"]
    lines += ["%s = %s" % kv for kv in heat.items() if kv[1] is not None]
    lines += ["", "[heatplug]"]
    lines += ["%s = %s" % kv for kv in heatplug.items()]
    return "\n".join(lines) + "\n"


class Heatplug:
    """heatplug for one set of credentials; call :meth:`close` when done."""

    def __init__(self, credentials):
        # Imported here: tempest lists tests without needing heatplug.
        from heatplug import core
        from heatplug import manager
        from heatplug import opts

        # The file holds the test user's password: private, and removed
        # by close() (or at once if heatplug cannot be set up).
        self._dir = tempfile.mkdtemp(prefix="heatplug-conf-")
        self.conf_file = os.path.join(self._dir, "heatplug.conf")
        self._pool = None
        try:
            fd = os.open(self.conf_file,
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(conf_text(credentials))
            self.conf = opts.make_conf(config_files=[self.conf_file])
            self.plugins = manager.build_plugin_manager(self.conf)
            self.poller = core.Poller(self.conf, self.plugins)
        except BaseException:
            self.close()
            raise
        self._pool = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="heatplug-poll")

    @property
    def families(self):
        """The families that are enabled and loaded."""
        return list(self.plugins.tables())

    def poll(self):
        """One poll, bounded by ``[heatplug] poll_timeout``."""
        future = self._pool.submit(self.poller.poll)
        return future.result(timeout=CONF.heatplug.poll_timeout)

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=False)
        shutil.rmtree(self._dir, ignore_errors=True)
