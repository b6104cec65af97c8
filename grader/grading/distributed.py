"""Send a batch's gradings to a Dask distributed cluster.

Owns the Dask backend of the batch: connecting to a scheduler (or starting a
LocalCluster on this machine), shipping the exercise once and each submission's
files with its task, so workers need no shared filesystem, and grading on the
worker under a machine-wide share (flock) so exclusive checks get each worker
host to themselves. The database never leaves the coordinator: workers return
results, the batch stores them.

`distributed` is an optional dependency (``pip install concurrency-grader[dask]``); nothing
here is imported by the local batch.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.grading.batch import GradeJob, StudentGrading, grade_timed
from grader.grading.machine_share import ReadersWriterShare
from grader.results import SubmissionResult

if TYPE_CHECKING:
    from grader.spec import Exercise

#: Largest submission shipped to a worker; beyond this it is not graded (a class's
#: submissions are source files, and a worker's memory is not for learners' data dumps).
MAX_SUBMISSION_BYTES = 16 << 20
_SKIP_DIRS = {"__pycache__", ".git", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


class DaskUnavailable(Exception):
    """`--dask` was asked for but the `distributed` package is not installed."""


def _require_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise DaskUnavailable(
            "--dask needs the `distributed` package: pip install 'concurrency-grader[dask]'"
        ) from None
    return distributed


def pack(path: Path) -> dict[str, bytes]:
    """A file or folder as {relative path: bytes}, rooted at its own name.

    Sizes are checked before anything is read, so a huge submission costs no memory.
    """
    if path.is_file():
        if path.stat().st_size > MAX_SUBMISSION_BYTES:
            raise ValueError(f"{path} is larger than {MAX_SUBMISSION_BYTES >> 20} MB")
        return {path.name: path.read_bytes()}
    chosen: list[Path] = []
    total = 0
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(names):
            full = Path(root) / name
            if full.is_symlink() or not full.is_file():
                continue
            total += full.stat().st_size
            if total > MAX_SUBMISSION_BYTES:
                raise ValueError(f"{path} holds more than {MAX_SUBMISSION_BYTES >> 20} MB")
            chosen.append(full)
    return {str(Path(path.name) / full.relative_to(path)): full.read_bytes() for full in chosen}


def unpack(files: dict[str, bytes], into: Path) -> None:
    for relative, data in files.items():
        target = (into / relative).resolve()
        if into.resolve() not in target.parents:
            raise ValueError(f"{relative} would land outside the unpack folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


# --------------------------------------------------------------------------- worker side

_worker_lock = threading.Lock()
_worker_share: ReadersWriterShare | None = None
_worker_exercises: dict[str, Exercise] = {}


def _machine_share() -> ReadersWriterShare:
    """One share per worker process, spanning every worker process on this host."""
    global _worker_share
    with _worker_lock:
        if _worker_share is None:
            uid = os.getuid()
            lock = Path(tempfile.gettempdir()) / f"grader-machine-{uid}.lock"
            _worker_share = ReadersWriterShare(lock_file=lock)
        return _worker_share


def _exercise_on_worker(bundle: dict[str, bytes], exercise_id: str) -> Exercise:
    from grader.spec import load_exercise

    digest = hashlib.sha256()
    for name in sorted(bundle):
        digest.update(name.encode() + b"\0" + bundle[name])
    tag = digest.hexdigest()[:16]
    with _worker_lock:
        if tag not in _worker_exercises:
            home = Path(tempfile.gettempdir()) / f"grader-exercises-{os.getuid()}" / tag
            folder = home / exercise_id
            if not folder.is_dir():
                home.parent.mkdir(parents=True, exist_ok=True)
                staging = Path(tempfile.mkdtemp(prefix="unpack-", dir=home.parent))
                unpack(bundle, staging)
                home.mkdir(parents=True, exist_ok=True)
                try:
                    os.rename(staging / exercise_id, folder)
                except OSError:  # another worker process on this host unpacked it first
                    pass
                shutil.rmtree(staging, ignore_errors=True)
            _worker_exercises[tag] = load_exercise(folder)
        return _worker_exercises[tag]


def grade_on_worker(
    exercise_bundle: dict[str, bytes],
    exercise_id: str,
    submission_files: dict[str, bytes],
    submission_name: str,
    sandbox: str | None,
    exercise_ref: str | None = None,
) -> dict[str, Any]:
    """The Dask task: grade one shipped submission; returns plain data (no pickled classes)."""
    exercise = _exercise_on_worker(exercise_bundle, exercise_id)
    worker = socket.gethostname()
    try:
        from distributed import get_worker

        worker = get_worker().address
    except (ImportError, ValueError):
        pass
    with tempfile.TemporaryDirectory(prefix="grader-submission-") as scratch:
        unpack(submission_files, Path(scratch))
        graded_path = Path(scratch) / submission_name
        outcome = grade_timed(
            exercise,
            graded_path,
            sandbox=sandbox,
            machine=_machine_share(),
            worker=worker,
            exercise_ref=exercise_ref,
        )
    return {
        "result": outcome.result.to_dict() if outcome.result is not None else None,
        "error": outcome.error,
        "grading_s": outcome.grading_s,
        "worker": outcome.worker,
    }


# --------------------------------------------------------------------------- coordinator side


def start_local_cluster(workers: int = 2, threads_per_worker: int = 1) -> Any:
    """A Dask LocalCluster of worker processes on loopback (tests, and `--dask local:N`)."""
    distributed = _require_distributed()
    return distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=threads_per_worker,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=40,
    )


class DaskBackend:
    """Gradings on a Dask cluster; results come back to the coordinating process."""

    name = "dask"

    def __init__(
        self,
        exercise: Exercise,
        address: Any,
        *,
        sandbox: str | None = None,
        exercise_ref: str | None = None,
    ) -> None:
        """`address`: a scheduler address (tcp://HOST:PORT) or a cluster object."""
        distributed = _require_distributed()
        self.exercise = exercise
        self.sandbox = sandbox
        self.exercise_ref = exercise_ref
        self.client = distributed.Client(address, set_as_default=False)
        self._slots = (0, 0.0)  # (count, when counted)
        bundle = pack(Path(exercise.folder))
        self._exercise = self.client.scatter(bundle, broadcast=True, hash=False)
        self._exercise_id = Path(exercise.folder).name
        self._in_flight: dict[str, Any] = {}

    @property
    def slots(self) -> int:
        """Worker threads in the cluster now (re-counted every few seconds: clusters scale)."""
        count, when = self._slots
        if time.monotonic() - when > 5.0:
            count = sum(self.client.nthreads().values())
            self._slots = (count, time.monotonic())
        return max(1, count)

    def submit(self, job: GradeJob) -> concurrent.futures.Future:
        """A concurrent.futures Future of a StudentGrading, resolved when the worker answers."""
        outer: concurrent.futures.Future = concurrent.futures.Future()
        try:
            files = pack(job.submission.path)
        except (OSError, ValueError) as error:
            outer.set_result(StudentGrading(None, f"cannot ship the submission: {error}", 0.0, "-"))
            return outer
        inner = self.client.submit(
            grade_on_worker,
            self._exercise,
            self._exercise_id,
            files,
            job.submission.path.name,
            self.sandbox,
            self.exercise_ref,
            pure=False,
            key=f"grade-{job.submission.student}-{job.content_hash[:12]}-{os.urandom(4).hex()}",
        )
        outer.set_running_or_notify_cancel()

        def resolve(done: Any) -> None:
            self._in_flight.pop(done.key, None)
            try:
                data = done.result()
            except BaseException as error:  # KilledWorker, CancelledError, a worker-side bug
                outer.set_exception(error)
                return
            result = data["result"]
            if result is not None:
                result = SubmissionResult.from_dict(result)
                # it names the worker's scratch copy; name the coordinator's file instead
                result.name_submission(str(job.submission.path))
            outer.set_result(
                StudentGrading(
                    result,
                    data["error"],
                    data["grading_s"],
                    data["worker"],
                )
            )

        # A distributed Future that nobody references is released (its task forgotten).
        self._in_flight[inner.key] = inner
        inner.add_done_callback(resolve)
        return outer

    def close(self) -> None:
        self.client.close()
