"""Render a results JSON file to the learner's HTML report and screenshot it to a PNG.

    python3 docs/screenshots/make_screenshot.py RESULTS.json OUT.png [--width 1000]
        [--html OUT.html] [--check ID]

RESULTS.json is what `grader check EXERCISE SUBMISSION --format json` writes
(the page always shows the learner's view; `--html` there also turns on
coverage, so never-executed lines get marked). `--check ID` clips the picture to
that check. The README's pictures (a racy counter, a bank deadlock, a bounded-buffer
lost wakeup) come from real gradings; the README lists the commands, e.g.:

    python3 -m grader check counter solutions/counter/buggy_unlocked.py --format json \
        -o docs/screenshots/racy_counter.json
    python3 docs/screenshots/make_screenshot.py docs/screenshots/racy_counter.json \
        docs/screenshots/racy_counter.png --check no-lost-updates

Needs a Chromium (/usr/bin/chromium); it is driven headless and offline.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

try:
    import grader  # noqa: F401
except ImportError:  # run from a checkout without installing: use the checkout's grader
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
# the Chromium driver is test support, not part of the package
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "support"))

from browser import BrowserError, Chromium  # noqa: E402

from grader.report import render_html  # noqa: E402
from grader.results import SubmissionResult  # noqa: E402


def make_screenshot(
    results: Path, png: Path, *, width: int = 1000, html: Path | None = None,
    check: str | None = None,
) -> Path:
    """Write the HTML report of `results` (to `html`, or a temporary file) and a PNG of it.

    With `check`, the PNG shows only that check's part of the page.
    """
    result = SubmissionResult.from_dict(json.loads(results.read_text(encoding="utf-8")))
    page = render_html(result, learner_view=True)
    with tempfile.TemporaryDirectory(prefix="grader-screenshot-") as scratch:
        target = html or Path(scratch) / "report.html"
        target.write_text(page, encoding="utf-8")
        with Chromium(width=width, height=800) as browser:
            loaded = browser.open(target)
            if loaded.console_errors or loaded.outside_requests():
                raise BrowserError(
                    f"the report misbehaved: errors {loaded.console_errors}, "
                    f"requests {loaded.outside_requests()}"
                )
            browser.screenshot(png, selector=f"#check-{check}" if check else None)
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "results", type=Path, help="a results JSON file (grader check --format json)"
    )
    parser.add_argument("png", type=Path, help="the PNG to write")
    parser.add_argument("--width", type=int, default=1000, help="viewport width in CSS pixels")
    parser.add_argument("--html", type=Path, help="also keep the HTML page here")
    parser.add_argument("--check", metavar="ID", help="show only this check's part of the page")
    args = parser.parse_args(argv)
    try:
        make_screenshot(args.results, args.png, width=args.width, html=args.html,
                        check=args.check)
    except (OSError, ValueError, KeyError, BrowserError) as error:
        print(f"make_screenshot: {error}", file=sys.stderr)
        return 1
    print(args.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
