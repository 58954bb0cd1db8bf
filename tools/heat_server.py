#!/usr/bin/env python3
"""A one-process OpenStack Heat (API + engine) for local tests.

Run with the Heat venv's python (tools/local-heat does this):

    heat_server.py --config-file heat.conf --log-file heat.log --port 8004
                   [--host 127.0.0.1] [--sleep-scale 0.05] [--rpc-poll 0.005]

openstack-heat 27.x ships no heat-api/heat-all command, and the fake://
RPC transport only works inside one process, so this file does what those
commands did: it loads the `heat-api` paste app and runs an EngineService
beside it, served by a small threaded wsgiref server. SIGTERM/SIGINT stop
it cleanly.
"""

import argparse
import logging as pylogging
import os
import signal
import socketserver
import sys
import threading
import time
import traceback
from wsgiref import simple_server

PID_HEADER = 'X-Local-Heat-Pid'   # checked by `heat_config.py wait`
STOP_TIMEOUT = 15                 # seconds for an orderly engine stop


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config-file', required=True)
    p.add_argument('--log-file', required=True)
    p.add_argument('--port', type=int, default=8004)
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--sleep-scale', type=float, default=1.0,
                   help='multiply the engine\'s internal sleeps (0.05 makes '
                        'stacks complete ~7x faster; 1 = real Heat timing)')
    p.add_argument('--rpc-poll', type=float, default=None,
                   help='poll interval of the fake:// RPC listeners '
                        '(oslo.messaging uses 0.05 s; each engine call '
                        'waits for one tick)')
    return p.parse_args(argv)


class ThreadingWSGIServer(socketserver.ThreadingMixIn,
                          simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class QuietHandler(simple_server.WSGIRequestHandler):
    """Send the access log to Heat's log instead of stderr."""

    log = None

    def log_message(self, fmt, *args):
        if self.log is not None:
            self.log.debug('%s ' + fmt, self.client_address[0], *args)

    def log_request(self, code='-', size='-'):
        if self.log is not None:
            self.log.info('%s "%s" %s', self.client_address[0],
                          self.requestline, code)


class GateApp:
    """Answers 503 until Heat is loaded, then forwards to it.

    Binding the port before the slow start-up makes a port clash fail at
    once; the pid header lets the starter tell this process from any other
    server on the port.
    """

    def __init__(self):
        self.app = None
        self.pid = str(os.getpid())

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, list(headers) +
                                  [(PID_HEADER, self.pid)], exc_info)
        if self.app is None:
            start('503 Service Unavailable', [('Content-Type', 'text/plain')])
            return [b'heat is starting\n']
        return self.app(environ, start)


class ScaledTime:
    """The `time` module, except that sleep() sleeps `factor` times as long.

    Heat's engine sleeps 1 s after starting each resource and between
    polls; tests need the same code paths, not the wall-clock waits.
    """

    def __init__(self, real, factor):
        self._real = real
        self._factor = factor

    def sleep(self, seconds):
        self._real.sleep(seconds * self._factor if seconds else seconds)

    def __getattr__(self, name):
        return getattr(self._real, name)


def scale_engine_sleeps(factor):
    from heat.engine import scheduler, snapshots, stack
    for module in (scheduler, stack, snapshots):
        module.time = ScaledTime(time, factor)


class CappedTime(ScaledTime):
    """The `time` module, except that sleep() lasts at most `cap` seconds."""

    def __init__(self, real, cap):
        super().__init__(real, 1.0)
        self._cap = cap

    def sleep(self, seconds):
        self._real.sleep(min(seconds, self._cap))


def shorten_fake_rpc_poll(seconds):
    """Make the fake:// driver's listeners poll every `seconds`.

    They sleep 50 ms between polls of their in-memory queues, so every API
    call that reaches the engine waits for that tick (two for a redirect).
    The driver is private to oslo.messaging; this is test tooling only.
    """
    from oslo_messaging._drivers import impl_fake
    impl_fake.time = CappedTime(time, seconds)


def serialise_sqlite_transactions():
    """Make every sqlite transaction take the write lock up front.

    oslo.db opens transactions with a deferred BEGIN: two engine threads
    that both read and then write fail at once with "database is locked"
    (a deferred reader cannot be upgraded while another writes, and the
    busy handler does not help then). BEGIN IMMEDIATE plus a busy timeout
    queues them instead. Registered on the Engine class, before any engine
    exists; class-level listeners run before oslo.db's own per-engine
    `begin` listener, which then sees "in_transaction" and emits nothing.
    """
    import sqlalchemy
    from sqlalchemy import event

    @event.listens_for(sqlalchemy.engine.Engine, 'connect')
    def _busy_timeout(dbapi_conn, record):
        if type(dbapi_conn).__module__.startswith('sqlite3'):
            dbapi_conn.execute('PRAGMA busy_timeout = 60000')

    @event.listens_for(sqlalchemy.engine.Engine, 'begin')
    def _begin_immediate(conn):
        if (conn.dialect.name == 'sqlite' and
                'in_transaction' not in conn.info):
            conn.exec_driver_sql('BEGIN IMMEDIATE')
            conn.info['in_transaction'] = True


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        run(args)
    except BaseException:
        # Whatever failed, do not linger half-started: stray non-daemon
        # threads would otherwise keep the process (and the port) alive.
        # Before oslo.log is set up, stderr (the same log file) gets it.
        log = pylogging.getLogger('heat-local')
        if log.hasHandlers():
            log.exception('heat-local failed')
        else:
            traceback.print_exc()
        _exit(1)


def _exit(code):
    pylogging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run(args):
    """Bind, load Heat, serve until SIGTERM/SIGINT, stop the engine."""
    # oslo.service must use threads, not eventlet, and must be told so
    # before anything imports oslo_service.service.
    from oslo_service import backend
    backend.init_backend(backend.BackendType.THREADING)

    gate = GateApp()
    server = simple_server.make_server(
        args.host, args.port, gate,
        server_class=ThreadingWSGIServer, handler_class=QuietHandler)

    stopping = threading.Event()

    def on_signal(signum, frame):
        stopping.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    threading.Thread(target=server.serve_forever, name='wsgi',
                     daemon=True).start()

    from oslo_config import cfg
    from oslo_log import log as logging
    conf = cfg.CONF
    logging.register_options(conf)
    # default_config_files=[]: never pick up a stray /etc/heat/heat.conf.
    conf(['--config-file', args.config_file, '--log-file', args.log_file],
         project='heat', prog='heat-local', default_config_files=[],
         default_config_dirs=[])
    logging.setup(conf, 'heat')
    log = logging.getLogger('heat-local')
    QuietHandler.log = logging.getLogger('heat-local.wsgi')

    serialise_sqlite_transactions()

    from heat.common import config
    from heat.common import messaging
    messaging.setup()
    # Importing the engine registers auth_encryption_key and friends;
    # startup_sanity_check() before it fails with NoSuchOptError.
    from heat.engine import service as engine_service
    from heat.rpc import api as rpc_api
    config.startup_sanity_check()

    if args.rpc_poll is not None:
        shorten_fake_rpc_poll(args.rpc_poll)
        log.info('fake:// RPC polls every %ss', args.rpc_poll)
    if args.sleep_scale != 1.0:
        scale_engine_sleeps(args.sleep_scale)
        log.info('Engine sleeps scaled by %s', args.sleep_scale)

    engine = engine_service.EngineService(conf.host, rpc_api.ENGINE_TOPIC)
    engine.start()
    gate.app = config.load_paste_app('heat-api')
    log.info('Heat API and engine serving on http://%s:%d/ (pid %d)',
             args.host, args.port, os.getpid())

    while not stopping.wait(1):
        pass

    log.info('Stopping')
    server.shutdown()

    def orderly_stop():
        engine.stop()
        messaging.cleanup()
    stopper = threading.Thread(target=orderly_stop, daemon=True)
    stopper.start()
    stopper.join(STOP_TIMEOUT)
    if stopper.is_alive():
        log.warning('Engine did not stop within %ss; exiting anyway',
                    STOP_TIMEOUT)
    log.info('Stopped')
    # Executor and timer threads of oslo.messaging/oslo.service are not all
    # daemons; do not let one of them keep the process alive.
    _exit(0)


if __name__ == '__main__':
    main()
