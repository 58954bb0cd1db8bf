#!/usr/bin/env python3
"""A one-process OpenStack Heat (API + engine) for local tests.

Run with the Heat venv's python (tools/local-heat does this):

    heat_server.py --config-file heat.conf --log-file heat.log --port 8004
                   [--host 127.0.0.1] [--sleep-scale 0.05] [--rpc-poll 0.005]

openstack-heat 27.x ships no heat-api/heat-all command, and the fake://
RPC transport only works inside one process, so this file does what those
commands did: it loads the `heat-api` paste app and runs an EngineService
beside it, served by a small threaded wsgiref server that speaks HTTP/1.1
with persistent connections, like heat-api under eventlet or uwsgi.
SIGTERM/SIGINT stop it cleanly.
"""

import argparse
import io
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
# seconds a connection may wait for its next request (or stall in one)
# before the server drops it
IDLE_TIMEOUT = 60
# unread request body bytes skipped to keep a connection; past this the
# connection is closed
MAX_DRAIN = 16 << 20
MAX_CHUNKED_BODY = 64 << 20   # bytes of a chunked request body


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
    # Daemon threads: a connection idling between requests must never keep
    # the process alive (run() ends with os._exit anyway).
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    # Set on SIGTERM: each response from then on closes its connection.
    # (A connection is not dropped between requests: a client may already
    # have sent its next one.)
    closing = False


class RequestBody:
    """`wsgi.input`: the request body and nothing past it.

    A kept-alive connection carries the next request right after this
    body, so reads stop at Content-Length (read() without a size must not
    wait for the connection to close) and remaining() tells how much the
    application left unread, to be skipped before the next request.
    """

    def __init__(self, rfile, length):
        self._rfile = rfile
        self._left = length

    def remaining(self):
        return self._left

    def read(self, size=-1):
        if size is None or size < 0 or size > self._left:
            size = self._left
        data = self._rfile.read(size) if size else b''
        self._left -= len(data)
        if len(data) < size:
            self._left = 0
            raise ConnectionError('request body ended %d bytes early'
                                  % (size - len(data)))
        return data

    def readline(self, size=-1):
        if size is None or size < 0 or size > self._left:
            size = self._left
        data = self._rfile.readline(size) if size else b''
        self._left -= len(data)
        if not data and size:
            self._left = 0
            raise ConnectionError('request body ended early')
        return data

    def readlines(self, hint=-1):
        lines, total = [], 0
        for line in self:
            lines.append(line)
            total += len(line)
            if 0 < hint <= total:
                break
        return lines

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def drain(self, limit):
        """Skip the unread rest; False if it is longer than `limit`."""
        if self._left > limit:
            return False
        while self._left:
            self.read(min(self._left, 1 << 16))
        return True


def read_chunked(rfile, limit):
    """The body of a `Transfer-Encoding: chunked` request, decoded."""
    body = bytearray()
    while True:
        line = rfile.readline(1026)
        try:
            size = int(line.split(b';', 1)[0].strip(), 16)
        except ValueError:
            raise ValueError('bad chunk size line %r' % line[:40])
        if size < 0 or len(body) + size > limit:
            raise ValueError('chunked request body over %d bytes' % limit)
        if size == 0:
            break
        chunk = rfile.read(size)
        if len(chunk) < size or rfile.read(2) != b'\r\n':
            raise ValueError('truncated chunk')
        body += chunk
    while True:            # trailer fields, up to the blank line
        line = rfile.readline(65537)
        if line in (b'\r\n', b'\n', b''):
            return bytes(body)


class KeepAliveServerHandler(simple_server.ServerHandler):
    """wsgiref's ServerHandler answering HTTP/1.1 on a kept-alive connection.

    wsgiref never adds chunked encoding: a response whose length is unknown
    (no Content-Length and not a single-block body) is ended by closing the
    connection, and says so (`Connection: close`). So does every response
    once the request handler decided to close (client asked, HTTP/1.0, an
    error, the server stopping). Responses that have no body by definition
    (HEAD, 1xx, 204, 304) never send one, whatever the application returns.
    """

    http_version = '1.1'

    def _no_body(self):
        code = self.status[:3]
        return (self.environ.get('REQUEST_METHOD') == 'HEAD' or
                code.startswith('1') or code in ('204', '304'))

    def cleanup_headers(self):
        super().cleanup_headers()
        handler = self.request_handler
        if 'Content-Length' not in self.headers and not self._no_body():
            handler.close_connection = True
        if handler.server.closing:
            handler.close_connection = True
        if handler.close_connection:
            self.headers['Connection'] = 'close'

    def write(self, data):
        if self.status and self._no_body():
            # Headers as usual (with the length a GET would have had),
            # but no body bytes: the client will not read any.
            assert type(data) is bytes, \
                'write() argument must be a bytes instance'
            if not self.headers_sent:
                self.bytes_sent = len(data)
                self.send_headers()
            else:
                self.bytes_sent += len(data)
            return
        super().write(data)

    def finish_content(self):
        super().finish_content()
        # A body shorter or longer than announced leaves the connection
        # out of step with the client: do not reuse it.
        length = (self.headers.get('Content-Length') or '').strip()
        if not self._no_body() and length != str(self.bytes_sent):
            self.request_handler.close_connection = True

    def run(self, application):
        # As BaseHandler.run, except that any failure closes the connection
        # (a response may have been cut off half-way).
        try:
            self.setup_environ()
            self.result = application(self.environ, self.start_response)
            self.finish_response()
        except (ConnectionAbortedError, BrokenPipeError,
                ConnectionResetError):
            self.request_handler.close_connection = True
        except BaseException:
            self.request_handler.close_connection = True
            try:
                self.handle_error()
            except BaseException:
                self.close()
                raise


class QuietHandler(simple_server.WSGIRequestHandler):
    """HTTP/1.1 with keep-alive; the access log goes to Heat's log.

    Serves requests one after another on a connection until the client
    asks to close (`Connection: close`, HTTP/1.0), the connection breaks
    or stays idle for IDLE_TIMEOUT, a request or response cannot be framed
    safely, or the server is stopping. Request bodies the application
    leaves unread are skipped so that the next request starts in step.
    """

    protocol_version = 'HTTP/1.1'
    timeout = IDLE_TIMEOUT
    # wsgiref writes the status line, Date, Server and the headers one by
    # one: buffer them so that a response leaves in one send() with its
    # first body block (ServerHandler flushes after each block, we after
    # each response). No Nagle: on a kept-alive connection it would hold a
    # response's last segment until the client's delayed ACK (~40 ms).
    wbufsize = -1
    disable_nagle_algorithm = True

    log = None

    def log_message(self, fmt, *args):
        if self.log is not None:
            self.log.debug('%s ' + fmt, self.client_address[0], *args)

    def log_request(self, code='-', size='-'):
        if self.log is not None:
            self.log.info('%s "%s" %s', self.client_address[0],
                          self.requestline, code)

    def handle_expect_100(self):
        ok = super().handle_expect_100()
        self.wfile.flush()      # the client waits for it before the body
        return ok

    def handle(self):
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection:
            self.handle_one_request()

    def handle_one_request(self):
        self.close_connection = True
        try:
            self.raw_requestline = self.rfile.readline(65537)
            # RFC 9112 2.2: ignore an empty line or two before a request
            # (some clients send CRLF after a POST body).
            for _ in range(2):
                if self.raw_requestline not in (b'\r\n', b'\n'):
                    break
                self.raw_requestline = self.rfile.readline(65537)
        except OSError as exc:
            # Idle past IDLE_TIMEOUT, or the client went away between
            # requests: nothing to answer.
            self.log_message('connection dropped: %r', exc)
            return
        if not self.raw_requestline:
            return                          # the client closed
        if len(self.raw_requestline) > 65536:
            self.requestline = ''
            self.request_version = ''
            self.command = ''
            self.send_error(414)
            return
        if not self.parse_request():        # the error has been sent
            self.close_connection = True
            return
        tokens = {t.strip().lower()
                  for t in self.headers.get('Connection', '').split(',')}
        if self.request_version != 'HTTP/1.1' or 'close' in tokens:
            self.close_connection = True

        environ = self.get_environ()
        try:
            body = self._request_body(environ)
        except (ValueError, OSError) as exc:
            self.close_connection = True
            self.send_error(400, 'Bad request body', str(exc))
            return
        environ['wsgi.input_terminated'] = True

        handler = KeepAliveServerHandler(
            body, self.wfile, self.get_stderr(), environ,
            multithread=False,
        )
        handler.request_handler = self      # backpointer for logging
        handler.run(self.server.get_app())
        try:
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            return

        if not self.close_connection:
            try:
                if not body.drain(MAX_DRAIN):
                    self.close_connection = True
            except OSError:
                self.close_connection = True

    def _request_body(self, environ):
        """`wsgi.input` for this request (a RequestBody)."""
        coding = self.headers.get('Transfer-Encoding')
        if coding is not None:
            # Dechunk up front: Content-Length is then exact and the
            # application reads a plain body.
            if coding.split(',')[-1].strip().lower() != 'chunked':
                raise ValueError('unsupported Transfer-Encoding %r' % coding)
            data = read_chunked(self.rfile, MAX_CHUNKED_BODY)
            environ.pop('HTTP_TRANSFER_ENCODING', None)
            environ['CONTENT_LENGTH'] = str(len(data))
            return RequestBody(io.BufferedReader(io.BytesIO(data)),
                               len(data))
        length = self.headers.get('Content-Length')
        if length is None:
            return RequestBody(self.rfile, 0)
        if len(set(v.strip() for v in
                   self.headers.get_all('Content-Length'))) > 1 or \
                not length.strip().isdigit():
            raise ValueError('bad Content-Length %r' % length)
        return RequestBody(self.rfile, int(length))


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
    # Kept-alive connections end after their current response (their
    # threads are daemons, so idle ones cannot delay the exit); new
    # connections are refused from here on.
    server.closing = True
    server.shutdown()
    server.server_close()

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
