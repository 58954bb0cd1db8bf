"""Progress of a long poll, on a terminal's stderr.

The command line wraps :meth:`heatplug.core.Poller.poll` in
:func:`shown`: when stderr is a terminal and the poll takes longer than
:data:`DELAY` seconds, one line is redrawn in place every
:data:`INTERVAL` seconds and erased when the poll ends::

    heatplug: polling Heat: 4/9 families, 812/1336 items, 901 requests, 12.3 s

Nothing is written when stderr is not a terminal (a pipe, a file, a test),
so ``heatplug poll --format json 2>log`` stays clean.  The numbers come
from :meth:`heatplug.core.Poller.progress`, read from a background thread.
"""

import contextlib
import sys
import threading

#: seconds before the first line: short polls show nothing
DELAY = 1.0
#: seconds between redraws
INTERVAL = 0.25


def is_terminal(stream):
    """Whether ``stream`` is a terminal (false for anything without
    ``isatty`` or whose ``isatty`` fails)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, OSError, ValueError):
        return False


def render(state):
    """The progress line for a :meth:`Poller.progress` dict."""
    parts = ["%d/%d families" % (state["families_done"], state["families"])]
    if state.get("items"):
        parts.append("%d/%d items" % (state["items_done"], state["items"]))
    parts.append("%d requests" % state["requests"])
    parts.append("%.1f s" % state["seconds"])
    return "heatplug: polling Heat: " + ", ".join(parts)


class Progress:
    """Redraws :func:`render` of ``source()`` on ``stream`` until stopped.

    :param source: a callable returning a progress dict, or None when there
        is nothing to show (yet).
    :param stream: where to draw (default ``sys.stderr``).
    :param enabled: None: only when ``stream`` is a terminal.
    """

    def __init__(self, source, stream=None, enabled=None, delay=None,
                 interval=None):
        self.source = source
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = is_terminal(self.stream) if enabled is None \
            else enabled
        self.delay = DELAY if delay is None else delay
        self.interval = INTERVAL if interval is None else interval
        self._stop = threading.Event()
        self._thread = None
        self._width = 0     # of the line on screen, 0 when none is

    def start(self):
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="heatplug-progress", daemon=True)
            self._thread.start()
        return self

    def stop(self):
        """Stop redrawing and erase the line."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        if self._width:
            self._write("\r%s\r" % (" " * self._width))
            self._width = 0

    def _write(self, text):
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):   # the terminal went away: stop drawing
            self._stop.set()

    def _run(self):
        if self._stop.wait(self.delay):
            return
        while not self._stop.is_set():
            try:
                state = self.source()
            except Exception:   # never let progress break a poll
                state = None
            if state is not None:
                line = render(state)
                pad = max(0, self._width - len(line))
                self._write("\r" + line + " " * pad)
                self._width = len(line)
            self._stop.wait(self.interval)


@contextlib.contextmanager
def shown(poller, stream=None, enabled=None, **kwargs):
    """Show ``poller``'s progress on ``stream`` (default stderr) while the
    block runs, if it is a terminal (see :class:`Progress`)."""
    progress = Progress(poller.progress, stream, enabled, **kwargs).start()
    try:
        yield progress
    finally:
        progress.stop()
