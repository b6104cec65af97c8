"""The Gradescope autograder bundle: `grader gradescope EXERCISE -o autograder.zip`.

Gradescope runs, in its Ubuntu image, `setup.sh` once when the bundle is uploaded and
`/autograder/run_autograder` for every submission; the submission is in
`/autograder/submission`, the bundle in `/autograder/source`, and the grade must be written
to `/autograder/results/results.json`. The bundle holds:

- `setup.sh`: the system packages (Python, venv, bubblewrap) from apt, then a virtualenv at
  /opt/grader with the grader installed from the bundled source (`grader-src/`, so the bundle
  does not depend on which version PyPI has);
- `run_autograder`: finds the learner's entry module in the submission (Gradescope keeps
  uploaded folders), prints the sandbox it grades in, runs
  `grader check exercise/ SUBMISSION --format gradescope` into results.json (hidden checks
  are `after_published` there, so learners see them only once grades are published);
  an internal error (exit 2 or 3) leaves no results, which Gradescope shows as a failed
  autograder rather than as a zero;
- `exercise/`: the exercise folder, hidden checks included (never the solutions).
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import grader
from grader.spec.model import Exercise

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when the autograder is uploaded.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends python3 python3-venv python3-pip bubblewrap
python3 -m venv /opt/grader
/opt/grader/bin/pip install -q --upgrade pip
/opt/grader/bin/pip install -q /autograder/source/grader-src
/opt/grader/bin/grader doctor
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. AUTOGRADER and GRADER may be set to test it.
set -uo pipefail
root="${AUTOGRADER:-/autograder}"
grader="${GRADER:-/opt/grader/bin/grader}"
entry="@@ENTRY@@.py"
mkdir -p "$root/results"
found="$(find "$root/submission" -name "$entry" -type f -print 2>/dev/null | sort | head -n 1)"
submission="$root/submission"
if [ -n "$found" ]; then
    submission="$(dirname "$found")"
fi
"$grader" doctor | grep -E '^default backend|^no backend' || true
"$grader" check "$root/source/exercise" "$submission" --format gradescope \\
    --output "$root/results/results.json"
code=$?
if [ "$code" -gt 1 ]; then
    echo "the grader could not grade this submission (exit $code): no results written" >&2
    rm -f "$root/results/results.json"
    exit "$code"
fi
exit 0
"""


def _source_pyproject() -> str:
    from importlib import metadata

    try:
        requires = [r for r in (metadata.requires("concurrency-grader") or [])
                    if "extra ==" not in r]
        version = metadata.version("concurrency-grader")
    except metadata.PackageNotFoundError:
        requires, version = ["pytest>=7.4", "pyyaml>=6.0", "jinja2>=3.1", "psutil>=5.9",
                             "coverage>=7.3", "pydantic>=2.5"], grader.__version__
    deps = "".join(f'    "{r}",\n' for r in requires)
    return (
        '[build-system]\nrequires = ["hatchling>=1.18"]\nbuild-backend = "hatchling.build"\n\n'
        f'[project]\nname = "concurrency-grader"\nversion = "{version}"\n'
        f'requires-python = ">=3.10"\ndependencies = [\n{deps}]\n\n'
        '[project.scripts]\ngrader = "grader.cli:main"\n\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["grader"]\n'
    )


def _add_tree(bundle: zipfile.ZipFile, source: Path, prefix: str) -> None:
    for item in sorted(source.rglob("*")):
        if item.is_dir() or "__pycache__" in item.parts or item.suffix == ".pyc":
            continue
        bundle.write(item, f"{prefix}/{item.relative_to(source).as_posix()}")


def _add_script(bundle: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFREG | 0o755) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    bundle.writestr(info, text)


def write_bundle(exercise: Exercise, out: Path) -> list[str]:
    """Write the autograder zip for `exercise` to `out`; returns its member names."""
    out.parent.mkdir(parents=True, exist_ok=True)
    package = Path(grader.__file__).resolve().parent
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        _add_script(bundle, "setup.sh", SETUP_SH)
        _add_script(bundle, "run_autograder", RUN_AUTOGRADER.replace("@@ENTRY@@",
                                                                     exercise.entry))
        _add_tree(bundle, exercise.folder, "exercise")
        _add_tree(bundle, package, "grader-src/grader")
        bundle.writestr("grader-src/pyproject.toml", _source_pyproject())
        bundle.writestr("grader-src/README.md", "The grader, as bundled for Gradescope.\n")
        return bundle.namelist()
