"""The FastAPI application of ``vigil serve``: read-only REST + Server-Sent Events over one node's view.

Every ``/api/v1`` route takes the caller's partner from its bearer token (:mod:`vigil.api.tokens`) and
answers from that partner's :class:`~vigil.api.source.NodeView` only. Without a token table (a loopback
server for the run's own operator) the whole run is served and no token is needed. Errors are JSON
``{"detail": "<one line naming the parameter>"}``: 401 missing/unknown token, 404 not in your view, 422 a
bad parameter, 400 any other :class:`~vigil.errors.VigilError`.
"""

from __future__ import annotations

import bisect
import math
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel
from starlette.exceptions import HTTPException

from vigil.config import key_path
from vigil.errors import VigilError

from .coverage import ViewCoverage, overlay_png, view_coverage
from .czml import satellites_czml
from .feed import ReplayClock, stream_versions, visible_count
from .source import NodeView, Source
from .tokens import TokenTable

MAX_LIMIT = 1000
EVENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9:_.\-]{0,79}$"
WEB_DIR = Path(__file__).resolve().parent.parent / "web"

_bearer = HTTPBearer(auto_error=False, description="A partner's token from the --tokens file")


class Page(BaseModel):
    """A page of a list: ``items[offset : offset + limit]`` of ``total``."""

    total: int
    offset: int
    limit: int
    items: list[dict[str, Any]]


class EventSummary(BaseModel):
    """One event: how many versions so far and the latest one."""

    event_id: str
    versions: int
    latest: dict[str, Any]


class EventDetail(BaseModel):
    """Every version of one event, oldest first."""

    event_id: str
    versions: list[dict[str, Any]]


class Error(BaseModel):
    """Every error: one line naming the parameter (or header) and the reason."""

    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Error, "description": text}
    for code, text in (
        (400, "Bad request"),
        (401, "Missing or unknown bearer token"),
        (404, "Not in your view"),
        (422, "A parameter is invalid"),
    )
}


class Health(BaseModel):
    status: str
    partners: list[str]
    auth: bool


def _public(w: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in w.items() if k != "issued_s"}


def _page(items: list[dict[str, Any]], offset: int, limit: int) -> Page:
    return Page(total=len(items), offset=offset, limit=limit, items=items[offset : offset + limit])


class Console:
    """The app's state: source, tokens, replay clock; resolves a request to its node's visible records."""

    def __init__(
        self, source: Source, tokens: TokenTable | None, clock: ReplayClock, stream_max_s: float | None
    ) -> None:
        self.source, self.tokens, self.clock, self.stream_max_s = source, tokens, clock, stream_max_s
        self._czml: dict[frozenset[str], list[dict[str, Any]]] = {}
        self._coverage: dict[tuple[str | None, frozenset[str]], ViewCoverage] = {}

    def partner(self, credentials: HTTPAuthorizationCredentials | None) -> str | None:
        if self.tokens is None:
            return None
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(401, "Authorization: a bearer token is required")
        partner = self.tokens.partner_of(credentials.credentials)
        if partner is None or partner not in self.source.partners:
            raise HTTPException(401, "Authorization: unknown token")
        return partner

    def czml(self, partners: set[str]) -> list[dict[str, Any]]:
        """The satellites' CZML document (cached per set of partners); empty without a scenario."""
        key = frozenset(partners)
        if key not in self._czml:
            path = self.source.scenario_path
            self._czml[key] = [] if path is None or not path.is_file() else satellites_czml(path, set(key))
        return self._czml[key]

    def sse(self, view: NodeView) -> list[str]:
        """The view's SSE messages, encoded once (live and followed sources append theirs as they publish)."""
        return view.messages()

    def coverage(self, view: NodeView) -> ViewCoverage | None:
        """Coverage of the view's satellites (cached per own partner and set of partners, since the
        summary's ``own`` block is the viewer's); None without a scenario."""
        path = self.source.scenario_path
        if path is None or not path.is_file():
            return None
        key = (view.partner, frozenset(view.coverage.get("partners", [])))
        if key not in self._coverage:
            self._coverage[key] = view_coverage(path, view.partner, set(key[1]))
        return self._coverage[key]

    def visible_count(self, view: NodeView) -> int:
        """How many of the view's warning versions were issued by the replay clock's instant."""
        now = self.clock.now_s()
        return len(view.warnings) if math.isinf(now) else visible_count(view.issued_s, now)

    def visible(self, view: NodeView) -> list[dict[str, Any]]:
        """The view's warning versions issued by the replay clock's instant."""
        return view.warnings[: self.visible_count(view)]


def _node(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> NodeView:
    """The caller's node view (the dependency every ``/api/v1`` route takes)."""
    console: Console = request.app.state.console
    return console.source.view(console.partner(credentials))


View = Annotated[NodeView, Depends(_node)]
Offset = Annotated[int, Query(ge=0, le=10**9, description="first item of the page")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]


def _last_event_id(text: str | None) -> int | None:
    if text is None:
        return None
    if re.fullmatch(r"-?[0-9]{1,10}", text.strip()) is None or int(text) < -1:
        raise HTTPException(422, f"header.last-event-id: {text[:20]!r} is not an event id (an integer >= -1)")
    return int(text)


def create_app(
    source: Source,
    tokens: TokenTable | None = None,
    clock: ReplayClock | None = None,
    stream_max_s: float | None = None,
) -> FastAPI:
    """The console app over ``source``; ``tokens=None`` serves the whole run without authentication."""
    console = Console(source, tokens, clock or ReplayClock(), stream_max_s)
    app = FastAPI(title="Vigil console API", version="1", description=__doc__, responses=ERRORS)
    app.state.console = console
    source.follow()
    _handlers(app)

    @app.get("/healthz", response_model=Health)
    def healthz() -> Health:
        return Health(status="ok", partners=source.partners, auth=tokens is not None)

    _event_routes(app, console)
    _view_routes(app, console)
    _stream_routes(app, console)
    _web(app)
    return app


def _event_routes(app: FastAPI, console: Console) -> None:
    """Events (latest version of each) and the versions of one event, or issued since an instant."""

    @app.get("/api/v1/events", response_model=Page)
    def events(view: View, offset: Offset = 0, limit: Limit = 100) -> Page:
        latest: dict[str, tuple[int, dict[str, Any]]] = {}
        for w in console.visible(view):
            count = latest.get(w["event_id"], (0, w))[0]
            latest[w["event_id"]] = (count + 1, w)
        items = [
            EventSummary(event_id=k, versions=n, latest=_public(w)).model_dump()
            for k, (n, w) in sorted(latest.items())
        ]
        return _page(items, offset, limit)

    @app.get("/api/v1/events/{event_id}", response_model=EventDetail)
    def event(
        view: View, event_id: Annotated[str, PathParam(pattern=EVENT_ID_PATTERN, max_length=80)]
    ) -> EventDetail:
        versions = [_public(w) for w in console.visible(view) if w["event_id"] == event_id]
        if not versions:
            raise HTTPException(404, f"event_id: no event {event_id!r} in your view")
        return EventDetail(event_id=event_id, versions=versions)

    @app.get("/api/v1/warnings", response_model=Page)
    def warnings(
        view: View,
        since: Annotated[
            AwareDatetime | None,
            Query(
                description="RFC 3339 date-time with offset (e.g. 2026-03-01T12:05:00Z): versions issued at "
                "or after"
            ),
        ] = None,
        offset: Offset = 0,
        limit: Limit = 100,
    ) -> Page:
        upto = console.visible_count(view)
        first = 0 if since is None else min(bisect.bisect_left(view.issued_s, since.timestamp()), upto)
        page = view.warnings[first + offset : min(first + offset + limit, upto)]
        return Page(total=upto - first, offset=offset, limit=limit, items=[_public(w) for w in page])


def _view_routes(app: FastAPI, console: Console) -> None:
    """What else the view holds: notifications, sensors, coverage, the audit log."""

    @app.get("/api/v1/notifications", response_model=Page)
    def notifications(view: View, offset: Offset = 0, limit: Limit = 100) -> Page:
        return _page(view.notifications, offset, limit)

    @app.get("/api/v1/sensors", response_model=Page)
    def sensors(view: View, offset: Offset = 0, limit: Limit = 100) -> Page:
        return _page(view.sensors, offset, limit)

    @app.get("/api/v1/coverage")
    def coverage(view: View) -> dict[str, Any]:
        """Fraction of time seen by ≥ 1 / ≥ 2 satellites: own satellites, each partner's, the whole view."""
        found = console.coverage(view)
        return view.coverage if found is None else {**view.coverage, **found.summary}

    @app.get("/api/v1/coverage.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
    def coverage_png(view: View) -> Response:
        """The view's stereo coverage (fraction of time seen by ≥ 2 satellites) as a globe overlay."""
        found = console.coverage(view)
        if found is None:
            raise HTTPException(404, "coverage: this source has no scenario to compute coverage from")
        return Response(overlay_png(found.frac_2), media_type="image/png")

    @app.get("/api/v1/audit", response_model=Page)
    def audit(view: View, offset: Offset = 0, limit: Limit = 100) -> Page:
        return _page(view.audit, offset, limit)


def _stream_routes(app: FastAPI, console: Console) -> None:
    """The live parts: Server-Sent Events of new versions, the satellites as CZML."""

    @app.get(
        "/api/v1/stream",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def stream(request: Request, view: View) -> StreamingResponse:
        """Server-Sent Events: ``event: warning`` per new version. A ``Last-Event-ID`` header (the last
        ``id`` received) resumes after it; without it the stream starts with the next new version."""
        last = _last_event_id(request.headers.get("last-event-id"))
        first = console.visible_count(view) if last is None else last + 1
        body = stream_versions(
            console.sse(view),
            view.issued_s,
            console.clock,
            first,
            request.is_disconnected,
            max_s=console.stream_max_s,
        )
        return StreamingResponse(
            body,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @app.get("/api/v1/satellites.czml")
    def satellites(view: View) -> list[dict[str, Any]]:
        """CZML of the satellites in your view (yours and those whose data was released to you)."""
        return console.czml(
            {s["partner_id"] for s in view.sensors} | ({view.partner} if view.partner else set())
        )


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        e = exc.errors()[0]
        where = key_path(tuple(e.get("loc", ())))
        return JSONResponse({"detail": f"{where}: {e.get('msg', 'invalid')}"}, status_code=422)

    @app.exception_handler(VigilError)
    async def vigil_error(request: Request, exc: VigilError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(
            {"detail": " ".join(str(exc.detail).split())}, status_code=exc.status_code, headers=headers
        )


def _web(app: FastAPI) -> None:
    """The dashboard: ``/`` and its files under ``/web/`` (CesiumJS under ``/web/cesium/`` once built)."""
    from fastapi.staticfiles import StaticFiles

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return FileResponse(WEB_DIR / "index.html", media_type="text/html")

    app.mount("/web", StaticFiles(directory=WEB_DIR, check_dir=False), name="web")
