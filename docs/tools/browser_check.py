"""Open the built site in headless Chromium and fail on what a reader would see go wrong.

``python docs/tools/browser_check.py docs/_build/html --screenshots DIR``

The site is served from 127.0.0.1; Chromium (Debian's ``chromium``) is driven over the
DevTools protocol with ``websockets``. Every page is loaded, MathJax is waited for, and the
check fails on

* a request to any host but the local server (scripts, fonts, images, XHR: all of them),
* a console error or an uncaught exception,
* TeX left in the text of the page outside code blocks (``$$``, ``\\frac``, ``\\begin`` ...),
* a chapter with mathematics where MathJax rendered nothing.

Full-page screenshots of the chapters named in SCREENSHOTS are written to DIR.
"""

from __future__ import annotations

import argparse
import base64
import functools
import http.server
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

SCREENSHOTS = [
    "course/inference.html",
    "course/bias-variance.html",
    "course/backpropagation.html",
    "course/cnn.html",
]
RAW_TEX = ["$$", "\\frac", "\\begin{", "\\end{", "\\sum", "\\partial", "\\mathrm", "\\sigma", "\\hat", "\\("]
LOCAL_SCHEMES = ("data:", "blob:", "about:", "chrome:", "chrome-extension:", "devtools:")

# the page text a reader sees, without code (which may show TeX on purpose) and rendered maths
VISIBLE_TEXT = """(() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('pre, code, script, style, mjx-container, .MathJax').forEach(e => e.remove());
  return body.innerText;
})()"""
MATHJAX_DONE = """(window.MathJax && MathJax.startup && MathJax.startup.promise)
  ? MathJax.startup.promise.then(() => true) : Promise.resolve(false)"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class DevTools:
    """One page target, commands sent and events collected over its websocket."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, timeout: float = 60, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event for e in self.events):
            self.events.append(json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic()))))

    def evaluate(self, expression: str, *, await_promise: bool = False) -> Any:
        result = self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=await_promise, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluating in the page failed: {result['exceptionDetails']}")
        return result["result"].get("value")


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("docs-check: no chromium on PATH (Debian: apt-get install chromium)")


def _start_browser(profile: Path) -> tuple[subprocess.Popen[bytes], str]:
    browser = subprocess.Popen(
        [
            _chromium(),
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--window-size=1280,900",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while not port_file.exists() or not port_file.read_text().strip():
        if browser.poll() is not None or time.monotonic() > deadline:
            browser.kill()
            raise SystemExit("docs-check: chromium did not start")
        time.sleep(0.1)
    port = port_file.read_text().split()[0]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as reply:
        pages = [t for t in json.load(reply) if t["type"] == "page"]
    return browser, pages[0]["webSocketDebuggerUrl"]


def _problems_on_page(tools: DevTools, url: str, origin: str, shot: Path | None) -> tuple[list[str], int]:
    tools.events.clear()
    tools.send("Page.navigate", url=url)
    tools.wait_for("Page.loadEventFired")
    rendered = tools.evaluate(MATHJAX_DONE, await_promise=True)
    time.sleep(0.3)  # late requests (fonts) after typesetting
    tools.send("Runtime.evaluate", expression="1")  # drain events that arrived meanwhile
    problems = []
    for event in tools.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            target = params["request"]["url"]
            if not target.startswith(origin) and not target.startswith(LOCAL_SCHEMES):
                problems.append(f"request leaves the machine: {target}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            problems.append(f"console error: {text}")
        elif method == "Runtime.exceptionThrown":
            problems.append(f"uncaught exception: {params['exceptionDetails'].get('text')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            problems.append(f"browser error: {params['entry'].get('text')} {params['entry'].get('url', '')}")
    text = tools.evaluate(VISIBLE_TEXT) or ""
    for tex in RAW_TEX:
        if tex in text:
            at = text.index(tex)
            problems.append(f"unrendered TeX {tex!r}: ...{text[max(0, at - 40) : at + 40]!r}...")
    n_maths = tools.evaluate("document.querySelectorAll('mjx-container').length") if rendered else 0
    source_has_maths = tools.evaluate("document.querySelectorAll('.math').length") or 0
    if source_has_maths and not n_maths:
        problems.append(f"{source_has_maths} formulas on the page, none rendered by MathJax")
    if shot is not None:
        size = tools.send("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": 1280, "height": min(size["height"], 12000), "scale": 1}
        image = tools.send("Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True)
        shot.write_bytes(base64.b64decode(image["data"]))
    return problems, n_maths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("site", type=Path, help="the built HTML folder")
    parser.add_argument("--screenshots", type=Path, required=True, help="folder for the PNG files")
    args = parser.parse_args(argv)
    site = args.site.resolve()
    if not (site / "index.html").exists():
        raise SystemExit(f"docs-check: no index.html in {site}; run `make docs` first")
    args.screenshots.mkdir(parents=True, exist_ok=True)

    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}/"

    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html") if "_static" not in p.parts)
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as profile:
        browser, ws_url = _start_browser(Path(profile))
        try:
            with connect(ws_url, max_size=None, open_timeout=30) as ws:
                tools = DevTools(ws)
                for domain in ("Page", "Network", "Runtime", "Log"):
                    tools.send(f"{domain}.enable")
                metrics = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
                tools.send("Emulation.setDeviceMetricsOverride", **metrics)
                for page in pages:
                    shot = args.screenshots / (page.replace("/", "_").removesuffix(".html") + ".png")
                    problems, n_maths = _problems_on_page(
                        tools, origin + page, origin, shot if page in SCREENSHOTS else None
                    )
                    status = "ok" if not problems else "FAILED"
                    print(f"{status:6} {page} ({n_maths} formulas rendered)")
                    failures += [f"{page}: {p}" for p in problems]
        finally:
            browser.terminate()
            try:
                browser.wait(timeout=10)
            except subprocess.TimeoutExpired:
                browser.kill()
            server.shutdown()
    missing = [p for p in SCREENSHOTS if p not in pages]
    failures += [f"{p}: page not built, no screenshot" for p in missing]
    if failures:
        print("\n".join(failures), file=sys.stderr)
        return 1
    print(f"{len(pages)} pages checked; screenshots in {os.path.relpath(args.screenshots)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
