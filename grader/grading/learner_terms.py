"""A grading told in the learner's terms: their file names, their code, one seed, no grader.

The child reports what it saw from inside the sandbox: the submission installed as
the exercise's entry module (`counter.py` for a learner's `buggy_unlocked.py`),
absolute paths of the grading's temporary folder and of the installed package,
tracebacks that run through the checks' own code, the explorer's own seed and
strategy names. `in_learner_terms` rewrites a finished `SubmissionResult` once,
before any renderer or the batch store sees it, so text, JSON, HTML, JUnit and
Gradescope all say the same thing:

- the entry module is called by the learner's file name, with the same line numbers;
- an absolute path becomes the file's name; traceback frames outside the learner's
  files are dropped (the exception line stays);
- the explorer's account of how it found a schedule keeps the scenario and the
  schedule count, and loses its internal seed, strategy and choice count;
- a hint's code span that quotes code the learner did not write (`self.value += n`
  when their line is `self.count += n`) is replaced by their nearest line.

It only rewrites text and names already in the result; it never changes a status
or a point.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from pathlib import Path

from grader.results import CheckResult, Failure, SubmissionResult

_ABSOLUTE_PY = re.compile(r"(?<![\w.])/(?:[^\s\"'():,/]+/)+([^\s\"'():,/]+\.py)\b")
#: The grading's working folder (a temporary `grader-*/work/`): paths inside it are the learner's.
_WORK_FOLDER = re.compile(r"(?<![\w.])/(?:[^\s\"'():,/]+/)*grader-[^\s\"'():,/]+/work/")
_FRAME = re.compile(r'^(\s*)File "([^"]+)", line (\d+)(, in .*)?$')
_CARETS = re.compile(r"^\s*[\^~]+\s*$")
_FOUND_BY = re.compile(
    r"Scenario (?P<name>'[^']*'|\"[^\"]*\"): found by (?:the bounded search \(up to "
    r"(?P<bound>\d+) preemptions?\)|\S+) on schedule (?P<n>\d+)(?: of (?P<m>\d+))?"
    r"(?: \(seed -?\d+\))?(?: \(under any seed\))?(?: after the bounded search \([^)]*\))?"
    r"(?:; after shrinking, \d+ scheduling choices? differs? from letting the running thread"
    r" go on\.)?"
)
_REPLAYED = re.compile(
    r"Scenario (?P<name>'[^']*'|\"[^\"]*\"), replayed schedule (?P<id>\S+): \d+ scheduling "
    r"choices? differs? from letting the running thread go on\."
)
_SEED = re.compile(r" \(seed -?\d+\)")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_LOOKS_LIKE_LEARNER_CODE = re.compile(r"\bself\.\w+.*[=(]")


@dataclasses.dataclass(frozen=True)
class LearnerNames:
    """How the learner names their files: installed name -> their name."""

    renames: dict[str, str]
    learner_files: frozenset[str]

    @classmethod
    def for_submission(cls, submission: Path, entry: str, sources: list[str]) -> LearnerNames:
        installed = f"{entry}.py"
        renames = {}
        if submission.is_file() and submission.name != installed:
            renames[installed] = submission.name
        files = {renames.get(name, name) for name in sources}
        files |= {Path(name).name for name in files}
        return cls(renames, frozenset(files))

    def file(self, name: str) -> str:
        """A file as the learner knows it: an absolute path shortened, the entry renamed."""
        short = Path(name).name if name.startswith("/") else name
        return self.renames.get(short, short)

    def text(self, text: str) -> str:
        """`text` with absolute paths shortened to file names and the entry module renamed."""
        if not text:
            return text
        text = _WORK_FOLDER.sub("", text)
        text = _ABSOLUTE_PY.sub(lambda m: m.group(1), text)
        for installed, theirs in self.renames.items():
            text = re.sub(rf"(?<![\w./-]){re.escape(installed)}\b", theirs, text)
        return text


def explorer_account(details: str) -> str:
    """The explorer's sentence on how it found a schedule, without its internals."""

    def found(match: re.Match[str]) -> str:
        if match["bound"] is not None:  # the systematic search: the same schedule every time
            bound = match["bound"]
            return _scenario(match["name"], f"the explorer found this on schedule "
                             f"{match['n']} of its search through every schedule with up to "
                             f"{bound} preemption{'s' if bound != '1' else ''}, the same way "
                             "every time.")
        return _scenario(match["name"], f"the explorer found this on schedule {match['n']} "
                         f"of the {match['m']} it tried.")

    def replayed(match: re.Match[str]) -> str:
        return _scenario(match["name"], f"the explorer replayed schedule {match['id']}.")

    details = _FOUND_BY.sub(found, details)
    details = _REPLAYED.sub(replayed, details)
    return _SEED.sub("", details)


def _scenario(quoted: str, sentence: str) -> str:
    """The sentence under its scenario's name (a check's one unnamed scenario has none)."""
    if quoted[1:-1] in ("", "scenario"):
        return sentence[:1].upper() + sentence[1:]
    return f"Scenario {quoted}: {sentence}"


def learner_traceback(details: str, names: LearnerNames) -> str:
    """A traceback with only the learner's frames, caret lines dropped, paths shortened."""
    out: list[str] = []
    lines = details.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        frame = _FRAME.match(line)
        if frame is None:
            if not _CARETS.match(line):
                out.append(names.text(line))
            i += 1
            continue
        indent = len(frame.group(1))
        body = []
        i += 1
        while i < len(lines) and lines[i].strip() and (
                len(lines[i]) - len(lines[i].lstrip()) > indent) and not _FRAME.match(lines[i]):
            if not _CARETS.match(lines[i]):
                body.append(lines[i])
            i += 1
        file = names.file(frame.group(2))
        if file in names.learner_files:
            out.append(f'{frame.group(1)}File "{file}", line {frame.group(3)}'
                       f"{frame.group(4) or ''}")
            out.extend(body)
    # a traceback header with no frame left under it says nothing
    cleaned = [line for j, line in enumerate(out) if not (
        line.strip() == "Traceback (most recent call last):"
        and (j + 1 >= len(out) or not _FRAME.match(out[j + 1])))]
    return "\n".join(cleaned).strip("\n")


def _learner_lines(result: SubmissionResult, names: LearnerNames) -> list[str]:
    lines: list[str] = []
    for name, text in result.source.items():
        if names.file(name) in names.learner_files:
            for line in text.splitlines():
                code = line.split("#", 1)[0].strip() if "#" in line else line.strip()
                if code:  # comments are not code: a quoted line must be one the learner wrote
                    lines.append(code)
    return lines


def learner_hint(hint: str, own_lines: list[str], near: list[str]) -> str:
    """`hint` with each quoted line of code the learner did not write replaced by theirs.

    A code span that looks like a line of the learner's class (`self.value += n`) and
    is not in their source becomes the most similar of `near` (the lines of the failing
    interleaving) or else of their whole source; with nothing similar it loses its
    quotation and reads "your line that does this".
    """
    source = "\n".join(own_lines)

    def replace(match: re.Match[str]) -> str:
        quoted = match.group(1)
        if not _LOOKS_LIKE_LEARNER_CODE.search(quoted) or quoted in source:
            return match.group(0)
        for pool in (near, own_lines):
            best = difflib.get_close_matches(quoted, list(dict.fromkeys(pool)), n=1, cutoff=0.5)
            if best:
                return f"`{best[0]}`"
        return "your line that does this"

    return _CODE_SPAN.sub(replace, hint)


def _failure(failure: Failure, names: LearnerNames) -> Failure:
    trace = [dataclasses.replace(step, file=names.file(step.file) if step.file else "",
                                 operation=names.text(step.operation),
                                 source=names.text(step.source))
             for step in failure.trace]
    deadlock = [dataclasses.replace(b, file=names.file(b.file), waits_for=names.text(b.waits_for))
                for b in failure.deadlock]
    details = failure.details
    if details:
        details = learner_traceback(explorer_account(details), names) or None
    if details and all(line.strip() in failure.message for line in details.split("\n")):
        details = None  # only the exception line was left, and the message says it
    message = names.text(failure.message)
    if failure.deadlock and message.startswith("Deadlock: no thread can continue."):
        message = "Deadlock: every thread is waiting, and none can go on."
    lines = [{**item, "file": names.file(str(item.get("file", "")))} for item in failure.lines]
    return dataclasses.replace(failure, message=message, trace=trace, deadlock=deadlock,
                               details=details, lines=lines,
                               processes=[dataclasses.replace(p, note=names.text(p.note))
                                          for p in failure.processes])


def _check(check: CheckResult, names: LearnerNames, own_lines: list[str]) -> CheckResult:
    failure = _failure(check.failure, names) if check.failure is not None else None
    hint = check.hint
    if hint:
        near = [s.source.strip() for s in failure.trace] if failure is not None else []
        hint = learner_hint(names.text(hint), own_lines, near)
    message = names.text(check.message)
    if failure is not None and check.message == (check.failure.message if check.failure else ""):
        message = failure.message
    return dataclasses.replace(check, message=message, hint=hint, failure=failure)


def in_learner_terms(result: SubmissionResult, submission: Path, entry: str) -> SubmissionResult:
    """`result` rewritten in the learner's terms (see the module's docstring); a new object."""
    names = LearnerNames.for_submission(Path(submission), entry, list(result.source))
    own_lines = _learner_lines(result, names)
    return dataclasses.replace(
        result,
        checks=[_check(c, names, own_lines) for c in result.checks],
        source={names.file(k): v for k, v in result.source.items()},
        coverage={names.file(k): v for k, v in result.coverage.items()},
        output=names.text(result.output),
        integrity=[{**flag, "file": names.file(str(flag["file"]))} if "file" in flag else flag
                   for flag in result.integrity],
    )
