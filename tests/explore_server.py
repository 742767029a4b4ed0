"""The explore server as a real process on 127.0.0.1 (a free port), for the API and page tests.

Started through the command line (``backprop-anim explore ... --no-browser``), which
prints its address; stopped with SIGINT, as Ctrl-C would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from conftest import interruptible

REPO = Path(__file__).resolve().parent.parent


class ExploreServer:
    def __init__(self, source: Path, *extra: str) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "backprop_anim.cli",
                "explore",
                str(source),
                "--no-browser",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=env,
            preexec_fn=interruptible,
        )
        assert self.proc.stdout is not None
        self.warnings = ""
        line = self.proc.stdout.readline()
        while line.startswith("Warning:"):
            self.warnings += line
            line = self.proc.stdout.readline()
        if " at http://" not in line:
            self.proc.kill()
            raise RuntimeError(f"explore did not start: {line!r} {self.proc.stderr.read()!r}")
        self.url = line.split(" at ", 1)[1].split()[0].rstrip("/")
        self.banner = line

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        raw: bytes | None = None,
        timeout: float = 60,
    ) -> tuple[int, bytes, dict[str, str]]:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as err:
            return err.code, err.read(), dict(err.headers)

    def json(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        status, data, _ = self.request(method, path, body)
        return status, json.loads(data)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr = self.proc.stderr.read() if self.proc.stderr is not None else ""
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return self.proc.returncode


def wait_for(predicate, timeout: float, interval: float = 0.25) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
