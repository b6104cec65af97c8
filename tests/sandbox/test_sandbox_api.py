"""The sandbox interface as the grading layer uses it: channel, kill, usage, choose, doctor."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import find_survivors, read_channel

import grader
from grader.sandbox import (
    CHANNEL_ENV,
    CHANNEL_FD,
    Limits,
    SandboxError,
    SandboxRequest,
    SandboxUnavailable,
    cgroups,
    choose,
    doctor,
)

REPO = Path(grader.__file__).resolve().parent.parent


def test_honest_child_streams_many_framed_lines_over_the_channel(sandbox):
    # 2000 lines (~150 KiB) overflow the pipe buffer: the caller must read while it runs.
    child = sandbox.start(
        "import os, json\n"
        "fd = int(os.environ['GRADER_CHANNEL_FD'])\n"
        "for i in range(2000):\n"
        "    os.write(fd, (json.dumps({'check': f'c{i}', 'status': 'passed'}) + '\\n').encode())\n"
    )
    data = b""
    while True:
        ready, _, _ = select.select([child.channel_fd], [], [], 10)
        assert ready, "the channel went silent"
        try:
            chunk = os.read(child.channel_fd, 65536)
        except BlockingIOError:
            continue
        if not chunk:
            break
        data += chunk
    result = child.wait()
    child.close()
    lines = [json.loads(line) for line in data.splitlines()]
    assert [x["check"] for x in lines] == [f"c{i}" for i in range(2000)]
    assert result.exit_code == 0
    assert result.error is None


def test_child_sees_the_channel_as_fd_3_and_only_the_fds_0_to_3(sandbox):
    out = sandbox.run(
        "import os\nprint(os.environ['GRADER_CHANNEL_FD'], sorted(os.listdir('/proc/self/fd')))\n"
    )
    fd_text, listing = out.stdout.split(" ", 1)
    assert fd_text == str(CHANNEL_FD) and CHANNEL_ENV == "GRADER_CHANNEL_FD"
    # 0-3 plus the one listdir itself opens.
    assert len(eval(listing)) == 5, listing


def test_kill_ends_a_run_promptly_and_records_the_reason(sandbox):
    child = sandbox.start(
        "import os, time\nos.write(3, b'ready')\ntime.sleep(10**6)\n", Limits(wall_seconds=60)
    )
    ready, _, _ = select.select([child.channel_fd], [], [], 20)
    assert ready
    t0 = time.monotonic()
    child.kill("per-check timeout")
    result = child.wait()
    child.close()
    assert result.killed == "per-check timeout"
    assert time.monotonic() - t0 < 8  # grace + the parent's teardown allowance, at most
    assert find_survivors(sandbox.mark, child.marker) == []


def test_kill_right_after_start_is_not_lost(sandbox):
    child = sandbox.start("import time\ntime.sleep(10**6)\n", Limits(wall_seconds=60))
    child.kill("cancelled")
    result = child.wait()
    child.close()
    assert result.killed == "cancelled"
    assert result.error is None
    assert find_survivors(sandbox.mark, child.marker) == []


def test_usage_counts_cpu_and_processes_of_the_tree(sandbox):
    out = sandbox.run(
        "import os, time\n"
        "def burn():\n"
        "    end = time.process_time() + 0.3\n"
        "    while time.process_time() < end:\n"
        "        pass\n"
        "pids = [os.fork() for _ in range(1)]\n"
        "burn()\n"
        "if pids[0] == 0:\n"
        "    os._exit(0)\n"
        "os.wait()\n"
    )
    usage = out.result.usage
    assert out.result.exit_code == 0
    assert usage.cpu_user_s + usage.cpu_system_s >= 0.5
    assert usage.processes_seen >= 2
    assert usage.peak_rss_bytes > 1 << 20


def test_multiprocessing_pool_works_inside(sandbox):
    out = sandbox.run(
        "import multiprocessing as mp\n"
        "if __name__ == '__main__':\n"
        "    with mp.Pool(2) as pool:\n"
        "        print(sum(pool.map(abs, range(-50, 0))))\n"
        "    q = mp.Queue(); p = mp.Process(target=q.put, args=(7,)); p.start()\n"
        "    print(q.get(timeout=10)); p.join()\n"
    )
    assert out.stdout.split() == ["1275", "7"], out.stderr
    assert out.survivors == []


def test_grader_and_its_dependencies_import_inside(sandbox):
    out = sandbox.run(
        "", argv=[sys.executable, "-c", "import grader, pytest, psutil, yaml, coverage; print('ok')"],
        env={"PYTHONPATH": str(REPO)},
    )
    assert out.stdout.strip() == "ok", out.stderr


def test_a_command_that_cannot_start_is_a_sandbox_error(sandbox):
    with pytest.raises(SandboxError, match="not an executable"):
        sandbox.run("", argv=["/nonexistent/python"])


def test_a_failed_exec_is_reported_as_a_sandbox_error_not_an_exit_code(sandbox, tmp_path):
    fake = tmp_path / "not-really-executable"
    fake.write_bytes(b"\x7fELF garbage")
    fake.chmod(0o755)
    if sandbox.isolated:
        pytest.skip("inside bwrap the exec failure is bwrap's exit status 1 (indistinguishable)")
    out = sandbox.run("", argv=[str(fake)])
    assert out.result.error is not None and "could not start" in out.result.error


def test_run_folder_inside_the_working_folder_is_refused(sandbox):
    with pytest.raises(SandboxError, match="outside the working folder"):
        sandbox.backend.start(SandboxRequest(
            argv=[sys.executable, "-c", "pass"], workdir=sandbox.workdir, env={},
            run_dir=sandbox.workdir / "run",
        ))


def test_run_cgroups_are_removed_after_the_run(sandbox):
    child = sandbox.start("import os\nos.fork()\n")
    dirs = list(child.cgroup.dirs.values()) if child.cgroup else []
    child.wait()
    child.close()
    if not sandbox.backend.use_cgroups:
        pytest.skip(f"{sandbox.name} uses no cgroups")
    assert dirs and not any(d.exists() for d in dirs)


def test_a_hostile_run_does_not_disturb_a_concurrent_honest_one(sandbox):
    limits = Limits(wall_seconds=1.0, processes=16, memory_bytes=128 << 20, grace_seconds=0.2)
    if not sandbox.pids_bounded(limits):
        pytest.skip("no pids cgroup and running as root: a fork bomb cannot be bounded here")
    bomb = sandbox.start(
        "import os, time\nwhile True:\n    try:\n        os.fork()\n"
        "    except OSError:\n        time.sleep(0.01)\n", limits)
    honest = sandbox.start(
        "import os, threading\nts = [threading.Thread(target=len, args=('x',)) for _ in range(8)]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]\nos.write(3, b'done')\n",
        Limits(wall_seconds=20, processes=16),
    )
    honest_result = honest.wait()
    bomb_result = bomb.wait()
    assert honest_result.exit_code == 0 and honest_result.killed is None
    assert read_channel(honest.channel_fd) == b"done"
    assert bomb_result.killed == "wall-clock", bomb_result.error
    # The bomb's wall clock expired while the caller was waiting for the honest run: the
    # supervisor enforced it on its own.
    assert bomb_result.usage.wall_s < 8
    honest.close()
    bomb.close()
    assert find_survivors(sandbox.mark) == []


def test_runs_die_when_the_grader_is_killed(sandbox, tmp_path):
    """The grader is SIGKILLed mid-run: no process of the run may outlive it."""
    mark = sandbox.mark
    script = f"""
import sys, os, time
from pathlib import Path
sys.path.insert(0, {str(REPO)!r})
sys.path.insert(0, {str(Path(__file__).parent)!r})
from conftest import make_backend
from grader.sandbox import SandboxRequest, Limits
child = make_backend({sandbox.name!r}).start(SandboxRequest(
    argv=[sys.executable, "-c", "import os, time\\nif os.fork() == 0:\\n    os.setsid()\\n"
          "os.write(3, b'ready')\\ntime.sleep(300)", {mark!r}],
    workdir=Path({str(sandbox.workdir)!r}), env={{}}, limits=Limits(wall_seconds=60)))
import select
select.select([child.channel_fd], [], [], 20)
print("started", flush=True)
time.sleep(300)
"""
    grader_proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    try:
        assert grader_proc.stdout.readline().strip() == b"started"
        assert find_survivors(mark), "the run should be alive before the grader dies"
        grader_proc.send_signal(signal.SIGKILL)
        grader_proc.wait()
        deadline = time.monotonic() + 10
        while find_survivors(mark) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = find_survivors(mark)
    finally:
        if grader_proc.poll() is None:
            grader_proc.kill()
            grader_proc.wait()
    for line in left:  # never leave them running, even when the assertion below fails
        os.kill(int(line.split()[0]), signal.SIGKILL)
    assert left == []
    # The dead grader could not remove its run's cgroups: the next grader sweeps them.
    cgroups.remove_stale()
    layout = cgroups.detect()
    owns = [*layout.v1.values(), *([layout.v2] if layout.v2 else [])]
    stale = [d for own in owns for d in (own / cgroups.PARENT).glob(f"run-{grader_proc.pid}-*")]
    assert stale == []
    assert left == []


def test_choose_picks_bwrap_when_it_works_and_names_what_is_missing():
    assert choose(None).name in ("bwrap", "process")
    assert choose("process").name == "process"
    with pytest.raises(SandboxUnavailable, match="unknown sandbox 'nope'"):
        choose("nope")


def test_doctor_reports_every_backend_and_feature_with_a_reason():
    rows = doctor()
    names = {r["name"] for r in rows}
    assert {"process", "bwrap", "portable", "cgroup-memory", "cgroup-pids", "cgroup-kill"} <= names
    for row in rows:
        assert isinstance(row["available"], bool) and row["why"]


def test_the_bwrap_probe_names_a_package_the_sandbox_cannot_see(monkeypatch):
    from grader.sandbox import bwrap

    if bwrap._bwrap_path() is None:
        pytest.skip("bubblewrap is not installed here")
    bwrap._probe.cache_clear()
    try:
        assert bwrap._probe()[0]
        monkeypatch.setattr(bwrap, "_PROBE", bwrap._PROBE.replace('"yaml"', '"yaml", "no_such_pkg"'))
        bwrap._probe.cache_clear()
        ok, why = bwrap._probe()
    finally:
        bwrap._probe.cache_clear()
    assert not ok and "no_such_pkg is not visible in the sandbox" in why
