"""heatplug.workers.WorkerPool: a ThreadPoolExecutor with daemon threads.

Real threads throughout; orderings are made certain with events and
barriers, never with sleeps.  Every wait is bounded, shutdowns included
(:func:`bounded`), so that a broken pool fails a test instead of hanging
the run.  Each pool gets its own thread name prefix, so that its threads
can be told apart in ``threading.enumerate()``.  The last two tests are why
the module exists: a task stuck for good does not keep the process from
exiting, where with a ThreadPoolExecutor it does.
"""

import concurrent.futures
import gc
import itertools
import os
import pathlib
import subprocess
import sys
import textwrap
import threading
import weakref

import pytest

from heatplug import workers

#: Long enough for any wait that a correct pool satisfies at once.
TIMEOUT = 5

ROOT = pathlib.Path(__file__).resolve().parents[2]

_names = itertools.count()


def prefix():
    return "test-workers-%d" % next(_names)


def threads_named(name):
    return [t for t in threading.enumerate() if t.name.startswith(name + "_")]


def bounded(fn, *args, **kwargs):
    """``fn(*args, **kwargs)``; TimeoutError if it has not returned within
    TIMEOUT (it is left running in a daemon thread)."""
    outcome = concurrent.futures.Future()

    def run():
        try:
            outcome.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            outcome.set_exception(exc)

    threading.Thread(target=run, daemon=True).start()
    return outcome.result(TIMEOUT)


@pytest.fixture
def make_pool():
    """``make_pool(max_workers, name)``: a WorkerPool shut down (bounded,
    without cancelling) after the test."""
    pools = []

    def make(max_workers, name=None):
        pools.append(workers.WorkerPool(max_workers, name or prefix()))
        return pools[-1]

    yield make
    for pool in pools:
        bounded(pool.shutdown)


class Stop(BaseException):
    """Not an Exception: the pool must still catch it."""


def test_max_workers_must_be_positive():
    for bad in (0, -1):
        with pytest.raises(ValueError):
            workers.WorkerPool(bad)


def test_results_and_exceptions_come_back_through_futures(make_pool):
    def fail(exc):
        raise exc

    pool = make_pool(1)
    ok = pool.submit(lambda a, b=0: a + b, 1, b=2)
    error = pool.submit(fail, ValueError("boom"))
    stop = pool.submit(fail, Stop())
    after = pool.submit(str, 42)    # the worker went on
    assert ok.result(TIMEOUT) == 3
    with pytest.raises(ValueError, match="boom"):
        error.result(TIMEOUT)
    assert isinstance(stop.exception(TIMEOUT), Stop)
    assert after.result(TIMEOUT) == "42"


def test_a_failed_task_leaves_no_reference_cycle(make_pool):
    # The traceback holds the worker's frame, which must not hold the
    # future: the future is freed at once, not by the cycle collector.
    def fail():
        raise ValueError("boom")

    pool = make_pool(1)
    future = pool.submit(fail)
    bounded(pool.shutdown)      # the worker is done with it
    gc.disable()
    try:
        assert isinstance(future.exception(0), ValueError)
        ref = weakref.ref(future)
        del future
        assert ref() is None
    finally:
        gc.enable()


def test_map_keeps_the_order_of_its_inputs(make_pool):
    # Task i finishes only after task i + 1: the last finishes first.
    finished = [threading.Event() for _ in range(4)]

    def square(i):
        if i + 1 < len(finished):
            assert finished[i + 1].wait(TIMEOUT)
        finished[i].set()
        return i * i

    pool = make_pool(4)
    assert list(pool.map(square, range(4), timeout=TIMEOUT)) == [0, 1, 4, 9]


def test_never_more_than_max_workers_threads_or_tasks_at_once(make_pool):
    name = prefix()
    all_three = threading.Barrier(3 + 1, timeout=TIMEOUT)  # and the test
    gate = threading.Event()
    lock = threading.Lock()
    running = peak = 0

    def task(i):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        if i < 3:
            all_three.wait()
        assert gate.wait(TIMEOUT)
        with lock:
            running -= 1
        return i

    pool = make_pool(3, name)
    futures = [pool.submit(task, i) for i in range(7)]
    try:
        all_three.wait()      # three tasks run at once...
        assert len(threads_named(name)) == 3
        # ...and, the three threads all being held by the gate, no other.
        assert not any(f.running() or f.done() for f in futures[3:])
    finally:
        gate.set()
    assert [f.result(TIMEOUT) for f in futures] == list(range(7))
    assert peak == 3


def test_tasks_submitted_one_at_a_time_reuse_one_thread(make_pool):
    name = prefix()
    pool = make_pool(4, name)
    ran_on = {pool.submit(lambda: threading.current_thread().name)
              .result(TIMEOUT) for _ in range(20)}
    assert len(threads_named(name)) == 1
    assert ran_on == {name + "_0"}


def test_a_thread_is_idle_before_its_result_is_published(make_pool):
    # A done callback runs in the worker, after the task: a submit made
    # meanwhile finds the thread idle and starts none.
    name = prefix()
    added, in_callback, gate = (threading.Event() for _ in range(3))

    def callback(_):
        assert threading.current_thread().name == name + "_0"
        in_callback.set()
        assert gate.wait(TIMEOUT)

    pool = make_pool(2, name)
    first = pool.submit(added.wait, TIMEOUT)
    first.add_done_callback(callback)
    added.set()
    try:
        assert in_callback.wait(TIMEOUT)
        second = pool.submit(int)
        assert len(threads_named(name)) == 1
    finally:
        gate.set()
    assert second.result(TIMEOUT) == 0


def test_threads_are_daemon_threads_named_with_the_prefix(make_pool):
    name = prefix()
    both = threading.Barrier(2, timeout=TIMEOUT)

    def where():
        both.wait()
        return threading.current_thread()

    pool = make_pool(2, name)
    threads = [f.result(TIMEOUT) for f in
               [pool.submit(where), pool.submit(where)]]
    assert sorted(t.name for t in threads) == [name + "_0", name + "_1"]
    assert all(t.daemon for t in threads)


def test_one_worker_runs_tasks_in_submission_order(make_pool):
    gate = threading.Event()
    order = []
    pool = make_pool(1)
    pool.submit(gate.wait, TIMEOUT)
    last = [pool.submit(order.append, i) for i in range(20)][-1]
    gate.set()
    last.result(TIMEOUT)
    assert order == list(range(20))


def test_shutdown_waits_for_queued_tasks_and_joins_every_thread():
    name = prefix()
    pool = workers.WorkerPool(2, name)
    futures = [pool.submit(pow, 2, i) for i in range(50)]
    bounded(pool.shutdown, wait=True)
    assert [f.result(0) for f in futures] == [2 ** i for i in range(50)]
    assert threads_named(name) == []


def test_with_shuts_the_pool_down_on_exit():
    name = prefix()
    futures = []

    def use():
        with workers.WorkerPool(2, name) as pool:
            futures.extend(pool.submit(pow, 2, i) for i in range(20))

    bounded(use)
    assert [f.result(0) for f in futures] == [2 ** i for i in range(20)]
    assert threads_named(name) == []


def test_shutdown_without_wait_returns_at_once_and_the_queue_still_runs():
    name = prefix()
    gate = threading.Event()
    pool = workers.WorkerPool(1, name)
    blocker = pool.submit(gate.wait, TIMEOUT)
    queued = [pool.submit(pow, 3, i) for i in range(5)]
    try:
        bounded(pool.shutdown, wait=False)
        assert not any(f.done() for f in queued)
        (thread,) = threads_named(name)
    finally:
        gate.set()
    thread.join(TIMEOUT)
    assert not thread.is_alive()
    assert blocker.result(0) is True
    assert [f.result(0) for f in queued] == [3 ** i for i in range(5)]


def test_shutdown_cancel_futures_cancels_the_queue_not_the_running_task():
    name = prefix()
    started, gate = threading.Event(), threading.Event()

    def blocker():
        started.set()
        assert gate.wait(TIMEOUT)
        return "finished"

    pool = workers.WorkerPool(1, name)
    running = pool.submit(blocker)
    queued = [pool.submit(pow, 2, i) for i in range(5)]
    try:
        assert started.wait(TIMEOUT)
        bounded(pool.shutdown, wait=False, cancel_futures=True)
        assert all(f.cancelled() for f in queued)
        # wait() and as_completed() hear of the cancellation.
        done, not_done = concurrent.futures.wait(queued, timeout=TIMEOUT)
        assert not not_done
        assert running.running()
    finally:
        gate.set()
    bounded(pool.shutdown, wait=True)
    assert running.result(0) == "finished"
    assert threads_named(name) == []


def test_submit_after_shutdown_raises_and_shutdown_twice_is_fine():
    pool = workers.WorkerPool(2)
    pool.submit(int).result(TIMEOUT)
    bounded(pool.shutdown)
    bounded(pool.shutdown)
    bounded(pool.shutdown, wait=False, cancel_futures=True)
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(int)


def test_a_task_cancelled_before_it_starts_is_skipped(make_pool):
    gate = threading.Event()
    ran = []
    pool = make_pool(1)
    pool.submit(gate.wait, TIMEOUT)
    skipped = pool.submit(ran.append, "skipped")
    assert skipped.cancel()
    last = pool.submit(ran.append, "last")
    gate.set()
    last.result(TIMEOUT)
    assert ran == ["last"]
    assert skipped.cancelled()


def test_a_pool_dropped_without_shutdown_stops_its_threads():
    name = prefix()
    pool = workers.WorkerPool(2, name)
    pool.submit(int).result(TIMEOUT)
    (thread,) = threads_named(name)
    del pool
    gc.collect()
    thread.join(TIMEOUT)
    assert not thread.is_alive()


# -- why the module exists: exiting with a thread stuck for good -------------

SCRIPT = textwrap.dedent("""
    import concurrent.futures
    import threading
    from heatplug import workers

    pool = %s(1)
    started = threading.Event()
    pool.submit(lambda: (started.set(), threading.Event().wait()))
    started.wait()
    pool.shutdown(wait=False)
    print("exiting", flush=True)
""")


def run_script(executor):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", SCRIPT % executor],
                            env=env, stdout=subprocess.PIPE, text=True)


def test_a_task_stuck_for_good_does_not_keep_the_process_alive():
    proc = run_script("workers.WorkerPool")
    try:
        assert proc.wait(timeout=10) == 0
        assert proc.stdout.read() == "exiting\n"
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def test_with_a_thread_pool_executor_the_process_would_not_exit():
    proc = run_script("concurrent.futures.ThreadPoolExecutor")
    try:
        assert proc.stdout.readline() == "exiting\n"
        # The script is done; the interpreter's exit joins the thread.
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=3)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
