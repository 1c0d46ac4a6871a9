"""Run one function beside the calling thread, in a forked process where that is safe.

The signal-quality check makes thousands of numpy calls that each let go of the
interpreter lock and must take it back; run in a thread beside the repetitions'
onset fits, which hold the lock between their short numpy calls, each of its calls
waited for the other thread's switch interval, and the check took 1.6x as long (an
hour of 8 channels: 6 s instead of 3.7). A forked child has an interpreter of its
own, and shares the parent's arrays copy-on-write, so nothing is copied to it. Only
the result (small) crosses a pipe.

Forking is safe only where no other thread can hold a lock the child needs, so a
process is used only on Linux (fork is the default and well-behaved there), when
the process may have children (not a daemonic worker, e.g. Dask's) and when every
other Python thread is one the caller says is idle; anywhere else the function runs
in the given thread pool, with the same result. A child that dies without an answer
(killed, out of memory) is replaced by running the function here.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from typing import Any


class _Child:
    """The answer of a forked child, as a future's `result()`."""

    def __init__(self, fn: Callable, args: tuple, conn, proc) -> None:
        self._fn, self._args, self._conn, self._proc = fn, args, conn, proc

    def result(self) -> Any:
        try:
            ok, value = self._conn.recv()
        except EOFError:  # the child died without answering: do the work here
            ok, value = True, self._fn(*self._args)
        finally:
            self._conn.close()
            self._proc.join(5.0)  # it exits right after answering ...
            if self._proc.is_alive():  # ... unless stuck: it owes nothing more
                self._proc.kill()
                self._proc.join()
        if not ok:
            raise value
        return value


def _answer(conn, fn: Callable, args: tuple) -> None:
    try:
        reply = (True, fn(*args))
    except BaseException as exc:  # noqa: BLE001 (every failure goes back to the parent, raised there)
        reply = (False, exc)
    try:
        conn.send(reply)
    except Exception as exc:  # noqa: BLE001 (an answer that does not pickle)
        conn.send((False, RuntimeError(f"{type(exc).__name__}: {exc} (returning {fn.__name__}'s answer)")))
    conn.close()
    # gone at once: the child was forked for this answer, and exiting the usual way would
    # flush streams and run finalisers that belong to the parent
    os._exit(0)


def can_fork(idle: Iterable[threading.Thread] = ()) -> bool:
    """A forked child is safe here: Linux, allowed children, and no busy Python thread but
    the calling one (`idle`: threads known to hold no lock, e.g. a pool's waiting workers)."""
    if not sys.platform.startswith("linux") or multiprocessing.current_process().daemon:
        return False
    others = set(threading.enumerate()) - {threading.current_thread()} - set(idle)
    return not others


def run_beside(pool: Executor, fn: Callable, *args: Any, idle: Iterable[threading.Thread] = ()):
    """`fn(*args)` started now, in a forked child where `can_fork(idle)`, else in `pool`;
    returns an object whose `result()` gives its answer (or raises its exception)."""
    if not can_fork(idle):
        return pool.submit(fn, *args)
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_answer, args=(send, fn, args), daemon=True)
    proc.start()
    send.close()  # the child holds its own end: EOF here once it is gone
    return _Child(fn, args, receive, proc)
