"""Start a learner's server in a child process, optionally with its thread switches widened.

`launch(submission_dir, entry, ...)` starts a fresh interpreter that imports the
learner's entry module and calls `serve(sock_path)` (mode "call"), or runs the
file as a script with the socket path as its argument (mode "script"). The
child gets its own session, so `stop()` kills its whole process group, and its
output goes to a file (a full pipe must never block a server).

Widening (`widen=(seed, probability, pause_s[, store_probability])`): a trace
function on every thread pauses the learner's code, at seeded-random bytecodes of
the learner's own files, for `pause_s` seconds, so another thread runs in the
middle of what the interpreter lock would otherwise keep together
(`d[k] = d.get(k, 0) + n`). Just before a write to a subscript, an attribute or
a global (where a check-then-act has read and not yet written) the chance is
`store_probability`. Where the interpreter sends no opcode events (CPython
3.12.1), line events stand in: a line that writes is paused before it. The
server's thread switch interval is SWITCH_INTERVAL. Only frames entered while
the server has more than one thread are traced: a single-threaded server has
nothing to race and runs at full speed. It changes timing only, never results:
a correct server stays correct.
The module launches and stops; it does not judge what the server answers.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

#: The exit code of a server started in mode "call" whose `serve` returned. Any other code
#: (0 included) means the process ended some other way: `serve` raised, or ended the process
#: itself (`os._exit(0)` or `sys.exit` inside it) instead of returning.
SERVE_RETURNED = 75
#: A widened server's thread switch interval (seconds): threads that run at once switch often.
SWITCH_INTERVAL = 1e-6

_BOOTSTRAP = r"""
import os, random, sys, threading, time, traceback
grader_root, folder, entry, mode, sock_path, widen = sys.argv[1:7]
sys.path.insert(0, grader_root)
sys.path.insert(0, folder)
if widen:
    import dis
    seed, probability, pause, *store = widen.split(",")
    rng = random.Random(int(seed))
    probability, pause = float(probability), float(pause)
    store_probability = float(store[0]) if store else probability
    STORES = {dis.opmap[name] for name in ("STORE_SUBSCR", "STORE_ATTR", "STORE_GLOBAL",
                                           "DELETE_SUBSCR") if name in dis.opmap}
    prefix = os.path.realpath(folder) + os.sep
    store_lines = {}  # code object -> the lines that write a subscript, attribute or global
    opcodes = []  # set once an opcode event came (3.12.1 sends none: lines stand in)
    def stores_on(code):
        lines = store_lines.get(code)
        if lines is None:
            lines, line = store_lines.setdefault(code, set()), None
            for i in dis.get_instructions(code):
                line = i.positions.lineno if hasattr(i, "positions") else (
                    i.starts_line if i.starts_line is not None else line)
                if i.opcode in STORES:
                    lines.add(line)
        return lines
    def local(frame, event, arg):
        if event == "opcode":
            if not opcodes:
                opcodes.append(True)
            writes = frame.f_code.co_code[frame.f_lasti] in STORES
        elif event == "line" and not opcodes:
            writes = frame.f_lineno in stores_on(frame.f_code)
        else:
            return local
        if rng.random() < (store_probability if writes else probability):
            time.sleep(pause)
        return local
    learner = {}  # code object -> whether it is the learner's
    def outer(frame, event, arg):
        code = frame.f_code
        mine = learner.get(code)
        if mine is None:
            mine = learner[code] = os.path.realpath(code.co_filename).startswith(prefix)
        # a frame entered while the server has one thread has no other thread to race with:
        # a selectors or asyncio server runs untraced, at full speed
        if not mine or threading.active_count() < 2:
            return None
        frame.f_trace_opcodes = True
        return local
    sys.settrace(outer)
    threading.settrace(outer)
    sys.setswitchinterval(SWITCH_INTERVAL)
if mode == "script":
    import runpy
    sys.argv = [os.path.join(folder, entry + ".py"), sock_path]
    runpy.run_path(sys.argv[0], run_name="__main__")
    sys.exit(0)
try:
    module = __import__(entry)
    module.serve(sock_path)
except BaseException:
    traceback.print_exc()
    sys.stdout.flush(); sys.stderr.flush()
    os._exit(1)
sys.stdout.flush(); sys.stderr.flush()
os._exit(SERVE_RETURNED)  # lingering non-daemon threads must not keep the process
""".replace("SERVE_RETURNED", str(SERVE_RETURNED)).replace("SWITCH_INTERVAL", repr(SWITCH_INTERVAL))


class ServerDied(RuntimeError):
    """The server process exited before it was ready."""


class ServerHandle:
    """A learner's server running in its own process group."""

    def __init__(self, proc: subprocess.Popen, sock_path: str, workdir: Path,
                 output_path: Path) -> None:
        self.proc = proc
        self.sock_path = sock_path
        self.workdir = workdir
        self._output_path = output_path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def output(self, limit: int = 2000) -> str:
        """The tail of what the server printed."""
        try:
            text = self._output_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return text[-limit:]

    def wait_ready(self, deadline_s: float = 10.0) -> None:
        """Return once the socket file exists and accepts a connection."""
        from grader.processes.chaos import ServerSilent, connect

        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise ServerDied(f"the server exited with code {self.proc.returncode} before "
                                 f"accepting connections. Its output:\n{self.output()}")
            if os.path.exists(self.sock_path):
                try:
                    connect(self.sock_path, max(0.1, end - time.monotonic())).close()
                    return
                except ServerSilent:
                    break
                except OSError:
                    pass
            time.sleep(0.01)
        raise ServerSilent(f"the server did not accept connections on {self.sock_path} within "
                           f"{deadline_s:.0f}s")

    def wait_exit(self, timeout_s: float) -> int | None:
        """The server's exit code, or None if it still runs after `timeout_s` (in mode
        "call", `SERVE_RETURNED` when `serve` returned)."""
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        """Kill the server's whole process group, reap it, and remove its folder."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        shutil.rmtree(self.workdir, ignore_errors=True)


def launch(submission_dir: str | Path, entry: str, mode: str = "call",
           widen: tuple[float, ...] | None = None) -> ServerHandle:
    """Start the learner's server on a fresh socket path (in a fresh short temp folder)."""
    if mode not in ("call", "script"):
        raise ValueError(f"mode must be 'call' or 'script', not {mode!r}")
    # a Unix socket path must stay under ~108 bytes: use TMPDIR only when it is short
    base = tempfile.gettempdir()
    workdir = Path(tempfile.mkdtemp(prefix="kv-", dir=base if len(base) < 60 else "/tmp"))
    sock_path = str(workdir / "kv.sock")
    output_path = workdir / "server.out"
    grader_root = str(Path(__file__).resolve().parents[2])
    widen_arg = ",".join(str(x) for x in widen) if widen else ""
    with open(output_path, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", _BOOTSTRAP, grader_root, str(Path(submission_dir).resolve()),
             entry, mode, sock_path, widen_arg],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=str(workdir),
        )
    return ServerHandle(proc, sock_path, workdir, output_path)
