"""The quality check beside the blocks: a forked child where that is safe, else a thread, the same answer."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sensorkit.analysis import beside, session
from sensorkit.analysis.session import analyze_session
from sensorkit.recording.session_input import session_data
from sensorkit.recording.xdf_reader import read_xdf

ROOT = Path(__file__).resolve().parents[1]
PARENT = os.getpid()


def where(x):
    return os.getpid(), x * 2


def fails(x):
    raise ValueError(f"bad {x}")


def dies_in_a_child(x):
    if os.getpid() != PARENT:
        os._exit(3)  # as if killed: no answer
    return "here"


@pytest.fixture
def pool():
    with ThreadPoolExecutor(1) as p:
        yield p


linux = pytest.mark.skipif(not beside.sys.platform.startswith("linux"), reason="a child is forked on Linux only")


def others():
    """Threads earlier tests of this worker left waiting, told idle so that the child is forked."""
    return [t for t in threading.enumerate() if t is not threading.current_thread()]


@linux
def test_a_forked_child_answers_and_its_exception_is_raised_here(pool):
    assert beside.can_fork(idle=others())
    pid, value = beside.run_beside(pool, where, 21, idle=others()).result()
    assert pid != PARENT and value == 42
    with pytest.raises(ValueError, match="bad 7"):
        beside.run_beside(pool, fails, 7, idle=others()).result()
    assert beside.run_beside(pool, dies_in_a_child, 1, idle=others()).result() == "here"


def test_a_busy_thread_or_a_daemon_keeps_the_work_in_the_pool(pool, monkeypatch):
    before = beside.can_fork(idle=others())
    stop = threading.Event()
    busy = threading.Thread(target=stop.wait)
    busy.start()
    try:
        assert not beside.can_fork(idle=[t for t in others() if t is not busy])
        assert beside.can_fork(idle=others()) == before  # a thread said to be idle does not count
        pid, value = beside.run_beside(pool, where, 5).result()
        assert pid == PARENT and value == 10
    finally:
        stop.set()
        busy.join()

    class Daemon:
        daemon = True

    monkeypatch.setattr(beside.multiprocessing, "current_process", lambda: Daemon())
    assert not beside.can_fork(idle=others())


@linux
def test_analyze_gives_the_same_result_with_the_check_forked_or_in_a_thread(monkeypatch):
    data = session_data(read_xdf(ROOT / "recordings" / "before.xdf"))
    forked = []
    real = session.run_beside

    def spy(*args, **kw):
        out = real(*args, **kw)
        forked.append(isinstance(out, beside._Child))
        return out

    monkeypatch.setattr(session, "run_beside", spy)
    monkeypatch.setattr(session, "_idle_workers", others)
    first = analyze_session(data)
    monkeypatch.setattr(session, "can_fork", lambda idle=(): False)
    second = analyze_session(data)
    assert forked == [True]  # the first run forked, the second did not: both paths were compared
    assert first == second and first["signal_quality"]["channels"]
