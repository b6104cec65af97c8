"""Per-run control groups: the real memory and process limits, whole-tree kill, tree CPU.

Supports cgroup v1 (one hierarchy per controller, as on the project's machines: memory,
pids, cpuacct, freezer) and v2 (one unified hierarchy; `cgroup.kill`; in hybrid layouts a
controller-less v2 mount is still used to track and kill the tree). Run cgroups are created
under the grader's *own* cgroup in each hierarchy (never elsewhere, so the run stays inside
whatever accounts for the grader) in a `grader-sandbox` folder, and removed after the run.
Support is detected by doing (mkdir, write a limit, rmdir), never by guessing from paths.
The supervisor moves the command into the cgroups; this module never starts processes.
"""

from __future__ import annotations

import errno
import os
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from grader.sandbox.base import Limits

PARENT = "grader-sandbox"
V1_CONTROLLERS = ("memory", "pids", "cpuacct", "freezer")


@dataclass
class CgroupLayout:
    """Where this process's own cgroups are, per hierarchy."""

    v1: dict[str, Path] = field(default_factory=dict)  # controller -> own cgroup dir
    v2: Path | None = None  # own cgroup dir in the unified hierarchy
    v2_controllers: frozenset[str] = frozenset()


def _mounts() -> list[tuple[str, str, set[str]]]:
    rows = []
    with open("/proc/self/mounts") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4 and parts[2] in ("cgroup", "cgroup2"):
                rows.append((parts[2], parts[1], set(parts[3].split(","))))
    return rows


def detect() -> CgroupLayout:
    """Read /proc/self/cgroup and the mount table (no writes)."""
    layout = CgroupLayout()
    own: dict[str, str] = {}
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _hid, controllers, path = line.rstrip("\n").split(":", 2)
                for c in controllers.split(",") if controllers else [""]:
                    own[c] = path
    except OSError:
        return layout
    for kind, mountpoint, options in _mounts():
        if kind == "cgroup2" and "" in own:
            layout.v2 = Path(mountpoint + own[""])
            try:
                text = Path(mountpoint, "cgroup.controllers").read_text()
                layout.v2_controllers = frozenset(text.split())
            except OSError:
                pass
        elif kind == "cgroup":
            for c in V1_CONTROLLERS:
                if c in options and c in own:
                    layout.v1[c] = Path(mountpoint + own[c])
    return layout


def _write(path: Path, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _keyed(text: str) -> dict[str, int]:
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            out[parts[0]] = int(parts[1])
    return out


def _remove_stale(parent: Path) -> None:
    """Remove run cgroups left by a grader that died (its pid is in the name and gone)."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        parts = name.split("-")
        if len(parts) != 3 or parts[0] not in ("run", "probe") or not parts[1].isdigit():
            continue
        if _pid_alive(int(parts[1])):
            continue
        try:
            (parent / name).rmdir()
        except OSError:
            pass  # still populated (the pid namespace or the sweep will empty it) or gone


def remove_stale(layout: CgroupLayout | None = None) -> None:
    """Remove every run cgroup whose grader is dead, in every hierarchy (also on each create)."""
    layout = layout or detect()
    owns = list(layout.v1.values()) + ([layout.v2] if layout.v2 is not None else [])
    for own in owns:
        _remove_stale(own / PARENT)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _mkdir_run(own: Path, name: str) -> Path:
    parent = own / PARENT
    _remove_stale(parent)
    for _ in range(3):
        try:
            parent.mkdir(exist_ok=True)
            path = parent / name
            path.mkdir()
            return path
        except FileNotFoundError:
            continue  # a concurrent run removed the parent between the two mkdirs
    raise OSError(errno.ENOENT, f"cannot create {parent / name}")


@dataclass
class RunCgroup:
    """The cgroups of one run. Create with `RunCgroup.create`, always `remove()` after."""

    dirs: dict[str, Path]  # "memory"/"pids"/"cpuacct"/"freezer" (v1) or "v2" -> dir
    memory_limited: bool = False
    pids_limited: bool = False

    @classmethod
    def create(cls, layout: CgroupLayout, limits: Limits, name: str | None = None) -> RunCgroup:
        """Create the run's cgroups and apply the limits; raises OSError if none works."""
        name = name or f"run-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        group = cls(dirs={})
        try:
            for controller, own in layout.v1.items():
                try:
                    group.dirs[controller] = _mkdir_run(own, name)
                except OSError:
                    continue
            if layout.v2 is not None:
                try:
                    group.dirs["v2"] = _mkdir_run(layout.v2, name)
                except OSError:
                    pass
            group._apply(limits, layout)
        except BaseException:
            group.remove()
            raise
        if not group.dirs:
            raise OSError(errno.EACCES, "no writable cgroup hierarchy")
        return group

    def _apply(self, limits: Limits, layout: CgroupLayout) -> None:
        mem = self.dirs.get("memory")
        if mem is not None:
            _write(mem / "memory.limit_in_bytes", str(limits.memory_bytes))
            if (mem / "memory.memsw.limit_in_bytes").exists():
                try:
                    _write(mem / "memory.memsw.limit_in_bytes", str(limits.memory_bytes))
                except OSError:
                    pass  # swap accounting disabled: there is no swap to escape to anyway
            self.memory_limited = True
        pids = self.dirs.get("pids")
        if pids is not None:
            _write(pids / "pids.max", str(limits.processes))
            self.pids_limited = True
        v2 = self.dirs.get("v2")
        if v2 is not None:
            if "memory" in layout.v2_controllers and mem is None:
                try:
                    _enable_v2(v2, "memory")
                    _write(v2 / "memory.max", str(limits.memory_bytes))
                    if (v2 / "memory.swap.max").exists():
                        _write(v2 / "memory.swap.max", "0")
                    self.memory_limited = True
                except OSError:
                    pass
            if "pids" in layout.v2_controllers and pids is None:
                try:
                    _enable_v2(v2, "pids")
                    _write(v2 / "pids.max", str(limits.processes))
                    self.pids_limited = True
                except OSError:
                    pass

    # -- what the supervisor needs -----------------------------------------------------------
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs.values()]

    def kill_file(self) -> str | None:
        v2 = self.dirs.get("v2")
        if v2 is not None and (v2 / "cgroup.kill").exists():
            return str(v2 / "cgroup.kill")
        return None

    def freezer_dir(self) -> str | None:
        d = self.dirs.get("freezer")
        return str(d) if d is not None else None

    # -- after the run -----------------------------------------------------------------------
    def pids(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs.values():
            for line in _read(d / "cgroup.procs").split():
                found.add(int(line))
        return found

    def kill_all(self) -> int:
        """Kill every process in the run's cgroups; returns how many were still there."""
        before = self.pids()
        if not before:
            return 0
        kill = self.kill_file()
        if kill:
            try:
                _write(Path(kill), "1")
            except OSError:
                pass
        freezer = self.dirs.get("freezer")
        if freezer is not None:
            try:
                _write(freezer / "freezer.state", "FROZEN")
            except OSError:
                freezer = None
        for _ in range(200):
            left = self.pids()
            if not left:
                break
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            if freezer is not None:
                try:
                    _write(freezer / "freezer.state", "THAWED")
                    _write(freezer / "freezer.state", "FROZEN")
                except OSError:
                    pass
            time.sleep(0.005)
        if freezer is not None:
            try:
                _write(freezer / "freezer.state", "THAWED")
            except OSError:
                pass
        return len(before)

    def usage(self) -> dict[str, float | int]:
        """Whole-tree CPU seconds, peak memory bytes and OOM kills, where readable."""
        out: dict[str, float | int] = {}
        acct = self.dirs.get("cpuacct")
        if acct is not None:
            stat = _keyed(_read(acct / "cpuacct.stat"))
            hz = os.sysconf("SC_CLK_TCK")
            if stat:
                out["cpu_user_s"] = stat.get("user", 0) / hz
                out["cpu_system_s"] = stat.get("system", 0) / hz
        mem = self.dirs.get("memory")
        if mem is not None:
            peak = _read(mem / "memory.max_usage_in_bytes").strip()
            if peak.isdigit():
                out["peak_memory_bytes"] = int(peak)
            out["oom_kills"] = _keyed(_read(mem / "memory.oom_control")).get("oom_kill", 0)
        v2 = self.dirs.get("v2")
        if v2 is not None:
            cpu = _keyed(_read(v2 / "cpu.stat"))
            if "user_usec" in cpu and "cpu_user_s" not in out:
                out["cpu_user_s"] = cpu["user_usec"] / 1e6
                out["cpu_system_s"] = cpu.get("system_usec", 0) / 1e6
            peak = _read(v2 / "memory.peak").strip()
            if peak.isdigit() and "peak_memory_bytes" not in out:
                out["peak_memory_bytes"] = int(peak)
            events = _keyed(_read(v2 / "memory.events"))
            if "oom_kill" in events:
                out["oom_kills"] = max(int(out.get("oom_kills", 0)), events["oom_kill"])
        pids = self.dirs.get("pids")
        if pids is not None:
            out["pids_max_hits"] = _keyed(_read(pids / "pids.events")).get("max", 0)
        return out

    def remove(self) -> list[str]:
        """Kill leftovers and remove the run's cgroups; returns the dirs that would not go."""
        failed = []
        if self.dirs:
            self.kill_all()
        for d in self.dirs.values():
            for attempt in range(100):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as exc:
                    if exc.errno != errno.EBUSY or attempt == 99:
                        failed.append(str(d))
                        break
                    time.sleep(0.01)
            try:
                d.parent.rmdir()  # the shared parent goes when the last run leaves it
            except OSError:
                pass
        self.dirs = {}
        return failed


def _enable_v2(run_dir: Path, controller: str) -> None:
    """Enable a v2 controller down to `run_dir` (fails where 'no internal processes' bites)."""
    parent = run_dir.parent
    for d in (parent.parent, parent):
        enabled = _read(d / "cgroup.subtree_control").split()
        if controller not in enabled:
            _write(d / "cgroup.subtree_control", f"+{controller}")


def probe(layout: CgroupLayout | None = None) -> dict[str, tuple[bool, str]]:
    """Try each limit for real: feature -> (works, why)."""
    layout = layout or detect()
    result: dict[str, tuple[bool, str]] = {}
    if not layout.v1 and layout.v2 is None:
        reason = "no cgroup hierarchy mounted (or /proc/self/cgroup unreadable)"
        return {f: (False, reason) for f in ("cgroup-memory", "cgroup-pids", "cgroup-kill")}
    try:
        group = RunCgroup.create(
            layout, Limits(memory_bytes=256 << 20, processes=64),
            name=f"probe-{os.getpid()}-{uuid.uuid4().hex[:6]}",
        )
    except OSError as exc:
        reason = f"cannot create a cgroup under the grader's own: {exc}"
        return {f: (False, reason) for f in ("cgroup-memory", "cgroup-pids", "cgroup-kill")}
    try:
        def where(key: str) -> str:
            d = group.dirs.get(key)
            return f"runs go under {d.parent}" if d is not None else ""

        mem_key = "memory" if "memory" in group.dirs else "v2"
        result["cgroup-memory"] = (
            group.memory_limited,
            f"{'v1' if mem_key == 'memory' else 'v2'} memory limit works; {where(mem_key)}"
            if group.memory_limited
            else "no writable memory controller (v1 memory, or v2 memory delegated)",
        )
        pids_key = "pids" if "pids" in group.dirs else "v2"
        result["cgroup-pids"] = (
            group.pids_limited,
            f"pids.max works (limits root too); {where(pids_key)}" if group.pids_limited
            else "no writable pids controller",
        )
        if group.kill_file():
            result["cgroup-kill"] = (True, "cgroup.kill (v2)")
        elif group.freezer_dir():
            result["cgroup-kill"] = (True, "v1 freezer: freeze, kill, thaw")
        else:
            result["cgroup-kill"] = (False, "neither v2 cgroup.kill nor a v1 freezer")
    finally:
        group.remove()
    return result
