"""Start and stop a real local Heat for functional tests.

Plain helpers (no pytest imports) around ``tools/local-heat``, meant for the
project's session fixtures::

    heat = LocalHeat()
    heat.start()            # free port, temporary state dir
    heat.seed()             # optional: the demo stacks
    hc = heat.client()      # heatclient v1 client, any token
    ...
    heat.stop()

Several instances can run at once (each has its own port, sqlite file and
in-process fake:// message bus). This module runs in the project's venv;
Heat itself runs from its own venv (``HEATPLUG_HEAT_VENV``, default
``<repo>/.venv-heat``), installed by the script on first use.

Set ``HEATPLUG_HEAT_ENDPOINT`` to use an already running Heat instead: then
``start()`` and ``stop()`` do nothing.
"""

import os
import shutil
import socket
import subprocess
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, 'tools', 'local-heat')
ENDPOINT_ENV = 'HEATPLUG_HEAT_ENDPOINT'

__all__ = ['LocalHeat', 'LocalHeatError', 'free_port']


class LocalHeatError(RuntimeError):
    """tools/local-heat failed; the message carries its output."""


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _run(args, timeout, env=None):
    try:
        proc = subprocess.run([SCRIPT] + args, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        raise LocalHeatError('tools/local-heat %s timed out after %ss:\n%s'
                             % (' '.join(args), timeout, exc.output or ''))
    if proc.returncode != 0:
        raise LocalHeatError('tools/local-heat %s failed (exit %d):\n%s'
                             % (' '.join(args), proc.returncode, proc.stdout))
    return proc.stdout


class LocalHeat:
    """One local Heat server (API + engine, noauth, sqlite).

    :param fast: scale Heat's internal sleeps by 0.05 (default True).
    :param rpc_poll: poll interval in seconds of the fake:// RPC listeners
        (None: oslo.messaging's 0.05 s; 0.005 makes API calls ~3x faster).
    :param isolated_projects: make no project a cloud admin, so each
        ``X-Auth-Project`` sees only its own stacks.
    :param keep_state: keep the state dir (log, database) after ``stop()``.
    :param extra_conf: heat.conf text appended to the generated one (section
        headers included, e.g. ``"[DEFAULT]\nmax_events_per_stack = 20\n"``;
        ``tools/heat_config.py``, ``HEATPLUG_HEAT_EXTRA_CONF``); None: the
        default configuration.
    """

    #: seconds allowed for install (first use) plus start-up
    start_timeout = 1200

    def __init__(self, fast=True, rpc_poll=None, isolated_projects=False,
                 keep_state=False, extra_conf=None):
        self.fast = fast
        self.extra_conf = extra_conf
        self.rpc_poll = rpc_poll
        self.isolated_projects = isolated_projects
        self.keep_state = keep_state
        self.port = None
        self.state_dir = None
        self._external = None

    @property
    def endpoint(self):
        """``http://127.0.0.1:PORT/v1/admin`` (project ``admin``)."""
        if self._external:
            return self._external
        if self.port is None:
            raise LocalHeatError('LocalHeat is not started')
        return 'http://127.0.0.1:%d/v1/admin' % self.port

    @property
    def log_file(self):
        return self.state_dir and os.path.join(self.state_dir, 'heat.log')

    def start(self):
        """Start the server on a free port; returns the endpoint."""
        self._external = os.environ.get(ENDPOINT_ENV) or None
        if self._external:
            return self._external
        if self.port is not None:
            return self.endpoint
        self.state_dir = tempfile.mkdtemp(prefix='heatplug-heat-')
        options = ['--fast' if self.fast else '--no-fast']
        if self.rpc_poll is not None:
            options += ['--rpc-poll', str(self.rpc_poll)]
        if self.isolated_projects:
            options.append('--isolated-projects')
        env = dict(os.environ)
        env.pop('HEATPLUG_HEAT_EXTRA_CONF', None)
        if self.extra_conf:
            env['HEATPLUG_HEAT_EXTRA_CONF'] = self.extra_conf
        last_error = None
        for _ in range(3):   # the free port may be taken before Heat binds it
            port = free_port()
            try:
                _run(['start', '--port', str(port),
                      '--state-dir', self.state_dir] + options,
                     self.start_timeout, env)
            except LocalHeatError as exc:
                last_error = exc
                if 'Address already in use' not in str(exc):
                    break
            else:
                self.port = port
                return self.endpoint
        self._cleanup()
        raise last_error

    def seed(self, timeout=300):
        """Create the demo stacks (tools/demo-templates) and wait for them."""
        if self._external:
            raise LocalHeatError('seed() is only for a LocalHeat it started')
        return _run(['seed', '--port', str(self.port),
                     '--state-dir', self.state_dir], timeout)

    def stop(self):
        """Stop the server (SIGTERM, then SIGKILL) and drop its state dir."""
        if self._external or self.state_dir is None:
            return
        try:
            _run(['stop', '--state-dir', self.state_dir], 120)
        finally:
            self.port = None
            self._cleanup()

    def _cleanup(self):
        if self.state_dir and not self.keep_state:
            shutil.rmtree(self.state_dir, ignore_errors=True)
            self.state_dir = None

    def client(self, project=None):
        """A ``heatclient`` v1 client for direct reads (any token works).

        :param project: act as this project (noauth reads the project from
            the ``X-Auth-Project`` header; the endpoint names it too).
        """
        from heatclient import client as heat_client
        if not project:
            return heat_client.Client('1', endpoint=self.endpoint,
                                      token='local-heat')
        from keystoneauth1 import session as ks_session
        from keystoneauth1 import token_endpoint
        endpoint = self.endpoint.rsplit('/', 1)[0] + '/' + project
        sess = ks_session.Session(
            auth=token_endpoint.Token(endpoint, 'local-heat'))
        return heat_client.Client('1', session=sess,
                                  additional_headers={
                                      'X-Auth-Project': project})

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def __repr__(self):
        where = self.endpoint if (self.port or self._external) else 'stopped'
        return '<LocalHeat %s>' % where
