"""A headless Chromium driven over the DevTools protocol, for testing our pages.

Chromium is started by the test (Debian's ``chromium``) with a fresh profile and no
network services; a tiny client speaks the DevTools protocol over tornado's websocket
(tornado comes with the ``dask`` extra). It records console messages, uncaught
exceptions and every URL the page requests, evaluates JavaScript, and takes screenshots.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
    "--remote-debugging-port=0",
]


# DevTools key names -> (code, Windows virtual key code), for Input.dispatchKeyEvent.
KEYS = {
    "ArrowRight": ("ArrowRight", 39),
    "ArrowLeft": ("ArrowLeft", 37),
    "PageDown": ("PageDown", 34),
    "PageUp": ("PageUp", 33),
    "Home": ("Home", 36),
    "End": ("End", 35),
    " ": ("Space", 32),
}


def chromium_binary() -> str | None:
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Chromium:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
        self.proc: subprocess.Popen | None = None
        self.ws: Any = None
        self.events: list[dict[str, Any]] = []
        self._id = 0

    async def __aenter__(self) -> Chromium:
        from tornado.httpclient import AsyncHTTPClient
        from tornado.websocket import websocket_connect

        self.proc = subprocess.Popen(
            [self.binary, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = self.profile / "DevToolsActivePort"
        for _ in range(600):  # up to 30 s for a cold start
            if port_file.exists() and port_file.read_text().strip():
                break
            await asyncio.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        listing = await AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}/json/list")
        page = next(t for t in json.loads(listing.body) if t["type"] == "page")
        self.ws = await websocket_connect(page["webSocketDebuggerUrl"], max_message_size=2**27)
        for domain in ("Runtime", "Log", "Page", "Network"):
            await self.call(f"{domain}.enable")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.ws is not None:
            self.ws.close()
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        me = self._id
        await self.ws.write_message(json.dumps({"id": me, "method": method, "params": params}))
        while True:
            raw = await asyncio.wait_for(self.ws.read_message(), timeout=60)
            if raw is None:
                raise RuntimeError("Chromium closed the DevTools connection")
            msg = json.loads(raw)
            if msg.get("id") == me:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]
            self.events.append(msg)

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (awaited if it is a promise)."""
        out = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in out:
            raise RuntimeError(f"JavaScript error: {out['exceptionDetails']}")
        return out["result"].get("value")

    async def open(self, url: str, width: int = 1280, height: int = 1000) -> None:
        await self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        await self.call("Page.navigate", url=url)
        for _ in range(200):
            if await self.evaluate("document.readyState") == "complete":
                return
            await asyncio.sleep(0.05)
        raise RuntimeError(f"{url} did not finish loading")

    async def press(self, key: str) -> None:
        """A real key press (keydown, char, keyup) as a keyboard or a clicker sends it."""
        code, vk = KEYS[key] if key in KEYS else (f"Key{key.upper()}", ord(key.upper()))
        down = {"key": key, "code": code, "windowsVirtualKeyCode": vk}
        text = {"text": key} if len(key) == 1 else {}
        await self.call("Input.dispatchKeyEvent", type="keyDown", **down, **text)
        await self.call("Input.dispatchKeyEvent", type="keyUp", **down)

    async def wait_for(self, expression: str, timeout: float = 30.0) -> Any:
        """Poll a JavaScript expression until it is truthy; its value (TimeoutError if not)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if loop.time() > end:
                raise TimeoutError(f"still false after {timeout} s: {expression}")
            await asyncio.sleep(0.02)

    async def screenshot(self, path: Path) -> Path:
        shot = await self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, failed loads, so far."""
        out = []
        for e in self.events:
            method, p = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(f"exception: {p['exceptionDetails']}")
            elif method == "Runtime.consoleAPICalled" and p["type"] in ("error", "warning"):
                out.append(f"console.{p['type']}: {p['args']}")
            elif method == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                out.append(f"log: {p['entry']}")
            elif method == "Network.loadingFailed" and not p.get("canceled"):
                out.append(f"load failed: {p}")
        return out

    def requested_urls(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]
