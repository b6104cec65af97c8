"""The HTML report in a real headless Chromium: it loads clean, offline, and shows the failure.

Driven over the DevTools protocol (tests/support/browser.py); skipped only when
/usr/bin/chromium is absent. Screenshots go to each test's tmp folder.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import report_samples as samples
from browser import BrowserError, Chromium

from grader.report import render_html, render_json

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with Chromium(CHROMIUM, width=1000, height=800) as chromium:
        yield chromium


@pytest.fixture(autouse=True)
def desktop_viewport(browser: Chromium) -> None:
    browser.set_viewport(1000, 800)
    browser.send("Emulation.setEmulatedMedia", {"media": ""})


def _write(tmp_path: Path, name: str, html: str) -> Path:
    path = tmp_path / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    return path


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


FAILING_CHECK_STATE = """(() => {
  const d = document.getElementById('check-no-lost-update');
  const svg = d.querySelector('svg.timeline-svg');
  const r = svg.getBoundingClientRect();
  return {open: d.open, checkVisible: d.checkVisibility(), svgVisible: svg.checkVisibility(),
          width: r.width, height: r.height,
          boxes: [...svg.querySelectorAll('rect.box')].filter(b => b.getBBox().width > 0).length,
          switches: svg.querySelectorAll('line.switch').length,
          message: d.querySelector('.message').innerText};
})()"""


def test_racy_counter_report_loads_clean_offline_and_shows_its_timeline(
    browser: Chromium, tmp_path: Path
) -> None:
    page = browser.open(_write(tmp_path, "racy", render_html(samples.racy_counter())))
    assert page.console_errors == []
    assert page.outside_requests() == []
    assert page.requests == [page.url]
    state = browser.evaluate(FAILING_CHECK_STATE)
    assert state["open"] and state["checkVisible"] and state["svgVisible"]
    assert state["width"] > 300 and state["height"] > 150
    assert state["boxes"] == 4 and state["switches"] == 2
    assert state["message"].startswith("Expected value() == 2")
    assert samples.HIDDEN_SECRET not in browser.evaluate("document.body.innerText")
    shot = browser.screenshot(tmp_path / "racy_counter.png")
    width, height = _png_size(shot)
    assert width == 1000 and height > 800


def test_deadlock_report_shows_who_waits_for_what(browser: Chromium, tmp_path: Path) -> None:
    page = browser.open(_write(tmp_path, "bank", render_html(samples.deadlocked_bank())))
    assert page.console_errors == [] and page.outside_requests() == []
    rows = browser.evaluate(
        "[...document.querySelectorAll('table.deadlock tbody tr')]"
        ".filter(r => r.checkVisibility()).map(r => r.innerText.replace(/\\s+/g, ' ').trim())"
    )
    assert rows == [
        "T1 bank.py:11 with self._locks[dst]: Lock#2 T2",
        "T2 bank.py:11 with self._locks[dst]: Lock#1 T1",
    ]
    browser.screenshot(tmp_path / "deadlocked_bank.png")


def test_hostile_submission_cannot_run_script_or_reach_out(
    browser: Chromium, tmp_path: Path
) -> None:
    page = browser.open(_write(tmp_path, "hostile", render_html(samples.hostile_counter())))
    assert page.console_errors == []
    assert page.outside_requests() == []
    assert browser.evaluate("document.scripts.length") == 0
    assert browser.evaluate("document.querySelectorAll('img, iframe').length") == 0
    shown = browser.evaluate("document.querySelector('pre.output').innerText")
    assert "<script>fetch('http://evil.invalid/x')</script>" in shown
    browser.screenshot(tmp_path / "hostile.png")


def test_on_a_phone_the_page_fits_and_only_the_timeline_scrolls_sideways(
    browser: Chromium, tmp_path: Path
) -> None:
    browser.set_viewport(375, 740, mobile=True)
    page = browser.open(_write(tmp_path, "phone", render_html(samples.racy_counter())))
    assert page.console_errors == []
    assert browser.evaluate("document.documentElement.scrollWidth") <= 375
    assert browser.evaluate(FAILING_CHECK_STATE)["svgVisible"]
    width, _ = _png_size(browser.screenshot(tmp_path / "phone.png"))
    assert width == 375


def test_print_keeps_the_failing_check_and_makes_a_pdf(browser: Chromium, tmp_path: Path) -> None:
    browser.open(_write(tmp_path, "print", render_html(samples.racy_counter())))
    browser.send("Emulation.setEmulatedMedia", {"media": "print"})
    state = browser.evaluate(FAILING_CHECK_STATE)
    assert state["checkVisible"] and state["svgVisible"] and state["width"] > 300
    pdf = base64.b64decode(browser.send("Page.printToPDF", {"printBackground": True})["data"])
    assert pdf.startswith(b"%PDF-")
    (tmp_path / "racy_counter.pdf").write_bytes(pdf)


def _press_tab(browser: Chromium) -> None:
    for kind in ("keyDown", "keyUp"):
        browser.send(
            "Input.dispatchKeyEvent",
            {"type": kind, "key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9},
        )


def test_keyboard_reaches_the_skip_link_then_the_checks(browser: Chromium, tmp_path: Path) -> None:
    browser.open(_write(tmp_path, "keys", render_html(samples.racy_counter())))
    _press_tab(browser)
    first = browser.evaluate(
        "(() => { const e = document.activeElement; const r = e.getBoundingClientRect();"
        " return {text: e.innerText, left: r.left, outline: getComputedStyle(e).outlineStyle}; })()"
    )
    assert first["text"] == "Skip to the checks"
    assert first["left"] >= 0  # shown while focused
    assert first["outline"] != "none"
    _press_tab(browser)
    assert browser.evaluate("document.activeElement.getAttribute('href')") == "#check-imports"


def test_make_screenshot_script_turns_results_json_into_a_png(tmp_path: Path) -> None:
    results = tmp_path / "racy_counter.json"
    results.write_text(render_json(samples.racy_counter()), encoding="utf-8")
    png = tmp_path / "racy_counter.png"
    html = tmp_path / "racy_counter.html"
    script = REPO / "docs" / "screenshots" / "make_screenshot.py"
    done = subprocess.run(
        [sys.executable, str(script), str(results), str(png), "--html", str(html)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(png)
    width, height = _png_size(png)
    assert width == 1000 and height > 800
    assert "Two threads incrementing at once lose no update" in html.read_text(encoding="utf-8")
    assert json.loads(results.read_text())["seed"] == 1234


def test_the_driver_notices_requests_and_console_errors(browser: Chromium, tmp_path: Path) -> None:
    # The assertions above mean something only if a misbehaving page is caught.
    # Both pages stay offline: the CSP blocks the image before any connection.
    blocked = _write(
        tmp_path,
        "blocked",
        "<!DOCTYPE html><html><head><meta http-equiv='Content-Security-Policy' "
        "content=\"default-src 'none'\"><title>t</title></head>"
        "<body><img src='http://198.51.100.7/tracker.png' alt=''></body></html>",
    )
    page = browser.open(blocked)
    assert page.outside_requests() == ["http://198.51.100.7/tracker.png"]
    assert any("Content Security Policy" in e for e in page.console_errors)
    noisy = _write(
        tmp_path,
        "noisy",
        "<!DOCTYPE html><html><head><title>t</title></head><body>"
        "<script>console.error('boom'); missing_function();</script></body></html>",
    )
    page = browser.open(noisy)
    assert page.console_errors[0] == "boom"
    assert "missing_function is not defined" in page.console_errors[1]


def test_a_browser_that_dies_at_start_is_reported_and_cleaned_up(tmp_path: Path) -> None:
    fake = tmp_path / "fake-chromium"
    fake.write_text("#!/bin/sh\necho 'no display for you' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(BrowserError, match="no display for you"):
        with Chromium(str(fake), timeout_s=10):
            pass


@pytest.mark.parametrize(("name", "check"), [
    ("racy_counter", "no-lost-updates"),
    ("bank_deadlock", "opposite-transfers-no-deadlock"),
    ("lost_wakeup", "no-lost-wakeup"),
])
def test_the_readme_screenshots_are_made_by_the_script_clipped_to_their_check(
    browser: Chromium, tmp_path: Path, name: str, check: str
) -> None:
    shots = REPO / "docs" / "screenshots"
    assert f"docs/screenshots/{name}.png" in (REPO / "README.md").read_text()
    png = tmp_path / f"{name}.png"
    done = subprocess.run(
        [sys.executable, str(shots / "make_screenshot.py"), str(shots / f"{name}.json"),
         str(png), "--check", check, "--html", str(tmp_path / "page.html")],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stderr
    width, height = _png_size(png)
    committed = _png_size(shots / f"{name}.png")
    assert width <= 1000 and height > 300 and committed[0] <= 1000
    # at 1000 px the first drawing of the timeline needs no sideways scroll: no lane is cut off
    browser.open(tmp_path / "page.html")
    assert browser.evaluate(
        f"Array.from(document.querySelectorAll('#check-{check} figure > .scroll'))"
        ".map(e => e.scrollWidth <= e.clientWidth)") == [True]
