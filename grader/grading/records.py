"""Decoding the child's records: every field of what the harness child sends, checked and
bounded, into the parent's own types.

The only place that re-reads a child record field by field. It trusts nothing it is given
and decides nothing: which record may come when is the driver's business.
"""

from __future__ import annotations

from typing import Any

from grader.grading.plan import CheckDecision
from grader.results import BlockedThread, Failure, ProcessInfo, Status, TraceStep


def _text(value: Any, limit: int = 4000) -> str:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return text if len(text) <= limit else text[: limit - 12] + " ... (cut)"


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _failure_from_record(raw: Any, fallback_kind: str) -> Failure:
    if not isinstance(raw, dict):
        return Failure(kind=fallback_kind, message="the check failed")
    kind = _text(raw.get("kind") or fallback_kind, 40)
    trace = []
    for step in raw.get("trace") or []:
        if isinstance(step, dict):
            trace.append(TraceStep(
                thread=_text(step.get("thread"), 60), file=_text(step.get("file"), 200),
                line=_int(step.get("line")), source=_text(step.get("source"), 300),
                operation=_text(step.get("operation"), 200), switch=bool(step.get("switch")),
            ))
    blocked = []
    for item in raw.get("deadlock") or []:
        if isinstance(item, dict):
            blocked.append(BlockedThread(
                thread=_text(item.get("thread"), 60), file=_text(item.get("file"), 200),
                line=_int(item.get("line")), source=_text(item.get("source"), 300),
                waits_for=_text(item.get("waits_for"), 200),
                held_by=_text(item["held_by"], 60) if item.get("held_by") else None,
            ))
    processes = []
    for item in raw.get("processes") or []:
        if isinstance(item, dict):
            parent = item.get("parent")
            processes.append(ProcessInfo(
                pid=_int(item.get("pid")), parent=_int(parent) if parent is not None else None,
                name=_text(item.get("name"), 100),
                cpu_s=float(item["cpu_s"]) if isinstance(item.get("cpu_s"), (int, float)) else 0.0,
                state=_text(item.get("state"), 40), note=_text(item.get("note"), 300),
            ))
    lines = [
        {"file": _text(item.get("file"), 200), "line": _int(item.get("line"))}
        for item in raw.get("lines") or []
        if isinstance(item, dict)
    ]
    return Failure(
        kind=kind,
        message=_text(raw.get("message"), 2000) or "the check failed",
        trace=trace[:2000],
        deadlock=blocked[:64],
        processes=processes[:256],
        lines=lines[:500],
        replay=_text(raw["replay"], 400) if raw.get("replay") else None,
        details=_text(raw["details"], 8000) if raw.get("details") else None,
    )


def _exploration(records: Any) -> list[dict[str, Any]]:
    """The explorer's coverage per scenario, as the child reported it (checked, bounded)."""
    out: list[dict[str, Any]] = []
    if not isinstance(records, list):
        return out
    for record in records[:50]:
        if not isinstance(record, dict):
            continue
        schedules, seconds = record.get("schedules"), record.get("seconds")
        out.append({
            "scenario": _text(record.get("scenario"), 200),
            "schedules": schedules if isinstance(schedules, int) else 0,
            "complete": record.get("complete") is True,
            "bound": record.get("bound") if isinstance(record.get("bound"), int) else 0,
            "seconds": float(seconds) if isinstance(seconds, (int, float)) else 0.0,
            "text": _text(record.get("text"), 300),
            "bounds": [{"preemptions": b.get("preemptions"), "schedules": b.get("schedules"),
                        "complete": b.get("complete") is True}
                       for b in (record.get("bounds") or [])[:5]
                       if isinstance(b, dict) and isinstance(b.get("preemptions"), int)
                       and isinstance(b.get("schedules"), int)],
        })
    return out


def _check_result(record: dict[str, Any]) -> CheckDecision:
    """A "result" record as the decision it reports (the parent alone decides timeouts)."""
    status_text = record.get("status")
    try:
        status = Status(status_text)
    except ValueError:
        status = Status.ERROR
    if status is Status.TIMEOUT:
        status = Status.ERROR  # only the parent decides timeouts
    failure = None
    if status is not Status.PASSED:
        failure = _failure_from_record(record.get("failure"),
                                       "assertion" if status is Status.FAILED else "exception")
    duration = record.get("duration_s")
    duration = float(duration) if isinstance(duration, (int, float)) else 0.0
    note = _text(record.get("note"), 2000) if status is Status.PASSED else ""
    return CheckDecision(status, failure, max(0.0, duration), note or "",
                         _exploration(record.get("exploration")))


def _coverage(files: Any) -> list[tuple[str, set[int], set[int]]]:
    """A "coverage" record's files: (name, executed line numbers, statement line numbers)."""
    if not isinstance(files, dict):
        return []
    decoded = []
    for name, data in files.items():
        if not isinstance(name, str) or not isinstance(data, dict):
            continue
        executed = {n for n in data.get("executed") or [] if isinstance(n, int)}
        statements = {n for n in data.get("statements") or [] if isinstance(n, int)}
        decoded.append((name, executed, statements))
    return decoded
