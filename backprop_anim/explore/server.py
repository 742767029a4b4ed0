"""``backprop-anim explore``: start the page's server, print its address, stop on Ctrl-C.

The server binds to 127.0.0.1 unless told otherwise (another host is announced with a
warning: the page lets anyone who reaches it retrain and render). The socket is bound
before the server starts, so port 0 means "any free port" and the printed address is
the real one. Renders go to a temporary folder that is removed when the server stops.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path

import uvicorn

from ..errors import UserError
from .app import create_app
from .session import ExploreSession

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port); a clear message when that is not possible."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UserError(f"--host/--port: cannot listen on {host}:{port} ({exc.strerror})") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(
    source: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    open_browser: bool = True,
    echo: Callable[[str], None] = print,
) -> None:
    """Serve the explore page for ``source`` (a config or a saved trace) until Ctrl-C."""
    session = ExploreSession.open(source)
    if host not in LOCAL_HOSTS:
        echo(
            f"Warning: listening on {host}, not 127.0.0.1: anyone who can reach this address "
            "can retrain the network and start renders."
        )
    sock = bind(host, port)
    render_dir = Path(tempfile.mkdtemp(prefix="backprop-anim-explore-"))
    try:
        app = create_app(session, render_dir)
        shown = host if ":" not in host else f"[{host}]"
        url = f"http://{shown}:{sock.getsockname()[1]}/"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        server = uvicorn.Server(config)
        echo(f"explore {session.state.loaded.config.name} at {url}  (Ctrl-C stops)")
        if open_browser:
            threading.Timer(0.5, webbrowser.open, args=(url,)).start()
        server.run(sockets=[sock])
    finally:
        sock.close()
        shutil.rmtree(render_dir, ignore_errors=True)
