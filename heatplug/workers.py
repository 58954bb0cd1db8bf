"""A thread pool whose threads do not keep the process alive.

:class:`concurrent.futures.ThreadPoolExecutor` joins its worker threads when
the interpreter exits, so a single thread stuck for good (a socket read that
never returns, a hung plugin) stops ``heatplug poll`` from ever exiting.  The
core abandons such a family after ``stall_timeout`` so that the others still
publish; :class:`WorkerPool` is the same executor with *daemon* threads, and
a thread stuck in a call is simply left behind: it dies with the process.

Otherwise it behaves like ``ThreadPoolExecutor``: at most ``max_workers``
threads, started only when no thread is idle; tasks run in submission
order; a task's exception (any :class:`BaseException`) goes to its future.
Like it, a task runs in its worker's own :mod:`contextvars` context; a caller
that needs its own context submits ``contextvars.copy_context().run``
(:meth:`heatplug.context.PollContext.map` does).  Two differences: a
thread counts as idle as soon as its task returns, before the result is
published, so that tasks submitted one at a time all run on one thread;
and the tasks that ``shutdown(cancel_futures=True)`` cancels wake the
:func:`concurrent.futures.wait` and ``as_completed`` calls waiting for
them (``ThreadPoolExecutor``'s leave such waits hanging, CPython 3.9-3.13).
Only the public API of :mod:`concurrent.futures` is used.
"""

import concurrent.futures
import queue
import threading
import weakref


class WorkerPool(concurrent.futures.Executor):
    """An executor of at most ``max_workers`` daemon threads, named
    ``<thread_name_prefix>_<n>``."""

    def __init__(self, max_workers, thread_name_prefix="heatplug-worker"):
        if max_workers < 1:
            raise ValueError("max_workers must be greater than 0")
        self._max_workers = max_workers
        self._prefix = thread_name_prefix
        self._tasks = queue.SimpleQueue()   # (future, fn, args, kwargs), None
        self._idle = threading.Semaphore(0)  # one per thread that is idle
        self._threads = []
        self._lock = threading.Lock()
        self._shut_down = False
        # The threads hold no reference to the pool: one dropped without a
        # shutdown is collected, and this stops its threads.
        weakref.finalize(self, _stop, self._tasks, self._threads)

    def submit(self, fn, /, *args, **kwargs):
        with self._lock:
            if self._shut_down:
                raise RuntimeError("cannot schedule new futures after "
                                   "shutdown")
            future = concurrent.futures.Future()
            self._tasks.put((future, fn, args, kwargs))
            if (not self._idle.acquire(blocking=False)
                    and len(self._threads) < self._max_workers):
                thread = threading.Thread(
                    target=_work, args=(self._tasks, self._idle),
                    name="%s_%d" % (self._prefix, len(self._threads)),
                    daemon=True)
                thread.start()
                self._threads.append(thread)
            return future

    def shutdown(self, wait=True, *, cancel_futures=False):
        """Accept no more tasks; the threads exit once the queue is empty.

        With ``cancel_futures``, the tasks still queued are cancelled first
        (the running ones are not).  With ``wait``, return once every
        thread has exited, which is never if one is stuck in a call.
        """
        with self._lock:
            first = not self._shut_down
            self._shut_down = True
            if cancel_futures:
                _cancel_queued(self._tasks)    # takes the sentinels too
            if first or cancel_futures:
                _stop(self._tasks, self._threads)
        if wait:
            for thread in self._threads:
                thread.join()


def _work(tasks, idle):
    """A worker thread: run tasks in order until a sentinel (None)."""
    for task in iter(tasks.get, None):
        _run(idle, *task)
        del task        # hold on to nothing of it while idle


def _run(idle, future, fn, args, kwargs):
    if not future.set_running_or_notify_cancel():
        idle.release()   # cancelled before it started: skipped
        return
    # The thread counts as idle before the outcome is published, so that
    # a caller waiting for each result before it submits the next task
    # always finds it idle and one thread does the lot.
    try:
        result = fn(*args, **kwargs)
    except BaseException as exc:
        idle.release()
        future.set_exception(exc)
        future = None    # no cycle future -> exc -> traceback -> this frame
    else:
        idle.release()
        future.set_result(result)


def _cancel_queued(tasks):
    while True:
        try:
            task = tasks.get_nowait()
        except queue.Empty:
            return
        if task is not None:
            task[0].cancel()
            # Moves it to "cancelled and notified", as a worker would: wakes
            # concurrent.futures.wait() and as_completed() on it.
            task[0].set_running_or_notify_cancel()


def _stop(tasks, threads):
    """One sentinel per thread, behind the tasks already queued."""
    for _ in threads:
        tasks.put(None)
