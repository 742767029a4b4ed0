"""The explore server's HTTP interface (docs/explore.md): JSON over HTTP, one page.

Starlette routes requests to an :class:`ExploreSession`; training runs in a worker
thread so that a slow edit never blocks the page's other requests. Request bodies are
read up to a fixed size (413 beyond it) and must be a JSON object (400 otherwise);
every refusal is ``{"error": "<field>: <what was expected>"}`` and changes nothing.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..vendor import KATEX
from .jobs import RenderJobs
from .session import EditError, ExploreSession, State, trace_json
from .view import formula_view, snapshot_view, view, weight_series

STATIC = Path(__file__).parent / "static"
MAX_BODY = 64 * 1024  # an edit is a path and a value: a few hundred bytes


def error(status: int, field: str, expected: str) -> JSONResponse:
    return JSONResponse({"error": f"{field}: {expected}"}, status_code=status)


class BodyTooLarge(Exception):
    pass


async def read_json(request: Request) -> dict[str, Any]:
    """The request's JSON object, read at most MAX_BODY bytes (a slow upload is cut off)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise BodyTooLarge
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EditError("body", f"expected a JSON object ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise EditError("body", 'expected a JSON object such as {"path": ..., "value": ...}')
    return data


class TraceCache:
    """The JSON of the current trace, made once per revision."""

    def __init__(self) -> None:
        self.revision = -1
        self.body = b""

    def get(self, state: State) -> bytes:
        if state.revision != self.revision:
            self.body, self.revision = trace_json(state), state.revision
        return self.body


def create_app(session: ExploreSession, render_dir: Path) -> Starlette:
    """The ASGI app serving ``session``; renders are written under ``render_dir`` only."""
    cache = TraceCache()
    jobs = RenderJobs(render_dir)

    def trace_response(state: State) -> Response:
        return Response(cache.get(state), media_type="application/json")

    def reply(request: Request, state: State) -> Response:
        """The new trace; ``?reply=revision`` (the page) only its revision number."""
        if request.query_params.get("reply") == "revision":
            return JSONResponse({"revision": state.revision})
        return trace_response(state)

    async def guarded(request: Request, handler) -> Response:
        try:
            return await handler(request)
        except BodyTooLarge:
            return error(413, "body", f"expected at most {MAX_BODY} bytes")
        except ClientDisconnect:
            # The client left mid-request: nothing was changed, nobody reads an answer.
            return Response(status_code=400)
        except EditError as exc:
            return error(400, exc.field, exc.expected)

    async def get_trace(request: Request) -> Response:
        return trace_response(session.state)

    async def post_set(request: Request) -> Response:
        async def handle(request: Request) -> Response:
            body = await read_json(request)
            if "path" not in body or "value" not in body:
                raise EditError("body", 'expected {"path": "a.b.0", "value": ...}')
            state = await run_in_threadpool(session.set, body["path"], body["value"])
            return reply(request, state)

        return await guarded(request, handle)

    async def post_unit(request: Request) -> Response:
        async def handle(request: Request) -> Response:
            body = await read_json(request)
            layer, change = body.get("layer"), body.get("change")
            if not isinstance(layer, int) or isinstance(layer, bool):
                raise EditError("layer", "expected the index of a hidden layer")
            if change not in (-1, 1) or isinstance(change, bool):
                raise EditError("change", "expected 1 (add a unit) or -1 (remove one)")
            state = await run_in_threadpool(session.resize_layer, layer, change)
            return reply(request, state)

        return await guarded(request, handle)

    async def get_config(request: Request) -> Response:
        text = session.config_yaml()
        headers = {}
        if request.query_params.get("download"):
            name = session.state.loaded.config.name  # a safe folder name (schema)
            headers["Content-Disposition"] = f'attachment; filename="{name}.yaml"'
        return Response(text, media_type="application/yaml; charset=utf-8", headers=headers)

    def int_param(request: Request, name: str) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        if not raw.lstrip("-").isdigit() or len(raw) > 9:
            raise EditError(name, "expected a whole number")
        return int(raw)

    async def get_view(request: Request) -> Response:
        async def handle(request: Request) -> Response:
            step = int_param(request, "step")
            state = session.state
            return JSONResponse(await run_in_threadpool(view, state, step))

        return await guarded(request, handle)

    async def get_formula(request: Request) -> Response:
        async def handle(request: Request) -> Response:
            step, i = int_param(request, "step"), int_param(request, "i")
            found = None if step is None or i is None else formula_view(session.state, step, i)
            if found is None:
                raise EditError(
                    "step, i", "expected a detailed step and the index of one of its events"
                )
            return JSONResponse(found)

        return await guarded(request, handle)

    async def get_snapshot(request: Request) -> Response:
        found = snapshot_view(session.state, request.path_params["step"])
        if found is None:
            return error(404, "step", "expected a step with a snapshot (see training.snapshots)")
        return JSONResponse(found)

    async def get_series(request: Request) -> Response:
        async def handle(request: Request) -> Response:
            args = [int_param(request, k) for k in ("layer", "row", "col")]
            found = None
            if None not in args:
                found = weight_series(session.state, *args)  # type: ignore[arg-type]
            if found is None:
                raise EditError("layer, row, col", "expected the indices of a weight")
            return JSONResponse(found)

        return await guarded(request, handle)

    async def post_render(request: Request) -> Response:
        async def handle(request: Request) -> Response:
            body = await read_json(request) if await _has_body(request) else {}
            state = session.state
            step = body.get("step")
            detailed = [s.step for s in state.trace.steps]
            if step is not None and (not isinstance(step, int) or step not in detailed):
                raise EditError("step", f"expected one of the detailed steps {detailed}")
            busy = jobs.busy()
            if busy is not None:
                return error(
                    409, "render", f"expected one render at a time; job {busy} is still running"
                )
            job = jobs.start(state.loaded, step)
            return JSONResponse({"job": job.id}, status_code=202)

        return await guarded(request, handle)

    async def get_render(request: Request) -> Response:
        job = jobs.get(request.path_params["job"])
        if job is None:
            return error(404, "job", "expected the id POST /api/render returned")
        return JSONResponse(job.describe())

    async def get_video(request: Request) -> Response:
        job = jobs.get(request.path_params["job"])
        if job is None or job.video is None:
            return error(404, "job", "expected a finished render")
        return FileResponse(job.video, media_type="video/mp4")

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    async def not_found(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 405:
            return error(405, request.url.path, "expected another HTTP method (docs/explore.md)")
        return error(exc.status_code, request.url.path, "no such page or endpoint")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        jobs.close()  # a render still running is stopped with the server

    routes = [
        Route("/", index),
        Route("/api/trace", get_trace, methods=["GET"]),
        Route("/api/set", post_set, methods=["POST"]),
        Route("/api/unit", post_unit, methods=["POST"]),
        Route("/api/config", get_config, methods=["GET"]),
        Route("/api/view", get_view, methods=["GET"]),
        Route("/api/formula", get_formula, methods=["GET"]),
        Route("/api/snapshot/{step:int}", get_snapshot, methods=["GET"]),
        Route("/api/series", get_series, methods=["GET"]),
        Route("/api/render", post_render, methods=["POST"]),
        Route("/api/render/{job:int}", get_render, methods=["GET"]),
        Route("/api/render/{job:int}/video", get_video, methods=["GET"]),
        Mount("/static/vendor/katex", StaticFiles(directory=KATEX), name="katex"),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: not_found},
        lifespan=lifespan,
    )
    app.state.jobs = jobs
    return app


async def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return bool(length and length != "0") or "chunked" in request.headers.get(
        "transfer-encoding", ""
    )
