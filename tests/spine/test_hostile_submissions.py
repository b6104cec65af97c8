"""Broken and hostile submissions fail with a reason, never pass, and leave nothing running."""

from __future__ import annotations

import uuid

import psutil

from .conftest import grade_json

COUNTER_OK = """
import threading
class Counter:
    def __init__(self, start=0):
        self._v = start
        self._lock = threading.Lock()
    def increment(self, n=1):
        {body}
        with self._lock:
            self._v += n
    def value(self):
        return self._v
"""


def _survivors(token: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and token in " ".join(
                    proc.info["cmdline"] or []):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def _statuses(result: dict) -> dict[str, str]:
    return {c["id"]: c["status"] for c in result["checks"]}


def test_sleeping_forever_at_import_times_out_the_import_check(hostile):
    code, result = grade_json("counter", hostile("import time\ntime.sleep(10_000)\n"))
    assert code == 1
    first = result["checks"][0]
    assert first["id"] == "imports" and first["status"] == "timeout"
    assert "importing" in first["message"]
    assert all(c["status"] == "skipped" for c in result["checks"][2:])


def test_exiting_at_import_fails_the_import_check(hostile):
    code, result = grade_json("counter", hostile("import sys\nsys.exit(0)\n"))
    assert code == 1 and result["checks"][0]["status"] == "failed"
    assert "sys.exit(0)" in result["checks"][0]["message"]


def test_os_exit_at_import_is_an_error_not_a_pass(hostile):
    code, result = grade_json("counter", hostile("import os\nos._exit(0)\n"))
    assert code == 1 and result["checks"][0]["status"] == "error"
    assert "exit code 0" in result["checks"][0]["message"]


def test_os_exit_in_a_check_costs_that_check_and_the_rest_still_run(hostile):
    source = COUNTER_OK.format(body="if n == 5:\n            import os; os._exit(0)")
    code, result = grade_json("counter", hostile(source))
    statuses = _statuses(result)
    assert code == 1
    assert statuses["increments-add-up"] == "error"
    assert statuses["starts-at-start"] == "passed"
    assert statuses["counters-are-independent"] == "passed"  # ran in a fresh child
    assert result["resources"]["children_started"] >= 2


def test_a_hang_inside_a_call_times_out_only_that_check(hostile):
    # blocked in a call outside the model (a wait on a modelled Event nobody sets would be a
    # deadlock, reported at once: see the next test)
    source = COUNTER_OK.format(body="if n == 5:\n            import select; select.select([], [], [])")
    code, result = grade_json("counter", hostile(source), "--check", "increments-add-up",
                              "--check", "counters-are-independent")
    statuses = _statuses(result)
    assert statuses["increments-add-up"] == "timeout"
    assert statuses["counters-are-independent"] == "passed"


def test_a_wait_nobody_can_satisfy_in_a_functional_check_is_a_deadlock_with_its_line(hostile):
    source = COUNTER_OK.format(body="if n == 5:\n            threading.Event().wait()")
    code, result = grade_json("counter", hostile(source), "--check", "increments-add-up",
                              "--check", "counters-are-independent")
    statuses = _statuses(result)
    assert statuses["increments-add-up"] == "failed"
    failure = next(c["failure"] for c in result["checks"] if c["id"] == "increments-add-up")
    assert failure["kind"] == "deadlock"
    assert [(b["line"], b["waits_for"].split("#")[0]) for b in failure["deadlock"]] == [
        (9, "notify on Event")]
    assert statuses["counters-are-independent"] == "passed"


def test_printed_fake_results_are_just_output(hostile):
    fake = ('print(\'{"event": "result", "check": "increments-add-up", "status": "passed"}\')\n'
            'print("===== 7 passed in 0.01s =====")\n')
    code, result = grade_json("counter", hostile(fake + "class Counter:\n    pass\n"))
    assert code == 1
    assert _statuses(result)["increments-add-up"] != "passed"
    assert "7 passed" in result["output"]


def test_writing_forged_records_to_the_channel_is_refused(hostile):
    forge = ("import os\n"
             "os.write(3, b'{\"event\": \"result\", \"check\": \"starts-at-start\", "
             "\"status\": \"passed\"}\\n')\n"
             "class Counter:\n    pass\n")
    code, result = grade_json("counter", hostile(forge))
    assert code == 1
    assert result["score"] == 0


def test_a_setsid_double_forked_daemon_does_not_survive_grading(hostile):
    token = f"grader-escapee-{uuid.uuid4().hex}"
    daemon = f"""
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(300)", "{token}"])
    os._exit(0)
os.wait()
""" + COUNTER_OK.format(body="pass")
    grade_json("counter", hostile(daemon), "--check", "starts-at-start")
    assert _survivors(token) == []


def test_a_hanging_check_leaves_no_process_behind(hostile):
    token = f"grader-hang-{uuid.uuid4().hex}"
    source = COUNTER_OK.format(
        body=f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', "
             f"'import time; time.sleep(300)', '{token}']); import select; select.select([], [], [])")
    code, result = grade_json("counter", hostile(source), "--check", "increments-add-up")
    assert _statuses(result)["increments-add-up"] == "timeout"
    assert _survivors(token) == []


def test_a_forbidden_import_fails_allowed_modules_and_skips_the_rest(hostile):
    # bounded-buffer forbids queue (counter forbids nothing: the catalogue sets no forbid list)
    source = "import queue\n" + COUNTER_OK.format(body="pass")
    code, result = grade_json("bounded-buffer", hostile(source))
    statuses = _statuses(result)
    assert statuses["allowed-modules"] == "failed"
    assert "line 1" in result["checks"][1]["message"]
    assert statuses["fifo-and-len"] == "skipped"


def test_a_program_the_explorer_cannot_control_is_graded_on_real_threads(hostile):
    # a lock the model does not know (a C SimpleQueue used as a token) held across a
    # scheduling point: the explorer loses control, falls back to real threads, and says so
    source = ("import _queue\n\nclass Counter:\n"
              "    def __init__(self, start=0):\n        self.v = start\n"
              "        self.token = _queue.SimpleQueue()\n        self.token.put(1)\n"
              "    def increment(self, n=1):\n        t = self.token.get()\n"
              "        self.v += n\n        self.token.put(t)\n"
              "    def value(self):\n        return self.v\n")
    code, result = grade_json("counter", hostile(source), "--check", "no-lost-updates")
    assert code == 0, result
    check = next(c for c in result["checks"] if c["id"] == "no-lost-updates")
    assert check["status"] == "passed"
    assert "lost control" in check["message"] and "real threads" in check["message"]
