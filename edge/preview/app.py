"""The preview's FastAPI app: the page, its WebSocket, the REST API, ``/metrics`` (docs/preview.md, REST).

Every answer that is not the page or a file is JSON; an error is ``{"error": "..."}`` (with more
keys where they help: the looks offered, the next free take) and a 4xx for a request the server
cannot take, never a 500. Bodies are JSON objects of at most :data:`MAX_BODY_BYTES`, read here in
pieces (a larger one is refused with 413 before it is all in memory). Work that can take a while
(a look switch, a take start, the takes folder, a thumbnail, a LUT) runs off the event loop, so
the frames keep going out meanwhile. ``/openapi.json`` describes the API and ``/docs`` shows it
as a table, drawn from the page's own files (FastAPI's documentation pages load their assets from
elsewhere, so they are off).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Any, Dict, Optional

from fastapi import FastAPI, Query, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.staticfiles import StaticFiles

from edge.preview.access import Access, token_of
from edge.preview.errors import ApiError
from edge.preview.frames import EngineSwitches
from edge.preview.looks import LOOK_NAME, LookUnavailable, UnknownLook
from edge.preview.metrics import CONTENT_TYPE
from edge.preview.protocol import json_text
from edge.preview.service import PreviewService
from edge.preview.takes import NoSuchTake, NoThumbnail
from edge.preview.ws import serve_viewer
from edge.recorder.errors import ControlAuthError, ControlError, ControlUnavailableError, SlateError
from edge.recorder.take import validate_slate

__all__ = ["STATIC_DIR", "MAX_BODY_BYTES", "create_app"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Largest request body taken, bytes.
MAX_BODY_BYTES = 16 * 1024
_STATE_PERIOD_S = 1.0
_TAKE_START_KEYS = ("scene", "shot", "take")
_log = logging.getLogger(__name__)


class _Json(JSONResponse):
    """JSON without NaN (null in its place), never cached."""

    def render(self, content: Any) -> bytes:
        return json_text(content).encode("utf-8")


def _json(content: Any, status: int = 200) -> _Json:
    return _Json(content, status_code=status, headers={"Cache-Control": "no-store"})


def _body_schema(properties: Dict[str, Any], required: tuple = ()) -> Dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": list(required)}
    return {"requestBody": {"required": bool(required), "content": {"application/json": {"schema": schema}}}}


async def _body(request: Request) -> Dict[str, Any]:
    """The request's JSON object (``{}`` for an empty body); ApiError 400 or 413 otherwise."""
    length = request.headers.get("content-length")
    if length is not None:
        if not length.strip().isdigit():
            raise ApiError(400, f"Content-Length {length!r:.40} is not a number of bytes")
        if int(length) > MAX_BODY_BYTES:
            raise ApiError(413, f"a body is at most {MAX_BODY_BYTES} bytes of JSON; this one has {int(length)}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, f"a body is at most {MAX_BODY_BYTES} bytes of JSON")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ApiError(400, f"the body is not JSON: {str(err):.100}") from None
    if not isinstance(body, dict):
        raise ApiError(400, f"the body must be a JSON object, got {type(body).__name__}")
    return body


def _only(body: Dict[str, Any], allowed: tuple, what: str) -> None:
    unknown = [key for key in body if key not in allowed]
    if unknown:
        raise ApiError(400, f"unknown field {unknown[0]!r:.40} in {what}; it takes {', '.join(allowed)}")


def _node_error(err: ControlError, service: PreviewService) -> ApiError:
    """A take control error of the node, as this API answers it."""
    if isinstance(err, ControlAuthError):
        return ApiError(503, service.node.refused())
    if isinstance(err, ControlUnavailableError):
        return ApiError(503, str(err))
    status = err.status if isinstance(err.status, int) and 400 <= err.status < 600 else 502
    return ApiError(status, str(err))


async def _tick(service: PreviewService) -> None:
    """The ``state`` message to every viewer once a second."""
    while True:
        await asyncio.sleep(_STATE_PERIOD_S)
        if len(service.hub):
            try:
                service.hub.broadcast_state(json_text(service.state()))
            except Exception as err:  # noqa: BLE001 - a state that cannot be built must not stop the ticks
                _log.warning("preview: the state message could not be built: %s", err)


def create_app(service: PreviewService, access: Access) -> FastAPI:
    """The app serving ``service`` under ``access`` (module docstring)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        service.attach(asyncio.get_running_loop())
        ticker = asyncio.ensure_future(_tick(service))
        try:
            yield
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
            service.detach()

    app = FastAPI(title="Onset preview", description="The live preview of an Onset stage (docs/preview.md).",
                  version="1", docs_url=None, redoc_url=None, openapi_url="/openapi.json", lifespan=lifespan)

    def token(request: Request) -> Optional[str]:
        return token_of(request.headers.get("authorization"), request.query_params.get("token"))

    def watching(request: Request) -> None:
        if not access.may_watch(token(request)):
            raise ApiError(401, "missing or wrong token: send Authorization: Bearer TOKEN (or ?token=TOKEN)")

    def controlling(request: Request) -> None:
        if not access.may_control(token(request)):
            raise ApiError(401, "controls need the token: send Authorization: Bearer TOKEN")

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError) -> Response:
        response = _json(err.body(), err.status)
        if err.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="onset-preview"'
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, err: StarletteHTTPException) -> Response:
        if err.status_code == 404:
            return _json({"error": f"no endpoint {request.method} {request.url.path} (see /openapi.json)"}, 404)
        if err.status_code == 405:
            return _json({"error": f"{request.url.path} does not take {request.method}"}, 405)
        return _json({"error": str(err.detail)}, err.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> Response:
        return _json({"error": f"bad request: {err.errors()!r:.200}"}, 400)

    @app.exception_handler(Exception)
    async def _fault(request: Request, err: Exception) -> Response:
        _log.exception("preview: %s %s failed", request.method, request.url.path)
        return _json({"error": f"internal error: {type(err).__name__}: {err}"}, 500)

    def page(name: str) -> Response:
        path = STATIC_DIR / name
        if not path.is_file():
            return _json({"error": f"the page {name} is not installed in {STATIC_DIR}"}, 404)
        return FileResponse(path, media_type="text/html", headers={"Cache-Control": "no-cache"})

    @app.get("/", include_in_schema=False)
    async def live_page() -> Response:
        return page("index.html")

    @app.get("/takes", include_in_schema=False)
    async def takes_page() -> Response:
        return page("takes.html")

    @app.get("/docs", include_in_schema=False)
    async def api_page() -> Response:
        return page("api.html")

    @app.get("/healthz", summary="the server is up (no token)")
    async def healthz() -> Response:
        return _json({"ok": True})

    @app.get("/api/state", summary="what the state message carries: sources, health, latency, looks, take")
    async def state(request: Request) -> Response:
        watching(request)
        return _json(service.state())

    @app.get("/metrics", summary="Prometheus text: latency per stage, frames, skips, viewers, sources")
    async def metrics(request: Request) -> Response:
        watching(request)
        return PlainTextResponse(service.metrics_text(), media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})

    @app.post("/api/look", summary="switch the style worker's look (off included)",
              openapi_extra=_body_schema({"look": {"type": "string"}}, ("look",)))
    async def look(request: Request) -> Response:
        controlling(request)
        body = await _body(request)
        _only(body, ("look",), "a look switch")
        name = body.get("look")
        if not isinstance(name, str) or not LOOK_NAME.match(name):
            raise ApiError(400, f'send {{"look": NAME}} with a look\'s name, got {name!r:.60}')
        offered = service.looks.looks
        if offered and name not in offered:
            raise ApiError(404, f"no look named {name!r}; the looks are {', '.join(offered)}", {"looks": offered})
        try:
            now = await asyncio.to_thread(service.looks.switch, name)
        except LookUnavailable as err:
            raise ApiError(503, str(err)) from None
        except UnknownLook as err:
            raise ApiError(404, str(err), {"looks": service.looks.looks}) from None
        return _json({"look": now, "from": "the next frame the style worker takes"})

    @app.post("/api/engines/{engine}", summary="turn an engine's output on the page on or off",
              openapi_extra=_body_schema({"enabled": {"type": "boolean"}}, ("enabled",)))
    async def engine_switch(engine: str, request: Request) -> Response:
        controlling(request)
        if engine not in EngineSwitches.NAMES:
            raise ApiError(404, f"no engine {engine!r:.40}; the engines are {', '.join(EngineSwitches.NAMES)}",
                           {"engines": list(EngineSwitches.NAMES)})
        body = await _body(request)
        _only(body, ("enabled",), "an engine switch")
        enabled = body.get("enabled")
        if not isinstance(enabled, bool):
            raise ApiError(400, f'send {{"enabled": true}} or {{"enabled": false}}, got {enabled!r:.40}')
        service.switches.set(engine, enabled)
        return _json({"engine": engine, **service.engines()[engine]})

    @app.post("/api/take/start", summary="start a take; the take number defaults to the next free one",
              openapi_extra=_body_schema({"scene": {"type": "string"}, "shot": {"type": "string"},
                                          "take": {"type": "integer", "minimum": 1}}, ("scene", "shot")))
    async def take_start(request: Request) -> Response:
        controlling(request)
        body = await _body(request)
        _only(body, _TAKE_START_KEYS, "a take start")
        missing = [key for key in ("scene", "shot") if key not in body]
        if missing:
            raise ApiError(400, f"missing {', '.join(missing)}: send scene, shot and (if not the next free one) take")
        given = body.get("take")
        try:
            slate = validate_slate(body["scene"], body["shot"], 1 if given is None else given)
        except SlateError as err:
            raise ApiError(400, str(err)) from None
        catalogue = service.takes
        number = slate.take
        if given is None:
            number = await asyncio.to_thread(catalogue.next_take, slate.scene, slate.shot)
        else:
            existing = await asyncio.to_thread(catalogue.existing, slate.scene, slate.shot, slate.take)
            if existing is not None:
                free = await asyncio.to_thread(catalogue.next_take, slate.scene, slate.shot)
                raise ApiError(409, f"scene {slate.scene} shot {slate.shot} take {slate.take} exists ({existing}); "
                                    f"the next free take is {free}", {"existing": existing, "next_take": free})
        try:
            info = await asyncio.to_thread(service.node.start_take, slate.scene, slate.shot, number)
        except ControlError as err:
            raise _node_error(err, service) from None
        return _json(info)

    @app.post("/api/take/stop", summary="stop the rolling take")
    async def take_stop(request: Request) -> Response:
        controlling(request)
        _only(await _body(request), (), "a take stop")
        try:
            info = await asyncio.to_thread(service.node.stop_take)
        except ControlError as err:
            raise _node_error(err, service) from None
        return _json(info)

    @app.get("/api/takes", summary="the recorded takes: slate, TC in/out, duration, captions, health, thumbnail")
    async def takes(request: Request) -> Response:
        watching(request)
        return _json(await asyncio.to_thread(service.takes.listing))

    @app.get("/api/takes/{take_id}/thumbnail.jpg", summary="a take's thumbnail (its first camera frame)")
    async def thumbnail(take_id: str, request: Request) -> Response:
        watching(request)
        try:
            data = await asyncio.to_thread(service.takes.thumbnail, take_id)
        except (NoSuchTake, NoThumbnail) as err:
            raise ApiError(404, str(err)) from None
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/api/looks/{filename}", summary="a look's colour as a .cube 3D LUT (NAME.cube?size=33&input=rec709)")
    async def look_cube(filename: str, request: Request, size: str = "33",
                        encoding: str = Query("rec709", alias="input")) -> Response:
        watching(request)
        if not filename.endswith(".cube") or len(filename) <= len(".cube"):
            raise ApiError(404, f"looks are served as NAME.cube, not {filename!r:.60}")
        name = filename[: -len(".cube")]
        if not size.strip().isdigit():
            raise ApiError(400, f"size must be a number of lattice points, got {size!r:.20}")
        try:
            data = await asyncio.to_thread(service.luts.cube, name, int(size), encoding)
        except UnknownLook as err:
            raise ApiError(404, str(err), {"looks": service.luts.names()}) from None
        except ValueError as err:
            raise ApiError(400, str(err)) from None
        return Response(data, media_type="text/plain; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}-{encoding}-{size.strip()}.cube"'})

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await serve_viewer(websocket, service, access)

    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    return app
