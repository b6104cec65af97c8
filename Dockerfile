# The grader with bubblewrap, for learners on any OS (macOS, Windows, Linux) and instructors.
#
#   docker build -t concurrency-grader .
#   # a learner, in the folder holding counter.py:
#   docker run --rm -v "$PWD:/work" concurrency-grader check counter counter.py
#   # an instructor, a whole class:
#   docker run --rm -v "$PWD:/work" concurrency-grader batch counter submissions/ --out out
#
# bubblewrap needs user namespaces inside the container: Docker's default seccomp profile
# refuses them, so run with `--security-opt seccomp=unconfined` (or a profile allowing
# clone/unshare of user namespaces) to grade under `bwrap`; without it the grader falls back to
# the `process` backend and says so (`docker run --rm concurrency-grader doctor`).
# This build is not tested by the project's CI (no container engine there).
FROM python:3.12-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md ./
COPY grader ./grader
COPY exercises ./exercises
COPY templates ./templates
RUN pip install --no-cache-dir . && rm -rf /src

# Grading runs as an ordinary user: the sandbox's rlimits on processes then hold.
RUN useradd --create-home --uid 1000 learner
USER learner
WORKDIR /work
ENTRYPOINT ["grader"]
CMD ["--help"]
