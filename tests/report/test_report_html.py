"""The HTML page, read as markup: self-contained, escaped, and showing what a learner needs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import report_samples as samples

from grader.report import UnknownFormat, render, render_html, templates_dir
from grader.results import TraceStep


class Page(HTMLParser):
    """Every tag of a page with its attributes, and the classes seen on each element."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def with_class(self, name: str) -> list[dict[str, str]]:
        return [a for _, a in self.tags if name in a.get("class", "").split()]

    def named(self, tag: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag]


def test_page_loads_nothing_from_anywhere() -> None:
    for build in samples.ALL.values():
        page = Page(render_html(build()))
        for tag, attrs in page.tags:
            for key in ("src", "href", "action", "srcset", "data", "poster", "xlink:href"):
                value = attrs.get(key, "")
                assert not value or value.startswith("#"), (tag, key, value)
        assert not page.named("script") and not page.named("link") and not page.named("iframe")
        csp = [a for a in page.named("meta") if a.get("http-equiv") == "Content-Security-Policy"]
        assert csp and "default-src 'none'" in csp[0]["content"]


def test_everything_learner_controlled_is_escaped() -> None:
    html = render_html(samples.hostile_counter())
    page = Page(html)
    assert [t for t, _ in page.tags if t in ("script", "iframe", "img")] == []
    assert not [(t, k) for t, a in page.tags for k in a if k.startswith("on")]
    text = "".join(page.text)
    assert "<script>fetch('http://evil.invalid/x')</script>" in text  # shown, as text
    assert "<b onmouseover=alert(1)>T1</b>" in text  # the thread name, shown
    assert "&lt;script&gt;" in html


def test_score_and_verdict_come_first() -> None:
    result = samples.racy_counter()
    page = Page(render_html(result))
    text = " ".join(" ".join(page.text).split())
    assert text.index("2/9") < text.index(result.verdict()) < text.index("Checks")
    assert page.named("html")[0]["lang"] == "en"
    assert any(a.get("name") == "viewport" for a in page.named("meta"))


def test_each_check_shows_status_points_and_failing_ones_are_open() -> None:
    result = samples.racy_counter()
    page = Page(render_html(result))
    details = [a for a in page.named("details") if "check" in a.get("class", "").split()]
    assert [d["id"] for d in details] == [f"check-{c.id}" for c in result.checks]
    for d, check in zip(details, result.checks):
        assert check.status.value in d["class"].split()
        assert ("open" in d) == (check.status.value != "passed")


def test_timeline_has_a_lane_per_thread_a_box_per_step_and_marked_switches() -> None:
    page = Page(render_html(samples.racy_counter()))
    assert len(page.named("svg")) == 1
    assert len(page.with_class("lane")) == 2
    assert len(page.with_class("box")) == 4
    assert len(page.with_class("switch")) == 2
    assert len(page.with_class("step-switch")) == 2
    text = " ".join(" ".join(page.text).split())
    assert "T1 · counter.py:9 read self._value" in text  # a label wraps, it is never cut
    assert "self._value = current + n" in text


def test_deadlock_shows_who_waits_for_what_and_who_holds_it() -> None:
    html = render_html(samples.deadlocked_bank())
    text = " ".join(" ".join(Page(html).text).split())
    assert "No thread can run: T1 → T2 → T1 wait for one another in a cycle." in text
    assert re.search(r"T1 bank\.py:11 with self\._locks\[dst\]: Lock#2 T2", text)
    assert re.search(r"T2 bank\.py:11 with self\._locks\[dst\]: Lock#1 T1", text)


def test_processes_show_as_a_tree_with_leftovers_flagged() -> None:
    page = Page(render_html(samples.leaky_supervisor()))
    text = " ".join(" ".join(page.text).split())
    assert text.index("4100") < text.index("4101") < text.index("4103") < text.index("4102")
    flagged = page.with_class("flagged")
    assert len(flagged) == 2  # the zombie and the orphan
    assert "Peak memory 120.0 MiB" in text
    assert "Grading children 2 (a check crashed one)" in text


def test_source_marks_failing_trace_lines_and_never_executed_lines() -> None:
    page = Page(render_html(samples.racy_counter()))
    rows = [a for t, a in page.tags if t == "tr" and a.get("id", "").startswith("src-")]
    hit = [int(a["id"].split("-")[1]) for a in rows if "hit" in a["class"].split()]
    uncovered = [int(a["id"].split("-")[1]) for a in rows if "uncovered" in a["class"].split()]
    assert hit == [9, 10]
    assert uncovered == [15, 16]


def test_hidden_check_shows_only_title_and_status_to_learners() -> None:
    learner = render_html(samples.racy_counter())
    assert "Sixty-four threads hammering increment" in learner
    assert samples.HIDDEN_SECRET not in learner
    assert "This check is hidden" in learner
    # the hidden check's trace step (line 13) is not highlighted either
    assert 'class="hit" id="src-13' not in learner
    instructor = render_html(samples.racy_counter(), learner_view=False)
    assert samples.HIDDEN_SECRET in instructor
    assert "This check is hidden" not in instructor


def test_long_output_is_cut_with_a_note() -> None:
    result = samples.leaky_supervisor()
    result.output = "x" * 50_000
    html = render_html(result)
    assert "x" * 20_000 in html and "x" * 20_001 not in html
    assert "The output was cut" in html


def test_seed_and_replay_command_are_printed() -> None:
    text = " ".join(" ".join(Page(render_html(samples.racy_counter())).text).split())
    assert "Seed 1234" in text
    assert "Replay grader check counter submissions/alice/counter.py --seed 1234" in text
    assert "Replay exactly this failure: grader check counter counter.py --seed 1234" in text


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_text_colours_meet_wcag_aa_contrast_on_their_backgrounds() -> None:
    html = render_html(samples.racy_counter())
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", html))
    for fg in ("fg", "muted", "pass", "fail", "warn", "skip", "accent", "switch"):
        for bg in ("bg", "panel", "hit", "uncov", "lane-b"):
            lighter, darker = sorted(
                (_luminance(colours[fg]), _luminance(colours[bg])), reverse=True
            )
            ratio = (lighter + 0.05) / (darker + 0.05)
            assert ratio >= 4.5, (fg, bg, round(ratio, 2))


def test_templates_dir_holds_the_report_template() -> None:
    assert (templates_dir() / "report.html.j2").is_file()


def test_render_refuses_an_unknown_format_by_naming_the_known_ones() -> None:
    with pytest.raises(UnknownFormat, match="text, json, html, junit, gradescope"):
        render(samples.racy_counter(), "pdf")


def test_trace_in_an_absolute_sandbox_path_still_highlights_the_learners_file() -> None:
    result = samples.racy_counter()
    check = next(c for c in result.checks if c.id == "no-lost-update")
    for step in check.failure.trace:
        step.file = "/tmp/grader-work-x1/counter.py"
    html = render_html(result)
    assert "/tmp/grader-work-x1" not in html
    assert 'class="hit" id="src-9-counter-py"' in html


def test_a_long_trace_is_drawn_with_its_ends_and_tabled_in_full() -> None:
    result = samples.racy_counter()
    check = next(c for c in result.checks if c.id == "no-lost-update")
    check.failure.trace = [
        TraceStep(f"T{i % 3 + 1}", "counter.py", 9 + i % 2, "x", f"op{i}", True) for i in range(300)
    ]
    page = Page(render_html(result))
    assert len(page.with_class("box")) == 80
    assert len(page.with_class("gap")) == 1
    assert "… 220 steps left out of the drawing" in "".join(page.text)
    assert len(page.with_class("switched")) == 299  # table rows: every switch
    # no switch arrow jumps across the gap: 79 neighbouring pairs, minus the one at the gap
    assert len(page.with_class("switch")) == 78


def test_control_characters_in_learner_output_are_shown_spelled_out() -> None:
    html = render_html(samples.hostile_counter())
    assert "\x1b" not in html and "\x00" not in html and "\x07" not in html
    assert "\\x1b[31mred" in html


def test_an_installed_grader_finds_its_bundled_templates(tmp_path: Path) -> None:
    # The wheel ships templates/ as grader/_bundled/templates (pyproject force-include);
    # lay a package out that way, away from the checkout, and render from it.
    repo = Path(__file__).resolve().parents[2]
    site = tmp_path / "site"
    shutil.copytree(repo / "grader", site / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(repo / "templates", site / "grader" / "_bundled" / "templates")
    code = (
        "import grader.report as r, grader.results as m, json, sys;"
        "print(r.templates_dir());"
        "res = m.SubmissionResult('counter', '1', 'T', 1, 0, 1, []);"
        "sys.stdout.write(r.render_html(res)[:15])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    where, page = done.stdout.split("\n", 1)
    assert where == str(site / "grader" / "_bundled" / "templates")
    assert page == "<!DOCTYPE html>"


def test_zombies_are_flagged_even_when_their_parent_is_not_listed() -> None:
    result = samples.leaky_supervisor()
    check = next(c for c in result.checks if c.id == "reaps-crashed-workers")
    for process in check.failure.processes:
        process.parent = 2  # the harness, which the check did not list
    page = Page(render_html(result))
    assert len(page.with_class("flagged")) == 2


def test_a_form_feed_in_the_source_does_not_shift_line_numbers() -> None:
    result = samples.racy_counter()
    result.source["counter.py"] = result.source["counter.py"].replace(
        "import threading\n", "import threading\x0c\n"
    )
    page = Page(render_html(result))
    rows = [a for t, a in page.tags if t == "tr" and a.get("id", "").startswith("src-")]
    hit = [int(a["id"].split("-")[1]) for a in rows if "hit" in a["class"].split()]
    assert hit == [9, 10]
    assert len(rows) == 16
