"""Progress on stderr: drawn on a terminal only, erased at the end."""

import io
import threading

from heatplug import cli
from heatplug import progress

STATE = {"requests": 901, "families_done": 4, "families": 9,
         "items_done": 812, "items": 1336, "seconds": 12.34}


class Terminal(io.StringIO):
    def isatty(self):
        return True


class Poller:
    """Stands in for core.Poller: progress() while 'polling'."""

    def __init__(self, polls=1):
        self.asked = threading.Event()
        self.polls = polls

    def progress(self):
        self.asked.set()
        return dict(STATE)


def test_render():
    assert progress.render(STATE) == (
        "heatplug: polling Heat: 4/9 families, 812/1336 items, "
        "901 requests, 12.3 s")
    assert "items" not in progress.render(dict(STATE, items=0))


def test_is_terminal():
    assert progress.is_terminal(Terminal())
    assert not progress.is_terminal(io.StringIO())
    assert not progress.is_terminal(object())

    class Closed:
        def isatty(self):
            raise ValueError("I/O operation on closed file")
    assert not progress.is_terminal(Closed())


def test_drawn_on_a_terminal_then_erased():
    out, poller = Terminal(), Poller()
    with progress.shown(poller, out, delay=0, interval=0.01):
        assert poller.asked.wait(5)
    text = out.getvalue()
    line = progress.render(STATE)
    assert text.startswith("\r" + line)
    # The last thing written blanks the line and returns to its start.
    assert text.endswith("\r%s\r" % (" " * len(line)))


def test_nothing_when_not_a_terminal():
    out, poller = io.StringIO(), Poller()
    with progress.shown(poller, out, delay=0, interval=0.01) as shown:
        assert not shown.enabled
    assert not poller.asked.is_set()
    assert out.getvalue() == ""


def test_nothing_for_a_short_poll():
    out, poller = Terminal(), Poller()
    with progress.shown(poller, out, delay=30):
        pass
    assert out.getvalue() == ""


def test_a_failing_source_never_breaks_the_poll():
    out = Terminal()

    class Broken:
        calls = threading.Event()

        def progress(self):
            self.calls.set()
            raise RuntimeError("boom")

    broken = Broken()
    with progress.shown(broken, out, delay=0, interval=0.01):
        assert broken.calls.wait(5)
    assert out.getvalue() == ""


class Done(Exception):
    pass


def _poll_command(monkeypatch, stderr):
    """Run ``heatplug poll``'s command over a poller that polls until its
    progress was asked for (or 0.5 s); return whether it was."""
    asked = threading.Event()

    class FakePoller:
        def __init__(self, conf, plugins):
            pass

        def poll(self):
            asked.wait(0.5)
            raise Done()

        def progress(self):
            asked.set()
            return dict(STATE)

    class Plugins:
        def register(self, plugin, name):
            pass

    monkeypatch.setattr(cli.core, "Poller", FakePoller)
    monkeypatch.setattr(progress, "DELAY", 0)
    monkeypatch.setattr(progress.sys, "stderr", stderr)
    try:
        cli.cmd_poll(None, Plugins(), None, io.StringIO())
    except Done:
        pass
    return asked.is_set()


def test_the_poll_command_shows_progress_on_a_terminal(monkeypatch):
    err = Terminal()
    assert _poll_command(monkeypatch, err)
    assert progress.render(STATE) in err.getvalue()


def test_the_poll_command_is_silent_when_stderr_is_no_terminal(monkeypatch):
    err = io.StringIO()
    assert not _poll_command(monkeypatch, err)
    assert err.getvalue() == ""
