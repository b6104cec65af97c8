"""Hostile submissions of the `counter` exercise, graded end to end by `grader check`.

The sandbox's own conformance suite (tests/sandbox/) runs hostile code directly in a backend;
this suite is the level above: the real CLI grades a real exercise, under every backend that
`grader doctor` says this machine has. For each behaviour it asserts what issue 8 promises:
the checks the behaviour hits fail (or error, or time out) with a sentence for a learner, not a
traceback of the grader; the grader exits 1; grading ends within the exercise's budget; no
process the submission started survives (each one carries a unique token in its argv, and the
harness process renames itself to the token); nothing is written outside the working folder
(under `bwrap`; what the `process` backend cannot stop as root is asserted as documented).

Every destructive behaviour stops by itself (300 processes, 3 GiB, 200 MiB, 600 s), so even an
escape cannot take the machine down. Points come only from what the trusted side recorded: a
hostile submission is an honest broken one (its increment() adds nothing) plus the attack, and
must not score more than that broken one does.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import psutil
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXERCISE = ROOT / "exercises" / "counter"
SOLUTION = ROOT / "solutions" / "counter" / "reference.py"
CHECKS_FILE = EXERCISE / "checks" / "test_counter.py"
LIMITS = yaml.safe_load((EXERCISE / "exercise.yaml").read_text())["limits"]
BUDGET = float(LIMITS["submission_seconds"])
#: what "ends within the exercise's time budget" means on a loaded 2-core machine: the budget,
#: plus the grader's own start-up and teardown
BUDGET_BOUND = BUDGET + 30
SECRET_NAME = "GRADER_HOSTILE_TEST_SECRET"
#: "bwrap-warm": bwrap with the harness child forked by a warm zygote (GRADER_WARM=1), as
#: batch, validate and Dask grade thread exercises
BACKENDS = ("process", "bwrap", "bwrap-warm")
#: The cases the `portable` backend (macOS's) is graded on here too: one of each kind of
#: containment it claims (early exits, a setsid daemon, floods, forged output, exit hangs,
#: writing outside), cheap enough for the CI budget. Timeouts and limits it shares with the
#: process backend's supervisor are shown by tests/sandbox under portable directly.
WITH_PORTABLE = pytest.mark.parametrize("backend", [*BACKENDS, "portable"], indirect=True)
PORTABLE_AT_IMPORT = ("sys-exit", "os-exit")

# -- the submissions -------------------------------------------------------------------------

#: Every hostile submission starts with this: the harness process renames itself to the token
#: (children forked later inherit the name), and `_hx_spawn()` starts a process whose argv[0]
#: is the token. `/proc/self/comm` is per process, so this marks nothing outside the run.
PRELUDE = '''
import os as _hx_os
import sys as _hx_sys
import time as _hx_time

with open("/proc/self/comm", "w") as _hx_comm:
    _hx_comm.write("TOKEN")


def _hx_spawn():
    pid = _hx_os.fork()
    if pid == 0:
        try:
            _hx_os.execv("/bin/sleep", ["TOKEN", "600"])
        finally:
            _hx_os._exit(0)
    return pid

'''

#: An honest broken counter: increment() adds nothing (it fails increments-add-up), plus BODY.
BROKEN = '''
class Counter:
    def __init__(self, start=0):
        self._v = start

    def increment(self, n=1):
        BODY

    def value(self):
        return self._v
'''


def source(token: str, top: str = "", body: str = "pass", **values: object) -> str:
    """A hostile counter module: the prelude, `top` at import, `body` inside increment()."""
    indented = "\n        ".join(body.strip().splitlines())
    text = PRELUDE + top.strip() + "\n\n" + BROKEN.replace("BODY", indented)
    text = text.replace("TOKEN", token)
    for name, value in values.items():
        text = text.replace(name, str(value))
    return text


# -- running the grader ----------------------------------------------------------------------


@dataclass
class Graded:
    code: int
    result: dict
    elapsed: float
    stderr: str

    def check(self, check_id: str) -> dict:
        for check in self.result["checks"]:
            if check["id"] == check_id:
                return check
        raise AssertionError(f"no check {check_id} in {[c['id'] for c in self.result['checks']]}")

    def status(self, check_id: str) -> str:
        return self.check(check_id)["status"]


@cache
def _doctor() -> dict[str, dict]:
    done = subprocess.run([sys.executable, "-m", "grader", "doctor", "--format", "json"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    return {row["name"]: row for row in json.loads(done.stdout)}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    row = _doctor().get(request.param.removesuffix("-warm"))
    if row is None or not row["available"]:
        pytest.skip(f"grader doctor: {request.param} unavailable here: "
                    f"{row['why'] if row else 'not listed'}")
    return request.param


@pytest.fixture
def token() -> str:
    # 15 characters: the most /proc/PID/comm holds
    return "hx" + uuid.uuid4().hex[:13]


def secret_value(token: str) -> str:
    return f"secret-{token}-do-not-leak"


def grade(path: Path, backend: str, *checks: str, token: str = "",
          exercise: str = "counter") -> Graded:
    """`grader check counter PATH --format json --sandbox BACKEND [--check ID]...`."""
    argv = [sys.executable, "-m", "grader", "check", exercise, str(path), "--format", "json",
            "--sandbox", backend.removesuffix("-warm")]
    for check in checks:
        argv += ["--check", check]
    env = dict(os.environ)
    env["GRADER_WARM"] = "1" if backend.endswith("-warm") else "0"
    env[SECRET_NAME] = secret_value(token or "none")
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=BUDGET_BOUND + 60,
                          cwd=ROOT, env=env, stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    assert done.returncode in (0, 1), (
        f"grader exited {done.returncode} (1 expected): {done.stderr[-2000:]}")
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    return Graded(done.returncode, json.loads(done.stdout), elapsed, done.stderr)


def survivors(token: str) -> list[str]:
    """Live processes named for the token or carrying it in their argv."""
    found = []
    for proc in psutil.process_iter(["pid", "name", "cmdline", "status"]):
        try:
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            argv = " ".join(proc.info["cmdline"] or [])
            if proc.info["name"] == token or token in argv:
                found.append(f"{proc.pid} {proc.info['name']} {argv[:120]}")
        except psutil.Error:
            continue
    return found


def assert_learner_message(check: dict) -> None:
    """A sentence for a learner: present, and not a traceback of the grader."""
    message = check["message"]
    assert message.strip(), f"{check['id']} has no message"
    assert "Traceback (most recent call last)" not in message, message
    assert "/grader/" not in message and "grader." not in message, message
    assert len(message) < 2100, message


def assert_contained(graded: Graded, token: str, hit: dict[str, set[str]]) -> None:
    """The promises of issue 8 for one graded hostile submission."""
    for check_id, allowed in hit.items():
        check = graded.check(check_id)
        assert check["status"] in allowed, (
            f"{check_id}: {check['status']} ({check['message']}), expected one of {allowed}")
        if check["status"] != "passed":
            assert check["points"] == 0
            assert_learner_message(check)
    assert graded.code == 1, "a hostile submission is never a pass"
    assert graded.result["score"] == 0, "it must not score more than the honest broken counter"
    assert graded.elapsed < BUDGET_BOUND, f"grading took {graded.elapsed:.1f} s"
    assert survivors(token) == []


@pytest.fixture
def write(tmp_path: Path):
    def write(text: str, name: str = "counter.py") -> Path:
        path = tmp_path / "submission" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        return path

    return write


BAD = {"failed", "error"}
STOPPED = {"timeout"}

# -- behaviours at import --------------------------------------------------------------------

AT_IMPORT = {
    "thread-bomb": (
        "import threading\n_hx_event = threading.Event()\nfor _ in range(300):\n"
        "    threading.Thread(target=_hx_event.wait, args=(600,), daemon=True).start()", BAD),
    "infinite-loop": ("_hx_end = _hx_time.monotonic() + 600\n"
                      "while _hx_time.monotonic() < _hx_end:\n    pass", STOPPED),
    "sleep-forever": ("_hx_time.sleep(600)", STOPPED),
    "sys-exit": ("_hx_sys.exit(0)", BAD),
    "os-exit": ("_hx_os._exit(0)", BAD),
}


@pytest.mark.parametrize("behaviour", list(AT_IMPORT))
def test_hostile_code_at_import_fails_the_import_check(behaviour, backend, token, write):
    top, allowed = AT_IMPORT[behaviour]
    graded = grade(write(source(token, top=top)), backend, "imports", token=token)
    assert_contained(graded, token, {"imports": allowed})


@pytest.mark.parametrize("behaviour", PORTABLE_AT_IMPORT)
@pytest.mark.parametrize("backend", ["portable"], indirect=True)
def test_early_exit_at_import_under_the_portable_backend(behaviour, backend, token, write):
    top, allowed = AT_IMPORT[behaviour]
    graded = grade(write(source(token, top=top)), backend, "imports", token=token)
    assert_contained(graded, token, {"imports": allowed})


def test_fork_bomb_is_stopped_by_the_process_limit(backend, token, write):
    top = "for _ in range(300):\n    _hx_spawn()"
    graded = grade(write(source(token, top=top)), backend, "increments-add-up", token=token)
    assert_contained(graded, token, {"imports": BAD, "increments-add-up": {"skipped"}})
    assert graded.result["resources"]["processes_seen"] <= LIMITS["processes"] + 2


@pytest.fixture(scope="module")
def small_memory_counter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`counter` with 256 MiB of memory and a minute to import: on a loaded machine touching
    the real limit (1 GiB) at import can outlast the imports check's 10 s, and the wall clock,
    not the memory limit, stops the bomb."""
    folder = tmp_path_factory.mktemp("exercises") / "counter"
    shutil.copytree(EXERCISE, folder)
    spec = yaml.safe_load((folder / "exercise.yaml").read_text())
    spec["limits"]["memory_mb"] = 256
    for check in spec["checks"]:
        if check["id"] == "imports":
            check["seconds"] = 60
    (folder / "exercise.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return folder


def test_memory_bomb_is_stopped_by_the_memory_limit(backend, token, write, small_memory_counter):
    top = "_hx_chunks = [b'\\1' * (64 << 20) for _ in range(48)]"
    graded = grade(write(source(token, top=top)), backend, "imports", token=token,
                   exercise=str(small_memory_counter))
    assert_contained(graded, token, {"imports": BAD})
    assert "memory" in graded.check("imports")["message"]


# -- behaviours inside increment() ----------------------------------------------------------

IN_CALL = {
    "disk-filler": ("with open('fill-TOKEN', 'wb') as f:\n"
                    "    for _ in range(200):\n        f.write(bytes(1 << 20))", BAD, ""),
    "infinite-loop": ("_hx_end = _hx_time.monotonic() + 600\n"
                      "while _hx_time.monotonic() < _hx_end:\n    pass", STOPPED, "did not finish"),
    "sleep-forever": ("_hx_time.sleep(600)", STOPPED, "did not finish"),
    "sys-exit": ("_hx_sys.exit(0)", BAD, "sys.exit(0)"),
    "os-exit": ("_hx_os._exit(0)", BAD, "exit code 0"),
    "kill-parent": ("import signal\n_hx_os.kill(_hx_os.getppid(), signal.SIGKILL)", BAD, ""),
    "close-every-fd": ("_hx_os.closerange(0, 65536)", BAD, ""),
    "ignore-sigterm": ("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                       "_hx_spawn()\n_hx_time.sleep(600)", STOPPED, "did not finish"),
    "del-hang": ("class _Hang:\n    def __del__(self):\n        _hx_time.sleep(600)\n"
                 "_Hang()", STOPPED, "did not finish"),
    "recursion-bomb": ("self.increment(n)", {"error"}, "RecursionError"),
    "deep-recursion-bomb": ("_hx_sys.setrecursionlimit(10 ** 6)\nself.increment(n)",
                            BAD | STOPPED, ""),
    "huge-power": ("ten = 10\n_hx_big = ten ** ten ** 8", STOPPED | BAD, ""),
    "huge-int-from-text": ("_hx_sys.set_int_max_str_digits(0)\n_hx_big = int('9' * 10 ** 7)",
                           STOPPED | BAD, ""),
    "keyboard-interrupt": ("raise KeyboardInterrupt", {"error"}, ""),
    "system-exit": ("raise SystemExit('bye')", {"error"}, ""),
    "generator-exit": ("raise GeneratorExit", {"error"}, "GeneratorExit"),
    "custom-base-exception": ("class Boom(BaseException):\n    pass\nraise Boom('boom')",
                              {"error"}, "Boom"),
    # the explorer's "I lost control" is a grading fault (exit 3); the learner's look-alikes
    # are the learner's exceptions
    "kind-infrastructure": ("class Fault(RuntimeError):\n    kind = 'infrastructure'\n"
                            "raise Fault('not graded, please')", BAD, "Fault"),
    "grader-infrastructure-error": ("from grader.explore.runtime import InfrastructureError\n"
                                    "raise InfrastructureError('not graded, please')", BAD,
                                    "InfrastructureError"),
}


@pytest.mark.parametrize("behaviour", list(IN_CALL))
def test_hostile_code_inside_a_call_fails_that_check(behaviour, backend, token, write):
    body, allowed, says = IN_CALL[behaviour]
    graded = grade(write(source(token, body=body)), backend, "increments-add-up", token=token)
    assert_contained(graded, token, {"imports": {"passed"}, "increments-add-up": allowed})
    if says:
        assert says.lower() in graded.check("increments-add-up")["message"].lower()
    # the disk filler's file went with the working folder
    assert glob.glob(f"/tmp/grader-*/work/fill-{token}") == []


def test_keyboard_interrupt_is_named_in_the_message(token, write):
    graded = grade(write(source(token, body="raise KeyboardInterrupt")), "process",
                   "increments-add-up", token=token)
    assert "KeyboardInterrupt" in graded.check("increments-add-up")["message"]


def test_killing_the_supervisor_is_described_without_a_missing_exit_code(token, write):
    body = "import signal\n_hx_os.kill(_hx_os.getppid(), signal.SIGKILL)"
    graded = grade(write(source(token, body=body)), "process", "increments-add-up", token=token)
    assert "None" not in graded.check("increments-add-up")["message"]


# -- behaviours that break nothing by themselves: the grade is the broken counter's ----------


@WITH_PORTABLE
def test_flooding_stdout_and_stderr_is_capped(backend, token, write):
    top = ("_hx_chunk = 'x' * (1 << 20)\nfor _ in range(50):\n"
           "    _hx_sys.stdout.write(_hx_chunk)\n    _hx_sys.stderr.write(_hx_chunk)")
    graded = grade(write(source(token, top=top)), backend, "increments-add-up", token=token)
    assert_contained(graded, token, {"imports": {"passed"}, "increments-add-up": {"failed"}})
    assert graded.result["output_truncated"] is True
    assert len(graded.result["output"]) < 64 << 10


@WITH_PORTABLE
def test_printed_fake_results_are_only_output(backend, token, write):
    fake = (
        "for _hx_stream in (_hx_sys.stdout, _hx_sys.stderr):\n"
        "    print('{\"event\": \"result\", \"check\": \"increments-add-up\", "
        "\"status\": \"passed\", \"failure\": null, \"duration_s\": 0.1}', file=_hx_stream)\n"
        "    print('{\"event\": \"done\"}', file=_hx_stream)\n"
        "    print('============ 9 passed in 0.01s ============', file=_hx_stream)\n"
        "    _hx_stream.flush()"
    )
    graded = grade(write(source(token, top=fake, body=fake)), backend, "increments-add-up",
                   token=token)
    assert_contained(graded, token, {"imports": {"passed"}, "increments-add-up": {"failed"}})
    assert "9 passed" in graded.result["output"]
    assert "the value should be 1" in graded.check("increments-add-up")["message"]


@WITH_PORTABLE
def test_double_forked_setsid_daemon_does_not_survive(backend, token, write):
    top = ("if _hx_os.fork() == 0:\n    _hx_os.setsid()\n    _hx_spawn()\n    _hx_os._exit(0)\n"
           "_hx_os.wait()")
    graded = grade(write(source(token, top=top)), backend, "increments-add-up", token=token)
    assert_contained(graded, token, {"imports": {"passed"}, "increments-add-up": {"failed"}})


@WITH_PORTABLE
def test_atexit_and_del_hangs_at_exit_do_not_hold_the_grading(backend, token, write):
    top = ("import atexit\natexit.register(_hx_time.sleep, 600)\n"
           "class _Hang:\n    def __del__(self):\n        _hx_time.sleep(600)\n"
           "_hx_hang = _Hang()\n_hx_spawn()")
    graded = grade(write(source(token, top=top)), backend, "increments-add-up",
                   "counters-are-independent", token=token)
    assert_contained(graded, token, {"increments-add-up": {"failed"},
                                     "counters-are-independent": {"failed"}})
    # the harness leaves with os._exit: neither hang holds the run until the wall clock
    # (about the whole budget); twice a check's budget allows for a loaded machine
    assert graded.elapsed < 2 * LIMITS["check_seconds"], f"{graded.elapsed:.1f} s"


# -- reaching outside: files, secrets, network -----------------------------------------------


@WITH_PORTABLE
def test_writing_outside_the_working_folder(backend, token, write, tmp_path):
    targets = [tmp_path / f"outside-{token}", Path(f"/tmp/{token}-outside"),
               Path(f"/var/tmp/{token}-outside")]
    attempt = (
        "for _hx_path in TARGETS:\n"
        "    try:\n"
        "        with open(_hx_path, 'w') as _hx_file:\n"
        "            _hx_file.write('escaped')\n"
        "        print('HX-WROTE', _hx_path)\n"
        "    except OSError as exc:\n"
        "        print('HX-REFUSED', _hx_path, exc)"
    )
    text = source(token, top=attempt, TARGETS=tuple(str(t) for t in targets))
    try:
        graded = grade(write(text), backend, "increments-add-up", token=token)
        assert_contained(graded, token, {"imports": {"passed"}, "increments-add-up": {"failed"}})
        output = graded.result["output"]
        assert output.count("HX-WROTE") + output.count("HX-REFUSED") == len(targets)
        if backend.startswith("bwrap"):
            # the host sees none of them; /tmp inside is private (the write lands there and
            # vanishes with the run), the other two are refused
            assert [t for t in targets if t.exists()] == []
            assert f"HX-REFUSED {targets[0]}" in output and f"HX-REFUSED {targets[2]}" in output
        # process backend, documented (docs/threat-model.md): it runs as the grader's user id
        # with no filesystem view, so as root all three writes succeed. What it promises is the
        # grade and the end of the run, asserted above.
    finally:
        for target in targets[1:]:
            target.unlink(missing_ok=True)


def test_secrets_and_reference_solutions_stay_out_of_reach(backend, token, write):
    probe = (
        "print('HX-ENV', 'SECRET_NAME' in _hx_os.environ)\n"
        "for _hx_path in ('SOLUTION', 'CHECKS_FILE'):\n"
        "    try:\n"
        "        print('HX-READ', _hx_path, len(open(_hx_path).read()) > 0)\n"
        "    except OSError as exc:\n"
        "        print('HX-READ', _hx_path, False, exc)\n"
        "_hx_found = False\n"
        "for _hx_pid in _hx_os.listdir('/proc'):\n"
        "    try:\n"
        "        with open('/proc/' + _hx_pid + '/environ', 'rb') as _hx_file:\n"
        "            _hx_found |= b'SECRET_VALUE' in _hx_file.read()\n"
        "    except (OSError, ValueError):\n"
        "        pass\n"
        "print('HX-PROC-ENVIRON', _hx_found)"
    )
    text = source(token, top=probe, SECRET_NAME=SECRET_NAME, SECRET_VALUE=secret_value(token),
                  SOLUTION=SOLUTION, CHECKS_FILE=CHECKS_FILE)
    graded = grade(write(text), backend, "increments-add-up", token=token)
    assert_contained(graded, token, {"imports": {"passed"}, "increments-add-up": {"failed"}})
    output = graded.result["output"]
    assert "HX-ENV False" in output, "the child saw the grader's secret in its environment"
    # the checks must run in the child, so they are readable under every backend (the learner's
    # output reaches the report with paths cut to file names, like every path in it)
    checks_file, solution = Path(CHECKS_FILE).name, Path(SOLUTION).name
    assert f"HX-READ {checks_file} True" in output
    if backend.startswith("bwrap"):
        assert f"HX-READ {solution} False" in output, "reference solutions readable under bwrap"
        assert "HX-PROC-ENVIRON False" in output, "the grader's environment leaked via /proc"
    else:
        # documented: as root, the process backend cannot hide files or /proc/PID/environ
        assert f"HX-READ {solution}" in output and "HX-PROC-ENVIRON" in output


@pytest.fixture
def listener():
    """A TCP server on 127.0.0.1 that records every connection it accepts."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(2)
                try:
                    accepted.append(conn.recv(100))
                except OSError:
                    accepted.append(b"")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join(timeout=5)
    server.close()


def test_connecting_to_the_network(backend, token, write, listener):
    port, accepted = listener
    body = (
        "import socket\n"
        "try:\n"
        "    with socket.create_connection(('127.0.0.1', PORT), timeout=2) as _hx_conn:\n"
        "        _hx_conn.sendall(b'TOKEN')\n"
        "    print('HX-CONNECTED')\n"
        "except OSError as exc:\n"
        "    print('HX-NO-NETWORK', exc)"
    )
    graded = grade(write(source(token, body=body, PORT=port)), backend, "increments-add-up",
                   token=token)
    assert_contained(graded, token, {"imports": {"passed"}, "increments-add-up": {"failed"}})
    if backend.startswith("bwrap"):
        assert "HX-NO-NETWORK" in graded.result["output"]
        assert token.encode() not in b"".join(accepted)
    else:
        # documented: the process backend shares the host's network; as asserted above, what
        # it promises is the grade and the end of the run
        assert "HX-CONNECTED" in graded.result["output"] or "HX-NO-NETWORK" in \
            graded.result["output"]


# -- monkeypatching the harness, pytest or builtins in the shared interpreter ---------------

FORGE_NEEDS = '''
import grader.channel as _hx_channel
_hx_send = _hx_channel.send


def _hx_forge(fd, record):
    if record.get("check") == "no-lost-updates" and record.get("event") == "result":
        record = dict(record, status="passed", failure=None)
    _hx_send(fd, record)


_hx_channel.send = _hx_forge
'''

FORGE_OUT_OF_ORDER = '''
# Writes a forged pass for a later check straight to the results channel (fd 3) each time
# increment() runs. (Patching grader.channel.send does not reach the channel: the harness
# binds it before import.)
def _hx_forge_once():
    _hx_os.write(3, b'{"event": "result", "check": "counters-are-independent", '
                    b'"status": "passed", "failure": null, "duration_s": 0.1}\\n')
'''

FORGE_RUNNING = '''
# Writes a pass for the check that is running, well formed and in order, as the harness would:
# only the channel's key, which the submission does not know, tells it apart.
def _hx_forge_running():
    _hx_os.write(3, b'{"event": "result", "check": "increments-add-up", '
                    b'"status": "passed", "failure": null, "duration_s": 0.1}\\n')
'''


@WITH_PORTABLE
def test_forged_record_out_of_order_is_refused(backend, token, write):
    graded = grade(write(source(token, top=FORGE_OUT_OF_ORDER, body="_hx_forge_once()")),
                   backend, "increments-add-up", "counters-are-independent", token=token)
    assert_contained(graded, token, {"increments-add-up": {"error"},
                                     "counters-are-independent": {"error", "failed"}})
    assert "disturbed" in graded.check("increments-add-up")["message"]
    assert any("os.write(3" in flag["what"] for flag in graded.result["integrity"])


@WITH_PORTABLE
def test_forged_pass_for_the_running_check_is_refused(backend, token, write):
    graded = grade(write(source(token, top=FORGE_RUNNING, body="_hx_forge_running()")),
                   backend, "increments-add-up", token=token)
    assert_contained(graded, token, {"increments-add-up": {"error"}})
    assert "channel's key" in graded.check("increments-add-up")["message"]


def test_patched_builtins_cost_the_checks_and_are_flagged(backend, token, write):
    top = ("import builtins\n"
           "builtins.AssertionError = type('AssertionError', (Exception,), {})\n"
           "builtins.isinstance = lambda *args: True")
    graded = grade(write(source(token, top=top)), backend, "increments-add-up", token=token)
    # the patch breaks the harness itself, at import or before the check: either costs points
    assert_contained(graded, token, {"imports": BAD | {"passed"},
                                     "increments-add-up": BAD | {"skipped"}})
    assert graded.status("increments-add-up") != "passed"
    assert any(flag["what"] == "import builtins" for flag in graded.result["integrity"])


FORGE_EVERYTHING = {
    "channel-send": '''
import grader.channel as _hx_channel
_hx_send = _hx_channel.send


def _hx_forge(fd, record):
    if record.get("event") == "result":
        record = dict(record, status="passed", failure=None)
    _hx_send(fd, record)


_hx_channel.send = _hx_forge
''',
    "pytest-runtest": '''
import _pytest.python
_pytest.python.Function.runtest = lambda self: None
''',
}


@pytest.mark.parametrize("patch", list(FORGE_EVERYTHING))
def test_in_process_forgery_is_flagged_for_the_instructor(patch, backend, token, write):
    graded = grade(write(source(token, top=FORGE_EVERYTHING[patch])), backend,
                   "increments-add-up", token=token)
    flagged = {flag["what"] for flag in graded.result["integrity"]}
    assert any("grader" in what or "pytest" in what for what in flagged), (
        f"a submission patching the harness or pytest must be flagged: {flagged}")
    assert graded.code in (0, 1)
    assert graded.elapsed < BUDGET_BOUND
    assert survivors(token) == []


@pytest.mark.parametrize("patch", list(FORGE_EVERYTHING))
def test_in_process_forgery_scores_nothing(patch, token, write):
    graded = grade(write(source(token, top=FORGE_EVERYTHING[patch])), "bwrap",
                   "increments-add-up", token=token)
    assert graded.result["score"] == 0 and graded.status("increments-add-up") != "passed"


def test_an_always_equal_value_scores_nothing(token, write):
    top = "class _Equal:\n    def __eq__(self, other):\n        return True"
    text = source(token, top=top).replace("return self._v", "return _Equal()")
    graded = grade(write(text), "bwrap", "increments-add-up", token=token)
    assert graded.result["score"] == 0


# -- a class with hostile students ----------------------------------------------------------


def _gradebook(out: Path) -> dict[str, dict[str, str]]:
    """Rows by student, without when each was graded (differs run to run)."""
    with open(out / "gradebook.csv", newline="") as stream:
        rows = {row["student"]: row for row in csv.DictReader(stream)}
    for row in rows.values():
        row.pop("graded_at", None)
    return rows


def _batch(classdir: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", "batch", "counter", str(classdir), "--out", str(out),
         "-j", "2"], capture_output=True, text=True, timeout=600, cwd=ROOT,
        stdin=subprocess.DEVNULL)


def test_hostile_students_do_not_change_honest_students_grades(tmp_path, token):
    honest = tmp_path / "honest"
    honest.mkdir()
    shutil.copy(SOLUTION, honest / "alice.py")
    shutil.copy(ROOT / "solutions" / "counter" / "buggy_unlocked.py", honest / "bob.py")
    everyone = tmp_path / "class"
    shutil.copytree(honest, everyone)
    (everyone / "mallory.py").write_text(source(token, top="for _ in range(300):\n"
                                                           "    _hx_spawn()"))
    (everyone / "trudy.py").write_text(source(
        token, top="import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)",
        body="_hx_spawn()\n_hx_time.sleep(600)"))
    (everyone / "oscar.py").write_text(source(
        token, body="import signal\n_hx_os.kill(_hx_os.getppid(), signal.SIGKILL)\n"
                    "_hx_chunks = [b'\\1' * (64 << 20) for _ in range(48)]"))

    alone = _batch(honest, tmp_path / "alone")
    assert alone.returncode == 0, alone.stderr[-2000:]
    started = time.monotonic()
    mixed = _batch(everyone, tmp_path / "mixed")
    elapsed = time.monotonic() - started
    assert mixed.returncode == 0, mixed.stderr[-2000:]
    alone_rows, mixed_rows = _gradebook(tmp_path / "alone"), _gradebook(tmp_path / "mixed")
    for student in ("alice", "bob"):
        assert mixed_rows[student] == alone_rows[student]
    assert alone_rows["alice"]["status"] == "passed"
    for student in ("mallory", "trudy", "oscar"):
        assert mixed_rows[student]["status"] == "failed"
        assert float(mixed_rows[student]["score"]) <= float(alone_rows["bob"]["score"])
    assert elapsed < 3 * BUDGET_BOUND
    assert survivors(token) == []
