#!/usr/bin/env python3
"""Serve the real Keystone (PyPI ``keystone`` 30.x) in one process.

Used by ``tools/local-keystone start``; run it with the Keystone venv's
python::

    keystone_server.py --config-file STATE/keystone.conf --port 5000

Keystone 30.x ships no ``keystone-wsgi-public`` script; its WSGI app is
``keystone.wsgi.api:application``. We serve it with a small threaded
wsgiref server in ONE process, and one request at a time: on sqlite, two
workers (or two threads) gave tempest "database is locked" 500s.
"""

import argparse
import logging
import os
import socketserver
import sys
import threading
import time
from wsgiref import simple_server


class _ThreadingWSGIServer(socketserver.ThreadingMixIn,
                           simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


def _serialized(app):
    """Run one request at a time through ``app``.

    TRAP: even in ONE process, concurrent requests on sqlite fail with
    "database is locked" (oslo.db opens deferred transactions; two threads
    upgrading to write locks collide). tempest with 2 workers saw 23 such
    500s in the identity suite. Keystone answers in ~20 ms, so a global
    lock costs little; the threads still accept connections.
    """
    lock = threading.Lock()

    def wrapper(environ, start_response):
        status = []

        def recording_start_response(st, headers, exc_info=None):
            status.append(st.split(' ', 1)[0])
            return start_response(st, headers, exc_info)

        with lock:
            t0 = time.monotonic()
            result = app(environ, recording_start_response)
            try:
                # Drain the body while holding the lock.
                body = b''.join(result)
            finally:
                if hasattr(result, 'close'):
                    result.close()
            ms = (time.monotonic() - t0) * 1000
        # Access log line with the time spent inside Keystone.
        path = environ.get('PATH_INFO', '')
        if environ.get('QUERY_STRING'):
            path += '?' + environ['QUERY_STRING']
        sys.stderr.write('access %s %s %s %.1fms\n' % (
            environ.get('REQUEST_METHOD'), path,
            status[0] if status else '-', ms))
        return [body]
    return wrapper


class _QuietHandler(simple_server.WSGIRequestHandler):
    """No per-request line here (_serialized logs one, with timing)."""

    def log_request(self, code='-', size='-'):
        pass

    def log_message(self, fmt, *args):
        sys.stderr.write('%s %s\n' % (self.address_string(), fmt % args))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config-file', required=True)
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=5000)
    args = parser.parse_args()

    # Keystone reads its config file list from the environment ...
    os.environ['OS_KEYSTONE_CONFIG_FILES'] = os.path.abspath(args.config_file)
    os.environ.pop('OS_KEYSTONE_CONFIG_DIR', None)
    # ... and TRAP: its oslo.config parser also parses sys.argv, so our own
    # arguments would make it exit. Clear them before importing keystone.
    sys.argv = [sys.argv[0]]

    from keystone.wsgi import api  # noqa: E402  (builds the app on import)

    server = simple_server.make_server(
        args.host, args.port, _serialized(api.application),
        server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
    logging.getLogger(__name__).info('keystone listening on %s:%s',
                                     args.host, args.port)
    sys.stderr.write('keystone_server listening on http://%s:%d\n'
                     % (args.host, args.port))
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == '__main__':
    main()
