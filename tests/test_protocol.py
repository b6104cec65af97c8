"""The wire contract: what the child encodes, the parent decodes; nothing else gets through."""

from __future__ import annotations

import json

import pytest

from grader import protocol
from grader.protocol import (
    CheckEnded,
    CheckStarted,
    Coverage,
    Done,
    Failure,
    Hello,
    InternalError,
    ProcessInfo,
    Progress,
    ProtocolError,
    Replay,
    Status,
    TraceStep,
)
from grader.results import CheckResult, SubmissionResult


def _wire(record: protocol.Record) -> dict:
    line = protocol.encode(record)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    return json.loads(line)


@pytest.mark.parametrize("record", [
    Hello(pid=42),
    CheckStarted("no-lost-updates"),
    Progress("no-lost-updates"),
    Done(),
    InternalError("instrumenting the submission failed"),
    Coverage(files={"counter.py": {"executed": [1, 2], "statements": [1, 2, 3]}}),
    CheckEnded(check="imports", status=Status.PASSED, duration_s=0.25),
])
def test_every_record_survives_the_wire(record):
    assert protocol.decode(_wire(record)) == record


def test_a_failed_check_keeps_its_evidence_and_its_schedule_across_the_wire():
    failure = Failure(
        kind="invariant", message="value() == 1, expected 2",
        trace=[TraceStep("T1", "counter.py", 9, "current = self._value", "read self._value")],
        processes=[ProcessInfo(pid=7, parent=1, name="worker", state="zombie")],
        lines=[{"file": "counter.py", "line": 9}],
        replay=Replay(schedule="s4.2-17.1"), details="Scenario 'two increments'")
    sent = CheckEnded(check="no-lost-updates", status=Status.FAILED, failure=failure,
                      duration_s=1.5)
    wire = _wire(sent)
    assert wire["event"] == "result" and wire["failure"]["replay"] == "s4.2-17.1"
    got = protocol.decode(wire)
    assert got.failure.trace == failure.trace and got.failure.processes == failure.processes
    # the child knew the schedule; the parent learns which check it belongs to
    assert got.failure.replay == Replay(check="no-lost-updates", schedule="s4.2-17.1")


def test_encode_writes_a_learners_unencodable_value_as_text():
    class Weird:
        def __str__(self) -> str:
            return "<weird>"

    failure = Failure(kind="assertion", message="m", lines=[{"file": Weird(), "line": 1}])
    wire = _wire(CheckEnded(check="c", status=Status.FAILED, failure=failure))
    assert wire["failure"]["lines"] == [{"file": "<weird>", "line": 1}]


@pytest.mark.parametrize("raw, why", [
    ([1, 2], "not a JSON object"),
    ({"check": "x"}, "unknown kind"),
    ({"event": "launch-missiles"}, "unknown kind"),
    ({"event": "start"}, "names no check"),
    ({"event": "result", "check": 7, "status": "passed"}, "names no check"),
    ({"event": "progress", "check": "x" * 500}, "names no check"),
])
def test_what_is_not_a_record_is_a_protocol_error(raw, why):
    with pytest.raises(ProtocolError, match=why):
        protocol.decode(raw)


def test_decode_trusts_no_field_of_a_result():
    got = protocol.decode({
        "event": "result", "check": "c", "status": "timeout", "duration_s": -5,
        "failure": {"kind": ["x"], "message": "m" * 10_000,
                    "trace": [{"thread": 1, "line": "9", "switch": 1}, "junk"] * 3000,
                    "processes": [{"pid": True, "cpu_s": "lots", "parent": None}]},
    })
    assert got.status is Status.ERROR  # only the parent decides timeouts
    assert got.duration_s == 0.0
    failure = got.failure
    assert len(failure.message) <= protocol.LIMITS["message"]
    assert len(failure.trace) <= protocol.LIMITS["trace"]
    assert failure.trace[0] == TraceStep("1", "", 0, "", "", True)
    assert failure.processes == [ProcessInfo(pid=0, parent=None, name="", cpu_s=0.0)]


def test_coverage_keeps_only_line_numbers():
    got = protocol.decode({"event": "coverage", "files": {
        "a.py": {"executed": [1, 2.0, True, "3", 4], "statements": 7},
        "b.py": "junk", 5: {"executed": [1]}}})
    assert got == Coverage(files={"a.py": {"executed": [1, 4], "statements": []}})


def test_a_result_with_an_unknown_status_is_no_pass():
    got = protocol.decode({"event": "result", "check": "c", "status": "passed!!"})
    assert got.status is Status.ERROR and got.failure.kind == "exception"


def test_a_passed_check_carries_no_failure_whatever_the_child_says():
    got = protocol.decode({"event": "result", "check": "c", "status": "passed",
                           "failure": {"kind": "x", "message": "y"}, "note": "real threads"})
    assert got.failure is None and got.note == "real threads"


def test_the_harness_command_line_is_what_the_harness_parses():
    argv = protocol.harness_argv("python3", "/checks", ["imports", "no-lost-updates"],
                                 plugins=[protocol.EXPLORER_PLUGIN], coverage=True)
    assert argv[:4] == ["python3", "-s", "-m", protocol.HARNESS_MODULE]
    from grader.harness import runner

    # the harness's parser accepts exactly these words (it exits 2 on anything else)
    parsed = runner.parse_args(argv[4:])
    assert parsed.only == "imports,no-lost-updates" and parsed.coverage
    assert parsed.plugin == [protocol.EXPLORER_PLUGIN]
    # and the warm harness reads the same words back out of it
    assert protocol.harness_args(argv) == argv[4:]
    assert protocol.harness_args(["python3", "-c", "pass", "x", "y"]) is None


@pytest.mark.parametrize("replay", [
    Replay("counter", "my counter.py", 12, check="no-lost-updates", schedule="2@s4.2-17.1"),
    Replay("./exercises/bank", "a/b'c.py", 0, sandbox="bwrap"),
    Replay("counter", "x.py", 3),
])
def test_a_replay_command_reads_back_as_the_same_data(replay):
    assert Replay.from_command(replay.command()) == replay


@pytest.mark.parametrize("text", ["", "rm -rf /", "grader check counter", "grader check a b --x 1",
                                  "grader check a b --seed nine", "grader check a 'b"])
def test_a_text_that_is_no_replay_command_reads_as_none(text):
    assert Replay.from_command(text) is None


def test_a_result_shows_replays_as_commands_and_reads_them_back():
    replay = Replay("counter", "counter.py", 5)
    failure = Failure("invariant", "lost", replay=Replay("counter", "counter.py", 5,
                                                         check="c", schedule="s1.1"))
    result = SubmissionResult(
        exercise="counter", version="1", title="Counter", seed=5, score=0, max_score=1,
        checks=[CheckResult("c", "C", Status.FAILED, 0, 1, failure=failure)], replay=replay)
    data = result.to_dict()
    assert data["replay"] == "grader check counter counter.py --seed 5"
    assert data["checks"][0]["failure"]["replay"] == \
        "grader check counter counter.py --seed 5 --check c --replay s1.1"
    back = SubmissionResult.from_dict(json.loads(json.dumps(data)))
    assert back == result


def test_naming_the_submission_again_renames_every_replay():
    failure = Failure("invariant", "lost", replay=Replay("counter", "/scratch/x/c.py", 5,
                                                         check="c", schedule="s1.1"))
    result = SubmissionResult(
        exercise="counter", version="1", title="Counter", seed=5, score=0, max_score=1,
        checks=[CheckResult("c", "C", Status.FAILED, 0, 1, failure=failure)],
        replay=Replay("counter", "/scratch/x/c.py", 5), submission="/scratch/x/c.py")
    result.name_submission("alice/c.py")
    assert result.submission == "alice/c.py"
    assert result.replay.command() == "grader check counter alice/c.py --seed 5"
    assert "alice/c.py --seed 5 --check c" in failure.replay.command()


def test_the_channel_refuses_a_record_without_its_key():
    import os

    from grader.channel import RecordReader, send

    read, write = os.pipe()
    try:
        send(write, protocol.CheckStarted("starts-at-start"), _keyed=[b"k3y"])
        keyed = os.read(read, 4096)
    finally:
        os.close(read)
        os.close(write)
    assert keyed.startswith(b'{"key":"k3y",')
    records = RecordReader(key="k3y").feed(keyed)
    assert [protocol.decode(r) for r in records] == [protocol.CheckStarted("starts-at-start")]
    assert "key" not in records[0]
    forged = protocol.encode(protocol.CheckStarted("starts-at-start"))
    with pytest.raises(protocol.ProtocolError, match="channel's key"):
        RecordReader(key="k3y").feed(forged)
    with pytest.raises(protocol.ProtocolError, match="channel's key"):
        RecordReader(key="k3y").feed(keyed.replace(b"k3y", b"k3z"))
    assert RecordReader().feed(forged)  # a reader without a key takes any record
