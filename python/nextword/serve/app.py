"""The playground as a Starlette application (``pip install 'nextword[serve]'``).

The page (``page.html``, plain HTML and JavaScript) talks to the JSON API of
:class:`~nextword.serve.api.Playground`. Models are loaded once, when the app
is made; every query runs in a worker thread (the core releases the GIL), never
on the event loop. A request the API refuses gets a 4xx JSON body
``{"error": "..."}``; a body that is not a JSON object, or too large, too.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from importlib import resources
from typing import Any, Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from nextword.errors import NextwordError
from nextword.serve.api import Playground, RequestError

MAX_BODY = 64 * 1024  # bytes of a request body


def page() -> str:
    """The playground's page."""
    return resources.files("nextword.serve").joinpath("page.html").read_text(encoding="utf-8")


async def _body(request: Request) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise RequestError(413, f"the request body is over {MAX_BODY:,} bytes")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise RequestError(413, f"the request body is over {MAX_BODY:,} bytes")
    try:
        body = json.loads(raw or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RequestError(400, f"the body is not JSON: {e}") from e
    if not isinstance(body, dict):
        raise RequestError(400, f"the body must be a JSON object, not {type(body).__name__}")
    return body


def _endpoint(
    handler: Callable[[dict[str, Any]], dict[str, Any]],
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            body = await _body(request)
            result = await run_in_threadpool(handler, body)
        except RequestError as e:
            return JSONResponse({"error": e.message}, status_code=e.status)
        except (NextwordError, ValueError, KeyError, TypeError) as e:
            # What the library refuses (an id out of range, a bad parameter the
            # API's own checks let through) is the request's fault, not the server's.
            return JSONResponse({"error": str(e)}, status_code=422)
        return JSONResponse(result)

    return endpoint


def create_app(playground: Playground) -> Starlette:
    """The web app over ``playground`` (see the module docs)."""
    html = page()

    async def index(request: Request) -> Response:
        return HTMLResponse(html)

    async def models(request: Request) -> Response:
        return JSONResponse(playground.info())

    routes = [
        Route("/", index),
        Route("/api/models", models),
        Route("/api/predict", _endpoint(playground.predict), methods=["POST"]),
        Route("/api/generate", _endpoint(playground.generate), methods=["POST"]),
        Route("/api/score", _endpoint(playground.score), methods=["POST"]),
        Route("/api/novelty", _endpoint(playground.novelty), methods=["POST"]),
        Route("/api/find", _endpoint(playground.find), methods=["POST"]),
    ]
    return Starlette(routes=routes)
