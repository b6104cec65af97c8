"""The process inspector sees what a block of code created: leftovers, helpers, CPU overlap, fds."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
import time

import psutil

from grader.processes import tasks
from grader.processes.inspector import ProcessWatch


def _burn_cpu(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        tasks.burn(10_000)


def test_unreaped_child_is_a_zombie_leftover_until_reaped() -> None:
    with ProcessWatch() as watch:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        deadline = time.monotonic() + 5
        while psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    left = watch.leftovers()
    assert [(x.pid, x.state) for x in left] == [(pid, "zombie")]
    os.waitpid(pid, 0)
    assert watch.leftovers() == []


def test_running_child_is_a_running_leftover() -> None:
    with ProcessWatch() as watch:
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert [(x.pid, x.state) for x in watch.leftovers()] == [(proc.pid, "running")]
    finally:
        proc.kill()
        proc.wait()


def test_grandchild_orphaned_by_its_parent_is_an_orphan_leftover() -> None:
    code = ("import subprocess, sys, time; "
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'], "
            "start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
            "print(p.pid, flush=True); time.sleep(0.3)")
    with ProcessWatch(interval=0.01) as watch:
        parent = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                timeout=30)
    orphan = int(parent.stdout.split()[0])
    try:
        assert (orphan, "orphan") in [(x.pid, x.state) for x in watch.leftovers()]
    finally:
        os.kill(orphan, 9)


def test_two_processes_burning_cpu_overlap_and_threads_do_not() -> None:
    ctx = multiprocessing.get_context("fork")
    with ProcessWatch() as watch:
        procs = [ctx.Process(target=_burn_cpu, args=(0.5,)) for _ in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
    assert watch.busy_overlap_s() > 0.05, watch.summary()
    assert watch.max_parallel() == 2
    assert watch.leftovers() == []

    with ProcessWatch() as threaded:
        threads = [threading.Thread(target=_burn_cpu, args=(0.3,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert threaded.busy_overlap_s() == 0.0
    assert threaded.workers == []


def test_multiprocessing_helpers_are_not_workers_or_leftovers() -> None:
    ctx = multiprocessing.get_context("forkserver")
    with ProcessWatch() as watch:
        p = ctx.Process(target=time.sleep, args=(0.3,))
        p.start()
        p.join()
    names = [" ".join(psutil.Process(h.pid).cmdline()) for h in watch.helpers
             if psutil.pid_exists(h.pid)]
    assert any("forkserver" in n for n in names), names
    assert all(not h.helper for h in watch.workers)
    assert watch.leftovers() == []  # the forkserver outlives the call, and is not the learner's


def test_descriptors_opened_inside_the_block_are_reported_leaked() -> None:
    with ProcessWatch() as watch:
        r, w = os.pipe()
    try:
        assert {r, w} <= watch.leaked_fds()
    finally:
        os.close(r)
        os.close(w)
