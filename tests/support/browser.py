"""Headless Chromium, driven over the DevTools protocol, to look at a report page.

Owns one thing: open a local HTML file in a real headless Chromium, record
what the page did (console errors, uncaught exceptions, every network request
it tried), answer JavaScript questions about what is on screen, and capture a
PNG. It talks to the browser over `--remote-debugging-pipe` (fds 3 and 4, JSON
messages ended by NUL), so it needs no port and no third-party package. It
grades nothing and renders nothing; the tests and docs/screenshots use it, so it
lives beside the tests (pytest puts `tests/support` on the path), not in the package.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")

#: Flags that keep the browser from reaching out on its own (updates, sync, QUIC probes).
QUIET_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
)


def _above_four(fd: int) -> int:
    """A close-on-exec duplicate of `fd` numbered 10 or more (the original is closed)."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class BrowserError(RuntimeError):
    """Chromium could not be started, went away, or answered a command with an error."""


def find_chromium() -> str | None:
    """The path of an installed Chromium, or None."""
    for candidate in CHROMIUM_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


@dataclass
class PageReport:
    """What a page did while it loaded."""

    url: str
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    console_errors: list[str] = field(default_factory=list)  # console.error, log errors, exceptions
    load_seconds: float = 0.0

    def outside_requests(self) -> list[str]:
        """Requests for anything other than the page itself."""
        return [u for u in self.requests if u.split("#", 1)[0] != self.url]


class Chromium:
    """A headless Chromium with one page, as a context manager.

    >>> with Chromium() as browser:                  # doctest: +SKIP
    ...     report = browser.open(Path("report.html"))
    ...     browser.screenshot(Path("report.png"))
    """

    def __init__(
        self,
        executable: str | None = None,
        *,
        width: int = 1000,
        height: int = 800,
        timeout_s: float = 30.0,
    ) -> None:
        self.executable = executable or find_chromium()
        if not self.executable:
            raise BrowserError("no Chromium found (looked for /usr/bin/chromium)")
        self.width = width
        self.height = height
        self.timeout_s = timeout_s
        self._next_id = 0
        self._to_browser: int | None = None
        self._from_browser: int | None = None
        self._buffer = b""
        self._events: list[dict[str, Any]] = []
        self._session: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._profile: tempfile.TemporaryDirectory[str] | None = None
        self._log: BinaryIO | None = None

    # -- life cycle -----------------------------------------------------------------

    def __enter__(self) -> Chromium:
        try:
            self.start()
        except BaseException:
            self.close()  # a browser that started but did not answer must not outlive us
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="grader-chromium-")
        self._log = open(Path(self._profile.name) / "chromium.log", "wb")  # noqa: SIM115
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Keep the child's pipe ends clear of 3 and 4, which it will be given.
        to_browser_r = _above_four(to_browser_r)
        from_browser_w = _above_four(from_browser_w)

        # The browser expects its command pipe on fd 3 and its reply pipe on fd 4;
        # the child moves our pipe ends there just before exec (dup2 leaves them
        # inheritable, every other fd of ours is close-on-exec by default).
        def move_pipes_to_3_and_4() -> None:
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        argv = [
            self.executable,
            *QUIET_FLAGS,
            f"--user-data-dir={self._profile.name}",
            f"--window-size={self.width},{self.height}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        self._process = subprocess.Popen(
            argv,
            close_fds=False,
            preexec_fn=move_pipes_to_3_and_4,  # safe: no thread of ours runs in the child
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            start_new_session=True,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        self._session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.set_viewport(self.width, self.height)

    def close(self) -> None:
        process, self._process = self._process, None
        self._session = None
        if process is not None:
            try:
                self._write({"id": self._take_id(), "method": "Browser.close"})
            except (OSError, BrowserError):  # the pipe is gone, or was never made
                pass
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            try:  # sweep its helpers (renderer, zygote) from the group it leads
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=5)
        for fd_name in ("_to_browser", "_from_browser"):
            fd = getattr(self, fd_name, None)
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, fd_name, None)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._profile is not None:
            self._profile.cleanup()
            self._profile = None

    def _log_tail(self) -> str:
        if self._profile is None:
            return ""
        log = Path(self._profile.name) / "chromium.log"
        return log.read_text(errors="replace")[-1500:] if log.exists() else ""

    # -- protocol -------------------------------------------------------------------

    def _take_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _write(self, message: dict[str, Any]) -> None:
        if self._to_browser is None:
            raise BrowserError("Chromium is not running")
        data = json.dumps(message).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._to_browser, data) :]
        except BrokenPipeError:
            raise BrowserError(
                f"Chromium closed its DevTools pipe; it said: {self._log_tail()}"
            ) from None

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError(f"Chromium did not answer in time; it said: {self._log_tail()}")
            with selectors.DefaultSelector() as selector:
                selector.register(self._from_browser, selectors.EVENT_READ)
                if not selector.select(remaining):
                    continue
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise BrowserError(
                    f"Chromium closed its DevTools pipe; it said: {self._log_tail()}"
                )
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one command (to the page once attached) and return its result."""
        message: dict[str, Any] = {"id": self._take_id(), "method": method, "params": params or {}}
        if self._session is not None and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self._session
        self._write(message)
        deadline = time.monotonic() + self.timeout_s
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == message["id"]:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message', reply['error'])}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def wait_for_event(self, method: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout_s
        for index, event in enumerate(self._events):
            if event["method"] == method:
                return self._events.pop(index)
        while True:
            event = self._read_message(deadline)
            if event.get("method") == method:
                return event
            if "method" in event:
                self._events.append(event)

    # -- what a test asks -----------------------------------------------------------

    def set_viewport(self, width: int, height: int, *, mobile: bool = False) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )

    def open(self, path: Path) -> PageReport:
        """Load a local file and wait for its load event; report what it did meanwhile."""
        url = path.resolve().as_uri()
        self._events.clear()
        started = time.monotonic()
        self.send("Page.navigate", {"url": url})
        self.wait_for_event("Page.loadEventFired")
        # A round trip after load flushes events the page raised while loading.
        self.evaluate("document.readyState")
        report = PageReport(url=url, load_seconds=time.monotonic() - started)
        for event in self._events:
            method, params = event["method"], event.get("params", {})
            if method == "Network.requestWillBeSent":
                report.requests.append(params["request"]["url"])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                args = params.get("args", [])
                report.console_errors.append(" ".join(str(a.get("value", "")) for a in args))
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                thrown = details.get("exception", {}).get("description", "")
                report.console_errors.append(f"{details.get('text', 'exception')} {thrown}".strip())
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                report.console_errors.append(params["entry"].get("text", ""))
        self._events.clear()
        return report

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-serialisable values only)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r} raised: {result['exceptionDetails'].get('text')}")
        return result.get("result", {}).get("value")

    def screenshot(self, path: Path, *, full_page: bool = True, selector: str | None = None
                   ) -> Path:
        """Write a PNG of the page (the whole page by default, not just the viewport).

        With `selector`, only the first element it matches (with a small margin).
        """
        params: dict[str, Any] = {"format": "png"}
        if selector is not None:
            box = self.evaluate(
                "(() => { const e = document.querySelector(" + json.dumps(selector) + ");"
                " if (!e) return null; const r = e.getBoundingClientRect();"
                " return {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height}; })()")
            if box is None:
                raise BrowserError(f"nothing on the page matches {selector!r}")
            margin = 8
            params["clip"] = {"x": max(0, box["x"] - margin), "y": max(0, box["y"] - margin),
                              "width": box["w"] + 2 * margin, "height": box["h"] + 2 * margin,
                              "scale": 1}
            params["captureBeyondViewport"] = True
        elif full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": max(1, int(size["width"])),
                "height": max(1, int(size["height"])),
                "scale": 1,
            }
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path
